"""A page opened in headless Chromium, as a reader's browser opens it: its DOM after its scripts
ran, a screenshot, and how long its script took. The report's tests, its benchmark and the docs'
screenshot use it; `make browser` installs Debian's Chromium where it is missing.
"""
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "make browser (Debian's chromium package)"


def find_chromium():
  """The path of a Chromium (or Chrome) executable; FileNotFoundError naming how to install one."""
  for name in CANDIDATES:
    path = shutil.which(name)
    if path:
      return path
  raise FileNotFoundError(f"no Chromium found (looked for {', '.join(CANDIDATES)}); install it "
                          f"with {INSTALL}")


def page_url(path, fragment=""):
  """The file:// address of a page, with an optional '#...' view."""
  url = "file://" + urllib.parse.quote(os.path.abspath(path))
  return url + (f"#{fragment}" if fragment else "")


def _run(args, timeout):
  with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
    # --no-sandbox: Chromium refuses to sandbox as root (CI containers); the page is ours.
    # --disable-dev-shm-usage: a container's /dev/shm is often too small for it.
    command = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    out = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
  if out.returncode != 0:
    raise RuntimeError(f"chromium exited {out.returncode}: "
                       f"{out.stderr.decode(errors='replace')[-2000:]}")
  return out.stdout.decode("utf-8", errors="replace")


def dump_dom(path, fragment="", timeout=120):
  """The page's DOM as HTML text after its scripts ran (Chromium's --dump-dom)."""
  return _run(["--virtual-time-budget=5000", "--dump-dom", page_url(path, fragment)], timeout)


def screenshot(path, png_path, width=1400, height=1800, fragment="", timeout=120):
  """A PNG of the page's first width x height pixels; returns png_path."""
  _run(["--virtual-time-budget=5000", f"--window-size={width},{height}",
        f"--screenshot={os.path.abspath(png_path)}", page_url(path, fragment)], timeout)
  return png_path


def ready_ms(dom):
  """How long the page's script took from navigation to its last line (ms), as it recorded it
  on <html data-ready-ms>; None when the script did not finish."""
  found = re.search(r'<html[^>]*\sdata-ready-ms="([0-9.]+)"', dom)
  return float(found.group(1)) if found else None

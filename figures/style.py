"""Shared matplotlib set-up: a non-interactive backend and an atomic PNG writer."""
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "figure.dpi": 100})


def save(fig, path):
  """Save `fig` as PNG at `path` atomically and close it; returns the path."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(suffix=".png", dir=directory)
  os.close(fd)
  try:
    fig.savefig(tmp, format="png", bbox_inches="tight")
    os.replace(tmp, path)
  finally:
    plt.close(fig)
    if os.path.exists(tmp):
      os.unlink(tmp)
  return path

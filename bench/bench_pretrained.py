"""How long a shipped model takes to rescore and draw (scripts/pretrained.py rescore), from a fresh
output folder each time: the command a new user runs, TensorFlow's start included.

    python bench/bench_pretrained.py [--name NAME] [--repeats 2] [--full] [--out bench.json]

--full also times the run's own (the paper's) metric settings, minutes rather than seconds.
Prints, per setting, each wall time and the device; --out writes them as JSON.
"""
import os
import subprocess
import sys
import tempfile
import time

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite.commands import pretrained

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts",
                      "pretrained.py")


def time_rescore(name, flags):
  """Seconds of one `rescore NAME FLAGS` into a new folder (exit checked)."""
  with tempfile.TemporaryDirectory() as scratch:
    start = time.perf_counter()
    subprocess.run([sys.executable, SCRIPT, "rescore", name, *flags, "--no_progress",
                    "--output_dir", os.path.join(scratch, "run")], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main(argv=None):
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--name", help="a shipped model (default: the first)")
  p.add_argument("--repeats", type=checks.int_at_least(1), default=2)
  p.add_argument("--full", action="store_true", help="also the run's own metric settings")
  p.add_argument("--out", type=checks.output_file, help="write the times here (JSON)")
  args = p.parse_args(argv)
  shipped = pretrained.shipped_names()
  if not shipped:
    p.error("nothing is shipped in pretrained/")
  name = args.name or shipped[0]
  if name not in shipped:
    p.error(f"--name {name!r} is not shipped; shipped: {shipped}")
  settings = {"quick": ["--quick"]} | ({"own": []} if args.full else {})
  times = {}
  for label, flags in settings.items():
    times[label] = [round(time_rescore(name, flags), 2) for _ in range(args.repeats)]
    print(f"{name} {label:<6} {times[label]} s  ({device.label(device.describe())})", flush=True)
  if args.out:
    atomic_io.write_json(args.out, {"name": name, "seconds": times, "device": device.describe()})
  return 0


if __name__ == "__main__":
  raise SystemExit(main())

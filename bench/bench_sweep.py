"""Sweep throughput on this machine: total training steps per second of K concurrent runs with T
TensorFlow threads each, for the layouts that fill the cores. Chooses sweep.py's local default.

    python bench/bench_sweep.py [--steps 1500] [--layouts 1x2 2x1]

Each run is the paper's network at batch 64 (Echo, d_max 63); its steps/s is read from its own
results.json (training time only, TensorFlow start-up excluded).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import checks
from echo_suite import device
from echo_suite import gin_compat

from echo_suite import rundir
from echo_suite.commands import sweep


def layout_throughput(jobs, threads, steps):
  """Total steps/s of `jobs` concurrent runs of `threads` threads each."""
  env = {**os.environ, **sweep.thread_env(threads)}
  with tempfile.TemporaryDirectory() as tmp:
    procs = []
    for i in range(jobs):
      cmd = [sys.executable, os.path.join(ROOT, "disentanglement.py"), "--output_dir",
             os.path.join(tmp, f"run{i}"), "--seed", str(i), "--steps", str(steps),
             "--no_eval", "--no_progress", "--gin_param", f"train.checkpoint_every = {steps}"]
      procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL))
    for p in procs:
      if p.wait() != 0:
        raise RuntimeError(f"a benchmark run failed: {p.args}")
    rates = []
    for i in range(jobs):
      with open(os.path.join(tmp, f"run{i}", rundir.RESULTS_FILE)) as f:
        rates.append(json.load(f)["training"]["steps_per_s"])
  return sum(rates), rates


def main():
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  p = checks.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--steps", type=checks.int_at_least(1), default=1500)
  p.add_argument("--layouts", nargs="+", default=["1x2", "2x1"],
                 help="JOBSxTHREADS, e.g. 1x2 (one run, two threads) 2x1 (two runs, one each)")
  args = p.parse_args()
  bad = [v for v in args.layouts if not re.fullmatch(r"[1-9]\d*x[1-9]\d*", v)]
  if bad:
    p.error(f"--layouts {bad}: each must be JOBSxTHREADS with both >= 1, e.g. 2x1")
  print(f"device: {device.label(device.describe())} (each run sets its own threads)")
  results = {}
  for layout in args.layouts:
    jobs, threads = (int(v) for v in layout.split("x"))
    total, rates = layout_throughput(jobs, threads, args.steps)
    results[layout] = total
    print(f"{jobs} run(s) x {threads} thread(s): {total:.1f} steps/s in total "
          f"({', '.join(f'{r:.1f}' for r in rates)})")
  best = max(results, key=results.get)
  print(f"best layout: {best} ({results[best] / min(results.values()):.2f}x the slowest)")


if __name__ == "__main__":
  main()

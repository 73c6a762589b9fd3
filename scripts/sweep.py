"""Run a grid of disentanglement.py runs: locally, K at a time, or as a Slurm job array.

    python scripts/sweep.py --models echo vae --datasets dsprites ds_corr --betas 1 2 4 \\
        --gammas 0 10 20 --seeds 0-9 --steps 300000 --jobs 2 [--runs_dir runs/sweep]
    ... --dry_run     print the runs
    ... --slurm       write RUNS_DIR/sweep.sbatch (one array task per run) instead of running

The grid follows the paper's Table 2: beta varies at gamma = 0, gamma varies at beta = 1
(--grid product takes every beta with every gamma). Runs whose results.json already holds scores
(or, with --no_eval, exists) are skipped, so an interrupted sweep resumes where it stopped; a
run cut off mid-training resumes from its checkpoint.
"""
import argparse
import itertools
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def parse_seeds(items):
  """'0-9' or '0 1 2' (or a mix) -> sorted list of ints."""
  seeds = set()
  for item in items:
    for part in str(item).split(","):
      if "-" in part:
        lo, hi = part.split("-")
        seeds.update(range(int(lo), int(hi) + 1))
      elif part:
        seeds.add(int(part))
  return sorted(seeds)


def settings(betas, gammas, grid):
  """(beta, gamma) pairs: the paper's design (betas at gamma 0, gammas at beta 1) or a product."""
  if grid == "product":
    return list(itertools.product(betas, gammas))
  pairs = [(b, 0.0) for b in betas] + [(1.0, g) for g in gammas]
  return list(dict.fromkeys((float(b), float(g)) for b, g in pairs))


def run_name(dataset, model, beta, gamma, seed):
  return f"{dataset}_{model}_b{beta:g}_g{gamma:g}_s{seed}"


def plan(args):
  """One dict per run: its directory and command line."""
  runs = []
  for dataset, model, (beta, gamma), seed in itertools.product(
      args.datasets, args.models, settings(args.betas, args.gammas, args.grid),
      parse_seeds(args.seeds)):
    out = os.path.join(args.runs_dir, run_name(dataset, model, beta, gamma, seed))
    cmd = [sys.executable, os.path.join(ROOT, "disentanglement.py"), "--dataset", dataset,
           "--model", model, "--beta", f"{beta:g}", "--gamma", f"{gamma:g}", "--seed", str(seed),
           "--output_dir", out, "--no_progress"]
    if args.steps:
      cmd += ["--steps", str(args.steps)]
    for f in args.gin_file:
      cmd += ["--gin_file", f]
    for p in args.gin_param:
      cmd += ["--gin_param", p]
    if args.no_eval:
      cmd.append("--no_eval")
    runs.append({"dir": out, "cmd": cmd})
  return runs


def is_done(run_dir, need_scores):
  path = os.path.join(run_dir, "results.json")
  if not os.path.exists(path):
    return False
  with open(path) as f:
    try:
      results = json.load(f)
    except json.JSONDecodeError:
      return False
  return "scores" in results or not need_scores


def run_one(run):
  os.makedirs(run["dir"], exist_ok=True)
  with open(os.path.join(run["dir"], "log.txt"), "a") as log:
    return subprocess.run(run["cmd"], stdout=log, stderr=subprocess.STDOUT).returncode


def write_slurm(runs, runs_dir, jobs):
  """A job-array script: task i runs line i of RUNS_DIR/sweep_commands.txt."""
  os.makedirs(runs_dir, exist_ok=True)
  commands = os.path.join(runs_dir, "sweep_commands.txt")
  with open(commands, "w") as f:
    for run in runs:
      f.write(shlex.join(run["cmd"]) + "\n")
  script = os.path.join(runs_dir, "sweep.sbatch")
  with open(script, "w") as f:
    f.write(f"""#!/bin/bash
#SBATCH --job-name=echo-sweep
#SBATCH --array=0-{len(runs) - 1}%{jobs}
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=48:00:00
#SBATCH --output={runs_dir}/slurm-%A_%a.out
# One array task per run; a requeued task resumes from its checkpoint.
cd {shlex.quote(ROOT)}
eval "$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {shlex.quote(commands)})"
""")
  return script


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("--models", nargs="+", default=["echo", "vae"])
  p.add_argument("--datasets", nargs="+", default=["dsprites", "ds_corr"])
  p.add_argument("--betas", nargs="+", type=float, default=[1.0])
  p.add_argument("--gammas", nargs="+", type=float, default=[0.0])
  p.add_argument("--seeds", nargs="+", default=["0"], help="e.g. 0-9 or 0 1 2")
  p.add_argument("--grid", choices=["paper", "product"], default="paper")
  p.add_argument("--steps", type=int, help="gradient steps per run (default: the gin files')")
  p.add_argument("--jobs", type=int, default=1, help="runs at a time")
  p.add_argument("--runs_dir", default="runs/sweep")
  p.add_argument("--gin_file", action="append", default=[])
  p.add_argument("--gin_param", action="append", default=[])
  p.add_argument("--no_eval", action="store_true")
  p.add_argument("--dry_run", action="store_true", help="print the runs and exit")
  p.add_argument("--slurm", action="store_true", help="write an sbatch job-array script")
  args = p.parse_args(argv)
  from dataset import DATASET_NAMES
  from models import MODEL_NAMES
  for name, allowed, given in (("model", MODEL_NAMES, args.models),
                               ("dataset", DATASET_NAMES, args.datasets)):
    bad = [g for g in given if g not in allowed]
    if bad:
      p.error(f"unknown {name}(s) {bad}; choose from {list(allowed)}")
  runs = plan(args)
  todo = [r for r in runs if not is_done(r["dir"], not args.no_eval)]
  print(f"{len(runs)} runs, {len(runs) - len(todo)} done, {len(todo)} to run")
  if args.dry_run:
    for r in todo:
      print(shlex.join(r["cmd"]))
    return 0
  if args.slurm:
    print(f"wrote {write_slurm(todo, args.runs_dir, args.jobs)}; submit it with sbatch")
    return 0
  from tqdm import tqdm
  failed, start = [], time.time()
  with ThreadPoolExecutor(max_workers=args.jobs) as pool, tqdm(total=len(todo), unit="run") as bar:
    futures = {pool.submit(run_one, r): r for r in todo}
    for future in as_completed(futures):
      if future.result() != 0:
        failed.append(futures[future]["dir"])
      bar.update(1)
  print(f"{len(todo) - len(failed)} runs finished in {time.time() - start:.0f} s")
  for d in failed:
    print(f"FAILED: {d} (see {d}/log.txt)")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())

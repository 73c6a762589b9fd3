"""Run a grid of disentanglement.py runs: locally, K at a time, or as a Slurm job array.

    python scripts/sweep.py --models echo vae --datasets dsprites ds_corr --betas 1 2 4 \\
        --gammas 0 10 20 --seeds 0-9 --steps 300000 --jobs 2 [--runs_dir runs/sweep]
    ... --dry_run     print the runs
    ... --status      print where each run stands (done, trained, at step N, not started)
    ... --slurm       write RUNS_DIR/sweep.sbatch (one array task per run) instead of running

    python scripts/sweep.py --models echo vae beta_tcvae dip_vae_ii \
        --datasets dsprites ds_pairs ds_corr --sigmas 0.2 0.05 --seeds 0-1 --steps 1500

The grid follows the paper's Table 2: beta varies at gamma = 0 (each model's default gamma; see
models/registry.py), gamma varies at beta = 1 (--grid product takes every beta with every
gamma). ds_pairs is run once per --sigmas value (its dependence strength). A run is done when its results.json records
the requested number of steps and scores of exactly those weights, with the requested metrics
and evaluation settings (with --no_eval: the steps alone). Every other run is launched: training
resumes from its checkpoint (or extends to a larger --steps) and stale scores are recomputed, so
an interrupted sweep resumes where it stopped. Each run's output goes to RUNS_DIR/logs/NAME.log.
"""
import argparse
import ctypes
import itertools
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import gin_compat
from echo_suite import rundir
from echo_suite.data import dependence


# Local default, measured on a 2-core machine (README, Sweeps): two runs of one thread each give
# more steps per second in total than one run of two threads.
DEFAULT_JOBS, DEFAULT_THREADS = 2, 1
PROGRESS_EVERY_S = 10  # how often a local sweep's progress bar reads its runs' step counts
MAX_RUNS_WITHOUT_YES = 1000  # a larger grid is almost always a typo in --seeds
PAPER_STEPS = 300000  # train.steps of gin_configs/paper.gin, when --steps is not given
STEPS_PER_S_AVX2 = 6.0  # vae at two threads on the AVX2 kind (docs/speed.md)


def parse_seeds(items):
  """'0-9' or '0 1 2' (or a mix, or '0,1') -> sorted list of ints >= 0; ValueError naming the
  bad item otherwise (an empty range such as '3-1' included)."""
  seeds = set()
  for item in items:
    for part in str(item).split(","):
      try:
        if "-" in part[1:]:
          lo, hi = (int(x) for x in part.split("-"))
          if lo > hi:
            raise ValueError
          seeds.update(range(lo, hi + 1))
        elif part:
          seeds.add(int(part))
      except ValueError:
        raise ValueError(f"--seeds {item!r}: expected seeds >= 0 as N, N-M with N <= M, or a "
                         "list of them") from None
  if not seeds or min(seeds) < 0:
    raise ValueError(f"--seeds {' '.join(map(str, items))!r}: expected seeds >= 0 as N, N-M "
                     "with N <= M, or a list of them")
  return sorted(seeds)


def settings(betas, gammas, grid, default_gamma=0.0):
  """(beta, gamma) pairs: the paper's design (betas at the model's default gamma, gammas at beta
  1) or a product; gammas None: the default gamma only."""
  gammas = [default_gamma] if gammas is None else gammas
  if grid == "product":
    return list(dict.fromkeys((float(b), float(g)) for b, g in itertools.product(betas, gammas)))
  pairs = [(b, default_gamma) for b in betas] + [(1.0, g) for g in gammas]
  return list(dict.fromkeys((float(b), float(g)) for b, g in pairs))


def data_variants(datasets, sigmas):
  """(dataset, sigma or None) pairs: ds_pairs once per sigma, the others once."""
  return [(d, s) for d in datasets for s in (sigmas if d == "ds_pairs" else [None])]


def plan(args):
  """One dict per run: its directory and command line."""
  from echo_suite.models import registry
  runs = []
  for (dataset, sigma), model, seed in itertools.product(
      data_variants(args.datasets, args.sigmas), args.models, args.seed_list):
    for beta, gamma in settings(args.betas, args.gammas, args.grid,
                                 registry.default_gamma(model)):
      runs.append(_run(args, dataset, sigma, model, beta, gamma, seed))
  by_dir = {}
  for run in runs:  # two settings whose names round to one directory would share it
    other = by_dir.setdefault(run["dir"], run)
    if other["cmd"] != run["cmd"]:
      raise ValueError(f"two runs map to one directory {run['dir']!r}: "
                       f"{shlex.join(other['cmd'][2:12])} and {shlex.join(run['cmd'][2:12])}; "
                       "make the values differ in their first 6 significant digits")
  return sorted(by_dir.values(), key=lambda r: r["order"])


def _run(args, dataset, sigma, model, beta, gamma, seed):
  out = os.path.join(args.runs_dir, rundir.run_name(dataset, model, beta, gamma, seed, sigma))
  cmd = [sys.executable, os.path.join(ROOT, "disentanglement.py"), "--dataset", dataset,
         "--model", model, "--beta", repr(beta), "--gamma", repr(gamma), "--seed", str(seed),
         "--output_dir", out, "--no_progress", "--steps", str(args.steps)]
  if sigma is not None:
    cmd += ["--gin_param", f"ds_pairs.sigma = {sigma!r}"]
  for f in args.gin_file:
    cmd += ["--gin_file", f]
  for p in args.gin_param:
    cmd += ["--gin_param", p]
  if args.no_eval:
    cmd.append("--no_eval")
  return {"dir": out, "cmd": cmd, "order": seed}  # seed-major: every setting's first seed first


def requested(args):
  """(steps, evaluation settings or None) that every run of the sweep is asked for, resolved
  through the same gin files, bindings and defaults that disentanglement.py will use."""
  from echo_suite.commands import train as disentanglement
  from echo_suite import provenance
  from echo_suite.data import registry as data_registry
  from echo_suite.metrics import evaluate
  from echo_suite import training
  flags = disentanglement.parse_args(
      [a for f in args.gin_file for a in ("--gin_file", f)]
      + [a for b in args.gin_param for a in ("--gin_param", b)]
      + (["--steps", str(args.steps)] if args.steps is not None else []))
  disentanglement.configure(flags)
  data_registry.check_settings_apply(args.datasets)  # ds_corr.* with no ds_corr run, say
  data_path = provenance.effective_kwargs(data_registry.make_dataset, "dataset")["data_path"]
  for name in args.datasets:  # a missing data file fails here, not in every run's log
    data_registry.check_data_file(name, data_path)
  train_kw = disentanglement.train_settings()
  training.check_settings(**train_kw)  # a setting no run could use fails here, not in every run
  return train_kw["steps"], None if args.no_eval else evaluate.settings()


def _readable_results(run_dir):
  """The run's results.json, or None when it is missing or unreadable (counted as not done)."""
  from echo_suite.rundir import RunDirectory, UnreadableFileError
  try:
    return RunDirectory(run_dir).read_results()
  except UnreadableFileError:
    return None


def _done(results, steps, settings):
  """True when `results` are of `steps` trained steps and (unless settings is None) hold scores
  of those weights computed with `settings`."""
  from echo_suite.provenance import stale_reason
  if results is None:
    return False
  if settings is None:
    return results["training"].get("step") == steps
  return stale_reason(results, steps=steps, settings=settings) is None


def is_done(run_dir, steps, settings):
  """True when the run trained `steps` steps and (unless settings is None) holds scores of those
  weights computed with `settings`; anything unreadable counts as not done."""
  return _done(_readable_results(run_dir), steps, settings)


def run_status(run_dir, steps, settings):
  """Where a run stands, in a few words: 'done' (as `is_done`), 'trained; ' and why its scores
  are not current, 'at step N of M' (the last step its history logged), or 'not started'."""
  from echo_suite.provenance import stale_reason
  results = _readable_results(run_dir)  # read once: 'done' and the reason come from one file
  if _done(results, steps, settings):
    return "done"
  trained = (results or {}).get("training", {}).get("step") or 0
  if trained == steps:
    return f"trained; {stale_reason(results, steps=steps, settings=settings)}"
  step = max(trained, rundir.steps_done(run_dir))  # the history runs ahead of the last results.json
  return f"at step {step:,} of {steps:,}" if step else "not started"


def log_path(run):
  return os.path.join(os.path.dirname(run["dir"]), "logs", os.path.basename(run["dir"]) + ".log")


def _die_with_parent():
  """In the child, before exec: ask Linux to send SIGTERM when the sweep dies (even by SIGKILL),
  so no trainer outlives its sweep; the trainer checkpoints on SIGTERM."""
  try:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
  except OSError:  # not Linux: children may outlive a killed sweep
    pass


class LocalPool:
  """Runs commands K at a time; on stop(), launches nothing new and stops the running ones with a
  signal (each trainer checkpoints at a step boundary and exits)."""

  def __init__(self, jobs):
    self.jobs, self.stopping = jobs, threading.Event()
    self.running, self.lock = set(), threading.Lock()

  def run_one(self, run):
    with self.lock:
      if self.stopping.is_set():
        return None
      os.makedirs(os.path.dirname(log_path(run)), exist_ok=True)
      log = open(log_path(run), "a")
      proc = subprocess.Popen(run["cmd"], stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=_die_with_parent)
      self.running.add(proc)
    try:
      return proc.wait()
    finally:
      log.close()
      with self.lock:
        self.running.discard(proc)

  def stop(self, signum=signal.SIGINT):
    with self.lock:
      self.stopping.set()
      for proc in self.running:
        proc.send_signal(signum)


SBATCH_TEMPLATE = """#!/bin/bash
#SBATCH --job-name={job_name}
#SBATCH --array=0-{last}{throttle}
#SBATCH --cpus-per-task={cpus}
#SBATCH --mem={mem}
#SBATCH --time={time}
#SBATCH --output={output}
#SBATCH --open-mode=append
#SBATCH --requeue
#SBATCH --signal=B:USR1@{signal_lead}
{extra}
# One array task per run (line TASK_ID + 1 of the commands file). Preemption or scontrol requeue:
# Slurm sends SIGTERM, the trainer checkpoints at a step boundary, and the requeued task resumes.
# Time limit: Slurm sends USR1 to this script {signal_lead} s before it; the trainer checkpoints
# and the task requeues itself to continue.
set -u
commands={commands}
line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$commands")
if [ -z "$line" ]; then
  echo "sweep: no command for array task $SLURM_ARRAY_TASK_ID in $commands" >&2
  exit 2
fi
eval "cmd=($line)"
cd {root} || exit 2
export TF_NUM_INTRAOP_THREADS="${{SLURM_CPUS_PER_TASK:-1}}" OMP_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-1}}"
"${{cmd[@]}}" &
child=$!
requeue() {{
  echo "sweep: time limit near; checkpointing and requeueing"
  kill -USR1 "$child" 2>/dev/null
  wait "$child"
  scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
  exit 0
}}
trap requeue USR1
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
wait "$child"
"""


def write_slurm(runs, runs_dir, args):
  """A job-array script RUNS_DIR/sweep.sbatch: task i runs line i + 1 of
  RUNS_DIR/sweep_commands.txt. All paths absolute and quoted; every task runnable at once unless
  --max_parallel; requeue on preemption and before the time limit."""
  runs_dir = os.path.abspath(runs_dir)
  commands = os.path.join(runs_dir, "sweep_commands.txt")
  lines = [shlex.join(run["cmd"]) for run in runs]
  if any("\n" in line or "\r" in line for line in lines):  # one task, one line: sed reads by line
    raise ValueError("a run's command holds a line break; check --runs_dir and the bindings")
  atomic_io.write_text(commands, "".join(line + "\n" for line in lines))
  extra = [f"#SBATCH --partition={args.partition}" if args.partition else "",
           f"#SBATCH --account={args.account}" if args.account else "",
           f"#SBATCH --gres=gpu:{args.gpus}" if args.gpus else ""]
  script = os.path.join(runs_dir, "sweep.sbatch")
  atomic_io.write_text(script, SBATCH_TEMPLATE.format(
      job_name=args.job_name, last=len(runs) - 1,
      throttle=f"%{args.max_parallel}" if args.max_parallel else "", cpus=args.cpus,
      mem=args.mem, time=args.time, output=shlex.quote(os.path.join(runs_dir, "logs",
                                                                     "slurm-%A_%a.out")),
      signal_lead=args.signal_lead, extra="\n".join(e for e in extra if e),
      commands=shlex.quote(commands), root=shlex.quote(ROOT)))
  os.makedirs(os.path.join(runs_dir, "logs"), exist_ok=True)  # sbatch does not create --output dirs
  return script


def submit(script):
  """sbatch the script; returns the job id."""
  out = subprocess.run(["sbatch", "--parsable", script], capture_output=True, text=True)
  if out.returncode != 0:
    raise RuntimeError(f"sbatch {script} failed: {out.stderr.strip()}")
  return out.stdout.strip().split(";")[0]


def parse_args(argv=None):
  """The sweep's arguments, checked; also returns the parser for error messages."""
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("--models", nargs="+", default=["echo", "vae"])
  p.add_argument("--datasets", nargs="+", default=["dsprites", "ds_corr"])
  p.add_argument("--betas", nargs="+", type=float, default=[1.0])
  p.add_argument("--gammas", nargs="+", type=float,
                 help="penalty weights (default: each model's own, models/registry.py)")
  p.add_argument("--sigmas", nargs="+", type=float, default=[0.2],
                 help="ds_pairs dependence strengths, one run set each (default 0.2)")
  p.add_argument("--seeds", nargs="+", default=["0"], help="e.g. 0-9 or 0 1 2")
  p.add_argument("--grid", choices=["paper", "product"], default="paper")
  p.add_argument("--steps", type=checks.int_at_least(1),
                 help="gradient steps per run (default: the gin files')")
  p.add_argument("--runs_dir", type=checks.output_folder, default="runs/sweep")
  p.add_argument("--gin_file", action="append", default=[])
  p.add_argument("--gin_param", action="append", default=[])
  p.add_argument("--no_eval", action="store_true")
  p.add_argument("--dry_run", action="store_true", help="print the runs and exit")
  p.add_argument("--status", action="store_true",
                 help="print where each run stands (done, trained, at step N, not started)")
  local = p.add_argument_group("local runs")
  local.add_argument("--jobs", type=checks.int_at_least(1), default=DEFAULT_JOBS,
                     help=f"runs at a time (default {DEFAULT_JOBS}: see README, Sweeps)")
  local.add_argument("--threads", type=checks.int_at_least(1), default=DEFAULT_THREADS,
                     help=f"TensorFlow threads per run (default {DEFAULT_THREADS})")
  p.add_argument("--yes", action="store_true",
                 help=f"run a grid of more than {MAX_RUNS_WITHOUT_YES:,} runs (never asked)")
  slurm = p.add_argument_group("Slurm (--slurm writes RUNS_DIR/sweep.sbatch and submits it)")
  slurm.add_argument("--slurm", action="store_true", help="run as a Slurm job array")
  slurm.add_argument("--no_submit", action="store_true", help="write the script, do not sbatch it")
  slurm.add_argument("--max_parallel", type=checks.int_at_least(1),
                     help="array tasks running at once (default: all)")
  slurm.add_argument("--partition")
  slurm.add_argument("--account")
  slurm.add_argument("--time", default="48:00:00", help="per task (default 48:00:00)")
  slurm.add_argument("--cpus", type=checks.int_at_least(1), default=4,
                     help="CPUs per task (default 4)")
  slurm.add_argument("--mem", default="16G", help="memory per task (default 16G)")
  slurm.add_argument("--gpus", type=checks.int_at_least(0), default=0,
                     help="GPUs per task (--gres=gpu:N)")
  slurm.add_argument("--signal_lead", type=checks.int_at_least(1), default=300,
                     help="seconds before the time limit to checkpoint and requeue (default 300)")
  slurm.add_argument("--job_name", default="echo-sweep")
  args = p.parse_args(argv)
  for name in ("models", "datasets", "betas", "gammas", "sigmas", "gin_file", "gin_param"):
    if getattr(args, name) is not None:  # a value named twice is one run, not two
      setattr(args, name, list(dict.fromkeys(getattr(args, name))))
  for name, values in (("betas", args.betas), ("gammas", args.gammas or [])):
    bad = [v for v in values if not 0 <= v < float("inf")]
    if bad:
      p.error(f"--{name} {bad}: each must be a finite number >= 0")
  try:
    args.seed_list = parse_seeds(args.seeds)
  except ValueError as e:
    p.error(str(e))
  if not re.fullmatch(r"(\d+-)?\d+(:\d\d){0,2}", args.time):
    p.error(f"--time {args.time!r}: expected Slurm's [D-]HH:MM:SS, HH:MM or minutes")
  if not re.fullmatch(r"\d+[KMGT]?", args.mem):
    p.error(f"--mem {args.mem!r}: expected a size such as 16G or 4000M")
  unsafe = [f"--{n} {v!r}" for n in ("job_name", "partition", "account", "time", "mem")
            for v in [getattr(args, n)] if v is not None and not _safe_slurm_value(v)]
  unsafe += [f"--gin_param {v!r}" for v in args.gin_param if any(c in v for c in "\n\r\0")]
  if unsafe:
    p.error(f"{unsafe}: control characters, spaces or shell quoting are not accepted in Slurm "
            "values and bindings (one line each)")
  from echo_suite.data.registry import DATASET_NAMES
  from echo_suite.models import registry
  for name, allowed, given in (("model", registry.MODEL_NAMES, args.models),
                               ("dataset", DATASET_NAMES, args.datasets)):
    bad = [g for g in given if g not in allowed]
    if bad:
      p.error(f"unknown {name}(s) {bad}; choose from {list(allowed)}")
  for sigma in args.sigmas:  # ds_pairs' own rule (data.dependence); inf is --datasets dsprites
    try:
      dependence.check_sigma(sigma, independent_ok=False)
    except ValueError as e:
      p.error(f"--sigmas: {e} (independent factors: --datasets dsprites)")
  for model in args.models:  # each model's own rules (models.registry), before any run
    spec = registry.get(model)
    for beta, gamma in settings(args.betas, args.gammas, args.grid, spec.default_gamma):
      try:
        spec.check_weights(beta, gamma)
      except ValueError as e:
        p.error(f"--betas {args.betas} --gammas {args.gammas}: {e}")
  args.run_count = len(data_variants(args.datasets, args.sigmas)) * len(args.seed_list) * sum(
      len(settings(args.betas, args.gammas, args.grid, registry.default_gamma(m)))
      for m in args.models)
  if args.run_count > MAX_RUNS_WITHOUT_YES and not args.yes:
    p.error(f"{args.run_count:,} runs planned ({cost(args.run_count, args.steps)}); a sweep of "
            f"more than {MAX_RUNS_WITHOUT_YES:,} runs needs --yes")
  args.runs_dir = os.path.abspath(args.runs_dir)  # commands must work from any directory
  args.gin_file = [os.path.abspath(f) for f in args.gin_file]
  return args, p


def cost(run_count, steps):
  """A sweep's size in words: its gradient steps and, at the AVX2 kind's measured training rate
  (docs/speed.md), the CPU time they take."""
  steps = steps or PAPER_STEPS
  total = run_count * steps
  hours = total / STEPS_PER_S_AVX2 / 3600
  took = (checks.count(max(1, round(hours * 60)), "minute") if hours < 1.5 else
          checks.count(round(hours), "hour"))
  return (f"{total:,} gradient steps at {steps:,} a run: about {took} of one "
          f"2-core AVX2 machine at {STEPS_PER_S_AVX2:g} steps/s")


def _safe_slurm_value(value):
  """A Slurm directive value: printable, no whitespace, no shell or directive syntax."""
  return bool(value) and re.fullmatch(r"[A-Za-z0-9_.:@%+=,/-]+", value) is not None


def thread_env(threads):
  """Environment that gives each TensorFlow run `threads` compute threads."""
  return {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
          "OMP_NUM_THREADS": str(threads)}


def run_local(todo, args):
  """Run `todo` K at a time, with a progress bar over the steps of all its runs (a rate and time
  left that mean something for long runs; runs finished in the postfix). Ctrl-C or SIGTERM stops
  the running trainers at a checkpoint and launches nothing new. Returns the exit code."""
  from tqdm import tqdm
  os.environ.update(thread_env(args.threads))
  pool, failed, start = LocalPool(args.jobs), [], time.time()
  # SIGTERM acts as Ctrl-C; SIGINT is set too, since a sweep started in the background by a
  # non-interactive shell (`sweep.py ... &` in a script) inherits SIGINT ignored.
  previous = {s: signal.signal(s, signal.default_int_handler)
              for s in (signal.SIGINT, signal.SIGTERM)}
  executor = ThreadPoolExecutor(max_workers=args.jobs)
  try:
    def progress():
      return sum(min(rundir.steps_done(r["dir"]), args.steps) for r in todo)

    with tqdm(total=len(todo) * args.steps, initial=progress(), unit="step") as bar:
      futures = {executor.submit(pool.run_one, r): r for r in todo}
      pending, finished = set(futures), 0
      while pending:
        done, pending = wait(pending, timeout=PROGRESS_EVERY_S, return_when=FIRST_COMPLETED)
        for future in done:
          if future.result() != 0:
            failed.append(futures[future]["dir"])
        finished += len(done)
        bar.update(progress() - bar.n)
        bar.set_postfix_str(f"runs {finished}/{len(todo)}")
  except KeyboardInterrupt:
    pool.stop(signal.SIGINT)
    executor.shutdown(wait=True, cancel_futures=True)
    print("\nsweep interrupted: running trainers checkpointed; nothing new was started. "
          "Run the same command again to resume.")
    return 130
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)
    executor.shutdown(wait=True, cancel_futures=True)
  print(f"{len(todo) - len(failed)} runs finished in {time.time() - start:.0f} s")
  for d in failed:
    print(f"FAILED: {d} (see {log_path({'dir': d})})")
  return 1 if failed else 0


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args, p = parse_args(argv)
  try:
    steps, chosen = requested(args)
  except ValueError as e:
    p.error(str(e))
  args.steps = steps  # every command names its step budget explicitly
  try:
    runs = plan(args)
  except ValueError as e:
    p.error(str(e))
  todo = [r for r in runs if not is_done(r["dir"], steps, chosen)]
  print(f"{checks.count(len(runs), 'run')}, {len(runs) - len(todo)} done, {len(todo)} to run "
        f"({cost(len(todo), steps)})")
  if args.status or args.dry_run:
    lines = ((f"{os.path.basename(r['dir'])}: {run_status(r['dir'], steps, chosen)}"
              for r in runs) if args.status else (shlex.join(r["cmd"]) for r in todo))
    try:
      for line in lines:
        print(line, flush=True)
    except BrokenPipeError:  # `--status | head`: the reader has what it wanted
      os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
  if not todo:
    return 0
  if args.slurm:
    try:
      script = write_slurm(todo, args.runs_dir, args)
    except ValueError as e:
      p.error(str(e))
    print(f"wrote {script}")
    if not args.no_submit:
      try:
        print(f"submitted job array {submit(script)} ({len(todo)} tasks)")
      except (RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
  return run_local(todo, args)

"""A real sweep on a real (single-node) Slurm cluster: `make test-slurm` starts it with
tests/slurm/cluster.sh and sets SLURM_CONF. Three runs as a job array; one task is requeued
(preempted) mid-run; every run must finish exactly once, the preempted one with the weights of an
uninterrupted run."""
import glob
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT, assert_same_weights

pytestmark = pytest.mark.skipif(not os.environ.get("SLURM_CONF"),
                                reason="needs the cluster of `make test-slurm`")
STEPS = 600
TINY = ["--gin_file", os.path.join(ROOT, "gin_configs", "quick.gin"),
        "--gin_param", "model.d_max = 15", "--gin_param", "train.batch_size = 16",
        "--gin_param", "train.checkpoint_every = 100", "--gin_param", "train.summary_every = 10"]


def _slurm(*cmd):
  return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def _history_steps(run_dir):
  path = os.path.join(run_dir, "history.jsonl")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line)["step"] for line in f if line.strip()]


def _job_tasks(job):
  """Array tasks of `job` still known to squeue."""
  return _slurm("squeue", "-h", "-r", "-j", job, "-o", "%i %T").split("\n")


def test_sweep_survives_requeue(tmp_path):
  runs_dir = tmp_path / "sweep"
  args = [sys.executable, os.path.join(ROOT, "scripts", "sweep.py"), "--models", "echo",
          "--datasets", "dsprites", "--seeds", "0-2", "--steps", str(STEPS), "--no_eval",
          "--runs_dir", str(runs_dir), "--slurm", "--cpus", "1", "--mem", "2G",
          "--time", "00:20:00"]
  for i in range(0, len(TINY), 2):
    args += TINY[i:i + 2]
  out = subprocess.run(args, capture_output=True, text=True, cwd=str(tmp_path))
  assert out.returncode == 0, out.stderr
  job = re.search(r"submitted job array (\d+) \(3 tasks\)", out.stdout).group(1)
  script = (runs_dir / "sweep.sbatch").read_text()
  assert "#SBATCH --array=0-2\n" in script and "#SBATCH --requeue" in script
  victim = runs_dir / "dsprites_echo_b1_g0_s0"

  deadline = time.time() + 300
  while max(_history_steps(victim), default=0) < 150:  # mid-run, past a checkpoint
    assert time.time() < deadline, "task 0 did not start training"
    time.sleep(0.5)
  _slurm("scontrol", "requeue", f"{job}_0")
  # Slurm holds a requeued job back (its begin time moves ~2 minutes on); once it is pending
  # again, let it start as soon as it can, or the test spends that time waiting.
  deadline = time.time() + 120
  while f"{job}_0 PENDING" not in _job_tasks(job):
    assert time.time() < deadline, _job_tasks(job)
    time.sleep(0.5)
  _slurm("scontrol", "update", f"JobId={job}_0", "StartTime=now")
  deadline = time.time() + 600
  while any(line.strip() for line in _job_tasks(job)):
    assert time.time() < deadline, f"job {job} did not finish: {_job_tasks(job)}"
    time.sleep(2)

  logs = {os.path.basename(p): open(p).read() for p in glob.glob(str(runs_dir / "logs" / "*"))}
  for seed in range(3):
    run_dir = runs_dir / f"dsprites_echo_b1_g0_s{seed}"
    with open(run_dir / "results.json") as f:
      results = json.load(f)
    assert results["training"]["step"] == STEPS, seed
    steps = _history_steps(run_dir)
    assert steps == list(range(10, STEPS + 1, 10)), (seed, steps)  # each step logged once
    log = logs[f"slurm-{job}_{seed}.out"]  # task i runs seed i
    assert log.count(f"step {STEPS:,},") == 1, log  # finished exactly once
  victim_log = logs[f"slurm-{job}_0.out"]
  assert "SIGTERM received: checkpoint at step" in victim_log, victim_log
  with open(victim / "results.json") as f:
    assert json.load(f)["training"]["steps_this_session"] < STEPS  # it really resumed

  reference = tmp_path / "reference"
  cmd = [sys.executable, os.path.join(ROOT, "disentanglement.py"), "--output_dir",
         str(reference), "--steps", str(STEPS), "--no_eval", "--no_progress", *TINY]
  one_thread = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "1"}  # as a task
  assert subprocess.run(cmd, capture_output=True, env=one_thread).returncode == 0
  assert_same_weights(reference / "checkpoints", victim / "checkpoints")
  with open(reference / "results.json") as f:
    expected = json.load(f)["training"]["weights"]
  with open(victim / "results.json") as f:
    assert json.load(f)["training"]["weights"] == expected  # bit for bit

"""Real signals on real processes: SIGINT, SIGTERM, SIGUSR1 and SIGKILL at several points of one
run, each followed by a resume, end with the weights of an uninterrupted run; sweeps stop cleanly
and never leave a trainer behind."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import conftest
from conftest import ROOT, assert_same_weights

STEPS, CHECKPOINT_EVERY, SUMMARY_EVERY = 140, 25, 5
TINY = [*conftest.TINY, "--gin_param", f"train.checkpoint_every = {CHECKPOINT_EVERY}",
        "--gin_param", f"train.summary_every = {SUMMARY_EVERY}", "--no_eval", "--steps", str(STEPS)]
CLI = [sys.executable, os.path.join(ROOT, "disentanglement.py")]


def history_steps(run_dir):
  path = os.path.join(run_dir, "history.jsonl")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line)["step"] for line in f if line.strip().endswith("}")]


def wait_for_step(run_dir, step, proc, timeout=120):
  deadline = time.time() + timeout
  while max(history_steps(run_dir), default=0) < step:
    assert proc.poll() is None, f"exited early with {proc.returncode}"
    assert time.time() < deadline, f"step {step} not reached"
    time.sleep(0.05)


def checkpoint_step(run_dir):
  import tensorflow as tf
  ckpt = tf.train.load_checkpoint(os.path.join(run_dir, "checkpoints"))
  iterations = [n for n in ckpt.get_variable_to_shape_map()
                if n.startswith("optimizer/") and "iteration" in n]
  step = int(ckpt.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE"))
  assert int(ckpt.get_tensor(iterations[0])) == step  # no update without its step
  return step


@pytest.mark.slow  # five trainer processes and a reference run: over a minute
def test_every_stop_signal_resumes_exactly(tmp_path):
  run_dir = str(tmp_path / "run")
  ref = str(tmp_path / "ref")  # the uninterrupted run, trained meanwhile in its own process
  ref_proc = subprocess.Popen([*CLI, "--output_dir", ref, *TINY], stdout=subprocess.DEVNULL)
  for sig, code, at in ((signal.SIGINT, 130, 20), (signal.SIGTERM, 143, 50),
                        (signal.SIGUSR1, 138, 80), (signal.SIGKILL, -9, 115)):
    proc = subprocess.Popen([*CLI, "--output_dir", run_dir, *TINY], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    wait_for_step(run_dir, at, proc)
    proc.send_signal(sig)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == code, (sig, out)
    step = checkpoint_step(run_dir)
    if sig == signal.SIGKILL:  # no chance to checkpoint: the last periodic one stays
      assert at - CHECKPOINT_EVERY < step <= at and step % CHECKPOINT_EVERY == 0, step
    else:  # a checkpoint of its own, at the step boundary after the signal
      assert at <= step < STEPS, (sig, step)
      assert f"{signal.Signals(sig).name} received: checkpoint at step {step}" in out
  # kill -9 left history lines past its last checkpoint (at 100): the resume cuts them back.
  assert max(history_steps(run_dir)) > checkpoint_step(run_dir)
  assert subprocess.run([*CLI, "--output_dir", run_dir, *TINY]).returncode == 0
  assert history_steps(run_dir) == list(range(SUMMARY_EVERY, STEPS + 1, SUMMARY_EVERY))
  assert ref_proc.wait(timeout=300) == 0
  assert_same_weights(os.path.join(ref, "checkpoints"), os.path.join(run_dir, "checkpoints"))
  with open(os.path.join(run_dir, "results.json")) as f:
    interrupted = json.load(f)["training"]
  with open(os.path.join(ref, "results.json")) as f:
    uninterrupted = json.load(f)["training"]
  for k, v in uninterrupted["final_losses_last_100_steps"].items():
    assert interrupted["final_losses_last_100_steps"][k] == pytest.approx(v, rel=1e-4), k
  import tensorflow as tf
  events = []
  for name in os.listdir(os.path.join(run_dir, "tensorboard")):
    for raw in tf.data.TFRecordDataset(os.path.join(run_dir, "tensorboard", name)):
      event = tf.compat.v1.Event.FromString(raw.numpy())
      events += [event.step for v in event.summary.value if v.tag == "distortion"]
  # TensorBoard: each step once
  assert sorted(events) == list(range(SUMMARY_EVERY, STEPS + 1, SUMMARY_EVERY))


def _sweep(runs_dir, *extra):
  return [sys.executable, os.path.join(ROOT, "scripts", "sweep.py"), "--models", "echo",
          "--datasets", "dsprites", "--seeds", "0-2", "--steps", "3000", "--no_eval",
          "--runs_dir", str(runs_dir), "--jobs", "1", *extra, *conftest.TINY[:4],
          "--gin_param", "train.checkpoint_every = 50", "--gin_param", "train.summary_every = 10"]


@pytest.mark.slow  # 16 s and 30 s; the fast tier stops single runs (test_training, test_hostile)
@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_stopped_sweep_starts_nothing_and_leaves_no_trainer(tmp_path, how):
  runs_dir = tmp_path / "sweep"
  first = runs_dir / "dsprites_echo_b1_g0_s0"
  sweep = subprocess.Popen(_sweep(runs_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
  wait_for_step(str(first), 30, sweep)
  sweep.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
  out = sweep.communicate(timeout=120)[0]
  if how == "ctrl-c":
    assert sweep.returncode == 130 and "nothing new was started" in out, out
  else:
    assert sweep.returncode == -9
  # The trainer stopped too (it holds the run's lock while alive) and left a checkpoint.
  from echo_suite import rundir
  deadline = time.time() + 60
  while True:
    try:
      rundir.RunLock(str(first)).acquire().release()
      break
    except rundir.RunDirError:
      assert time.time() < deadline, "the trainer outlived its sweep"
      time.sleep(0.2)
  assert 30 <= checkpoint_step(str(first)) < 3000
  assert sorted(os.listdir(runs_dir)) == ["dsprites_echo_b1_g0_s0", "logs"]  # nothing new
  log = (runs_dir / "logs" / "dsprites_echo_b1_g0_s0.log").read_text()
  name = "SIGINT" if how == "ctrl-c" else "SIGTERM"
  assert f"{name} received: checkpoint at step" in log, log

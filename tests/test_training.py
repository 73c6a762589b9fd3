"""The CLI and training loop: outputs, resume, Ctrl-C, NaN guard, bad input."""
import json
import os
import subprocess
import sys

import gin
import numpy as np
import pytest
import tensorflow as tf

from echo_suite.data import registry as data_registry
from echo_suite.commands import train as disentanglement
import conftest
from conftest import ROOT, assert_same_weights
from echo_suite import training

TINY = [*conftest.TINY, "--no_eval"]


def run(tmp, *args):
  return disentanglement.main(["--output_dir", str(tmp), *TINY, *args])


def results(tmp):
  with open(os.path.join(tmp, "results.json")) as f:
    return json.load(f)


def test_run_writes_outputs_and_resumes(tmp_path):
  assert run(tmp_path, "--dataset", "ds_corr", "--beta", "2", "--steps", "20") == 0
  full = results(tmp_path)
  assert full["model"] == "echo" and full["dataset"] == "ds_corr" and full["beta"] == 2.0
  res = full["training"]
  assert res["step"] == 20 and res["steps_this_session"] == 20 and res["steps_per_s"] > 0
  assert res["rate_kind"] == "exact_rate_nats" and len(res["weights"]) == 16
  assert res["rate_nats"] >= 10 * res["min_rate_per_dim_nats"] - 1e-4
  assert len(res["rate_per_dim_nats"]) == 10
  for name in ("config.gin", "encoder.weights.h5", "decoder.weights.h5", "history.jsonl"):
    assert os.path.exists(tmp_path / name), name
  with open(tmp_path / "config.gin") as f:
    config = f.read()
  assert "model.beta = 2.0" in config and "dataset.name = 'ds_corr'" in config
  with open(tmp_path / "history.jsonl") as f:
    history = [json.loads(line) for line in f]
  assert [h["step"] for h in history] == [5, 10, 15, 20]
  assert os.listdir(tmp_path / "tensorboard")
  # Same command with a larger budget: resumes at step 20.
  assert run(tmp_path, "--dataset", "ds_corr", "--beta", "2", "--steps", "30") == 0
  res = results(tmp_path)
  assert res["training"]["step"] == 30 and res["training"]["steps_this_session"] == 10
  assert res["training"]["weights"] != full["training"]["weights"]
  # Once more: nothing left to train, and the measured results stay as they were.
  assert run(tmp_path, "--dataset", "ds_corr", "--beta", "2", "--steps", "30") == 0
  assert results(tmp_path) == res


@pytest.mark.slow  # 17 s; the fast tier resumes after Ctrl-C (test_ctrl_c_checkpoints_and_...)
def test_resumed_run_equals_uninterrupted_run(tmp_path):
  assert run(tmp_path / "a", "--model", "vae", "--gamma", "3", "--steps", "20") == 0
  assert run(tmp_path / "b", "--model", "vae", "--gamma", "3", "--steps", "10") == 0
  assert run(tmp_path / "b", "--model", "vae", "--gamma", "3", "--steps", "20") == 0
  a, b = results(tmp_path / "a")["training"], results(tmp_path / "b")["training"]
  assert a["final_losses_last_100_steps"]["tc"] is not None
  assert (a["step"], b["step"], b["steps_this_session"]) == (20, 20, 10)
  assert a["weights"] == b["weights"]  # the fingerprint sees the same weights
  # The loss window spans the run, not the session: the same means as the uninterrupted run.
  for k, v in a["final_losses_last_100_steps"].items():
    assert b["final_losses_last_100_steps"][k] == pytest.approx(v, rel=1e-4, abs=1e-5), k
  assert_same_weights(tmp_path / "a" / "checkpoints", tmp_path / "b" / "checkpoints")


class _InterruptAt:
  """A dataset whose batch stream raises KeyboardInterrupt (as Ctrl-C does) at one step."""

  name = "dsprites"

  def __init__(self, step):
    self.data, self.step = data_registry.make_dataset("dsprites"), step

  def batches(self, batch_size, seed=0, start_step=0):
    for step, batch in enumerate(self.data.batches(batch_size, seed, start_step), start_step):
      if step == self.step:
        raise KeyboardInterrupt
      yield batch

  def info(self):
    return self.data.info()

  @property
  def observation_shape(self):
    return self.data.observation_shape


def test_ctrl_c_checkpoints_and_resume_continues(tmp_path):
  gin.clear_config()
  gin.parse_config(["model.d_max = 15", "model.name = 'echo'"])
  with pytest.raises(KeyboardInterrupt):
    training.train(str(tmp_path), _InterruptAt(7), steps=12, batch_size=16, progress=False)
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-7")
  _, res = training.train(str(tmp_path), _InterruptAt(-1), steps=12, batch_size=16,
                          progress=False)
  assert res["training"]["step"] == 12 and res["training"]["steps_this_session"] == 5
  gin.clear_config()


def test_non_finite_loss_names_step_and_term():
  with pytest.raises(training.NonFiniteLossError, match=r"'rate' is nan at step 41"):
    training.check_finite({"distortion": np.float32(3.0), "rate": np.float32(np.nan)}, 41)
  with pytest.raises(training.NonFiniteLossError, match=r"'tc' is inf"):
    training.check_finite({"tc": np.float32(np.inf)}, 0)
  training.check_finite({"rate_per_dim": np.ones(3, np.float32)}, 0)


@pytest.mark.parametrize("args,message", [
    (["--model", "gan"], "unknown model 'gan'"),
    (["--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["--beta", "-1"], "beta=-1.0 must be >= 0"),
    (["--tc_weight", "-3"], "gamma=-3.0"),
    (["--gin_param", "model.bta = 1"], "bad gin configuration"),
    (["--gin_param", "train.batch_size = 15"], "batch_size=15 is too small"),
    (["--gin_file", "nope.gin"], "gin file not found: 'nope.gin'"),
    (["--model", "vae", "--gin_param", "model.learning_rate = 1e6"], "'loss' is nan at step 1"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, args, message):
  assert run(tmp_path, "--steps", "2", *args) == 2
  assert message in capsys.readouterr().err


def test_output_dir_with_another_config_is_refused_unless_overwrite(tmp_path, capsys):
  assert run(tmp_path, "--steps", "2") == 0
  assert run(tmp_path, "--steps", "2", "--beta", "4") == 2
  err = capsys.readouterr().err
  assert "different config" in err and "model.beta = 4.0" in err
  assert run(tmp_path, "--steps", "2", "--beta", "4", "--overwrite") == 0
  assert results(tmp_path)["beta"] == 4.0
  # The comparison is on the effective config: naming a default changes nothing.
  assert run(tmp_path, "--steps", "2", "--beta", "4", "--gamma", "0", "--seed", "0") == 0


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
  assert run(tmp_path, "--steps", "10") == 0
  ckpt = tmp_path / "checkpoints"
  for name in os.listdir(ckpt):
    if name.endswith(".index"):
      (ckpt / name).write_bytes(b"garbage")
  assert run(tmp_path, "--steps", "12") == 2
  assert "no usable checkpoint" in capsys.readouterr().err


@pytest.mark.slow  # a corrupt checkpoint keeps a fast test: test_corrupt_checkpoint_is_a_clear_error
def test_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, capsys):
  assert run(tmp_path, "--steps", "20") == 0  # checkpoints at 10 and 20
  (tmp_path / "checkpoints" / "ckpt-20.index").write_bytes(b"garbage")
  assert run(tmp_path, "--steps", "30") == 0
  assert "skipped unusable checkpoint" in capsys.readouterr().out
  res = results(tmp_path)["training"]
  assert (res["step"], res["steps_this_session"]) == (30, 20)  # resumed at 10, not at 0
  assert run(tmp_path / "ref", "--steps", "30") == 0
  assert_same_weights(tmp_path / "ref" / "checkpoints", tmp_path / "checkpoints")
  # The checkpoint list file lost: the checkpoints on disk are still found (newest: 30).
  os.unlink(tmp_path / "checkpoints" / "checkpoint")
  assert run(tmp_path, "--steps", "40") == 0
  assert results(tmp_path)["training"]["steps_this_session"] == 10
  # A cut .data file (a disk filled mid-write): skipped, the run resumes from the one before.
  os.truncate(tmp_path / "checkpoints" / "ckpt-40.data-00000-of-00001", 0)
  capsys.readouterr()
  assert run(tmp_path, "--steps", "50") == 0
  assert "skipped unusable checkpoint" in capsys.readouterr().out
  assert results(tmp_path)["training"]["steps_this_session"] == 20  # from 30
  # An empty checkpoint list file: rebuilt from the files on disk, the run resumes at 50.
  (tmp_path / "checkpoints" / "checkpoint").write_bytes(b"")
  assert run(tmp_path, "--steps", "60") == 0
  assert "unreadable checkpoint list" in capsys.readouterr().out
  assert results(tmp_path)["training"]["steps_this_session"] == 10


def test_checkpoint_never_holds_an_update_without_its_step(tmp_path):
  gin.clear_config()
  gin.parse_config(["model.d_max = 15", "model.name = 'echo'"])
  with pytest.raises(KeyboardInterrupt):
    training.train(str(tmp_path), _InterruptAt(7), steps=12, batch_size=16, progress=False)
  ckpt = tf.train.load_checkpoint(str(tmp_path / "checkpoints"))
  names = ckpt.get_variable_to_shape_map()
  iterations = [n for n in names if n.startswith("optimizer/") and "iteration" in n]
  assert iterations, sorted(names)
  assert ckpt.get_tensor(iterations[0]) == ckpt.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 7
  gin.clear_config()


def test_one_writer_per_run_directory(tmp_path, capsys):
  from echo_suite import rundir
  assert run(tmp_path, "--steps", "2") == 0
  with rundir.RunLock(str(tmp_path)):
    assert run(tmp_path, "--steps", "4") == 2
    assert f"in use by another process (pid {os.getpid()})" in capsys.readouterr().err
    assert disentanglement.main(["--eval_only", "--output_dir", str(tmp_path)]) == 2
  assert results(tmp_path)["training"]["step"] == 2  # the refused call changed nothing
  assert run(tmp_path, "--steps", "4") == 0  # released: the next process gets it


def test_cli_entry_point_help():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"), "--help"],
                       capture_output=True, text=True, cwd=ROOT)
  assert out.returncode == 0
  for flag in ("--dataset", "--model", "--beta", "--gamma", "--tc_weight", "--seed", "--steps",
               "--output_dir", "--gin_file", "--gin_param", "--no_eval"):
    assert flag in out.stdout


def _state_with_losses(model, run_dir, steps=7):
  """A RunState of `model` that recorded `steps` steps of made-up losses, saved."""
  state = training.RunState(model, str(run_dir))
  for step in range(steps):
    logs = {k: np.float32(step + i / 10) for i, k in enumerate(state.names)}
    state.record(step, {**logs, "rate_per_dim": np.zeros(model.num_latents, np.float32)})
  state.save(steps)
  return state


def test_checkpoint_restores_when_the_model_logs_a_new_term(tmp_path, monkeypatch):
  from echo_suite.models.autoencoder import Autoencoder
  gin.clear_config()
  model = Autoencoder(name="vae", d_max=15)
  before = _state_with_losses(model, tmp_path)
  names = model.scalar_log_names()
  monkeypatch.setattr(model, "scalar_log_names", lambda: names + ["new_term"])
  state = training.RunState(model, str(tmp_path))
  assert state.restore() == 7
  np.testing.assert_array_equal(state.window[:, :len(names)], before.window)
  assert np.isnan(state.window[:, -1]).all()  # unknown until the window refills
  losses = state.training_block(7, 16, 0)["final_losses_last_100_steps"]
  assert losses["new_term"] is None and losses["distortion"] == pytest.approx(3.1)


def test_checkpoint_of_the_earlier_single_window_format_restores(tmp_path):
  from echo_suite.models.autoencoder import Autoencoder
  gin.clear_config()
  model = Autoencoder(name="vae", d_max=15)
  names = model.scalar_log_names()
  window = np.arange(training.WINDOW * len(names), dtype=np.float32).reshape(training.WINDOW, -1)
  old = tf.train.Checkpoint(step=tf.Variable(4, dtype=tf.int64), loss_window=tf.Variable(window),
                            rate_window=tf.Variable(tf.zeros([training.WINDOW, 10])),
                            train_seconds=tf.Variable(2.0, dtype=tf.float64),
                            **model.checkpoint_items())
  old.save(str(tmp_path / "checkpoints" / "ckpt"))
  state = training.RunState(model, str(tmp_path))
  assert state.restore() == 4 and state.seconds == 2.0
  np.testing.assert_array_equal(state.window, window)


@pytest.mark.parametrize("flags,name", [
    ([], "dsprites_echo_b1_g0_s0"),
    (["--model", "vae", "--gamma", "10", "--seed", "3", "--dataset", "ds_corr"],
     "ds_corr_vae_b1_g10_s3"),
    (["--model", "beta_tcvae"], "dsprites_beta_tcvae_b1_g5_s0"),  # the model's own default gamma
    (["--dataset", "ds_pairs", "--gin_param", "ds_pairs.sigma = 0.05", "--beta", "2"],
     "ds_pairs_sigma0.05_echo_b2_g0_s0"),
    (["--dataset", "ds_pairs"], "ds_pairs_sigma0.2_echo_b1_g0_s0"),  # ds_pairs' default sigma
])
def test_the_default_output_dir_names_the_run_from_its_effective_settings(flags, name):
  disentanglement.configure(disentanglement.parse_args(flags))
  assert disentanglement.default_output_dir() == os.path.join("runs", name)

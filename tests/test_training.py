"""The CLI and training loop: outputs, resume, Ctrl-C, NaN guard, bad input."""
import json
import os
import subprocess
import sys

import gin
import numpy as np
import pytest
import tensorflow as tf

import dataset
import disentanglement
from conftest import ROOT
from models import training

TINY = ["--gin_file", os.path.join(ROOT, "gin_configs", "quick.gin"),
        "--gin_param", "model.d_max = 15", "--gin_param", "train.batch_size = 16",
        "--gin_param", "train.checkpoint_every = 10", "--gin_param", "train.summary_every = 5",
        "--no_progress", "--no_eval"]


def run(tmp, *args):
  return disentanglement.main(["--output_dir", str(tmp), *TINY, *args])


def results(tmp):
  with open(os.path.join(tmp, "results.json")) as f:
    return json.load(f)


def test_run_writes_outputs_and_resumes(tmp_path):
  assert run(tmp_path, "--dataset", "ds_corr", "--beta", "2", "--steps", "20") == 0
  res = results(tmp_path)
  assert res["model"] == "echo" and res["dataset"] == "ds_corr" and res["beta"] == 2.0
  assert res["steps"] == 20 and res["steps_this_session"] == 20 and res["steps_per_s"] > 0
  assert res["rate_kind"] == "exact_rate_nats"
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
  assert res["steps"] == 30 and res["steps_this_session"] == 10
  # Once more: nothing left to train, and the measured results stay as they were.
  assert run(tmp_path, "--dataset", "ds_corr", "--beta", "2", "--steps", "30") == 0
  assert results(tmp_path) == res


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  assert run(tmp_path / "a", "--model", "vae", "--gamma", "3", "--steps", "20") == 0
  assert run(tmp_path / "b", "--model", "vae", "--gamma", "3", "--steps", "10") == 0
  assert run(tmp_path / "b", "--model", "vae", "--gamma", "3", "--steps", "20") == 0
  a, b = results(tmp_path / "a"), results(tmp_path / "b")
  assert a["final_losses_last_100_steps"]["tc"] is not None
  assert (a["steps"], b["steps"], b["steps_this_session"]) == (20, 20, 10)
  wa = tf.train.load_checkpoint(str(tmp_path / "a" / "checkpoints"))
  wb = tf.train.load_checkpoint(str(tmp_path / "b" / "checkpoints"))
  names = [n for n in wa.get_variable_to_shape_map() if "save_counter" not in n]
  assert len(names) > 20
  for n in names:
    if np.asarray(wa.get_tensor(n)).dtype.kind in "fiu":  # skip the object graph (bytes)
      np.testing.assert_allclose(wa.get_tensor(n), wb.get_tensor(n), rtol=1e-4, atol=1e-5,
                                 err_msg=n)


class _InterruptAt:
  """A dataset whose batch stream raises KeyboardInterrupt (as Ctrl-C does) at one step."""

  name = "dsprites"

  def __init__(self, step):
    self.data, self.step = dataset.DSprites(), step

  def batches(self, batch_size, seed=0, start_step=0):
    for step, batch in enumerate(self.data.batches(batch_size, seed, start_step), start_step):
      if step == self.step:
        raise KeyboardInterrupt
      yield batch


def test_ctrl_c_checkpoints_and_resume_continues(tmp_path):
  gin.clear_config()
  gin.parse_config(["model.d_max = 15", "model.name = 'echo'"])
  with pytest.raises(KeyboardInterrupt):
    training.train(str(tmp_path), _InterruptAt(7), steps=12, batch_size=16, progress=False)
  assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-7")
  _, res = training.train(str(tmp_path), _InterruptAt(-1), steps=12, batch_size=16,
                          progress=False)
  assert res["steps"] == 12 and res["steps_this_session"] == 5
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


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
  assert run(tmp_path, "--steps", "10") == 0
  ckpt = tmp_path / "checkpoints"
  for name in os.listdir(ckpt):
    if name.endswith(".index"):
      (ckpt / name).write_bytes(b"garbage")
  assert run(tmp_path, "--steps", "12") == 2
  assert "corrupt" in capsys.readouterr().err


def test_cli_entry_point_help():
  out = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"), "--help"],
                       capture_output=True, text=True, cwd=ROOT)
  assert out.returncode == 0
  for flag in ("--dataset", "--model", "--beta", "--gamma", "--tc_weight", "--seed", "--steps",
               "--output_dir", "--gin_file", "--gin_param", "--no_eval"):
    assert flag in out.stdout

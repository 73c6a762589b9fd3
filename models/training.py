"""The training loop: progress bar, TensorBoard summaries, checkpoints, resume, results.json."""
import collections
import json
import os
import time

import gin
import numpy as np
import tensorflow as tf
from tqdm import tqdm

import atomic_io
from models.autoencoder import Autoencoder

CONFIG_FILE = "config.gin"
RESULTS_FILE = "results.json"


class NonFiniteLossError(FloatingPointError):
  """A loss term became NaN or Inf."""


def check_finite(logs, step):
  for term, value in logs.items():
    if not np.all(np.isfinite(value)):
      raise NonFiniteLossError(f"loss term {term!r} is {value} at step {step}; stopping the run "
                               f"(lower the learning rate or check the data)")


def _restore(checkpoint, directory):
  """Restore the newest checkpoint in `directory`; returns the step (0 when there is none)."""
  latest = tf.train.latest_checkpoint(directory)
  if latest is None:
    return 0
  try:
    checkpoint.restore(latest).assert_existing_objects_matched()
  except (tf.errors.OpError, ValueError, AssertionError) as e:
    raise RuntimeError(f"checkpoint {latest!r} is corrupt or belongs to another model ({e}); "
                       "delete it or rerun with --overwrite") from e
  return int(checkpoint.step.numpy())


@gin.configurable("train", denylist=["output_dir", "dataset"])
def train(output_dir, dataset, steps=300000, batch_size=64, seed=0, checkpoint_every=5000,
          summary_every=100, progress=True):
  """Train an `Autoencoder` (configured by gin's `model.*`) on `dataset`, resuming if possible.

  Args:
    output_dir: run directory: checkpoints, TensorBoard logs, weights, results.json.
    dataset: a dataset.DSprites (or ds_corr) instance.
    steps: gradient steps in all (a resumed run continues up to this count).
    batch_size: examples per step.
    seed: seeds weights, Echo noise and the data stream.
    checkpoint_every: steps between checkpoints (also written on Ctrl-C and at the end).
    summary_every: steps between TensorBoard summaries.
    progress: show a progress bar.

  Returns:
    (model, results dict).
  """
  model = Autoencoder(seed=seed)
  model.check_batch_size(batch_size)
  step_var = tf.Variable(0, dtype=tf.int64, name="step")
  checkpoint = tf.train.Checkpoint(step=step_var, **model.checkpoint_items())
  ckpt_dir = os.path.join(output_dir, "checkpoints")
  manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=2)
  start = _restore(checkpoint, ckpt_dir)
  writer = tf.summary.create_file_writer(os.path.join(output_dir, "tensorboard"))
  history_path = os.path.join(output_dir, "history.jsonl")
  batches = dataset.batches(batch_size, seed=seed, start_step=start)
  bar = tqdm(total=steps, initial=start, disable=not progress, unit="step", dynamic_ncols=True,
             desc=f"{model.model_name} on {dataset.name}")
  recent, step, t0 = collections.deque(maxlen=100), start, time.time()
  try:
    for step in range(start, steps):
      logs = {k: v.numpy() for k, v in model.train_step(tf.constant(next(batches))).items()}
      check_finite(logs, step)
      step_var.assign(step + 1)
      recent.append(logs)
      if (step + 1) % summary_every == 0 or step + 1 == steps:
        _summarise(writer, history_path, step + 1, logs)
        bar.set_postfix({k: f"{float(logs[k]):.3g}" for k in
                         ("distortion", "rate", "tc", "disc_accuracy") if k in logs})
      if (step + 1) % checkpoint_every == 0:
        manager.save(checkpoint_number=step + 1)
      bar.update(1)
  except KeyboardInterrupt:
    manager.save(checkpoint_number=int(step_var.numpy()))
    bar.close()
    print(f"\ninterrupted: checkpoint at step {int(step_var.numpy())} in {ckpt_dir}; "
          "run the same command again to resume")
    raise
  bar.close()
  wall = time.time() - t0
  done = steps - start
  results_path = os.path.join(output_dir, RESULTS_FILE)
  if done <= 0 and os.path.exists(results_path):  # finished before: keep what it measured
    with open(results_path) as f:
      return model, json.load(f)
  manager.save(checkpoint_number=steps)
  model.save_weights(output_dir)
  results = _results(model, dataset, recent, steps, batch_size, wall, done)
  atomic_io.write_json(results_path, results)
  return model, results


def _summarise(writer, history_path, step, logs):
  scalars = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
  with writer.as_default(step=step):
    for k, v in scalars.items():
      tf.summary.scalar(k, v)
    tf.summary.histogram("rate_per_dim", logs["rate_per_dim"])
  with open(history_path, "a") as f:  # one line per summary: cheap to append, easy to plot
    f.write(json.dumps({"step": step, **scalars}) + "\n")


def _results(model, dataset, recent, steps, batch_size, wall, done):
  mean = {k: float(np.mean([r[k] for r in recent], axis=0)) for k in (recent[0] if recent else {})
          if k != "rate_per_dim"}
  rate_per_dim = (np.mean([r["rate_per_dim"] for r in recent], axis=0).tolist() if recent
                  else None)
  rate_kind = "exact_rate_nats" if model.model_name == "echo" else "kl_upper_bound_nats"
  return {
      "model": model.model_name, "dataset": dataset.name, "beta": model.beta,
      "gamma": model.gamma, "steps": steps, "batch_size": batch_size,
      "final_losses_last_100_steps": mean,
      "rate_kind": rate_kind, "rate_nats": mean.get("rate"), "rate_per_dim_nats": rate_per_dim,
      "min_rate_per_dim_nats": model.head.min_rate_per_dim(),
      "wall_time_s": wall, "steps_this_session": done,
      "steps_per_s": done / wall if wall > 0 and done else None,
      "config": gin.operative_config_str() if done else None,
  }

"""The training loop: progress bar, TensorBoard summaries, checkpoints, exact resume, results.json.

Everything results.json's training block reports is rebuilt from the newest checkpoint (step,
weights, the run's last 100 loss values, its training seconds), so a run killed between its last
checkpoint and its results file, or with a truncated results file, is finished without retraining.
"""
import glob
import os
import signal
import threading
import time

import gin
import numpy as np
from echo_suite.quiet_tensorflow import tf
from tqdm import tqdm

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite import device
from echo_suite import rundir
from echo_suite.models.autoencoder import Autoencoder

WINDOW = 100  # final losses are means over the run's last WINDOW steps
# Scoring outputs that describe particular weights; removed when training moves the weights on.


class NonFiniteLossError(FloatingPointError):
  """A loss term became NaN or Inf."""


class Interrupted(Exception):
  """Training stopped on a signal after checkpointing at a step boundary.

  exit_code is 128 + the signal number, as a shell reports a signal: 130 for SIGINT (Ctrl-C),
  143 for SIGTERM (Slurm preemption, scancel), 138 for SIGUSR1 (Slurm's --signal warning).
  """

  def __init__(self, signum, step):
    self.signum, self.step, self.exit_code = signum, step, 128 + signum
    super().__init__(f"{signal.Signals(signum).name} received: checkpoint at step {step}; run "
                     "the same command again to resume")


def check_same_run(path, written_by, identity):
  """RuntimeError naming both identities (the lines they differ in) when checkpoint `path` was
  written by another run than the one whose identity is `identity`. A checkpoint of a version
  that recorded no identity, or a run without one, cannot be checked: accepted."""
  if not written_by or not identity or written_by == identity:
    return
  theirs, ours = set(written_by.splitlines()), set(identity.splitlines())
  raise RuntimeError(
      f"checkpoint {path} was written by another run: it has {sorted(theirs - ours)} where this "
      f"run has {sorted(ours - theirs)}; its weights are not this run's (remove it, or score it "
      "in the run directory that wrote it)")


def check_finite(logs, step):
  for term, value in logs.items():
    if not np.all(np.isfinite(value)):
      raise NonFiniteLossError(f"loss term {term!r} is {value} at step {step}; stopping the run "
                               f"(lower the learning rate or check the data)")


def check_settings(steps, batch_size, seed, checkpoint_every, summary_every, keep_checkpoints):
  """Refuse, naming it, a train.* setting that no run could use (before any work)."""
  checks.check_count("train.steps", steps)
  checks.check_count("train.batch_size", batch_size)
  checks.check_count("train.seed", seed, minimum=0)
  checks.check_count("train.checkpoint_every", checkpoint_every)
  checks.check_count("train.summary_every", summary_every)
  checks.check_count("train.keep_checkpoints", keep_checkpoints, minimum=2)


class _StopSignals:
  """While active, SIGINT, SIGTERM and SIGUSR1 only set `received`; the loop stops at the next step
  boundary, so the checkpoint never holds an update without its step (exact resume)."""

  SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)

  def __init__(self):
    self.received, self._previous = None, {}

  def _handle(self, signum, frame):
    self.received = self.received or signum

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():  # handlers live in the main thread
      for s in self.SIGNALS:
        self._previous[s] = signal.signal(s, self._handle)
    return self

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)


class RunState:
  """A run's checkpoint: the model with its optimisers and noise generator, the step, the last
  WINDOW steps' losses (one ring buffer per logged term, indexed by step) and the training seconds.

  The loss windows are saved by term name and restored leniently: a checkpoint written before a
  model logged a new term restores (that term's window is unknown until it refills), so the log
  schema never locks a run out of its weights.

  Args:
    model: the Autoencoder.
    output_dir: run directory; checkpoints go in output_dir/checkpoints.
    keep: checkpoints kept (>= 2, so a corrupt newest one leaves an older one).
  """

  def __init__(self, model, output_dir, keep=3):
    self.model, self.names = model, model.scalar_log_names()
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    self._windows = {k: tf.Variable(tf.zeros([WINDOW]), name=f"loss_window_{k}")
                     for k in self.names}
    self._window_rate = tf.Variable(tf.zeros([WINDOW, model.num_latents]), name="rate_window")
    self._seconds = tf.Variable(0.0, dtype=tf.float64, name="train_seconds")
    self.window = np.zeros([WINDOW, len(self.names)], np.float32)
    self.window_rate = np.zeros([WINDOW, model.num_latents], np.float32)
    self.seconds, self._clock = 0.0, None
    core = dict(step=self.step, rate_window=self._window_rate, train_seconds=self._seconds,
                **model.checkpoint_items())
    self._strict = tf.train.Checkpoint(**core)  # what a restore must match exactly
    # The identity of the run that writes (its run_config.gin): a checkpoint copied from another
    # run is refused on restore, naming both (read by name, below).
    self.identity = "\n".join(rundir.read_identity(output_dir))
    self._identity = tf.Variable(self.identity, dtype=tf.string, name="run_identity")
    self.checkpoint = tf.train.Checkpoint(**core, loss_windows=self._windows,
                                          run_identity=self._identity)  # what is saved
    self.directory = os.path.join(output_dir, rundir.CHECKPOINTS_DIR)
    try:
      self.manager = tf.train.CheckpointManager(self.checkpoint, self.directory,
                                                max_to_keep=max(2, int(keep)))
    except Exception as e:  # noqa: BLE001  (an empty or cut list file: parse errors of any kind)
      # The list file is only an index of the ckpt-N files beside it (found without it).
      listing = os.path.join(self.directory, "checkpoint")
      print(f"warning: unreadable checkpoint list {listing} ({type(e).__name__}); rebuilt from "
            "the checkpoints on disk")
      os.unlink(listing)
      self.manager = tf.train.CheckpointManager(self.checkpoint, self.directory,
                                                max_to_keep=max(2, int(keep)))

  def record(self, step, logs):
    """Put the losses of (0-based) `step` into the window."""
    self.window[step % WINDOW] = [logs[k] for k in self.names]
    self.window_rate[step % WINDOW] = logs["rate_per_dim"]

  def start_clock(self):
    """Count training time from now on (added to `seconds` at each save)."""
    self._clock = time.time()

  def save(self, step):
    if self._clock is not None:
      now = time.time()
      self.seconds, self._clock = self.seconds + now - self._clock, now
    self.step.assign(step)
    for i, k in enumerate(self.names):
      self._windows[k].assign(self.window[:, i])
    self._window_rate.assign(self.window_rate)
    self._seconds.assign(self.seconds)
    self.manager.save(checkpoint_number=step)

  def restore(self):
    """Restore the newest checkpoint that restores; an unusable one is reported and skipped.
    Returns the step (0 when there is none)."""
    failures = []
    for path in self._candidates():
      try:
        written_by = self._read_identity(path)
      except Exception as e:  # noqa: BLE001  (a cut .index file: not a checkpoint of any run)
        failures.append(f"{path}: {str(e).splitlines()[0][:200]}")
        continue
      check_same_run(path, written_by, self.identity)
      try:
        status = self._strict.restore(path)
        status.assert_existing_objects_matched()
        status.expect_partial()  # the loss windows are read by name, leniently, below
        self.window = self._read_loss_windows(path)
      except Exception as e:  # noqa: BLE001  (a cut .data file raises IndexError, others OpError)
        failures.append(f"{path}: {str(e).splitlines()[0][:200]}")
        continue
      for path_failed in failures:
        print(f"warning: skipped unusable checkpoint {path_failed}")
      self.window_rate = self._window_rate.numpy()
      self.seconds = float(self._seconds.numpy())
      return int(self.step.numpy())
    if failures:
      raise RuntimeError(f"no usable checkpoint in {self.directory!r}: {'; '.join(failures)}; "
                         "rerun with --overwrite to start afresh")
    return 0

  @staticmethod
  def _read_identity(path):
    """The identity saved in checkpoint `path` ('' for one of a version that saved none)."""
    reader = tf.train.load_checkpoint(path)
    key = "run_identity/.ATTRIBUTES/VARIABLE_VALUE"
    if key not in reader.get_variable_to_shape_map():
      return ""
    value = reader.get_tensor(key)
    return value.decode() if isinstance(value, bytes) else str(value)

  def _read_loss_windows(self, path):
    """(WINDOW, len(names)) losses saved in checkpoint `path`, by term name; NaN for a term it did
    not log. Checkpoints of earlier versions kept one (WINDOW, terms) array: read by position when
    its width is today's."""
    reader = tf.train.load_checkpoint(path)
    saved = reader.get_variable_to_shape_map()
    window = np.full([WINDOW, len(self.names)], np.nan, np.float32)
    legacy = "loss_window/.ATTRIBUTES/VARIABLE_VALUE"
    if legacy in saved and saved[legacy] == [WINDOW, len(self.names)]:
      return reader.get_tensor(legacy)
    for i, k in enumerate(self.names):
      key = f"loss_windows/{k}/.ATTRIBUTES/VARIABLE_VALUE"
      if key in saved:
        window[:, i] = reader.get_tensor(key)
    return window

  def _candidates(self):
    """Checkpoint prefixes, newest first: the manager's list and any ckpt-N on disk (the list
    file may be lost or cut)."""
    on_disk = [p[:-len(".index")] for p in glob.glob(os.path.join(self.directory, "ckpt-*.index"))]
    prefixes = {os.path.abspath(p) for p in list(self.manager.checkpoints) + on_disk}
    return sorted(prefixes, key=lambda p: int(p.rsplit("-", 1)[1]), reverse=True)

  def training_block(self, step, batch_size, steps_this_session):
    """results.json's training block at `step`, from the state alone."""
    n = min(step, WINDOW)
    rows = [i % WINDOW for i in range(step - n, step)]
    # a term unknown over part of the window (logged since a resume) has no mean yet: None
    mean = ({k: float(v) if np.isfinite(v) else None
             for k, v in zip(self.names, self.window[rows].mean(axis=0))} if n else {})
    model = self.model
    return {
        "step": step, "weights": model.weights_fingerprint(), "batch_size": batch_size,
        "final_losses_last_100_steps": mean, "losses_window_steps": n,
        "rate_kind": model.spec.rate_record,
        "rate_nats": mean.get("rate"),
        "rate_per_dim_nats": self.window_rate[rows].mean(axis=0).tolist() if n else None,
        "min_rate_per_dim_nats": model.head.min_rate_per_dim(),
        "train_seconds": self.seconds,
        "steps_per_s": step / self.seconds if self.seconds > 0 else None,
        "steps_this_session": steps_this_session,
        "device": device.describe(),  # where this block was written (the last session's machine)
    }


def run_results(model, dataset, seed, training_block, config):
  """A results.json dict: the run's identity, its training data's summary (size, exact factor
  TC: `info()`), its training block, no scores yet."""
  return {"model": model.model_name, "dataset": dataset.name, "beta": model.beta,
          "gamma": model.gamma, "seed": int(seed), "data": dataset.info(),
          "training": training_block, "config": config}


def _current_results(output_dir, step, weights):
  """The saved results if they describe exactly (step, weights), else None (reported)."""
  try:
    results = rundir.RunDirectory(output_dir).read_results()
  except rundir.UnreadableFileError as e:
    print(f"warning: {e}; rebuilding it from the checkpoint")
    return None
  if results and (results["training"].get("step"), results["training"].get("weights")) == (
      step, weights):
    return results
  return None


def _saved_or_rebuilt_results(state, dataset, seed, step, batch_size, output_dir):
  """results.json if it describes the restored weights at `step`, else rebuilt from the
  checkpoint state and written."""
  results = _current_results(output_dir, step, state.model.weights_fingerprint())
  if results is None:
    results = run_results(state.model, dataset, seed, state.training_block(step, batch_size, 0),
                          gin.operative_config_str())
    rundir.RunDirectory(output_dir).write_results(results)
  return results


def restore_run(output_dir, dataset, seed=0, batch_size=64, model=None):
  """The trained model of a run directory at its newest usable checkpoint, and its results (read,
  or rebuilt from the checkpoint when missing, truncated or of other weights); a run kept without
  checkpoints (a shipped model) from its weight files, which must be those results.json names.

  Returns:
    (model, results dict).
  """
  model = model or Autoencoder(seed=seed, num_channels=dataset.observation_shape[-1])
  state = RunState(model, output_dir)
  step = state.restore()
  if step == 0:
    return model, _restore_weights_only(model, output_dir)
  return model, _saved_or_rebuilt_results(state, dataset, seed, step, batch_size, output_dir)


def _restore_weights_only(model, output_dir):
  """The results of a run kept without checkpoints (a shipped model, pretrained/): its encoder and
  decoder weight files, loaded into `model`, must be the weights its results.json describes.
  RuntimeError when either is missing or they disagree."""
  run = rundir.RunDirectory(output_dir)
  weights = [run.file(name) for name in rundir.WEIGHTS_FILES.values()]
  try:
    results = run.read_results()
  except rundir.UnreadableFileError as e:
    raise RuntimeError(f"{output_dir!r} holds no checkpoint, and {e}") from None
  if results is None or not all(os.path.isfile(path) for path in weights):
    raise RuntimeError(f"{output_dir!r} holds no trained checkpoint (nor weight files with a "
                       "results.json)")
  try:
    model.load_weights(output_dir)
  except Exception as e:  # noqa: BLE001  (h5py's and Keras's errors: cut file, other shapes)
    raise RuntimeError(f"{output_dir!r}: its weight files do not load into the run's model "
                       f"({str(e).splitlines()[0][:200]})") from None
  recorded, loaded = results["training"].get("weights"), model.weights_fingerprint()
  if loaded != recorded:
    raise RuntimeError(f"{output_dir!r}: its weight files are weights {loaded}, not the weights "
                       f"{recorded} its results.json describes; refusing to score them")
  return results


@gin.configurable("train", denylist=["output_dir", "dataset", "model"])
def train(output_dir, dataset, steps=300000, batch_size=64, seed=0, checkpoint_every=5000,
          summary_every=100, keep_checkpoints=3, progress=True, model=None):
  """Train an `Autoencoder` (configured by gin's `model.*`) on `dataset`, resuming if possible.

  Args:
    output_dir: run directory: checkpoints, TensorBoard logs, weights, results.json.
    dataset: a data.ground_truth.DSprites (dsprites, ds_corr or ds_pairs) instance.
    steps: gradient steps in all (a resumed run continues up to this count), >= 1.
    batch_size: examples per step.
    seed: seeds weights, Echo noise and the data stream.
    checkpoint_every: steps between checkpoints (also written on a stop signal and at the end).
    summary_every: steps between TensorBoard summaries and history.jsonl lines.
    keep_checkpoints: checkpoints kept (at least 2).
    progress: show a progress bar.
    model: an already built Autoencoder (built from gin's `model.*` with `seed` when None).

  Returns:
    (model, results dict).

  Raises:
    Interrupted: on SIGINT, SIGTERM or SIGUSR1, after checkpointing at a step boundary.
  """
  check_settings(steps, batch_size, seed, checkpoint_every, summary_every, keep_checkpoints)
  model = model or Autoencoder(seed=seed, num_channels=dataset.observation_shape[-1])
  model.check_batch_size(batch_size)
  state = RunState(model, output_dir, keep_checkpoints)
  start = state.restore()
  if start > steps:
    raise ValueError(f"{output_dir!r} already holds a run trained for {start} steps, more than "
                     f"steps={steps}; ask for >= {start} steps, or use another --output_dir")
  if start == steps:  # nothing to train: keep what was measured, or rebuild it
    return model, _saved_or_rebuilt_results(state, dataset, seed, start, batch_size, output_dir)
  reached, signum = _train_steps(model, state, dataset, output_dir, start, steps, batch_size, seed,
                                 checkpoint_every, summary_every, progress)
  if reached < steps:  # a stop signal: checkpointed at the step reached
    raise Interrupted(signum, reached)
  results = _finish(model, state, dataset, seed, steps, batch_size, steps - start, output_dir)
  if signum:  # a signal during the last step: training is done, but stop before scoring
    raise Interrupted(signum, steps)
  return model, results


def _train_steps(model, state, dataset, output_dir, start, steps, batch_size, seed,
                 checkpoint_every, summary_every, progress):
  """Train from step `start` towards `steps`, logging and checkpointing as it goes.

  Returns:
    (the step reached, the stop signal received or None). The step reached is `steps` unless a
    signal stopped the loop earlier; then the state is saved at that step. A KeyboardInterrupt
    raised between steps (a handler not ours, or the data stream) is saved and re-raised.
  """
  writer = _resume_logs(output_dir, start)
  run = rundir.RunDirectory(output_dir)
  batches = dataset.batches(batch_size, seed=seed, start_step=start)
  bar = tqdm(total=steps, initial=start, disable=not progress, unit="step", dynamic_ncols=True,
             desc=f"{model.model_name} on {dataset.name}")
  step = start
  state.start_clock()
  try:
    with _StopSignals() as stop:
      for step in range(start, steps):
        logs = {k: v.numpy() for k, v in model.train_step(tf.constant(next(batches))).items()}
        check_finite(logs, step)
        state.record(step, logs)
        if (step + 1) % summary_every == 0 or step + 1 == steps:
          _summarise(writer, run, step + 1, logs)
          bar.set_postfix({k: f"{float(logs[k]):.3g}" for k in
                           ("distortion", "rate", "tc", "disc_accuracy") if k in logs})
        bar.update(1)
        if stop.received and step + 1 < steps:
          state.save(step + 1)
          return step + 1, stop.received
        if (step + 1) % checkpoint_every == 0 and step + 1 < steps:
          state.save(step + 1)
  except KeyboardInterrupt:
    state.save(step)
    print(f"\ninterrupted: checkpoint at step {step} in {state.directory}; "
          "run the same command again to resume")
    raise
  finally:
    bar.close()
    writer.close()
  return steps, stop.received


def _finish(model, state, dataset, seed, steps, batch_size, steps_this_session, output_dir):
  """Save the final checkpoint and weights, write results.json without scores (the weights are
  new) and remove the scored outputs of the old weights. Returns the results dict."""
  state.save(steps)
  run = rundir.RunDirectory(output_dir)
  run.write_weights(model.networks())
  results = run_results(model, dataset, seed,
                        state.training_block(steps, batch_size, steps_this_session),
                        gin.operative_config_str())
  run.write_results(results)
  run.remove_scored_outputs()
  return results


def _resume_logs(output_dir, start):
  """Cut history.jsonl and TensorBoard back to `start` (what a resumed run will log again), then
  open the summary writer."""
  run = rundir.RunDirectory(output_dir)
  skipped = run.cut_history(start)
  if skipped:
    print(f"note: {skipped} unreadable line(s) of {run.file(rundir.HISTORY_FILE)} dropped (cut "
          "by a kill, or not UTF-8 JSON)")
  logdir = os.path.join(output_dir, rundir.TENSORBOARD_DIR)
  for path in glob.glob(os.path.join(logdir, "events.out.tfevents.*")):
    _trim_events(path, start)
  return tf.summary.create_file_writer(logdir)


def _trim_events(path, start):
  """Rewrite a TensorBoard event file without its events after `start` (atomically)."""
  records, trimmed = [], False
  try:
    for raw in tf.data.TFRecordDataset(path):
      event = tf.compat.v1.Event.FromString(raw.numpy())
      if event.step > start:
        trimmed = True
      else:
        records.append(raw.numpy())
  except tf.errors.DataLossError:  # a record cut by a kill: keep what came before it
    trimmed = True
  if trimmed:
    with atomic_io.atomic_path(path, suffix=".trim") as tmp:
      with tf.io.TFRecordWriter(tmp) as w:
        for raw in records:
          w.write(raw)


def _summarise(writer, run, step, logs):
  scalars = {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}
  with writer.as_default(step=step):
    for k, v in scalars.items():
      tf.summary.scalar(k, v)
    tf.summary.histogram("rate_per_dim", logs["rate_per_dim"])
  run.append_history({"step": step, **scalars})

"""Train (and score) an autoencoder of models/registry.py (`--model`; --help lists them) on a data
set of data/registry.py.

    python disentanglement.py --dataset ds_corr --beta 2
    python disentanglement.py --model vae --gamma 10 --seed 3 --steps 20000
    python disentanglement.py --gin_file gin_configs/quick.gin --gin_param "model.d_max = 32"
    python disentanglement.py --eval_only --output_dir RUN [--metrics factor_vae mig dci]

Flags are sugar for gin bindings (applied after --gin_file, before --gin_param). Every flag,
binding, data set and the output directory are checked before anything is trained or written.
The run's effective config (defaults included) is saved as RUN/run_config.gin; a second call
with the same RUN and config resumes from its checkpoint (a larger --steps extends it).
Every run ends with scoring (FactorVAE score and MIG by default, on the full data set its data
is drawn from: dSprites for ds_corr) into RUN/results.json and RUN/scores.csv, and figures into
RUN/figures/, each tagged with the training step and weights fingerprint they describe;
--no_eval skips it. --eval_only re-scores a run with
its own model and its saved evaluation settings (RUN/eval_config.gin) unless overridden.
This module only wires dataset -> models -> metrics -> figures together.
"""
import argparse
import os
import sys

import gin
import numpy as np

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite.data import ground_truth
from echo_suite.data import registry as data_registry
from echo_suite import device
from echo_suite import gin_compat
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.metrics import code_table, names
from echo_suite.models import registry

# The modules that need TensorFlow (models, training, scoring) are imported by
# `load_tensorflow_modules`, after the command line has been checked: a bad flag, name or path is
# answered before TensorFlow's import (seconds) starts.
autoencoder = evaluate = model_figures = scores = training = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GIN = os.path.join(ROOT, "gin_configs", "paper.gin")


def parse_args(argv=None):
  p = checks.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("--dataset", help=f"one of {list(data_registry.DATASET_NAMES)} (default dsprites)")
  p.add_argument("--model", help=f"one of {list(registry.MODEL_NAMES)} (default echo)")
  p.add_argument("--beta", type=checks.finite_float, help="weight of the rate (default 1)")
  p.add_argument("--gamma", "--tc_weight", dest="gamma", type=checks.finite_float,
                 help="weight of the model's penalty (echo, vae: TC by a FactorVAE "
                      "discriminator; beta_tcvae: minibatch TC; annealed_vae: |KL - C|; "
                      "info_vae: MMD); default per model: " + ", ".join(
                          f"{m.name} {m.default_gamma:g}" for m in registry.MODELS.values()
                          if m.takes_gamma))
  p.add_argument("--seed", type=checks.int_at_least(0),
                 help="seed of weights, noise and data stream (default 0)")
  p.add_argument("--steps", type=checks.int_at_least(1), help="gradient steps (paper: 300,000)")
  p.add_argument("--output_dir", help="run directory (default runs/DATASET_MODEL_bB_gG_sS)")
  p.add_argument("--dsprites_npz", help="official dSprites npz instead of the renderer")
  p.add_argument("--data_path", help="a file-based data set's file or folder (default: found "
                                     "under $DISENTANGLEMENT_LIB_DATA)")
  p.add_argument("--gin_file", action="append", default=[], help="gin file (repeatable)")
  p.add_argument("--gin_param", action="append", default=[], help='"name.arg = value" (repeatable)')
  p.add_argument("--no_eval", action="store_true", help="skip scoring after training")
  p.add_argument("--eval_only", action="store_true",
                 help="re-score the saved run in --output_dir (no training)")
  p.add_argument("--metrics", nargs="+",
                 help=f"metrics to score (default factor_vae mig): {list(names.METRIC_NAMES)}")
  p.add_argument("--eval_on", choices=names.EVAL_SETS,
                 help="score on the 'full' data set with independent factors (default, as the "
                      "paper: dSprites for ds_corr) or the 'kept' set")
  p.add_argument("--representation", nargs="+", choices=names.REPRESENTATIONS,
                 help="score the deterministic code ('mean', default), the noisy code z "
                      "('sample', as the public Echo script), or both ('mean sample'), from one "
                      "code table")
  p.add_argument("--overwrite", action="store_true",
                 help="replace a run in --output_dir that has a different config")
  p.add_argument("--threads", type=checks.int_at_least(1),
                 help="TensorFlow compute threads (default: one per core); recorded in "
                      "results.json with the device")
  p.add_argument("--no_progress", action="store_true", help="no progress bar (for logs)")
  return p.parse_args(argv)


def flag_bindings(args):
  """The gin bindings that the convenience flags stand for."""
  pairs = [("dataset.name", args.dataset), ("dataset.dsprites_npz", args.dsprites_npz),
           ("dataset.data_path", args.data_path),
           ("model.name", args.model), ("model.beta", args.beta), ("model.gamma", args.gamma),
           ("train.seed", args.seed), ("train.steps", args.steps),
           ("evaluation.metrics", args.metrics), ("evaluation.eval_on", args.eval_on),
           ("evaluation.representation", args.representation)]
  return [f"{k} = {v!r}" for k, v in pairs if v is not None]


def load_tensorflow_modules():
  """Import the suite's modules that need TensorFlow (once; `configure` calls it)."""
  global autoencoder, evaluate, model_figures, scores, training
  from echo_suite.figures import model_figures
  from echo_suite.metrics import evaluate, scores  # registers the metrics' gin configurables
  from echo_suite import training
  from echo_suite.models import autoencoder


def check_gin_files(files):
  """ValueError naming the first gin file that is missing or a directory."""
  for f in files:
    if os.path.isdir(f):
      raise ValueError(f"gin file {f!r} is a directory; give a .gin file")
    if not os.path.isfile(f):
      raise ValueError(f"gin file not found: {f!r}")


def check_command_line(args):
  """What the command line alone says, checked before TensorFlow is imported: model, data set
  and metric names, gin files, --eval_only's flags and run, and --output_dir. Bindings that
  need the suite's configurables are checked by `configure`, still before any work."""
  if args.model is not None:
    registry.get(args.model)
  if args.dataset is not None:
    data_registry.check_name(args.dataset)
  if args.metrics is not None:
    names.check_metric_names(args.metrics)
  check_gin_files(args.gin_file)
  if args.eval_only:
    check_eval_only_flags(args)
    _saved_config(args.output_dir)
  elif args.output_dir:
    rundir.check_usable(args.output_dir)


def configure(args, base_files=(DEFAULT_GIN,)):
  """Parse gin files, flags and params; raise ValueError with the offending binding."""
  load_tensorflow_modules()
  gin.clear_config()
  files = list(base_files) + args.gin_file
  check_gin_files(files)
  bindings = flag_bindings(args) + args.gin_param
  try:
    gin.parse_config_files_and_bindings(files, bindings)
  except RecursionError:
    raise ValueError(f"bad gin configuration: a gin file includes itself ({files})") from None
  except Exception as e:  # noqa: BLE001  (gin raises many kinds: name, syntax, import, value)
    message = provenance.gin_error_line(e)
    if "(bindings string" not in message and "(file" not in message:
      culprit = _first_bad_binding(bindings)
      message += f" (in binding {culprit!r})" if culprit else ""
    gin.clear_config()
    raise ValueError(f"bad gin configuration: {message}") from None
  _bind_default_gamma()


def _first_bad_binding(bindings):
  """The first binding that gin refuses on its own (None if each parses alone)."""
  for binding in bindings:
    gin.clear_config()
    try:
      gin.parse_config([binding])
    except Exception:  # noqa: BLE001
      return binding
  return None


def _bind_default_gamma():
  """model.gamma's default depends on the model (models.registry): bind it, so that the run's
  config names the number and naming the default changes nothing."""
  try:
    gin.query_parameter("model.gamma")
  except ValueError:
    try:
      name = gin.query_parameter("model.name")
    except ValueError:
      name = "echo"
    if name in registry.MODELS:  # an unknown name is reported when the model is built
      with gin.unlock_config():
        gin.bind_parameter("model.gamma", registry.default_gamma(name))


def validate(args):
  """Configure a training command and check what can be checked before any data or model is
  built: gin files and bindings, evaluation settings (unless --no_eval), the train.* settings, the
  model's name and weights. Raises ValueError naming the bad value.

  Returns:
    (evaluation settings or None, train.* settings).
  """
  configure(args)
  data_kw = provenance.effective_kwargs(data_registry.make_dataset, "dataset")
  if isinstance(data_kw["name"], str):  # else a gin reference, reported as the data is built
    data_registry.check_settings_apply([data_kw["name"]])
    data_registry.check_data_path(data_kw["name"], data_kw["data_path"])
  chosen = None if args.no_eval else evaluate.settings()  # a metric typo fails here, not later
  train_kw = train_settings()
  training.check_settings(**train_kw)
  model_kw = provenance.effective_kwargs(autoencoder.Autoencoder.__init__, "model")
  registry.get(model_kw["name"]).check_weights(model_kw["beta"], model_kw["gamma"])
  return chosen, train_kw


def train_settings():
  """train.* as the run will use them (defaults included)."""
  return provenance.effective_kwargs(training.train, "train", skip=("progress", "model"))


# Arguments that set how long a run trains, how often it saves or how fast it computes, not what
# it trains: the only ones left out of its identity (model.seed is passed from train.seed).
NOT_IDENTITY = {"train": ("steps", "checkpoint_every", "summary_every", "keep_checkpoints",
                          "progress", "model"),
                "model": ("jit_compile",)}


def run_identity(data):
  """A run's identity as sorted gin lines: every argument of every configurable called while
  building the model and the data (gin's operative config, defaults included), the data stream's
  (train.*) and the data set's own identity (name, source), less NOT_IDENTITY. Two runs with equal
  lines train the same model on the same data; the step budget may differ."""
  groups = {name: {k: v for k, v in kwargs.items() if k not in NOT_IDENTITY.get(name, ())}
            for name, kwargs in provenance.operative_bindings().items()
            if name != "dataset"}  # the data set's resolved identity (npz from $DSPRITES_NPZ too)
  groups["train"] = provenance.effective_kwargs(training.train, "train",
                                                skip=NOT_IDENTITY["train"])
  groups["dataset"] = data.identity()
  return [line for line in provenance.as_gin_lines(groups)
          if line not in rundir.RETIRED_IDENTITY_LINES]


def default_output_dir():
  """runs/NAME, NAME from the run's data, model, weights and seed (rundir.run_name), each the
  value gin binds or its function's own default."""
  data_name = provenance.effective_kwargs(data_registry.make_dataset, "dataset")["name"]
  model = provenance.effective_kwargs(autoencoder.Autoencoder.__init__, "model")
  gamma = model["gamma"] if model["gamma"] is not None else registry.get(
      model["name"]).default_gamma
  sigma = (provenance.effective_kwargs(ground_truth.DSpritesPairs.__init__, "ds_pairs")["sigma"]
           if data_name == "ds_pairs" else None)
  seed = provenance.effective_kwargs(training.train, "train")["seed"]
  return os.path.join("runs", rundir.run_name(data_name, model["name"], model["beta"], gamma,
                                              seed, sigma))


def score_and_draw(model, data, output_dir, results, progress=True):
  """Score the model into results.json (scores block with step, weights and settings),
  scores.csv and eval_config.gin; draw figures from the same codes into RUN/figures/."""
  training_block = results["training"]
  run = rundir.RunDirectory(output_dir)
  block, table = evaluate.evaluate(model.channel_params_function, data, run.file(rundir.CODES_FILE),
                                   weights=training_block["weights"],
                                   sample_from_params=model.sample_from_params, progress=progress)
  block = provenance.scores_block(block, training_block["step"], training_block["weights"],
                                  device.describe())
  idx = table.indices[np.random.RandomState(0).randint(len(table.indices), size=8)]
  images = table.data.observations(idx)
  if table.encoded_now:
    run.write_code_table(code_table.arrays_of(table, training_block["weights"]))
  model_figures.write_all(
      os.path.join(output_dir, rundir.FIGURES_DIR), decode=model.decode, codes=table.codes,
      factors=table.data.factors_of(table.indices), sizes=table.data.factors_num_values,
      factor_names=table.data.factor_names,
      rates=training_block["rate_per_dim_nats"], min_rate=training_block["min_rate_per_dim_nats"],
      rate_kind=registry.get(results["model"]).rate_kind,
      images=images, recon=model.reconstruct(images),
      history=run.history() or None,
      name=f"{results['model']} on {results['dataset']} (beta {results['beta']:g}, "
           f"gamma {results['gamma']:g}), step {block['step']:,}, weights {block['weights']}")
  results["scores"] = block
  run.write_files(evaluate.scored_file_texts(results))
  run.write_results(results)  # last: done
  return block


def _scores_current(output_dir, results, chosen):
  return (provenance.stale_reason(results, settings=chosen) is None
          and os.path.exists(os.path.join(output_dir, rundir.SCORES_FILE))
          and os.path.isdir(os.path.join(output_dir, rundir.FIGURES_DIR)))


def _print_scores(block):
  print(f"scores of step {block['step']:,} (weights {block['weights']}) on {block['eval_on']}:")
  for kind, by_metric in block["metrics"].items():
    for metric, values in by_metric.items():
      head = names.HEADLINE.get(metric)
      text = values.get("error") or f"{head} = {values.get(head, float('nan')):.3f}"
      print(f"  {kind:<7}{metric:<12} {text}")


# Flags that define the model or its data: --eval_only refuses them (it scores the run as trained).
_MODEL_FLAGS = ("dataset", "model", "beta", "gamma", "seed", "steps", "dsprites_npz", "data_path",
                "gin_file", "overwrite", "no_eval")
_EVAL_PREFIXES = ("evaluation.", "eval_")


def _reconcile_saved(output_dir):
  try:
    results = rundir.RunDirectory(output_dir).read_results()
  except rundir.UnreadableFileError:
    return  # rebuilt from the checkpoint when the run is restored
  with rundir.RunLock(output_dir):
    _reconcile(output_dir, results)


def _reconcile(output_dir, results):
  """Make scores.csv and eval_config.gin agree with results.json, saying which files changed."""
  for name in rundir.RunDirectory(output_dir).reconcile(evaluate.scored_file_texts(results)):
    print(f"note: {name} disagreed with results.json (a scoring stopped before its end); "
          "rewritten from results.json")


def restore(output_dir: str | os.PathLike) -> tuple["autoencoder.Autoencoder", dict]:
  """The trained model of a run directory at its newest checkpoint (or, kept without checkpoints,
  from its weight files), configured from the run's own config.gin, and its results.json: for notebooks, and for `score.py --function`
  (`encode = restore(RUN)[0].representation_function`).

  Returns:
    (models.autoencoder.Autoencoder, results dict).
  """
  configure(parse_args([]), base_files=[_saved_config(output_dir)])
  return _restore_configured(output_dir, data_registry.make_dataset())


def _saved_config(output_dir):
  """The path of a finished run's config.gin; ValueError if it has none."""
  saved = os.path.join(output_dir, rundir.CONFIG_FILE)
  if not os.path.exists(saved):
    raise ValueError(f"{output_dir!r} holds no finished run ({saved} missing)")
  return saved


def _restore_configured(output_dir, data):
  """(model, results) of the run at its newest checkpoint, gin configured from its config."""
  train_kw = train_settings()
  return training.restore_run(output_dir, data, seed=train_kw["seed"],
                              batch_size=train_kw["batch_size"])


def check_eval_only_flags(args):
  """--eval_only needs --output_dir and takes no flag or binding that changes the model or data."""
  if not args.output_dir:
    raise ValueError("--eval_only needs --output_dir RUN")
  refused = [f"--{name}" for name in _MODEL_FLAGS if getattr(args, name) not in (None, False, [])]
  refused += [p for p in args.gin_param if not all(  # every line of a binding (gin reads many)
      line.strip().startswith(_EVAL_PREFIXES) for line in p.splitlines()
      if line.strip() and not line.strip().startswith("#")) or not p.strip()]
  if refused:
    raise ValueError(f"--eval_only scores the run as it was trained; {refused} would change its "
                     f"model or data (only --metrics, --eval_on, --representation and "
                     f"evaluation.*/eval_*.* bindings are accepted)")


def eval_only(args, progress):
  """Re-score a saved run with its own training config; evaluation settings from the run's
  eval_config.gin unless --metrics, --eval_on or evaluation/eval_* bindings override them."""
  check_eval_only_flags(args)
  saved = _saved_config(args.output_dir)
  _reconcile_saved(args.output_dir)  # so that eval_config.gin replays what results.json holds
  eval_config = os.path.join(args.output_dir, rundir.EVAL_CONFIG_FILE)
  configure(args, base_files=[saved] + ([eval_config] if os.path.exists(eval_config) else []))
  evaluate.settings()  # validate before loading anything
  data = data_registry.make_dataset()
  with rundir.RunLock(args.output_dir):
    model, results = _restore_configured(args.output_dir, data)
    print(f"scoring {args.output_dir}")
    return score_and_draw(model, data, args.output_dir, results, progress)


def train_and_score(args, data, model, output_dir, chosen, progress):
  """Train (or resume) the run in `output_dir`, then score it unless its scores are current."""
  model, results = training.train(output_dir, data, progress=progress, model=model)
  atomic_io.write_text(os.path.join(output_dir, rundir.CONFIG_FILE),
                       gin.operative_config_str())
  tr = results["training"]
  losses = tr["final_losses_last_100_steps"]
  def loss(k):  # None: not known over the whole window (a term logged since a resume)
    return float("nan") if losses.get(k) is None else losses[k]
  print(f"{results['model']} on {results['dataset']}: step {tr['step']:,}, "
        f"distortion {loss('distortion'):.2f}, {tr['rate_kind']} {loss('rate'):.3f}, "
        f"{tr['steps_per_s'] or 0:.1f} steps/s -> {output_dir}")
  _reconcile(output_dir, results)
  if args.no_eval:
    return
  if _scores_current(output_dir, results, chosen):
    print("scores are current for these weights and settings")
    _print_scores(results["scores"])
  else:
    _print_scores(score_and_draw(model, data, output_dir, results, progress))


def _message(error):
  """An exception's message without the 'In call to configurable ...' lines gin appends."""
  return str(error).split("\n  In call to configurable")[0]


def main(argv=None):
  gin_compat.install()  # first: gin 0.4.0 on Python 3.11 (gin_compat)
  args = parse_args(argv)
  try:
    check_command_line(args)
  except ValueError as e:
    print(f"error: {_message(e)}", file=sys.stderr)
    return 2
  load_tensorflow_modules()
  return run(args)


def run(args):
  """Train and score, or --eval_only, for a checked command line; the exit code."""
  progress = not args.no_progress
  try:
    device.set_threads(args.threads)
    device.warn_if_gpu_unused()
    if args.eval_only:
      _print_scores(eval_only(args, progress))
      return 0
    chosen, train_kw = validate(args)
    data = data_registry.make_dataset()
    if chosen is not None:
      evaluate.check_scorable(chosen, data)  # a metric the data cannot take fails before training
    model = autoencoder.Autoencoder(seed=train_kw["seed"],
                                    num_channels=data.observation_shape[-1])
    model.check_batch_size(train_kw["batch_size"])
    output_dir = args.output_dir or default_output_dir()
    with rundir.claim(output_dir, run_identity(data), args.overwrite):  # one writer per run
      train_and_score(args, data, model, output_dir, chosen, progress)
  except training.Interrupted as e:
    print(f"\n{_message(e)}", file=sys.stderr)
    return e.exit_code
  except RecursionError:  # gin calls a reference as it builds: @dataset() inside dataset.*
    print("error: bad gin configuration: a binding calls the configurable it configures (e.g. "
          "dataset.name = @dataset()), which never ends", file=sys.stderr)
    return 2
  except (ValueError, FileNotFoundError, RuntimeError, FloatingPointError) as e:
    print(f"error: {_message(e)}", file=sys.stderr)
    return 2
  except OSError as e:
    print(f"error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    return 130
  except Exception as e:  # noqa: BLE001  (TensorFlow's I/O errors, e.g. a full disk at a save)
    from echo_suite.quiet_tensorflow import tf
    if not isinstance(e, tf.errors.OpError):
      raise
    first = (e.message or str(e)).strip().splitlines()[0]
    print(f"error: {type(e).__name__}: {first}; the run keeps its last checkpoint: free space "
          "and run the same command to resume", file=sys.stderr)
    return 2
  return 0

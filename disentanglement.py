"""Train (and score) an Echo or beta-VAE autoencoder on dSprites or ds_corr.

    python disentanglement.py --dataset ds_corr --beta 2
    python disentanglement.py --model vae --gamma 10 --seed 3 --steps 20000
    python disentanglement.py --gin_file gin_configs/quick.gin --gin_param "model.d_max = 32"
    python disentanglement.py --eval_only --output_dir RUN [--metrics factor_vae mig dci]

Flags are sugar for gin bindings (applied after --gin_file, before --gin_param). The operative
config is saved as RUN/config.gin; a second call with the same RUN resumes from its checkpoint.
Every run ends with scoring (FactorVAE score and MIG by default, on the full dSprites) into
RUN/results.json and RUN/scores.csv, and figures into RUN/figures/; --no_eval skips it.
This module only wires dataset -> models -> metrics -> figures together.
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gin  # noqa: E402
import numpy as np  # noqa: E402

import atomic_io  # noqa: E402
import dataset  # noqa: E402
from figures import model_figures  # noqa: E402
from metrics import evaluate, scores  # noqa: E402  (registers the gin configurables)
from models import autoencoder, training  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GIN = os.path.join(ROOT, "gin_configs", "paper.gin")


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
  p.add_argument("--dataset", help=f"one of {list(dataset.DATASET_NAMES)} (default dsprites)")
  p.add_argument("--model", help=f"one of {list(autoencoder.MODEL_NAMES)} (default echo)")
  p.add_argument("--beta", type=float, help="weight of the rate (default 1)")
  p.add_argument("--gamma", "--tc_weight", dest="gamma", type=float,
                 help="weight of the FactorVAE total-correlation term (default 0)")
  p.add_argument("--seed", type=int, help="seed of weights, noise and data stream (default 0)")
  p.add_argument("--steps", type=int, help="gradient steps (paper: 300,000)")
  p.add_argument("--output_dir", help="run directory (default runs/DATASET_MODEL_bB_gG_sS)")
  p.add_argument("--dsprites_npz", help="official dSprites npz instead of the renderer")
  p.add_argument("--gin_file", action="append", default=[], help="gin file (repeatable)")
  p.add_argument("--gin_param", action="append", default=[], help='"name.arg = value" (repeatable)')
  p.add_argument("--no_eval", action="store_true", help="skip scoring after training")
  p.add_argument("--eval_only", action="store_true",
                 help="re-score the saved run in --output_dir (no training)")
  p.add_argument("--metrics", nargs="+",
                 help=f"metrics to score (default factor_vae mig): {list(scores.METRICS)}")
  p.add_argument("--eval_on", choices=evaluate.EVAL_SETS,
                 help="score on the 'full' dSprites (default, as the paper) or the 'kept' set")
  p.add_argument("--overwrite", action="store_true",
                 help="replace a run in --output_dir that has a different config")
  p.add_argument("--no_progress", action="store_true", help="no progress bar (for logs)")
  return p.parse_args(argv)


def flag_bindings(args):
  """The gin bindings that the convenience flags stand for."""
  pairs = [("dataset.name", args.dataset), ("dataset.dsprites_npz", args.dsprites_npz),
           ("model.name", args.model), ("model.beta", args.beta), ("model.gamma", args.gamma),
           ("train.seed", args.seed), ("train.steps", args.steps),
           ("evaluation.metrics", args.metrics), ("evaluation.eval_on", args.eval_on)]
  return [f"{k} = {v!r}" for k, v in pairs if v is not None]


def configure(args, base_files=(DEFAULT_GIN,)):
  """Parse gin files, flags and params; raise ValueError with the offending binding."""
  gin.clear_config()
  files = list(base_files) + args.gin_file
  for f in files:
    if not os.path.exists(f):
      raise ValueError(f"gin file not found: {f!r}")
  bindings = flag_bindings(args) + args.gin_param
  try:
    gin.parse_config_files_and_bindings(files, bindings)
  except (ValueError, KeyError, SyntaxError) as e:
    raise ValueError(f"bad gin configuration: {e}") from None


def default_output_dir():
  q = gin.query_parameter
  def get(name, default):
    try:
      return q(name)
    except ValueError:
      return default
  return os.path.join("runs", f"{get('dataset.name', 'dsprites')}_{get('model.name', 'echo')}_"
                      f"b{get('model.beta', 1.0):g}_g{get('model.gamma', 0.0):g}_"
                      f"s{get('train.seed', 0)}")


def _comparable(config_text):
  """Config lines that define a run (the step budget may grow when a run is extended)."""
  return sorted(line for line in config_text.splitlines()
                if line.strip() and not line.startswith("#")
                and not line.startswith(("train.steps", "evaluation.")))


def prepare_output_dir(output_dir, overwrite):
  """Create the run directory (emptied with --overwrite); refuse one holding a run of another
  config, and resume one of the same config."""
  requested = gin.config_str()
  path = os.path.join(output_dir, "requested_config.gin")
  if overwrite and os.path.exists(path):  # only ever delete what is recognisably a run
    shutil.rmtree(output_dir)
  elif os.path.exists(path):
    with open(path) as f:
      old = _comparable(f.read())
    if old != _comparable(requested):
      diff = sorted(set(old) ^ set(_comparable(requested)))
      raise ValueError(f"{output_dir!r} holds a run with a different config (differing lines: "
                       f"{diff}); choose another --output_dir or pass --overwrite")
  os.makedirs(output_dir, exist_ok=True)
  atomic_io.write_text(path, requested)


def score_and_draw(model, data, output_dir, progress=True):
  """Scores into results.json and scores.csv, figures into RUN/figures/; returns the scores."""
  results_path = os.path.join(output_dir, training.RESULTS_FILE)
  with open(results_path) as f:
    results = json.load(f)
  scored, table = evaluate.evaluate(model.representation_function, data, output_dir,
                                    progress=progress)
  results["scores"] = scored
  atomic_io.write_json(results_path, results)
  idx = table.indices[np.random.RandomState(0).randint(len(table.indices), size=8)]
  images = table.data.observations(idx)
  history_path = os.path.join(output_dir, "history.jsonl")
  model_figures.write_all(
      os.path.join(output_dir, "figures"), decode=model.decode, codes=table.codes,
      factors=table.data.factors_of(table.indices), sizes=table.data.factors_num_values,
      rates=results["rate_per_dim_nats"], min_rate=results["min_rate_per_dim_nats"],
      rate_kind="exact rate" if results["model"] == "echo" else "KL",
      images=images, recon=model.reconstruct(images),
      history=model_figures.read_history(history_path) if os.path.exists(history_path) else None,
      name=f"{results['model']} on {results['dataset']} (beta {results['beta']:g}, "
           f"gamma {results['gamma']:g})")
  return scored


def load_run(output_dir):
  """The trained model of a run directory, rebuilt from its parsed config.gin and weights."""
  model = autoencoder.Autoencoder(seed=gin.query_parameter("train.seed"))
  try:
    model.load_weights(output_dir)
  except (OSError, ValueError) as e:
    raise RuntimeError(f"cannot load the weights in {output_dir!r} ({e})") from e
  return model


def _print_scores(scored):
  for metric, values in scored.items():
    if metric == "eval_on":
      continue
    head = scores.HEADLINE.get(metric)
    text = values.get("error") or f"{head} = {values.get(head, float('nan')):.3f}"
    print(f"  {metric:<12} {text}")


def main(argv=None):
  args = parse_args(argv)
  progress = not args.no_progress
  try:
    if args.eval_only:
      if not args.output_dir:
        raise ValueError("--eval_only needs --output_dir RUN")
      saved = os.path.join(args.output_dir, training.CONFIG_FILE)
      if not os.path.exists(saved):
        raise ValueError(f"{args.output_dir!r} holds no finished run ({saved} missing)")
      configure(args, base_files=[saved])  # the run's own operative config, then the flags
      model = load_run(args.output_dir)
      print(f"scoring {args.output_dir}")
      _print_scores(score_and_draw(model, dataset.make_dataset(), args.output_dir, progress))
      return 0
    configure(args)
    output_dir = args.output_dir or default_output_dir()
    prepare_output_dir(output_dir, args.overwrite)
    data = dataset.make_dataset()
    model, results = training.train(output_dir, data, progress=progress)
    atomic_io.write_text(os.path.join(output_dir, training.CONFIG_FILE),
                         gin.operative_config_str())
    losses = results["final_losses_last_100_steps"]
    print(f"{results['model']} on {results['dataset']}: {results['steps']} steps, "
          f"distortion {losses.get('distortion', float('nan')):.2f}, "
          f"{results['rate_kind']} {losses.get('rate', float('nan')):.3f}, "
          f"{results['steps_per_s'] or 0:.1f} steps/s -> {output_dir}")
    if not args.no_eval:
      _print_scores(score_and_draw(model, data, output_dir, progress))
  except (ValueError, FileNotFoundError, RuntimeError, FloatingPointError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    return 130
  return 0


if __name__ == "__main__":
  sys.exit(main())

"""Score a representation: encode the evaluation set once into a code table (valid only for the
weights that made it), then run the chosen disentanglement_lib metrics on it, recording every
setting used."""
import csv
import os

import gin
import numpy as np

import atomic_io
from data.ground_truth import DSprites, RemovedCombinationError
import provenance
from metrics import code_table, scores

CODES_FILE = "codes.npz"
SCORES_FILE = "scores.csv"
EVAL_CONFIG_FILE = "eval_config.gin"
EVAL_SETS = ("full", "kept")
REPRESENTATIONS = ("mean", "sample")
NOISE_POOL = 64  # evaluation images each 'sample' call is encoded with: the public code's batch
# evaluate()'s arguments that do not change a score.
_NOT_SETTINGS = ("output_dir", "weights", "progress", "sample_codes")


def evaluation_data(train_data, eval_on):
  """The data scored: the full, independent dSprites (the paper's code, also for ds_corr models)
  or the training set itself ('kept')."""
  check_eval_on(eval_on)
  return DSprites(train_data.npz_path) if eval_on == "full" else train_data


def check_eval_on(eval_on):
  if eval_on not in EVAL_SETS:
    raise ValueError(f"unknown evaluation set {eval_on!r}; choose one of {list(EVAL_SETS)}")


def check_metric_names(names):
  if isinstance(names, str) or not all(isinstance(n, str) for n in names):
    raise ValueError(f"metrics={names!r} must be a list of names from {list(scores.METRICS)}")
  unknown = [n for n in names if n not in scores.METRICS]
  if unknown:
    raise ValueError(f"unknown metric(s) {unknown}; choose from {list(scores.METRICS)}")


def settings():
  """The effective evaluation settings under the current gin config (defaults included),
  validated; see `describe_settings`."""
  return describe_settings(**provenance.effective_kwargs(evaluate, "evaluation",
                                                         skip=_NOT_SETTINGS))


def describe_settings(eval_on, metrics, seed, representation="mean"):
  """Validate an evaluation and list every setting its scores depend on: evaluation.* and the
  eval_<metric>.* arguments of each chosen metric (gin bindings over defaults).

  Returns:
    {configurable: {argument: value}}, what results.json records and eval_config.gin replays.
  """
  metrics = list(metrics) if isinstance(metrics, (list, tuple)) else metrics
  check_metric_names(metrics)
  check_eval_on(eval_on)
  if isinstance(seed, bool) or not isinstance(seed, int):
    raise ValueError(f"evaluation.seed={seed!r} must be an integer")
  if representation not in REPRESENTATIONS:
    raise ValueError(f"unknown representation {representation!r}; choose one of "
                     f"{list(REPRESENTATIONS)}")
  out = {"evaluation": {"eval_on": eval_on, "metrics": metrics, "seed": seed,
                        "representation": representation}}
  for name in metrics:
    configurable = scores.CONFIGURABLE[name]
    kwargs = provenance.effective_kwargs(scores.METRICS[name], configurable)
    for arg, value in kwargs.items():
      if isinstance(value, (int, float)) and not isinstance(value, bool):
        provenance.check_finite_number(f"{configurable}.{arg}", value)
    out[configurable] = kwargs
  return out


def load_or_encode(representation_function, data, weights, path=None, progress=True):
  """The code table of `data` under the weights fingerprinted `weights`: read from `path` if it
  holds exactly that (same weights, data set and images), else encoded and written there.

  A table of other weights, or an unreadable one, is re-encoded (and said so)."""
  if path and os.path.exists(path) and weights is not None:
    try:
      table = code_table.load(path)
    except code_table.UnreadableTableError as e:
      print(f"note: {e}; encoding again")
    else:
      if (table["weights"] == weights and table["dataset"] == data.name
          and np.array_equal(table["indices"], data.kept_indices)):
        return table["codes"], table["indices"]
  codes = code_table.encode(representation_function, data, progress=progress)
  if path:
    code_table.save(path, codes, data.kept_indices, data.name, weights)
  return codes, data.kept_indices


@gin.configurable("evaluation", denylist=["representation_function", "train_data", "output_dir",
                                          "weights", "sample_codes"])
def evaluate(representation_function, train_data, output_dir=None, weights=None, eval_on="full",
             metrics=scores.DEFAULT_METRICS, seed=0, representation="mean", sample_codes=None,
             progress=True):
  """Scores of `representation_function` with disentanglement_lib's metrics, via a code table.

  Args:
    representation_function: images -> codes, numpy in and out.
    train_data: the data set the model was trained on.
    output_dir: where codes.npz goes (None: nowhere).
    weights: fingerprint of the weights behind `representation_function`; the cached code table
      is used only when it was made by these weights (None: always encode).
    eval_on: 'full' dSprites (default, as the paper's code) or 'kept' (the training set).
    metrics: names from metrics.scores.METRICS.
    seed: each metric gets a fresh RandomState(seed).
    representation: 'mean' scores the deterministic code (Gaussian mean, Echo's f(x)), as
      disentanglement_lib's 'mean' post-processing, through the code table; 'sample' scores the
      noisy code z, as the public Echo script did (its `get_layer('act')` is the sampled layer),
      on images: every call's images are encoded with NOISE_POOL random evaluation images, from
      which (with the call's own) Echo noise is drawn. Not cacheable; slower.
    sample_codes: (images, extra images, tf generator) -> noisy codes; needed for 'sample'.
    progress: show a progress bar while encoding.

  Returns:
    (scores block, CodeTableData): the block holds 'metrics' ({metric: {score: value}} or
    {"error": message}), 'eval_on', 'num_images', 'seed' and 'settings' (see `settings`).
  """
  chosen = describe_settings(eval_on, metrics, seed, representation)
  data = evaluation_data(train_data, eval_on)
  codes, indices = load_or_encode(
      representation_function, data, weights,
      os.path.join(output_dir, CODES_FILE) if output_dir else None, progress)
  table = code_table.CodeTableData(data, codes, indices)
  scored_data, scored_function = table, table.representation_function
  if representation == "sample":
    if sample_codes is None:
      raise ValueError("representation 'sample' needs the model's sample_codes")
    scored_data, scored_function = data, _sampled(sample_codes, data, seed)
  results = {}
  for name in metrics:
    try:
      values = scores.METRICS[name](scored_data, scored_function, np.random.RandomState(seed))
      results[name] = {k: float(v) for k, v in values.items()}
    except RemovedCombinationError as e:
      results[name] = {"error": f"{name} needs images of factor combinations that {data.name} "
                                f"removed, so it cannot be scored on the kept set; evaluate on "
                                f"the full dSprites (evaluation.eval_on = 'full'). "
                                f"({str(e).splitlines()[0]})"}
  block = {"metrics": results, "eval_on": data.name, "num_images": int(len(indices)),
           "seed": int(seed), "settings": chosen}
  return block, table


def _sampled(sample_codes, data, seed):
  """images -> noisy codes, the Echo noise of each call drawn with NOISE_POOL random images of
  `data`; seeded, so a re-score gives the same numbers."""
  import tensorflow as tf  # only the 'sample' path needs it
  generator = tf.random.Generator.from_seed(seed)
  rng = np.random.RandomState(seed + 1)
  return lambda images: sample_codes(images, data.sample_observations(NOISE_POOL, rng), generator)


def write_scores_csv(path, block):
  """One row per score with what produced it: metric, score, value (an unscorable metric: score
  'error', value its message), training step, weights fingerprint, evaluation set; atomic."""
  with atomic_io.atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["metric", "score", "value", "step", "weights", "eval_on", "seed"])
    for metric, values in block["metrics"].items():
      for key, value in values.items():
        writer.writerow([metric, key, value, block["step"], block["weights"], block["eval_on"],
                         block["seed"]])


def write_eval_config(path, chosen):
  """The evaluation settings as gin bindings, replayed by a later --eval_only."""
  header = "# Evaluation settings of this run's scores (replayed by --eval_only).\n"
  return atomic_io.write_text(path, header + "\n".join(provenance.as_gin_lines(chosen)) + "\n")

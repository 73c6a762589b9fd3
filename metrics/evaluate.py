"""Score a representation: encode the evaluation set once into a code table, then run the chosen
disentanglement_lib metrics on it."""
import csv
import os

import gin
import numpy as np

import atomic_io
import dataset as ds
from metrics import code_table, scores

CODES_FILE = "codes.npz"
SCORES_FILE = "scores.csv"
EVAL_SETS = ("full", "kept")


def evaluation_data(train_data, eval_on):
  """The data scored: the full, independent dSprites (the paper's code, also for ds_corr models)
  or the training set itself ('kept')."""
  if eval_on not in EVAL_SETS:
    raise ValueError(f"unknown evaluation set {eval_on!r}; choose one of {list(EVAL_SETS)}")
  return ds.DSprites(train_data.npz_path) if eval_on == "full" else train_data


def check_metric_names(names):
  unknown = [n for n in names if n not in scores.METRICS]
  if unknown:
    raise ValueError(f"unknown metric(s) {unknown}; choose from {list(scores.METRICS)}")


def load_or_encode(representation_function, data, path=None, progress=True):
  """The code table of `data`: read from `path` if it holds this data set's table, else encode
  every image and write it there."""
  if path and os.path.exists(path):
    codes, indices, name = code_table.load(path)
    if name == data.name and np.array_equal(indices, data.kept_indices):
      return codes, indices
  codes = code_table.encode(representation_function, data, progress=progress)
  if path:
    code_table.save(path, codes, data.kept_indices, data.name)
  return codes, data.kept_indices


@gin.configurable("evaluation", denylist=["representation_function", "train_data", "output_dir"])
def evaluate(representation_function, train_data, output_dir=None, eval_on="full",
             metrics=scores.DEFAULT_METRICS, seed=0, progress=True):
  """Scores of `representation_function` with disentanglement_lib's metrics, via a code table.

  Args:
    representation_function: images -> codes, numpy in and out.
    train_data: the data set the model was trained on.
    output_dir: where codes.npz and scores.csv go (None: nowhere).
    eval_on: 'full' dSprites (default, as the paper's code) or 'kept' (the training set).
    metrics: names from metrics.scores.METRICS.
    seed: each metric gets a fresh RandomState(seed).
    progress: show a progress bar while encoding.

  Returns:
    (scores dict {metric: {score: value} or {"error": message}}, CodeTableData).
  """
  metrics = list(metrics)
  check_metric_names(metrics)
  data = evaluation_data(train_data, eval_on)
  codes, indices = load_or_encode(
      representation_function, data,
      os.path.join(output_dir, CODES_FILE) if output_dir else None, progress)
  table = code_table.CodeTableData(data, codes, indices)
  results = {}
  for name in metrics:
    try:
      values = scores.METRICS[name](table, table.representation_function,
                                    np.random.RandomState(seed))
      results[name] = {k: float(v) for k, v in values.items()}
    except ds.RemovedCombinationError as e:
      results[name] = {"error": f"{name} needs images of factor combinations that {data.name} "
                                f"removed, so it cannot be scored on the kept set; evaluate on "
                                f"the full dSprites (evaluation.eval_on = 'full'). "
                                f"({str(e).splitlines()[0]})"}
  results["eval_on"] = {"dataset": data.name, "num_images": int(len(indices))}
  if output_dir:
    write_scores_csv(os.path.join(output_dir, SCORES_FILE), results)
  return results, table


def write_scores_csv(path, results):
  """metric,score,value rows (an unscorable metric: score 'error', value its message), atomic."""
  with atomic_io.atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["metric", "score", "value"])
    for metric, values in results.items():
      if metric == "eval_on":
        continue
      for key, value in values.items():
        writer.writerow([metric, key, value])

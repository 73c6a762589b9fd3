"""Score a representation: run the chosen disentanglement_lib metrics on a code table of the
evaluation set (each image encoded once, when a metric first draws it; valid only for the weights
that made it), recording every setting used."""
import csv
import inspect
import io
import os

import gin
import numpy as np
from tqdm import tqdm

from echo_suite import atomic_io
from echo_suite import checks
from echo_suite.data.ground_truth import RemovedCombinationError
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.metrics import code_table, names, scores
from echo_suite.metrics.names import EVAL_SETS, REPRESENTATIONS, check_metric_names  # noqa: F401

scores.library()  # disentanglement_lib's configurables exist before any config is parsed

# evaluate()'s arguments that do not change a score.
_NOT_SETTINGS = ("table_path", "weights", "progress", "sample_from_params")


def evaluation_data(train_data, eval_on):
  """The data scored: the full data set with independent factors the training set's images come
  from (the paper's code: dSprites, also for ds_corr models) or the training set itself
  ('kept')."""
  check_eval_on(eval_on)
  return train_data.independent() if eval_on == "full" else train_data


def check_scorable(chosen: provenance.EvaluationSettings, train_data):
  """RemovedCombinationError (a ValueError) before any work when a chosen metric cannot run on
  the evaluation set (metrics.scores.check_combinations: interventions into removed
  combinations)."""
  data = evaluation_data(train_data, chosen.eval_on)
  for name in chosen.metrics:
    scores.check_combinations(name, data)


def check_eval_on(eval_on):
  if eval_on not in EVAL_SETS:
    raise ValueError(f"unknown evaluation set {eval_on!r}; choose one of {list(EVAL_SETS)}")


def settings():
  """The effective evaluation settings under the current gin config (defaults included),
  validated; see `describe_settings`."""
  return describe_settings(**provenance.effective_kwargs(evaluate, "evaluation",
                                                         skip=_NOT_SETTINGS))


def representations(representation):
  """'mean', 'sample' or a list of them -> the list, in order, without repeats; ValueError
  naming the value otherwise."""
  names = [representation] if isinstance(representation, str) else representation
  if (not isinstance(names, (list, tuple)) or not names
      or not all(isinstance(n, str) and n in REPRESENTATIONS for n in names)):
    raise ValueError(f"representation={representation!r}: choose {list(REPRESENTATIONS)} or a "
                     f"list of them")
  return list(dict.fromkeys(names))


def describe_settings(eval_on, metrics, seed,
                      representation="mean") -> provenance.EvaluationSettings:
  """Validate an evaluation and list every setting its scores depend on: evaluation.* and the
  eval_<metric>.* arguments of each chosen metric (gin bindings over defaults).

  Returns:
    provenance.EvaluationSettings (its `as_gin()` is what results.json records and
    eval_config.gin replays).
  """
  metrics = list(metrics) if isinstance(metrics, (list, tuple)) else metrics
  check_metric_names(metrics)
  check_eval_on(eval_on)
  if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
    raise ValueError(f"evaluation.seed={seed!r} must be an integer in [0, 2**32 - 1] (numpy's "
                     "RandomState seeds)")
  wanted = representations(representation)
  metric_settings = {}
  for name in metrics:
    configurable = names.CONFIGURABLE[name]
    kwargs = provenance.effective_kwargs(scores.METRICS[name].function, configurable)
    for arg, value in kwargs.items():
      if arg == "batch_size" or arg.startswith("num_"):  # counts of points, votes or bins
        counts = list(value) if isinstance(value, (list, tuple)) else [value]
        if not counts:
          raise ValueError(f"{configurable}.{arg}={value!r} must name at least one count")
        for count in counts:
          checks.check_count(f"{configurable}.{arg}", count)
      elif isinstance(value, (int, float)) and not isinstance(value, bool):
        checks.check_number(f"{configurable}.{arg}", value)
    metric_settings[configurable] = kwargs
  return provenance.EvaluationSettings(eval_on, tuple(metrics), seed, tuple(wanted),
                                       metric_settings)


def departures(chosen: provenance.EvaluationSettings):
  """The metric settings in `chosen` that differ from the paper's (the
  defaults of metrics.scores, the public Echo code's settings): {'configurable.arg': {'value': v,
  'paper': default}}."""
  out = {}
  for name in chosen.metrics:
    configurable = names.CONFIGURABLE[name]
    parameters = inspect.signature(scores.METRICS[name].function).parameters
    defaults = {k: p.default for k, p in parameters.items()
                if p.default is not inspect.Parameter.empty}
    for arg, value in chosen.metric_settings.get(configurable, {}).items():
      if arg in defaults and value != defaults[arg]:
        out[f"{configurable}.{arg}"] = {"value": value, "paper": defaults[arg]}
  return out


def load_table(representation_function, data, weights, path=None, need_scales=False):
  """The code table of `data` under the weights fingerprinted `weights`, filling itself with
  `representation_function`: it starts from the table saved at `path` when that holds exactly
  these weights and data set (and log scales when `need_scales`), else empty. A table of other
  weights, or an unreadable one, is dropped (and said so). The run's owner writes what it grew to
  (rundir.RunDirectory.write_code_table of code_table.arrays_of, when `encoded_now`).

  Returns:
    metrics.code_table.CodeTableData.
  """
  if path and os.path.exists(path) and weights is not None:
    try:
      saved = code_table.load(path)
    except code_table.UnreadableTableError as e:
      print(f"note: {e}; encoding again")
    else:
      if (saved["weights"] == weights and saved["dataset"] == data.name
          and np.all(data.keeps(saved["indices"]))
          and (saved["log_scales"] is not None or not need_scales)):
        return code_table.CodeTableData(data, saved["codes"], saved["indices"],
                                        saved["log_scales"], encode=representation_function)
  return code_table.CodeTableData(data, np.zeros((0, 0), np.float32), [],
                                  encode=representation_function)


@gin.configurable("evaluation", denylist=["representation_function", "train_data", "table_path",
                                          "weights", "sample_from_params"])
def evaluate(representation_function, train_data, table_path=None, weights=None, eval_on="full",
             metrics=names.DEFAULT_METRICS, seed=0, representation="mean",
             sample_from_params=None, progress=True):
  """Scores of `representation_function` with disentanglement_lib's metrics, via a code table.

  Args:
    representation_function: images -> codes, or -> (codes, log noise scales) (a model's
      `channel_params_function`, needed for 'sample'); numpy in and out.
    train_data: the data set the model was trained on.
    table_path: a saved code table to start from (read only; None: none). The caller saves the
      returned table when it encoded anything (`table.encoded_now`).
    weights: fingerprint of the weights behind `representation_function`; the cached code table
      is used only when it was made by these weights (None: always encode).
    eval_on: 'full' dSprites (default, as the paper's code) or 'kept' (the training set).
    metrics: names from metrics.scores.METRICS.
    seed: each metric gets a fresh RandomState(seed).
    representation: 'mean', 'sample' or a list of both, each scored on the same code table.
      'mean' scores the deterministic code (Gaussian mean, Echo's f(x)), as disentanglement_lib's
      'mean' post-processing; 'sample' the noisy code z, as the public Echo script did (its
      `get_layer('act')` is the sampled layer), drawn from the table's codes and log noise scales:
      every call's examples are joined by code_table.NOISE_POOL random evaluation examples, from
      which (with the call's own) Echo noise is drawn; seeded by `seed`.
    sample_from_params: the model's `sample_from_params`; needed for 'sample'.
    progress: show a progress bar while encoding.

  Returns:
    (scores block, CodeTableData): the block holds 'metrics' ({representation: {metric:
    {score: value} or {"error": message}}}), 'eval_on', 'num_images', 'seed' and 'settings'
    (see `settings`).
  """
  chosen = describe_settings(eval_on, metrics, seed, representation)
  if "sample" in chosen.representations and sample_from_params is None:
    raise ValueError("representation 'sample' needs a model's channel (sample_from_params)")
  check_scorable(chosen, train_data)
  data = evaluation_data(train_data, eval_on)
  table = load_table(representation_function, data, weights, table_path,
                     need_scales="sample" in chosen.representations)
  block = score_table(table, chosen, sample_from_params, progress)
  return block, table


def score_table(table: code_table.CodeTableData, chosen: provenance.EvaluationSettings,
                sample_from_params=None, progress=True) -> provenance.ScoresBlock:
  """Score a code table (metrics.code_table.CodeTableData) with the settings `chosen` (see
  `describe_settings`; they must be the live gin config's); notes departures from the paper's.

  Returns:
    the scores block: 'metrics' ({representation: {metric: {score: value} or {"error":
    message}}}), 'eval_on', 'num_images', 'seed', 'settings', 'departures_from_paper'.
  """
  wanted, metrics, seed, data = chosen.representations, chosen.metrics, chosen.seed, table.data
  departed = departures(chosen)
  if departed:
    print("note: scoring with settings that depart from the paper's: " + ", ".join(
        provenance.metric_departure_lines(departed)))
  results = {kind: {} for kind in wanted}
  with tqdm([(k, m) for k in wanted for m in metrics], disable=not progress, unit="metric",
            desc="scoring") as bar:
    for kind, name in bar:
      encoded = len(table.indices)  # the table fills as the metrics draw images
      bar.set_postfix_str(f"{name} ({kind} code)" + (f", {encoded:,} images encoded so far"
                                                     if encoded else ", encoding as it draws"))
      function = (table.representation_function if kind == "mean" else
                  table.sampled_representation_function(sample_from_params, seed))
      results[kind][name] = _score(name, table, function, seed, data)
      bar.set_postfix_str(f"{name} ({kind} code) done, {len(table.indices):,} images encoded")
  return {"metrics": results, "eval_on": data.name, "num_images": int(len(data.kept_indices)),
          "seed": int(seed), "settings": chosen.as_gin(), "departures_from_paper": departed}


def _score(name, table, function, seed, data):
  """{score: value} of one metric, or {"error": message} when it cannot be scored."""
  try:
    values = scores.METRICS[name].function(table, function, np.random.RandomState(seed))
    return {k: float(v) for k, v in values.items()}
  except scores.UndefinedScore as e:
    return {"error": str(e).split("\n  In call to configurable")[0]}  # gin appends its call
  except RemovedCombinationError as e:
    return {"error": f"{name} needs images of factor combinations that {data.name} removed, so "
                     f"it cannot be scored on the kept set; evaluate on the full dSprites "
                     f"(evaluation.eval_on = 'full'). ({str(e).splitlines()[0]})"}


def scores_csv_text(block):
  """scores.csv of a scores block: one row per score with what produced it: representation,
  metric, score, value (an unscorable metric: score 'error', value its message), training step,
  weights fingerprint, evaluation set, seed. The block as results.json holds it (sorted keys),
  so the text is the same whether the block comes from a scoring or from the file."""
  block = atomic_io.as_saved(block)
  f = io.StringIO()
  writer = csv.writer(f)
  writer.writerow(["representation", "metric", "score", "value", "step", "weights", "eval_on",
                   "seed"])
  for kind, by_metric in block["metrics"].items():
    for metric, values in by_metric.items():
      for key, value in values.items():
        writer.writerow([kind, metric, key, value, block["step"], block["weights"],
                         block["eval_on"], block["seed"]])
  return f.getvalue()


def eval_config_text(chosen: provenance.Settings):
  """eval_config.gin of evaluation settings as recorded (`EvaluationSettings.as_gin()`): gin
  bindings a later --eval_only replays."""
  header = "# Evaluation settings of this run's scores (replayed by --eval_only).\n"
  return header + "\n".join(provenance.as_gin_lines(chosen)) + "\n"


def scored_file_texts(results):
  """What scores.csv and eval_config.gin must say for results.json's scores block: {name: text,
  or None for a file that must not exist}. Without a block, no scores.csv (eval_config.gin then
  keeps the settings last asked for); for a block of an older version, nothing (it is rescored
  before anything reads these files). The run's owner writes them (rundir.RunDirectory
  .write_files after a scoring, .reconcile when results.json, written last, is behind them)."""
  block = (results or {}).get("scores")
  if block and not provenance.current_format(block):
    return {}
  if not block:
    return {rundir.SCORES_FILE: None}
  return {rundir.SCORES_FILE: scores_csv_text(block),
          rundir.EVAL_CONFIG_FILE: eval_config_text(block["settings"])}

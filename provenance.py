"""Provenance of every number a run writes: the effective configuration (gin bindings over the
functions' defaults), a fingerprint of the weights, and the test of whether a run's scores still
belong to its trained weights. Imports only the standard library, numpy and gin, so the sweep and
aggregation scripts can use it without TensorFlow.
"""
import dataclasses
import hashlib
import inspect
import json
from collections.abc import Mapping
from typing import TypedDict

import gin
import gin.config_parser
import numpy as np

from echo_suite import atomic_io



def effective_kwargs(fn, configurable, skip=()):
  """The keyword arguments gin would pass to `fn` registered as `configurable`: each bound value,
  else the signature's default. Arguments without a default, `self` and `skip` are left out.

  Args:
    fn: the (gin-wrapped) function or class `__init__`.
    configurable: its gin name, e.g. 'model'.
    skip: argument names to leave out (e.g. a progress flag that does not change a result).

  Returns:
    dict name -> value, in signature order.
  """
  out = {}
  for name, param in inspect.signature(fn).parameters.items():
    if name in skip or name == "self" or param.default is inspect.Parameter.empty:
      continue
    try:
      out[name] = gin.query_parameter(f"{configurable}.{name}")
    except ValueError:  # not bound: the default applies
      out[name] = param.default
  return out


def operative_bindings():
  """{configurable name: {arg: value}} of every configurable gin has called since the config was
  last cleared, defaults included (gin's operative config, as data; 'scope/name' when scoped).
  gin 0.4.0 keeps it in a private dict and offers it only as text."""
  with gin.config._OPERATIVE_CONFIG_LOCK:
    items = list(gin.config._OPERATIVE_CONFIG.items())
  out = {}
  for (scope, selector), kwargs in items:
    name = selector.rsplit(".", 1)[-1] if "." in selector else selector
    out[f"{scope}/{name}" if scope else name] = dict(kwargs)
  return out


class _TextDelegate(gin.config_parser.ParserDelegate):
  """Parse references and macros of a saved config as their text (nothing to resolve)."""

  def configurable_reference(self, scoped_configurable_name, evaluate):
    return f"@{scoped_configurable_name}{'()' if evaluate else ''}"

  def macro(self, macro_name):
    return f"%{macro_name}"


def read_identity(run_dir):
  """A run's identity lines (rundir.read_identity) and their bindings.

  Raises:
    ValueError: naming the file, when it is not UTF-8 or not gin.
  """
  from echo_suite import rundir  # only here: rundir imports nothing of the suite's maths
  try:
    lines = rundir.read_identity(run_dir)
    return lines, saved_bindings("\n".join(lines))
  except (ValueError, SyntaxError, TypeError) as e:
    raise ValueError(f"{rundir.RUN_CONFIG} is unreadable ({type(e).__name__}: {e})") from None


def departures(identity, reference):
  """The bindings of `reference` ({'configurable.arg': value}, e.g. gin_configs/paper.gin's
  saved_bindings) that a run's identity lines (rundir.read_identity) set to another value, as
  'name = value' lines, sorted. An identity leaves out the budget (train.steps, checkpointing),
  so a budget never counts as a departure."""
  bindings = saved_bindings("\n".join(identity))
  return [f"{k} = {bindings[k]!r}" for k, v in sorted(reference.items())
          if k in bindings and bindings[k] != v]


def metric_departure_lines(departed):
  """A scores block's `departures_from_paper` ({'eval_x.arg': {'value': v, 'paper': p}}) as
  'eval_x.arg = v (paper p)' lines, in its order: how the suite words them everywhere."""
  return tuple(f"{k} = {v['value']!r} (paper {v.get('paper')!r})" for k, v in departed.items())


def saved_bindings(config_text):
  """{'configurable.arg': value} of a saved gin config (config.gin, results.json's 'config'),
  parsed by gin's own parser without registering anything (no TensorFlow needed); later bindings
  win, as in gin. The saved counterpart of `effective_kwargs`, which reads the live config."""
  out = {}
  parser = gin.config_parser.ConfigParser(config_text, _TextDelegate())
  for statement in parser:
    if isinstance(statement, gin.config_parser.BindingStatement):
      name = statement.selector.rsplit(".", 1)[-1]
      scope = f"{statement.scope}/" if statement.scope else ""
      out[f"{scope}{name}.{statement.arg_name}"] = statement.value
  return out


def as_gin_lines(groups):
  """{configurable: {arg: value}} -> sorted 'configurable.arg = value' lines that gin parses."""
  lines = []
  for configurable, kwargs in groups.items():
    for name, value in kwargs.items():
      if isinstance(value, tuple):
        value = list(value)
      lines.append(f"{configurable}.{name} = {value!r}")
  return sorted(lines)


def fingerprint(arrays):
  """A short SHA-256 of a sequence of arrays (values, shapes and dtypes), e.g. a model's weights:
  equal fingerprints mean equal weights."""
  h = hashlib.sha256()
  for a in arrays:
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
  return h.hexdigest()[:16]


# Evaluation settings as scores record them: {configurable: {argument: value}}, e.g.
# {'evaluation': {'metrics': ['mig'], ...}, 'eval_mig': {'num_train': 10000, ...}}.
Settings = dict[str, dict[str, object]]


@dataclasses.dataclass(frozen=True)
class EvaluationSettings:
  """Every setting an evaluation's scores depend on (metrics.evaluate.describe_settings makes
  them, validated): evaluation.* and the eval_<metric>.* arguments of each chosen metric.

  Attributes:
    eval_on: the evaluation set ('full' or 'kept').
    metrics: the metric names, in order.
    seed: each metric's RandomState seed.
    representations: the codes scored ('mean', 'sample'), in order.
    metric_settings: {eval_<metric>: {argument: value}} (gin bindings over defaults).
  """
  eval_on: str
  metrics: tuple[str, ...]
  seed: int
  representations: tuple[str, ...]
  metric_settings: Mapping[str, Mapping[str, object]]

  def as_gin(self) -> Settings:
    """{configurable: {argument: value}}: what results.json records and eval_config.gin replays."""
    return {"evaluation": {"eval_on": self.eval_on, "metrics": list(self.metrics),
                           "seed": self.seed, "representation": list(self.representations)},
            **{k: dict(v) for k, v in self.metric_settings.items()}}


class ScoresBlock(TypedDict, total=False):
  """A scores block (results.json's 'scores'; what `metrics.external.score` returns): the scores
  and everything that produced them. JSON as saved, so a dict; these are its keys."""
  step: int | None  # the training step of the weights scored (None: not a suite run)
  weights: str | None  # their fingerprint, or 'codes:<fingerprint>' for scored codes
  metrics: dict[str, dict[str, dict[str, object]]]  # {representation: {metric: {score: value}}}
  eval_on: str  # the evaluation set's name
  num_images: int
  seed: int
  settings: Settings
  departures_from_paper: dict[str, dict[str, object]]
  device: dict[str, object]
  digest: str  # `seal`'s SHA-256 of the rest


def stale_reason(results, steps=None, metrics=None, settings=None):
  """Why the scores in `results` cannot be reported as those of its trained model, or None.

  Args:
    results: a results.json dict (training and scores blocks).
    steps: the step budget the run was asked for (None: any).
    metrics: metric names that must be present (None: any).
    settings: EvaluationSettings the scores must have been computed with (None: any).

  Returns:
    None when current, else a short reason.
  """
  training, scored = results.get("training") or {}, results.get("scores")
  if steps is not None and training.get("step") != steps:
    return f"trained {training.get('step')} of {steps} steps"
  if not scored:
    return "not scored"
  if (scored.get("step"), scored.get("weights")) != (training.get("step"), training.get("weights")):
    return (f"scores are of step {scored.get('step')} (weights {scored.get('weights')}), the model "
            f"is at step {training.get('step')} (weights {training.get('weights')})")
  if not current_format(scored):
    return "scores of an older format (not per representation)"
  by_kind = scored["metrics"]
  missing = sorted(set(metrics or ()) - set.intersection(*(set(v) for v in by_kind.values())))
  if missing:
    return f"metrics {missing} not scored"
  if settings is not None and \
      scored.get("settings") != json.loads(json.dumps(settings.as_gin())):
    return "scored with other evaluation settings"
  return seal_problem(scored)


DIGEST_KEY = "digest"  # of a scores block: the SHA-256 of everything else it records


def _scores_digest(block):
  content = {k: v for k, v in block.items() if k != DIGEST_KEY}
  text = json.dumps(content, sort_keys=True, default=float)
  return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def scores_block(scored, step, weights, device_record) -> ScoresBlock:
  """The scores block results.json keeps: a scoring's block (metrics, settings, evaluation set;
  metrics.evaluate.score_table) with what was scored (the weights at `step`; step None and
  weights 'codes:<fingerprint>' for codes scored by score.py) and where, sealed (`seal`)."""
  return seal({"step": step, "weights": weights, **scored, "device": device_record})


def seal(block: ScoresBlock) -> ScoresBlock:
  """A scores block as its file will hold it, with the digest of its content: a reader checks a
  block against it (`seal_problem`), so a score edited after scoring is never reported."""
  content = atomic_io.as_saved({k: v for k, v in block.items() if k != DIGEST_KEY})
  return {**content, DIGEST_KEY: _scores_digest(content)}


def _real(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool) and \
      bool(np.isfinite(value))


def results_problem(results, headline):
  """What in a results.json dict is not as this suite writes it, in a few words, or None: the
  fields its readers (aggregate, the report) take as given. A hand-edited or foreign file is
  refused by them with this reason instead of breaking them.

  Args:
    results: a results.json dict (RunDirectory.read_results).
    headline: {metric: the key of its headline score} (metrics.names.HEADLINE).
  """
  for key in ("model", "dataset"):
    if key in results and not isinstance(results[key], str):
      return f"{key} is {results[key]!r}, not a name"
  for key in ("beta", "gamma"):
    if key in results and not _real(results[key]):
      return f"{key} is {results[key]!r}, not a finite number"
  if "seed" in results and not (isinstance(results["seed"], int)
                                and not isinstance(results["seed"], bool)):
    return f"seed is {results['seed']!r}, not an integer"
  training = results.get("training")
  if not isinstance(training, dict):
    return "no training block"
  step = training.get("step")
  if not (isinstance(step, int) and not isinstance(step, bool) and step >= 0):
    return f"training step is {step!r}, not a count of steps"
  for key, kind in (("weights", str), ("device", dict), ("final_losses_last_100_steps", dict)):
    if key in training and not isinstance(training[key], kind):
      return f"training {key} is {training[key]!r}"
  scores = results.get("scores")
  if scores is None:
    return None
  if not isinstance(scores, dict) or not isinstance(scores.get("metrics", {}), dict):
    return "the scores block is not one this suite writes"
  for key, kind in (("settings", dict), ("departures_from_paper", dict), ("device", dict)):
    if key in scores and not isinstance(scores[key], kind):
      return f"scores {key} is {scores[key]!r}"
  if not all(isinstance(v, dict) for v in scores.get("departures_from_paper", {}).values()):
    return "scores departures_from_paper is not one this suite writes"
  for code, by_metric in scores.get("metrics", {}).items():
    if not isinstance(by_metric, dict):
      return f"the {code} scores are {by_metric!r}"
    for metric, scored in by_metric.items():
      if not isinstance(scored, dict):
        return f"the {code} {metric} score is {scored!r}"
      value = scored.get(headline.get(metric, ""))
      if "error" not in scored and value is not None and not _real(value):
        return f"the {code} {metric} score is {value!r}, not a finite number"
  return None


def seal_problem(block):
  """Why a scores block does not match the digest written with it, or None."""
  if DIGEST_KEY not in block:
    return "scores carry no digest (scored by an older version): rescore with --eval_only"
  if block[DIGEST_KEY] != _scores_digest(block):
    return "scores differ from the digest written with them (edited after scoring?)"
  return None


def current_format(scores_block):
  """Whether a scores block has today's layout, metrics[representation][metric] = {score: value}
  (versions before the sampled code kept metrics[metric])."""
  by_kind = (scores_block or {}).get("metrics")
  return bool(by_kind) and isinstance(by_kind, dict) and all(
      isinstance(v, dict) and all(isinstance(m, dict) for m in v.values())
      for v in by_kind.values())


def gin_error_line(error):
  """A gin error in one line: its type and message and the statement it is about ('In bindings
  string line 2' / 'In file ..., line 3', followed by the text), without gin's 'In call to'
  notes."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  message = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
  for i, line in enumerate(lines[1:], 1):
    if line.startswith("In bindings string") or line.startswith("In file"):
      text = lines[i + 1] if i + 1 < len(lines) else ""
      return f"{message} ({line[3:]}: {text!r})"
  return message



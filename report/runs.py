"""Every run directory below a runs folder as the sweep report shows it: its settings, where it
stands (`STATES`), its scores only when they belong to its weights, and its figures.

Reads through rundir and provenance and writes nothing: a report never touches a run.
"""
import dataclasses
import functools
import os

from echo_suite import device
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.figures import model_figures
from echo_suite.metrics import names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER_GIN = os.path.join(ROOT, "gin_configs", "paper.gin")  # the paper's training settings

# Where a run stands, each in one word; only a 'scored' run shows scores and figures.
SCORED, TRAINING, STOPPED, NOT_SCORED, STALE, REFUSED = (
    "scored", "training", "stopped", "not scored", "stale", "refused")
STATES = (SCORED, TRAINING, STOPPED, NOT_SCORED, STALE, REFUSED)
UNDEFINED = "undefined"  # a score its metric could not give (e.g. a collapsed code)
_IDENTITY_KEYS = {"model": "model.name", "dataset": "dataset.name", "beta": "model.beta",
                  "gamma": "model.gamma", "seed": "train.seed"}


@dataclasses.dataclass(frozen=True)
class RunView:
  """One run directory as the report shows it.

  Attributes:
    name: its path below the runs folder. path: its absolute path.
    state: one of STATES. detail: why, in a sentence.
    model, dataset, beta, gamma, seed: its settings (None where neither its results nor its
      identity say).
    variant: the model told apart where runs of one name differ (Echo's f), e.g. 'echo'.
    steps: the step its weights are at (or its history reached, before any results).
    weights: the weights' fingerprint ('' before any).
    scores: {code: {metric: value or UNDEFINED}}, empty unless state is SCORED.
    identity: its run_config.gin lines (the settings that make the run).
    evaluation: the evaluation settings of its scores ({} without scores).
    departures: its training settings that differ from gin_configs/paper.gin and its metric
      settings that differ from the paper's, as 'name = value' lines.
    figures: (file name in figures/, caption) of the figures present, when state is SCORED.
    device: where it trained, and where it was scored.
  """
  name: str
  path: str
  state: str
  detail: str
  model: str | None = None
  dataset: str | None = None
  beta: float | None = None
  gamma: float | None = None
  seed: int | None = None
  variant: str | None = None
  steps: int = 0
  weights: str = ""
  scores: dict = dataclasses.field(default_factory=dict)
  identity: tuple = ()
  evaluation: dict = dataclasses.field(default_factory=dict)
  departures: tuple = ()
  figures: tuple = ()
  device: str = ""


@functools.lru_cache(maxsize=1)
def paper_bindings():
  """gin_configs/paper.gin's bindings: the paper's training settings."""
  with open(PAPER_GIN) as f:
    return provenance.saved_bindings(f.read())


def find_run_dirs(runs_dir):
  """Every run directory below `runs_dir` (marked by rundir.RUN_CONFIG), sorted; a run's own
  folders (checkpoints, figures) are not searched."""
  found = []
  for folder, subfolders, _ in os.walk(runs_dir):
    if rundir.is_run_dir(folder):
      found.append(folder)
      subfolders[:] = []
    else:
      subfolders.sort()
  return sorted(found)


def _text(value):
  return value if isinstance(value, str) else None


def _number(value, kind):
  try:
    return None if value is None or isinstance(value, (str, bool)) else kind(value)
  except (TypeError, ValueError, OverflowError):
    return None


def _scores(by_code):
  """{code: {metric: headline value or UNDEFINED}} of a results.json scores block."""
  out = {}
  for code, by_metric in by_code.items():
    out[code] = {}
    for metric, scored in by_metric.items():
      if not isinstance(scored, dict):
        continue
      value = scored.get(names.HEADLINE.get(metric, ""))
      out[code][metric] = UNDEFINED if "error" in scored or value is None else float(value)
  return out


def _variant(model, identity_bindings):
  f = identity_bindings.get("model.f_param", "public")
  return model if model != "echo" or f in (None, "public") else f"echo ({f} f)"


def read_run(run_dir, runs_dir):
  """The RunView of one run directory: never raises for what a run holds (an unreadable file
  makes it REFUSED, with the reason)."""
  directory = rundir.RunDirectory(run_dir)
  name = os.path.relpath(run_dir, runs_dir)
  logged = rundir.steps_done(run_dir)
  try:
    identity, bindings = provenance.read_identity(run_dir)
  except ValueError as e:  # not UTF-8, or not gin
    return RunView(name=name, path=os.path.abspath(run_dir), state=REFUSED, steps=logged,
                   detail=str(e))
  identity = tuple(identity)
  settings = {key: bindings.get(binding) for key, binding in _IDENTITY_KEYS.items()}
  holder = rundir.lock_holder(run_dir)
  base = dict(name=name, path=os.path.abspath(run_dir), identity=identity,
              model=_text(settings["model"]), dataset=_text(settings["dataset"]),
              beta=_number(settings["beta"], float), gamma=_number(settings["gamma"], float),
              seed=_number(settings["seed"], int), steps=logged,
              departures=tuple(provenance.departures(identity, paper_bindings())))
  base["variant"] = _variant(base["model"], bindings) if base["model"] else None
  try:
    results = directory.read_results()
  except rundir.UnreadableFileError as e:
    return RunView(state=REFUSED, detail=str(e), **base)
  if holder is not None:
    return RunView(state=TRAINING, detail=f"a process (pid {holder}) is working in it: training "
                   f"or scoring; its history is at step {logged:,}", **base)
  if results is None:
    detail = (f"stopped at step {logged:,} before finishing (no {rundir.RESULTS_FILE}); the same "
              "command resumes it" if logged else "not started")
    return RunView(state=STOPPED, detail=detail, **base)
  problem = provenance.results_problem(results, names.HEADLINE)
  if problem:
    return RunView(state=REFUSED, detail=f"{rundir.RESULTS_FILE} refused: {problem}", **base)
  training = results["training"]
  base.update(model=results.get("model", base["model"]),
              dataset=results.get("dataset", base["dataset"]),
              beta=_number(results.get("beta", base["beta"]), float),
              gamma=_number(results.get("gamma", base["gamma"]), float),
              seed=_number(results.get("seed", base["seed"]), int),
              steps=int(training.get("step") or 0), weights=str(training.get("weights") or ""),
              device=f"trained on {device.trained_and_scored(results)}")
  base["variant"] = _variant(base["model"], bindings) if base["model"] else None
  scored = results.get("scores") or {}
  reason = provenance.stale_reason(results)
  if reason == "not scored":
    return RunView(state=NOT_SCORED, detail=f"trained to step {base['steps']:,}; not scored "
                   "yet (score.py or the same training command scores it)", **base)
  if reason and scored and provenance.seal_problem(scored):
    return RunView(state=REFUSED, detail=f"scores refused: {reason}", **base)
  if reason:
    return RunView(state=STALE, detail=f"scores not shown: {reason}", **base)
  metric_departures = provenance.metric_departure_lines(
      dict(sorted(scored.get("departures_from_paper", {}).items())))
  ahead = (f"; its history runs on to step {logged:,} (a longer run was started)"
           if logged > base["steps"] else "")
  figures_dir = directory.file(rundir.FIGURES_DIR)
  figures = tuple((f, caption) for f, caption in model_figures.RUN_FIGURES.items()
                  if os.path.isfile(os.path.join(figures_dir, f)))
  base["departures"] = base["departures"] + metric_departures
  return RunView(state=SCORED, detail=f"scores of its weights at step {base['steps']:,}{ahead}",
                 scores=_scores(scored["metrics"]), evaluation=scored.get("settings") or {},
                 figures=figures, **base)


def read_runs(runs_dir):
  """RunView of every run directory below `runs_dir`."""
  return [read_run(d, runs_dir) for d in find_run_dirs(runs_dir)]

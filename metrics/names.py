"""The scoring vocabulary: which metrics exist (read from metrics/scores.py's registry, where each
is declared once), which evaluation sets and codes are scored, and the checks of those names.
Imports neither TensorFlow nor disentanglement_lib, so scripts can name metrics without them."""
from echo_suite.metrics.scores import METRICS

METRIC_NAMES = tuple(METRICS)
DEFAULT_METRICS = ("factor_vae", "mig")
EVAL_SETS = ("full", "kept")  # the full, independent dSprites (the paper's) or the training set
REPRESENTATIONS = ("mean", "sample")  # the deterministic code or the noisy code z
# Views of the registry: each metric's gin name, the score quoted for it, and its label.
CONFIGURABLE = {m.name: m.configurable for m in METRICS.values()}
HEADLINE = {m.name: m.headline for m in METRICS.values()}
DISPLAY = {m.name: m.display for m in METRICS.values()}


def check_metric_names(metrics):
  """ValueError naming the bad value unless `metrics` is a list of names from METRIC_NAMES."""
  if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) or \
      not all(isinstance(n, str) for n in metrics):
    raise ValueError(f"metrics={metrics!r} must be a list of names from {list(METRIC_NAMES)}")
  unknown = [n for n in metrics if n not in METRIC_NAMES]
  if unknown:
    raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRIC_NAMES)}")

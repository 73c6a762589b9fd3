"""Disentanglement scores from disentanglement_lib's own metric functions, one wrapper per metric
with the public Echo code's settings as gin-configurable defaults (paper_facts.md, App. E).

Every wrapper takes (ground_truth_data, representation_function, random_state) like
disentanglement_lib and returns its dict of scores; the wrappers only supply the settings that
disentanglement_lib leaves to gin (discretiser, pruning threshold).

Adding a metric is one decorated function here (plus its test): `@metric(name, headline, display)`
registers it under `name`, makes it gin-configurable as `eval_<name>` and names the score tables
quote. Importing this module imports neither TensorFlow nor disentanglement_lib (scripts list the
metrics without them); `library()` imports disentanglement_lib's metric modules on first use.
"""
import contextlib
import dataclasses
import functools
import importlib
import types
from collections.abc import Callable

import gin
import numpy as np

from echo_suite import gin_compat

gin_compat.install()

_UNBOUND = object()
# disentanglement_lib's metric modules the wrappers call (library().<name>).
_LIBRARY_MODULES = ("beta_vae", "dci", "downstream_task", "factor_vae", "fairness", "irs", "mig",
                    "modularity_explicitness", "sap_score", "unsupervised_metrics", "utils")
_DATA_ARGUMENTS = ["ground_truth_data", "representation_function", "random_state"]


@dataclasses.dataclass(frozen=True)
class Metric:
  """One metric of the suite.

  Attributes:
    name: the suite's name (--metrics).
    function: the gin-configurable wrapper, (ground_truth_data, representation_function,
      random_state, **settings) -> dict of scores.
    headline: the score a table or a figure quotes.
    display: how tables and figures label it.
  """
  name: str
  function: Callable
  headline: str
  display: str

  @property
  def configurable(self) -> str:
    """The gin name of its settings."""
    return f"eval_{self.name}"


METRICS: dict[str, Metric] = {}


def metric(name: str, headline: str, display: str):
  """Decorator: register a wrapper as metric `name`, gin-configurable as eval_<name>."""
  def register(function):
    if name in METRICS:
      raise ValueError(f"metric {name!r} is declared twice")
    configurable = gin.configurable(f"eval_{name}", denylist=_DATA_ARGUMENTS)(function)
    METRICS[name] = Metric(name, configurable, headline, display)
    return configurable
  return register


@functools.cache
def library() -> types.SimpleNamespace:
  """disentanglement_lib's metric modules, imported once (TensorFlow with them); also registers
  their gin configurables, so callers that parse configs binding them call this first."""
  gin_compat.install(gin_tf=True)  # must precede any disentanglement_lib import
  return types.SimpleNamespace(**{
      m: importlib.import_module(f"disentanglement_lib.evaluation.metrics.{m}")
      for m in _LIBRARY_MODULES})


class UndefinedScore(ValueError):
  """A metric has no value for this representation (not a low score): why, in a sentence."""


@contextlib.contextmanager
def gin_bindings(bindings):
  """Bind gin parameters of disentanglement_lib for the duration of one call, then put the config
  back exactly: a parameter that was unbound is unbound again (not bound to None)."""
  library()  # registers the configurables bound here
  previous = {}
  with gin.unlock_config():  # the CLI finalises (locks) the config after parsing
    for key, value in bindings.items():
      try:
        previous[key] = gin.query_parameter(key)
      except ValueError:
        previous[key] = _UNBOUND
      gin.bind_parameter(key, value)
  try:
    yield
  finally:
    with gin.unlock_config():
      for key, value in previous.items():
        if value is _UNBOUND:
          _unbind(key)
        else:
          gin.bind_parameter(key, value)


def _unbind(key):
  """Remove the binding `key` ('configurable.arg'); gin 0.4.0 has no public call for it."""
  from gin import config as gin_config  # gin-config==0.4.0 is pinned: its _CONFIG is stable
  parsed = gin_config.ParsedBindingKey(key)
  bound = gin_config._CONFIG.get(parsed.config_key, {})  # noqa: SLF001
  bound.pop(parsed.arg_name, None)
  if not bound:
    gin_config._CONFIG.pop(parsed.config_key, None)  # noqa: SLF001


@contextlib.contextmanager
def sklearn_draws_from(random_state):
  """For one call, numpy's global generator is a copy of the metric's RandomState, then is put
  back: scikit-learn estimators that disentanglement_lib leaves unseeded (gradient-boosted trees
  break ties between equal splits at random) then give the same score for the same seed."""
  saved = np.random.get_state()
  np.random.set_state(random_state.get_state())
  try:
    yield
  finally:
    np.random.set_state(saved)


def _histogram(num_bins):
  return {"discretizer.discretizer_fn": library().utils._histogram_discretize,  # noqa: SLF001
          "discretizer.num_bins": num_bins}


@contextlib.contextmanager
def _histogram_bins(metric, num_bins):
  """disentanglement_lib's histogram discretiser with `num_bins` bins for one call. A code
  dimension whose values lie too close together for num_bins finite bins (a collapsed code:
  numpy's "Too many bins for data range") makes `metric` undefined, not the scoring fail."""
  with gin_bindings(_histogram(num_bins)):
    try:
      yield
    except ValueError as e:
      if "Too many bins for data range" not in str(e):
        raise
      raise UndefinedScore(f"{metric} is undefined: a code dimension's values lie too close "
                           f"together to split into {num_bins} histogram bins (a collapsed "
                           "code)") from None


@metric("factor_vae", headline="eval_accuracy", display="FactorVAE")
def factor_vae_score(ground_truth_data, representation_function, random_state, batch_size=64,
                     num_train=10000, num_eval=5000, num_variance_estimate=10000,
                     prune_dims_threshold=0.05):
  """FactorVAE score (Kim & Mnih 2018): majority-vote accuracy of predicting the fixed factor from
  the dimension of least normalised variance.

  Args:
    ground_truth_data, representation_function, random_state: as in disentanglement_lib.
    batch_size: points per vote (64).
    num_train, num_eval: votes to fit and to score (10,000 and 5,000).
    num_variance_estimate: points for the global variances (10,000).
    prune_dims_threshold: dimensions with a standard deviation below this are ignored (0.05).

  Returns:
    dict with train_accuracy, eval_accuracy, num_active_dims.
  """
  with gin_bindings({"prune_dims.threshold": prune_dims_threshold}):
    values = library().factor_vae.compute_factor_vae(
        ground_truth_data, representation_function, random_state, batch_size=batch_size,
        num_train=num_train, num_eval=num_eval, num_variance_estimate=num_variance_estimate)
  if values["num_active_dims"] == 0:  # disentanglement_lib then returns accuracies of 0
    raise UndefinedScore(f"FactorVAE is undefined: no code dimension has a standard deviation "
                         f"above prune_dims_threshold = {prune_dims_threshold:g}, and the votes "
                         "are cast by active dimensions only (a collapsed code)")
  return values


@metric("mig", headline="discrete_mig", display="MIG")
def mig_score(ground_truth_data, representation_function, random_state, num_train=10000,
              batch_size=16, num_bins=20):
  """Mutual information gap (Chen et al. 2018) with a histogram discretiser.

  Args:
    num_train: points (10,000). batch_size: points per call. num_bins: histogram bins (20).

  Returns:
    dict with discrete_mig.
  """
  with _histogram_bins("MIG", num_bins):
    return library().mig.compute_mig(ground_truth_data, representation_function, random_state,
                                     num_train=num_train, batch_size=batch_size)


@metric("dci", headline="disentanglement", display="DCI disentanglement")
def dci_score(ground_truth_data, representation_function, random_state, num_train=10000,
              num_test=5000, batch_size=16):
  """DCI disentanglement, completeness, informativeness (Eastwood & Williams 2018), GBT probes
  (drawing from a copy of `random_state`: `sklearn_draws_from`)."""
  with sklearn_draws_from(random_state):
    return library().dci.compute_dci(ground_truth_data, representation_function, random_state,
                                     num_train=num_train, num_test=num_test,
                                     batch_size=batch_size)


@metric("sap", headline="SAP_score", display="SAP")
def sap(ground_truth_data, representation_function, random_state, num_train=10000,
        num_test=5000, batch_size=16, continuous_factors=False):
  """SAP score (Kumar et al. 2018)."""
  return library().sap_score.compute_sap(
      ground_truth_data, representation_function, random_state, num_train=num_train,
      num_test=num_test, batch_size=batch_size, continuous_factors=continuous_factors)


@metric("modularity", headline="modularity_score", display="modularity")
def modularity_explicitness_score(ground_truth_data, representation_function, random_state,
                                  num_train=10000, num_test=5000, batch_size=16, num_bins=20):
  """Modularity and explicitness (Ridgeway & Mozer 2018)."""
  with _histogram_bins("modularity", num_bins):
    return library().modularity_explicitness.compute_modularity_explicitness(
        ground_truth_data, representation_function, random_state, num_train=num_train,
        num_test=num_test, batch_size=batch_size)


@metric("beta_vae", headline="eval_accuracy", display="BetaVAE")
def beta_vae_score(ground_truth_data, representation_function, random_state, batch_size=64,
                   num_train=10000, num_eval=5000):
  """BetaVAE score (Higgins et al. 2017): linear classifier accuracy on pair differences."""
  return library().beta_vae.compute_beta_vae_sklearn(
      ground_truth_data, representation_function, random_state, batch_size=batch_size,
      num_train=num_train, num_eval=num_eval)


@metric("unsupervised", headline="gaussian_total_correlation", display="Gaussian TC")
def unsupervised_scores(ground_truth_data, representation_function, random_state,
                        num_train=10000, batch_size=16, num_bins=20):
  """Gaussian total correlation, Wasserstein correlation and mutual information of the codes."""
  with _histogram_bins("the unsupervised scores", num_bins):
    return library().unsupervised_metrics.unsupervised_metrics(
        ground_truth_data, representation_function, random_state, num_train=num_train,
        batch_size=batch_size)


@metric("irs", headline="IRS", display="IRS")
def irs_score(ground_truth_data, representation_function, random_state, num_train=10000,
              batch_size=16, diff_quantile=0.99, num_bins=20):
  """Interventional robustness score (Suter et al. 2019), factors in a 20-bin histogram
  (disentanglement_lib's study settings).

  Returns:
    dict with IRS and num_active_dims.
  """
  with _histogram_bins("IRS", num_bins):
    return library().irs.compute_irs(ground_truth_data, representation_function, random_state,
                                     diff_quantile=diff_quantile, num_train=num_train,
                                     batch_size=batch_size)


def _downstream(predictor, ground_truth_data, representation_function, random_state, num_train,
                num_test, batch_size):
  with gin_bindings({"predictor.predictor_fn": predictor}), sklearn_draws_from(random_state):
    values = library().downstream_task.compute_downstream_task(
        ground_truth_data, representation_function, random_state, num_train=list(num_train),
        num_test=num_test, batch_size=batch_size)
  # the headline: mean test accuracy over factors with the largest training set
  values["mean_test_accuracy"] = values[f"{max(num_train)}:mean_test_accuracy"]
  return values


@metric("downstream_logistic", headline="mean_test_accuracy",
        display="downstream accuracy (logistic)")
def downstream_logistic_score(ground_truth_data, representation_function, random_state,
                              num_train=(10, 100, 1000, 10000), num_test=5000, batch_size=16):
  """Downstream task: per-factor accuracy of 5-fold cross-validated logistic regression on the
  code, trained on each of `num_train` points (disentanglement_lib's downstream_task).

  Returns:
    disentanglement_lib's dict ('N:mean_test_accuracy', ...) and mean_test_accuracy, that of the
    largest N.
  """
  return _downstream(library().utils.logistic_regression_cv, ground_truth_data,
                     representation_function, random_state, num_train, num_test, batch_size)


@metric("downstream_boosted", headline="mean_test_accuracy", display="downstream accuracy (GBT)")
def downstream_boosted_score(ground_truth_data, representation_function, random_state,
                             num_train=(10, 100, 1000, 10000), num_test=5000, batch_size=16):
  """Downstream task with scikit-learn's gradient-boosted trees (as downstream_task_boosted_trees).

  Returns:
    as `downstream_logistic_score`.
  """
  return _downstream(library().utils.gradient_boosting_classifier, ground_truth_data,
                     representation_function, random_state, num_train, num_test, batch_size)


@metric("fairness", headline="mean_fairness:mean_pred:mean_sens", display="unfairness")
def fairness_score(ground_truth_data, representation_function, random_state, num_train=10000,
                   num_test_points_per_class=100, batch_size=16):
  """Unfairness (Locatello et al. 2019b): how much gradient-boosted predictions of one factor from
  the code move when another factor is intervened on (total variation; 0 is fair).

  Returns:
    disentanglement_lib's dict; the headline is mean_fairness:mean_pred:mean_sens.
  """
  with gin_bindings({"predictor.predictor_fn": library().utils.gradient_boosting_classifier}), \
      sklearn_draws_from(random_state):
    return library().fairness.compute_fairness(
        ground_truth_data, representation_function, random_state, num_train=num_train,
        num_test_points_per_class=num_test_points_per_class, batch_size=batch_size)


"""Disentanglement scores from disentanglement_lib's own metric functions, one wrapper per metric
with the public Echo code's settings as gin-configurable defaults (paper_facts.md, App. E).

Every wrapper takes (ground_truth_data, representation_function, random_state) like
disentanglement_lib and returns its dict of scores; the wrappers only supply the settings that
disentanglement_lib leaves to gin (discretiser, pruning threshold, predictor).

Adding a metric is one decorated function here (plus its test): `@metric(name, headline, display)`
registers it under `name`, makes it gin-configurable as `eval_<name>` and names the score tables
quote. Importing this module imports neither TensorFlow nor disentanglement_lib (scripts list the
metrics without them); `library()` imports disentanglement_lib's metric modules on first use.
"""
import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import json
import sys
import types
from collections.abc import Callable

import gin
import numpy as np

from echo_suite import gin_compat

gin_compat.install()

_UNBOUND = object()
# disentanglement_lib's metric modules the wrappers call (library().<name>).
_LIBRARY_MODULES = ("beta_vae", "dci", "downstream_task", "factor_vae", "fairness", "irs", "mig",
                    "modularity_explicitness", "reduced_downstream_task", "sap_score",
                    "strong_downstream_task", "unified_scores", "unsupervised_metrics", "utils")
# Packages a metric module imports (through disentanglement_lib's utils/results.py, to save result
# files, and visualize/dendrogram.py and visualize/visualize_scores.py, to plot) but calls only
# with an artifact directory, which the wrappers never pass; the pinned set leaves them out. While
# that module is imported, an absent one is an `_Absent` stand-in (with the attributes the
# importing modules read at import time), removed from sys.modules after.
_UNCALLED_IMPORTS = {"unified_scores": {"simplejson": {"JSONEncoder": json.JSONEncoder},
                                        "pandas": {}, "seaborn": {}}}
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
  modules = {}
  for m in _LIBRARY_MODULES:
    with _stand_ins(_UNCALLED_IMPORTS.get(m, {})):
      modules[m] = importlib.import_module(f"disentanglement_lib.evaluation.metrics.{m}")
  return types.SimpleNamespace(**modules)


class _Absent(types.ModuleType):
  """Stand-in for a package that is not installed, imported by a module on a path the suite never
  takes: any use of it beyond the import-time attributes it was given fails, saying so."""

  def __getattr__(self, attribute):
    raise AttributeError(f"{self.__name__}.{attribute}: {self.__name__} is not installed; the "
                         "suite stands in for it only so that disentanglement_lib imports "
                         "(metrics/scores.py, _UNCALLED_IMPORTS)")


@contextlib.contextmanager
def _stand_ins(packages):
  """For one import: each of `packages` ({name: import-time attributes}) that is not installed is
  an `_Absent` module in sys.modules; an installed one is left alone (the real one is used)."""
  absent = [name for name in packages
            if name not in sys.modules and importlib.util.find_spec(name) is None]
  for name in absent:
    sys.modules[name] = _Absent(name)
    sys.modules[name].__dict__.update(packages[name])
  try:
    yield
  finally:
    for name in absent:
      sys.modules.pop(name, None)


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


def _probed(compute, bindings, headline, ground_truth_data, representation_function,
            random_state, num_train, **kwargs):
  """A probe metric of disentanglement_lib (`compute`), its gin parameters bound (`bindings`) and
  numpy's global generator drawn from `random_state`, scored at each of `num_train`; its
  `headline` is the value at the largest ('N:<headline>')."""
  with gin_bindings(bindings), sklearn_draws_from(random_state):
    values = compute(ground_truth_data, representation_function, random_state,
                     num_train=list(num_train), **kwargs)
  values[headline] = values[f"{max(num_train)}:{headline}"]
  return values


def _downstream(predictor, ground_truth_data, representation_function, random_state, num_train,
                num_test, batch_size):
  return _probed(library().downstream_task.compute_downstream_task,
                 {"predictor.predictor_fn": predictor}, "mean_test_accuracy", ground_truth_data,
                 representation_function, random_state, num_train, num_test=num_test,
                 batch_size=batch_size)


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


# Metrics that fix one factor for a whole training set while drawing the others freely: they need
# every combination of factor values.
_NEEDS_EVERY_COMBINATION = ("strong_downstream",)


def check_combinations(name, ground_truth_data):
  """Raise RemovedCombinationError, before any draw, if metric `name` needs every combination of
  factor values and `ground_truth_data` (a data set, or a code table over one) lacks some, as
  ds_corr's kept set does: such a metric would ask for removed images."""
  if name not in _NEEDS_EVERY_COMBINATION:
    return
  data = getattr(ground_truth_data, "data", ground_truth_data)  # a code table's data set
  keep = getattr(data, "keep", None)
  if keep is not None and not np.all(keep):
    from echo_suite.data.ground_truth import RemovedCombinationError
    raise RemovedCombinationError(
        f"{name} fixes one factor for all its training points and draws the others freely, so it "
        f"needs every combination of factor values; {getattr(data, 'name', 'this data set')} "
        f"keeps {np.mean(keep):.1%} of them")


@metric("strong_downstream", headline="mean_strong_test_accuracy",
        display="strong generalisation accuracy")
def strong_downstream_score(ground_truth_data, representation_function, random_state,
                            num_train=(1000,), num_test=1000, n_experiment=2):
  """Strong generalisation (disentanglement_lib's strong_downstream_task): gradient-boosted trees
  predict each factor from the code, trained with another factor (drawn at random) fixed at one
  value and tested on its other values, `n_experiment` times per factor. Its draws of those
  interventions, like the trees', come from numpy's global generator: here a copy of
  `random_state` (`sklearn_draws_from`). Refuses before any draw on data that lacks factor
  combinations (`check_combinations`).

  Args:
    ground_truth_data, representation_function, random_state: as in disentanglement_lib.
    num_train: training sizes, each scored ((1000,)). num_test: test points (1,000).
    n_experiment: interventions per factor (2). disentanglement_lib has no study setting for this
      module: these are its own test's (strong_downstream_task_test.py).

  Returns:
    disentanglement_lib's dict ('N:mean_strong_test_accuracy', 'N:strong_generalization_gap', ...)
    and mean_strong_test_accuracy, that of the largest N.
  """
  check_combinations("strong_downstream", ground_truth_data)
  return _probed(library().strong_downstream_task.compute_strong_downstream_task,
                 {"predictor.predictor_fn": library().utils.gradient_boosting_classifier},
                 "mean_strong_test_accuracy", ground_truth_data, representation_function,
                 random_state, num_train, num_test=num_test, n_experiment=n_experiment)


@metric("reduced_downstream", headline="mean_test_accuracy_reduced_factor",
        display="reduced-factor accuracy (leakage)")
def reduced_downstream_score(ground_truth_data, representation_function, random_state,
                             num_train=(1000,), num_test=1000, num_factors_to_remove=1,
                             batch_size=16):
  """Reduced downstream task (disentanglement_lib's reduced_downstream_task): for each factor, the
  `num_factors_to_remove` code dimensions most important to it (DCI's gradient-boosted importance,
  `factorwise_dci`) are removed and gradient-boosted trees predict every factor from the rest. The
  headline is the leakage: the accuracy left for the reduced factor, low for a disentangled code
  (chance level) and for an uninformative one alike; the other factors' accuracy tells them apart.
  Trees draw from a copy of `random_state` (`sklearn_draws_from`).

  Args:
    num_train: training sizes, each scored ((1000,)). num_test: test points (1,000).
    num_factors_to_remove: dimensions removed per factor (1, as disentanglement_lib's
      config/tests/evaluation/evaluate_test_configs/reduced_downstream_task.gin, its only setting
      for this module). batch_size: points per call of the representation (16).

  Returns:
    disentanglement_lib's dict ('N:mean_test_accuracy_reduced_factor',
    'N:mean_test_accuracy_other_factors', per-factor entries) and
    mean_test_accuracy_reduced_factor, that of the largest N.
  """
  module = library().reduced_downstream_task
  return _probed(module.compute_reduced_downstream_task,
                 {"predictor.predictor_fn": library().utils.gradient_boosting_classifier,
                  "reduced_representation.correlation_measure": module.compute_factorwise_dci},
                 "mean_test_accuracy_reduced_factor", ground_truth_data, representation_function,
                 random_state, num_train, num_factors_to_remove=num_factors_to_remove,
                 num_test=num_test, batch_size=batch_size)


@metric("unified", headline="mutual_information_matrix.mig", display="MIG (unified scores)")
def unified_score(ground_truth_data, representation_function, random_state, num_train=10000,
                  num_test=5000, batch_size=16, num_bins=20):
  """Unified scores (disentanglement_lib's unified_scores): three code-by-factor matrices (DCI's
  gradient-boosted importance, mutual information of the 20-bin histogram code, SAP's per-dimension
  SVM accuracy), each aggregated as DCI, MIG, SAP and modularity, and the area under its
  precision curve. The headline is the mutual-information matrix's MIG (the `mig` metric's value
  for the same draws). Trees and SVMs draw from a copy of `random_state` (`sklearn_draws_from`).

  Args:
    num_train, num_test: points (10,000 and 5,000, the DCI and SAP study settings).
    batch_size: points per call of the representation (16). num_bins: histogram bins (20).

  Returns:
    disentanglement_lib's dict: '<matrix>.<score>', e.g. importance_gbt_matrix.dci_disentanglement,
    mutual_information_matrix.mig, accuracy_svm_matrix.sap, '<matrix>.area_precision'.
  """
  module = library().unified_scores
  with _histogram_bins("the unified scores", num_bins), sklearn_draws_from(random_state):
    return module.compute_unified_scores(
        ground_truth_data, representation_function, random_state, artifact_dir=None,
        num_train=num_train, num_test=num_test,
        matrix_fns=[module.importance_gbt_matrix, module.mutual_information_matrix,
                    module.accuracy_svm_matrix],
        batch_size=batch_size)

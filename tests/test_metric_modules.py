"""disentanglement_lib's strong_downstream_task, reduced_downstream_task and unified_scores as the
suite's metrics strong_downstream, reduced_downstream and unified: registered, oracle scores,
reproducible for a seed whatever numpy's global state, and the refusal where interventions would
need removed images.

Their probes are gradient-boosted trees, whose cost grows with the number of classes (dSprites'
orientation has 40: ~10 s a fit here), so most checks use `Grid`, three factors of 2, 3 and 4
values observed as themselves; one fast check runs on a code table over a dSprites subset of few
values per factor, and the slow tier runs strong_downstream on the full dSprites table.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from echo_suite.data import grid, ground_truth
from echo_suite.data import registry as ds
from echo_suite.metrics import code_table, evaluate, names, scores

NEW = {"strong_downstream": "mean_strong_test_accuracy",
       "reduced_downstream": "mean_test_accuracy_reduced_factor",
       "unified": "mutual_information_matrix.mig"}
CHANCE = np.mean([1 / 2, 1 / 3, 1 / 4])  # accuracy of guessing Grid's factors: 0.361
SMALL = {"strong_downstream": dict(num_train=(200,), num_test=200, n_experiment=2),
         "reduced_downstream": dict(num_train=(150,), num_test=200),
         "unified": dict(num_train=200, num_test=200)}


class Grid:
  """Ground-truth data of three independent uniform factors (2, 3 and 4 values), observed as
  themselves: disentanglement_lib's GroundTruthData interface, every combination present."""
  num_factors = 3
  factors_num_values = [2, 3, 4]
  factor_names = ["a", "b", "c"]
  observation_shape = [3]

  def sample_factors(self, num, random_state):
    return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values], axis=1)

  def sample_observations_from_factors(self, factors, random_state=None):
    return np.asarray(factors, np.float64)

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]


def factors(observations):
  return np.asarray(observations, np.float64)


def rotated(observations):
  q, _ = np.linalg.qr(np.random.RandomState(2).randn(3, 3))
  return (np.asarray(observations, np.float64) - 1.0) @ q


def duplicated(observations):
  """The factors twice: the trees' random tie-breaks between equal columns move the scores."""
  return np.concatenate([np.asarray(observations, np.float64)] * 2, axis=1)


def noise(seed=1):
  """A code of six dimensions of noise, independent of the factors (a fresh stream per call)."""
  rng = np.random.RandomState(seed)
  return lambda observations: rng.randn(len(observations), 6)


def _same_global_state(a, b):
  return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def score(name, representation, seed=0, data=None, **settings):
  """A metric's scores, checking that numpy's global random state is left as it was."""
  before = np.random.get_state()
  values = scores.METRICS[name].function(data or Grid(), representation,
                                         np.random.RandomState(seed), **settings)
  assert _same_global_state(before, np.random.get_state()), name
  return {k: float(v) for k, v in values.items()}


@pytest.fixture(scope="module")
def strong():
  spec = "eval_strong_downstream"
  with scores.gin_bindings({f"{spec}.{k}": v for k, v in SMALL["strong_downstream"].items()}):
    via_gin = score("strong_downstream", factors)  # the settings bound, as eval_*.* bindings are
  out = {"factors": via_gin,
         "noise": score("strong_downstream", noise(), **SMALL["strong_downstream"])}
  np.random.seed(123)  # another global state: the scores must not read it
  out["again"] = score("strong_downstream", noise(), **SMALL["strong_downstream"])
  return out


@pytest.fixture(scope="module")
def reduced():
  out = {label: score("reduced_downstream", rep, **SMALL["reduced_downstream"])
         for label, rep in (("factors", factors), ("rotated", rotated), ("noise", noise()))}
  return out


@pytest.fixture(scope="module")
def unified():
  out = {label: score("unified", rep, **SMALL["unified"])
         for label, rep in (("factors", factors), ("noise", noise()), ("duplicated", duplicated))}
  np.random.seed(789)
  out["again"] = score("unified", duplicated, **SMALL["unified"])
  return out


def test_the_three_modules_are_registered_metrics():
  for name, headline in NEW.items():
    assert name in names.METRIC_NAMES
    spec = scores.METRICS[name]
    assert spec.configurable == f"eval_{name}" and spec.headline == headline
    assert names.HEADLINE[name] == headline and names.DISPLAY[name] == spec.display
  chosen = evaluate.describe_settings("full", list(NEW), 0).as_gin()  # the defaults validate
  assert chosen["eval_strong_downstream"] == {"num_train": (1000,), "num_test": 1000,
                                              "n_experiment": 2}
  assert chosen["eval_reduced_downstream"] == {"num_train": (1000,), "num_test": 1000,
                                               "num_factors_to_remove": 1, "batch_size": 16}
  assert chosen["eval_unified"] == {"num_train": 10000, "num_test": 5000, "batch_size": 16,
                                    "num_bins": 20}


def test_unified_imports_with_stand_ins_that_fail_on_use_and_are_not_left_installed():
  dlib = scores.library().unified_scores
  for module, attribute in ((dlib.visualize_scores, "sns"), (dlib.visualize_scores, "pd"),
                            (dlib.dendrogram, "pd"), (dlib.results, "json")):
    package = getattr(module, attribute)
    if isinstance(package, scores._Absent):  # noqa: SLF001  (an installed package is used as is)
      assert package.__name__ not in sys.modules
      with pytest.raises(AttributeError, match="is not installed"):
        package.DataFrame  # noqa: B018
  assert dlib.results.Encoder.__mro__[1].__module__ in ("json.encoder", "simplejson.encoder")


def test_strong_downstream_reads_the_factors_and_not_noise(strong):
  assert strong["factors"]["mean_strong_test_accuracy"] == pytest.approx(1.0, abs=0.01)
  assert strong["factors"]["200:strong_generalization_gap"] == pytest.approx(0.0, abs=0.01)
  assert strong["noise"]["mean_strong_test_accuracy"] == pytest.approx(CHANCE, abs=0.07)
  assert strong["noise"]["200:mean_train_accuracy"] > 0.95  # the trees fit noise: no signal


def test_strong_downstream_is_reproducible_whatever_numpys_global_state(strong):
  # Unseeded, the interventions would follow the global state: 4 of the 6 numbers move.
  assert strong["again"] == strong["noise"]
  other = score("strong_downstream", noise(), seed=1, **SMALL["strong_downstream"])
  assert other != strong["noise"]  # the draws come from the metric's seed


def test_reduced_downstream_measures_what_leaks_after_removing_a_factors_dimension(reduced):
  # Disentangled: the factor's own dimension gone, chance is left; the other factors are intact.
  assert reduced["factors"]["mean_test_accuracy_reduced_factor"] == pytest.approx(CHANCE,
                                                                                   abs=0.07)
  assert reduced["factors"]["150:mean_test_accuracy_other_factors"] == pytest.approx(1.0,
                                                                                     abs=0.01)
  # Entangled (rotated): the remaining dimensions still carry the factor.
  assert reduced["rotated"]["mean_test_accuracy_reduced_factor"] > 0.9
  # Noise: nothing leaks, but nothing is predicted either.
  assert reduced["noise"]["150:mean_test_accuracy_other_factors"] == pytest.approx(CHANCE,
                                                                                   abs=0.07)


def test_reduced_downstream_is_reproducible_whatever_numpys_global_state(reduced):
  np.random.seed(456)
  assert score("reduced_downstream", noise(), **SMALL["reduced_downstream"]) == reduced["noise"]


def test_unified_scores_factors_high_noise_low_and_match_mig_and_dci(unified):
  assert unified["factors"]["mutual_information_matrix.mig"] == pytest.approx(0.988, abs=0.01)
  assert unified["factors"]["importance_gbt_matrix.dci_disentanglement"] > 0.99
  assert unified["noise"]["mutual_information_matrix.mig"] < 0.05
  assert unified["noise"]["importance_gbt_matrix.dci_disentanglement"] < 0.05
  # Unseeded, the trees' tie-breaks would follow the global state: 21 of 87 numbers move.
  assert unified["again"] == unified["duplicated"]
  # The same draws as the mig and dci metrics: their matrices, so their numbers.
  mig = score("mig", factors, num_train=200, batch_size=16)
  dci = score("dci", factors, num_train=200, num_test=200, batch_size=16)
  assert unified["factors"]["mutual_information_matrix.mig"] == mig["discrete_mig"]
  assert unified["factors"]["importance_gbt_matrix.dci_disentanglement"] == \
      dci["disentanglement"]


def test_reduced_and_unified_score_a_code_table_over_dsprites():
  """The suite scores code tables (no factor_names): a dSprites subset of 2-3 values per factor
  keeps the trees fast; these metrics draw only kept images, so a subset is scorable."""
  keep = np.zeros(grid.FACTOR_SIZES, bool)
  keep[0, :, :2, :2, :3, :3] = True  # shape x 2 scales x 2 orientations x 3 x 3 positions
  data = ground_truth.DSprites(keep=keep)
  table = code_table.CodeTableData(data, data.factors_of(data.kept_indices).astype(np.float32),
                                   data.kept_indices)
  unified = score("unified", table.representation_function, data=table, **SMALL["unified"])
  assert unified["importance_gbt_matrix.dci_disentanglement"] > 0.95
  reduced = score("reduced_downstream", table.representation_function, data=table,
                  num_train=(200,), num_test=200)
  assert reduced["200:mean_test_accuracy_other_factors"] > 0.99
  assert reduced["mean_test_accuracy_reduced_factor"] < 0.6  # chance: mean(1/3, 1/2, ...) = 0.43
  with pytest.raises(ground_truth.RemovedCombinationError, match="needs every combination"):
    score("strong_downstream", table.representation_function, data=table)


def test_strong_downstream_refuses_removed_combinations_before_drawing():
  corr = ds.DSpritesCorrelated(remove_prob=0.15, n_bins=8, seed=42)  # over any leftover binding
  scores.check_combinations("reduced_downstream", corr)  # no interventions: scorable
  scores.check_combinations("unified", corr)
  scores.check_combinations("strong_downstream", ds.make_dataset("dsprites"))
  with pytest.raises(ground_truth.RemovedCombinationError, match=r"ds_corr keeps 14\.2%"):
    scores.check_combinations("strong_downstream", corr)

  def must_not_encode(images):
    raise AssertionError("encoded: the refusal came after work")
  # evaluate() refuses before it builds a code table (evaluate.check_scorable).
  with pytest.raises(ground_truth.RemovedCombinationError,
                     match=r"^strong_downstream fixes one factor.*ds_corr keeps 14\.2%"):
    evaluate.evaluate(must_not_encode, corr, eval_on="kept", metrics=["strong_downstream"],
                      progress=False)


@pytest.mark.slow  # ~75 s: twenty gradient-boosted fits over up to 40 classes
def test_strong_downstream_on_dsprites_code_tables():
  """Interventions through a code table's indices, on the full dSprites (every combination)."""
  data = ground_truth.DSprites()
  chance = np.mean([1 / n for n in data.factors_num_values])  # 0.118
  out = {}
  for label, codes in (("factors", data.factors_of(np.arange(grid.NUM_IMAGES))),
                       ("random", np.random.RandomState(1).randn(grid.NUM_IMAGES, 5))):
    table = code_table.CodeTableData(data, codes.astype(np.float32), np.arange(grid.NUM_IMAGES))
    out[label] = score("strong_downstream", table.representation_function, data=table,
                       num_train=(400,), num_test=200, n_experiment=1)
  assert out["factors"]["mean_strong_test_accuracy"] > 0.98  # measured 1.000
  assert out["random"]["mean_strong_test_accuracy"] == pytest.approx(chance, abs=0.05)  # 0.111


def test_a_metric_the_evaluation_set_cannot_take_is_refused_before_training(tmp_path):
  from conftest import ROOT
  out = subprocess.run([sys.executable, os.path.join(ROOT, "disentanglement.py"), "--dataset",
                        "ds_corr", "--metrics", "strong_downstream", "--eval_on", "kept",
                        "--steps", "3", "--output_dir", str(tmp_path / "run")],
                       capture_output=True, text=True)
  assert out.returncode == 2 and out.stderr.startswith("error: strong_downstream fixes one factor")
  assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()

"""Scores of oracle representations, and the code-table path against the image path."""

import numpy as np
import pytest

from echo_suite.data import registry as ds
from echo_suite.data import grid, ground_truth
from echo_suite import rundir
from echo_suite.metrics import code_table, evaluate, scores

SMALL_FVAE = dict(batch_size=64, num_train=800, num_eval=400, num_variance_estimate=3000)
SMALL_MIG = dict(num_train=4000, batch_size=200)


@pytest.fixture(scope="module")
def data():
  return ground_truth.DSprites()


@pytest.fixture(scope="module")
def factors(data):
  return data.factors_of(np.arange(grid.NUM_IMAGES)).astype(np.float32)


def _scores(data, codes):
  table = code_table.CodeTableData(data, codes, np.arange(grid.NUM_IMAGES))
  fvae = scores.factor_vae_score(table, table.representation_function,
                                 np.random.RandomState(0), **SMALL_FVAE)
  mig = scores.mig_score(table, table.representation_function, np.random.RandomState(0),
                         **SMALL_MIG)
  return fvae["eval_accuracy"], mig["discrete_mig"]


def test_ground_truth_factors_score_perfectly(data, factors):
  fvae, mig = _scores(data, factors)
  assert fvae == 1.0
  assert mig == pytest.approx(0.88, abs=0.03)  # 20 bins hold orientation's 40 values: below 1


def test_random_codes_score_low(data):
  codes = np.random.RandomState(1).randn(grid.NUM_IMAGES, 10).astype(np.float32)
  fvae, mig = _scores(data, codes)
  assert fvae < 0.35 and mig < 0.02


def test_rotated_factors_score_low(data, factors):
  standardised = (factors - factors.mean(0)) / factors.std(0)
  q, _ = np.linalg.qr(np.random.RandomState(2).randn(5, 5))
  fvae, mig = _scores(data, standardised @ q)
  assert fvae < 0.8 and mig < 0.2


def test_duplicated_factor_lowers_mig_not_factor_vae(data, factors):
  duplicated = np.concatenate([factors, factors[:, 3:4]], axis=1)  # posX twice
  fvae, mig = _scores(data, duplicated)
  _, mig_plain = _scores(data, factors)
  assert fvae == 1.0
  assert mig < mig_plain - 0.1  # posX's gap collapses to 0: one fifth of the MIG is gone


def _image_features(images):
  """A cheap deterministic 'encoder' of images: centroid, area and spreads of the sprite."""
  x = np.asarray(images, np.float32).reshape(-1, 64, 64)
  area = x.sum((1, 2)) + 1e-6
  rows, cols = np.arange(64)[None, :, None], np.arange(64)[None, None, :]
  cy, cx = (x * rows).sum((1, 2)) / area, (x * cols).sum((1, 2)) / area
  sy = (x * (rows - cy[:, None, None]) ** 2).sum((1, 2)) / area
  sx = (x * (cols - cx[:, None, None]) ** 2).sum((1, 2)) / area
  return np.stack([cx, cy, area, sx, sy], axis=1)


def test_table_path_equals_image_path(data):
  table = code_table.CodeTableData(data, np.zeros((0, 5)), [], encode=_image_features)
  for metric, kwargs in (("factor_vae", dict(batch_size=16, num_train=60, num_eval=30,
                                             num_variance_estimate=500)),
                         ("mig", dict(num_train=800, batch_size=16))):
    function = scores.METRICS[metric].function
    on_table = function(table, table.representation_function, np.random.RandomState(7), **kwargs)
    on_images = function(data, _image_features, np.random.RandomState(7), **kwargs)
    # Same random draws; codes equal up to round-off of encoding in other batch shapes.
    assert on_table == pytest.approx(on_images, rel=1e-6)
  assert table.log_scales is None  # a representation without a channel has no noise scales
  assert 0 < len(table.indices) < 60 * 16 + 30 * 16 + 500 + 800  # each drawn image once


def test_kept_set_evaluation_says_when_removed_combinations_are_needed(tmp_path):
  corr = ds.DSpritesCorrelated()
  run = rundir.RunDirectory(tmp_path)
  block, table = evaluate.evaluate(_image_features, corr, table_path=str(tmp_path / "codes.npz"),
                                   weights="w1", eval_on="kept", metrics=["factor_vae", "mig"],
                                   progress=False)
  run.write_code_table(code_table.arrays_of(table, "w1"))  # what the run's owner does
  results = block["metrics"]["mean"]
  assert list(block["metrics"]) == ["mean"]
  assert (block["eval_on"], block["num_images"]) == ("ds_corr", corr.num_examples)
  assert block["settings"]["evaluation"] == {"eval_on": "kept", "metrics": ["factor_vae", "mig"],
                                             "seed": 0, "representation": ["mean"]}
  assert block["settings"]["eval_mig"]["num_bins"] == 20
  assert "removed" in results["factor_vae"]["error"]
  assert "eval_on = 'full'" in results["factor_vae"]["error"]
  assert 0.0 <= results["mig"]["discrete_mig"] <= 1.0
  saved = code_table.load(str(tmp_path / "codes.npz"))
  assert (saved["dataset"], saved["weights"]) == ("ds_corr", "w1")
  # Only the images the metrics drew were encoded, each once, all of the evaluation set.
  n = len(saved["indices"])
  assert 1000 < n < corr.num_examples and saved["codes"].shape == (n, 5)
  assert np.all(np.isin(saved["indices"], corr.kept_indices))
  assert np.all(np.diff(saved["indices"]) > 0)
  np.testing.assert_allclose(saved["codes"], _image_features(corr.observations(saved["indices"])),
                             rtol=1e-6)
  # Encode once: a second evaluation with the same weights reads the table.
  def must_not_encode(images):
    raise AssertionError("encoded again")
  again, again_table = evaluate.evaluate(must_not_encode, corr,
                                         table_path=str(tmp_path / "codes.npz"), weights="w1",
                                         eval_on="kept", metrics=["mig"], progress=False)
  assert not again_table.encoded_now
  assert again["metrics"]["mean"]["mig"] == results["mig"]
  # Other weights never read that table: they encode (here: codes doubled, a new MIG input).
  doubled = lambda images: 2.0 * _image_features(images)  # noqa: E731
  other, other_table = evaluate.evaluate(doubled, corr, table_path=str(tmp_path / "codes.npz"),
                                         weights="w2", eval_on="kept", metrics=["mig"],
                                         progress=False)
  assert other_table.encoded_now
  run.write_code_table(code_table.arrays_of(other_table, "w2"))
  new = code_table.load(str(tmp_path / "codes.npz"))
  assert new["weights"] == "w2" and 0 < len(new["indices"]) <= n  # MIG's images only
  np.testing.assert_allclose(new["codes"], 2.0 * _image_features(corr.observations(
      new["indices"])), rtol=1e-6)


def test_truncated_code_table_is_named_and_encoded_again(tmp_path, capsys):
  data = ds.DSpritesCorrelated()
  path = tmp_path / "codes.npz"
  table = evaluate.load_table(_image_features, data, "w", str(path))
  table.lookup(data.kept_indices[:500])
  rundir.RunDirectory(tmp_path).write_code_table(code_table.arrays_of(table, "w"))
  full = path.read_bytes()
  path.write_bytes(full[:len(full) // 2])
  with pytest.raises(code_table.UnreadableTableError, match="codes.npz is unreadable"):
    code_table.load(str(path))
  table = evaluate.load_table(_image_features, data, "w", str(path))
  assert "codes.npz is unreadable" in capsys.readouterr().out
  assert len(table.indices) == 0  # nothing trusted from the cut file: encoded again on demand
  table.lookup(data.kept_indices[:500])
  rundir.RunDirectory(tmp_path).write_code_table(code_table.arrays_of(table, "w"))
  assert code_table.load(str(path))["codes"].shape == (500, 5)


def test_bad_metric_and_eval_set_names():
  with pytest.raises(ValueError, match=r"unknown metric\(s\) \['fvae'\]"):
    evaluate.check_metric_names(["fvae"])
  with pytest.raises(ValueError, match="unknown evaluation set 'test'"):
    evaluate.evaluation_data(ground_truth.DSprites(), "test")
  with pytest.raises(ValueError, match="unknown evaluation set 'test'"):
    evaluate.describe_settings("test", ["mig"], 0)
  with pytest.raises(ValueError, match=r"metrics='mig' must be a list"):
    evaluate.describe_settings("full", "mig", 0)
  with pytest.raises(ValueError, match=r"representation='noisy': choose \['mean', 'sample'\]"):
    evaluate.describe_settings("full", ["mig"], 0, "noisy")
  with pytest.raises(ValueError, match=r"representation=\[\]"):
    evaluate.describe_settings("full", ["mig"], 0, [])
  chosen = evaluate.describe_settings("full", ["mig"], 0, ["sample", "mean", "sample"])
  assert chosen.representations == ("sample", "mean") and chosen.metrics == ("mig",)
  assert chosen.as_gin()["evaluation"] == {"eval_on": "full", "metrics": ["mig"], "seed": 0,
                                           "representation": ["sample", "mean"]}
  assert chosen.as_gin()["eval_mig"]["num_bins"] == 20



def test_a_metric_is_one_decorated_function(data, factors):
  """scores.metric registers, makes the settings gin-configurable and names the headline; the
  names module's views read the registry; a second declaration of a name is refused."""
  import gin
  from echo_suite.metrics import names
  assert names.METRIC_NAMES == tuple(scores.METRICS)
  assert names.HEADLINE["mig"] == "discrete_mig" and names.DISPLAY["factor_vae"] == "FactorVAE"
  try:
    with gin.unlock_config():  # a CLI test may have finalised the config
      @scores.metric("throwaway", headline="score", display="throwaway")
      def throwaway(ground_truth_data, representation_function, random_state, scale=1.0):
        return {"score": scale * float(np.mean(representation_function(
            ground_truth_data.sample_observations(4, random_state))))}

    spec = scores.METRICS["throwaway"]
    assert spec.configurable == "eval_throwaway" and spec.function is throwaway
    with scores.gin_bindings({"eval_throwaway.scale": 0.0}):
      assert spec.function(data, lambda x: np.ones((len(x), 2)), np.random.RandomState(0)) == \
          {"score": 0.0}
    assert spec.function(data, lambda x: np.ones((len(x), 2)), np.random.RandomState(0)) == \
        {"score": 1.0}
    with pytest.raises(ValueError, match="metric 'mig' is declared twice"):
      scores.metric("mig", headline="x", display="x")(lambda: None)
  finally:
    scores.METRICS.pop("throwaway", None)
  assert "throwaway" not in scores.METRICS and "mig" in scores.METRICS


def test_scoring_leaves_the_gin_config_as_it_found_it(data, factors):
  import gin
  gin.clear_config()  # other tests' bindings stay out of this one
  with pytest.raises(ValueError):
    gin.query_parameter("discretizer.num_bins")  # unbound before
  _scores(data, factors)
  for key in ("discretizer.num_bins", "discretizer.discretizer_fn", "prune_dims.threshold"):
    with pytest.raises(ValueError):
      gin.query_parameter(key)  # unbound after, not bound to None
  with gin.unlock_config():
    gin.bind_parameter("discretizer.num_bins", 7)
  try:
    _scores(data, factors)
    assert gin.query_parameter("discretizer.num_bins") == 7  # a binding is put back
  finally:
    with gin.unlock_config():
      from echo_suite.metrics.scores import _unbind
      _unbind("discretizer.num_bins")


@pytest.mark.parametrize("degrees", [0.0, 30.0, 45.0])
def test_position_alignment_reads_the_rotation_of_the_position_pair(data, factors, degrees):
  from echo_suite.figures import model_figures
  from echo_suite.metrics import alignment
  t = np.radians(degrees)
  rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
  codes = factors.copy()
  codes[:, 3:5] = -2.5 * (factors[:, 3:5] @ rotation)  # sign and scale do not move the angle
  aligned = alignment.position_alignment(codes, factors)
  np.testing.assert_allclose(aligned["angle_off_axes_deg"][3:5], degrees, atol=1e-6)
  np.testing.assert_allclose(aligned["r2"][3:5], 1.0, atol=1e-9)
  assert np.isnan(aligned["angle_off_axes_deg"][:3]).all()  # shape, scale, orientation: R² 0
  assert np.all(aligned["r2"][:3] < 1e-6)
  assert model_figures._position_note(aligned, 3) == f"{degrees:.0f}° off axes\nR² 1.00"
  assert model_figures._position_note(aligned, 0).startswith("position R² 0.00")
  if degrees == 45.0:  # what the angle explains: each position factor spread over two dimensions
    _, mig = _scores(data, codes)
    _, mig_aligned = _scores(data, factors)
    assert mig < mig_aligned - 0.2


def test_position_alignment_of_a_constant_or_noisy_dimension():
  from echo_suite.metrics import alignment
  rs = np.random.RandomState(3)
  factors = rs.randint(32, size=(4000, 5))
  y = factors[:, 4] / 31
  codes = np.stack([np.zeros(4000), y + 0.1 * rs.randn(4000), rs.randn(4000)], axis=1)
  aligned = alignment.position_alignment(codes, factors)
  assert np.isnan(aligned["r2"][0]) and np.isnan(aligned["angle_off_axes_deg"][0])
  assert aligned["nearer_axis"][1] == 1 and aligned["angle_off_axes_deg"][1] < 3.0
  assert 0.85 < aligned["r2"][1] < 0.93  # var(y) = 0.087 against noise 0.01
  assert alignment.describe(aligned).startswith("z1 ") and "z2" not in alignment.describe(aligned)


def _appearance_features(name):
  """A cheap 'encoder' of colour or noisy dSprites that also reads the random appearance: the
  sprite's centroid and area, and its red level (colour) or the image's mean red (noise)."""
  def features(images):
    x = np.asarray(images, np.float32).reshape(-1, 64, 64, 3)
    mask = ((x.min(-1) > 0.999) if name == "noisy_dsprites" else (x.max(-1) > 0)).astype(
        np.float32)
    area = mask.sum((1, 2)) + 1e-6
    rows, cols = np.arange(64)[None, :, None], np.arange(64)[None, None, :]
    cy, cx = (mask * rows).sum((1, 2)) / area, (mask * cols).sum((1, 2)) / area
    red = ((x[..., 0] * mask).sum((1, 2)) / area if name == "color_dsprites"
           else x[..., 0].mean((1, 2)))
    return np.stack([cx, cy, area, red], axis=1)
  return features


@pytest.mark.slow  # two data sets, two seeds, both paths: about two minutes
@pytest.mark.parametrize("name", ["color_dsprites", "noisy_dsprites"])
def test_one_fixed_appearance_per_index_scores_as_fresh_draws_do(name):
  """The code table encodes each index once, with its one fixed colour or noise draw;
  disentanglement_lib draws them afresh for every sample. Same factors, same metric draws: the
  scores agree within seed noise (docs/data.md: measured MIG differences <= 0.015, FactorVAE's
  within its 150-vote spread)."""
  data, features = ds.DATASETS[name](), _appearance_features(name)
  settings = {"factor_vae": dict(batch_size=64, num_train=300, num_eval=150,
                                 num_variance_estimate=2000),
              "mig": dict(num_train=3000, batch_size=100)}
  gaps = {m: [] for m in settings}
  for seed in (0, 1):
    table = code_table.CodeTableData(data, np.zeros((0, 4)), [], encode=features)
    for metric, kwargs in settings.items():
      spec = scores.METRICS[metric]
      fixed = spec.function(table, table.representation_function, np.random.RandomState(seed),
                            **kwargs)[spec.headline]
      fresh = spec.function(data, features, np.random.RandomState(seed), **kwargs)[spec.headline]
      assert fixed > 0.3 and fresh > 0.3  # the factors are read: not a chance-level code
      gaps[metric].append(fixed - fresh)
  assert max(abs(g) for g in gaps["mig"]) < 0.03, gaps
  assert abs(np.mean(gaps["factor_vae"])) < 0.1, gaps

"""Scores of oracle representations, and the code-table path against the image path."""
import csv

import numpy as np
import pytest

import dataset as ds
from metrics import code_table, evaluate, scores

SMALL_FVAE = dict(batch_size=64, num_train=800, num_eval=400, num_variance_estimate=3000)
SMALL_MIG = dict(num_train=4000, batch_size=200)


@pytest.fixture(scope="module")
def data():
  return ds.DSprites()


@pytest.fixture(scope="module")
def factors(data):
  return data.factors_of(np.arange(ds.NUM_IMAGES)).astype(np.float32)


def _scores(data, codes):
  table = code_table.CodeTableData(data, codes, np.arange(ds.NUM_IMAGES))
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
  codes = np.random.RandomState(1).randn(ds.NUM_IMAGES, 10).astype(np.float32)
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
  codes = code_table.encode(_image_features, data, batch_size=65536, progress=False)
  table = code_table.CodeTableData(data, codes, data.kept_indices)
  for metric, kwargs in (("factor_vae", dict(batch_size=16, num_train=60, num_eval=30,
                                             num_variance_estimate=500)),
                         ("mig", dict(num_train=800, batch_size=16))):
    on_table = scores.METRICS[metric](table, table.representation_function,
                                      np.random.RandomState(7), **kwargs)
    on_images = scores.METRICS[metric](data, _image_features, np.random.RandomState(7), **kwargs)
    assert on_table == on_images  # exactly: same random draws, same codes


def test_kept_set_evaluation_says_when_removed_combinations_are_needed(tmp_path):
  corr = ds.DSpritesCorrelated()
  results, table = evaluate.evaluate(_image_features, corr, output_dir=str(tmp_path),
                                     eval_on="kept", metrics=["factor_vae", "mig"],
                                     progress=False)
  assert results["eval_on"] == {"dataset": "ds_corr", "num_images": corr.num_examples}
  assert "removed" in results["factor_vae"]["error"]
  assert "eval_on = 'full'" in results["factor_vae"]["error"]
  assert 0.0 <= results["mig"]["discrete_mig"] <= 1.0
  with open(tmp_path / "scores.csv") as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["metric", "score", "value"]
  assert ["mig", "discrete_mig", str(results["mig"]["discrete_mig"])] in rows
  codes, indices, name = code_table.load(str(tmp_path / "codes.npz"))
  assert name == "ds_corr" and codes.shape == (corr.num_examples, 5)
  np.testing.assert_array_equal(indices, corr.kept_indices)
  # Encode once: a second evaluation reads the table instead of calling the encoder.
  def must_not_encode(images):
    raise AssertionError("encoded again")
  again, _ = evaluate.evaluate(must_not_encode, corr, output_dir=str(tmp_path), eval_on="kept",
                               metrics=["mig"], progress=False)
  assert again["mig"] == results["mig"]


def test_bad_metric_and_eval_set_names():
  with pytest.raises(ValueError, match=r"unknown metric\(s\) \['fvae'\]"):
    evaluate.check_metric_names(["fvae"])
  with pytest.raises(ValueError, match="unknown evaluation set 'test'"):
    evaluate.evaluation_data(ds.DSprites(), "test")

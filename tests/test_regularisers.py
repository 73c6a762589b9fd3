"""The zoo's penalties: values against disentanglement_lib's functions on the same inputs, closed
forms, and each model training, resuming and logging its term from the command line."""
import json
import math
import os

import gin
import numpy as np
import pytest
import tensorflow as tf

import dlib_vae
from echo_suite.commands import train as disentanglement
import conftest

from echo_suite.models import registry, regularisers
from echo_suite.models.autoencoder import Autoencoder

ZOO = ("beta_tcvae", "dip_vae_i", "dip_vae_ii", "annealed_vae", "info_vae")


@pytest.fixture(scope="module")
def dlib():
  return dlib_vae.load()


def _inputs(seed=0, n=64, d=10):
  rng = np.random.default_rng(seed)
  z, mean = rng.normal(size=(2, n, d))
  log_var = rng.normal(-1.0, 0.5, size=(n, d))
  return [tf.constant(a, tf.float32) for a in (z, mean, log_var)]


def test_total_correlation_equals_disentanglement_lib(dlib):
  for seed in range(3):
    z, mean, log_var = _inputs(seed)
    ours = float(regularisers.total_correlation_mws(z, mean, log_var))
    assert ours == pytest.approx(float(dlib.total_correlation(z, mean, log_var)), rel=1e-5)
    # beta-TCVAE: dlib's regulariser with beta_tc_vae.beta = gamma + 1 is KL + gamma TC.
    theirs = dlib.BetaTCVAE(beta=4.0).regularizer(0.0, mean, log_var, z)
    assert 3.0 * ours == pytest.approx(float(theirs), rel=1e-5)


@pytest.mark.parametrize("kind,factor", [("i", 10.0), ("ii", 1.0)])
def test_dip_penalty_equals_disentanglement_lib(dlib, kind, factor):
  z, mean, log_var = _inputs(1)
  theirs = dlib.DIPVAE(lambda_od=2.0, lambda_d_factor=factor, dip_type=kind).regularizer(
      0.0, mean, log_var, z)
  ours = regularisers.DIPPenalty(kind, lambda_od=2.0)(z, mean, log_var, 0.0, 0, None)[0]
  assert float(ours) == pytest.approx(float(theirs), rel=1e-5)
  assert float(theirs) > 1.0  # a non-trivial value was compared


def test_capacity_equals_disentanglement_lib(dlib):
  for step in (0, 250, 1000, 5000):
    theirs = dlib.anneal(25.0, tf.constant(step, tf.int64), 1000)
    assert float(regularisers.capacity(step, 25.0, 1000)) == pytest.approx(float(theirs))
  penalty = regularisers.CapacityPenalty(1000.0, c_max=25.0, iteration_threshold=1000)
  assert float(penalty(None, None, None, tf.constant(3.0), 500, None)[0]) == pytest.approx(
      1000 * abs(3.0 - 12.5))


def test_total_correlation_closed_forms():
  rng = np.random.default_rng(0)
  # Identical posteriors N(0, I): q(z) = N(0, I), a product; the batch-population estimate is 0.
  b, d = 256, 5
  zeros = tf.zeros((b, d))
  z = tf.constant(rng.normal(size=(b, d)), tf.float32)
  assert float(regularisers.total_correlation_mws(z, zeros, zeros, population=b)) == (
      pytest.approx(0.0, abs=1e-4))
  # Posteriors N(mu_i, s^2 I) with mu_i ~ N(0, C - s^2 I): q(z) -> N(0, C), whose TC is
  # -1/2 log(1 - rho^2) for a pair with correlation rho.
  b, rho, s2 = 3000, 0.8, 0.1
  g = rng.normal(size=(b, 1))
  mean = np.sqrt(rho) * g + np.sqrt(1 - rho - s2) * rng.normal(size=(b, 2))
  z = mean + np.sqrt(s2) * rng.normal(size=(b, 2))
  tc = regularisers.total_correlation_mws(*(tf.constant(a, tf.float32) for a in (
      z, mean, np.full((b, 2), math.log(s2)))), population=b)
  assert float(tc) == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.05)  # 0.511


def test_dip_penalty_closed_form():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(500, 3))
  x -= x.mean(0)
  white = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x.T, bias=True))).T  # covariance I
  target = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
  coloured = white @ np.linalg.cholesky(target).T
  cov = regularisers.covariance(tf.constant(coloured, tf.float64))
  np.testing.assert_allclose(cov, target, atol=1e-10)
  assert float(regularisers.dip_penalty(regularisers.covariance(tf.constant(white)), 3.0, 7.0)) == (pytest.approx(
      0.0, abs=1e-8))
  # off-diagonal 0.5 twice, diagonal 2 - 1 once: 3 * 0.5 + 7 * 1
  assert float(regularisers.dip_penalty(cov, 3.0, 7.0)) == pytest.approx(8.5)
  # DIP-II adds the mean posterior variance to the diagonal.
  log_var = np.full((500, 3), math.log(0.25))
  cov_ii = regularisers.dip_covariance(tf.constant(coloured), tf.constant(log_var), "ii")
  np.testing.assert_allclose(np.diag(cov_ii), np.diag(target) + 0.25, atol=1e-10)


def test_models_validate_their_weights():
  gin.clear_config()  # defaults, not the bindings an earlier CLI test left
  assert Autoencoder(name="beta_tcvae").gamma == registry.default_gamma("beta_tcvae") == 5.0
  assert Autoencoder(name="info_vae").gamma == 999.0  # the echo repo's info_vae.json
  assert Autoencoder(name="beta_tcvae").discriminator is None  # TC by MWS, not a discriminator
  assert Autoencoder(name="vae", gamma=2.0).discriminator is not None
  with pytest.raises(ValueError, match="dip_vae_ii has no gamma"):
    Autoencoder(name="dip_vae_ii", gamma=1.0)
  with pytest.raises(ValueError, match="annealed_vae has no beta"):
    Autoencoder(name="annealed_vae", beta=4.0)
  with pytest.raises(ValueError, match="unknown model 'beta_vae' .*'vae' here"):
    Autoencoder(name="beta_vae")


TINY = [*conftest.TINY, "--no_eval", "--dataset", "ds_pairs"]


@pytest.mark.parametrize("name", [  # two fast, the rest in the slow tier
    pytest.param(name, marks=[pytest.mark.slow] if name in ("dip_vae_i", "dip_vae_ii", "info_vae")
                 else []) for name in ZOO])
def test_zoo_model_trains_resumes_and_logs_its_term(tmp_path, name):
  out = str(tmp_path / name)
  assert disentanglement.main(["--output_dir", out, "--model", name, "--steps", "10", *TINY]) == 0
  assert disentanglement.main(["--output_dir", out, "--model", name, "--steps", "20", *TINY]) == 0
  with open(os.path.join(out, "results.json")) as f:
    res = json.load(f)
  assert res["model"] == name and res["gamma"] == registry.default_gamma(name)
  assert res["training"]["step"] == 20 and res["training"]["steps_this_session"] == 10
  assert res["training"]["rate_kind"] == "kl_upper_bound_nats"
  term = {"beta_tcvae": "tc", "dip_vae_i": "dip_penalty", "dip_vae_ii": "dip_penalty",
          "annealed_vae": "capacity", "info_vae": "mmd"}[name]
  losses = res["training"]["final_losses_last_100_steps"]
  assert np.isfinite(losses[term]) and np.isfinite(losses["loss"])
  if name == "annealed_vae":  # C(t) = 25 t / 100,000 over steps 1..20
    assert losses["capacity"] == pytest.approx(25 * np.mean(np.arange(20)) / 1e5, rel=1e-3)
  with open(os.path.join(out, "config.gin")) as f:
    config = f.read()
  assert f"model.name = '{name}'" in config and "ds_pairs.sigma = 0.2" in config
  assert f"model.gamma = {registry.default_gamma(name)!r}" in config  # the default, named


def test_zoo_weights_belong_to_the_run(tmp_path, capsys):
  out = str(tmp_path / "dip")
  args = ["--output_dir", out, "--model", "dip_vae_i", *TINY]
  assert disentanglement.main([*args, "--steps", "5"]) == 0
  capsys.readouterr()
  assert disentanglement.main([*args, "--steps", "10", "--gin_param", "dip.lambda_od = 2.0"]) == 2
  assert "dip.lambda_od = 2.0" in capsys.readouterr().err
  # Naming the default is the same run.
  assert disentanglement.main([*args, "--steps", "10", "--gin_param", "dip.lambda_od = 10.0"]) == 0


@pytest.mark.slow  # 8 s a model; the fast tier trains and resumes beta_tcvae and annealed_vae
@pytest.mark.parametrize("name", ["beta_tcvae", "info_vae"])
def test_zoo_model_scores_and_draws(tmp_path, name):
  out = tmp_path / name
  assert disentanglement.main([
      "--output_dir", str(out), "--model", name, "--dataset", "ds_corr", "--steps", "10",
      *TINY[:-3], "--metrics", "mig", "--eval_on", "kept",
      "--gin_param", "eval_mig.num_train = 2000"]) == 0
  with open(out / "results.json") as f:
    res = json.load(f)
  assert res["scores"]["step"] == 10 and res["scores"]["weights"] == res["training"]["weights"]
  assert 0.0 <= res["scores"]["metrics"]["mean"]["mig"]["discrete_mig"] <= 1.0
  assert sorted(os.listdir(out / "figures")) == [
      "factor_response.png", "rate_per_dim.png", "reconstructions.png", "training_curves.png",
      "traversals.gif", "traversals.png"]


def test_training_curves_draw_the_capacity_target(tmp_path):
  from PIL import Image
  from echo_suite.figures import model_figures
  history = [{"step": s, "distortion": 500.0 - s, "rate": 0.2 * s, "capacity": 0.25 * s}
             for s in range(10, 110, 10)]
  path = model_figures.training_curves(history, str(tmp_path / "curves.png"), title="annealed")
  with Image.open(path) as im:
    assert im.format == "PNG" and im.size[0] > 3 * im.size[1]  # three panels side by side


def _mmd_closed_form(shift_sq, d, bandwidth, n):
  """E of the V-statistic MMD^2 between n samples of N(m, I) and n of N(0, I), ||m||^2 = shift_sq,
  Gaussian kernel of bandwidth s: for u ~ N(mu, 2I), E exp(-|u|^2 / 2s^2) =
  c exp(-|mu|^2 / (2 (s^2 + 2))) with c = (s^2 / (s^2 + 2))^(d/2); the diagonal adds 2 (1 - c) / n."""
  s2 = bandwidth ** 2
  c = (s2 / (s2 + 2.0)) ** (d / 2.0)
  return 2.0 * c * (1.0 - math.exp(-shift_sq / (2.0 * (s2 + 2.0)))) + 2.0 * (1.0 - c) / n


@pytest.mark.parametrize("shift", [0.0, 0.5, 1.0])
def test_mmd_matches_its_closed_form(shift):
  n, d = 2000, 10
  bandwidth = math.sqrt(d * d / 2.0)  # InfoVAE's default
  rng = np.random.default_rng(0)
  x = rng.normal(size=(n, d)).astype(np.float32) + np.float32(shift)
  y = rng.normal(size=(n, d)).astype(np.float32)
  value = float(regularisers.mmd(tf.constant(x), tf.constant(y), bandwidth))
  expected = _mmd_closed_form(d * shift ** 2, d, bandwidth, n)
  if shift == 0:
    assert abs(value) < 2e-3 and expected < 2e-4  # ~0: samples of one distribution
  else:
    assert value == pytest.approx(expected, rel=0.05)


def test_mmd_penalty_draws_its_prior_from_the_generator():
  penalty = regularisers.MMDPenalty(gamma=999.0)
  z = tf.constant(np.random.default_rng(1).normal(size=(512, 10)).astype(np.float32) + 2.0)
  term, logs = penalty(z, None, None, 0.0, 0, tf.random.Generator.from_seed(3))
  again, _ = penalty(z, None, None, 0.0, 0, tf.random.Generator.from_seed(3))
  assert float(term) == pytest.approx(999.0 * float(logs["mmd"]))
  assert float(term) == float(again)  # same generator state, same prior samples
  expected = _mmd_closed_form(10 * 4.0, 10, math.sqrt(50.0), 512)
  assert float(logs["mmd"]) == pytest.approx(expected, rel=0.1)
  with pytest.raises(ValueError, match="mmd.bandwidth=-1.0"):
    regularisers.MMDPenalty(gamma=1.0, bandwidth=-1.0)

"""MINE, NWJ and InfoNCE on data with known mutual information, and their guarantees."""
import math

import numpy as np
import pytest
import tensorflow as tf

from echo_suite.metrics import mi_estimators as mie

BUDGET = dict(epochs=8, batch_size=128, progress=False)  # 512 steps on 8,192 pairs


@pytest.mark.parametrize("estimator", mie.ESTIMATORS)
@pytest.mark.parametrize("dim,true_mi", [(2, 1.0), pytest.param(5, 2.0, marks=pytest.mark.slow)])
def test_correlated_gaussians_within_quarter_nat(estimator, dim, true_mi):
  rho = mie.rho_for_mi(dim, true_mi)
  assert mie.gaussian_mi(dim, rho) == pytest.approx(true_mi)
  x, z = mie.correlated_gaussians(8192, dim, rho, seed=0)
  est = mie.MIEstimator(estimator, "separable", hidden=(64, 64), seed=0)
  _, history = est.fit(x, z, **BUDGET)
  held_x, held_z = mie.correlated_gaussians(4096, dim, rho, seed=1)
  value = est.estimate(held_x, held_z, batch_size=128)
  assert value == pytest.approx(true_mi, abs=0.25)  # measured errors: 0.02-0.2 nats
  assert value <= true_mi + 0.1  # a lower bound, up to sampling error
  assert len(history) == 8 * 64


@pytest.mark.parametrize("estimator", mie.ESTIMATORS)
def test_independent_variables_give_about_zero(estimator):
  rng = np.random.RandomState(3)
  x, z = rng.randn(8192, 3).astype(np.float32), rng.randn(8192, 3).astype(np.float32)
  est = mie.MIEstimator(estimator, "joint", hidden=(32,), seed=0)
  est.fit(x, z, epochs=3, batch_size=128, progress=False)
  assert abs(est.estimate(rng.randn(2048, 3), rng.randn(2048, 3), batch_size=128)) < 0.05


@pytest.mark.slow  # 6 s
def test_infonce_never_exceeds_log_batch_size():
  # 10 nats of true MI, batch 32: the contrastive bound saturates at log 32 = 3.47 nats.
  x, z = mie.correlated_gaussians(4096, 5, mie.rho_for_mi(5, 10.0), seed=0)
  est = mie.MIEstimator("infonce", "separable", hidden=(64,), seed=0)
  value, history = est.fit(x, z, epochs=4, batch_size=32, progress=False)
  assert max(history) <= math.log(32) + 1e-5 and value <= math.log(32) + 1e-5
  assert value > math.log(32) - 0.5  # and it gets close to the cap
  few = mie.MIEstimator("infonce", "separable", hidden=(64,), num_negatives=3, seed=0)
  few.fit(x, z, epochs=2, batch_size=32, progress=False)
  assert few.estimate(x, z, batch_size=32) <= math.log(4) + 1e-5  # 3 negatives: cap log 4


def test_mi_is_differentiable_for_use_as_a_regulariser():
  x, z = mie.correlated_gaussians(64, 2, 0.8, seed=0)
  encoder = tf.Variable(tf.eye(2))
  est = mie.MIEstimator("nwj", "separable", hidden=(16,), seed=0)
  est.build(2, 2)
  with tf.GradientTape(persistent=True) as tape:
    value = est.mi(tf.constant(x) @ encoder, tf.constant(z))
  assert np.abs(tape.gradient(value, encoder).numpy()).sum() > 0
  assert all(g is not None for g in tape.gradient(value, est.trainable_variables))


def test_adaptive_gradient_clipping_scales_to_main_norm():
  main = [tf.constant([3.0, 4.0])]  # norm 5
  big = [tf.constant([30.0, 0.0]), None, tf.constant([40.0])]  # norm 50
  clipped = mie.adaptive_gradient_clipping(main, big)
  assert clipped[1] is None
  assert float(tf.linalg.global_norm([g for g in clipped if g is not None])) == pytest.approx(5.0)
  small = [tf.constant([0.3, 0.4])]  # norm 0.5 < 5: unchanged
  np.testing.assert_allclose(mie.adaptive_gradient_clipping(main, small)[0].numpy(), [0.3, 0.4])


def test_bad_input():
  with pytest.raises(ValueError, match=r"unknown estimator 'dv'.*mine.*nwj.*infonce"):
    mie.MIEstimator("dv")
  with pytest.raises(ValueError, match=r"unknown critic 'bilinear'.*joint.*separable"):
    mie.MIEstimator("mine", "bilinear")
  est = mie.MIEstimator("mine")
  with pytest.raises(ValueError, match="same number of samples, got 10 and 9"):
    est.fit(np.zeros((10, 2)), np.zeros((9, 2)), progress=False)
  bad = np.zeros((10, 2))
  bad[3, 1] = np.nan
  with pytest.raises(ValueError, match="z holds 1 NaN or Inf"):
    est.fit(np.zeros((10, 2)), bad, progress=False)


@pytest.mark.slow  # fits three estimators to convergence: about 40 s
def test_echo_channel_exact_rate_bounds_the_estimates():
  # The 1-D toy Echo channel of test_echo_noise: exact rate -E log s(x) = 0.800 nats.
  from echo_suite import echo_noise
  from test_echo_noise import _toy_channel, _toy_maps
  pairs = [_toy_channel(2048, seed=s)[:2] for s in range(8)]
  x = np.concatenate([p[0] for p in pairs])[:, None]
  z = np.concatenate([p[1] for p in pairs])[:, None]
  order = np.random.RandomState(0).permutation(len(x))  # negatives from other noise batches
  x, z = x[order], z[order]
  grid = np.linspace(-2, 2, 4001)
  exact = float(np.mean(-(echo_noise.EchoChannel(64).log_clip + _toy_maps(grid)[1])))
  assert exact == pytest.approx(0.800, abs=0.002)
  estimates = {}
  for name in mie.ESTIMATORS:
    est = mie.MIEstimator(name, "joint", hidden=(64, 64), seed=0)
    est.fit(x[:12288], z[:12288], epochs=6, batch_size=128, progress=False)
    estimates[name] = est.estimate(x[12288:], z[12288:], batch_size=128)
  # Lower bounds: none above the exact rate by more than 0.05 nats of sampling error; the best
  # within 0.1 nats of it (measured: 0.747, 0.747, 0.752).
  assert max(estimates.values()) <= exact + 0.05, estimates
  assert max(estimates.values()) >= exact - 0.1, estimates

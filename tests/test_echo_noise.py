"""Echo noise: clip constant, truncation, sampling indices, Lemma 2.1, Theorem 2.2, gradients."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from echo_suite import echo_noise as en


def test_clip_worked_values():
  assert en.solve_clip(64) == pytest.approx(0.7622, abs=1e-4)  # paper, used for dSprites
  # The paper's 0.8359 for d_max = 100 solves the condition with eps = 1e-7; with 2^-23 it is 0.8373.
  assert en.solve_clip(100, eps=1e-7) == pytest.approx(0.8359, abs=1e-4)
  assert en.solve_clip(100) == pytest.approx(0.8373, abs=1e-4)
  for d in (16, 63, 64, 100):
    r = en.solve_clip(d)
    assert en.truncation_remainder(r, d) <= 2.0 ** -23
    assert en.truncation_remainder(r + 1e-4, d) > 2.0 ** -23  # the largest such r


def test_sampling_and_rate_share_one_clip():
  channel = en.EchoChannel(d_max=64)
  assert channel.clip == pytest.approx(0.7622, abs=1e-4)
  log_s = tf.zeros([3, 2])  # sigmoid -> 1: s = r, the lowest rate
  np.testing.assert_allclose(en.echo_loss(log_s, d_max=64).numpy(), 2 * -np.log(channel.clip),
                             rtol=1e-6)
  assert channel.min_rate_per_dim == pytest.approx(-np.log(channel.clip))
  with pytest.raises(ValueError, match="clip"):
    en.EchoChannel(clip=1.0)


def test_truncation_remainder_below_float32_eps():
  # The series summed to d_max terms vs summed to 2000 terms, in float64, at the worst case
  # |f| = M = 1 and s = r: the difference is below 2^-23.
  d = 64
  r = en.solve_clip(d)
  rng = np.random.RandomState(0)
  f = np.sign(rng.randn(500, 2000))
  s = np.full((500, 2000), r)
  weights = np.exp(np.cumsum(np.log(s), axis=1) - np.log(s))
  terms = weights * f
  assert np.max(np.abs(terms.sum(1) - terms[:, :d].sum(1))) <= 2.0 ** -23


def _noise_indices(batch, d_max, replace):
  return en._noise_indices(tf.constant(batch), d_max, replace,
                           tf.random.Generator.from_seed(1)).numpy()


@pytest.mark.parametrize("batch,d_max", [(65, 64), (100, 64), (17, 16), (300, 10)])
def test_indices_without_replacement(batch, d_max):
  idx = _noise_indices(batch, d_max, replace=False)
  assert idx.shape == (batch, d_max)
  assert idx.min() >= 0 and idx.max() < batch
  assert not np.any(idx == np.arange(batch)[:, None])  # never the example itself
  assert all(len(set(row)) == d_max for row in idx)  # without replacement
  if batch > d_max + 1:  # different rows choose different subsets
    assert len({tuple(sorted(row)) for row in idx}) > 1


def test_indices_with_replacement():
  idx = _noise_indices(20, 64, replace=True)  # with replacement d_max may exceed the batch
  assert idx.shape == (20, 64) and idx.min() >= 0 and idx.max() < 20
  assert not np.any(idx == np.arange(20)[:, None])
  assert any(len(set(row)) < 64 for row in idx)


def test_unknown_batch_dimension_and_small_batch_error():
  channel = en.EchoChannel(d_max=8)

  @tf.function(input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([None, 3])])
  def sample(f, log_s):
    return channel.sample(f, log_s)

  for n in (9, 40):
    assert sample(tf.zeros([n, 3]), tf.zeros([n, 3])).shape == (n, 3)
  with pytest.raises(tf.errors.InvalidArgumentError, match="at least d_max \\+ 1 = 9"):
    sample(tf.zeros([8, 3]), tf.zeros([8, 3]))
  with pytest.raises(ValueError, match="d_max=64 needs a batch of at least d_max \\+ 1 = 65"):
    en.echo_sample(tf.zeros([64, 3]), tf.zeros([64, 3]), d_max=64)


def _toy_maps(x):
  """1-D toy channel: f(x) = tanh(x), pre-activation of s(x) = 0.6 x + 0.5 (x ~ U(-2, 2))."""
  x = np.asarray(x, np.float32)
  return np.tanh(x), np.log(1 / (1 + np.exp(-(0.6 * x + 0.5))))


def _toy_channel(n, seed, d_max=64):
  """Samples x, z and the noise eps = (z - f(x)) / s(x) of the toy channel via `echo_sample`."""
  x = np.random.RandomState(seed).uniform(-2, 2, size=n).astype(np.float32)
  f_x, log_s_x = (a[:, None] for a in _toy_maps(x))
  z = en.echo_sample(f_x, log_s_x, d_max=d_max,
                     generator=tf.random.Generator.from_seed(seed)).numpy()[:, 0]
  s = np.exp(en.EchoChannel(d_max).log_clip + log_s_x)[:, 0]
  return x, z, (z - f_x[:, 0]) / s


def _iid_series(n, seed, terms=64):
  """Reference noise: the series with fresh iid x^(l) for every sample, in float64 numpy."""
  x = np.random.RandomState(seed).uniform(-2, 2, size=(n, terms))
  f, log_s = (a.astype(np.float64) for a in _toy_maps(x))
  log_s = log_s + en.EchoChannel(terms).log_clip
  return (np.exp(np.cumsum(log_s, axis=1) - log_s) * f).sum(1)


def test_lemma_2_1_noise_and_output_equal_in_distribution():
  # z = f(x) + s(x) eps from echo_sample, its noise eps, and an independent iid series: one law.
  # (Samples of one batch share noise examples, so each is compared with iid reference samples.)
  _, z, eps = _toy_channel(8000, seed=0)
  reference = _iid_series(8000, seed=1)
  assert stats.ks_2samp(z, reference).pvalue > 0.01
  assert stats.ks_2samp(eps, reference).pvalue > 0.01
  # The test has power: codes are not distributed like f(x) alone, nor like a shifted noise.
  x, _, _ = _toy_channel(8000, seed=2)
  assert stats.ks_2samp(z, np.tanh(x)).pvalue < 1e-6
  assert stats.ks_2samp(z, reference + 0.05).pvalue < 1e-3


@pytest.mark.slow  # 10 s of Monte Carlo; Lemma 2.1 and the rate's closed forms stay fast
def test_theorem_2_2_exact_rate_matches_numerical_mutual_information():
  # I(x; z) = E log p(z | x) / p(z), with p(z | x) = p_eps((z - f(x)) / s(x)) / s(x), p_eps a
  # histogram (1,000 bins) of 200,000 noise samples and p(z) = E_x' p(z | x') over a grid of 400 x'.
  eps = np.concatenate([_toy_channel(2000, seed=s)[2] for s in range(100)])
  hist, edges = np.histogram(eps, bins=1000, density=True)
  centres = (edges[:-1] + edges[1:]) / 2

  def p_eps(e):
    return np.maximum(np.interp(e, centres, hist, left=0.0, right=0.0), 1e-12)

  r_log = en.EchoChannel(64).log_clip
  grid = np.linspace(-2, 2, 401)[:-1] + 0.005
  f_grid, log_s_grid = _toy_maps(grid)
  s_grid = np.exp(r_log + log_s_grid)
  x, z, _ = _toy_channel(10000, seed=99)
  f_x, log_s_x = _toy_maps(x)
  s_x = np.exp(r_log + log_s_x)
  cond = p_eps((z - f_x) / s_x) / s_x
  marginal = np.mean(p_eps((z[:, None] - f_grid[None]) / s_grid[None]) / s_grid[None], axis=1)
  numeric = float(np.mean(np.log(cond / marginal)))
  exact = float(np.mean(-np.log(s_grid)))  # Theorem 2.2: -E log s(x)
  assert 0.5 < exact < 1.0
  assert numeric == pytest.approx(exact, abs=0.04)


def test_gradients_flow_through_noise_terms():
  channel = en.EchoChannel(d_max=8)
  f = tf.Variable(tf.random.uniform([12, 3], -0.5, 0.5, seed=1))
  log_s = tf.Variable(tf.fill([12, 3], -0.3))
  with tf.GradientTape() as tape:
    z = channel.sample(tf.tanh(f), log_s, tf.random.Generator.from_seed(3))
    loss = tf.reduce_sum(z[0])  # the first example's code only
  g_f, g_s = tape.gradient(loss, [f, log_s])
  # Other examples reach z[0] only through its noise: their f and s must get gradient.
  assert np.count_nonzero(np.abs(g_f.numpy()[1:]).sum(1)) == 8
  assert np.count_nonzero(np.abs(g_s.numpy()[1:]).sum(1)) >= 7  # the last term's s is unused
  assert np.all(np.abs(g_f.numpy()[0]) > 0) and np.all(np.abs(g_s.numpy()[0]) > 0)

"""Networks, heads, objective terms and one compiled training step."""
import numpy as np
import pytest
import tensorflow as tf

from echo_suite import echo_noise
from echo_suite.models import heads, networks, objective
from echo_suite.models.autoencoder import Autoencoder


def test_locatello_shapes():
  enc = networks.conv_encoder(20)
  dec = networks.deconv_decoder(10)
  assert enc(tf.zeros([2, 64, 64, 1])).shape == (2, 20)
  assert dec(tf.zeros([2, 10])).shape == (2, 64, 64, 1)
  convs = [l for l in enc.layers if "conv" in l.name]
  assert [l.filters for l in convs] == [32, 32, 64, 64]
  assert [l.kernel_size for l in convs] == [(4, 4), (4, 4), (2, 2), (2, 2)]
  assert all(l.strides == (2, 2) for l in convs)
  # disentanglement_lib's conv_encoder, published parameter counts (10 Gaussian latents).
  assert [l.count_params() for l in convs] == [544, 16416, 8256, 16448]
  assert [l.count_params() for l in enc.layers if "dense" in l.name] == [262400, 2 * 2570]
  assert [l.output.shape[1:] for l in convs] == [(32, 32, 32), (16, 16, 32), (8, 8, 64),
                                                 (4, 4, 64)]
  dense = [l.units for l in dec.layers if "dense" in l.name]
  assert dense == [256, 1024]
  deconvs = [l.filters for l in dec.layers if "transpose" in l.name]
  assert deconvs == [64, 32, 32, 1]


def test_discriminator_is_6_by_1000_leaky_relu():
  disc = networks.discriminator(10)
  dense = [l for l in disc.layers if "dense" in l.name]
  assert [l.units for l in dense] == [1000] * 6 + [2]
  leaky = [l for l in disc.layers if "leaky" in l.name]
  assert len(leaky) == 6 and all(l.negative_slope == pytest.approx(0.2) for l in leaky)


def test_gaussian_kl_matches_closed_form():
  mean, log_var = np.array([[0.5, -1.0]]), np.array([[0.2, -0.7]])
  h = tf.constant(np.concatenate([mean, log_var], 1), tf.float32)
  _, kl, rep = heads.GaussianHead()(h, tf.random.Generator.from_seed(0))
  var = np.exp(log_var)
  np.testing.assert_allclose(kl.numpy(), 0.5 * (mean ** 2 + var - log_var - 1), rtol=1e-5)
  np.testing.assert_allclose(rep.numpy(), mean, rtol=1e-6)


@pytest.mark.parametrize("f_param,scale,bound", [("public", 16.0, 1.0), ("public", 1.0, 1.0),
                                                 ("stretched", 16.0, 16.0)])
def test_echo_head_rate_is_minus_log_clipped_sigmoid(f_param, scale, bound):
  head = heads.EchoHead(d_max=8, f_param=f_param, f_scale=scale)
  h = tf.random.stateless_normal([16, 6], seed=[1, 2]) * 20
  z, rate, rep = head(h, tf.random.Generator.from_seed(0))
  r = echo_noise.solve_clip(8, bound=bound)  # the clip is solved for the bound of f
  assert head.channel.clip == pytest.approx(r) and head.f_bound == bound
  pre_s = h.numpy()[:, 3:]
  np.testing.assert_allclose(rate.numpy(), -np.log(r / (1 + np.exp(-pre_s))), rtol=1e-5)
  np.testing.assert_allclose(rep.numpy(), bound * np.tanh(h.numpy()[:, :3] / scale), rtol=1e-5)
  assert np.abs(rep.numpy()).max() <= bound
  assert z.shape == (16, 3) and not np.allclose(z.numpy(), rep.numpy())
  assert head.min_rate_per_dim() == pytest.approx(-np.log(r))


def test_public_parametrisation_reproduces_the_papers_clip_and_floor():
  # brekelma/echo's dSprites config: tanh16 (bound 1), d_max 64, clip 0.7622.
  head = heads.EchoHead(d_max=64, f_param="public", f_scale=16.0)
  assert head.channel.clip == pytest.approx(0.7622, abs=1e-4)
  assert 10 * head.min_rate_per_dim() == pytest.approx(-10 * np.log(0.7622), abs=1e-3)
  stretched = heads.EchoHead(d_max=63, f_param="stretched", f_scale=16.0)
  assert stretched.channel.clip == pytest.approx(0.7278, abs=1e-4)
  assert stretched.min_rate_per_dim() == pytest.approx(-np.log(0.7278), abs=1e-4)
  with pytest.raises(ValueError, match="unknown f parametrisation 'tanh'"):
    heads.EchoHead(f_param="tanh")


@pytest.mark.parametrize("name", ["echo", "vae"])
def test_sampled_codes_are_noisy_codes_reproducible_by_seed(name):
  model = Autoencoder(name=name, d_max=15)
  rng = np.random.RandomState(0)
  images = (rng.rand(8, 64, 64, 1) > 0.7).astype(np.float32)
  extra = (rng.rand(16, 64, 64, 1) > 0.7).astype(np.float32)
  a = model.sample_codes(images, extra, tf.random.Generator.from_seed(3), batch_size=4)
  b = model.sample_codes(images, extra, tf.random.Generator.from_seed(3), batch_size=4)
  mean = model.representation_function(images)
  np.testing.assert_array_equal(a, b)
  assert a.shape == mean.shape == (8, 10) and not np.allclose(a, mean, rtol=1e-2, atol=0)


@pytest.mark.parametrize("name", ["echo", pytest.param("vae", marks=pytest.mark.slow)])
def test_sampled_codes_from_the_code_table_equal_those_from_images(name):
  """The table path (stored loc and log scale, no images) draws the noisy codes the image path
  draws for the same seed: same extra examples, same noise; equal up to the round-off of
  encoding in other batch shapes."""
  from echo_suite.data import ground_truth
  from echo_suite.data.grid import FACTOR_SIZES
  from echo_suite.metrics import code_table
  keep = np.zeros(FACTOR_SIZES, bool)
  keep[0, :, :2, ::3, ::3, ::3] = True  # 3 x 6 x 2 x 11 x 11 = 4,356 images
  data = ground_truth.DSprites(keep=keep)
  model = Autoencoder(name=name, d_max=15)
  loc, log_scale = model.channel_params_function(data.observations(data.kept_indices))
  np.testing.assert_allclose(loc, model.representation_function(
      data.observations(data.kept_indices)), rtol=1e-5, atol=1e-6)
  table = code_table.CodeTableData(data, loc, data.kept_indices, log_scale)
  from_table = table.sampled_representation_function(model.sample_from_params, seed=3)
  generator, rng = tf.random.Generator.from_seed(3), np.random.RandomState(4)
  from_images = lambda images: model.sample_codes(  # noqa: E731
      images, data.sample_observations(code_table.NOISE_POOL, rng), generator)
  calls = np.random.RandomState(0).choice(data.kept_indices, 1100 + 30)
  for idx in (calls[:1100], calls[1100:]):  # the first call spans two chunks of 1,024
    a, b = from_table(idx), from_images(data.observations(idx))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    assert not np.allclose(a, table.representation_function(idx), rtol=1e-2, atol=0)  # noisy
  with pytest.raises(ValueError, match="no log noise scales"):
    code_table.CodeTableData(data, loc, data.kept_indices).sampled_representation_function(
        model.sample_from_params, seed=3)


def test_distortion_is_summed_bernoulli_nll():
  images = tf.constant(np.random.RandomState(0).rand(3, 64, 64, 1) > 0.5, tf.float32)
  logits = tf.zeros([3, 64, 64, 1])
  assert objective.distortion(images, logits).numpy() == pytest.approx(4096 * np.log(2), rel=1e-5)


def test_permute_dims_shuffles_each_dimension_independently():
  z = tf.constant(np.arange(200, dtype=np.float32).reshape(50, 4))
  zp = objective.permute_dims(z, tf.random.Generator.from_seed(0)).numpy()
  for j in range(4):  # each column is a permutation of itself
    np.testing.assert_array_equal(np.sort(zp[:, j]), z.numpy()[:, j])
  rows = (zp - np.arange(4)) / 4  # original row of each entry
  assert not np.all(rows == rows[:, :1])  # columns are not permuted together


def test_total_correlation_and_discriminator_loss():
  real = tf.constant([[2.0, 0.0], [1.0, -1.0]])
  perm = tf.constant([[0.0, 3.0], [1.0, 0.0]])
  assert objective.total_correlation(real).numpy() == pytest.approx(2.0)
  loss, acc = objective.discriminator_loss(real, perm)
  assert acc.numpy() == pytest.approx(0.75)  # perm[1] is called real
  ce = lambda l, k: -np.log(np.exp(l[k]) / np.exp(l).sum())  # noqa: E731
  expected = 0.5 * (np.mean([ce(r, 0) for r in real.numpy()]) +
                    np.mean([ce(p, 1) for p in perm.numpy()]))
  assert loss.numpy() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name,gamma", [("vae", 0.0), ("echo", 0.0),
                                        pytest.param("echo", 5.0, marks=pytest.mark.slow)])
def test_training_step_reduces_loss_on_a_fixed_batch(name, gamma):
  model = Autoencoder(name=name, gamma=gamma, d_max=15, seed=0, learning_rate=1e-3)
  images = tf.constant(np.random.RandomState(0).rand(16, 64, 64, 1) > 0.9, tf.float32)
  first = model.train_step(images)
  for _ in range(40):
    logs = model.train_step(images)
  assert logs["distortion"].numpy() < 0.7 * first["distortion"].numpy()
  assert ("tc" in logs) == (gamma > 0)
  if gamma > 0:
    assert 0.0 <= logs["disc_accuracy"].numpy() <= 1.0 and np.isfinite(logs["tc"].numpy())


def test_representation_function_is_deterministic_numpy():
  model = Autoencoder(name="echo", d_max=15)
  x = (np.random.RandomState(1).rand(10, 64 * 64) > 0.9).astype(np.float32)
  a = model.representation_function(x, batch_size=4)
  b = model.representation_function(x.reshape(10, 64, 64, 1))
  assert isinstance(a, np.ndarray) and a.shape == (10, 10)
  # Other batch shapes sum in another order on some CPUs (AVX2): equal up to round-off.
  np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(a, model.representation_function(x, batch_size=4))
  assert np.all(np.abs(a) <= 16.0)  # Echo's f(x) = 16 tanh(h / 16)


def test_bad_model_arguments():
  with pytest.raises(ValueError, match=r"unknown model 'gan'.*echo.*vae"):
    Autoencoder(name="gan")
  with pytest.raises(ValueError, match="beta=-1"):
    Autoencoder(beta=-1)
  with pytest.raises(ValueError, match="gamma=-2"):
    Autoencoder(gamma=-2)
  with pytest.raises(ValueError, match=r"batch_size=64 is too small .* d_max=64"):
    Autoencoder(name="echo", d_max=64).check_batch_size(64)
  Autoencoder(name="vae", d_max=64).check_batch_size(8)  # no Echo, no constraint


def test_analytic_flops_match_the_layers():
  # Forward FLOPs from the built layers: 2 x kernel size x output pixels for convs and dense,
  # input pixels for stride-2 transposed convs (each input pixel scatters one kernel).
  enc, dec = networks.conv_encoder(20), networks.deconv_decoder(10)
  forward, shape = 0, (64, 64)
  for layer in enc.layers + dec.layers:
    if "transpose" in layer.name:
      forward += 2 * int(np.prod(layer.kernel.shape)) * shape[0] * shape[1]
      shape = (shape[0] * 2, shape[1] * 2)
    elif "conv" in layer.name:
      shape = (shape[0] // 2, shape[1] // 2)
      forward += 2 * int(np.prod(layer.kernel.shape)) * shape[0] * shape[1]
    elif "dense" in layer.name:
      forward += 2 * int(np.prod(layer.kernel.shape))
    elif "reshape" in layer.name:
      shape = (4, 4)
  assert networks.analytic_flops(1) == 3 * forward
  assert networks.analytic_flops(64) == pytest.approx(5.33e9, rel=0.01)


def test_rate_warmup_ramps_beta_linearly():
  model = Autoencoder(name="vae", beta=4.0, rate_warmup_steps=10)
  assert float(model.rate_weight()) == 0.0
  images = tf.zeros([8, 64, 64, 1])
  for _ in range(5):
    model.train_step(images)
  assert float(model.rate_weight()) == pytest.approx(2.0)
  assert Autoencoder(name="vae", beta=4.0).rate_weight() == 4.0  # no ramp by default

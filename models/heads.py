"""Encoder heads: turn the encoder's pre-activations into a noisy code, its rate, and the
deterministic representation used for evaluation. One head per channel, same interface."""
from echo_suite.quiet_tensorflow import tf

from echo_suite import echo_noise


class GaussianHead:
  """beta-VAE head: z = mu + sigma * N(0, I); rate = KL(q(z|x) || N(0, I)) per dimension, an upper
  bound on I(x; z). Representation: the mean mu."""

  def num_outputs(self, num_latents):
    return 2 * num_latents

  def __call__(self, h, generator):
    mean, log_var = tf.split(h, 2, axis=-1)
    z = self.sample(mean, 0.5 * log_var, generator)
    kl = 0.5 * (tf.square(mean) + tf.exp(log_var) - log_var - 1.0)
    return z, kl, mean

  def channel_params(self, h):
    """(mu, log sigma): the representation and the log noise scale of each example."""
    mean, log_var = tf.split(h, 2, axis=-1)
    return mean, 0.5 * log_var

  def sample(self, loc, log_scale, generator):
    """z = mu + sigma eps, eps ~ N(0, I), from `channel_params`."""
    return loc + tf.exp(log_scale) * generator.normal(tf.shape(loc))

  def representation(self, h):
    return tf.split(h, 2, axis=-1)[0]

  def moments(self, h):
    """(mean, log variance) of q(z | x): what the zoo's penalties need."""
    return tuple(tf.split(h, 2, axis=-1))

  def min_rate_per_dim(self):
    return 0.0


F_PARAMS = ("public", "stretched")


class EchoHead:
  """Echo head (paper Sec. 2): z = f(x) + s(x) eps with eps Echo noise over the batch; s(x) =
  clip * sigmoid, in log space; rate = -log s(x) per dimension, exact (Thm. 2.2).
  Representation: f(x).

  f(x) has two parametrisations, each with its bound M, for which the clip is solved (App. B):
  - 'public': f = tanh(h / f_scale), M = 1 (brekelma/echo's `tanh16` for f_scale = 16: the input is
    scaled, the output stays in [-1, 1]); with d_max 64 its clip is the paper's 0.7622.
  - 'stretched': f = f_scale * tanh(h / f_scale), M = f_scale.

  Args:
    d_max: noise terms per sample (batch must be larger).
    clip: r; None solves App. B for d_max and the bound M.
    replace: draw noise examples with replacement.
    f_param: 'public' or 'stretched'.
    f_scale: the scale s_in of 'public', the bound M of 'stretched'.
  """

  def __init__(self, d_max=64, clip=None, replace=False, f_param="public", f_scale=16.0):
    if f_param not in F_PARAMS:
      raise ValueError(f"unknown f parametrisation {f_param!r}; choose one of {list(F_PARAMS)}")
    if not f_scale > 0:
      raise ValueError(f"f_scale={f_scale!r} must be > 0")
    self.f_param, self.f_scale = f_param, float(f_scale)
    self.f_bound = 1.0 if f_param == "public" else self.f_scale
    self.channel = echo_noise.EchoChannel(d_max=d_max, clip=clip, bound=self.f_bound,
                                          replace=replace)

  def _f(self, pre_f):
    return self.f_bound * tf.tanh(pre_f / self.f_scale)

  def num_outputs(self, num_latents):
    return 2 * num_latents

  def __call__(self, h, generator):
    pre_f, pre_s = tf.split(h, 2, axis=-1)
    f_x, log_s_x = self._f(pre_f), tf.math.log_sigmoid(pre_s)
    z = self.channel.sample(f_x, log_s_x, generator)
    return z, self.channel.rate(log_s_x, per_dimension=True), f_x

  def channel_params(self, h):
    """(f(x), log s(x)): the representation and the clipped log noise scale of each example."""
    pre_f, pre_s = tf.split(h, 2, axis=-1)
    return self._f(pre_f), self.channel.log_scale(tf.math.log_sigmoid(pre_s))

  def sample(self, loc, log_scale, generator):
    """z = f(x) + S(x) eps from `channel_params` of a batch: Echo noise is built from the other
    rows, so the rows must be examples of one batch (at least d_max + 1)."""
    return self.channel.sample_scaled(loc, log_scale, generator)

  def representation(self, h):
    return self._f(tf.split(h, 2, axis=-1)[0])

  def min_rate_per_dim(self):
    return self.channel.min_rate_per_dim

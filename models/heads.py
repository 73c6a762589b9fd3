"""Encoder heads: turn the encoder's pre-activations into a noisy code, its rate, and the
deterministic representation used for evaluation. One head per channel, same interface."""
import tensorflow as tf

import echo_noise


class GaussianHead:
  """beta-VAE head: z = mu + sigma * N(0, I); rate = KL(q(z|x) || N(0, I)) per dimension, an upper
  bound on I(x; z). Representation: the mean mu."""

  name = "vae"

  def num_outputs(self, num_latents):
    return 2 * num_latents

  def __call__(self, h, generator):
    mean, log_var = tf.split(h, 2, axis=-1)
    z = mean + tf.exp(0.5 * log_var) * generator.normal(tf.shape(mean))
    kl = 0.5 * (tf.square(mean) + tf.exp(log_var) - log_var - 1.0)
    return z, kl, mean

  def representation(self, h):
    return tf.split(h, 2, axis=-1)[0]

  def min_rate_per_dim(self):
    return 0.0


class EchoHead:
  """Echo head: f(x) = tanh (bounded by M = 1), s(x) = clip * sigmoid, in log space; z from Echo
  noise over the batch; rate = -log s(x) per dimension, exact (Thm. 2.2). Representation: f(x).

  Args:
    d_max: noise terms per sample (batch must be larger).
    clip: r; None solves App. B for d_max and M = 1.
    replace: draw noise examples with replacement.
  """

  name = "echo"

  def __init__(self, d_max=64, clip=None, replace=False):
    self.channel = echo_noise.EchoChannel(d_max=d_max, clip=clip, bound=1.0, replace=replace)

  def num_outputs(self, num_latents):
    return 2 * num_latents

  def __call__(self, h, generator):
    pre_f, pre_s = tf.split(h, 2, axis=-1)
    f_x, log_s_x = tf.tanh(pre_f), tf.math.log_sigmoid(pre_s)
    z = self.channel.sample(f_x, log_s_x, generator)
    return z, self.channel.rate(log_s_x, per_dimension=True), f_x

  def representation(self, h):
    return tf.tanh(tf.split(h, 2, axis=-1)[0])

  def min_rate_per_dim(self):
    return self.channel.min_rate_per_dim

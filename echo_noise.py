"""Echo noise: the channel of Brekelmans et al., "Exact Rate-Distortion in Autoencoders via Echo
Noise" (NeurIPS 2019), and its exact rate. Standalone: imports only numpy and tensorflow, so the
file can be copied into any project.

    z = f(x) + S(x) eps,   eps = sum_{l >= 0} (prod_{j < l} S(x^(j))) f(x^(l))      (Sec. 2, Eq. 2)
    I(x; z) = -E_x log |det S(x)|  = -E_x sum_j log s_j(x)   for diagonal S           (Thm. 2.2)

The noise samples x^(l) are the other examples of the batch. The series is truncated after d_max
terms; with |f| <= M and s = r * sigmoid(.), the remainder is below float32 epsilon when
M r^d_max / (1 - r) < 2^-23 (App. B). `clip=None` solves that for r; sampling and rate always use
the same r, which is the whole point of passing one `EchoChannel` (or the same arguments) to both.

Usage:
    f_x = tf.tanh(h1)                     # bounded by M = 1
    log_s_x = tf.math.log_sigmoid(h2)     # <= 0; the clip r is applied here, not by the caller
    z = echo_sample(f_x, log_s_x, d_max=64)
    rate = echo_loss(log_s_x, d_max=64)   # nats per example, exact
"""
import math

import numpy as np
import tensorflow as tf

FLOAT32_EPS = 2.0 ** -23


def solve_clip(d_max, bound=1.0, eps=FLOAT32_EPS):
  """Largest r in (0, 1) with bound * r^d_max / (1 - r) <= eps (App. B): 0.8359 for d_max = 100,
  0.7622 for d_max = 64, at bound M = 1.

  Args:
    d_max: number of noise terms kept.
    bound: M, the bound on |f(x)|.
    eps: tolerated truncation remainder.

  Returns:
    r as a Python float.
  """
  if int(d_max) != d_max or d_max < 1:
    raise ValueError(f"d_max={d_max!r} must be an integer >= 1")
  lo, hi = 0.0, 1.0
  for _ in range(200):  # bisection: the remainder bound increases monotonically in r
    mid = (lo + hi) / 2
    if bound * mid ** d_max / (1 - mid) <= eps:
      lo = mid
    else:
      hi = mid
  return lo


def truncation_remainder(clip, d_max, bound=1.0):
  """Bound on the magnitude of the dropped terms: M r^d_max / (1 - r)."""
  return bound * clip ** d_max / (1 - clip)


def _noise_indices(batch_size, d_max, replace, seed_or_generator):
  """(batch, d_max) indices of other batch examples: without replacement, each row is d_max
  distinct indices != its own row; with replacement, any indices != its own row."""
  gen = seed_or_generator
  if replace:
    draw = (gen.uniform([batch_size, d_max], 0, batch_size - 1, dtype=tf.int32) if gen is not None
            else tf.random.uniform([batch_size, d_max], 0, batch_size - 1, dtype=tf.int32))
    own = tf.range(batch_size)[:, None]
    return draw + tf.cast(draw >= own, tf.int32)  # skip the row's own index
  shape = [batch_size, batch_size]
  keys = gen.uniform(shape) if gen is not None else tf.random.uniform(shape)
  keys = keys + tf.eye(batch_size) * 2.0  # own index sorts last: keys are < 1 elsewhere
  return tf.math.top_k(-keys, k=d_max, sorted=False).indices  # a random d_max-subset per row


class EchoChannel:
  """The Echo channel with one clip constant shared by sampling and rate.

  Args:
    d_max: number of noise terms (other batch examples) per sample; the batch needs >= d_max + 1.
    clip: r, the largest value of s(x); None solves App. B's condition for (d_max, bound).
    bound: M, the bound on |f(x)| the clip is solved for (1 for tanh).
    replace: draw noise examples with replacement (default: without, as in the paper).
  """

  def __init__(self, d_max=64, clip=None, bound=1.0, replace=False):
    self.d_max = int(d_max)
    self.clip = float(solve_clip(self.d_max, bound) if clip is None else clip)
    if not 0.0 < self.clip < 1.0:
      raise ValueError(f"clip={clip!r} must lie in (0, 1): the series converges only for r < 1")
    self.bound = float(bound)
    self.replace = bool(replace)
    self.log_clip = math.log(self.clip)

  @property
  def min_rate_per_dim(self):
    """Lowest achievable rate per latent dimension, -log r nats (s(x) <= r)."""
    return -self.log_clip

  def log_scale(self, log_s_x):
    """log s(x) = log r + log_s_x, the clipped log noise scale."""
    return self.log_clip + log_s_x

  def sample(self, f_x, log_s_x, generator=None):
    """z = f(x) + S(x) eps for a batch; see `echo_sample`."""
    f_x = tf.convert_to_tensor(f_x)
    return self.sample_scaled(f_x, self.log_scale(tf.cast(log_s_x, f_x.dtype)), generator)

  def sample_scaled(self, f_x, log_s, generator=None):
    """As `sample`, from the clipped log scales log s(x) = `log_scale(log_s_x)` (e.g. stored)."""
    f_x = tf.convert_to_tensor(f_x)
    log_s = tf.cast(log_s, f_x.dtype)
    if f_x.shape[0] is not None and f_x.shape[0] < self.d_max + 1:
      raise ValueError(f"Echo noise with d_max={self.d_max} needs a batch of at least "
                       f"d_max + 1 = {self.d_max + 1} examples, got {f_x.shape[0]}")
    batch_size = tf.shape(f_x)[0]
    tf.debugging.assert_greater_equal(  # the same check when the batch size is only known at run time
        batch_size, self.d_max + 1,
        message=f"Echo noise needs a batch of at least d_max + 1 = {self.d_max + 1} examples")
    idx = _noise_indices(batch_size, self.d_max, self.replace, generator)
    f_l = tf.gather(f_x, idx)  # (batch, d_max, dim): f(x^(l))
    log_s_l = tf.gather(log_s, idx)
    # prod_{j<l} S(x^(j)) in log space: an exclusive cumulative sum over the noise terms.
    weights = tf.exp(tf.math.cumsum(log_s_l, axis=1, exclusive=True))
    eps = tf.reduce_sum(weights * f_l, axis=1)
    return f_x + tf.exp(log_s) * eps

  def rate(self, log_s_x, per_dimension=False):
    """Exact I(x; z) in nats (Thm. 2.2): -sum_j log s_j(x), per example (or per dimension)."""
    per_dim = -self.log_scale(log_s_x)
    return per_dim if per_dimension else tf.reduce_sum(per_dim, axis=-1)


def echo_sample(f_x, log_s_x, d_max=64, replace=False, clip=None, bound=1.0, generator=None):
  """Sample z = f(x) + S(x) eps with Echo noise built from the other examples of the batch.

  Vectorised: noise indices come from one top-k over random keys (without replacement) or one
  uniform draw (with replacement); no Python loop, no tf.while_loop; the batch dimension may be
  unknown when traced.

  Args:
    f_x: (batch, dim) encoder means, |f| <= bound.
    log_s_x: (batch, dim) unclipped log scales, <= 0 (e.g. log_sigmoid); the clip is applied here.
    d_max: noise terms per sample; the batch must hold at least d_max + 1 examples.
    replace: draw the noise examples with replacement.
    clip: r; None solves App. B for (d_max, bound). Pass the same value to `echo_loss`.
    bound: M used to solve the clip.
    generator: optional tf.random.Generator for reproducible noise.

  Returns:
    (batch, dim) noisy codes z.
  """
  return EchoChannel(d_max, clip, bound, replace).sample(f_x, log_s_x, generator)


def echo_loss(log_s_x, d_max=64, clip=None, bound=1.0, per_dimension=False):
  """Exact rate I(x; z) = -sum_j log(r sigmoid_j) in nats, per example (Thm. 2.2).

  Args:
    log_s_x: (batch, dim) unclipped log scales, as given to `echo_sample`.
    d_max, clip, bound: as given to `echo_sample`; they fix the same r.
    per_dimension: return (batch, dim) rates instead of their sum.

  Returns:
    (batch,) or (batch, dim) rates in nats.
  """
  return EchoChannel(d_max, clip, bound).rate(log_s_x, per_dimension)


if __name__ == "__main__":
  for d in (64, 100):
    r = solve_clip(d)
    print(f"d_max={d}: clip r={r:.4f}, remainder {truncation_remainder(r, d):.2e}, "
          f"lowest rate {-np.log(r):.4f} nats/dim")

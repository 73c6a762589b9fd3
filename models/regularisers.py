"""The model zoo as penalties on a Gaussian encoder: each adds its term to distortion + beta * rate.

| model        | loss                                                     | paper                    |
|--------------|----------------------------------------------------------|--------------------------|
| vae          | D + beta KL (+ gamma TC by a discriminator: FactorVAE)   | Higgins 2017, Kim 2018   |
| beta_tcvae   | D + beta KL + gamma TC_mws                               | Chen et al. 2018, Eq. 4  |
| dip_vae_i    | D + beta KL + l_od sum_{i!=j} C_ij^2 + l_d sum_i (C_ii-1)^2, C = Cov[mu(x)] | Kumar 2018, Eq. 6 |
| dip_vae_ii   | same with C = Cov[mu(x)] + E[diag sigma^2(x)]            | Kumar et al. 2018, Eq. 7 |
| annealed_vae | D + gamma |KL - C(t)|, C(t) = c_max min(1, t / T)        | Burgess et al. 2018, Eq. 8 |
| info_vae     | D + beta KL + gamma MMD_k(q(z), N(0, I))                 | Zhao et al. 2017, Eq. 6  |

beta-TCVAE's weight: Chen et al.'s beta multiplies TC inside KL = MI + TC + dim-wise KL, so their
loss is D + KL + (beta_Chen - 1) TC; here gamma is the weight *added* on TC, gamma = beta_Chen - 1
at beta = 1 (disentanglement_lib's beta_tc_vae.beta = gamma + 1).

Defaults follow Locatello et al. (2019)'s study and disentanglement_lib's model gin files: DIP
lambda_d = 10 lambda_od (I) or 1 lambda_od (II); annealing gamma 1000, c_max 25, T = 100,000 steps.
InfoVAE follows the echo repo's experiments/configs/info_vae.json: KL weight 1, MMD weight 999
(Zhao et al.'s alpha = 0, lambda = 1000), Gaussian kernel of bandwidth d / sqrt(2).

Every penalty is called as penalty(z, mean, log_var, rate, step, generator) and returns (its term
of the loss, {logged name: value}); models.registry says which model uses which.
"""
import math

import gin
from echo_suite.quiet_tensorflow import tf

from echo_suite import checks

DIP_LAMBDA_D_FACTOR = {"dip_vae_i": 10.0, "dip_vae_ii": 1.0}


def gaussian_log_density(samples, mean, log_var):
  """log N(samples; mean, exp(log_var)) elementwise."""
  return -0.5 * (tf.square(samples - mean) * tf.exp(-log_var) + log_var + math.log(2 * math.pi))


def total_correlation_mws(z, mean, log_var, population=None):
  """Minibatch-weighted-sampling estimate of TC(z) = KL(q(z) || prod_j q(z_j)) on a batch (Chen et
  al. 2018, Sec. 4.1): q(z) and each q(z_j) are estimated by mixtures over the batch's posteriors
  q(. | x_i).

  Without `population`, the constant (d - 1) log(population) is left out, as disentanglement_lib
  does (it does not move the gradient). With `population = B` the estimate is that of a population
  equal to the batch: exact in expectation when q(z) is the uniform mixture of the B posteriors (0
  when they are all equal).

  Args:
    z: (B, d) samples; mean, log_var: (B, d) Gaussian parameters of q(z | x_i).
    population: size of the population the mixture stands for; None leaves the constant out.

  Returns:
    scalar: mean over the batch of log q(z) - sum_j log q(z_j).
  """
  # log q(z_b | x_i) per dimension, indexed [b, i, j]
  log_q = gaussian_log_density(z[:, None, :], mean[None, :, :], log_var[None, :, :])
  log_q_joint = tf.reduce_logsumexp(tf.reduce_sum(log_q, axis=2), axis=1)
  log_q_marginals = tf.reduce_sum(tf.reduce_logsumexp(log_q, axis=1), axis=1)
  tc = tf.reduce_mean(log_q_joint - log_q_marginals)
  if population is not None:
    d = tf.cast(tf.shape(z)[1], z.dtype)
    tc += (d - 1.0) * tf.math.log(tf.cast(population, z.dtype))
  return tc


def covariance(x):
  """Biased (1/B) covariance matrix (d, d) of the rows of x (B, d)."""
  centred = x - tf.reduce_mean(x, axis=0, keepdims=True)
  return tf.matmul(centred, centred, transpose_a=True) / tf.cast(tf.shape(x)[0], x.dtype)


def dip_covariance(mean, log_var, kind):
  """DIP-VAE's matched covariance: Cov_x[mu(x)] (kind 'i', Kumar et al. Eq. 6) or Cov_q[z] =
  Cov_x[mu(x)] + E_x[diag sigma^2(x)] (kind 'ii', Eq. 7)."""
  cov = covariance(mean)
  if kind == "ii":
    cov += tf.linalg.diag(tf.reduce_mean(tf.exp(log_var), axis=0))
  return cov


def dip_penalty(cov, lambda_od, lambda_d):
  """lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2: distance of C from the identity."""
  diag = tf.linalg.diag_part(cov)
  off_diag = cov - tf.linalg.diag(diag)
  return lambda_od * tf.reduce_sum(tf.square(off_diag)) + lambda_d * tf.reduce_sum(
      tf.square(diag - 1.0))


def capacity(step, c_max, iteration_threshold):
  """AnnealedVAE's target rate C(t) = c_max min(1, t / T) nats."""
  return c_max * tf.minimum(1.0, tf.cast(step, tf.float32) / float(iteration_threshold))


def gaussian_kernel(x, y, bandwidth):
  """k(x_i, y_j) = exp(-||x_i - y_j||^2 / (2 bandwidth^2)), (N, M)."""
  sq = tf.reduce_sum(tf.square(x[:, None, :] - y[None, :, :]), axis=-1)
  return tf.exp(-sq / (2.0 * bandwidth ** 2))


def mmd(x, y, bandwidth):
  """The biased (V-statistic) estimate of MMD^2 between the samples x (N, d) and y (M, d) under a
  Gaussian kernel (Gretton et al. 2012, Eq. 5), as InfoVAE's code computes it."""
  return (tf.reduce_mean(gaussian_kernel(x, x, bandwidth))
          + tf.reduce_mean(gaussian_kernel(y, y, bandwidth))
          - 2.0 * tf.reduce_mean(gaussian_kernel(x, y, bandwidth)))


class TCPenalty:
  """beta-TCVAE: gamma * TC_mws(z), logged with the batch as the population (>= 0 up to noise)."""

  def __init__(self, gamma):
    self.gamma = gamma

  def __call__(self, z, mean, log_var, rate, step, generator):
    tc = total_correlation_mws(z, mean, log_var, population=tf.shape(z)[0])
    return self.gamma * tc, {"tc": tc}


@gin.configurable("dip")
class DIPPenalty:
  """DIP-VAE-I/II's covariance penalty.

  Args:
    kind: 'i' or 'ii' (from the model name).
    lambda_od: weight of the off-diagonal entries (10: the middle of Locatello et al.'s sweep).
    lambda_d_factor: lambda_d = lambda_d_factor * lambda_od; None takes 10 for 'i', 1 for 'ii'.
  """

  def __init__(self, kind, lambda_od=10.0, lambda_d_factor=None):
    checks.check_number("dip.lambda_od", lambda_od, minimum=0)
    factor = DIP_LAMBDA_D_FACTOR[f"dip_vae_{kind}"] if lambda_d_factor is None else lambda_d_factor
    self.kind, self.lambda_od, self.lambda_d = kind, float(lambda_od), float(factor * lambda_od)

  def __call__(self, z, mean, log_var, rate, step, generator):
    penalty = dip_penalty(dip_covariance(mean, log_var, self.kind), self.lambda_od, self.lambda_d)
    return penalty, {"dip_penalty": penalty}


@gin.configurable("annealing")
class CapacityPenalty:
  """AnnealedVAE: gamma |KL - C(t)|, in place of beta KL.

  Args:
    gamma: weight (model.gamma; 1000 in disentanglement_lib's study).
    c_max: final capacity in nats (25).
    iteration_threshold: steps T over which C grows linearly from 0 (100,000).
  """

  def __init__(self, gamma, c_max=25.0, iteration_threshold=100000):
    checks.check_number("annealing.c_max", c_max, minimum=0)
    if int(iteration_threshold) != iteration_threshold or iteration_threshold < 1:
      raise ValueError(f"annealing.iteration_threshold={iteration_threshold!r} must be an "
                       "integer >= 1")
    self.gamma, self.c_max, self.iteration_threshold = gamma, float(c_max), int(iteration_threshold)

  def __call__(self, z, mean, log_var, rate, step, generator):
    c = capacity(step, self.c_max, self.iteration_threshold)
    return self.gamma * tf.abs(rate - c), {"capacity": c}


@gin.configurable("mmd")
class MMDPenalty:
  """InfoVAE: gamma * MMD^2(z, z'), z' ~ N(0, I) drawn afresh each step, one per example.

  Args:
    gamma: weight (model.gamma; 999 in the echo repo's info_vae.json).
    bandwidth: the Gaussian kernel's bandwidth; None takes sqrt(d^2 / 2), InfoVAE's default.
  """

  def __init__(self, gamma, bandwidth=None):
    if bandwidth is not None:  # None: InfoVAE's default
      checks.check_number("mmd.bandwidth", bandwidth, minimum=0, strict=True)
    self.gamma, self.bandwidth = gamma, bandwidth

  def __call__(self, z, mean, log_var, rate, step, generator):
    d = tf.cast(tf.shape(z)[1], z.dtype)
    bandwidth = tf.sqrt(d * d / 2.0) if self.bandwidth is None else self.bandwidth
    prior = generator.normal(tf.shape(z))
    value = mmd(z, prior, bandwidth)
    return self.gamma * value, {"mmd": value}


def make_penalty(spec, gamma):
  """The penalty of the model `spec` (a models.registry.ModelSpec) with weight `gamma`, or None
  (echo, vae: their TC, if any, comes from the FactorVAE discriminator)."""
  if spec.penalty is None:
    return None
  kwargs = {"gamma": gamma} if spec.takes_gamma else {}
  return globals()[spec.penalty](**kwargs, **spec.penalty_args)

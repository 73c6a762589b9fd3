"""Variational lower bounds on mutual information: MINE, NWJ and InfoNCE (Poole et al. 2019).

    est = MIEstimator("infonce", critic="separable")
    value, history = est.fit(x, z, epochs=20, batch_size=256)    # numpy in, float out
    mi = est.mi(x_batch, z_batch)                                 # differentiable, in a train step

The critic T(x, z) scores every pair of a batch: the diagonal holds samples of the joint p(x, z),
the off-diagonal pairs samples of the product p(x) p(z).
  - MINE (Belghazi et al. 2018): Donsker-Varadhan, E_p[T] - log E_q[e^T], with the bias-corrected
    gradient: the denominator's mean is replaced by its exponential moving average.
  - NWJ (Nguyen, Wainwright & Jordan 2010): the f-divergence bound E_p[T] - E_q[e^(T - 1)].
  - InfoNCE (van den Oord et al. 2018): E[T_ii - log mean_j e^(T_ij)] over the positive and its
    negatives; it can never exceed log(1 + number of negatives).
"""
import math

import numpy as np
from echo_suite.quiet_tensorflow import keras, tf
from tqdm import tqdm

ESTIMATORS = ("mine", "nwj", "infonce")
CRITICS = ("joint", "separable")


def _mlp(hidden, out, activation, name):
  return keras.Sequential([keras.layers.Dense(h, activation=activation) for h in hidden]
                          + [keras.layers.Dense(out)], name=name)


class MIEstimator:
  """A variational estimate of I(x; z) with a trainable critic.

  Args:
    estimator: 'mine', 'nwj' or 'infonce'.
    critic: 'joint' (MLP on [x, z]) or 'separable' (inner product of two MLP embeddings).
    hidden: hidden layer sizes of the MLP(s).
    embed_dim: embedding size of the separable critic.
    activation: hidden activation.
    learning_rate: Adam learning rate of `fit`.
    ema_decay: MINE's moving-average decay of E_q[e^T].
    num_negatives: negatives per positive (default: every other example of the batch).
    seed: seeds the critic's weights and the negative sampling.
  """

  def __init__(self, estimator="infonce", critic="separable", hidden=(256, 256), embed_dim=32,
               activation="relu", learning_rate=1e-3, ema_decay=0.99, num_negatives=None,
               seed=0):
    if estimator not in ESTIMATORS:
      raise ValueError(f"unknown estimator {estimator!r}; choose one of {list(ESTIMATORS)}")
    if critic not in CRITICS:
      raise ValueError(f"unknown critic {critic!r}; choose one of {list(CRITICS)}")
    if not 0.0 <= ema_decay < 1.0:
      raise ValueError(f"ema_decay={ema_decay!r} must lie in [0, 1)")
    if num_negatives is not None and num_negatives < 1:
      raise ValueError(f"num_negatives={num_negatives!r} must be >= 1")
    self.estimator, self.critic_kind = estimator, critic
    self.num_negatives, self.ema_decay = num_negatives, float(ema_decay)
    keras.utils.set_random_seed(seed)
    if critic == "joint":
      self.net = _mlp(hidden, 1, activation, "joint_critic")
    else:
      self.net_x = _mlp(hidden, embed_dim, activation, "critic_x")
      self.net_z = _mlp(hidden, embed_dim, activation, "critic_z")
    self.optimizer = keras.optimizers.Adam(learning_rate)
    self.ema = tf.Variable(1.0, trainable=False)  # MINE's moving average of E_q[e^T]
    self.ema_started = tf.Variable(False, trainable=False)
    self.generator = tf.random.Generator.from_seed(seed)
    self._step = None

  @property
  def trainable_variables(self):
    nets = [self.net] if self.critic_kind == "joint" else [self.net_x, self.net_z]
    return [v for n in nets for v in n.trainable_variables]

  def build(self, x_dim, z_dim):
    """Create the critic's weights for inputs of these sizes (done by `fit` before compiling)."""
    if self.critic_kind == "joint":
      self.net.build((None, x_dim + z_dim))
    else:
      self.net_x.build((None, x_dim))
      self.net_z.build((None, z_dim))
    self.optimizer.build(self.trainable_variables)

  def scores(self, x, z):
    """(B, B) critic values T(x_i, z_j)."""
    if self.critic_kind == "separable":
      return tf.matmul(self.net_x(x), self.net_z(z), transpose_b=True)
    n = tf.shape(x)[0]
    pairs = tf.concat([tf.repeat(x, n, axis=0), tf.tile(z, [n, 1])], axis=1)
    return tf.reshape(self.net(pairs), [n, n])

  def _negatives_mask(self, n):
    """(B, B) bool mask of the negatives used for each row: all off-diagonal entries, or
    num_negatives of them drawn at random."""
    off_diagonal = ~tf.eye(n, dtype=tf.bool)
    if self.num_negatives is None:
      return off_diagonal
    keys = self.generator.uniform([n, n]) + tf.eye(n) * 2.0  # the diagonal is never chosen
    k = tf.minimum(self.num_negatives, n - 1)
    threshold = -tf.math.top_k(-keys, k=k).values[:, -1:]
    return keys <= threshold

  def mi(self, x, z, update_ema=True):
    """Differentiable estimate (nats) on a batch; its gradient is the estimator's own (for MINE,
    the moving-average corrected one)."""
    x, z = tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(z, tf.float32)
    t = self.scores(x, z)
    n = tf.shape(t)[0]
    joint = tf.linalg.diag_part(t)
    mask = self._negatives_mask(n)
    num_neg = tf.reduce_sum(tf.cast(mask, tf.float32), axis=1)
    masked = tf.where(mask, t, -np.inf)
    if self.estimator == "infonce":
      # log of the mean over the positive and its negatives of e^T
      with_positive = tf.where(tf.eye(n, dtype=tf.bool), t, masked)
      lse = tf.reduce_logsumexp(with_positive, axis=1) - tf.math.log(num_neg + 1.0)
      return tf.reduce_mean(joint - lse)
    log_mean_exp_marg = (tf.reduce_logsumexp(masked) -
                         tf.math.log(tf.reduce_sum(num_neg)))  # log E_q[e^T]
    if self.estimator == "nwj":
      return tf.reduce_mean(joint) - tf.exp(log_mean_exp_marg - 1.0)
    value = tf.reduce_mean(joint) - log_mean_exp_marg  # MINE: Donsker-Varadhan
    mean_exp = tf.exp(log_mean_exp_marg)
    if update_ema:
      new = tf.where(self.ema_started,
                     self.ema_decay * self.ema + (1 - self.ema_decay) * tf.stop_gradient(mean_exp),
                     tf.stop_gradient(mean_exp))
      self.ema.assign(new)
      self.ema_started.assign(True)
    # Belghazi et al.: grad log E[e^T] ~ grad E[e^T] / EMA(E[e^T]); same value, corrected gradient.
    surrogate = tf.reduce_mean(joint) - mean_exp / tf.stop_gradient(self.ema)
    return value + surrogate - tf.stop_gradient(surrogate)

  def _train_step(self, x, z):
    with tf.GradientTape() as tape:
      value = self.mi(x, z)
      loss = -value  # inside the tape, or the gradient is lost
    grads = tape.gradient(loss, self.trainable_variables)
    self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    return value

  def estimate(self, x, z, batch_size=256):
    """The bound on held data, averaged over full batches (no training, no EMA update)."""
    x, z = check_samples(x, z)
    n = (len(x) // batch_size) * batch_size or len(x)
    values = [float(self.mi(x[i:i + batch_size], z[i:i + batch_size], update_ema=False))
              for i in range(0, n, batch_size)]
    return float(np.mean(values))

  def fit(self, x, z, epochs=10, batch_size=256, progress=True, seed=0):
    """Train the critic on samples (x_i, z_i) of the joint; returns (estimate, history).

    Args:
      x, z: (N, dx) and (N, dz) arrays of paired samples.
      epochs: passes over the data. batch_size: pairs per step (InfoNCE's cap is log batch_size).
      progress: show a progress bar. seed: seeds the shuffling.

    Returns:
      (the bound evaluated over all the data after training, per-step training estimates).
    """
    x, z = check_samples(x, z)
    if self._step is None:
      self.build(x.shape[1], z.shape[1])
      self._step = tf.function(self._train_step)
    rng = np.random.RandomState(seed)
    steps_per_epoch = max(1, len(x) // batch_size)
    history = []
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, unit="step",
               desc=f"{self.estimator} ({self.critic_kind})")
    for _ in range(epochs):
      order = rng.permutation(len(x))
      for s in range(steps_per_epoch):
        idx = order[s * batch_size:(s + 1) * batch_size]
        history.append(float(self._step(tf.constant(x[idx]), tf.constant(z[idx]))))
        bar.update(1)
      bar.set_postfix(mi=f"{np.mean(history[-steps_per_epoch:]):.3f}")
    bar.close()
    return self.estimate(x, z, batch_size), history


def check_samples(x, z):
  """Paired float32 sample arrays, checked: 2-D, same count, finite."""
  x, z = np.asarray(x, np.float32), np.asarray(z, np.float32)
  x = x.reshape(len(x), -1) if x.ndim != 2 else x
  z = z.reshape(len(z), -1) if z.ndim != 2 else z
  if len(x) != len(z):
    raise ValueError(f"x and z need the same number of samples, got {len(x)} and {len(z)}")
  for name, a in (("x", x), ("z", z)):
    if not np.all(np.isfinite(a)):
      raise ValueError(f"{name} holds {int((~np.isfinite(a)).sum())} NaN or Inf values")
  return x, z


def adaptive_gradient_clipping(main_grads, mi_grads):
  """MINE's adaptive clipping: scale the MI regulariser's gradient to at most the norm of the
  main loss's gradient, g_mi * min(|g_main|, |g_mi|) / |g_mi| (Belghazi et al. 2018, Sec. 3.3)."""
  main_norm = tf.linalg.global_norm([g for g in main_grads if g is not None])
  mi_norm = tf.linalg.global_norm([g for g in mi_grads if g is not None])
  scale = tf.minimum(main_norm, mi_norm) / (mi_norm + 1e-12)
  return [None if g is None else g * scale for g in mi_grads]


def gaussian_mi(dim, rho):
  """True I(x; z) of `dim` independent pairs of unit Gaussians with correlation rho (nats)."""
  return -0.5 * dim * math.log(1 - rho ** 2)


def rho_for_mi(dim, mi):
  """Correlation rho giving `dim` pairs a total mutual information of `mi` nats."""
  return math.sqrt(1 - math.exp(-2 * mi / dim))


def correlated_gaussians(n, dim, rho, seed=0):
  """n samples of (x, z) with z_k = rho x_k + sqrt(1 - rho^2) noise_k, all unit Gaussians."""
  rng = np.random.RandomState(seed)
  x = rng.randn(n, dim).astype(np.float32)
  z = (rho * x + math.sqrt(1 - rho ** 2) * rng.randn(n, dim)).astype(np.float32)
  return x, z

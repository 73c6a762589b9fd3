"""An autoencoder with an Echo or a Gaussian encoder head, the zoo's penalties (models.regularisers),
an optional FactorVAE discriminator, and one compiled training step for all of them."""
import os

import gin
import numpy as np
from echo_suite.quiet_tensorflow import keras, tf

from echo_suite import checks
from echo_suite import provenance
from echo_suite import rundir
from echo_suite.models import heads, networks, objective, regularisers, registry


def make_head(spec, d_max, clip, replace, f_param, f_scale):
  """The encoder head the model `spec` declares: Echo's or the Gaussian."""
  if spec.head == "echo":
    return heads.EchoHead(d_max=d_max, clip=clip, replace=replace, f_param=f_param,
                          f_scale=f_scale)
  return heads.GaussianHead()


@gin.configurable("model", denylist=["num_channels"])
class Autoencoder(tf.Module):
  """Encoder, head, decoder, the model's penalty and (echo, vae with gamma > 0) the FactorVAE
  discriminator, with their optimisers.

  Args:
    name: a model of models.registry ('echo', 'vae', 'beta_tcvae', 'dip_vae_i', 'dip_vae_ii',
      'annealed_vae', 'info_vae'); models.regularisers has their penalties.
    num_latents: code dimension (10 in the paper).
    beta: weight of the rate, >= 0 (a model that takes none keeps 1).
    gamma: weight of the model's penalty (echo, vae: TC by a FactorVAE discriminator, built when
      > 0; beta_tcvae: the minibatch-weighted TC; annealed_vae: |KL - C|; info_vae: MMD); >= 0;
      DIP-VAE takes none (its weights are dip.*). None: the model's registry default.
    d_max: Echo noise terms; the training batch must be larger.
    clip: Echo's r; None solves App. B for d_max.
    replace: Echo noise drawn with replacement.
    f_param: Echo's f(x): 'public' tanh(h / f_scale), bound 1, or 'stretched'
      f_scale tanh(h / f_scale), bound f_scale; the clip is solved for the bound (models.heads).
    f_scale: the scale of f (16, the public code's tanh16).
    learning_rate: Adam learning rate of the autoencoder (1e-4).
    disc_learning_rate, disc_beta_1, disc_beta_2: Adam of the discriminator (1e-4, 0.5, 0.9).
    rate_warmup_steps: ramp beta linearly from 0 over this many first steps (0: no ramp).
    seed: seeds the weights and the noise generator.
    jit_compile: compile the training step with XLA (slower on CPU: 11 vs 30 steps/s measured).
    num_channels: channels of the images (the data set's observation_shape[-1]; not a setting).
  """

  def __init__(self, name="echo", num_latents=10, beta=1.0, gamma=None, d_max=63, clip=None,
               replace=False, f_param="public", f_scale=16.0, learning_rate=1e-4,
               disc_learning_rate=1e-4,
               disc_beta_1=0.5, disc_beta_2=0.9, rate_warmup_steps=0, seed=0, jit_compile=False,
               num_channels=1):
    super().__init__(name="autoencoder")
    self.spec = spec = registry.get(name)
    # Two latents at least: MIG compares a factor's two most informative code dimensions.
    for arg, value, minimum in (("num_latents", num_latents, 2), ("seed", seed, 0),
                                ("rate_warmup_steps", rate_warmup_steps, 0),
                                ("num_channels", num_channels, 1)) + (
                                    (("d_max", d_max, 1),) if spec.head == "echo" else ()):
      checks.check_count(arg, value, minimum)  # int() below would truncate 2.5 silently
    for arg, value in (("learning_rate", learning_rate), ("disc_learning_rate",
                                                           disc_learning_rate)):
      checks.check_number(arg, value, minimum=0, strict=True)
    for arg, value in (("disc_beta_1", disc_beta_1), ("disc_beta_2", disc_beta_2)):
      if checks.check_number(arg, value, minimum=0) >= 1:  # Adam's decay rates
        raise ValueError(f"{arg}={value!r} must be < 1")
    self.head = make_head(spec, d_max, clip, replace, f_param, f_scale)
    gamma = spec.default_gamma if gamma is None else gamma
    spec.check_weights(beta, gamma)
    self.model_name, self.num_latents = name, int(num_latents)
    self.beta, self.gamma = float(beta), float(gamma)
    self.rate_warmup_steps = int(rate_warmup_steps)
    self.penalty = regularisers.make_penalty(spec, self.gamma)
    self.d_max = int(d_max) if spec.head == "echo" else 0
    keras.utils.set_random_seed(int(seed))
    self.num_channels = int(num_channels)
    self.encoder = networks.conv_encoder(self.head.num_outputs(self.num_latents), self.num_channels)
    self.decoder = networks.deconv_decoder(self.num_latents, self.num_channels)
    self.optimizer = keras.optimizers.Adam(learning_rate)
    self.optimizer.build(self.encoder.trainable_variables + self.decoder.trainable_variables)
    self.discriminator = None
    if spec.uses_discriminator(self.gamma):
      self.discriminator = networks.discriminator(self.num_latents)
      self.disc_optimizer = keras.optimizers.Adam(disc_learning_rate, beta_1=disc_beta_1,
                                                  beta_2=disc_beta_2)
      self.disc_optimizer.build(self.discriminator.trainable_variables)
    self.generator = tf.random.Generator.from_seed(int(seed) + 1)
    self.train_step = tf.function(self._train_step, jit_compile=jit_compile, reduce_retracing=True)
    self._encode = tf.function(self._representation, reduce_retracing=True)
    self._encode_params = tf.function(self._channel_params, reduce_retracing=True)

  def check_batch_size(self, batch_size):
    if self.spec.head == "echo" and batch_size < self.d_max + 1:
      raise ValueError(f"batch_size={batch_size} is too small for Echo noise with d_max="
                       f"{self.d_max}: need batch_size >= d_max + 1 = {self.d_max + 1}")

  def checkpoint_items(self):
    """Everything a resumed run needs: weights, optimiser states, noise generator."""
    items = dict(encoder=self.encoder, decoder=self.decoder, optimizer=self.optimizer,
                 generator=self.generator)
    if self.discriminator is not None:
      items.update(discriminator=self.discriminator, disc_optimizer=self.disc_optimizer)
    return items

  def scalar_log_names(self):
    """Names of the scalar terms `train_step` returns (it also returns 'rate_per_dim')."""
    return self.spec.log_names(self.gamma)

  def weights_fingerprint(self):
    """Fingerprint of the encoder and decoder weights: what every score and figure refers to."""
    return provenance.fingerprint(
        [v.numpy() for v in self.encoder.weights + self.decoder.weights])

  def _train_step(self, images):
    ae_vars = self.encoder.trainable_variables + self.decoder.trainable_variables
    penalty_logs = {}
    with tf.GradientTape() as tape:
      h = self.encoder(images)
      z, rate_per_dim, _ = self.head(h, self.generator)
      recon = objective.distortion(images, self.decoder(z))
      rate = tf.reduce_mean(tf.reduce_sum(rate_per_dim, axis=-1))
      loss = recon + self.rate_weight() * rate
      if self.penalty is not None:
        mean, log_var = self.head.moments(h)
        term, penalty_logs = self.penalty(z, mean, log_var, rate, self.optimizer.iterations,
                                          self.generator)
        loss += term
      if self.discriminator is not None:
        tc = objective.total_correlation(self.discriminator(z))
        loss += self.gamma * tc
    self.optimizer.apply_gradients(zip(tape.gradient(loss, ae_vars), ae_vars))
    logs = {"loss": loss, "distortion": recon, "rate": rate,
            "rate_per_dim": tf.reduce_mean(rate_per_dim, axis=0), **penalty_logs}
    if self.discriminator is not None:
      z = tf.stop_gradient(z)
      z_perm = objective.permute_dims(z, self.generator)
      d_vars = self.discriminator.trainable_variables
      with tf.GradientTape() as tape:
        d_loss, d_acc = objective.discriminator_loss(self.discriminator(z),
                                                     self.discriminator(z_perm))
      self.disc_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
      logs.update(tc=tc, disc_loss=d_loss, disc_accuracy=d_acc)
    return logs

  def rate_weight(self):
    """beta, ramped up from 0 over the first `rate_warmup_steps` steps (0 for a model whose rate
    enters through its penalty: annealed_vae)."""
    if not self.spec.rate_in_loss:
      return 0.0
    if self.rate_warmup_steps <= 0:
      return self.beta
    progress = tf.cast(self.optimizer.iterations, tf.float32) / self.rate_warmup_steps
    return self.beta * tf.minimum(1.0, progress)

  def _representation(self, images):
    return self.head.representation(self.encoder(images))

  def representation_function(self, images, batch_size=1024):
    """Deterministic codes (Gaussian mean or Echo's f(x)) of images; numpy in, numpy out, batched.

    Accepts (N, 64, 64, C) arrays, or flattened ones, as disentanglement_lib passes them.
    """
    images = self._images(images)
    return np.concatenate([self._encode(tf.constant(images[i:i + batch_size])).numpy()
                           for i in range(0, len(images), batch_size)] or
                          [np.zeros((0, self.num_latents), np.float32)])

  def _channel_params(self, images):
    return self.head.channel_params(self.encoder(images))

  def channel_params_function(self, images, batch_size=1024):
    """(loc, log scale) of images, each (N, num_latents): the deterministic code (Gaussian mean,
    Echo's f(x)) and the log noise scale (log sigma; Echo's clipped log s(x)). With them the noisy
    code can be drawn without the images (`sample_from_params`). Numpy in and out, batched."""
    images = self._images(images)
    parts = [[t.numpy() for t in self._encode_params(tf.constant(images[i:i + batch_size]))]
             for i in range(0, len(images), batch_size)]
    if not parts:
      empty = np.zeros((0, self.num_latents), np.float32)
      return empty, empty
    return tuple(np.concatenate(p) for p in zip(*parts))

  def sample_from_params(self, loc, log_scale, extra_loc, extra_log_scale, generator,
                         batch_size=1024):
    """Noisy codes z of the examples (loc, log_scale) (see `channel_params_function`), numpy in
    and out: Gaussian mu + sigma eps; Echo f(x) + S(x) eps with eps built from the other examples
    of the batch. Each chunk of `batch_size` examples is joined by the `extra` examples, so Echo
    noise always has enough other examples (d_max) to draw from; their codes are not returned.
    """
    out = []
    for i in range(0, len(loc), batch_size):
      n = len(loc[i:i + batch_size])
      z = self.head.sample(tf.constant(np.concatenate([loc[i:i + batch_size], extra_loc])),
                           tf.constant(np.concatenate([log_scale[i:i + batch_size],
                                                       extra_log_scale])), generator)
      out.append(z.numpy()[:n])  # eager: few, large calls
    return np.concatenate(out) if out else np.zeros((0, self.num_latents), np.float32)

  def sample_codes(self, images, extra, generator, batch_size=1024):
    """Noisy codes z of `images`, each chunk drawn with the `extra` images as the rest of its
    batch (`sample_from_params` of both); numpy in and out."""
    return self.sample_from_params(*self.channel_params_function(images),
                                   *self.channel_params_function(extra), generator, batch_size)

  def _images(self, images):
    """float32 (N, 64, 64, C) of images in any shape of the same size."""
    return np.asarray(images, dtype=np.float32).reshape(-1, 64, 64, self.num_channels)

  def decode(self, codes):
    """Bernoulli means (N, 64, 64, C) of the decoder at `codes`; numpy in and out."""
    return tf.sigmoid(self.decoder(tf.constant(np.asarray(codes, np.float32)))).numpy()

  def reconstruct(self, images):
    """Decoded deterministic codes (no noise) of `images`."""
    return self.decode(self.representation_function(images))

  def networks(self):
    """{'encoder': ..., 'decoder': ...}: what rundir.RunDirectory.write_weights saves and
    `load_weights` reads back."""
    return {"encoder": self.encoder, "decoder": self.decoder}

  def load_weights(self, directory):
    self.encoder.load_weights(os.path.join(directory, rundir.WEIGHTS_FILES["encoder"]))
    self.decoder.load_weights(os.path.join(directory, rundir.WEIGHTS_FILES["decoder"]))

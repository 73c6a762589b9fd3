"""The objective shared by every encoder: distortion + beta * rate + gamma * TC (paper Sec. 5.3)."""
from echo_suite.quiet_tensorflow import tf


def distortion(images, logits):
  """Bernoulli negative log-likelihood: sigmoid cross-entropy summed over pixels, batch mean."""
  ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=images, logits=logits)
  return tf.reduce_mean(tf.reduce_sum(ce, axis=[1, 2, 3]))


def permute_dims(z, generator):
  """Shuffle every latent dimension independently across the batch (FactorVAE): a sample of the
  product of the marginals q(z_1) ... q(z_d)."""
  keys = generator.uniform(tf.shape(z))
  order = tf.argsort(keys, axis=0)
  return tf.transpose(tf.gather(tf.transpose(z), tf.transpose(order), batch_dims=1))


def total_correlation(logits_real):
  """Density-ratio estimate of TC(z) = KL(q(z) || prod_j q(z_j)): mean(logit_real - logit_perm),
  with the discriminator's logit 0 for joint codes and logit 1 for permuted codes."""
  return tf.reduce_mean(logits_real[:, 0] - logits_real[:, 1])


def discriminator_loss(logits_real, logits_permuted):
  """Cross-entropy of telling joint codes (class 0) from permuted codes (class 1), and accuracy."""
  n = tf.shape(logits_real)[0]
  zeros, ones = tf.zeros([n], tf.int32), tf.ones([n], tf.int32)
  ce = tf.nn.sparse_softmax_cross_entropy_with_logits
  loss = 0.5 * (tf.reduce_mean(ce(labels=zeros, logits=logits_real))
                + tf.reduce_mean(ce(labels=ones, logits=logits_permuted)))
  correct = tf.concat([tf.cast(tf.argmax(logits_real, -1) == 0, tf.float32),
                       tf.cast(tf.argmax(logits_permuted, -1) == 1, tf.float32)], axis=0)
  return loss, tf.reduce_mean(correct)

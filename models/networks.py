"""The convolutional encoder/decoder of Locatello et al. (2019) and the FactorVAE discriminator."""
from echo_suite.quiet_tensorflow import keras

layers = keras.layers

# (filters, kernel) of the encoder's stride-2 convolutions: disentanglement_lib 1.5's conv_encoder
# and the public Echo configs use 4x4 kernels for the first two and 2x2 for the last two.
ENCODER_CONVS = ((32, 4), (32, 4), (64, 2), (64, 2))


def conv_encoder(num_outputs, num_channels=1, name="encoder"):
  """64x64xC images -> num_outputs pre-activations: conv 32-4x4, 32-4x4, 64-2x2, 64-2x2 (stride 2,
  same padding, ReLU), dense 256 (disentanglement_lib's conv_encoder)."""
  return keras.Sequential([
      keras.Input((64, 64, num_channels)),
      *[layers.Conv2D(f, k, strides=2, padding="same", activation="relu")
        for f, k in ENCODER_CONVS],
      layers.Flatten(),
      layers.Dense(256, activation="relu"),
      layers.Dense(num_outputs),
  ], name=name)


def deconv_decoder(num_latents, num_channels=1, name="decoder"):
  """Codes -> 64x64xC Bernoulli logits: dense 256, dense 1024 -> 4x4x64, deconv 64-32-32-C
  (disentanglement_lib's deconv_decoder; for colour images its Bernoulli loss on intensities in
  [0, 1], as there)."""
  return keras.Sequential([
      keras.Input((num_latents,)),
      layers.Dense(256, activation="relu"),
      layers.Dense(1024, activation="relu"),
      layers.Reshape((4, 4, 64)),
      layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu"),
      layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu"),
      layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu"),
      layers.Conv2DTranspose(num_channels, 4, strides=2, padding="same"),
  ], name=name)


def discriminator(num_latents, hidden=1000, depth=6, name="discriminator"):
  """FactorVAE's discriminator (Kim & Mnih 2018): depth x hidden dense, LeakyReLU 0.2, 2 logits."""
  stack = [keras.Input((num_latents,))]
  for _ in range(depth):
    stack += [layers.Dense(hidden), layers.LeakyReLU(negative_slope=0.2)]
  stack.append(layers.Dense(2))
  return keras.Sequential(stack, name=name)


def analytic_flops(batch_size, num_latents=10, with_discriminator=False, num_channels=1):
  """FLOPs (2 per multiply-add) of one training step of these networks, taking the backward pass
  as twice the forward one. A stride-2 transposed conv costs what the conv it transposes does."""
  def conv(hw_out, k, cin, cout):  # for a transposed conv pass the input size as hw_out
    return 2 * hw_out * hw_out * k * k * cin * cout
  enc, cin, hw = 2 * 1024 * 256 + 2 * 256 * 2 * num_latents, num_channels, 64
  for filters, kernel in ENCODER_CONVS:
    hw //= 2
    enc, cin = enc + conv(hw, kernel, cin, filters), filters
  dec = (2 * num_latents * 256 + 2 * 256 * 1024 + conv(4, 4, 64, 64) + conv(8, 4, 64, 32)
         + conv(16, 4, 32, 32) + conv(32, 4, 32, num_channels))
  flops = 3 * (enc + dec)
  if with_discriminator:
    disc = 2 * (num_latents * 1000 + 5 * 1000 * 1000 + 1000 * 2)
    flops += 3 * disc * 2 + disc  # trained on joint and permuted codes; TC term through the VAE
  return flops * batch_size

"""Autoencoders of the suite: Locatello et al.'s convolutional networks with an Echo or a Gaussian
encoder head, the shared objective distortion + beta * rate (+ a model's penalty, + gamma * TC by a
FactorVAE discriminator), and training. The zoo's penalties: models/regularisers.py."""

# Here, not in autoencoder.py, so that listing them needs no TensorFlow.
MODEL_NAMES = ("echo", "vae", "beta_tcvae", "dip_vae_i", "dip_vae_ii", "annealed_vae")
# model.gamma when not set: the weight of a model's TC (echo, vae: FactorVAE's discriminator;
# beta_tcvae: the minibatch-weighted estimate) or of AnnealedVAE's |KL - C|; DIP-VAE takes none.
DEFAULT_GAMMA = {"echo": 0.0, "vae": 0.0, "beta_tcvae": 5.0, "dip_vae_i": 0.0, "dip_vae_ii": 0.0,
                 "annealed_vae": 1000.0}
DISCRIMINATOR_MODELS = ("echo", "vae")  # gamma > 0 adds FactorVAE's discriminator to these

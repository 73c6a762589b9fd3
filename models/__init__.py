"""Autoencoders of the suite: Locatello et al.'s convolutional networks with a Gaussian (beta-VAE) or
Echo encoder head, the shared objective distortion + beta * rate + gamma * TC, and training."""

MODEL_NAMES = ("echo", "vae")  # here, not in autoencoder.py, so that listing them needs no TensorFlow

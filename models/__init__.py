"""Autoencoders of the suite: Locatello et al.'s convolutional networks with a Gaussian (beta-VAE) or
Echo encoder head, the shared objective distortion + beta * rate + gamma * TC, and training."""

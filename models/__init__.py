"""Autoencoders of the suite: Locatello et al.'s convolutional networks with an Echo or a Gaussian
encoder head, the shared objective distortion + beta * rate (+ a model's penalty, + gamma * TC by a
FactorVAE discriminator). The training loop and the run's files are training.py. Every model is declared once in models/registry.py; the
zoo's penalties are in models/regularisers.py."""

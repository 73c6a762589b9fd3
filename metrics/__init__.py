"""Disentanglement metrics: thin, gin-configurable wrappers around disentanglement_lib's functions."""
from metrics import gin_tf_compat  # noqa: F401  (must precede any disentanglement_lib import)

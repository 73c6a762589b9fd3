"""Disentanglement metrics: thin, gin-configurable wrappers around disentanglement_lib's functions."""
import gin_compat

gin_compat.install(gin_tf=True)  # must precede any disentanglement_lib import

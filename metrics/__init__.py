"""Disentanglement metrics: thin, gin-configurable wrappers around disentanglement_lib's functions."""
import gin_compat

gin_compat.import_gin_tf()  # must precede any disentanglement_lib import

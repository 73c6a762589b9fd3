"""Disentanglement metrics: thin, gin-configurable wrappers around disentanglement_lib's functions
(scores.py), their names (names.py), the self-filling code table and evaluation, and MI estimators."""

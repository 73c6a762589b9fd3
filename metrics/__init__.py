"""Disentanglement metrics: thin, gin-configurable wrappers around disentanglement_lib's functions,
each declared once in scores.py's registry; the scoring vocabulary (names.py), the self-filling
code table and evaluation, and MI estimators."""

"""The Echo disentanglement suite (Brekelmans et al. 2019, Sec. 5.3) as one package, `echo_suite`.

    from echo_suite import score, restore
    block = score(encode, "dsprites", metrics=("factor_vae", "mig"))  # any representation
    model, results = restore("runs/ds_corr_echo_b2_g0_s0")  # a trained run, to encode with

`score` and `restore` are imported on first use (they need TensorFlow); importing the package,
or any command line's argument checks, does not start TensorFlow.
"""
import os

ROOT = os.path.dirname(os.path.abspath(__file__))  # the repository: gin_configs/, tests/, ...

__all__ = ["score", "restore", "ROOT"]


def __getattr__(name):
  if name == "score":
    from echo_suite.metrics.external import score
    return score
  if name == "restore":
    from echo_suite.commands.train import restore
    return restore
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

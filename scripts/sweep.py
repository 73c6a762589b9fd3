"""Run a grid of disentanglement.py runs: locally, K at a time, or as a Slurm job array.

The command line of `echo_suite.commands.sweep` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.sweep import main

if __name__ == "__main__":
  raise SystemExit(main())

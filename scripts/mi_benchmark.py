"""MI estimators against known truth: correlated Gaussians over a range of true MI values.

The command line of `echo_suite.commands.mi_benchmark` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.mi_benchmark import main

if __name__ == "__main__":
  raise SystemExit(main())

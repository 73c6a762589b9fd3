"""Score a representation trained anywhere with disentanglement_lib's metrics, as a suite run is.

The command line of `echo_suite.commands.score` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.score import main

if __name__ == "__main__":
  raise SystemExit(main())

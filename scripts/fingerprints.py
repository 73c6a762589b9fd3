"""Weights fingerprint of every model after a fixed-seed 200-step tiny run: equal fingerprints

The command line of `echo_suite.commands.fingerprints` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.fingerprints import main

if __name__ == "__main__":
  raise SystemExit(main())

"""Does the FactorVAE discriminator do its job? Its accuracy and the codes' total correlation.

The command line of `echo_suite.commands.tc_check` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.tc_check import main

if __name__ == "__main__":
  raise SystemExit(main())

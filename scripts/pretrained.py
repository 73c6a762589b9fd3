"""Models shipped in the repository (pretrained/): list, rescore and draw one without training.

The command line of `echo_suite.commands.pretrained` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.pretrained import main

if __name__ == "__main__":
  raise SystemExit(main())

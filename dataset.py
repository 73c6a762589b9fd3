"""The command line of the data sets (`python dataset.py --help`): summaries, previews, export.

The command line of `echo_suite.commands.dataset` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.dataset import main

if __name__ == "__main__":
  raise SystemExit(main())

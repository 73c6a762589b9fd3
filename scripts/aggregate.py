"""Aggregate a sweep into the paper's Table 2 (Markdown + CSV) and its figures.

The command line of `echo_suite.commands.aggregate` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.aggregate import main

if __name__ == "__main__":
  raise SystemExit(main())

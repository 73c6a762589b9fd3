"""The Table 2 study's claims (docs/table2_study/), generated from its runs: one table per claim

The command line of `echo_suite.commands.table2_claims` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.table2_claims import main

if __name__ == "__main__":
  raise SystemExit(main())

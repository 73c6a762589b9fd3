"""Echo's exact rate against variational MI estimates on a toy channel.

The command line of `echo_suite.commands.echo_rate_check` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.echo_rate_check import main

if __name__ == "__main__":
  raise SystemExit(main())

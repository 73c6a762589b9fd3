"""Train (and score) an autoencoder of the model registry on a data set of the data registry.

The command line of `echo_suite.commands.train` (its --help says the rest); imported by nothing.
"""
from echo_suite.commands.train import main

if __name__ == "__main__":
  raise SystemExit(main())

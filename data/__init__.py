"""Ground-truth data: the factor grid, renderer, npz, dependence structures and dataset classes.
The registry of data sets is data/registry.py; the command line, dataset.py (commands/dataset.py)."""

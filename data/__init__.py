"""Ground-truth data: the factor grid, renderer, npz, dependence structures and dataset class.
The registry and command line live in dataset.py."""

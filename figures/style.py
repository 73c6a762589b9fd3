"""Shared matplotlib set-up: a non-interactive backend and an atomic PNG writer."""
import matplotlib

from echo_suite import atomic_io

matplotlib.use("Agg")
import matplotlib.pyplot as plt

plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "figure.dpi": 100})


def save(fig, path, tight=True):
  """Save `fig` as PNG at `path` atomically and close it; returns the path. `tight` crops to the
  drawn content (it draws the figure twice: a figure with fixed margins passes False)."""
  try:
    with atomic_io.atomic_path(path, suffix=".png") as tmp:
      fig.savefig(tmp, format="png", bbox_inches="tight" if tight else None)
  finally:
    plt.close(fig)
  return path

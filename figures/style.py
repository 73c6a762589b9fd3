"""Shared matplotlib set-up: a non-interactive backend, an atomic PNG writer, and images drawn
grey or in colour by their channel count."""
import matplotlib
import numpy as np

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


def picture(image):
  """An image as imshow takes it: (H, W) grey for one channel, (H, W, 3) RGB for three; values
  in [0, 1]."""
  image = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
  return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def show_image(ax, image, **kwargs):
  """Draw one image (grey or RGB, `picture`) on `ax` without ticks."""
  image = picture(image)
  grey = {"cmap": "gray", "vmin": 0, "vmax": 1} if image.ndim == 2 else {}
  ax.imshow(image, interpolation="nearest", **grey, **kwargs)
  ax.set_xticks([]), ax.set_yticks([])

"""The dSprites factor grid: names, sizes, official values and the flat index of each combination.

Factor grid, values and ordering are those of the official dSprites release (color 1, shape 3,
scale 6, orientation 40, posX 32, posY 32; the last factor varies fastest).
"""
import numpy as np

FACTOR_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (1, 3, 6, 40, 32, 32)
LATENT_FACTOR_INDICES = (1, 2, 3, 4, 5)  # color is constant, so it is no ground-truth factor
NUM_IMAGES = int(np.prod(FACTOR_SIZES))  # 737,280
IMAGE_SIZE = 64
SHAPE_NAMES = ("square", "ellipse", "heart")

# Flat index = dot(factor classes, _BASES): the official row-major order, posY fastest.
_BASES = np.array([int(np.prod(FACTOR_SIZES[i + 1:])) for i in range(6)], dtype=np.int64)


def latents_possible_values():
  """The official value of every class of every factor, as the npz's metadata lists them."""
  return {
      "color": np.array([1.0]),
      "shape": np.array([1.0, 2.0, 3.0]),
      "scale": np.linspace(0.5, 1.0, 6),
      "orientation": np.linspace(0.0, 2 * np.pi, 40),
      "posX": np.linspace(0.0, 1.0, 32),
      "posY": np.linspace(0.0, 1.0, 32),
  }


def index_of(classes):
  """Flat dataset indices of full (N, 6) factor classes (color included)."""
  classes = np.asarray(classes, dtype=np.int64)
  if classes.ndim != 2 or classes.shape[1] != 6:
    raise ValueError(f"expected factor classes of shape (N, 6), got {classes.shape}")
  if np.any(classes < 0) or np.any(classes >= np.array(FACTOR_SIZES)):
    raise ValueError(f"factor classes out of range; sizes are {FACTOR_SIZES}")
  return classes @ _BASES


def classes_of(indices):
  """Full (N, 6) factor classes of flat dataset indices; inverse of `index_of`."""
  indices = np.asarray(indices, dtype=np.int64)
  if np.any(indices < 0) or np.any(indices >= NUM_IMAGES):
    raise ValueError(f"dataset index out of range [0, {NUM_IMAGES})")
  return (indices[:, None] // _BASES[None, :]) % np.array(FACTOR_SIZES, dtype=np.int64)

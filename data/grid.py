"""Factor grids: the names and sizes of a data set's factors and the flat index of each
combination (row-major, the last factor fastest), and dSprites' own grid.

dSprites' grid, values and ordering are those of the official release (color 1, shape 3, scale 6,
orientation 40, posX 32, posY 32; the last factor varies fastest).
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class FactorGrid:
  """A finite grid of factor combinations, one image each, in row-major order.

  Attributes:
    names: every factor, in the data's order (the last varies fastest).
    sizes: the number of classes of each.
    latent: the indices of the ground-truth factors (those the metrics see); the others are
      constant or not scored (dSprites' color).
  """
  names: tuple[str, ...]
  sizes: tuple[int, ...]
  latent: tuple[int, ...]

  def __post_init__(self):
    if len(self.names) != len(self.sizes) or not all(int(n) >= 1 for n in self.sizes) or \
        not set(self.latent) <= set(range(len(self.sizes))):
      raise ValueError(f"bad factor grid: names {self.names}, sizes {self.sizes}, latent "
                       f"{self.latent}")

  @property
  def num_images(self) -> int:
    return int(np.prod(self.sizes))

  @property
  def bases(self):
    """Flat index = dot(classes, bases)."""
    return np.array([int(np.prod(self.sizes[i + 1:])) for i in range(len(self.sizes))],
                    dtype=np.int64)

  @property
  def latent_names(self):
    return [self.names[i] for i in self.latent]

  @property
  def latent_sizes(self):
    return [self.sizes[i] for i in self.latent]

  def index_of(self, classes):
    """Flat indices of full (N, len(sizes)) factor classes."""
    classes = np.asarray(classes, dtype=np.int64)
    if classes.ndim != 2 or classes.shape[1] != len(self.sizes):
      raise ValueError(f"expected factor classes of shape (N, {len(self.sizes)}), got "
                       f"{classes.shape}")
    if np.any(classes < 0) or np.any(classes >= np.array(self.sizes)):
      raise ValueError(f"factor classes out of range; sizes are {self.sizes}")
    return classes @ self.bases

  def classes_of(self, indices):
    """Full (N, len(sizes)) factor classes of flat indices; inverse of `index_of`."""
    indices = np.asarray(indices, dtype=np.int64)
    if np.any(indices < 0) or np.any(indices >= self.num_images):
      raise ValueError(f"dataset index out of range [0, {self.num_images})")
    return (indices[:, None] // self.bases[None, :]) % np.array(self.sizes, dtype=np.int64)


FACTOR_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (1, 3, 6, 40, 32, 32)
LATENT_FACTOR_INDICES = (1, 2, 3, 4, 5)  # color is constant, so it is no ground-truth factor
DSPRITES = FactorGrid(FACTOR_NAMES, FACTOR_SIZES, LATENT_FACTOR_INDICES)
NUM_IMAGES = DSPRITES.num_images  # 737,280
IMAGE_SIZE = 64
SHAPE_NAMES = ("square", "ellipse", "heart")


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


index_of = DSPRITES.index_of  # dSprites' flat indices of (N, 6) classes (color included)
classes_of = DSPRITES.classes_of

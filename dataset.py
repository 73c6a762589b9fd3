"""dSprites and ds_corr as ground-truth data: a procedural renderer, the official npz, and the
dependent-factor downsampling of Brekelmans et al. (2019), Sec. 5.3.

The library part of this module imports only numpy, matplotlib.path and gin. The command line at the
bottom (`python dataset.py --help`) also wires in `figures/` for the previews.

Factor grid, values, ordering and npz schema are those of the official dSprites release
(color 1, shape 3, scale 6, orientation 40, posX 32, posY 32; the last factor varies fastest).
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import os
import sys

import atomic_io
import gin_compat  # noqa: F401  (gin 0.4.0 on Python 3.11)
import gin
import numpy as np
from matplotlib.path import Path

FACTOR_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (1, 3, 6, 40, 32, 32)
LATENT_FACTOR_INDICES = (1, 2, 3, 4, 5)  # color is constant, so it is no ground-truth factor
NUM_IMAGES = int(np.prod(FACTOR_SIZES))  # 737,280
IMAGE_SIZE = 64
SHAPE_NAMES = ("square", "ellipse", "heart")
DATASET_NAMES = ("dsprites", "ds_corr")
NPZ_ENV_VAR = "DSPRITES_NPZ"

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


# ----------------------------------------------------------------------------------------------
# Procedural renderer
# ----------------------------------------------------------------------------------------------
# Geometry fitted to the 320 real frames of ../shared/reference/dsprites_real_factors.gif: the real
# images are point-sampled at pixel centres, the sprite centre sits at pixel coordinate
# 15.5 + 32 * pos, and orientation turns the sprite counter-clockwise on screen. With these
# constants the mean IoU against the real frames is 0.9995 (square), 0.995 (ellipse) and 0.991
# (heart) over all scales at orientation 0 and all orientations at scale 1.
SQUARE_SIDE = 19.2  # pixels at scale 1
ELLIPSE_SEMI_AXES = (12.8, 7.2)  # (along x, along y) at scale 1 and orientation 0
HEART_SCALE = (0.60, 0.66)  # x, y scale of the curve x = 16 sin^3 t, y = 13 cos t - 5 cos 2t - ...
HEART_OFFSET = 1.5  # pixels the heart curve is raised above the rotation centre
PATCH = 32  # base sprites live in a 32 x 32 patch centred on pixel coordinate 15.5
# Integer pixel offset of each position class: round(32 k / 31) moves the sprite by at least one pixel
# per step, so neighbouring positions always differ; the real data's sub-pixel raster is not kept.
POSITION_SHIFTS = np.rint(np.arange(32) * 32.0 / 31.0).astype(np.int64)


def _heart_polygon():
  t = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)
  x = 16 * np.sin(t) ** 3
  y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
  return Path(np.stack([x * HEART_SCALE[0], y * HEART_SCALE[1] + HEART_OFFSET], axis=1))


def _inside(shape, u, v):
  """Whether the points (u, v) (pixels, y up, sprite frame at scale 1) lie inside `shape`."""
  if shape == 0:
    return (np.abs(u) <= SQUARE_SIDE / 2) & (np.abs(v) <= SQUARE_SIDE / 2)
  if shape == 1:
    return (u / ELLIPSE_SEMI_AXES[0]) ** 2 + (v / ELLIPSE_SEMI_AXES[1]) ** 2 <= 1.0
  points = np.stack([u.ravel(), v.ravel()], axis=1)
  return _heart_polygon().contains_points(points).reshape(u.shape)


def render_sprite(shape, scale, orientation):
  """One 32 x 32 binary patch: `shape` class at `scale` and `orientation` (radians), centred at 15.5.

  Symmetries that make distinct factor values render identically: orientation 0 and 2 pi (both in
  the official grid, for every shape); none between neighbouring classes, since 2 pi / 39 is not a
  divisor of the square's 90 degree or the ellipse's 180 degree symmetry.
  """
  rows, cols = np.meshgrid(np.arange(PATCH), np.arange(PATCH), indexing="ij")
  dx = cols - 15.5
  dy = 15.5 - rows  # y up
  c, s = math.cos(orientation), math.sin(orientation)
  u = (c * dx + s * dy) / scale  # rotate the pixel grid clockwise = the sprite counter-clockwise
  v = (-s * dx + c * dy) / scale
  return _inside(shape, u, v).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def base_sprites():
  """All 720 base sprites, (3 * 6 * 40, 32, 32) uint8, indexed by (shape * 6 + scale) * 40 + orient."""
  values = latents_possible_values()
  return np.stack([
      render_sprite(sh, sc, o)
      for sh in range(3) for sc in values["scale"] for o in values["orientation"]
  ])


def render(indices):
  """Images of flat dataset indices, (N, 64, 64) uint8 in {0, 1}, pasted from cached base sprites."""
  classes = classes_of(np.atleast_1d(indices))
  sprite = (classes[:, 1] * 6 + classes[:, 2]) * 40 + classes[:, 3]
  rows = POSITION_SHIFTS[classes[:, 5]][:, None] + np.arange(PATCH)
  cols = POSITION_SHIFTS[classes[:, 4]][:, None] + np.arange(PATCH)
  n = len(classes)
  out = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
  out[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = base_sprites()[sprite]
  return out


# ----------------------------------------------------------------------------------------------
# The official npz
# ----------------------------------------------------------------------------------------------
def load_npz(path):
  """Images of an official-schema dSprites npz, checked; returns (N, 64, 64) uint8."""
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"dSprites npz not found: {path!r}; expected the official "
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz (or one written by "
        "`python dataset.py --export PATH.npz`)")
  try:
    data = np.load(path, allow_pickle=True, encoding="latin1")
    keys = set(data.files)
  except Exception as e:  # zip or pickle errors: not an npz at all
    raise ValueError(f"{path!r} is not a readable npz file ({e})") from e
  required = {"imgs", "latents_values", "latents_classes", "metadata"}
  if not required <= keys:
    raise ValueError(f"{path!r} lacks fields {sorted(required - keys)}; "
                     f"the dSprites schema has {sorted(required)}")
  imgs = data["imgs"]
  expected = {"imgs": (NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE), "latents_classes": (NUM_IMAGES, 6),
              "latents_values": (NUM_IMAGES, 6)}
  for key, shape in expected.items():
    got = imgs.shape if key == "imgs" else data[key].shape
    if tuple(got) != shape:
      raise ValueError(f"{path!r}: field {key!r} has shape {tuple(got)}, expected {shape}")
  sizes = tuple(int(s) for s in data["metadata"][()]["latents_sizes"])
  if sizes != FACTOR_SIZES:
    raise ValueError(f"{path!r}: metadata latents_sizes {sizes}, expected {FACTOR_SIZES}")
  classes = data["latents_classes"]
  probe = np.arange(0, NUM_IMAGES, 7919)
  if not np.array_equal(index_of(classes[probe]), probe):
    raise ValueError(f"{path!r}: latents_classes are not in the official order (posY fastest)")
  return np.asarray(imgs, dtype=np.uint8)


def export_npz(path, chunk=65536):
  """Write the procedural dSprites in the official npz schema, atomically (tmp file + rename)."""
  imgs = np.empty((NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
  for start in range(0, NUM_IMAGES, chunk):
    imgs[start:start + chunk] = render(np.arange(start, min(start + chunk, NUM_IMAGES)))
  classes = classes_of(np.arange(NUM_IMAGES))
  values = latents_possible_values()
  latents_values = np.stack([values[n][classes[:, i]] for i, n in enumerate(FACTOR_NAMES)], 1)
  metadata = {
      "date": "procedural", "version": 1, "author": "Echo disentanglement suite",
      "title": "dSprites (procedural re-rendering)",
      "description": "Procedural dSprites with the official factor grid, ordering and schema.",
      "latents_names": FACTOR_NAMES, "latents_sizes": np.array(FACTOR_SIZES),
      "latents_possible_values": values,
  }
  with atomic_io.atomic_path(path, suffix=".npz") as tmp:
    np.savez_compressed(tmp, imgs=imgs, latents_values=latents_values,
                        latents_classes=classes, metadata=np.array(metadata, dtype=object))
  return path


# ----------------------------------------------------------------------------------------------
# ds_corr: dependent factors by removing pairs of factor bins
# ----------------------------------------------------------------------------------------------
def factor_bins(n_bins):
  """Contiguous bins of each ground-truth factor: shape gets one bin per value (categorical); the
  others min(n_bins, size) bins of near-equal length, the first ones one longer (np.array_split)."""
  bins = []
  for i in LATENT_FACTOR_INDICES:
    size = FACTOR_SIZES[i]
    count = size if FACTOR_NAMES[i] == "shape" else min(n_bins, size)
    bins.append([(int(b[0]), int(b[-1]) + 1) for b in np.array_split(np.arange(size), count)])
  return bins


def correlated_keep_mask(remove_prob=0.15, n_bins=8, seed=42, return_pairs=False):
  """Which of the 737,280 combinations ds_corr keeps, as a bool array of shape FACTOR_SIZES.

  For every pair of ground-truth factors (i < j, in order) and every pair of their bins (row-major),
  one uniform draw of a numpy legacy RandomState(seed) removes all images in that pair of bins with
  probability `remove_prob` (paper Sec. 5.3, public code). The paper's text says 4 bins per factor,
  but 4 bins give 16.9% kept and 1.44 nats; 8 bins reproduce its statistics: 14.2% of the images
  kept and a total correlation of the factors of 1.49 nats.

  Args:
    remove_prob: probability of removing a pair of bins, in [0, 1).
    n_bins: bins per non-categorical factor, >= 1.
    seed: seed of the legacy RandomState.
    return_pairs: also return the list of removed ((i, bin_i), (j, bin_j)) pairs.

  Returns:
    keep mask (and the removed pairs when asked).
  """
  if not 0.0 <= float(remove_prob) < 1.0:
    raise ValueError(f"remove_prob={remove_prob!r} must lie in [0, 1)")
  if int(n_bins) != n_bins or n_bins < 1:
    raise ValueError(f"n_bins={n_bins!r} must be an integer >= 1")
  rng = np.random.RandomState(seed)
  keep = np.ones(FACTOR_SIZES, dtype=bool)
  bins = factor_bins(int(n_bins))
  removed = []
  for a, b in itertools.combinations(range(len(LATENT_FACTOR_INDICES)), 2):
    for (bi, (lo_i, hi_i)), (bj, (lo_j, hi_j)) in itertools.product(enumerate(bins[a]),
                                                                    enumerate(bins[b])):
      if rng.random_sample() < remove_prob:
        index = [slice(None)] * 6
        index[LATENT_FACTOR_INDICES[a]] = slice(lo_i, hi_i)
        index[LATENT_FACTOR_INDICES[b]] = slice(lo_j, hi_j)
        keep[tuple(index)] = False
        removed.append(((a, bi), (b, bj)))
  return (keep, removed) if return_pairs else keep


def _entropy(counts):
  p = counts[counts > 0] / counts.sum()
  return float(-(p * np.log(p)).sum())


def factor_entropies(keep):
  """Entropy (nats) of each ground-truth factor under the uniform distribution on kept images."""
  axes = range(6)
  return [_entropy(keep.sum(axis=tuple(a for a in axes if a != i)).astype(np.float64))
          for i in LATENT_FACTOR_INDICES]


def total_correlation(keep):
  """Exact total correlation sum_i H(y_i) - H(y) (nats) of the factors, uniform on kept images."""
  return float(sum(factor_entropies(keep)) - math.log(keep.sum()))


class RemovedCombinationError(ValueError):
  """An image of a factor combination that ds_corr removed was asked for."""


# ----------------------------------------------------------------------------------------------
# The dataset class
# ----------------------------------------------------------------------------------------------
class DSprites:
  """dSprites as disentanglement_lib ground-truth data (color excluded from the factors, as there).

  Implements disentanglement_lib's `GroundTruthData` interface (num_factors, factors_num_values,
  observation_shape, sample_factors, sample_observations_from_factors, sample, sample_observations),
  index-level access, and a deterministic random-batch iterator for training.

  Args:
    npz_path: path of the official npz; None renders procedurally (the default).
    keep: optional bool mask of shape FACTOR_SIZES restricting the data (used by ds_corr).
  """

  name = "dsprites"

  def __init__(self, npz_path=None, keep=None):
    self.npz_path = npz_path
    self._images = load_npz(npz_path) if npz_path else None
    self.keep = keep
    self.kept_indices = (np.arange(NUM_IMAGES) if keep is None
                         else np.flatnonzero(keep.ravel()).astype(np.int64))
    self.removed_bin_pairs = []

  # -- disentanglement_lib's GroundTruthData -----------------------------------------------------
  @property
  def num_factors(self):
    return len(LATENT_FACTOR_INDICES)

  @property
  def factors_num_values(self):
    return [FACTOR_SIZES[i] for i in LATENT_FACTOR_INDICES]

  @property
  def factor_names(self):
    return [FACTOR_NAMES[i] for i in LATENT_FACTOR_INDICES]

  @property
  def observation_shape(self):
    return [IMAGE_SIZE, IMAGE_SIZE, 1]

  def sample_factors(self, num, random_state):
    """(num, 5) factor classes drawn uniformly from the (kept) combinations."""
    return self.factors_of(self.sample_indices(num, random_state))

  def sample_observations_from_factors(self, factors, random_state=None):
    """(N, 64, 64, 1) float32 images of (N, 5) factor classes; removed combinations raise."""
    return self.observations(self.index_of_factors(factors))

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]

  # -- index-level access ------------------------------------------------------------------------
  @property
  def num_examples(self):
    return len(self.kept_indices)

  def index_of_factors(self, factors):
    """Flat dataset indices of (N, 5) ground-truth factor classes (color is always class 0)."""
    factors = np.asarray(factors, dtype=np.int64)
    if factors.ndim != 2 or factors.shape[1] != self.num_factors:
      raise ValueError(f"expected factors of shape (N, {self.num_factors}), got {factors.shape}")
    full = np.zeros((len(factors), 6), dtype=np.int64)
    full[:, list(LATENT_FACTOR_INDICES)] = factors
    return index_of(full)

  def factors_of(self, indices):
    """(N, 5) ground-truth factor classes of flat dataset indices."""
    return classes_of(indices)[:, list(LATENT_FACTOR_INDICES)]

  def check_kept(self, indices):
    """Raise if any index is a combination this dataset removed."""
    if self.keep is None:
      return
    bad = ~self.keep.ravel()[indices]
    if np.any(bad):
      example = dict(zip(self.factor_names, self.factors_of(indices[bad][:1])[0].tolist()))
      raise RemovedCombinationError(
          f"{int(bad.sum())} requested image(s) are combinations that {self.name} removed, e.g. "
          f"factor classes {example}")

  def images(self, indices):
    """(N, 64, 64) uint8 images of flat dataset indices."""
    indices = np.asarray(indices, dtype=np.int64)
    self.check_kept(indices)
    if self._images is not None:
      return self._images[indices]
    return render(indices)

  def observations(self, indices):
    """(N, 64, 64, 1) float32 images in {0, 1} of flat dataset indices (NHWC)."""
    return self.images(indices).astype(np.float32)[..., None]

  def sample_indices(self, num, random_state):
    return self.kept_indices[random_state.randint(len(self.kept_indices), size=num)]

  def batch_indices(self, batch_size, seed, step):
    """Flat indices of training batch `step`: uniform over kept images, with replacement.

    Depends only on (seed, step), so a resumed run continues the same data stream.
    """
    rng = np.random.default_rng([int(seed), int(step)])
    return self.kept_indices[rng.integers(len(self.kept_indices), size=batch_size)]

  def batches(self, batch_size, seed=0, start_step=0):
    """Endless float32 NHWC training batches from step `start_step` on (see `batch_indices`)."""
    for step in itertools.count(start_step):
      yield self.observations(self.batch_indices(batch_size, seed, step))

  # -- summary -----------------------------------------------------------------------------------
  def info(self):
    keep = np.ones(FACTOR_SIZES, dtype=bool) if self.keep is None else self.keep
    return {
        "name": self.name,
        "source": self.npz_path or "procedural",
        "num_examples": self.num_examples,
        "fraction_of_full": self.num_examples / NUM_IMAGES,
        "factor_names": self.factor_names,
        "factor_sizes": self.factors_num_values,
        "factor_entropies_nats": factor_entropies(keep),
        "total_correlation_nats": total_correlation(keep),
        "removed_bin_pairs": len(self.removed_bin_pairs),
    }


@gin.configurable("ds_corr", denylist=["npz_path"])
class DSpritesCorrelated(DSprites):
  """ds_corr: dSprites with pairs of factor bins removed (see `correlated_keep_mask`)."""

  name = "ds_corr"

  def __init__(self, npz_path=None, remove_prob=0.15, n_bins=8, seed=42):
    keep, removed = correlated_keep_mask(remove_prob, n_bins, seed, return_pairs=True)
    super().__init__(npz_path, keep)
    self.remove_prob, self.n_bins, self.seed = remove_prob, n_bins, seed
    self.removed_bin_pairs = removed

  def info(self):
    return {**super().info(), "remove_prob": self.remove_prob, "n_bins": self.n_bins,
            "seed": self.seed}


@gin.configurable("dataset")
def make_dataset(name="dsprites", dsprites_npz=None):
  """The dataset called `name` ('dsprites' or 'ds_corr'); the npz path falls back to $DSPRITES_NPZ."""
  if name not in DATASET_NAMES:
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASET_NAMES)}")
  path = dsprites_npz or os.environ.get(NPZ_ENV_VAR) or None
  return DSpritesCorrelated(path) if name == "ds_corr" else DSprites(path)


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------
def _format_info(info):
  lines = [f"{info['name']}  ({info['source']})",
           f"  images kept        {info['num_examples']:,} of {NUM_IMAGES:,} "
           f"({100 * info['fraction_of_full']:.2f}%)",
           f"  total correlation  {info['total_correlation_nats']:.3f} nats",
           f"  removed bin pairs  {info['removed_bin_pairs']}"]
  for name, size, h in zip(info["factor_names"], info["factor_sizes"],
                           info["factor_entropies_nats"]):
    lines.append(f"  {name:<12} {size:>3} values  H = {h:.3f} nats (max {math.log(size):.3f})")
  return "\n".join(lines)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--dataset", default="dsprites", help=f"one of {list(DATASET_NAMES)}")
  parser.add_argument("--dsprites_npz", default=None,
                      help=f"official npz to load instead of rendering (or set ${NPZ_ENV_VAR})")
  parser.add_argument("--info", action="store_true", help="print a summary")
  parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
  parser.add_argument("--preview", metavar="DIR", help="write preview PNGs into DIR")
  parser.add_argument("--export", metavar="PATH.npz", help="write dSprites in the official schema")
  parser.add_argument("--seed", type=int, default=0, help="seed of the preview samples")
  args = parser.parse_args(argv)
  try:
    data = make_dataset(args.dataset, args.dsprites_npz)
  except (ValueError, FileNotFoundError) as e:
    parser.error(str(e))
  if args.export:
    print(f"wrote {export_npz(args.export)}")
  if args.preview:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from figures import dataset_figures  # the CLI wires figures in; the library stays below them
    for path in dataset_figures.write_previews(data, args.preview, seed=args.seed):
      print(f"wrote {path}")
  if args.json:
    print(json.dumps(data.info()))
  elif args.info or not (args.export or args.preview):
    print(_format_info(data.info()))


if __name__ == "__main__":
  main()

"""dSprites as disentanglement_lib ground-truth data, uniform or weighted over the factor grid, its
dependent-factor variants ds_corr and ds_pairs, and disentanglement_lib's colour and noise
variants color_dsprites and noisy_dsprites."""
import itertools

import gin
import numpy as np

from echo_suite.data import dependence
from echo_suite.data.grid import DSPRITES, IMAGE_SIZE, FactorGrid
from echo_suite.data.npz import load_npz
from echo_suite.data.renderer import render


class RemovedCombinationError(ValueError):
  """An image of a factor combination that ds_corr removed was asked for."""


class GridData:
  """A data set with one image per combination of a finite factor grid (`grid`), as
  disentanglement_lib ground-truth data, uniform or weighted over the grid.

  Implements disentanglement_lib's `GroundTruthData` interface (num_factors, factors_num_values,
  observation_shape, sample_factors, sample_observations_from_factors, sample, sample_observations),
  index-level access, and a deterministic random-batch iterator for training. A data set is a
  subclass that names its `grid`, its `num_channels` and its `pixels`.

  Args:
    keep: optional bool mask of shape grid.sizes restricting the data (used by ds_corr).
    probs: optional probabilities of shape grid.sizes to sample combinations with (ds_pairs);
      combinations of probability 0 are removed. None: uniform over the kept combinations.
  """

  name: str
  full_name: str  # the data set `independent()` gives: the paper's evaluation set
  grid: FactorGrid
  num_channels = 1
  source = "procedural"  # where the images come from (a file's path for file-based data)

  def __init__(self, keep=None, probs=None):
    sizes = tuple(self.grid.sizes)
    if probs is not None:
      probs = np.asarray(probs, dtype=np.float64)
      if probs.shape != sizes or not np.all(probs >= 0) or not probs.sum() > 0:
        raise ValueError(f"probs must be non-negative, of shape {sizes}, with a positive sum")
      keep = probs > 0 if keep is None else keep & (probs > 0)
    self.keep = keep
    self.kept_indices = (np.arange(self.grid.num_images) if keep is None
                         else np.flatnonzero(keep.ravel()).astype(np.int64))
    if len(self.kept_indices) == 0:
      raise ValueError(f"{self.name}: these settings remove every image; nothing to train on")
    self.probs, self._cdf = probs, None
    if probs is not None:  # exact inverse-CDF sampling: one uniform draw per example, no rejection
      self._cdf = np.cumsum(probs.ravel()[self.kept_indices])
      self._cdf /= self._cdf[-1]
    self.removed_bin_pairs = []

  # -- disentanglement_lib's GroundTruthData -----------------------------------------------------
  @property
  def num_factors(self):
    return len(self.grid.latent)

  @property
  def factors_num_values(self):
    return self.grid.latent_sizes

  @property
  def factor_names(self):
    return self.grid.latent_names

  @property
  def observation_shape(self):
    return [IMAGE_SIZE, IMAGE_SIZE, self.num_channels]

  def sample_factors(self, num, random_state):
    """(num, 5) factor classes drawn from the dataset's distribution over combinations."""
    return self.factors_of(self.sample_indices(num, random_state))

  def sample_observations_from_factors(self, factors, random_state=None):
    """(N, 64, 64, C) float32 images of (N, 5) factor classes; removed combinations raise. A
    data set with random appearance (colour, noise) draws it from `random_state`, afresh for every
    call, as disentanglement_lib does."""
    return self.observations(self.index_of_factors(factors, random_state), random_state)

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]

  # -- index-level access ------------------------------------------------------------------------
  @property
  def num_examples(self):
    return len(self.kept_indices)

  def index_of_factors(self, factors, random_state=None):
    """Flat dataset indices of (N, num_factors) ground-truth factor classes. A factor that is no
    ground-truth factor (SmallNORB's instance) is drawn from `random_state` as disentanglement_lib
    draws it (one randint per such factor, in order; a factor of one class, as dSprites' color,
    draws nothing); without a random_state it takes its first class."""
    factors = np.asarray(factors, dtype=np.int64)
    if factors.ndim != 2 or factors.shape[1] != self.num_factors:
      raise ValueError(f"expected factors of shape (N, {self.num_factors}), got {factors.shape}")
    full = np.zeros((len(factors), len(self.grid.sizes)), dtype=np.int64)
    full[:, list(self.grid.latent)] = factors
    if random_state is not None:
      for i in range(len(self.grid.sizes)):
        if i not in self.grid.latent and self.grid.sizes[i] > 1:
          full[:, i] = random_state.randint(self.grid.sizes[i], size=len(factors))
    return self.grid.index_of(full)

  def factors_of(self, indices):
    """(N, num_factors) ground-truth factor classes of flat dataset indices."""
    return self.grid.classes_of(indices)[:, list(self.grid.latent)]

  def keeps(self, indices):
    """Whether each flat index is an image of this data set: inside the grid and not removed."""
    indices = np.asarray(indices, dtype=np.int64)
    inside = (indices >= 0) & (indices < self.grid.num_images)
    if self.keep is None:
      return inside
    kept = np.zeros(indices.shape, bool)
    kept[inside] = self.keep.ravel()[indices[inside]]
    return kept

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

  def pixels(self, indices):
    """(N, 64, 64, C') float32 images in [0, 1] of checked flat indices, before `appearance`."""
    raise NotImplementedError

  def observations(self, indices, random_state=None):
    """(N, 64, 64, C) float32 images in [0, 1] of flat dataset indices (NHWC). A data set with
    random appearance draws it from `random_state` (a numpy RandomState or Generator); None gives
    each index its one fixed draw (`appearance`), so an image is a function of its index."""
    indices = np.asarray(indices, dtype=np.int64)
    self.check_kept(indices)
    return self.appearance(self.pixels(indices), indices, random_state)

  def appearance(self, pixels, indices, random_state):
    """(N, 64, 64, C) images from `pixels`: the images themselves, unless a data set draws a
    random appearance (colour, noise)."""
    return pixels

  def independent(self):
    """The full data set with independent factors that this one's images are drawn from: the
    evaluation set of the paper's code (`metrics.evaluate.evaluation_data`)."""
    if self.keep is None and self.probs is None:
      return self
    raise NotImplementedError(f"{self.name} names no independent data set")

  def _draw(self, uniform_ints, uniform_reals):
    """Kept indices: uniform (from integer draws) or by `probs` (inverse CDF of real draws)."""
    if self._cdf is None:
      return self.kept_indices[uniform_ints(len(self.kept_indices))]
    at = np.searchsorted(self._cdf, uniform_reals(), side="right")
    return self.kept_indices[np.minimum(at, len(self.kept_indices) - 1)]

  def sample_indices(self, num, random_state):
    """Flat indices of `num` examples drawn from the dataset's distribution (legacy RandomState,
    as disentanglement_lib's metrics pass it)."""
    return self._draw(lambda n: random_state.randint(n, size=num),
                      lambda: random_state.random_sample(num))

  def batch_indices(self, batch_size, seed, step):
    """Flat indices of training batch `step`, drawn from the distribution with replacement.

    Depends only on (seed, step), so a resumed run continues the same data stream.
    """
    return self._batch_draw(batch_size, seed, step)[0]

  def _batch_draw(self, batch_size, seed, step):
    rng = np.random.default_rng([int(seed), int(step)])
    indices = self._draw(lambda n: rng.integers(n, size=batch_size), lambda: rng.random(batch_size))
    return indices, rng

  def batch(self, batch_size, seed, step):
    """Training batch `step`: float32 NHWC images of `batch_indices`, any random appearance drawn
    afresh (after the indices) from the same (seed, step) generator."""
    indices, rng = self._batch_draw(batch_size, seed, step)
    return self.observations(indices, rng)

  def batches(self, batch_size, seed=0, start_step=0):
    """Endless float32 NHWC training batches from step `start_step` on (see `batch`)."""
    for step in itertools.count(start_step):
      yield self.batch(batch_size, seed, step)

  # -- summary -----------------------------------------------------------------------------------
  def identity(self):
    """What names this data set in a run's identity beside its configurable's settings: its name
    and where its images come from."""
    return {"name": self.name, "source": self.source}

  def info(self):
    weights = (self.probs if self.probs is not None
               else np.ones(self.grid.sizes, dtype=bool) if self.keep is None else self.keep)
    return {
        "name": self.name,
        "source": self.source,
        "num_examples": self.num_examples,
        "fraction_of_full": self.num_examples / self.grid.num_images,
        "factor_names": self.factor_names,
        "factor_sizes": self.factors_num_values,
        "factor_entropies_nats": dependence.factor_entropies(weights, self.grid),
        "total_correlation_nats": dependence.total_correlation(weights, self.grid),
        "removed_bin_pairs": len(self.removed_bin_pairs),
    }


class DSprites(GridData):
  """dSprites (color excluded from the factors, as in disentanglement_lib).

  Args:
    npz_path: path of the official npz; None renders procedurally (the default).
    keep, probs: as GridData's (ds_corr, ds_pairs).
  """

  name = "dsprites"
  full_name = "dsprites"
  grid = DSPRITES

  def __init__(self, npz_path=None, keep=None, probs=None):
    self.npz_path = npz_path
    self._images = load_npz(npz_path) if npz_path else None
    super().__init__(keep, probs)

  @property
  def source(self):
    return self.npz_path or "procedural"

  def images(self, indices):
    """(N, 64, 64) uint8 sprites in {0, 1} of flat dataset indices; removed combinations raise."""
    indices = np.asarray(indices, dtype=np.int64)
    self.check_kept(indices)
    return self._sprites(indices)

  def _sprites(self, indices):
    """(N, 64, 64) uint8 sprites in {0, 1} of flat int64 indices that the caller has checked."""
    if self._images is not None:
      return self._images[indices]
    return render(indices)

  def pixels(self, indices):
    return self._sprites(indices).astype(np.float32)[..., None]  # observations checked them

  def independent(self):
    return self if self.keep is None and self.probs is None else DSprites(self.npz_path)


class DSpritesNoShape(DSprites):
  """dsprites_noshape (disentanglement_lib's DSprites([2, 3, 4, 5])): dSprites whose shape is no
  ground-truth factor: drawn at random for each sample, outside the code the metrics see."""

  name = full_name = "dsprites_noshape"
  grid = FactorGrid(DSPRITES.names, DSPRITES.sizes, (2, 3, 4, 5))


class Dependent(GridData):
  """A data set with dependent factors over the images of `base`, a data set with independent
  factors: a keep mask or probabilities over base.grid. Images, appearance and source are the
  base's; its evaluation set (`independent`) is the base."""

  def __init__(self, base, keep=None, probs=None):
    self.base = base
    super().__init__(keep, probs)

  grid = property(lambda self: self.base.grid)
  num_channels = property(lambda self: self.base.num_channels)
  source = property(lambda self: self.base.source)
  npz_path = property(lambda self: getattr(self.base, "npz_path", None))

  def images(self, indices):
    """The base's sprites (dSprites-like bases), removed combinations refused."""
    indices = np.asarray(indices, dtype=np.int64)
    self.check_kept(indices)
    return self.base.images(indices)

  def pixels(self, indices):
    return self.base.pixels(indices)

  def appearance(self, pixels, indices, random_state):
    return self.base.appearance(pixels, indices, random_state)

  def independent(self):
    return self.base

  def base_info(self):
    """The base's name in `info`, where it is not dSprites (records of dSprites runs unchanged)."""
    return {} if self.base.name == "dsprites" else {"base": self.base.name}


def independent_base(owner, name, npz_path, data_path=None):
  """The data set `name` (data.registry) for `owner` (ds_corr, ds_pairs) to build on, reading
  `data_path` if it is file-based; ValueError unless it has independent factors."""
  from echo_suite.data import registry  # the registry lists this module's classes
  registry.check_name(name)
  if issubclass(registry.DATASETS[name], Dependent):
    independent = [n for n, c in registry.DATASETS.items() if not issubclass(c, Dependent)]
    raise ValueError(f"{owner}.base={name!r} must be a data set with independent factors, one "
                     f"of {independent}")
  return registry.make_dataset(name, dsprites_npz=npz_path, data_path=data_path)


@gin.configurable("ds_corr", denylist=["npz_path", "data_path"])
class DSpritesCorrelated(Dependent):
  """ds_corr: pairs of factor bins removed (see `correlated_keep_mask`) from `base` (dSprites,
  the paper's; any data set with independent factors)."""

  name = "ds_corr"

  def __init__(self, npz_path=None, remove_prob=0.15, n_bins=8, seed=42, base="dsprites",
               data_path=None):
    data = independent_base("ds_corr", base, npz_path, data_path)
    keep, removed = dependence.correlated_keep_mask(remove_prob, n_bins, seed, return_pairs=True,
                                                    grid=data.grid)
    super().__init__(data, keep)
    self.remove_prob, self.n_bins, self.seed = remove_prob, n_bins, seed
    self.removed_bin_pairs = removed

  def info(self):
    return {**super().info(), "remove_prob": self.remove_prob, "n_bins": self.n_bins,
            "seed": self.seed, **self.base_info()}


@gin.configurable("ds_pairs", denylist=["npz_path", "data_path"])
class DSpritesPairs(Dependent):
  """ds_pairs: `pairs` of factors of `base` (dSprites by default) correlated with strength
  `sigma` (see `data.dependence.paired_weights`); every combination stays, sampled by its
  probability."""

  name = "ds_pairs"

  def __init__(self, npz_path=None, pairs=(("posX", "posY"),), sigma=0.2, slope=1.0,
               base="dsprites", data_path=None):
    data = independent_base("ds_pairs", base, npz_path, data_path)
    pairs = dependence.check_pairs(pairs)
    super().__init__(data, probs=dependence.paired_weights(pairs, sigma, slope, grid=data.grid))
    self.pairs, self.sigma, self.slope = pairs, float(sigma), float(slope)

  def info(self):
    return {**super().info(), "pairs": [list(p) for p in self.pairs], "sigma": self.sigma,
            "slope": self.slope, **self.base_info()}


class RandomAppearance(DSprites):
  """dSprites with a random appearance per image (disentanglement_lib's colour and noise
  variants; same factors, color excluded). disentanglement_lib draws the appearance afresh for
  every sample; here a RandomState or Generator passed to `observations` does the same, and without
  one each index has one fixed draw, from a Philox generator keyed by (APPEARANCE_SEED, index), so
  that the code table's encode-once holds (docs/data.md measures the two against each other)."""

  num_channels = 3
  APPEARANCE_SEED = 20190  # the key of the fixed per-index draws

  def appearance(self, shapes, indices, random_state):
    if random_state is not None:
      return self._draw_appearance(shapes, random_state)
    out = np.empty(shapes.shape[:3] + (3,), np.float32)
    for i, index in enumerate(np.asarray(indices, np.uint64)):  # ~30 us each: one key per image
      fixed = np.random.Generator(np.random.Philox(key=np.array([self.APPEARANCE_SEED, index],
                                                                np.uint64)))
      out[i] = self._draw_appearance(shapes[i:i + 1], fixed)[0]
    return out

  def _draw_appearance(self, shapes, random_state):
    """(N, 64, 64, 3) images of (N, 64, 64, 1) sprites, drawn from `random_state` exactly as
    disentanglement_lib's sample_observations_from_factors draws them."""
    raise NotImplementedError


class ColorDSprites(RandomAppearance):
  """color_dsprites (disentanglement_lib's ColorDSprites): the sprite in a random colour, each
  channel uniform in [0.5, 1], on black."""

  name = "color_dsprites"
  full_name = name

  def _draw_appearance(self, shapes, random_state):
    color = random_state.uniform(0.5, 1, [len(shapes), 1, 1, 3])
    return (np.repeat(shapes, 3, axis=3) * color).astype(np.float32)


class NoisyDSprites(RandomAppearance):
  """noisy_dsprites (disentanglement_lib's NoisyDSprites): the white sprite on uniform noise in
  [0, 1] per pixel and channel (clipped at 1)."""

  name = "noisy_dsprites"
  full_name = name

  def _draw_appearance(self, shapes, random_state):
    noise = random_state.uniform(0, 1, [len(shapes), IMAGE_SIZE, IMAGE_SIZE, 3])
    return np.minimum(np.repeat(shapes, 3, axis=3) + noise, 1.0).astype(np.float32)

"""Dependence structures of the ground-truth factors, each with its exact total correlation.

A structure is a distribution over a factor grid (an array of shape grid.sizes; dSprites' grid
unless another data.grid.FactorGrid is given):
- ds_corr (Brekelmans et al. 2019, Sec. 5.3): uniform on the combinations left after removing
  random pairs of factor bins (`correlated_keep_mask`);
- ds_pairs (Trauble et al. 2021): chosen pairs of factors correlated with strength sigma,
  p(c1, c2) ~ exp(-(c1 - a c2)^2 / (2 sigma^2)) on normalised factor values (`paired_weights`).
"""
import itertools
import math

import numpy as np

from echo_suite import checks

from echo_suite.data.grid import DSPRITES

# Factors whose classes have no order: one bin per class.
CATEGORICAL = ("shape", "object_shape", "object_type", "category")


def factor_bins(n_bins, grid=DSPRITES):
  """Contiguous bins of each ground-truth factor: a categorical one (CATEGORICAL: dSprites' shape)
  gets one bin per value; the others min(n_bins, size) bins of near-equal length, the first ones
  one longer (np.array_split)."""
  bins = []
  for i in grid.latent:
    size = grid.sizes[i]
    count = size if grid.names[i] in CATEGORICAL else min(n_bins, size)
    bins.append([(int(b[0]), int(b[-1]) + 1) for b in np.array_split(np.arange(size), count)])
  return bins


def correlated_keep_mask(remove_prob=0.15, n_bins=8, seed=42, return_pairs=False,
                         grid=DSPRITES):
  """Which combinations of `grid` (dSprites: 737,280) ds_corr keeps, as a bool array of shape
  grid.sizes.

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
    grid: the factor grid (data.grid.FactorGrid).

  Returns:
    keep mask (and the removed pairs when asked).
  """
  if not 0.0 <= float(remove_prob) < 1.0:
    raise ValueError(f"remove_prob={remove_prob!r} must lie in [0, 1)")
  checks.check_count("n_bins", n_bins)
  checks.check_count("seed", seed, minimum=0)
  rng = np.random.RandomState(seed)
  keep = np.ones(grid.sizes, dtype=bool)
  bins = factor_bins(int(n_bins), grid)
  removed = []
  for a, b in itertools.combinations(range(len(grid.latent)), 2):
    for (bi, (lo_i, hi_i)), (bj, (lo_j, hi_j)) in itertools.product(enumerate(bins[a]),
                                                                    enumerate(bins[b])):
      if rng.random_sample() < remove_prob:
        index = [slice(None)] * len(grid.sizes)
        index[grid.latent[a]] = slice(lo_i, hi_i)
        index[grid.latent[b]] = slice(lo_j, hi_j)
        keep[tuple(index)] = False
        removed.append(((a, bi), (b, bj)))
  return (keep, removed) if return_pairs else keep


def check_sigma(sigma, independent_ok=True):
  """ValueError unless `sigma` is a number > 0 (inf, independent factors, only if
  `independent_ok`): ds_pairs' one rule for its dependence strength."""
  sigma = float(sigma)
  if not sigma > 0 or (math.isinf(sigma) and not independent_ok):
    allowed = "> 0 (inf: independent factors)" if independent_ok else "a finite number > 0"
    raise ValueError(f"sigma={sigma!r} must be {allowed}")
  return sigma


def check_pairs(pairs):
  """`pairs` as a tuple of tuples; ValueError for one pair not nested in a tuple of pairs (its
  names would be read letter by letter)."""
  if isinstance(pairs, str) or any(isinstance(p, str) for p in pairs):
    raise ValueError(f"pairs={pairs!r} must be a tuple of factor-name pairs, e.g. "
                     "(('posX', 'posY'),)")
  return tuple(tuple(p) for p in pairs)


def paired_weights(pairs=(("posX", "posY"),), sigma=0.2, slope=1.0, grid=DSPRITES):
  """ds_pairs: the distribution over the factor grid with each pair (c1, c2) of `pairs` correlated,
  p(c1, c2) ~ exp(-(c1 - slope * c2)^2 / (2 sigma^2)) on factor values normalised to [0, 1]
  (class / (size - 1)), and every other factor uniform (Trauble et al. 2021, Sec. 3). Pairs that
  share a factor multiply their potentials; the result is normalised exactly over the grid.

  Args:
    pairs: pairs of ground-truth factor names of `grid` (dSprites: shape, scale, orientation,
      posX, posY).
    sigma: correlation strength, > 0; smaller is stronger; inf gives independent factors.
    slope: a in c1 - a c2.

  Returns:
    float64 probabilities of shape grid.sizes, summing to 1.
  """
  sigma, slope, pairs = check_sigma(sigma), float(slope), check_pairs(pairs)
  if not math.isfinite(slope):
    raise ValueError(f"slope={slope!r} must be a finite number")
  names, sizes = grid.latent_names, grid.sizes
  log_p = np.zeros(sizes, dtype=np.float64)
  for pair in pairs:
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(names):
      raise ValueError(f"bad factor pair {tuple(pair)!r}: need two different factors of {names}")
    if math.isinf(sigma):
      continue
    (i, j) = (grid.names.index(n) for n in pair)
    c_i = np.arange(sizes[i]) / max(1, sizes[i] - 1)
    c_j = np.arange(sizes[j]) / max(1, sizes[j] - 1)
    potential = -(c_i[:, None] - slope * c_j[None, :]) ** 2 / (2 * sigma ** 2)
    shape = [1] * len(sizes)
    shape[i], shape[j] = sizes[i], sizes[j]
    log_p = log_p + potential.reshape(shape)
  p = np.exp(log_p - log_p.max())  # stable: the largest weight is 1, so the sum never underflows
  return p / p.sum()


def pair_joint(weights, pair, grid=DSPRITES):
  """The joint distribution (size_1, size_2) of two named factors under `weights`."""
  (i, j) = (grid.names.index(n) for n in pair)
  weights = np.asarray(weights, np.float64)
  joint = weights.sum(axis=tuple(a for a in range(weights.ndim) if a not in (i, j)))
  return (joint if i < j else joint.T) / joint.sum()


def _entropy(weights):
  p = weights[weights > 0] / weights.sum()
  return float(-(p * np.log(p)).sum())


def factor_entropies(weights, grid=DSPRITES):
  """Entropy (nats) of each ground-truth factor under the distribution proportional to `weights`
  (shape grid.sizes: a keep mask means uniform on the kept combinations)."""
  weights = np.asarray(weights, dtype=np.float64)
  return [_entropy(weights.sum(axis=tuple(a for a in range(weights.ndim) if a != i)))
          for i in grid.latent]


def total_correlation(weights, grid=DSPRITES):
  """Exact total correlation sum_i H(y_i) - H(y) (nats) of the factors under the distribution
  proportional to `weights` (a keep mask or probabilities of shape grid.sizes)."""
  weights = np.asarray(weights, dtype=np.float64)
  outside = tuple(a for a in range(weights.ndim) if a not in grid.latent)  # not ground truth
  return float(sum(factor_entropies(weights, grid)) - _entropy(weights.sum(axis=outside).ravel()))

"""Encode once, score many: the codes of every evaluation image in one table, and a ground-truth
data view whose observations are flat dataset indices and whose representation is a table lookup.

The mean representation (Gaussian mean, Echo's f(x)) is deterministic, so every metric of
disentanglement_lib runs on the table with the scores it gives on images with the encoder, for the
same random state (tests/test_metrics.py checks this: equal up to the float round-off of encoding
in other batch shapes). A model's table also holds each image's log noise scale, so the noisy
(sampled) code is drawn from the table without the images: `sampled_representation_function`,
the same noise construction and seeding as drawing it from images (tests/test_models.py). A
table is valid only for the weights that encoded it: it stores their fingerprint, and
metrics.evaluate re-encodes when the model's differs.
"""
import zipfile

import numpy as np
from tqdm import tqdm



# Evaluation images joined to each call of the sampled representation: Echo noise is drawn from
# them and the call's own images (the public code's batch).
NOISE_POOL = 64


def encode(representation_function, data, indices=None, batch_size=2048, progress=True):
  """Codes of the images `indices` of `data` (default: all it keeps), in large batches.

  Args:
    representation_function: images (N, 64, 64, 1) -> codes (N, D), or -> (codes, log scales),
      each (N, D) (a model's `channel_params_function`), numpy in and out.
    data: a data.ground_truth.DSprites (dsprites, ds_corr or ds_pairs).
    indices: flat dataset indices; None encodes every kept image.
    batch_size: images per call.
    progress: show a progress bar.

  Returns:
    (codes, log scales): float32 (len(indices), D) arrays; log scales None when the function
    returns codes only.
  """
  indices = data.kept_indices if indices is None else np.asarray(indices, np.int64)
  codes, scales = [], []
  for start in tqdm(range(0, len(indices), batch_size), disable=not progress, unit="batch",
                    desc=f"encoding {len(indices):,} images"):
    out = representation_function(data.observations(indices[start:start + batch_size]))
    if isinstance(out, tuple):
      out, log_scale = out
      scales.append(np.asarray(log_scale, np.float32))
    codes.append(np.asarray(out, np.float32))
  return np.concatenate(codes), (np.concatenate(scales) if scales else None)


class UnreadableTableError(ValueError):
  """A code table file that is truncated, corrupt or of another format."""


def arrays(codes, indices, dataset_name, weights, log_scales=None):
  """The npz arrays of a table (rundir.RunDirectory.write_code_table writes them): codes
  (N, D), log noise scales (N, D; empty when the representation has none), indices (N,), dataset
  name and the fingerprint of the weights that encoded it. `load` reads them back."""
  return {"codes": codes, "indices": indices, "dataset": np.array(dataset_name),
          "weights": np.array("" if weights is None else weights),
          "log_scales": np.zeros((0,), np.float32) if log_scales is None else log_scales}


def arrays_of(table, weights):
  """`arrays` of a CodeTableData."""
  return arrays(table.codes, table.indices, table.data.name, weights, table.log_scales)


def load(path):
  """{codes, log_scales (None if absent), indices, dataset, weights} of a table of `arrays`;
  UnreadableTableError naming the file otherwise."""
  try:
    with np.load(path, allow_pickle=False) as f:
      table = {"codes": f["codes"], "indices": f["indices"], "dataset": str(f["dataset"]),
               "weights": str(f["weights"]),
               "log_scales": f["log_scales"] if "log_scales" in f.files else None}
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    raise UnreadableTableError(f"code table {path} is unreadable ({type(e).__name__}: {e})") \
        from None
  if table["log_scales"] is not None and table["log_scales"].size == 0:
    table["log_scales"] = None
  n = len(table["indices"])
  for key in ("codes", "log_scales"):
    if table[key] is not None and (table[key].ndim != 2 or len(table[key]) != n):
      raise UnreadableTableError(f"code table {path}: {key} of shape {table[key].shape} does not "
                                 f"match its {n} indices")
  return table


class CodeTableData:
  """disentanglement_lib ground-truth data over a code table.

  Observations are flat dataset indices; `representation_function` looks their codes up. Factors
  are sampled by the underlying dataset, so the random state is used exactly as with images. With
  `encode`, the table fills itself: an image asked for the first time is encoded then (in the
  call's batch) and kept, so a metric that draws few images encodes only those, and a rescoring
  encodes only what is new.

  Args:
    data: the data.ground_truth.DSprites (or a dependent variant) whose factors are sampled.
    codes: (N, D) codes of the images `indices` (N may be 0 with `encode`).
    indices: flat dataset indices the table covers so far.
    log_scales: (N, D) log noise scales of the same images (None: no sampled representation).
    encode: images -> codes or (codes, log scales), as `encode` takes it; None: a fixed table,
      which refuses images it does not hold.
    batch_size: images per call of `encode`.
  """

  def __init__(self, data, codes, indices, log_scales=None, encode=None, batch_size=2048):
    self.data, self.encode_images, self.batch_size = data, encode, batch_size
    self.encoded_now = 0  # images this table encoded itself
    self._known = np.zeros(data.grid.num_images, bool)
    self._indices = None  # np.flatnonzero(self._known), cached until the table grows
    self._codes = self._scales = None
    indices = np.asarray(indices, np.int64)
    if len(indices):
      self._store(indices, np.asarray(codes, np.float32),
                  None if log_scales is None else np.asarray(log_scales, np.float32))
    elif encode is None:
      raise ValueError("a fixed code table needs codes")

  num_factors = property(lambda self: self.data.num_factors)
  factors_num_values = property(lambda self: self.data.factors_num_values)
  factor_names = property(lambda self: self.data.factor_names)
  observation_shape = property(lambda self: [1])

  @property
  def indices(self):
    """The flat dataset indices the table holds, increasing."""
    if self._indices is None:
      self._indices = np.flatnonzero(self._known).astype(np.int64)
    return self._indices

  @property
  def codes(self):
    return self._codes[self.indices]

  @property
  def log_scales(self):
    return None if self._scales is None else self._scales[self.indices]

  def _store(self, indices, codes, log_scales):
    if codes.ndim != 2 or len(codes) != len(indices):
      raise ValueError(f"codes of shape {codes.shape} for {len(indices)} images")
    if self._codes is None:
      self._codes = np.zeros((len(self._known), codes.shape[1]), np.float32)
      if log_scales is not None:
        self._scales = np.zeros((len(self._known), codes.shape[1]), np.float32)
    self._codes[indices] = codes
    if self._scales is not None:
      if log_scales is None:
        raise ValueError("the encoder returned no log scales for a table that holds them")
      self._scales[indices] = log_scales
    self._known[indices] = True
    self._indices = None

  def lookup(self, indices):
    """(codes, log scales or None) of flat dataset indices, encoding the ones not yet held."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    missing = np.unique(indices[~self._known[indices]])
    if len(missing):
      if self.encode_images is None:
        raise ValueError(f"{len(missing)} requested images are not in the code table (e.g. "
                         f"factors {self.data.factors_of(missing[:1])[0].tolist()})")
      codes, scales = encode(self.encode_images, self.data, missing, self.batch_size,
                             progress=False)
      self._store(missing, codes, scales)
      self.encoded_now += len(missing)
    return self._codes[indices], None if self._scales is None else self._scales[indices]

  def sample_factors(self, num, random_state):
    return self.data.sample_factors(num, random_state)

  def sample_observations_from_factors(self, factors, random_state=None):
    indices = self.data.index_of_factors(factors, random_state)  # draws factors outside the code
    self.data.check_kept(indices)
    if self.encode_images is None:
      self.lookup(indices)  # a fixed table refuses what it does not hold, here
    return indices

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]

  def representation_function(self, observations):
    return self.lookup(observations)[0]

  def sampled_representation_function(self, sample_from_params, seed):
    """observations -> noisy codes drawn from the table: each call's examples are joined by
    NOISE_POOL random evaluation examples (drawn by RandomState(seed + 1)), and the noise comes
    from tf.random.Generator.from_seed(seed), exactly as for images (metrics.evaluate).

    Args:
      sample_from_params: (loc, log scale, extra loc, extra log scale, generator) -> codes, the
        model's `sample_from_params`.
      seed: the evaluation seed.
    """
    from echo_suite.quiet_tensorflow import tf  # only the sampled representation needs it
    if self._scales is None and (self._codes is not None or self.encode_images is None):
      raise ValueError("this code table holds no log noise scales: the sampled representation "
                       "needs a model's channel (re-encode with its channel_params_function)")
    generator, rng = tf.random.Generator.from_seed(seed), np.random.RandomState(seed + 1)

    def sampled(observations):
      loc, log_scale = self.lookup(observations)
      extra_loc, extra_log_scale = self.lookup(self.sample_observations(NOISE_POOL, rng))
      if log_scale is None:
        raise ValueError("the encoder returned no log noise scales: the sampled representation "
                         "needs a model's channel_params_function")
      return sample_from_params(loc, log_scale, extra_loc, extra_log_scale, generator)
    return sampled

"""Encode once, score many: the codes of every evaluation image in one table, and a ground-truth
data view whose observations are flat dataset indices and whose representation is a table lookup.

The representation is deterministic (Gaussian mean, Echo's f(x)), so every metric of
disentanglement_lib can run on the table with exactly the scores it would give on images with the
encoder, for the same random state (tests/test_metrics.py checks this). A table is valid only for
the weights that encoded it: it stores their fingerprint, and metrics.evaluate re-encodes when the
model's differs.
"""
import zipfile

import numpy as np
from tqdm import tqdm

import atomic_io
from data.grid import NUM_IMAGES


def encode(representation_function, data, indices=None, batch_size=2048, progress=True):
  """Codes of the images `indices` of `data` (default: all it keeps), in large batches.

  Args:
    representation_function: images (N, 64, 64, 1) -> codes (N, D), numpy in and out.
    data: a data.ground_truth.DSprites (dsprites, ds_corr or ds_pairs).
    indices: flat dataset indices; None encodes every kept image.
    batch_size: images per call.
    progress: show a progress bar.

  Returns:
    (len(indices), D) float32 codes.
  """
  indices = data.kept_indices if indices is None else np.asarray(indices, np.int64)
  chunks = []
  for start in tqdm(range(0, len(indices), batch_size), disable=not progress, unit="batch",
                    desc=f"encoding {len(indices):,} images"):
    chunks.append(np.asarray(representation_function(
        data.observations(indices[start:start + batch_size])), np.float32))
  return np.concatenate(chunks)


class UnreadableTableError(ValueError):
  """A code table file that is truncated, corrupt or of another format."""


def save(path, codes, indices, dataset_name, weights):
  """Write the table atomically as npz: codes (N, D), indices (N,), dataset name and the
  fingerprint of the weights that encoded it."""
  with atomic_io.atomic_path(path, suffix=".npz") as tmp:
    np.savez(tmp, codes=codes, indices=indices, dataset=np.array(dataset_name),
             weights=np.array("" if weights is None else weights))


def load(path):
  """{codes, indices, dataset, weights} of a table written by `save`; UnreadableTableError naming
  the file otherwise."""
  try:
    with np.load(path) as f:
      return {"codes": f["codes"], "indices": f["indices"], "dataset": str(f["dataset"]),
              "weights": str(f["weights"])}
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
    raise UnreadableTableError(f"code table {path} is unreadable ({type(e).__name__}: {e})") \
        from None


class CodeTableData:
  """disentanglement_lib ground-truth data over a code table.

  Observations are flat dataset indices; `representation_function` looks their codes up. Factors
  are sampled by the underlying dataset, so the random state is used exactly as with images.

  Args:
    data: the data.ground_truth.DSprites (or a dependent variant) whose factors are sampled.
    codes: (N, D) codes of the images `indices`.
    indices: flat dataset indices the table covers.
  """

  def __init__(self, data, codes, indices):
    self.data, self.codes = data, np.asarray(codes, np.float32)
    self.indices = np.asarray(indices, np.int64)
    self.position = np.full(NUM_IMAGES, -1, dtype=np.int64)
    self.position[self.indices] = np.arange(len(self.indices))

  num_factors = property(lambda self: self.data.num_factors)
  factors_num_values = property(lambda self: self.data.factors_num_values)
  observation_shape = property(lambda self: [1])

  def sample_factors(self, num, random_state):
    return self.data.sample_factors(num, random_state)

  def sample_observations_from_factors(self, factors, random_state=None):
    indices = self.data.index_of_factors(factors)
    self.data.check_kept(indices)
    missing = self.position[indices] < 0
    if np.any(missing):
      raise ValueError(f"{int(missing.sum())} requested images are not in the code table "
                       f"(e.g. factors {self.data.factors_of(indices[missing][:1])[0].tolist()})")
    return indices

  def sample(self, num, random_state):
    factors = self.sample_factors(num, random_state)
    return factors, self.sample_observations_from_factors(factors, random_state)

  def sample_observations(self, num, random_state):
    return self.sample(num, random_state)[1]

  def representation_function(self, observations):
    return self.codes[self.position[np.asarray(observations, np.int64).reshape(-1)]]

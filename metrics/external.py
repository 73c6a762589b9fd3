"""Score any representation, trained anywhere (PyTorch, JAX, scikit-learn): the suite's code table,
disentanglement_lib's metric functions, settings and provenance record, for a numpy callable or
for precomputed codes.

    from echo_suite.metrics.external import score
    block = score(lambda images: my_encoder(images), data="dsprites", metrics=["factor_vae"])

A PyTorch module in three lines (no torch in the suite):

    def encode(images):  # (N, 64, 64, 1) float32 in [0, 1] -> (N, d)
        with torch.no_grad():
            return model(torch.from_numpy(images).permute(0, 3, 1, 2)).numpy()
"""
import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from echo_suite import provenance
from echo_suite.data import registry as data_registry
from echo_suite.data.ground_truth import DSprites
from echo_suite.metrics import code_table, evaluate, names, scores


class RepresentationError(ValueError):
  """A representation (codes or a function's output) the metrics cannot use: named, with what
  was expected."""


def check_codes(codes, data, indices=None, source="codes"):
  """Codes of the evaluation set `data`, checked: float32 (N, d) finite codes and their flat
  dataset indices (default: every image `data` keeps, in increasing index order, the order of
  `python dataset.py --export`).

  Raises:
    RepresentationError naming `source` and what was expected.
  """
  codes = np.asarray(codes)
  if codes.ndim != 2:
    raise RepresentationError(f"{source}: codes have shape {codes.shape}; expected a 2-D array "
                              "(images, dimensions)")
  if codes.dtype.kind not in "fiu":
    raise RepresentationError(f"{source}: codes have dtype {codes.dtype}; expected real numbers")
  check_dimensions(codes.shape[1], source)
  bad = ~np.isfinite(codes).all(axis=1)
  if bad.any():
    raise RepresentationError(f"{source}: {int(bad.sum())} rows hold NaN or Inf (first: row "
                              f"{int(np.argmax(bad))})")
  check_float32_range(codes, source)
  kept = data.kept_indices
  if indices is None:
    if len(codes) != len(kept):
      raise RepresentationError(
          f"{source}: {len(codes):,} rows; expected {len(kept):,}, one per image of {data.name} "
          "in the canonical order (python dataset.py --export), or an 'indices' array")
    return codes.astype(np.float32), np.asarray(kept, np.int64)
  indices = np.asarray(indices)
  if indices.ndim != 1 or len(indices) != len(codes) or indices.dtype.kind not in "iu":
    raise RepresentationError(f"{source}: indices of shape {indices.shape} and dtype "
                              f"{indices.dtype}; expected {len(codes):,} integers, one per row")
  held = data.keeps(indices)
  if not held.all():
    first = indices[~held][0]
    raise RepresentationError(f"{source}: index {int(first)} is not an image of {data.name}")
  if len(np.unique(indices)) != len(indices):
    raise RepresentationError(f"{source}: indices repeat an image")
  return codes.astype(np.float32), indices.astype(np.int64)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_dimensions(num_dims, source="codes"):
  """RepresentationError unless a code has two dimensions at least: MIG compares a factor's two
  most informative dimensions (disentanglement_lib indexes the second)."""
  if num_dims < 2:
    raise RepresentationError(f"{source}: codes have {num_dims} dimension(s); the metrics need "
                              "2 at least (MIG compares the two most informative)")


def check_float32_range(codes, source="codes"):
  """RepresentationError naming the first column of finite `codes` (N, d) that float32, the
  metrics' dtype, cannot hold (it would become Inf), and that column's range."""
  if codes.dtype.kind != "f" or codes.size == 0:
    return
  outside = (np.abs(codes) > FLOAT32_MAX).any(axis=0)
  if outside.any():
    column = int(np.argmax(outside))
    raise RepresentationError(
        f"{source}: column {column} spans [{codes[:, column].min():.4g}, "
        f"{codes[:, column].max():.4g}], outside float32's range (+-{FLOAT32_MAX:.4g}) that "
        "the metrics compute in; rescale the codes")


def checked_function(function, source="function"):
  """`function` (images -> codes) with its output checked at every call: a numpy array (N, d) of
  finite real numbers, the same d every call."""
  dims = []

  def representation_function(images):
    out = function(images)
    if not isinstance(out, np.ndarray):
      raise RepresentationError(f"{source} returned {type(out).__name__}; expected a numpy "
                                f"array of shape ({len(images)}, d)")
    if out.ndim != 2 or len(out) != len(images):
      raise RepresentationError(f"{source} returned shape {out.shape} for {len(images)} images; "
                                f"expected ({len(images)}, d)")
    if out.dtype.kind not in "fiu":
      raise RepresentationError(f"{source} returned dtype {out.dtype}; expected real numbers")
    check_dimensions(out.shape[1], f"{source} (its output)")
    if not np.isfinite(out).all():
      raise RepresentationError(f"{source} returned NaN or Inf codes")
    check_float32_range(out, f"{source} (its output)")
    if dims and out.shape[1] != dims[0]:
      raise RepresentationError(f"{source} returned {out.shape[1]} dimensions after "
                                f"{dims[0]} before")
    dims[:] = [out.shape[1]]
    return out.astype(np.float32)
  return representation_function


def score(representation: Callable[[np.ndarray], np.ndarray] | np.ndarray,
          data: str | DSprites = "dsprites", metrics: Sequence[str] = names.DEFAULT_METRICS,
          seed: int = 0, settings: dict[str, object] | None = None,
          indices: np.ndarray | None = None, dsprites_npz: str | None = None,
          batch_size: int = 256, progress: bool = True) -> provenance.ScoresBlock:
  """Scores of a representation with disentanglement_lib's metrics, as a suite run is scored.
  `score_and_table` also returns the code table the scores were computed on.

  Args:
    representation: a callable images (N, 64, 64, 1) float32 in [0, 1] -> codes (N, d) numpy
      (run in batches of `batch_size` as the metrics draw images), or the codes (N, d) of every
      image of `data` (see `check_codes`; with `indices`, of those images).
    data: the evaluation set's name (data.registry: 'dsprites', 'ds_corr', 'ds_pairs') or data set.
    metrics: names from metrics.names.METRIC_NAMES.
    seed: each metric gets a fresh RandomState(seed).
    settings: metric settings over the paper's, {'eval_mig.num_train': 2000, ...}; gin is left
      as it was found.
    indices: flat dataset indices of the rows of precomputed codes.
    dsprites_npz: the official npz instead of the procedural images.
    batch_size: images per call of a callable.
    progress: show a progress bar.

  Returns:
    the scores block (as results.json's): metrics {'mean': {metric: {score: value}}}, eval_on,
    num_images, seed, settings (every argument, defaults included), departures_from_paper.
  """
  return score_and_table(representation, data, metrics, seed, settings, indices, dsprites_npz,
                         batch_size, progress)[0]


def score_and_table(representation, data="dsprites", metrics=names.DEFAULT_METRICS, seed=0,
                    settings=None, indices=None, dsprites_npz=None, batch_size=256,
                    progress=True):
  """(`score`'s block, the metrics.code_table.CodeTableData it was computed on)."""
  dataset = data_registry.make_dataset(data, dsprites_npz) if isinstance(data, str) else data
  settings = dict(settings or {})
  bad = [k for k in settings if not k.startswith("eval_")]
  if bad:
    raise ValueError(f"settings {bad}: only metric settings (eval_<metric>.<argument>) apply")
  with scores.gin_bindings(settings):
    chosen = evaluate.describe_settings("kept", list(metrics), seed)
    evaluate.check_scorable(chosen, dataset)
    if callable(representation):
      table = code_table.CodeTableData(dataset, np.zeros((0, 0), np.float32), [],
                                       encode=checked_function(representation),
                                       batch_size=batch_size)
    else:
      codes, held = check_codes(representation, dataset, indices)
      table = code_table.CodeTableData(dataset, codes, held)
    return evaluate.score_table(table, chosen, progress=progress), table


def sha256_of(path_or_bytes):
  """SHA-256 (hex) of a file's bytes, or of bytes: what stands for the weights fingerprint."""
  h = hashlib.sha256()
  if isinstance(path_or_bytes, bytes):
    h.update(path_or_bytes)
  else:
    with open(path_or_bytes, "rb") as f:
      for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
  return h.hexdigest()

"""The official dSprites npz: load one (checked against the schema) or write one."""
import os

import numpy as np

from echo_suite import atomic_io
from echo_suite.data.grid import (FACTOR_NAMES, FACTOR_SIZES, IMAGE_SIZE, NUM_IMAGES, classes_of, index_of,
                       latents_possible_values)
from echo_suite.data.renderer import render


_LOADED = {}  # (real path, size, mtime): images; the training and evaluation sets share one copy


def load_npz(path):
  """Images of an official-schema dSprites npz, checked; returns (N, 64, 64) uint8 in {0, 1},
  read-only. A file is read once per process while it is unchanged (3 GB: a run's training set
  and its full evaluation set share it); the newest file read is the only one kept.

  A data file never runs code: the npz is read without pickle (`allow_pickle=False`), so its
  pickled `metadata` is not read; the factor sizes are checked from `latents_classes` instead.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"dSprites npz not found: {path!r}; expected the official "
        "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz (or one written by "
        "`python dataset.py --export PATH.npz`)")
  stat = os.stat(path)
  key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
  if key not in _LOADED:
    _LOADED.clear()
    images = _read_checked(path)
    images.flags.writeable = False
    _LOADED[key] = images
  return _LOADED[key]


def _read_checked(path):
  """The images of the npz at `path` after checking its schema (see `load_npz`)."""
  try:
    data = np.load(path, allow_pickle=False)
    keys = set(data.files)
  except Exception as e:  # noqa: BLE001  (zip errors, a pickle refused, anything else)
    raise ValueError(f"{path!r} is not a readable npz file ({type(e).__name__}: {e})") from None
  required = {"imgs", "latents_values", "latents_classes"}
  if not required <= keys:
    raise ValueError(f"{path!r} lacks fields {sorted(required - keys)}; "
                     f"the dSprites schema has {sorted(required | {'metadata'})}")
  try:
    fields = {k: data[k] for k in sorted(required)}
  except Exception as e:  # noqa: BLE001  (an object array needs pickle; a cut member)
    raise ValueError(f"{path!r}: unreadable field ({type(e).__name__}: {e}); fields must be "
                     "plain numeric arrays") from None
  imgs, classes = fields["imgs"], fields["latents_classes"]
  if imgs.dtype != np.uint8:
    raise ValueError(f"{path!r}: field 'imgs' has dtype {imgs.dtype}, expected uint8 pixels in "
                     "{0, 1}")
  if imgs.size and imgs.max() > 1:
    raise ValueError(f"{path!r}: field 'imgs' holds pixel values up to {int(imgs.max())}, "
                     "expected {0, 1} (dSprites is binary; divide 0/255 images by 255)")
  expected = {"imgs": (NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE), "latents_classes": (NUM_IMAGES, 6),
              "latents_values": (NUM_IMAGES, 6)}
  for key, shape in expected.items():
    if tuple(fields[key].shape) != shape:
      raise ValueError(f"{path!r}: field {key!r} has shape {tuple(fields[key].shape)}, "
                       f"expected {shape}")
  if not np.issubdtype(classes.dtype, np.integer):
    raise ValueError(f"{path!r}: field 'latents_classes' has dtype {classes.dtype}, expected "
                     "integers")
  sizes = tuple(int(s) for s in classes.max(axis=0) + 1)
  if sizes != FACTOR_SIZES or classes.min() < 0:
    raise ValueError(f"{path!r}: latents_classes span sizes {sizes}, expected {FACTOR_SIZES}")
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

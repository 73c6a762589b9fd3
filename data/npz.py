"""npz files read safely (`npz_array`: never unpickled, uncompressed arrays memory-mapped), and
the official dSprites npz: load one (checked against the schema) or write one."""
import os
import zipfile

import numpy as np

from echo_suite import atomic_io
from echo_suite.data.grid import (FACTOR_NAMES, FACTOR_SIZES, IMAGE_SIZE, NUM_IMAGES, classes_of, index_of,
                       latents_possible_values)
from echo_suite.data.renderer import render


_LOADED = {}  # (real path, size, mtime): images; the training and evaluation sets share one copy
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError)  # a file that is no readable zip


def _npy_header(f, fortran_ok=False):
  """(shape, dtype, order) of the .npy stream at f's position, which is left at the array's data;
  ValueError for Python objects, and for a Fortran-ordered array unless `fortran_ok`."""
  version = np.lib.format.read_magic(f)
  read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                 else np.lib.format.read_array_header_2_0)
  shape, fortran, dtype = read_header(f)
  if dtype.hasobject or (fortran and not fortran_ok):
    raise ValueError("holds Python objects or a Fortran-ordered array, not plain numbers")
  return shape, dtype, "F" if fortran else "C"


def _member(z, path, key, fortran_ok=False):
  """Array `key` of the open npz `z` of the file at `path` (see `npz_array`; `fortran_ok` as
  `_npy_header`'s). ValueError without the file's name for a missing key or an array not of plain
  numbers; zip and OS errors as raised."""
  member = f"{key}.npy"
  if member not in z.namelist():
    raise ValueError(f"has no array {key!r} (it holds {sorted(n[:-4] for n in z.namelist())})")
  info = z.getinfo(member)
  with z.open(info) as f:
    shape, dtype, order = _npy_header(f, fortran_ok)
    if info.compress_type != zipfile.ZIP_STORED:
      count = int(np.prod(shape))
      data = np.frombuffer(f.read(count * dtype.itemsize), dtype, count)
      return data.reshape(shape, order=order)
    header = f.tell()
  with open(path, "rb") as raw:  # the local header's name and extra lengths precede the data
    raw.seek(info.header_offset + 26)
    name_len, extra_len = np.frombuffer(raw.read(4), "<u2")
  offset = info.header_offset + 30 + int(name_len) + int(extra_len) + header
  return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)


def _not_npz(path, error):
  """The ValueError for a file at `path` that zipfile could not read."""
  return ValueError(f"{path!r} is not a readable npz file ({type(error).__name__}: {error})")


def npz_array(path, key):
  """Array `key` of the npz at `path`, memory-mapped when stored uncompressed (read-only), else
  read; never unpickled. ValueError naming the file when the key is missing or not numbers."""
  try:
    with zipfile.ZipFile(path) as z:
      return _member(z, path, key)
  except _ZIP_ERRORS as e:
    raise _not_npz(path, e) from None
  except ValueError as e:
    raise ValueError(f"{path!r}: {e}") from None


def load_npz(path):
  """Images of an official-schema dSprites npz, checked; returns (N, 64, 64) uint8 in {0, 1},
  read-only. A file is read once per process while it is unchanged (3 GB: a run's training set
  and its full evaluation set share it); the newest file read is the only one kept.

  A data file never runs code: the npz is read without pickle (as `npz_array`), so its pickled
  `metadata` is not read; the factor sizes are checked from `latents_classes` instead.
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
    z = zipfile.ZipFile(path)
  except _ZIP_ERRORS as e:  # not a zip: a pickle, a lone .npy, anything else
    raise _not_npz(path, e) from None
  with z:
    keys = {n[:-4] for n in z.namelist() if n.endswith(".npy")}
    required = {"imgs", "latents_values", "latents_classes"}
    if not required <= keys:
      raise ValueError(f"{path!r} lacks fields {sorted(required - keys)}; "
                       f"the dSprites schema has {sorted(required | {'metadata'})}")
    try:
      # Fortran order allowed: np.load, which read these files before, read it
      fields = {k: _member(z, path, k, fortran_ok=True) for k in sorted(required)}
    except (*_ZIP_ERRORS, ValueError) as e:  # an object array (needs pickle); a cut member
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

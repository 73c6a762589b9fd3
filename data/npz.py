"""The official dSprites npz: load one (checked against the schema) or write one."""
import os

import numpy as np

import atomic_io
from data.grid import (FACTOR_NAMES, FACTOR_SIZES, IMAGE_SIZE, NUM_IMAGES, classes_of, index_of,
                       latents_possible_values)
from data.renderer import render


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

"""Data sets read from a user's files, laid out as disentanglement_lib lays them out under
$DISENTANGLEMENT_LIB_DATA: Shapes3D, MPI3D, Cars3D, SmallNORB and the painting of
Scream-dSprites. Nothing is downloaded; a missing file is one
FileNotFoundError naming the paths looked for and where the data set is published. Files are
read without executing anything (no pickle) and checked for keys, shape and dtype before any
image is read; uncompressed arrays are memory-mapped, not loaded.
"""
import dataclasses
import os

import numpy as np

from echo_suite.data.grid import FactorGrid
from echo_suite.data.ground_truth import GridData, RandomAppearance
from echo_suite.data.npz import npz_array

DATA_ENV_VAR = "DISENTANGLEMENT_LIB_DATA"


@dataclasses.dataclass(frozen=True)
class Source:
  """Where a file-based data set lives.

  Attributes:
    candidates: paths relative to $DISENTANGLEMENT_LIB_DATA, the first found is read.
    published: where a user gets the file.
    folder: the data set is a folder of files, not one file.
  """
  candidates: tuple[str, ...]
  published: str
  folder: bool = False


def locate(name, source, path=None):
  """The file of data set `name`: `path` if given, else the first of `source.candidates` under
  $DISENTANGLEMENT_LIB_DATA (or the working directory, as disentanglement_lib). Raises
  FileNotFoundError naming what was looked for and where the data set is published."""
  if path:
    looked = [os.fspath(path)]
  else:
    root = os.environ.get(DATA_ENV_VAR, ".")
    looked = [os.path.join(root, c) for c in source.candidates]
  exists = os.path.isdir if source.folder else os.path.isfile
  for candidate in looked:
    if exists(candidate):
      return candidate
  kind = "folder" if source.folder else "file"
  if path and os.path.exists(path):  # there, but a file where a folder is needed or the reverse
    raise FileNotFoundError(f"{name} needs a {kind}; {os.fspath(path)!r} is a "
                            f"{'folder' if os.path.isdir(path) else 'file'}")
  root = os.environ.get(DATA_ENV_VAR)
  if not path and root and os.path.exists(root) and not os.path.isdir(root):
    raise FileNotFoundError(f"{name} is looked for under ${DATA_ENV_VAR}={root!r}, which is a "
                            f"file, not a folder; point it at the folder holding "
                            f"{source.candidates[0]!r}")
  where = (f"the {kind} {looked[0]!r}" if path else
           f"{' or '.join(repr(p) for p in looked)} (${DATA_ENV_VAR}="
           f"{os.environ.get(DATA_ENV_VAR, '(unset: the working directory)')})")
  raise FileNotFoundError(f"{name} needs {where}, which does not exist; get it from "
                          f"{source.published} (nothing is downloaded here), put it there or "
                          f"pass its path (--data_path)")


def h5_array(path, key):
  """Dataset `key` of the HDF5 file at `path`, unread (h5py reads what is indexed)."""
  import h5py
  try:
    f = h5py.File(path, "r")
  except OSError as e:
    raise ValueError(f"{path!r} is not a readable HDF5 file ({e})") from None
  if key not in f or not isinstance(f[key], h5py.Dataset):
    raise ValueError(f"{path!r} has no dataset {key!r} (it holds {sorted(f.keys())})")
  return f[key]


def check_images(path, images, num_images, dtype=np.uint8):
  """ValueError naming the file unless `images` holds num_images 64x64x3 images of `dtype`."""
  shape = tuple(images.shape)
  if np.dtype(images.dtype) != np.dtype(dtype) or shape[-3:] != (64, 64, 3) or \
      int(np.prod(shape[:-3])) != num_images:
    raise ValueError(f"{path!r}: images of shape {shape} and dtype {images.dtype}; expected "
                     f"{num_images:,} images of 64x64x3 {np.dtype(dtype).name}")


class ImageFile(GridData):
  """A data set whose images are one uint8 array (N, 64, 64, 3) in the grid's row-major order.

  Args:
    data_path: the file (None: found under $DISENTANGLEMENT_LIB_DATA, `files.locate`).
  """

  full_name = None  # set per data set: the independent data set is itself
  num_channels = 3
  file_source: Source

  def __init__(self, data_path=None):
    self.data_path = locate(self.name, self.file_source, data_path)
    self._images = self.read(self.data_path)
    super().__init__()

  @property
  def source(self):
    return self.data_path

  def read(self, path):
    """The (N, 64, 64, 3) uint8 images of the file, checked, unread where the format allows."""
    raise NotImplementedError

  def pixels(self, indices):
    if isinstance(self._images, np.ndarray):  # in memory or memory-mapped: read in any order
      read = self._images[indices]
    else:  # an h5py dataset, which reads increasing, distinct indices only
      unique, inverse = np.unique(indices, return_inverse=True)
      read = np.asarray(self._images[unique])[inverse]
    return read.astype(np.float32) / 255.0

  def independent(self):
    return self


class Shapes3D(ImageFile):
  """Shapes3D (Burgess & Kim 2018), as disentanglement_lib's shapes3d: 480,000 images of six
  factors, from disentanglement_lib's npz (images shaped by the factor grid) or DeepMind's
  3dshapes.h5 (images (480000, 64, 64, 3), the same order)."""

  name = full_name = "shapes3d"
  grid = FactorGrid(("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"),
                    (10, 10, 10, 8, 4, 15), (0, 1, 2, 3, 4, 5))
  file_source = Source(
      ("3dshapes/look-at-object-room_floor-hueXwall-hueXobj-hueXobj-sizeXobj-shapeXview-azi.npz",
       "3dshapes/3dshapes.h5"),
      "https://github.com/deepmind/3d-shapes (3dshapes.h5)")

  def read(self, path):
    images = h5_array(path, "images") if path.endswith(".h5") else npz_array(path, "images")
    check_images(path, images, self.grid.num_images)
    return images if path.endswith(".h5") else images.reshape(-1, 64, 64, 3)


_MPI3D_FACTORS = ("object_color", "object_shape", "object_size", "camera_height",
                  "background_color", "first_dof", "second_dof")
_MPI3D_PUBLISHED = "https://github.com/rr-learning/disentanglement_dataset"


def _mpi3d_grid(colours_and_shapes):
  """MPI3D's factor grid, whose colours and shapes number `colours_and_shapes` each."""
  sizes = (colours_and_shapes, colours_and_shapes, 2, 3, 3, 40, 40)
  return FactorGrid(_MPI3D_FACTORS, sizes, tuple(range(7)))


def _mpi3d_source(mode):
  """Where MPI3D's `mode` (mpi3d_toy, ...) lives: `mode`/`mode`.npz."""
  return Source((f"{mode}/{mode}.npz",), _MPI3D_PUBLISHED)


class _MPI3D(ImageFile):
  """MPI3D (Gondal et al. 2019), as disentanglement_lib's mpi3d: an npz of images
  (N, 64, 64, 3) over seven factors."""

  def read(self, path):
    images = npz_array(path, "images")
    check_images(path, images, self.grid.num_images)
    return images.reshape(-1, 64, 64, 3)


class MPI3DToy(_MPI3D):
  """mpi3d_toy: MPI3D's toy images (460,800)."""

  name = full_name = "mpi3d_toy"
  grid = _mpi3d_grid(4)
  file_source = _mpi3d_source(name)


class MPI3DRealistic(_MPI3D):
  """mpi3d_realistic: MPI3D's realistic images (460,800)."""

  name = full_name = "mpi3d_realistic"
  grid = _mpi3d_grid(4)
  file_source = _mpi3d_source(name)


class MPI3DReal(_MPI3D):
  """mpi3d_real: MPI3D's real images (1,036,800)."""

  name = full_name = "mpi3d_real"
  grid = _mpi3d_grid(6)
  file_source = _mpi3d_source(name)


class Cars3D(ImageFile):
  """Cars3D (Reed et al. 2015), as disentanglement_lib's cars3d: a folder of one .mat file per
  car model ('im', 128x128x3 images over 24 azimuths and 4 elevations), each image shrunk to
  64x64 as there (Pillow's thumbnail, Lanczos). Car models are numbered in file-name order
  (disentanglement_lib takes the folder's listing order, which the file system decides)."""

  name = full_name = "cars3d"
  grid = FactorGrid(("elevation", "azimuth", "object_type"), (4, 24, 183), (0, 1, 2))
  file_source = Source(("cars",), "http://www.scottreed.info/ (cars: nips2015-analogy-data)",
                       folder=True)

  def read(self, path):
    from PIL import Image
    import scipy.io
    names = sorted(n for n in os.listdir(path) if n.endswith(".mat"))
    elevations, azimuths, objects = self.grid.sizes
    if len(names) != objects:
      raise ValueError(f"{path!r} holds {len(names)} .mat files; expected {objects} (one per car)")
    images = np.empty((elevations, azimuths, objects, 64, 64, 3), np.uint8)
    for k, name in enumerate(names):
      file = os.path.join(path, name)
      try:
        mesh = scipy.io.loadmat(file)["im"]
      except (ValueError, OSError, KeyError, TypeError) as e:
        raise ValueError(f"{file!r} is not a Cars3D .mat file with an 'im' array "
                         f"({type(e).__name__}: {e})") from None
      if mesh.dtype != np.uint8 or mesh.shape != (128, 128, 3, azimuths, elevations):
        raise ValueError(f"{file!r}: 'im' of shape {mesh.shape} and dtype {mesh.dtype}; expected "
                         f"(128, 128, 3, {azimuths}, {elevations}) uint8")
      for a in range(azimuths):
        for e in range(elevations):
          picture = Image.fromarray(np.ascontiguousarray(mesh[:, :, :, a, e]))
          picture.thumbnail((64, 64), Image.LANCZOS)  # disentanglement_lib's ANTIALIAS
          images[e, a, k] = np.asarray(picture)
    return images.reshape(-1, 64, 64, 3)


def _integer(random_state, low, high):
  """One integer in [low, high) from a legacy RandomState (disentanglement_lib's) or a Generator."""
  draw = getattr(random_state, "randint", None) or random_state.integers
  return draw(low, high)


class ScreamDSprites(RandomAppearance):
  """scream_dsprites (disentanglement_lib's ScreamDSprites): each sprite is cut into a random
  64x64 patch of Munch's The Scream (shrunk to fit 350x274), the patch's colours moved halfway to
  a random colour and inverted where the sprite is. The painting is the user's file.

  Args:
    npz_path: dSprites' official npz (None: rendered).
    data_path: the painting (None: scream/scream.jpg under $DISENTANGLEMENT_LIB_DATA).
  """

  name = full_name = "scream_dsprites"
  file_source = Source(("scream/scream.jpg",),
                       "https://upload.wikimedia.org/wikipedia/commons/f/f4/The_Scream.jpg")

  def __init__(self, npz_path=None, data_path=None):
    from PIL import Image
    self.data_path = locate(self.name, self.file_source, data_path)
    try:
      with Image.open(self.data_path) as painting:
        painting = painting.convert("RGB")
        painting.thumbnail((350, 274))  # disentanglement_lib's size and Pillow's default filter
        self.scream = np.asarray(painting, np.float64) / 255.0
    except OSError as e:
      raise ValueError(f"{self.data_path!r} is not a readable image ({e})") from None
    if min(self.scream.shape[:2]) <= 64:
      raise ValueError(f"{self.data_path!r} is {self.scream.shape[1]}x{self.scream.shape[0]} "
                       "after shrinking to fit 350x274; a 64x64 patch needs more than 64 each way")
    super().__init__(npz_path)

  def _draw_appearance(self, shapes, random_state):
    out = np.empty(shapes.shape[:3] + (3,), np.float32)
    for i in range(len(shapes)):  # one image at a time: disentanglement_lib's order of draws
      x = _integer(random_state, 0, self.scream.shape[0] - 64)
      y = _integer(random_state, 0, self.scream.shape[1] - 64)
      patch = (self.scream[x:x + 64, y:y + 64] + random_state.uniform(0, 1, size=3)) / 2.0
      sprite = shapes[i, :, :, 0] == 1
      patch[sprite] = 1 - patch[sprite]
      out[i] = patch
    return out


# SmallNORB's binary matrix files: the magic number of each element type.
_NORB_TYPES = {507333717: np.uint8, 507333716: np.int32, 507333713: np.float32,
               507333715: np.float64}
_NORB_CHUNKS = ("smallnorb-5x46789x9x18x6x2x96x96-training",
                "smallnorb-5x01235x9x18x6x2x96x96-testing")


def norb_matrix(path):
  """The array of a SmallNORB binary matrix file (its header: magic, ndim, max(3, ndim) dims),
  memory-mapped; ValueError naming the file when the header or the size is wrong."""
  try:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
      magic, ndim = (int(v) for v in np.frombuffer(f.read(8), "<i4"))
      if magic not in _NORB_TYPES or not 1 <= ndim <= 8:
        raise ValueError(f"header magic {magic}, ndim {ndim}: not a SmallNORB matrix")
      dims = tuple(int(d) for d in np.frombuffer(f.read(4 * max(3, ndim)), "<i4")[:ndim])
  except OSError as e:
    raise ValueError(f"{path!r} is not readable ({e})") from None
  except ValueError as e:
    raise ValueError(f"{path!r}: {e}") from None
  dtype, offset = np.dtype(_NORB_TYPES[magic]), 8 + 4 * max(3, ndim)
  if any(d < 0 for d in dims) or offset + int(np.prod(dims)) * dtype.itemsize != size:
    raise ValueError(f"{path!r}: header dims {dims} of {dtype.name} do not fit its {size} bytes")
  return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=dims)


class SmallNORB(ImageFile):
  """SmallNORB (LeCun et al. 2004), as disentanglement_lib's smallnorb: the official training
  and testing binary files (left camera), 96x96 resized to 64x64 (Pillow, Lanczos); instance is
  a factor outside the code, drawn at random for each sample as there. disentanglement_lib reads
  the pixels as int8, which Pillow resizes as 32-bit integers, unclipped: the filter's over- and
  undershoot stays (intensities slightly below 0 and above 1); so here, to give its images."""

  name = full_name = "smallnorb"
  num_channels = 1
  grid = FactorGrid(("category", "instance", "elevation", "azimuth", "lighting"),
                    (5, 10, 9, 18, 6), (0, 2, 3, 4))
  file_source = Source(("small_norb",), "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/",
                       folder=True)

  def read(self, path):
    from PIL import Image
    images = np.zeros((self.grid.num_images, 64, 64, 1), np.int16)  # see the class docstring
    filled = np.zeros(self.grid.num_images, bool)
    for chunk in _NORB_CHUNKS:
      parts = {}
      for kind in ("dat", "cat", "info"):
        file = os.path.join(path, f"{chunk}-{kind}.mat")
        if not os.path.isfile(file):
          raise FileNotFoundError(f"{self.name} needs {file!r}, which does not exist; get it "
                                  f"from {self.file_source.published} (nothing is downloaded "
                                  f"here) and put it there")
        parts[kind] = norb_matrix(file)
      dat, cat, info = parts["dat"], parts["cat"], parts["info"]
      n = len(cat)
      if dat.shape != (n, 2, 96, 96) or info.shape != (n, 4) or dat.dtype != np.uint8:
        raise ValueError(f"{path!r}/{chunk}: dat {dat.shape} {dat.dtype}, cat {cat.shape}, info "
                         f"{info.shape}; expected (N, 2, 96, 96) uint8, (N,), (N, 4)")
      classes = np.column_stack([cat, info[:, 0], info[:, 1], info[:, 2] // 2, info[:, 3]])
      index = self.grid.index_of(classes)  # also refuses classes outside the grid
      for row, at in enumerate(index):
        picture = Image.fromarray(dat[row, 0].astype(np.int32))  # mode I, as from int8
        images[at, :, :, 0] = np.asarray(picture.resize((64, 64), Image.LANCZOS))
      filled[index] = True
    if not filled.all():
      raise ValueError(f"{path!r}: the files hold {int(filled.sum()):,} of the grid's "
                       f"{self.grid.num_images:,} combinations")
    return images

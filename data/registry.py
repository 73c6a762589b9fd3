"""The data sets of the suite, by name: one home for their names, classes and construction.

- dsprites: dSprites, procedurally rendered (data.renderer) or the official npz (data.npz);
- ds_corr: dSprites with pairs of factor bins removed (Brekelmans et al. 2019, Sec. 5.3);
- ds_pairs: dSprites with chosen pairs of factors correlated with strength sigma (Trauble et al. 2021);
- color_dsprites, noisy_dsprites: disentanglement_lib's dSprites in random colours, or on noise;
- dsprites_noshape: dSprites with shape outside the code (drawn at random);
- shapes3d, mpi3d_toy, mpi3d_realistic, mpi3d_real, cars3d, smallnorb, scream_dsprites: from
  a user's files (data.files).

Adding a data set: its class (a data.ground_truth.GridData with a `name`, `grid` and `pixels`)
and one entry here.
"""
import os

import gin

from echo_suite.data import files
from echo_suite.data.ground_truth import (ColorDSprites, Dependent, DSprites, DSpritesCorrelated,
                                          DSpritesNoShape, DSpritesPairs, GridData, NoisyDSprites)

DATASETS = {cls.name: cls for cls in (
    DSprites, DSpritesCorrelated, DSpritesPairs, ColorDSprites, NoisyDSprites, DSpritesNoShape,
    files.Shapes3D,
    files.MPI3DToy, files.MPI3DRealistic, files.MPI3DReal, files.Cars3D,
    files.ScreamDSprites, files.SmallNORB)}
DATASET_NAMES = tuple(DATASETS)
NPZ_ENV_VAR = "DSPRITES_NPZ"


def check_name(name):
  """ValueError naming `name` unless it is one of DATASET_NAMES."""
  if name not in DATASET_NAMES:
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASET_NAMES)}")


def file_reader(name):
  """The data set whose file or folder (`data_path`) `name` reads: itself if file-based, the
  gin-bound base of ds_corr and ds_pairs if that is; None when it reads none."""
  cls = DATASETS[name]
  if issubclass(cls, Dependent):
    try:
      base = gin.query_parameter(f"{name}.base")
    except ValueError:
      base = "dsprites"
    independent = base in DATASETS and not issubclass(DATASETS[base], Dependent)
    return file_reader(base) if independent else None
  return name if hasattr(cls, "file_source") else None


def check_data_path(name, data_path):
  """ValueError for an unknown name, or a data_path given to a data set that reads no file (it
  would be silently ignored)."""
  check_name(name)
  if data_path and file_reader(name) is None:
    readers = [n for n in DATASET_NAMES if file_reader(n) == n]
    raise ValueError(f"--data_path {os.fspath(data_path)!r}: {name} reads no file given so (it is "
                     f"for {', '.join(readers)}, and ds_corr or ds_pairs drawn on them; dSprites "
                     f"and its variants read the official npz from --dsprites_npz)")


def check_data_file(name, data_path=None):
  """ValueError (the one line of files.locate) unless the file or folder `name` reads is there;
  nothing is read, so a command can check before any work."""
  reader = file_reader(name)
  if reader is not None:
    try:
      files.locate(reader, DATASETS[reader].file_source, data_path)
    except FileNotFoundError as e:
      raise ValueError(str(e)) from None


def unused_settings(names):
  """The gin-bound settings of data sets outside `names` ('ds_corr.remove_prob = 0.5', ...): a
  dependence's settings (ds_corr.*, ds_pairs.*) bound for another data set would be silently
  ignored."""
  from gin import config as gin_config  # gin-config==0.4.0 is pinned: its _CONFIG is stable
  unused = []
  for (_, selector), params in sorted(gin_config._CONFIG.items()):  # noqa: SLF001
    owner = selector.rpartition(".")[2]
    if owner in DATASETS and owner not in names:
      unused += [(owner, f"{owner}.{k} = {v!r}") for k, v in sorted(params.items())]
  return unused


def check_settings_apply(names):
  """ValueError naming the first gin-bound setting of a data set outside `names` (the data sets
  the command builds), before any work."""
  unused = unused_settings(names)
  if unused:
    owner, binding = unused[0]
    raise ValueError(f"{binding!r} is a setting of {owner}, which is not built here (data set: "
                     f"{', '.join(names)}); bind {owner}.* only where {owner} is the data set")


@gin.configurable("dataset")
def make_dataset(name: str = "dsprites", dsprites_npz: str | None = None,
                 data_path: str | None = None) -> GridData:
  """The dataset called `name` (one of DATASET_NAMES). dSprites and its variants read
  `dsprites_npz` (falling back to $DSPRITES_NPZ; None renders them); a file-based data set reads
  `data_path` (None: its file under $DISENTANGLEMENT_LIB_DATA, data.files.locate)."""
  check_data_path(name, data_path)
  cls = DATASETS[name]
  if issubclass(cls, files.ImageFile):
    return cls(data_path)
  path = dsprites_npz or os.environ.get(NPZ_ENV_VAR) or None
  if issubclass(cls, Dependent):
    return cls(path, data_path=data_path)  # its base reads it, if file-based
  return cls(path, data_path) if hasattr(cls, "file_source") else cls(path)

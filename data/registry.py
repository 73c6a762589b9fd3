"""The data sets of the suite, by name: one home for their names, classes and construction.

- dsprites: dSprites, procedurally rendered (data.renderer) or the official npz (data.npz);
- ds_corr: dSprites with pairs of factor bins removed (Brekelmans et al. 2019, Sec. 5.3);
- ds_pairs: dSprites with chosen pairs of factors correlated with strength sigma (Trauble et al. 2021);
- color_dsprites, noisy_dsprites: disentanglement_lib's dSprites in random colours, or on noise.

Adding a data set: its class (a data.ground_truth.DSprites with a `name`) and one entry here.
"""
import os

import gin

from echo_suite.data.ground_truth import (ColorDSprites, DSprites, DSpritesCorrelated,
                                          DSpritesPairs, NoisyDSprites)

DATASETS = {cls.name: cls for cls in (DSprites, DSpritesCorrelated, DSpritesPairs, ColorDSprites,
                                      NoisyDSprites)}
DATASET_NAMES = tuple(DATASETS)
NPZ_ENV_VAR = "DSPRITES_NPZ"


def check_name(name):
  """ValueError naming `name` unless it is one of DATASET_NAMES."""
  if name not in DATASET_NAMES:
    raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASET_NAMES)}")


@gin.configurable("dataset")
def make_dataset(name: str = "dsprites", dsprites_npz: str | None = None) -> DSprites:
  """The dataset called `name` (one of DATASET_NAMES); the npz path falls back to $DSPRITES_NPZ."""
  check_name(name)
  path = dsprites_npz or os.environ.get(NPZ_ENV_VAR) or None
  return DATASETS[name](path)

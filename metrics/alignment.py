"""How each code dimension lies in the image plane: the direction and strength of its linear
response to position (posX, posY), numpy in and out.

MIG rewards a code that gives each position factor a dimension of its own; a dimension that codes
position along the image's diagonal (a rotation of the two factors, as good for reconstruction)
spreads each factor over two dimensions and loses MIG. The angle below says which happened.
"""
import numpy as np

from echo_suite.data.grid import FACTOR_NAMES, LATENT_FACTOR_INDICES

# the columns of posX and posY among the ground-truth factors (data.ground_truth.DSprites.factors_of)
POSITION_FACTORS = tuple(LATENT_FACTOR_INDICES.index(FACTOR_NAMES.index(name))
                         for name in ("posX", "posY"))
MIN_R2 = 0.5  # below it a dimension hardly codes position: its angle is not reported


def position_alignment(codes, factors, min_r2=MIN_R2, position_factors=POSITION_FACTORS):
  """Fit each code dimension linearly to the two position factors, z_d ~ a posX + b posY + c,
  with both factors scaled to [0, 1] so the direction (a, b) is in image coordinates.

  Args:
    codes: (N, D) codes of N images.
    factors: (N, F) their ground-truth factor classes (data.ground_truth.DSprites.factors_of).
    min_r2: fits with a lower R^2 get no angle (NaN).
    position_factors: the columns of `factors` holding posX and posY.

  Returns:
    dict of (D,) arrays: `angle_off_axes_deg`, in [0, 45], the angle between (a, b) and the
    nearer image axis (0: along one axis, 45: along a diagonal; NaN where R^2 < min_r2);
    `nearer_axis`, 0 for posX, 1 for posY; `r2`, the fit's coefficient of determination (NaN for
    a constant dimension); `slope`, (D, 2) the fitted (a, b).
  """
  codes = np.asarray(codes, np.float64)
  pos = np.asarray(factors)[:, list(position_factors)].astype(np.float64)
  span = pos.max(axis=0) - pos.min(axis=0)
  pos = (pos - pos.mean(axis=0)) / np.where(span > 0, span, 1.0)
  centred = codes - codes.mean(axis=0)
  slope = np.linalg.lstsq(pos, centred, rcond=None)[0].T  # (D, 2); the intercept is the mean
  residual = ((centred - pos @ slope.T) ** 2).sum(axis=0)
  total = (centred ** 2).sum(axis=0)
  with np.errstate(invalid="ignore", divide="ignore"):
    r2 = np.where(total > 0, 1.0 - residual / total, np.nan)
  theta = np.degrees(np.arctan2(np.abs(slope[:, 1]), np.abs(slope[:, 0])))  # 0: posX, 90: posY
  off = np.minimum(theta, 90.0 - theta)
  off = np.where(r2 >= min_r2, off, np.nan)
  return {"angle_off_axes_deg": off, "nearer_axis": (theta > 45.0).astype(int), "r2": r2,
          "slope": slope}


def describe(alignment, dims=None):
  """'z3 43° (R² 0.98), z7 45° (R² 0.98)': the position-coding dimensions of `alignment`
  (those with an angle), in the order `dims` (default: by index); '–' if none."""
  r2 = alignment["r2"]
  if dims is None:
    dims = range(len(r2))
  parts = [f"z{d} {alignment['angle_off_axes_deg'][d]:.0f}° (R² {r2[d]:.2f})" for d in dims
           if np.isfinite(alignment["angle_off_axes_deg"][d])]
  return ", ".join(parts) or "–"

"""UDR, unsupervised disentanglement ranking (Duan et al., ICLR 2020): a model is disentangled when
the models trained with its setting but other seeds agree with it dimension for dimension. Not in
the disentanglement-lib 1.5 package; written from the paper (Sec. 3, Eq. 3).

For two models a and b on the same images, R(i, j) says how strongly a's active dimension i
predicts b's active dimension j: UDR_L (the default) regresses b's standardised codes on a's with
the Lasso (alpha 0.1, the paper's), which selects exactly no coefficient between independent
dimensions, and takes |the least-squares coefficients refitted on the selected dimensions| (so
identical models score 1: the Lasso's own coefficients shrink an exact match to 1 - alpha = 0.9,
the only departure from the paper here); UDR_S takes |Spearman correlation|, whose sampling noise between
independent dimensions (~1/sqrt(N)) keeps identical models a little below 1. Each dimension scores max R^2 / sum R over the other
model's dimensions (1 when it matches exactly one, ~1/k when spread over k), and

    UDR_ab = (sum over b's dimensions + sum over a's dimensions) / (d_a + d_b),

where d counts active dimensions (inactive ones carry no information: KL, or Echo's rate above its
floor, below 0.01 nats). A model's UDR is the median of UDR_ab over the other models of its
setting. Numpy and scipy only.
"""
import itertools

import numpy as np
from scipy import stats
from sklearn import linear_model

ACTIVE_THRESHOLD = 0.01  # nats above a dimension's lowest rate for it to count as active


def active_dimensions(rate_per_dim, min_rate_per_dim=0.0, threshold=ACTIVE_THRESHOLD):
  """Boolean mask of the dimensions whose rate exceeds its floor by more than `threshold` nats."""
  return np.asarray(rate_per_dim, float) - float(min_rate_per_dim) > threshold


def spearman_matrix(codes_a, codes_b):
  """|Spearman correlation| (d_a, d_b) between the columns of two (N, d) code arrays."""
  if codes_a.shape[1] == 0 or codes_b.shape[1] == 0:
    return np.zeros((codes_a.shape[1], codes_b.shape[1]))
  rho = stats.spearmanr(codes_a, codes_b).statistic
  rho = np.atleast_2d(rho)
  if rho.shape == (1, 1):  # one dimension each: scipy returns a scalar
    return np.abs(rho)
  d_a = codes_a.shape[1]
  return np.nan_to_num(np.abs(rho[:d_a, d_a:]))


def lasso_matrix(codes_a, codes_b, alpha=0.1):
  """(d_a, d_b): for each of b's standardised dimensions, |least-squares coefficients| on the
  dimensions of a's standardised codes that the Lasso (alpha) selects, 0 elsewhere."""
  if codes_a.shape[1] == 0 or codes_b.shape[1] == 0:
    return np.zeros((codes_a.shape[1], codes_b.shape[1]))
  def standardise(x):
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
  a, b = standardise(codes_a), standardise(codes_b)
  selected = np.atleast_2d(linear_model.Lasso(alpha=alpha).fit(a, b).coef_) != 0  # (d_b, d_a)
  out = np.zeros((codes_a.shape[1], codes_b.shape[1]))
  for j in range(codes_b.shape[1]):
    if selected[j].any():
      coef = np.linalg.lstsq(a[:, selected[j]], b[:, j], rcond=None)[0]
      out[selected[j], j] = np.abs(coef)
  return out


CORRELATIONS = {"lasso": lasso_matrix, "spearman": spearman_matrix}


def pair_score(codes_a, codes_b, correlation="lasso"):
  """UDR_ab of two models' codes of the same images (active dimensions only).

  Args:
    codes_a, codes_b: (N, d_a), (N, d_b) arrays, rows the same images.
    correlation: 'lasso' (UDR_L) or 'spearman' (UDR_S).

  Returns:
    float in [0, 1]; 0 when either model has no active dimension.
  """
  r = CORRELATIONS[correlation](np.asarray(codes_a, float), np.asarray(codes_b, float))
  if r.size == 0:
    return 0.0
  with np.errstate(invalid="ignore", divide="ignore"):
    per_b = np.nan_to_num(r.max(axis=0) ** 2 / r.sum(axis=0))
    per_a = np.nan_to_num(r.max(axis=1) ** 2 / r.sum(axis=1))
  return float((per_b.sum() + per_a.sum()) / (r.shape[0] + r.shape[1]))


def udr(codes, active=None, correlation="lasso"):
  """UDR of each model of one setting.

  Args:
    codes: list of (N, d) code arrays of the same N images, one per model (seed).
    active: list of boolean masks of each model's active dimensions (None: all).
    correlation: 'lasso' (UDR_L, the default) or 'spearman' (UDR_S).

  Returns:
    (per-model UDR: the median of its pair scores, the (M, M) matrix of pair scores).
  """
  m = len(codes)
  if m < 2:
    raise ValueError(f"UDR needs at least 2 models of a setting, got {m}")
  active = active or [np.ones(c.shape[1], bool) for c in codes]
  kept = [np.asarray(c)[:, a] for c, a in zip(codes, active)]
  pairs = np.eye(m)
  for i, j in itertools.combinations(range(m), 2):
    pairs[i, j] = pairs[j, i] = pair_score(kept[i], kept[j], correlation)
  return np.array([np.median(np.delete(pairs[i], i)) for i in range(m)]), pairs

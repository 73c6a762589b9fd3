"""Comparisons of seeds and the words that may describe them: the suite's one home for both.

A claim about models compares the scores of two groups of seeds (a baseline and a treatment).
Two tests are reported side by side:

  * Welch's t test (unequal variances; Welch 1947): t, its Welch-Satterthwaite degrees of
    freedom and the two-sided p from Student's t distribution with those degrees of freedom;
  * an exact permutation test: every split of the pooled scores into groups of the same sizes,
    the two-sided p the share of splits whose |difference of means| is at least the observed one.
    With n a side it cannot go below 2 / C(2n, n): 1/3 at n = 2, 1/10 at n = 3, 1/35 at n = 4.
    Beyond MAX_EXACT_SPLITS splits (12 seeds a side is 2.7 million, 13 is 10.4 million) it is
    estimated from PERMUTATION_DRAWS seeded random splits, (1 + as extreme) / (1 + draws), and
    printed with a leading '~'.

`verdict` turns them into one word by the fixed rules below; every table, figure and README
sentence of a study takes its word from here.
"""
import dataclasses
import itertools
import math

import numpy as np
from scipy import stats

# Below this many seeds a side nothing "holds" and nothing is "beyond doubt".
MIN_SEEDS_TO_HOLD = 4
SUGGESTIVE_P = 0.05  # Welch p below this, with fewer than MIN_SEEDS_TO_HOLD: at most "suggestive"
HOLDS_P = 0.05  # with MIN_SEEDS_TO_HOLD a side: Welch and permutation p both below this
BEYOND_DOUBT_P = 0.001  # ... and Welch p below this as well
LEANING_P = 0.10  # with MIN_SEEDS_TO_HOLD a side and Welch p below this: "suggestive"
MAX_EXACT_SPLITS = 5_000_000  # more splits than this: a Monte Carlo permutation p (memory, time)
PERMUTATION_DRAWS = 200_000  # random splits of that estimate (its sd is below 0.0012)
_SPLITS_PER_CHUNK = 200_000  # splits held in memory at once

RULES = (
    f"Verdicts: with fewer than {MIN_SEEDS_TO_HOLD} seeds a side, 'suggestive' when Welch's p < "
    f"{SUGGESTIVE_P:g}, else 'inconclusive'; with {MIN_SEEDS_TO_HOLD} or more a side, 'beyond "
    f"doubt' when Welch's p < {BEYOND_DOUBT_P:g} and the exact permutation p < {HOLDS_P:g}, "
    f"'holds' when both are < {HOLDS_P:g}, 'suggestive' when Welch's p < {LEANING_P:g}, else "
    "'inconclusive'. A difference against the claimed direction reads 'against' ('reversed' at "
    "the 'holds' level); a metric the claim does not speak of reads 'rises' or 'falls' at the "
    "same levels, '(not claimed)'. Below two seeds a side: 'untested'.")


@dataclasses.dataclass(frozen=True)
class Comparison:
  """Treatment against baseline.

  Attributes:
    n_baseline, n_treatment: seeds a side.
    diff: treatment mean minus baseline mean (None without both means).
    t, df, p: Welch's t, its degrees of freedom and two-sided p (None below two seeds a side;
      t = +-inf and p = 0 when both groups have no spread but differ).
    permutation_p: the exact two-sided permutation p (None below two seeds a side), or its
      Monte Carlo estimate beyond MAX_EXACT_SPLITS splits.
    permutation_exact: False for such an estimate.
  """
  n_baseline: int
  n_treatment: int
  diff: float | None
  t: float | None
  df: float | None
  p: float | None
  permutation_p: float | None
  permutation_exact: bool = True


def welch_t_test(baseline, treatment):
  """Welch's unequal-variance t test of treatment against baseline.

  Args:
    baseline, treatment: 1-D sequences of scores, at least two each.

  Returns:
    (t, df, p): the statistic (positive when the treatment's mean is higher), the
    Welch-Satterthwaite degrees of freedom and the two-sided p.
  """
  a, b = np.asarray(baseline, np.float64), np.asarray(treatment, np.float64)
  if a.size < 2 or b.size < 2:
    raise ValueError(f"Welch's t needs two values a side, got {a.size} and {b.size}")
  va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
  diff = float(b.mean() - a.mean())
  if va + vb == 0:  # no spread on either side: the difference is all there is
    return (math.copysign(math.inf, diff) if diff else 0.0, float(a.size + b.size - 2),
            0.0 if diff else 1.0)
  t = diff / math.sqrt(va + vb)
  df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
  return float(t), float(df), float(2 * stats.t.sf(abs(t), df))


def exact_permutation_p(baseline, treatment):
  """The exact two-sided permutation p of the difference of means.

  Args:
    baseline, treatment: 1-D sequences of scores.

  Returns:
    The share of the C(n_a + n_b, n_b) ways to split the pooled scores into groups of the same
    sizes whose |difference of means| is at least the observed one (the observed split counts).
    The splits are enumerated in chunks, so memory stays bounded; callers keep their number at
    most MAX_EXACT_SPLITS (`permutation_p`).
  """
  a, b = np.asarray(baseline, np.float64), np.asarray(treatment, np.float64)
  pooled = np.concatenate([a, b])
  splits = itertools.combinations(range(pooled.size), b.size)
  extreme = total = 0
  while chunk := list(itertools.islice(splits, _SPLITS_PER_CHUNK)):
    extreme += int(_as_extreme(pooled, np.array(chunk), a, b).sum())
    total += len(chunk)
  return extreme / total


def _as_extreme(pooled, treatment_index, a, b):
  """Which splits (rows of treatment indices) give a |difference of means| at least the
  observed one (a tolerance lets the observed split and its ties count despite rounding)."""
  observed = abs(b.mean() - a.mean())
  treatment_sums = pooled[treatment_index].sum(axis=1)
  diffs = np.abs(treatment_sums / b.size - (pooled.sum() - treatment_sums) / a.size)
  return diffs >= observed - 1e-12 * max(1.0, abs(observed))


def permutation_p(baseline, treatment, draws=PERMUTATION_DRAWS, seed=0):
  """The two-sided permutation p: exact up to MAX_EXACT_SPLITS splits, else estimated from
  `draws` random splits of a seeded generator as (1 + as extreme) / (1 + draws).

  Returns:
    (p, exact): the p and whether it is exact.
  """
  a, b = np.asarray(baseline, np.float64), np.asarray(treatment, np.float64)
  if math.comb(a.size + b.size, b.size) <= MAX_EXACT_SPLITS:
    return exact_permutation_p(a, b), True
  pooled, rng = np.concatenate([a, b]), np.random.default_rng(seed)
  extreme = 0
  for start in range(0, draws, _SPLITS_PER_CHUNK):
    n = min(_SPLITS_PER_CHUNK, draws - start)
    index = np.argsort(rng.random((n, pooled.size)), axis=1)[:, :b.size]
    extreme += int(_as_extreme(pooled, index, a, b).sum())
  return (1 + extreme) / (1 + draws), False


def compare(baseline, treatment):
  """Both tests of treatment against baseline (NaN scores are left out).

  Args:
    baseline, treatment: 1-D sequences of scores, one per seed.

  Returns:
    A Comparison.
  """
  a = [float(v) for v in baseline if not np.isnan(v)]
  b = [float(v) for v in treatment if not np.isnan(v)]
  diff = float(np.mean(b) - np.mean(a)) if a and b else None
  if len(a) < 2 or len(b) < 2:
    return Comparison(len(a), len(b), diff, None, None, None, None)
  t, df, p = welch_t_test(a, b)
  return Comparison(len(a), len(b), diff, t, df, p, *permutation_p(a, b))


def verdict(comparison, sign):
  """The word for a comparison, by the rules in RULES.

  Args:
    comparison: a Comparison.
    sign: +1 if the claim says the score rises from baseline to treatment, -1 if it falls,
      None for a metric shown beside a claim that does not speak of it.

  Returns:
    One of 'untested', 'inconclusive', 'suggestive', 'holds', 'beyond doubt', 'suggestive,
    against', 'reversed', 'reversed beyond doubt', or for sign None 'rises'/'falls' (with
    'suggests a rise'/'suggests a fall' below MIN_SEEDS_TO_HOLD) or 'no clear change', each
    followed by ' (not claimed)'.
  """
  c = comparison
  if c.p is None:
    return "untested" + ("" if sign is not None else " (not claimed)")
  level = _level(c)
  up = c.diff > 0
  if sign is None:
    word = {"inconclusive": "no clear change",
            "suggestive": "suggests a rise" if up else "suggests a fall"}.get(
                level, "rises" if up else "falls")
    return word + " (not claimed)"
  if level == "inconclusive" or (sign > 0) == up:
    return level
  return {"suggestive": "suggestive, against", "holds": "reversed",
          "beyond doubt": "reversed beyond doubt"}[level]


def _level(c):
  """'inconclusive', 'suggestive', 'holds' or 'beyond doubt', whatever the direction."""
  if min(c.n_baseline, c.n_treatment) < MIN_SEEDS_TO_HOLD:
    return "suggestive" if c.p < SUGGESTIVE_P else "inconclusive"
  if c.p < BEYOND_DOUBT_P and c.permutation_p < HOLDS_P:
    return "beyond doubt"
  if c.p < HOLDS_P and c.permutation_p < HOLDS_P:
    return "holds"
  return "suggestive" if c.p < LEANING_P else "inconclusive"


def format_p(p, exact=True):
  """'0.012', '< 0.001' or '–'; an estimate (exact False) gets a leading '~'."""
  if p is None:
    return "–"
  return ("" if exact else "~") + ("< 0.001" if p < 0.001 else f"{p:.3f}")


def format_test(comparison):
  """'t = +2.45, df 1.1, p = 0.233; permutation p = 0.333' or why there is none."""
  c = comparison
  if c.p is None:
    return f"no test (n = {c.n_baseline} / {c.n_treatment})"
  return (f"t = {c.t:+.2f}, df {c.df:.1f}, {p_phrase(c.p)}; "
          f"permutation {p_phrase(c.permutation_p, c.permutation_exact)}")


def p_phrase(p, exact=True):
  """'p = 0.012' or 'p < 0.001' ('p ~0.012', 'p ~< 0.001' for an estimate)."""
  text = format_p(p, exact)
  if not exact:
    return f"p {text}"
  return f"p {text}" if text.startswith("<") else f"p = {text}"

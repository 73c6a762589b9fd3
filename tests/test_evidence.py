"""Welch's t, the exact permutation test and the verdict rules of evidence.py."""
import itertools

import numpy as np
import pytest
from scipy import stats

from echo_suite import evidence


def test_welch_t_test_matches_scipy_and_the_satterthwaite_formula():
  rng = np.random.default_rng(0)
  for n_a, n_b in ((2, 2), (3, 5), (4, 4), (10, 3)):
    a, b = rng.normal(0.5, 0.1, n_a), rng.normal(0.6, 0.3, n_b)
    t, df, p = evidence.welch_t_test(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert t == pytest.approx(ref.statistic, rel=1e-9)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)
    va, vb = a.var(ddof=1) / n_a, b.var(ddof=1) / n_b
    assert df == pytest.approx((va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1)))


def test_welch_by_hand_on_two_seeds_a_side():
  # a = (0, 2), b = (4, 6): means 1 and 5, sample variances 2 and 2: t = 4 / sqrt(2) = 2.83,
  # df = (1 + 1)^2 / (1 + 1) = 2; p = 2 * P(T_2 > 2.83) = 0.1056.
  t, df, p = evidence.welch_t_test([0, 2], [4, 6])
  assert (t, df) == (pytest.approx(2 * np.sqrt(2)), pytest.approx(2.0))
  assert p == pytest.approx(0.10557, abs=1e-5)


def test_welch_without_spread_is_certain_of_a_difference_and_of_none():
  assert evidence.welch_t_test([1, 1], [2, 2]) == (np.inf, 2.0, 0.0)
  assert evidence.welch_t_test([1, 1], [1, 1])[2] == 1.0
  with pytest.raises(ValueError, match="two values a side, got 1 and 2"):
    evidence.welch_t_test([1], [2, 3])


def test_the_exact_permutation_p_counts_every_split():
  # Completely separated groups: only the observed split and its mirror are as extreme.
  assert evidence.exact_permutation_p([0, 1], [5, 6]) == pytest.approx(2 / 6)
  assert evidence.exact_permutation_p([0, 1, 2], [5, 6, 7]) == pytest.approx(2 / 20)
  assert evidence.exact_permutation_p([0, 1, 2, 3], [5, 6, 7, 8]) == pytest.approx(2 / 70)
  # By brute force on an uneven case with ties.
  a, b = [0.1, 0.3, 0.3], [0.2, 0.5]
  pooled = a + b
  observed = abs(np.mean(b) - np.mean(a))
  count = sum(abs(np.mean([pooled[i] for i in idx]) -
                  np.mean([pooled[i] for i in range(5) if i not in idx])) >= observed - 1e-12
              for idx in itertools.combinations(range(5), 2))
  assert evidence.exact_permutation_p(a, b) == pytest.approx(count / 10)
  assert evidence.exact_permutation_p([1, 1], [1, 1]) == 1.0


def test_the_permutation_p_is_enumerated_in_chunks_and_estimated_beyond_its_cap(monkeypatch):
  rng = np.random.default_rng(3)
  a, b = rng.normal(size=5), rng.normal(0.8, size=5)
  exact = evidence.exact_permutation_p(a, b)
  assert 0.02 < exact < 0.98  # a case where the estimate has something to get right
  monkeypatch.setattr(evidence, "_SPLITS_PER_CHUNK", 7)  # 252 splits in 36 chunks: same count
  assert evidence.exact_permutation_p(a, b) == pytest.approx(exact, abs=1e-12)
  assert evidence.permutation_p(a, b) == (pytest.approx(exact, abs=1e-12), True)
  monkeypatch.setattr(evidence, "MAX_EXACT_SPLITS", 100)  # 252 > 100: estimated
  p, is_exact = evidence.permutation_p(a, b)
  assert not is_exact and p == pytest.approx(exact, abs=0.006)  # 5 sd of 200,000 draws
  # 15 seeds a side (155 million splits): estimated in bounded memory, and marked as such.
  monkeypatch.undo()
  c = evidence.compare(np.arange(15.0), np.arange(15.0) + 20)
  assert not c.permutation_exact and c.permutation_p == pytest.approx(1 / 200_001)
  assert evidence.format_test(c).endswith("permutation p ~< 0.001")
  assert evidence.compare([0, 1, 2], [5, 6, 7]).permutation_exact


def _c(n, p, perm, diff=+0.1):
  return evidence.Comparison(n, n, diff, 3.0, 2.0, p, perm)


@pytest.mark.parametrize("comparison,sign,word", [
    (_c(2, 0.04, 0.33), +1, "suggestive"),  # n < 4: never 'holds', however small p
    (_c(3, 1e-6, 0.1), +1, "suggestive"),
    (_c(2, 0.06, 0.33), +1, "inconclusive"),
    (_c(2, 0.01, 0.33, diff=-0.1), +1, "suggestive, against"),
    (_c(4, 0.0005, 0.029), +1, "beyond doubt"),
    (_c(4, 0.0005, 0.029, diff=-0.1), +1, "reversed beyond doubt"),
    (_c(4, 0.0005, 0.06), +1, "suggestive"),  # the permutation test does not agree
    (_c(4, 0.01, 0.03), -1, "reversed"),
    (_c(4, 0.01, 0.03, diff=-0.1), -1, "holds"),
    (_c(5, 0.08, 0.1), +1, "suggestive"),
    (_c(5, 0.2, 0.3), -1, "inconclusive"),
    (_c(4, 0.01, 0.03), None, "rises (not claimed)"),
    (_c(2, 0.01, 0.33, diff=-0.1), None, "suggests a fall (not claimed)"),
    (_c(2, 0.5, 0.33), None, "no clear change (not claimed)"),
    (evidence.Comparison(1, 2, 0.1, None, None, None, None), +1, "untested"),
])
def test_verdict_words_follow_the_fixed_rules(comparison, sign, word):
  assert evidence.verdict(comparison, sign) == word


def test_compare_leaves_out_missing_scores_and_says_when_there_is_no_test():
  c = evidence.compare([0.5, np.nan, 0.6], [0.7, 0.8])
  assert (c.n_baseline, c.n_treatment, c.diff) == (2, 2, pytest.approx(0.2))
  assert c.permutation_p == pytest.approx(2 / 6)
  one = evidence.compare([0.5], [0.7, 0.8])
  assert one.p is None and one.diff == pytest.approx(0.25)
  assert evidence.format_test(one) == "no test (n = 1 / 2)"
  assert evidence.format_test(c).startswith("t = +2.83, df 2.0, p = 0.106; permutation p = 0.333")
  assert evidence.format_p(0.0004) == "< 0.001" and evidence.p_phrase(0.0004) == "p < 0.001"

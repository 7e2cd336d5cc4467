"""The kit's multiple-comparison adjustment gives statsmodels' numbers."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from funnelkit.stats import adjust_pvalues


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_holm_equals_statsmodels_ties_and_nan_included(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        p = rng.random(n) ** 3
        p[: n // 3] = p[n // 3]  # ties keep their order and their value
        expected = multipletests(p, method="holm")[1]
        np.testing.assert_allclose(adjust_pvalues(p), expected)
        with_gap = np.insert(p, 0, np.nan)
        np.testing.assert_allclose(adjust_pvalues(with_gap), np.insert(expected, 0, np.nan))


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 → 0.03, 0.06, 0.04 → running maximum 0.03, 0.06, 0.06
    assert adjust_pvalues([0.04, 0.01, 0.03]).tolist() == pytest.approx([0.06, 0.03, 0.06])
    assert adjust_pvalues([0.6, 0.7]).tolist() == [1.0, 1.0]


def test_an_unknown_method_is_refused_naming_the_two():
    with pytest.raises(ValueError, match="'holm' or 'fdr_bh'"):
        adjust_pvalues([0.1], method="bonferroni")

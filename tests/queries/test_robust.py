from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.robust import (
    BandMethod,
    adjusted_band,
    band,
    iqr_band,
    medcouple,
    medcouple_naive,
    quantile,
)

# Small integers give many ties with the median, the case the kernel defines specially.
samples = st.lists(st.integers(min_value=-6, max_value=6), min_size=1, max_size=40).map(
    lambda xs: [float(x) for x in xs]
)


def test_quantiles_interpolate_linearly() -> None:
    # Type 7 (R's default, numpy's linear): position (n - 1) q.
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.25) == 1.75
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 1.0) == 4.0
    assert quantile([7.0], 0.75) == 7.0
    with pytest.raises(ValueError, match="empty"):
        quantile([], 0.5)


def test_medcouple_of_a_hand_computed_right_skewed_sample() -> None:
    # x = 1 2 3 10 20, median 3: Z+ = (17, 7, 0), Z- = (0, -1, -2).
    # h(a, b) = (a + b) / (a - b):
    #   17: 1, 16/18, 15/19     7: 1, 6/8, 5/9     0: (tie) 0, -1, -1
    # sorted: -1 -1 0 5/9 3/4 15/19 8/9 1 1 -> the median (5th of 9) is 3/4.
    assert medcouple([1, 2, 3, 10, 20]) == pytest.approx(0.75)
    assert medcouple([20, 3, 10, 1, 2]) == pytest.approx(0.75)


def test_medcouple_of_an_even_kernel_is_the_mean_of_its_middle_values() -> None:
    # x = 1 2 4 8, median 3: Z+ = (5, 1), Z- = (-1, -2): h = 4/6, 3/7, 0, -1/3.
    # sorted: -1/3 0 3/7 2/3 -> (0 + 3/7) / 2 = 3/14.
    assert medcouple([1, 2, 4, 8]) == pytest.approx(3 / 14)


def test_ties_with_the_median_follow_the_sign_kernel() -> None:
    # x = 1 2 2 2 10: three values tie with the median 2. The 3x3 tie block holds three +1,
    # three 0 and three -1; with the other seven kernel values the median is 0.
    assert medcouple([1, 2, 2, 2, 10]) == 0.0
    assert medcouple([5, 5, 5, 5]) == 0.0
    assert medcouple([3]) == 0.0


def test_symmetric_samples_have_zero_medcouple() -> None:
    assert medcouple([1, 2, 3, 4, 5]) == 0.0
    assert medcouple([-3, -1, 0, 1, 3]) == 0.0
    rng = random.Random(7)
    half = [rng.uniform(0, 10) for _ in range(30)]
    assert medcouple([50 + h for h in half] + [50 - h for h in half]) == pytest.approx(
        0.0, abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(samples)
def test_fast_medcouple_equals_the_definition(values: list[float]) -> None:
    # naive_limit=0 forces the selection algorithm even on tiny samples.
    assert medcouple(values, naive_limit=0) == pytest.approx(medcouple_naive(values), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(samples)
def test_medcouple_is_bounded_and_antisymmetric(values: list[float]) -> None:
    mc = medcouple(values)
    assert -1.0 <= mc <= 1.0
    assert medcouple([-v for v in values]) == pytest.approx(-mc, abs=1e-12)


def test_fast_path_on_a_large_skewed_sample_matches_the_definition() -> None:
    rng = random.Random(3)
    values = [round(rng.lognormvariate(0, 1), 2) for _ in range(260)]  # kernel > naive limit
    fast = medcouple(values)
    assert fast == pytest.approx(medcouple_naive(values), abs=1e-12)
    assert fast > 0.1  # lognormal data are right-skewed


def test_adjusted_fences_equal_tukeys_on_symmetric_data() -> None:
    values = [float(v) for v in range(1, 22)]
    adjusted, tukey = adjusted_band(values), iqr_band(values, 1.5)
    assert adjusted.medcouple == 0.0
    assert (adjusted.lower, adjusted.upper) == (tukey.lower, tukey.upper)


def test_adjusted_fences_follow_hubert_and_vandervieren() -> None:
    values = [1.0, 2.0, 3.0, 10.0, 20.0]  # Q1 2, Q3 10, IQR 8, MC 3/4
    got = adjusted_band(values)
    assert (got.q1, got.q3, got.iqr) == (2.0, 10.0, 8.0)
    assert got.lower == pytest.approx(2 - 1.5 * math.exp(-4 * 0.75) * 8)
    assert got.upper == pytest.approx(10 + 1.5 * math.exp(3 * 0.75) * 8)
    # Right skew: the upper whisker is longer than Tukey's, the lower one shorter.
    tukey = iqr_band(values)
    assert got.upper > tukey.upper
    assert got.lower > tukey.lower


def test_negative_medcouple_mirrors_the_exponents() -> None:
    values = [1.0, 2.0, 3.0, 10.0, 20.0]
    left = adjusted_band([-v for v in values])
    right = adjusted_band(values)
    assert left.medcouple == pytest.approx(-0.75)
    assert left.lower == pytest.approx(-right.upper)
    assert left.upper == pytest.approx(-right.lower)


def test_pak_zdanowicz_filter_is_the_interquartile_range() -> None:
    values = [float(v) for v in range(1, 10)]
    got = band(values, BandMethod.IQR, k=0)
    assert (got.lower, got.upper) == (got.q1, got.q3) == (3.0, 7.0)


def test_bad_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        medcouple([])
    with pytest.raises(ValueError, match="finite"):
        adjusted_band([1.0, math.nan])
    with pytest.raises(ValueError, match="k must"):
        iqr_band([1.0, 2.0], k=-1)

"""Robust statistics for price filters: quartiles, the medcouple and outlier fences.

Pure functions on plain sequences of floats, no graph and no I/O, so the mis-invoicing
detector and anything else that needs a robust band share one tested implementation.

- Quartiles are the linear-interpolation quantiles (Hyndman & Fan 1996 type 7, the default of
  R's ``quantile`` and of numpy), so results can be checked against either.
- The **medcouple** (Brys, Hubert & Struyf 2004, "A robust measure of skewness", JCGS 13(4)) is
  computed exactly: the naive O(n^2) kernel median for small samples, and for larger ones the
  O(n log n)-per-pass selection in the sorted kernel matrix that Brys et al. describe (the
  Johnson & Mizoguchi 1978 k-th element search), which returns the same value.
- **Fences**: Tukey's [Q1 - k*IQR, Q3 + k*IQR]; the Pak & Zdanowicz interquartile price filter
  is the same band with k = 0 (prices outside the interquartile range are "abnormal"; Pak &
  Zdanowicz 1994, "A statistical analysis of the US merchandise trade data base and its uses in
  transfer pricing compliance and enforcement", Tax Management Transfer Pricing Report 3; de
  Boyrie, Pak & Zdanowicz 2005, Applied Economics 37); and the **adjusted boxplot** of Hubert &
  Vandervieren (2008, "An adjusted boxplot for skewed distributions", CSDA 52) whose whiskers
  lengthen on the skewed side by exp(3*MC) / exp(4*MC).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

# Up to this many kernel entries (|Z+| * |Z-|, about n^2 / 4) the naive kernel median is as
# fast as the selection algorithm in pure Python and simpler to trust.
NAIVE_KERNEL_LIMIT = 10_000


class BandMethod(StrEnum):
    IQR = "iqr"
    ADJUSTED = "adjusted"


class Band(BaseModel):
    """An outlier band around a sample: values outside [lower, upper] are outliers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: BandMethod
    n: int
    q1: float
    median: float
    q3: float
    iqr: float
    medcouple: float | None
    lower: float
    upper: float


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The type-7 (linear interpolation) quantile of an ascending sample."""
    if not sorted_values:
        raise ValueError("quantile of an empty sample")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile level {q} is not in [0, 1]")
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def median(values: Sequence[float]) -> float:
    return quantile(sorted(values), 0.5)


# --- the medcouple ---------------------------------------------------------------------------


class _Kernel:
    """The medcouple kernel h(z+_i, z-_j) as a matrix whose rows and columns do not increase.

    z are the deviations from the median, Z+ those >= 0 and Z- those <= 0, both sorted in
    decreasing order. h(a, b) = (a + b) / (a - b) grows with a and with b, so the matrix
    (rows Z+, columns Z-) is non-increasing along rows and columns. Values tied with the
    median appear in both Z+ (last rows) and Z- (first columns); for such a pair h is defined
    as sign(p - 1 - i - j) (Brys et al. 2004): a block with +1 above the anti-diagonal, 0 on
    it and -1 below, which keeps the matrix sorted and the kernel's distribution symmetric.
    """

    def __init__(self, values: Sequence[float]) -> None:
        ordered = sorted(values, reverse=True)
        med = median(ordered)
        z = [v - med for v in ordered]
        self.plus = [v for v in z if v >= 0]
        self.minus = [v for v in z if v <= 0]
        self.p = len(self.plus)
        self.q = len(self.minus)

    def h(self, i: int, j: int) -> float:
        a, b = self.plus[i], self.minus[j]
        if a == b:  # only when both are 0: a tie with the median
            return float((self.p - 1 - i - j > 0) - (self.p - 1 - i - j < 0))
        return (a + b) / (a - b)

    def all_values(self) -> list[float]:
        return [self.h(i, j) for i in range(self.p) for j in range(self.q)]

    def matrix(self) -> npt.NDArray[np.float64]:
        """The whole kernel at once (numpy, the same IEEE arithmetic as ``h``): the naive
        median builds every entry, and doing so in a Python loop cost more than the rest
        of a unit-value run together."""
        a = np.asarray(self.plus, dtype=np.float64)[:, None]
        b = np.asarray(self.minus, dtype=np.float64)[None, :]
        tie = a == b
        with np.errstate(divide="ignore", invalid="ignore"):
            kernel = (a + b) / (a - b)
        rank = (self.p - 1) - np.arange(self.p)[:, None] - np.arange(self.q)[None, :]
        return np.where(tie, np.sign(rank).astype(np.float64), kernel)

    def count_greater(self, u: float) -> list[int]:
        """Per row, the last column whose h is > u (-1 when none): a staircase walk, O(p + q)."""
        last = [0] * self.p
        j = 0
        for i in range(self.p - 1, -1, -1):
            while j < self.q and self.h(i, j) > u:
                j += 1
            last[i] = j - 1
        return last

    def count_not_less(self, u: float) -> list[int]:
        """Per row, the first column whose h is < u (q when none): a staircase walk."""
        first = [0] * self.p
        j = self.q - 1
        for i in range(self.p):
            while j >= 0 and self.h(i, j) < u:
                j -= 1
            first[i] = j + 1
        return first

    def kth_largest(self, k: int) -> float:
        """The k-th largest kernel value (0-based), by narrowing a band of candidate columns.

        Each pass takes the weighted median of the row medians of the remaining band as a
        pivot, counts the entries above and below it with two staircase walks, and keeps the
        side holding rank k; at least a quarter of the band goes each pass (Johnson &
        Mizoguchi 1978), so O(log n) passes of O(n log n) each.
        """
        left = [0] * self.p  # first candidate column of each row
        right = [self.q - 1] * self.p  # last candidate column of each row
        left_total, right_total = 0, self.p * self.q
        while right_total - left_total > self.p:
            rows = [i for i in range(self.p) if left[i] <= right[i]]
            pivots = [(self.h(i, (left[i] + right[i]) // 2), right[i] - left[i] + 1) for i in rows]
            u = _weighted_median(pivots)
            above = self.count_greater(u)
            not_below = self.count_not_less(u)
            n_above = sum(above) + self.p
            n_not_below = sum(not_below)
            if k < n_above:
                right, right_total = above, n_above
            elif k >= n_not_below:
                left, left_total = not_below, n_not_below
            else:
                return u
        rest = sorted(
            (self.h(i, j) for i in range(self.p) for j in range(left[i], right[i] + 1)),
            reverse=True,
        )
        return rest[k - left_total]


def _weighted_median(pairs: list[tuple[float, int]]) -> float:
    pairs = sorted(pairs)
    half = sum(w for _, w in pairs) / 2
    seen = 0
    for value, weight in pairs:
        seen += weight
        if seen >= half:
            return value
    return pairs[-1][0]


def medcouple(values: Sequence[float], *, naive_limit: int = NAIVE_KERNEL_LIMIT) -> float:
    """The medcouple of a sample: the median of the kernel h over Z+ x Z-, in [-1, 1].

    0 for symmetric data, positive for right skew. The median of an even number of kernel
    values is the mean of the two middle ones (as in statsmodels and the usual definition of
    a median). Exact for every n: the naive O(n^2) kernel median while the kernel has at most
    ``naive_limit`` entries, else the selection algorithm (O(n log^2 n) here).
    """
    if not values:
        raise ValueError("medcouple of an empty sample")
    if any(not math.isfinite(v) for v in values):
        raise ValueError("medcouple needs finite values")
    kernel = _Kernel(values)
    total = kernel.p * kernel.q
    kth: Callable[[int], float]
    if total <= naive_limit:
        descending = np.sort(kernel.matrix(), axis=None)[::-1]
        kth = lambda k: float(descending[k])  # noqa: E731 (one of two interchangeable kths)
    else:
        kth = kernel.kth_largest
    if total % 2:
        return kth(total // 2)
    return (kth(total // 2 - 1) + kth(total // 2)) / 2


def medcouple_naive(values: Sequence[float]) -> float:
    """The medcouple by the definition, O(n^2): the reference the fast path is tested against."""
    if not values:
        raise ValueError("medcouple of an empty sample")
    ordered = sorted(_Kernel(values).all_values())
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


# --- fences ----------------------------------------------------------------------------------


def iqr_band(values: Sequence[float], k: float = 1.5) -> Band:
    """Tukey's fences [Q1 - k*IQR, Q3 + k*IQR]; k = 0 is the Pak-Zdanowicz price filter."""
    if k < 0:
        raise ValueError("k must be >= 0")
    ordered = _sorted_finite(values)
    q1, med, q3 = (quantile(ordered, q) for q in (0.25, 0.5, 0.75))
    iqr = q3 - q1
    return Band(
        method=BandMethod.IQR,
        n=len(ordered),
        q1=q1,
        median=med,
        q3=q3,
        iqr=iqr,
        medcouple=None,
        lower=q1 - k * iqr,
        upper=q3 + k * iqr,
    )


def adjusted_band(values: Sequence[float], k: float = 1.5) -> Band:
    """Hubert & Vandervieren's (2008) adjusted boxplot fences.

    For MC >= 0: [Q1 - k*exp(-4 MC)*IQR, Q3 + k*exp(3 MC)*IQR];
    for MC < 0:  [Q1 - k*exp(-3 MC)*IQR, Q3 + k*exp(4 MC)*IQR]; k = 1.5 in the paper.
    With MC = 0 (symmetric data) these are Tukey's fences.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    ordered = _sorted_finite(values)
    q1, med, q3 = (quantile(ordered, q) for q in (0.25, 0.5, 0.75))
    iqr = q3 - q1
    mc = medcouple(ordered)
    if mc >= 0:
        lower = q1 - k * math.exp(-4 * mc) * iqr
        upper = q3 + k * math.exp(3 * mc) * iqr
    else:
        lower = q1 - k * math.exp(-3 * mc) * iqr
        upper = q3 + k * math.exp(4 * mc) * iqr
    return Band(
        method=BandMethod.ADJUSTED,
        n=len(ordered),
        q1=q1,
        median=med,
        q3=q3,
        iqr=iqr,
        medcouple=mc,
        lower=lower,
        upper=upper,
    )


def band(values: Sequence[float], method: BandMethod, k: float = 1.5) -> Band:
    if method is BandMethod.ADJUSTED:
        return adjusted_band(values, k)
    return iqr_band(values, k)


def _sorted_finite(values: Sequence[float]) -> list[float]:
    if not values:
        raise ValueError("a band needs at least one value")
    if any(not math.isfinite(v) for v in values):
        raise ValueError("a band needs finite values")
    return sorted(values)

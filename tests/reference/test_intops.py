"""reference.intops: the integer kernels against brute force (exact Python integers / fractions) and
hand-worked values, and their typed refusals."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from deeploy_tiler.reference import intops as I


def test_isqrt_is_exact_near_squares_and_for_large_values() -> None:
    vals = [0, 1, 2, 3, 4, 15, 16, 17, 2**63 - 1]
    for r in (3037000499, 2**31 - 1, 94906265):
        vals += [r * r - 1, r * r, r * r + 1]
    x = np.array(vals, dtype=np.int64)
    assert I.isqrt(x).tolist() == [math.isqrt(v) for v in vals]


def test_isqrt_of_a_negative_number() -> None:
    with pytest.raises(ValueError, match="square root of a negative number"):
        I.isqrt(np.array([4, -1], dtype=np.int64))


def test_floor_pow2_sum_against_fractions() -> None:
    rng = random.Random(1)
    for _ in range(300):
        n = rng.randint(1, 2**40)
        shifts = [rng.choice([rng.randint(0, 8), rng.randint(30, 120)]) for _ in range(rng.randint(0, 6))]
        exact = sum((Fraction(n, 2**s) for s in shifts), Fraction(0))
        assert I.floor_pow2_sum(n, shifts) == math.floor(exact), (n, shifts)
    assert I.floor_pow2_sum(5, []) == 0


def test_igelu_by_hand() -> None:
    # b = -4, one = 16: x = 2 -> q = 2, L = 16 - (2 - 4)^2 = 12, y = 2 * floor(28 / 2) = 28.
    # x = -3 -> q = 3, L = -(16 - 1) = -15, y = -3 * floor(1 / 2) = 0. x = 9 -> q = 4, L = 16, y = 9 * 16.
    x = np.array([2, -3, 9, 0], dtype=np.int64)
    assert I.igelu(x, b=-4, one=16).tolist() == [28, 0, 144, 0]
    with pytest.raises(ValueError, match="iGELU b must be <= 0, got 1"):
        I.igelu(x, b=1, one=16)


def test_ihardswish_by_hand() -> None:
    # y = x * clip(x + 3, 0, 6) * 10
    x = np.array([-5, -1, 2, 7], dtype=np.int64)
    assert I.ihardswish(x, one_over_six=10, six=6, three=3).tolist() == [0, -20, 100, 420]
    with pytest.raises(ValueError, match="iHardswish six must be >= 0, got -1"):
        I.ihardswish(x, one_over_six=1, six=-1, three=3)


def test_true_integer_div_multiplies_by_the_floored_factor() -> None:
    # factor = floor(100 * 7 / (3 * 7 + 2)) = floor(700 / 23) = 30
    x = np.array([1, -2, 5], dtype=np.int64)
    assert I.true_integer_div(x, delta=100, eps=2, eta=7, y=3).tolist() == [30, -60, 150]
    with pytest.raises(ValueError, match=r"denominator y\*eta \+ eps = 0 must be positive"):
        I.true_integer_div(x, delta=1, eps=0, eta=1, y=0)


def test_integer_mean_rounds_half_up() -> None:
    x = np.array([[1, 2], [-1, -2], [3, 4]], dtype=np.int64)
    # means 1.5 -> 2, -1.5 -> -1, 3.5 -> 4
    assert I.integer_mean(x, axes=[1], keepdims=False).tolist() == [2, -1, 4]
    assert I.integer_mean(x, axes=[-1], keepdims=True).shape == (3, 1)
    with pytest.raises(ValueError, match="IntegerMean over an empty axis"):
        I.integer_mean(np.zeros((2, 0), dtype=np.int64), axes=[1], keepdims=False)


def test_itamax_needs_power_of_two_levels() -> None:
    with pytest.raises(ValueError, match="ITAMax needs a power-of-two n_levels, got 200"):
        I.itamax(np.zeros((1, 4), dtype=np.int64), n_levels=200)
    out = I.itamax(np.array([[5, 5, 5, 5]], dtype=np.int64), n_levels=256)
    assert out.shape == (1, 4) and len(set(out.ravel().tolist())) == 1  # equal inputs, equal probabilities

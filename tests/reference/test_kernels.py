"""Kernel-level tests: hand-worked values, and independent formulations (plain Python loops, exact
fractions) on small random cases."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from deeploy_tiler.frontend.shapes import SHAPE_RULES
from deeploy_tiler.reference import FLOAT_ONLY_OPS, KERNELS
from deeploy_tiler.reference import intops as I
from deeploy_tiler.reference import kernels as K


def a(*values: object) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def eq(x: np.ndarray, y: object) -> bool:
    return x.dtype == np.int64 and np.array_equal(x, np.asarray(y))


# --- coverage ----------------------------------------------------------------------------------------
def test_every_frontend_operator_has_a_kernel_or_a_documented_refusal() -> None:
    assert set(SHAPE_RULES) == set(KERNELS) | set(FLOAT_ONLY_OPS)
    assert not set(KERNELS) & set(FLOAT_ONLY_OPS)


# --- division helpers ----------------------------------------------------------------------------------
def test_division_roundings() -> None:
    n = a(-7, -6, -5, 5, 6, 7)
    assert eq(K.floor_div(n, 4), [-2, -2, -2, 1, 1, 1])
    assert eq(K.trunc_div(n, 4), [-1, -1, -1, 1, 1, 1])
    assert eq(K.trunc_div(n, -4), [1, 1, 1, -1, -1, -1])
    assert eq(K.round_div(n, 4), [-2, -1, -1, 1, 2, 2])  # -1.5 -> -1, 1.5 -> 2 (half up)
    assert eq(K.shift_right_floor(a(-5, 5, -1), a(1, 1, 80)), [-3, 2, -1])


def test_isqrt_exact_near_squares() -> None:
    x = a(0, 1, 2, 3, 4, 15, 16, 17, (2**31 - 1) ** 2 - 1, (2**31 - 1) ** 2, 10**17)
    assert eq(I.isqrt(x), [math.isqrt(int(v)) for v in x])
    with pytest.raises(ValueError):
        I.isqrt(a(-1))


# --- requantization ------------------------------------------------------------------------------------
def test_requant_shift_hand_values() -> None:
    x = a(-3, 0, 5, 1000)
    # x*3 + 1 + 4//2 = -6, 3, 18, 3003; floor(/4) = -2, 0, 4, 750
    assert eq(K.requant_shift(x, a(3), a(1), div=4, n_levels=8, signed=True), [-2, 0, 3, 3])
    assert eq(K.requant_shift(x, a(3), a(1), div=4, n_levels=4, signed=False), [0, 0, 3, 3])


def test_requant_shift_per_channel_broadcast() -> None:
    x = np.ones((1, 2, 2, 2), dtype=np.int64) * 10
    mul = a(1, 2).reshape(2, 1, 1)
    add = a(0, -8).reshape(2, 1, 1)
    y = K.requant_shift(x, mul, add, div=2, n_levels=256, signed=True)
    assert eq(y[0, 0], np.full((2, 2), 5)) and eq(y[0, 1], np.full((2, 2), 6))  # (20-8+1)//2


def test_requant_overflow_is_refused() -> None:
    with pytest.raises(ValueError, match="overflow"):
        K.requant_shift(a(2**40), a(2**30), a(0), div=2, n_levels=256, signed=True)


# --- Conv ----------------------------------------------------------------------------------------------
def _conv_naive(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    group: int,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    dil: tuple[int, int],
) -> np.ndarray:
    n, _, h, wd = x.shape
    m, cg, kh, kw = w.shape
    oh = (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow), dtype=np.int64)
    for bi, mi, i, j in itertools.product(range(n), range(m), range(oh), range(ow)):
        g = mi // (m // group)
        acc = int(b[mi]) if b is not None else 0
        for ci, u, v in itertools.product(range(cg), range(kh), range(kw)):
            r = i * strides[0] + u * dil[0] - pads[0]
            s = j * strides[1] + v * dil[1] - pads[1]
            if 0 <= r < h and 0 <= s < wd:
                acc += int(x[bi, g * cg + ci, r, s]) * int(w[mi, ci, u, v])
        out[bi, mi, i, j] = acc
    return out


def test_conv_hand_values() -> None:
    x = np.arange(9, dtype=np.int64).reshape(1, 1, 3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    w = a(1, 0, 0, -1).reshape(1, 1, 2, 2)  # x[i,j] - x[i+1,j+1] = -4 everywhere
    assert eq(K.conv(x, w), np.full((1, 1, 2, 2), -4))
    assert eq(K.conv(x, w, a(10)), np.full((1, 1, 2, 2), 6))
    # pads 1 on top/left only, stride 2: y[i,j] = P[2i, 2j] - P[2i+1, 2j+1] with P[r, s] = x[r-1, s-1]
    y = K.conv(x, w, pads=(1, 1, 0, 0), strides=(2, 2))
    assert eq(y, [[[[0 - 0, 0 - 2], [0 - 6, 4 - 8]]]])


@pytest.mark.parametrize(
    ("group", "strides", "pads", "dil"),
    [
        (1, (1, 1), (0, 0, 0, 0), (1, 1)),
        (1, (2, 1), (1, 2, 0, 1), (1, 1)),
        (2, (1, 2), (1, 1, 1, 1), (2, 1)),
        (4, (1, 1), (1, 1, 1, 1), (1, 1)),  # depthwise
    ],
)
def test_conv_matches_naive_loops(
    group: int, strides: tuple[int, int], pads: tuple[int, int, int, int], dil: tuple[int, int]
) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, size=(2, 4, 7, 6)).astype(np.int64)
    w = rng.integers(-128, 128, size=(8, 4 // group, 3, 2)).astype(np.int64)
    b = rng.integers(-1000, 1000, size=8).astype(np.int64)
    got = K.conv(x, w, b, group=group, strides=strides, pads=pads, dilations=dil)
    assert eq(got, _conv_naive(x, w, b, group, strides, pads, dil))


def test_conv_1d() -> None:
    x = a(1, 2, 3, 4).reshape(1, 1, 4)
    w = a(1, 1).reshape(1, 1, 2)
    assert eq(K.conv(x, w, pads=(1, 0)), [[[1, 3, 5, 7]]])


def test_conv_rejects_same_autopad() -> None:
    with pytest.raises(ValueError, match="auto_pad"):
        K.conv(np.zeros((1, 1, 3, 3), np.int64), np.zeros((1, 1, 1, 1), np.int64), auto_pad="SAME_UPPER")


# --- Gemm / MatMul / element-wise ----------------------------------------------------------------------------
def test_gemm_hand_values() -> None:
    am = a(1, 2, 3, 4).reshape(2, 2)
    bm = a(5, 6, 7, 8).reshape(2, 2)
    assert eq(K.gemm(am, bm), [[19, 22], [43, 50]])
    assert eq(K.gemm(am, bm, trans_b=True), [[17, 23], [39, 53]])
    assert eq(K.gemm(am, bm, trans_a=True), [[26, 30], [38, 44]])
    assert eq(K.gemm(am, bm, a(1, -1), alpha=2, beta=3), [[41, 41], [89, 97]])


def test_gemm_node_rejects_fractional_alpha() -> None:
    with pytest.raises(ValueError, match="alpha"):
        KERNELS["Gemm"]([a(1).reshape(1, 1), a(1).reshape(1, 1)], {"alpha": 0.5})


def test_matmul_batched_broadcast_and_vectors() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, size=(2, 1, 3, 4)).astype(np.int64)
    y = rng.integers(-128, 128, size=(5, 4, 2)).astype(np.int64)
    want = np.einsum("bqik,pkj->bpij", x, y)  # independent formulation
    assert eq(K.matmul(x, y), want)
    assert eq(K.matmul(a(1, 2, 3), a(4, 5, 6)), 32)
    assert eq(K.matmul(a(1, 2).reshape(1, 2), a(3, 4)), [11])


def test_elementwise() -> None:
    x = a(1, -2, 3).reshape(3, 1)
    y = a(10, 20)
    assert eq(K.add(x, y), [[11, 21], [8, 18], [13, 23]])
    assert eq(K.sub(x, y), [[-9, -19], [-12, -22], [-7, -17]])
    assert eq(K.mul(x, y), [[10, 20], [-20, -40], [30, 60]])
    assert eq(K.relu(a(-3, 0, 4)), [0, 0, 4])
    assert eq(K.clip(a(-3, 0, 4), lo=-1.5, hi=2.5), [-1, 0, 2])
    assert eq(K.clip(a(-3, 0, 4), lo=None, hi=3), [-3, 0, 3])
    assert eq(K.identity(a(7)), [7])


# --- pools and means -----------------------------------------------------------------------------------------
def test_max_pool() -> None:
    x = np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4) - 20  # all negative: padding must never win
    assert eq(K.max_pool(x, kernel_shape=(2, 2), strides=(2, 2)), [[[[-15, -13], [-7, -5]]]])
    y = K.max_pool(x, kernel_shape=(2, 2), strides=(2, 2), pads=(1, 1, 1, 1))
    assert eq(y, [[[[-20, -18, -17], [-12, -10, -9], [-8, -6, -5]]]])
    z = K.max_pool(x[:, :, :3, :3], kernel_shape=(2, 2), strides=(2, 2), ceil_mode=True)
    assert eq(z, [[[[-15, -14], [-11, -10]]]])


def test_average_pool_rounds_half_up() -> None:
    x = a(1, 2, 3, 5).reshape(1, 1, 2, 2)
    assert eq(K.average_pool(x, kernel_shape=(2, 2)), [[[[3]]]])  # 11/4 = 2.75
    # pads 1 left: windows [pad,1],[2] | [pad,3],[5]... kernel (1,2), stride (1,2)
    y = K.average_pool(x, kernel_shape=(1, 2), strides=(1, 2), pads=(0, 1, 0, 1))
    assert eq(y, [[[[1, 2], [3, 5]]]])  # counts exclude padding: 1/1, 2/1, 3/1, 5/1
    z = K.average_pool(x, kernel_shape=(1, 2), strides=(1, 2), pads=(0, 1, 0, 1), count_include_pad=True)
    assert eq(z, [[[[1, 1], [2, 3]]]])  # 1/2 -> 1, 2/2, 3/2 -> 2, 5/2 -> 3
    neg = K.average_pool(-x, kernel_shape=(1, 2))
    assert eq(neg, [[[[-1], [-4]]]])  # -1.5 -> -1, -4 stays


def test_global_average_pool_and_reduce_mean() -> None:
    x = a(1, 2, -1, -2).reshape(1, 2, 1, 2)
    assert eq(K.global_average_pool(x), [[[[2]], [[-1]]]])  # 1.5 -> 2, -1.5 -> -1
    m = a(1, 2, 3, 4, 5, 6).reshape(2, 3)
    assert eq(K.reduce_mean(m, axes=(1,), keepdims=False), [2, 5])
    assert eq(K.reduce_mean(m, axes=(0,), keepdims=True), [[3, 4, 5]])  # 2.5 -> 3, 3.5 -> 4, 4.5 -> 5
    assert eq(K.reduce_mean(m), [[4]])  # 21/6 = 3.5 -> 4


# --- data movement -------------------------------------------------------------------------------------------
def test_data_movement() -> None:
    x = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    assert K.flatten(x, axis=1).shape == (2, 12) and K.flatten(x, axis=0).shape == (1, 24)
    assert eq(K.reshape(x, shape=(0, -1)), x.reshape(2, 12))
    assert eq(K.transpose(x, perm=(2, 0, 1))[3, 1, 2], 23)
    assert K.transpose(x).shape == (4, 3, 2)
    assert eq(K.concat([a(1, 2), a(3)], axis=0), [1, 2, 3])
    assert eq(K.gather(x, a(-1, 0), axis=1)[1, :, 0], [20, 12])
    assert eq(K.gather(x, np.array(1, dtype=np.int64), axis=0), x[1])
    with pytest.raises(ValueError, match="out of range"):
        K.gather(x, a(3), axis=1)
    assert eq(K.slice_(x, starts=(1, -1), ends=(3, -5), axes=(1, 2), steps=(1, -2)), x[:, 1:3, -1:-5:-2])
    assert eq(K.slice_(x, starts=(0,), ends=(2**62,)), x)
    assert K.squeeze(np.zeros((1, 3, 1), np.int64), axes=(-1,)).shape == (1, 3)
    assert K.squeeze(np.zeros((1, 3, 1), np.int64)).shape == (3,)
    assert K.unsqueeze(a(1, 2), axes=(0, -1)).shape == (1, 2, 1)


def test_pad() -> None:
    x = a(1, 2, 3).reshape(1, 3)
    assert eq(K.pad(x, pads=(0, 1, 0, 2), constant_value=-7), [[-7, 1, 2, 3, -7, -7]])
    assert eq(K.pad(x, pads=(0, 2, 0, 0), mode="edge"), [[1, 1, 1, 2, 3]])
    assert eq(K.pad(x, pads=(0, 1, 0, 1), mode="reflect"), [[2, 1, 2, 3, 2]])
    assert eq(K.pad(x, pads=(0, -1, 0, 1)), [[2, 3, 0]])


# --- integer dialect ----------------------------------------------------------------------------------------
def _isoftmax_fraction(row: list[int], A: int, B: int, C: int, log2: int, n: int) -> list[int]:
    m = max(row)
    e = []
    for v in row:
        xt = v - m
        z = math.floor(Fraction(-xt, log2))
        p = xt + z * log2
        e.append(math.floor(Fraction(A * (p + B) ** 2 + C, 2**z)))
    s = sum(e)
    return [min(max(math.floor(Fraction(v * (n - 1), s)), 0), n - 1) for v in e]


def test_isoftmax_hand_values() -> None:
    # x - max = [0, -64]; z = [0, 1]; p = [0, 0]; e = [86^2 + 3888, 11284 >> 1] = [11284, 5642]
    # y = floor(e * 255 / 16926) = [170, 85]
    y = I.isoftmax(a(5, -59), coeff_a=1, coeff_b=86, coeff_c=3888, log2=64, n_levels=256)
    assert eq(y, [170, 85])


def test_isoftmax_matches_fraction_formulation() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, size=(6, 65)).astype(np.int64)
    got = I.isoftmax(x, coeff_a=1, coeff_b=85, coeff_c=3770, log2=63, n_levels=256)
    want = [_isoftmax_fraction(r.tolist(), 1, 85, 3770, 63, 256) for r in x]
    assert eq(got, want)


def _itamax_fraction(row: list[int], n: int) -> list[int]:
    big_b = int(math.log2(n))
    m = max(row)
    shifts = [math.floor(Fraction((m - v) * big_b, 2**big_b) + Fraction(1, 2)) for v in row]
    s = math.floor(sum(Fraction(n, 2**k) for k in shifts))
    inv = math.floor(Fraction(n * (n - 1), s))
    return [math.floor(Fraction(inv, 2**k)) for k in shifts]


def test_itamax_hand_values() -> None:
    # diff = [0, 32, 48] -> shift = (diff + 16) >> 5 = [0, 1, 2]; sum = 256 + 128 + 64 = 448
    # inv = 65280 // 448 = 145; y = [145, 72, 36]
    assert eq(I.itamax(a(10, -22, -38), n_levels=256), [145, 72, 36])


@pytest.mark.parametrize("n_levels", [256, 16])
def test_itamax_matches_fraction_formulation(n_levels: int) -> None:
    # n = 16: shifts reach ~60, so n / 2^shift is fractional and the sum must be floored exactly
    rng = np.random.default_rng(4)
    x = rng.integers(-128, 128, size=(2, 3, 5, 17)).astype(np.int64)
    got = I.itamax(x, n_levels=n_levels)
    want = np.array([_itamax_fraction(r.tolist(), n_levels) for r in x.reshape(-1, 17)]).reshape(x.shape)
    assert eq(got, want)


def test_itamax_wide_inputs_take_the_exact_python_path() -> None:
    x = a(0, -3000, -5)  # shift 94 for -3000: beyond the int64 fast path
    assert eq(I.itamax(x, n_levels=256), _itamax_fraction(x.tolist(), 256))
    # shift 2^35 for the middle element: it contributes (almost) nothing; sum = floor(512 + tiny) = 512
    assert eq(I.itamax(a(0, -(2**40), -5), n_levels=256), [127, 0, 127])
    with pytest.raises(ValueError, match="power-of-two"):
        I.itamax(x, n_levels=255)


def test_floor_pow2_sum_matches_fractions() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        shifts = [int(s) for s in rng.integers(0, 150, size=int(rng.integers(1, 40)))]
        n = int(rng.integers(1, 300))
        assert I.floor_pow2_sum(n, shifts) == math.floor(sum(Fraction(n, 2**s) for s in shifts))
    # a sum just below an integer: 1/2 + 1/4 + ... + 1/2^100 (+ nothing) floors to 0; + 1/2^100 gives 1
    chain = list(range(1, 101))
    assert I.floor_pow2_sum(1, chain) == 0
    assert I.floor_pow2_sum(1, [*chain, 100]) == 1


def test_irmsnorm_hand_values() -> None:
    # sum x^2 = 25, floor(25/2) = 12, rms = isqrt(13) = 3; x*w = [30, -40]; /(3*2) -> [5, floor(-6.67)=-7]
    assert eq(I.irmsnorm(a(3, 4), a(10, -10), d=2, n_levels=256), [5, -7])
    assert eq(I.irmsnorm(a(3, 4), a(1000, -1000), d=2, n_levels=16), [7, -8])  # clipped to [-8, 7]


def test_ilayernorm_hand_values() -> None:
    # mean = trunc(7/3) = 2; c = [-1, 0, 2]; floor(5/3) + 1 = 2 -> std 1; c*w = [-3, 0, 6]; + b = [-3, 1, 5]
    assert eq(I.ilayernorm(a(1, 2, 4), a(3, 3, 3), a(0, 1, -1), d=2, n_levels=256), [-2, 0, 2])
    # negative mean truncates toward zero: trunc(-7/3) = -2 (floor would be -3)
    assert eq(I.ilayernorm(a(-1, -2, -4), a(1, 1, 1), a(0, 0, 0), d=1, n_levels=256), [1, 0, -2])
    # quotient truncates toward zero: std = isqrt(20/4 + 1) = 2; c/2 = [1.5, -1.5, .5, -.5] -> [1, -1, 0, 0]
    assert eq(I.ilayernorm(a(3, -3, 1, -1), a(1, 1, 1, 1), a(0, 0, 0, 0), d=1, n_levels=256), [1, -1, 0, 0])


def test_igelu_hand_values() -> None:
    # b = -2, one = 4: q = min(|x|, 2); L = sign(x) * (4 - (q - 2)^2); y = x * floor((4 + L) / 2)
    assert eq(I.igelu(a(-3, -1, 0, 1, 3), b=-2, one=4), [0, 0, 0, 3, 12])


def test_ihardswish_hand_values() -> None:
    # y = x * (clip(x + 3, 0, 6) * 2)
    assert eq(I.ihardswish(a(-5, -3, 0, 2, 5), one_over_six=2, six=6, three=3), [0, 0, 0, 20, 60])


def test_true_integer_div_values_seen_in_microllama() -> None:
    # k = floor(16384 * 200000 / 400001) = 8191; QuantLib's activations hold -15 -> -122865, 3 -> 24573
    assert eq(I.true_integer_div(a(-15, 3, 0), delta=16384, eps=1, eta=200000, y=2), [-122865, 24573, 0])
    with pytest.raises(ValueError, match="denominator"):
        I.true_integer_div(a(1), delta=1, eps=0, eta=1, y=0)


def test_integer_mean_rounds_half_up() -> None:
    x = a(1, 2, 3, 4, -1, -2).reshape(3, 2)
    assert eq(I.integer_mean(x, axes=(1,), keepdims=False), [2, 4, -1])  # 1.5, 3.5, -1.5
    assert eq(I.integer_mean(x, axes=(0, 1), keepdims=True), [[1]])  # 7/6

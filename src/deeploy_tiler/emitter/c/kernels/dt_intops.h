/* Integer helpers and the element-wise integer operators, with the exact rounding of the reference
 * interpreter (src/deeploy_tiler/reference, docs/integer_ops.md):
 *   floor division rounds toward -inf, "round" is half up: floor(a / b + 1/2), C's / truncates. */
#ifndef DT_INTOPS_H
#define DT_INTOPS_H

#include <stdint.h>

/* floor(a / b) for b > 0 */
static inline int64_t dt_floordiv64(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b) != 0 && a < 0) q -= 1;
    return q;
}

/* floor(a / b + 1/2) for b > 0 */
static inline int64_t dt_rounddiv64(int64_t a, int64_t b) { return dt_floordiv64(2 * a + b, 2 * b); }

/* floor(a / 2^s) for s >= 0 (any s) */
static inline int64_t dt_shr_floor64(int64_t a, int32_t s) {
    if (s >= 63) return a < 0 ? -1 : 0;
    return a >> s; /* arithmetic shift (GCC, Clang): floor */
}

/* floor(sqrt(v)) for v >= 0, exact (bitwise method) */
static inline int64_t dt_isqrt64(int64_t v) {
    uint64_t x = (uint64_t)v, r = 0, bit = (uint64_t)1 << 62;
    if (v <= 0) return 0;
    while (bit > x) bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return (int64_t)r;
}

/* iHardswish: y = x * (clip(x + three, 0, six) * one_over_six) */
static inline int32_t dt_ihardswish(int32_t x, int32_t one_over_six, int32_t six, int32_t three) {
    int32_t t = x + three;
    if (t < 0) t = 0;
    if (t > six) t = six;
    return x * (t * one_over_six);
}

/* iGELU: q = min(|x|, -b); L = sign(x) * (one - (q + b)^2); y = x * floor((one + L) / 2) */
static inline int32_t dt_igelu(int32_t x, int32_t b, int32_t one) {
    int32_t q = x < 0 ? -x : x;
    int32_t l, s;
    if (q > -b) q = -b;
    l = one - (q + b) * (q + b);
    s = x > 0 ? l : (x < 0 ? -l : 0);
    return x * (int32_t)dt_floordiv64((int64_t)one + s, 2);
}

/* TrueIntegerDiv: y = x * factor, factor = floor(Delta * eta / (y * eta + eps)) folded by the emitter */
static inline int32_t dt_truediv(int32_t x, int32_t factor, int32_t unused1, int32_t unused2, int32_t unused3) {
    (void)unused1;
    (void)unused2;
    (void)unused3;
    return x * factor;
}

/* load element i of a signed integer array of `bytes` bytes per element */
static inline int64_t dt_load_int(const void *p, int32_t bytes, int32_t i) {
    switch (bytes) {
    case 1: return ((const int8_t *)p)[i];
    case 2: return ((const int16_t *)p)[i];
    case 4: return ((const int32_t *)p)[i];
    default: return ((const int64_t *)p)[i];
    }
}

#endif /* DT_INTOPS_H */

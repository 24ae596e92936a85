/* Integer helpers and the element-wise integer operators, with the exact rounding of the reference
 * interpreter (src/deeploy_tiler/reference, docs/integer_ops.md):
 *   floor division rounds toward -inf, "round" is half up: floor(a / b + 1/2), C's / truncates. */
#ifndef DT_INTOPS_H
#define DT_INTOPS_H

#include <stdint.h>

/* floor(a / b) for b > 0 */
static inline int64_t dt_floordiv64(int64_t a, int64_t b) {
    int64_t q;
    if (b > 0 && a == (int32_t)a && b == (int32_t)b) { /* the common case in 32 bits: RV32 has no 64-bit divide */
        int32_t q32 = (int32_t)a / (int32_t)b;
        if (((int32_t)a % (int32_t)b) != 0 && a < 0) q32 -= 1;
        return q32;
    }
    q = a / b;
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

/* ---- onnxruntime's float32 requantization (docs/onnx_quantization.md) --------------------------
 * IEEE-754 single precision with round-to-nearest-even everywhere: x86-64 SSE on the host, libgcc's
 * soft-float on rv32imc; the Makefile passes -ffp-contract=off so no a*b+c becomes a fused multiply-add.
 * No libm: the rounding to an integer is done on the bits. */
typedef union {
    float f;
    uint32_t u;
    int32_t i;
} dt_f32_bits_t;

static inline float dt_f32_from_bits(int32_t bits) {
    dt_f32_bits_t v;
    v.i = bits;
    return v.f;
}

/* round half to even of a finite float with |f| < 2^30 */
static inline int32_t dt_rne_f32(float f) {
    dt_f32_bits_t v;
    int32_t e, r;
    uint32_t m;
    v.f = f;
    e = (int32_t)((v.u >> 23) & 0xffu) - 127;
    m = (v.u & 0x7fffffu) | 0x800000u;
    if (e < -1) {
        r = 0; /* |f| < 0.5 (zero and subnormals included) */
    } else if (e >= 23) {
        r = (int32_t)(m << (e - 23));
    } else {
        const int32_t sh = 23 - e; /* 1 .. 24 */
        uint32_t q = m >> sh;
        const uint32_t rem = m & ((1u << sh) - 1u), half = 1u << (sh - 1);
        if (rem > half || (rem == half && (q & 1u))) q += 1u;
        r = (int32_t)q;
    }
    return (v.u >> 31) ? -r : r;
}

/* y = clip(rne((float)v * scale) + zp, lo, hi), clamped in float first as MLAS does */
static inline int32_t dt_requant_f32(int32_t v, int32_t scale_bits, int32_t zp, int32_t lo, int32_t hi) {
    float p = (float)v * dt_f32_from_bits(scale_bits);
    const float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    if (p < flo) p = flo;
    if (p > fhi) p = fhi;
    return dt_rne_f32(p) + zp;
}

/* y = clip(rne((float)v * scale + (float)zp), lo, hi) (MLAS QLinearMul adds the zero point before rounding) */
static inline int32_t dt_requant_f32_zp(int32_t v, int32_t scale_bits, int32_t zp, int32_t lo, int32_t hi) {
    float p = (float)v * dt_f32_from_bits(scale_bits) + (float)zp;
    if (p < (float)lo) p = (float)lo;
    if (p > (float)hi) p = (float)hi;
    return dt_rne_f32(p);
}

/* float32 fused multiply-add a*b + c: the float64 product of two float32 is exact, the float64 sum and the
 * conversion to float32 round to nearest even (the reference evaluates the same expression) */
static inline float dt_fma_f32(float a, float b, float c) { return (float)((double)a * (double)b + (double)c); }

/* onnxruntime QLinearAdd (MLAS AVX2 kernel): saturate(rne(fma(a, ra, fma(b, rb, fixed)))); a per-run scalar
 * operand is folded into the fixed part with a plain multiply and add first */
static inline int32_t dt_qadd(int32_t a, int32_t b, int32_t ra_bits, int32_t rb_bits, int32_t fixed_bits,
                              int32_t scalar, int32_t lo, int32_t hi) {
    const float ra = dt_f32_from_bits(ra_bits), rb = dt_f32_from_bits(rb_bits);
    const float fx = dt_f32_from_bits(fixed_bits);
    float t;
    if (scalar == 1) t = dt_fma_f32((float)b, rb, fx + (float)a * ra);
    else if (scalar == 2) t = dt_fma_f32((float)a, ra, fx + (float)b * rb);
    else t = dt_fma_f32((float)a, ra, dt_fma_f32((float)b, rb, fx));
    if (t < (float)lo) t = (float)lo;
    if (t > (float)hi) t = (float)hi;
    return dt_rne_f32(t);
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

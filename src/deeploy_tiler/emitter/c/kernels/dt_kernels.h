/* deeploy_tiler portable C kernels: argument blocks and entry points.
 *
 * Every kernel computes ONE TILE. Its argument block holds pointers to the buffers the plan assigned
 * (an L1 slot, or a tensor's home when the plan reads it in place) and the tile geometry in elements:
 * extents, strides, and for sliding windows the per-tile padding (how far the tile's first window
 * reaches before the first row / column its input buffer holds), so border and halo tiles need no
 * special cases. Kernels split their outer loop over the cluster cores (dt_split) and are called via
 * dt_cluster_fork(); all of them have the signature `void kernel(const void *args)`.
 *
 * Element types: typed kernels are instantiated from templates (*.tmpl.h) for the type combinations a
 * network needs (see DT_INSTANTIATE_* below; the emitter writes them into the project's kernels.c).
 * Accumulation is int32; requantization and the integer operators use int64 where products need it.
 */
#ifndef DT_KERNELS_H
#define DT_KERNELS_H

#include <stdint.h>

#include "dt_runtime.h"
#include "dt_intops.h"

/* Fused or standalone RequantShift on an int32 value v at output-tile index (i0, i1, i2, i3):
 *   y = clip(floor((v * mul + add + div / 2) / div), lo, hi),  div = 2^shift,
 * mul / add broadcast over the tile through their element strides (0 along broadcast dimensions).
 * fmode = 1 is onnxruntime's requantization instead (docs/onnx_quantization.md): mul holds float32 bit
 * patterns, add the output zero point: y = clip(round_half_even((float)v * scale) + add, lo, hi);
 * fmode = 2 (QLinearMul) adds the zero point in float: y = clip(rne((float)v * scale + (float)add)). */
typedef struct {
    const int32_t *mul; /* NULL: no requantization, the value is stored as is */
    const int32_t *add;
    int32_t mul_s[4], add_s[4];
    int32_t shift;
    int32_t lo, hi;
    int32_t wide; /* 1: int64 arithmetic; 0: the emitter proved |v*mul + add + div/2| < 2^31 */
    int32_t fmode;
} dt_requant_t;

static inline int32_t dt_requant_value(int32_t v, int32_t mul, int32_t add, int32_t shift, int32_t lo,
                                       int32_t hi) {
    int64_t t = (int64_t)v * mul + add;
    if (shift > 0) t = (t + ((int64_t)1 << (shift - 1))) >> shift; /* arithmetic shift = floor */
    if (t < lo) return lo;
    if (t > hi) return hi;
    return (int32_t)t;
}

static inline int32_t dt_requant_apply(const dt_requant_t *rq, int32_t v, int32_t mul, int32_t add) {
    if (rq->fmode == 1) return dt_requant_f32(v, mul, add, rq->lo, rq->hi);
    if (rq->fmode == 2) return dt_requant_f32_zp(v, mul, add, rq->lo, rq->hi);
    if (rq->wide) return dt_requant_value(v, mul, add, rq->shift, rq->lo, rq->hi);
    {
        int32_t t = v * mul + add;
        if (rq->shift > 0) t = (t + (1 << (rq->shift - 1))) >> rq->shift; /* arithmetic shift = floor */
        if (t < rq->lo) return rq->lo;
        if (t > rq->hi) return rq->hi;
        return t;
    }
}

/* Requantize (when rq->mul is set) and store n int32 values v[0..n): output element j goes to
 * y + j * y_s (elements of `bytes` <= 4 bytes; the low bits are the same signed or not), its mul / add at mi + j * mi_s / ai + j * ai_s.
 * The loop-invariant choices (wide arithmetic, the shift, the element type) are made once per row,
 * not per element. Same values as dt_requant_apply, float modes included. */
static inline void dt_requant_store_row(const dt_requant_t *rq, const int32_t *v, int32_t n, int32_t mi, int32_t mi_s,
                                        int32_t ai, int32_t ai_s, void *y, int32_t y_s, int32_t bytes) {
    int32_t j;
    int32_t out[16];
    const int32_t *src = v;
    if (rq->mul) {
        const int32_t *mul = rq->mul + mi, *add = rq->add + ai;
        const int32_t lo = rq->lo, hi = rq->hi, sh = rq->shift;
        if (n > 16) n = 16;
        if (rq->fmode) { /* onnxruntime's float requantization: one path, element by element */
            for (j = 0; j < n; ++j) out[j] = dt_requant_apply(rq, v[j], mul[j * mi_s], add[j * ai_s]);
        } else if (rq->wide) {
            for (j = 0; j < n; ++j) out[j] = dt_requant_value(v[j], mul[j * mi_s], add[j * ai_s], sh, lo, hi);
        } else {
            const int32_t rnd = sh > 0 ? 1 << (sh - 1) : 0;
            for (j = 0; j < n; ++j) {
                int32_t t = ((v[j] * mul[j * mi_s] + add[j * ai_s]) + rnd) >> sh;
                out[j] = t < lo ? lo : (t > hi ? hi : t);
            }
        }
        src = out;
    }
    if (bytes == 1) {
        int8_t *p = (int8_t *)y;
        for (j = 0; j < n; ++j) p[j * y_s] = (int8_t)src[j]; /* same bits for int8 and uint8 */
    } else if (bytes == 2) {
        int16_t *p = (int16_t *)y;
        for (j = 0; j < n; ++j) p[j * y_s] = (int16_t)src[j];
    } else {
        int32_t *p = (int32_t *)y;
        for (j = 0; j < n; ++j) p[j * y_s] = src[j];
    }
}

/* Valid kernel taps [*lo, *hi) of a window starting at input index i0 (may be negative), dilation d,
 * k taps, over an input of n elements: the taps outside [0, n) read the (implicit) zero padding. */
static inline void dt_taps(int32_t i0, int32_t d, int32_t k, int32_t n, int32_t *lo, int32_t *hi) {
    int32_t l = 0, h;
    if (i0 < 0) l = (-i0 + d - 1) / d;
    if (i0 >= n) h = 0;
    else {
        h = (n - i0 + d - 1) / d;
        if (h > k) h = k;
    }
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* ---- convolution (2-D, NCHW, grouped / depthwise, stride, dilation, per-tile padding) ---------- */
typedef struct {
    const void *x;   /* input buffer; element (b, c, r, col) at x[b*x_bs + c*x_cs + r*x_hs + col] */
    const void *w;   /* weights of the tile's output channels: [y_c][cin_g][kh][kw], oc stride w_os */
    const int32_t *bias; /* per output channel of the tile, or NULL */
    void *y;         /* output: (b, oc, oy, ox) at y[b*y_bs + oc*y_cs + oy*y_hs + ox] */
    dt_requant_t rq; /* index (b, oc, oy, ox) */
    int32_t n, y_c, y_h, y_w;      /* output tile extents */
    int32_t x_bs, x_cs, x_hs;      /* input strides (column stride 1) */
    int32_t x_h, x_w;              /* rows / columns the input buffer holds */
    int32_t x_c0;                  /* global input channel of the buffer's channel 0 */
    int32_t y_bs, y_cs, y_hs;      /* output strides (column stride 1) */
    int32_t oc0;                   /* global output channel of the tile's channel 0 (selects the group) */
    int32_t cout_g, cin_g;         /* output / input channels per group */
    int32_t kh, kw, sh, sw, dh, dw;
    int32_t pad_t, pad_l;          /* input row of output row 0, tap 0 = -pad_t (buffer coordinates) */
    int32_t w_os;                  /* weight stride between output channels */
} dt_conv2d_args_t;

/* ---- GEMM / batched MatMul: y[b1,b2,i,j] = sum_k A[b1,b2,i,k] * B[b1,b2,k,j] (+ C[i,j]) ------------
 * Transposes and broadcasting are strides (0 along a broadcast batch dimension). */
typedef struct {
    const void *a, *b;
    const int32_t *c; /* Gemm bias, int32, or NULL */
    void *y;
    dt_requant_t rq;  /* index (b1, b2, i, j) */
    int32_t nb1, nb2, m, n, k;
    int32_t a_sb1, a_sb2, a_sm, a_sk;
    int32_t b_sb1, b_sb2, b_sk, b_sn;
    int32_t c_sm, c_sn;
    int32_t y_sb1, y_sb2, y_sm, y_sn;
} dt_gemm_args_t;

/* ---- elementwise on a 4-D box with broadcast strides ------------------------------------------ */
enum {
    DT_EW_ADD = 0,
    DT_EW_SUB = 1,
    DT_EW_MUL = 2,
    DT_EW_COPY = 3,       /* y = a (transpose, slice, concat part, standalone RequantShift) */
    DT_EW_RELU = 4,
    DT_EW_CLIP = 5,       /* clamp(a, p[0], p[1]) */
    DT_EW_FILL = 6,       /* y = p[0] (pad borders) */
    DT_EW_IHARDSWISH = 7, /* p = one_over_six, six, three */
    DT_EW_IGELU = 8,      /* p = b, one */
    DT_EW_TRUEDIV = 9,    /* p = Delta, eps, eta, y */
    DT_EW_QADD = 10       /* onnxruntime QLinearAdd: p = ratio_a, ratio_b, fixed (float32 bits), scalar
                             operand (0 none, 1 a, 2 b); clamp to rq.lo, rq.hi (rq.mul is NULL) */
};

typedef struct {
    const void *a, *b; /* b unused by unary ops */
    void *y;
    dt_requant_t rq;   /* index (i0, i1, i2, i3) */
    int32_t op;
    int32_t p[4];
    int32_t d[4];      /* extents */
    int32_t a_s[4], b_s[4], y_s[4];
} dt_eltwise_args_t;

/* ---- pooling (max / average) over a 2-D window, per-tile padding as in conv --------------------- */
enum { DT_POOL_MAX = 0, DT_POOL_AVG = 1 };

typedef struct {
    const void *x;
    void *y;
    dt_requant_t rq;   /* index (b, c, oy, ox) */
    int32_t mode;
    int32_t count_include_pad;
    int32_t n, c, y_h, y_w;
    int32_t x_bs, x_cs, x_hs;
    int32_t x_h, x_w;
    int32_t y_bs, y_cs, y_hs;
    int32_t kh, kw, sh, sw, dh, dw;
    int32_t pad_t, pad_l;
    /* count_include_pad: the whole input's extents, its explicit pads, the buffer's first row / col */
    int32_t full_h, full_w;
    int32_t gpad_t, gpad_b, gpad_l, gpad_r;
    int32_t x_r0, x_c0;
} dt_pool_args_t;

/* ---- reductions over the middle axis of a [outer, len, inner] view (IntegerMean, ReduceMean) ---- */
typedef struct {
    const void *x;
    void *y;
    int32_t outer, len, inner;
    int32_t x_so, x_sl, x_si;
    int32_t y_so, y_si;
    int32_t divisor; /* number of reduced elements of the whole tensor */
} dt_reduce_args_t;

/* ---- gather along one axis: y[o, j, i] = x[o, idx[j], i] ------------------------------------- */
typedef struct {
    const void *x;
    const void *idx;
    void *y;
    int32_t elem_bytes;
    int32_t idx_bytes; /* 1, 2, 4 (signed) or 8 */
    int32_t outer, nidx, inner;
    int32_t x_so, x_sa, x_si; /* element strides */
    int32_t y_so, y_sa, y_si;
    int32_t idx_s;      /* element stride between the tile's indices */
    int32_t axis_len;   /* length of the gathered axis of the whole tensor (negative indices wrap) */
    int32_t axis_start; /* global index of the buffer's first element along the axis */
} dt_gather_args_t;

/* ---- row-wise integer operators: rows of `len` elements (the last axis, whole in every tile) --- */
enum {
    DT_ROW_ISOFTMAX = 0, /* p = coeffA, coeffB, coeffC, log2, n_levels */
    DT_ROW_ITAMAX = 1,   /* p = n_levels */
    DT_ROW_IRMSNORM = 2, /* p = D, n_levels; w = weight */
    DT_ROW_ILAYERNORM = 3 /* p = D, n_levels; w = weight, bias */
};

typedef struct {
    const void *x;
    void *y;
    const void *w, *bias; /* per-element weight / bias over the row, or NULL */
    int32_t w_bytes, bias_bytes;
    int32_t op;
    int32_t p[6];
    int32_t rows, len;
    int32_t x_sr, y_sr; /* row strides (elements); elements within a row are contiguous */
} dt_rowwise_args_t;

/* Declarations of template instances: DT_KERNEL_DECL(dt_conv2d_i8_i8_i8); */
#define DT_KERNEL_DECL(name) void name(const void *args)

void dt_gather(const void *args);

#endif /* DT_KERNELS_H */

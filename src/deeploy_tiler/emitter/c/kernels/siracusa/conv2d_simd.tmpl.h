/* Template: int8 convolution tile with XpulpV2 dot products (siracusa target). Define DT_NAME,
 * DT_PORTABLE (the portable instance of the same types), DT_TX (int8, or uint8 with DT_SIMD_XU 1),
 * DT_TW (int8), DT_TY. Same argument
 * block and results as conv2d.tmpl.h, bit for bit.
 *   Dense (one group in the tile, not depthwise): per output pixel, the window is gathered into a column
 *     on the core's stack (zeros where it reaches the padding; weight order [ci][ky][kx]), then four
 *     output channels at a time take dot products with their weight rows; work split over pixels.
 *   Depthwise 3x3 (dilation 1): a window row is one word (its 4th byte meets a zero weight lane).
 *   Anything else: the portable kernel. */
#include "dt_simd.h"

#if DT_SIMD_XU /* uint8 activations */
#define DT_SIMD_XT_ uint8_t
#define DT_SIMD_DOT4_ dt_sdotus4
#define DT_SIMD_DOT_ dt_dot_u8i8
#else
#define DT_SIMD_XT_ int8_t
#define DT_SIMD_DOT4_ dt_sdot4
#define DT_SIMD_DOT_ dt_dot_i8
#endif

#ifndef DT_SIMD_COLMAX
#define DT_SIMD_COLMAX 1152
#endif

void DT_PORTABLE(const void *args_);

#define DT_CONV_STORE_(OC, ACC)                                                                           \
    do {                                                                                                  \
        if (rq->mul) {                                                                                    \
            const int32_t mi_ = b * rq->mul_s[0] + (OC) * rq->mul_s[1] + oy * rq->mul_s[2] + ox * rq->mul_s[3]; \
            const int32_t ai_ = b * rq->add_s[0] + (OC) * rq->add_s[1] + oy * rq->add_s[2] + ox * rq->add_s[3]; \
            y[b * a->y_bs + (OC) * a->y_cs + oy * a->y_hs + ox] = (DT_TY)dt_requant_apply(rq, (ACC), rq->mul[mi_], rq->add[ai_]); \
        } else {                                                                                          \
            y[b * a->y_bs + (OC) * a->y_cs + oy * a->y_hs + ox] = (DT_TY)(ACC);                           \
        }                                                                                                 \
    } while (0)

void DT_NAME(const void *args_) {
    const dt_conv2d_args_t *a = (const dt_conv2d_args_t *)args_;
    const DT_SIMD_XT_ *x = (const DT_SIMD_XT_ *)a->x;
    const int8_t *w = (const int8_t *)a->w;
    DT_TY *y = (DT_TY *)a->y;
    const dt_requant_t *rq = &a->rq;
    const int32_t khw = a->kh * a->kw, K = a->cin_g * khw;
    int32_t lo, hi, it;
    if ((a->cin_g > 1 || a->cout_g > 1) && K <= DT_SIMD_COLMAX && K >= 8 && a->y_c >= 4 &&
        a->oc0 / a->cout_g == (a->oc0 + a->y_c - 1) / a->cout_g) {
        DT_SIMD_XT_ col[DT_SIMD_COLMAX] __attribute__((aligned(4)));
        const int32_t g = a->oc0 / a->cout_g;
        const int32_t npix = a->y_h * a->y_w;
        dt_split(a->n * npix, &lo, &hi);
        for (it = lo; it < hi; ++it) {
            const int32_t b = it / npix, p = it % npix, oy = p / a->y_w, ox = p % a->y_w;
            const DT_SIMD_XT_ *xg = x + b * a->x_bs + (g * a->cin_g - a->x_c0) * a->x_cs;
            const int32_t iy0 = oy * a->sh - a->pad_t, ix0 = ox * a->sw - a->pad_l;
            int32_t ky_lo, ky_hi, kx_lo, kx_hi, ci, ky, kx, oc;
            dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
            dt_taps(ix0, a->dw, a->kw, a->x_w, &kx_lo, &kx_hi);
            if (khw == 1 && ky_hi > ky_lo && kx_hi > kx_lo) { /* 1x1 inside the buffer: a strided gather */
                const DT_SIMD_XT_ *xp = xg + iy0 * a->x_hs + ix0;
                const int32_t xcs = a->x_cs;
                for (ci = 0; ci < a->cin_g; ++ci) col[ci] = xp[ci * xcs];
            } else if (ky_lo == 0 && ky_hi == a->kh && kx_lo == 0 && kx_hi == a->kw) { /* window inside */
                for (ci = 0; ci < a->cin_g; ++ci) {
                    DT_SIMD_XT_ *cc = col + ci * khw;
                    const DT_SIMD_XT_ *xc = xg + ci * a->x_cs + iy0 * a->x_hs + ix0;
                    for (ky = 0; ky < a->kh; ++ky, cc += a->kw, xc += a->dh * a->x_hs)
                        for (kx = 0; kx < a->kw; ++kx) cc[kx] = xc[kx * a->dw];
                }
            } else {
                for (ci = 0; ci < a->cin_g; ++ci) {
                    DT_SIMD_XT_ *cc = col + ci * khw;
                    const DT_SIMD_XT_ *xc = xg + ci * a->x_cs;
                    for (ky = 0; ky < a->kh; ++ky) {
                        const DT_SIMD_XT_ *xr = xc + (iy0 + ky * a->dh) * a->x_hs + ix0;
                        const int32_t inside = ky >= ky_lo && ky < ky_hi;
                        for (kx = 0; kx < a->kw; ++kx)
                            cc[ky * a->kw + kx] = (inside && kx >= kx_lo && kx < kx_hi) ? xr[kx * a->dw] : 0;
                    }
                }
            }
            for (oc = 0; oc + 4 <= a->y_c; oc += 4) {
                const int8_t *w0 = w + oc * a->w_os, *w1 = w0 + a->w_os, *w2 = w1 + a->w_os, *w3 = w2 + a->w_os;
                int32_t acc0 = a->bias ? a->bias[oc] : 0, acc1 = a->bias ? a->bias[oc + 1] : 0;
                int32_t acc2 = a->bias ? a->bias[oc + 2] : 0, acc3 = a->bias ? a->bias[oc + 3] : 0;
                int32_t k = 0;
                for (; k + 4 <= K; k += 4) {
                    const uint32_t cv = dt_ld4(col + k);
                    acc0 = DT_SIMD_DOT4_(acc0, cv, dt_ld4(w0 + k));
                    acc1 = DT_SIMD_DOT4_(acc1, cv, dt_ld4(w1 + k));
                    acc2 = DT_SIMD_DOT4_(acc2, cv, dt_ld4(w2 + k));
                    acc3 = DT_SIMD_DOT4_(acc3, cv, dt_ld4(w3 + k));
                }
                for (; k < K; ++k) {
                    const int32_t c = col[k];
                    acc0 += c * w0[k];
                    acc1 += c * w1[k];
                    acc2 += c * w2[k];
                    acc3 += c * w3[k];
                }
                DT_CONV_STORE_(oc, acc0);
                DT_CONV_STORE_(oc + 1, acc1);
                DT_CONV_STORE_(oc + 2, acc2);
                DT_CONV_STORE_(oc + 3, acc3);
            }
            for (; oc < a->y_c; ++oc) {
                const int32_t acc = DT_SIMD_DOT_(a->bias ? a->bias[oc] : 0, col, w + oc * a->w_os, K);
                DT_CONV_STORE_(oc, acc);
            }
        }
        return;
    }
    if (a->cin_g == 1 && a->kh == 3 && a->kw == 3 && a->dh == 1 && a->dw == 1) {
        dt_split(a->n * a->y_c * a->y_h, &lo, &hi);
        for (it = lo; it < hi; ++it) {
            const int32_t oy = it % a->y_h, t = it / a->y_h, oc = t % a->y_c, b = t / a->y_c;
            const int32_t g = (a->oc0 + oc) / a->cout_g;
            const DT_SIMD_XT_ *xg = x + b * a->x_bs + (g - a->x_c0) * a->x_cs;
            const int8_t *wc = w + oc * a->w_os;
            const uint32_t wr0 = (uint8_t)wc[0] | (uint32_t)(uint8_t)wc[1] << 8 | (uint32_t)(uint8_t)wc[2] << 16;
            const uint32_t wr1 = (uint8_t)wc[3] | (uint32_t)(uint8_t)wc[4] << 8 | (uint32_t)(uint8_t)wc[5] << 16;
            const uint32_t wr2 = (uint8_t)wc[6] | (uint32_t)(uint8_t)wc[7] << 8 | (uint32_t)(uint8_t)wc[8] << 16;
            const int32_t bias = a->bias ? a->bias[oc] : 0;
            const int32_t iy0 = oy * a->sh - a->pad_t;
            int32_t ky_lo, ky_hi, ox;
            dt_taps(iy0, 1, 3, a->x_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < a->y_w; ++ox) {
                const int32_t ix0 = ox * a->sw - a->pad_l;
                int32_t kx_lo, kx_hi, acc = bias;
                dt_taps(ix0, 1, 3, a->x_w, &kx_lo, &kx_hi);
                if (ky_hi - ky_lo == 3 && kx_hi - kx_lo == 3) {
                    const DT_SIMD_XT_ *x0 = xg + iy0 * a->x_hs + ix0;
                    acc = DT_SIMD_DOT4_(acc, dt_ld4(x0), wr0);
                    acc = DT_SIMD_DOT4_(acc, dt_ld4(x0 + a->x_hs), wr1);
                    acc = DT_SIMD_DOT4_(acc, dt_ld4(x0 + 2 * a->x_hs), wr2);
                } else {
                    int32_t ky, kx;
                    for (ky = ky_lo; ky < ky_hi; ++ky) {
                        const DT_SIMD_XT_ *xr = xg + (iy0 + ky) * a->x_hs + ix0;
                        for (kx = kx_lo; kx < kx_hi; ++kx) acc += (int32_t)xr[kx] * (int32_t)wc[ky * 3 + kx];
                    }
                }
                DT_CONV_STORE_(oc, acc);
            }
        }
        return;
    }
    DT_PORTABLE(args_);
}

#undef DT_CONV_STORE_
#undef DT_SIMD_XT_
#undef DT_SIMD_DOT4_
#undef DT_SIMD_DOT_

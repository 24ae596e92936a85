/* Template: 2-D convolution of one output tile. Define before including:
 *   DT_NAME (function name), DT_TX (input type), DT_TW (weight type), DT_TY (output type).
 * Fast path (grouped / dense, unit column stride and dilation): pairs of output channels of one group x
 * 8 adjacent output columns whose windows lie inside the buffer's columns are computed by a register
 * block (2 weights and 8 inputs loaded for 16 MACs per tap); depthwise 3x3 (unit stride) slides its window
 * along the row with the nine weights in registers; the columns left at the borders and other
 * convolutions take the per-output loops. int32 sums are exact: no result depends on the path. */
#define DT_CONV_CAT2_(A, B) A##B
#define DT_CONV_CAT_(A, B) DT_CONV_CAT2_(A, B)

/* c[o*8 + j] += sum over (ci, ky in [ky_lo, ky_hi), kx) of w_o[ci][ky][kx] * x[ci][ky*dh][j + kx] for two
 * output channels (weights w0, w0 + w_os); x points at the window origin of column 0. Not inlined, so
 * the 16 sums and the pointers get registers; no pre-allocation scheduling (it hoists loads and spills). */
__attribute__((noinline, optimize("no-schedule-insns"))) static void DT_CONV_CAT_(DT_NAME, _2x8)(
    const DT_TX *x, int32_t x_cs, int32_t row_step, const DT_TW *w0, int32_t w_os, int32_t cin, int32_t khw,
    int32_t kw, int32_t ky_lo, int32_t ky_hi, int32_t *c) {
    int32_t c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
    int32_t c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
    int32_t ci, ky, kx;
#define DT_CONV_TAP_(U, V, B)                                                                            \
    do {                                                                                                 \
        const int32_t u_ = (U), v_ = (V);                                                                \
        const DT_TX *b_ = (B);                                                                           \
        int32_t t_;                                                                                      \
        t_ = b_[0], c00 += u_ * t_, c10 += v_ * t_;                                                      \
        t_ = b_[1], c01 += u_ * t_, c11 += v_ * t_;                                                      \
        t_ = b_[2], c02 += u_ * t_, c12 += v_ * t_;                                                      \
        t_ = b_[3], c03 += u_ * t_, c13 += v_ * t_;                                                      \
        t_ = b_[4], c04 += u_ * t_, c14 += v_ * t_;                                                      \
        t_ = b_[5], c05 += u_ * t_, c15 += v_ * t_;                                                      \
        t_ = b_[6], c06 += u_ * t_, c16 += v_ * t_;                                                      \
        t_ = b_[7], c07 += u_ * t_, c17 += v_ * t_;                                                      \
    } while (0)
    if (khw == 1 && ky_hi > ky_lo) { /* 1x1: one flat reduction over the input channels, unrolled by two */
        const DT_TW *a0 = w0, *a1 = w0 + w_os;
        const DT_TX *b = x;
        for (ci = 0; ci + 2 <= cin; ci += 2) {
            DT_CONV_TAP_(a0[0], a1[0], b);
            DT_CONV_TAP_(a0[1], a1[1], b + x_cs);
            a0 += 2, a1 += 2, b += 2 * x_cs;
        }
        if (ci < cin) DT_CONV_TAP_(a0[0], a1[0], b);
    } else if (khw > 1) {
        for (ci = 0; ci < cin; ++ci) {
            const DT_TX *xr = x + ci * x_cs + ky_lo * row_step;
            const DT_TW *a0 = w0 + ci * khw + ky_lo * kw;
            const DT_TW *a1 = a0 + w_os;
            for (ky = ky_lo; ky < ky_hi; ++ky) {
                if (kw == 3) {
                    DT_CONV_TAP_(a0[0], a1[0], xr);
                    DT_CONV_TAP_(a0[1], a1[1], xr + 1);
                    DT_CONV_TAP_(a0[2], a1[2], xr + 2);
                } else {
                    for (kx = 0; kx < kw; ++kx) DT_CONV_TAP_(a0[kx], a1[kx], xr + kx);
                }
                xr += row_step;
                a0 += kw;
                a1 += kw;
            }
        }
    }
#undef DT_CONV_TAP_
    c[0] += c00, c[1] += c01, c[2] += c02, c[3] += c03, c[4] += c04, c[5] += c05, c[6] += c06, c[7] += c07;
    c[8] += c10, c[9] += c11, c[10] += c12, c[11] += c13, c[12] += c14, c[13] += c15, c[14] += c16, c[15] += c17;
}

/* Depthwise 3x3, stride 1, no dilation, all three rows inside the buffer: n adjacent outputs of one
 * channel whose windows lie inside the buffer's columns. The nine weights stay in registers and the
 * window slides: per output three new inputs are loaded (two outputs per iteration, so no register
 * moves). acc[j] = bias + the window sum of output j; x points at the first window's top-left input. */
__attribute__((noinline)) static void DT_CONV_CAT_(DT_NAME, _dw3)(const DT_TX *x, int32_t x_hs, const DT_TW *w,
                                                                  int32_t n, int32_t bias, int32_t *acc,
                                                                  int32_t rows) {
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
                  w8 = w[8];
    const DT_TX *r0 = x, *r1 = x + x_hs, *r2 = rows == 3 ? x + 2 * x_hs : r1; /* rows 2: w6..w8 are 0 */
    int32_t a0 = r0[0], a1 = r0[1], b0 = r1[0], b1 = r1[1], c0 = r2[0], c1 = r2[1];
    int32_t j = 0;
    for (; j + 2 <= n; j += 2) {
        const int32_t a2 = r0[2], b2 = r1[2], c2 = r2[2];
        const int32_t a3 = r0[3], b3 = r1[3], c3 = r2[3];
        acc[j] = bias + a0 * w0 + a1 * w1 + a2 * w2 + b0 * w3 + b1 * w4 + b2 * w5 + c0 * w6 + c1 * w7 + c2 * w8;
        acc[j + 1] = bias + a1 * w0 + a2 * w1 + a3 * w2 + b1 * w3 + b2 * w4 + b3 * w5 + c1 * w6 + c2 * w7 + c3 * w8;
        a0 = a2, a1 = a3, b0 = b2, b1 = b3, c0 = c2, c1 = c3;
        r0 += 2, r1 += 2, r2 += 2;
    }
    if (j < n) {
        const int32_t a2 = r0[2], b2 = r1[2], c2 = r2[2];
        acc[j] = bias + a0 * w0 + a1 * w1 + a2 * w2 + b0 * w3 + b1 * w4 + b2 * w5 + c0 * w6 + c1 * w7 + c2 * w8;
    }
}

/* One output (b, oc, oy, ox) of the tile: bias + the window's sum, border taps skipped. */
static inline int32_t DT_CONV_CAT_(DT_NAME, _one)(const dt_conv2d_args_t *a, const DT_TX *xg, const DT_TW *wc,
                                                  int32_t iy0, int32_t ky_lo, int32_t ky_hi, int32_t ox) {
    const int32_t ix0 = ox * a->sw - a->pad_l;
    const int32_t khw = a->kh * a->kw;
    int32_t kx_lo, kx_hi, ky;
    int32_t acc = 0;
    dt_taps(ix0, a->dw, a->kw, a->x_w, &kx_lo, &kx_hi);
    if (a->cin_g == 1 && ky_hi - ky_lo == 3 && kx_hi - kx_lo == 3 && a->kw == 3 && a->dh == 1 &&
        a->dw == 1) { /* depthwise 3x3, window inside the buffer: unrolled */
        const DT_TX *x0 = xg + (iy0 + ky_lo) * a->x_hs + ix0 + kx_lo;
        const DT_TX *x1 = x0 + a->x_hs;
        const DT_TX *x2 = x1 + a->x_hs;
        const DT_TW *w0 = wc + ky_lo * 3 + kx_lo;
        acc += (int32_t)x0[0] * w0[0] + (int32_t)x0[1] * w0[1] + (int32_t)x0[2] * w0[2] +
               (int32_t)x1[0] * w0[3] + (int32_t)x1[1] * w0[4] + (int32_t)x1[2] * w0[5] +
               (int32_t)x2[0] * w0[6] + (int32_t)x2[1] * w0[7] + (int32_t)x2[2] * w0[8];
    } else if (a->cin_g == 1) { /* depthwise: the window is the reduction */
        for (ky = ky_lo; ky < ky_hi; ++ky) {
            const DT_TX *xr = xg + (iy0 + ky * a->dh) * a->x_hs + ix0;
            const DT_TW *wr = wc + ky * a->kw;
            int32_t kx;
            for (kx = kx_lo; kx < kx_hi; ++kx) acc += (int32_t)xr[kx * a->dw] * (int32_t)wr[kx];
        }
    } else { /* input channels innermost: one long strided dot product per tap */
        const int32_t xcs = a->x_cs, cin = a->cin_g;
        for (ky = ky_lo; ky < ky_hi; ++ky) {
            const DT_TX *xr = xg + (iy0 + ky * a->dh) * a->x_hs + ix0;
            const DT_TW *wr = wc + ky * a->kw;
            int32_t kx;
            for (kx = kx_lo; kx < kx_hi; ++kx) {
                const DT_TX *xp = xr + kx * a->dw;
                const DT_TW *wp = wr + kx;
                int32_t ci;
                for (ci = 0; ci < cin; ++ci) {
                    acc += (int32_t)*xp * (int32_t)*wp;
                    xp += xcs;
                    wp += khw;
                }
            }
        }
    }
    return acc;
}

void DT_NAME(const void *args_) {
    const dt_conv2d_args_t *a = (const dt_conv2d_args_t *)args_;
    const DT_TX *x = (const DT_TX *)a->x;
    const DT_TW *w = (const DT_TW *)a->w;
    DT_TY *y = (DT_TY *)a->y;
    const dt_requant_t rq_local = a->rq; /* a local copy: int8 output stores may alias the argument block */
    const dt_requant_t *rq = &rq_local;
    /* output-channel pairs inside one group, unit column stride / dilation: the register block */
    const int32_t blocked = a->cin_g > 1 && a->sw == 1 && a->dw == 1 && a->y_w >= 8 && sizeof(DT_TY) <= 4 &&
                            (a->cout_g % 2 == 0) && (a->oc0 % 2 == 0) && (a->y_c % 2 == 0);
    const int32_t dw3 = a->cin_g == 1 && a->kh == 3 && a->kw == 3 && a->sh == 1 && a->sw == 1 && a->dh == 1 &&
                        a->dw == 1 && sizeof(DT_TY) <= 4;
    const int32_t ocs = blocked ? 2 : 1;
    int32_t lo, hi, it;
    dt_split(a->n * (a->y_c / ocs) * a->y_h, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t oy = it % a->y_h;
        const int32_t t = it / a->y_h;
        const int32_t oc = (t % (a->y_c / ocs)) * ocs;
        const int32_t b = t / (a->y_c / ocs);
        const int32_t g = (a->oc0 + oc) / a->cout_g;
        const DT_TX *xg = x + b * a->x_bs + (g * a->cin_g - a->x_c0) * a->x_cs;
        const int32_t iy0 = oy * a->sh - a->pad_t;
        int32_t ky_lo, ky_hi, o;
        dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
        for (o = 0; o < ocs; ++o) {
            const int32_t occ = oc + o;
            const DT_TW *wc = w + occ * a->w_os;
            const int32_t bias = a->bias ? a->bias[occ] : 0;
            DT_TY *yrow = y + b * a->y_bs + occ * a->y_cs + oy * a->y_hs;
            const int32_t mi0 = b * rq->mul_s[0] + occ * rq->mul_s[1] + oy * rq->mul_s[2];
            const int32_t ai0 = b * rq->add_s[0] + occ * rq->add_s[1] + oy * rq->add_s[2];
            int32_t ox = 0;
            if (dw3 && ky_hi - ky_lo >= 2) {
                /* depthwise 3x3: the interior columns through the sliding window, 16 at a time */
                const int32_t ox_lo = a->pad_l > 0 ? a->pad_l : 0;
                const int32_t span = a->x_w + a->pad_l - 2;
                const int32_t x_end = span < a->y_w ? span : a->y_w;
                for (; ox < ox_lo && ox < a->y_w; ++ox) {
                    const int32_t acc = bias + DT_CONV_CAT_(DT_NAME, _one)(a, xg, wc, iy0, ky_lo, ky_hi, ox);
                    dt_requant_store_row(rq, &acc, 1, mi0 + ox * rq->mul_s[3], 0, ai0 + ox * rq->add_s[3], 0,
                                         yrow + ox, 1, (int32_t)sizeof(DT_TY));
                }
                /* a window clipped to two rows: the missing row's weights are zero and its pointer
                 * repeats a held row (the products vanish; the sum is the same) */
                DT_TW wz[9];
                const DT_TW *wk = wc;
                const DT_TX *x0 = xg + iy0 * a->x_hs;
                if (ky_hi - ky_lo == 2) { /* rows ky_lo, ky_lo + 1 of the window */
                    int32_t q;
                    for (q = 0; q < 6; ++q) wz[q] = wc[3 * ky_lo + q];
                    wz[6] = wz[7] = wz[8] = 0;
                    wk = wz;
                    x0 += ky_lo * a->x_hs;
                }
                while (ox < x_end) {
                    int32_t c[16];
                    const int32_t n = x_end - ox < 16 ? x_end - ox : 16;
                    DT_CONV_CAT_(DT_NAME, _dw3)(x0 + ox - a->pad_l, a->x_hs, wk, n, bias, c, ky_hi - ky_lo);
                    dt_requant_store_row(rq, c, n, mi0 + ox * rq->mul_s[3], rq->mul_s[3], ai0 + ox * rq->add_s[3],
                                         rq->add_s[3], yrow + ox, 1, (int32_t)sizeof(DT_TY));
                    ox += n;
                }
            }
            if (blocked) {
                /* columns whose whole window lies inside the buffer: [ox_lo, ox_hi) */
                const int32_t ox_lo = a->pad_l > 0 ? (a->pad_l + a->sw - 1) / a->sw : 0;
                const int32_t span = a->x_w + a->pad_l - (a->kw - 1) * a->dw;
                const int32_t ox_hi = span <= 0 ? 0 : (span + a->sw - 1) / a->sw;
                const int32_t x_end = ox_hi < a->y_w ? ox_hi : a->y_w;
                int32_t ox_b = ox_lo;
                for (; ox < ox_lo && ox < a->y_w; ++ox) { /* left border */
                    const int32_t acc = bias + DT_CONV_CAT_(DT_NAME, _one)(a, xg, wc, iy0, ky_lo, ky_hi, ox);
                    dt_requant_store_row(rq, &acc, 1, mi0 + ox * rq->mul_s[3], 0, ai0 + ox * rq->add_s[3], 0,
                                         yrow + ox, 1, (int32_t)sizeof(DT_TY));
                }
                if (o == 0) {
                    /* both channels at once, 8 columns per block */
                    DT_TY *yrow1 = yrow + a->y_cs;
                    const int32_t bias1 = a->bias ? a->bias[occ + 1] : 0;
                    for (ox_b = ox_lo; ox_b + 8 <= x_end; ox_b += 8) {
                        int32_t c[16];
                        int32_t j;
                        const DT_TX *xo = xg + iy0 * a->x_hs + ox_b - a->pad_l;
                        for (j = 0; j < 8; ++j) c[j] = bias, c[8 + j] = bias1;
                        DT_CONV_CAT_(DT_NAME, _2x8)(xo, a->x_cs, a->dh * a->x_hs, wc, a->w_os, a->cin_g,
                                                    a->kh * a->kw, a->kw, ky_lo, ky_hi, c);
                        dt_requant_store_row(rq, c, 8, mi0 + ox_b * rq->mul_s[3], rq->mul_s[3],
                                             ai0 + ox_b * rq->add_s[3], rq->add_s[3], yrow + ox_b, 1,
                                             (int32_t)sizeof(DT_TY));
                        dt_requant_store_row(rq, c + 8, 8, mi0 + rq->mul_s[1] + ox_b * rq->mul_s[3], rq->mul_s[3],
                                             ai0 + rq->add_s[1] + ox_b * rq->add_s[3], rq->add_s[3], yrow1 + ox_b,
                                             1, (int32_t)sizeof(DT_TY));
                    }
                } else {
                    for (ox_b = ox_lo; ox_b + 8 <= x_end; ox_b += 8) continue; /* done with channel 0 */
                }
                ox = ox_b > ox ? ox_b : ox;
            }
            for (; ox < a->y_w; ++ox) {
                const int32_t acc = bias + DT_CONV_CAT_(DT_NAME, _one)(a, xg, wc, iy0, ky_lo, ky_hi, ox);
                if (rq->mul) {
                    const int32_t mi = mi0 + ox * rq->mul_s[3];
                    const int32_t ai = ai0 + ox * rq->add_s[3];
                    yrow[ox] = (DT_TY)dt_requant_apply(rq, acc, rq->mul[mi], rq->add[ai]);
                } else {
                    yrow[ox] = (DT_TY)acc;
                }
            }
        }
    }
}

#undef DT_CONV_CAT_
#undef DT_CONV_CAT2_

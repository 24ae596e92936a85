/* Template: 2-D convolution of one output tile. Define before including:
 *   DT_NAME (function name), DT_TX (input type), DT_TW (weight type), DT_TY (output type). */
void DT_NAME(const void *args_) {
    const dt_conv2d_args_t *a = (const dt_conv2d_args_t *)args_;
    const DT_TX *x = (const DT_TX *)a->x;
    const DT_TW *w = (const DT_TW *)a->w;
    DT_TY *y = (DT_TY *)a->y;
    const dt_requant_t rq_local = a->rq; /* a local copy: int8 output stores may alias the argument block */
    const dt_requant_t *rq = &rq_local;
    const int32_t khw = a->kh * a->kw;
    int32_t lo, hi, it;
    dt_split(a->n * a->y_c * a->y_h, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t oy = it % a->y_h;
        const int32_t t = it / a->y_h;
        const int32_t oc = t % a->y_c;
        const int32_t b = t / a->y_c;
        const int32_t g = (a->oc0 + oc) / a->cout_g;
        const DT_TX *xg = x + b * a->x_bs + (g * a->cin_g - a->x_c0) * a->x_cs;
        const DT_TW *wc = w + oc * a->w_os;
        const int32_t bias = a->bias ? a->bias[oc] : 0;
        const int32_t iy0 = oy * a->sh - a->pad_t;
        DT_TY *yrow = y + b * a->y_bs + oc * a->y_cs + oy * a->y_hs;
        int32_t ky_lo, ky_hi, ox;
        dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
        for (ox = 0; ox < a->y_w; ++ox) {
            const int32_t ix0 = ox * a->sw - a->pad_l;
            int32_t kx_lo, kx_hi, ky;
            int32_t acc = bias;
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
            if (rq->mul) {
                const int32_t mi = b * rq->mul_s[0] + oc * rq->mul_s[1] + oy * rq->mul_s[2] + ox * rq->mul_s[3];
                const int32_t ai = b * rq->add_s[0] + oc * rq->add_s[1] + oy * rq->add_s[2] + ox * rq->add_s[3];
                yrow[ox] = (DT_TY)dt_requant_apply(rq, acc, rq->mul[mi], rq->add[ai]);
            } else {
                yrow[ox] = (DT_TY)acc;
            }
        }
    }
}

/* Template: float32 2-D convolution of one output tile (dt_conv2d_args_t; rq unused). Define: DT_NAME, DT_T
 * (float). The order is the float32 reference's (reference/float32.py), so results are bit-exact:
 * per output acc = +0; for ci, ky, kx (taps inside the buffer; padding is skipped) acc = acc + x * w,
 * each step rounded (the Makefile builds with -ffp-contract=off: no fused multiply-add); then
 * y = acc + bias. The whole reduction lies in this call (input channels and window are never tiled). */
void DT_NAME(const void *args_) {
    const dt_conv2d_args_t *a = (const dt_conv2d_args_t *)args_;
    const DT_T *x = (const DT_T *)a->x;
    const DT_T *w = (const DT_T *)a->w;
    const DT_T *bias = (const DT_T *)(const void *)a->bias;
    DT_T *y = (DT_T *)a->y;
    const int32_t khw = a->kh * a->kw;
    int32_t lo, hi, it;
    dt_split(a->n * a->y_c * a->y_h, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t oy = it % a->y_h;
        const int32_t t = it / a->y_h;
        const int32_t oc = t % a->y_c;
        const int32_t b = t / a->y_c;
        const int32_t g = (a->oc0 + oc) / a->cout_g;
        const DT_T *xg = x + b * a->x_bs + (g * a->cin_g - a->x_c0) * a->x_cs;
        const DT_T *wc = w + oc * a->w_os;
        DT_T *yrow = y + b * a->y_bs + oc * a->y_cs + oy * a->y_hs;
        const int32_t iy0 = oy * a->sh - a->pad_t;
        int32_t ky_lo, ky_hi, ox;
        dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
        for (ox = 0; ox < a->y_w; ++ox) {
            const int32_t ix0 = ox * a->sw - a->pad_l;
            int32_t kx_lo, kx_hi, ci;
            DT_T acc = 0.0f;
            dt_taps(ix0, a->dw, a->kw, a->x_w, &kx_lo, &kx_hi);
            for (ci = 0; ci < a->cin_g; ++ci) {
                const DT_T *xc = xg + ci * a->x_cs + ix0;
                const DT_T *wk = wc + ci * khw;
                int32_t ky;
                for (ky = ky_lo; ky < ky_hi; ++ky) {
                    const DT_T *xr = xc + (iy0 + ky * a->dh) * a->x_hs;
                    const DT_T *wr = wk + ky * a->kw;
                    int32_t kx;
                    for (kx = kx_lo; kx < kx_hi; ++kx) {
                        const DT_T p = xr[kx * a->dw] * wr[kx];
                        acc = acc + p;
                    }
                }
            }
            yrow[ox] = bias ? acc + bias[oc] : acc;
        }
    }
}

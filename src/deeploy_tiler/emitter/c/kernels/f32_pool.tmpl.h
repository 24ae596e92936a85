/* Template: float32 max / average pooling of one output tile (dt_pool_args_t; rq unused). Define:
 * DT_NAME, DT_T (float). The reference's order (reference/float32.py): over the taps inside the buffer
 * in (ky, kx) order, max: m = -inf, m = v > m ? v : m; average: s = +0, s = s + v, then
 * y = s / (float)count (count_include_pad: the taps inside the explicitly padded input; +0 if none). */
void DT_NAME(const void *args_) {
    const dt_pool_args_t *a = (const dt_pool_args_t *)args_;
    const DT_T *x = (const DT_T *)a->x;
    DT_T *y = (DT_T *)a->y;
    int32_t lo, hi, it;
    dt_split(a->n * a->c * a->y_h, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t oy = it % a->y_h;
        const int32_t t = it / a->y_h;
        const int32_t c = t % a->c;
        const int32_t b = t / a->c;
        const DT_T *xc = x + b * a->x_bs + c * a->x_cs;
        DT_T *yrow = y + b * a->y_bs + c * a->y_cs + oy * a->y_hs;
        const int32_t iy0 = oy * a->sh - a->pad_t;
        int32_t ky_lo, ky_hi, ox;
        dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
        for (ox = 0; ox < a->y_w; ++ox) {
            const int32_t ix0 = ox * a->sw - a->pad_l;
            int32_t kx_lo, kx_hi, ky, kx;
            union { uint32_t u; DT_T f; } start; /* -inf for max, +0 for the average's sum */
            DT_T v;
            start.u = a->mode == DT_POOL_MAX ? 0xff800000u : 0u;
            v = start.f;
            dt_taps(ix0, a->dw, a->kw, a->x_w, &kx_lo, &kx_hi);
            for (ky = ky_lo; ky < ky_hi; ++ky) {
                const DT_T *xr = xc + (iy0 + ky * a->dh) * a->x_hs + ix0;
                for (kx = kx_lo; kx < kx_hi; ++kx) {
                    const DT_T e = xr[kx * a->dw];
                    if (a->mode == DT_POOL_MAX) v = e > v ? e : v;
                    else v = v + e;
                }
            }
            if (a->mode != DT_POOL_MAX) {
                int32_t cnt;
                if (a->count_include_pad) {
                    int32_t py_lo, py_hi, px_lo, px_hi;
                    dt_taps(a->x_r0 + iy0 + a->gpad_t, a->dh, a->kh, a->full_h + a->gpad_t + a->gpad_b, &py_lo, &py_hi);
                    dt_taps(a->x_c0 + ix0 + a->gpad_l, a->dw, a->kw, a->full_w + a->gpad_l + a->gpad_r, &px_lo, &px_hi);
                    cnt = (py_hi - py_lo) * (px_hi - px_lo);
                } else {
                    cnt = (ky_hi - ky_lo) * (kx_hi - kx_lo);
                }
                v = cnt > 0 ? v / (DT_T)cnt : 0.0f; /* a window of padding only: +0 */
            }
            yrow[ox] = v;
        }
    }
}

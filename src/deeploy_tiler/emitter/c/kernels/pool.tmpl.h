/* Template: max / average pooling of one output tile. Define: DT_NAME, DT_TX, DT_TY. */
void DT_NAME(const void *args_) {
    const dt_pool_args_t *a = (const dt_pool_args_t *)args_;
    const DT_TX *x = (const DT_TX *)a->x;
    DT_TY *y = (DT_TY *)a->y;
    const dt_requant_t rq_local = a->rq; /* a local copy: int8 output stores may alias the argument block */
    const dt_requant_t *rq = &rq_local;
    int32_t lo, hi, it;
    dt_split(a->n * a->c * a->y_h, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t oy = it % a->y_h;
        const int32_t t = it / a->y_h;
        const int32_t c = t % a->c;
        const int32_t b = t / a->c;
        const DT_TX *xc = x + b * a->x_bs + c * a->x_cs;
        DT_TY *yrow = y + b * a->y_bs + c * a->y_cs + oy * a->y_hs;
        const int32_t iy0 = oy * a->sh - a->pad_t;
        int32_t ky_lo, ky_hi, ox;
        dt_taps(iy0, a->dh, a->kh, a->x_h, &ky_lo, &ky_hi);
        for (ox = 0; ox < a->y_w; ++ox) {
            const int32_t ix0 = ox * a->sw - a->pad_l;
            int32_t kx_lo, kx_hi, ky, v;
            dt_taps(ix0, a->dw, a->kw, a->x_w, &kx_lo, &kx_hi);
            if (a->mode == DT_POOL_MAX) {
                int32_t m = INT32_MIN;
                for (ky = ky_lo; ky < ky_hi; ++ky) {
                    const DT_TX *xr = xc + (iy0 + ky * a->dh) * a->x_hs + ix0;
                    int32_t kx;
                    for (kx = kx_lo; kx < kx_hi; ++kx) {
                        const int32_t e = (int32_t)xr[kx * a->dw];
                        if (e > m) m = e;
                    }
                }
                v = m;
            } else {
                int64_t s = 0;
                int32_t cnt;
                for (ky = ky_lo; ky < ky_hi; ++ky) {
                    const DT_TX *xr = xc + (iy0 + ky * a->dh) * a->x_hs + ix0;
                    int32_t kx;
                    for (kx = kx_lo; kx < kx_hi; ++kx) s += (int32_t)xr[kx * a->dw];
                }
                if (a->count_include_pad) { /* taps inside the explicitly padded input */
                    int32_t py_lo, py_hi, px_lo, px_hi;
                    dt_taps(a->x_r0 + iy0 + a->gpad_t, a->dh, a->kh, a->full_h + a->gpad_t + a->gpad_b, &py_lo, &py_hi);
                    dt_taps(a->x_c0 + ix0 + a->gpad_l, a->dw, a->kw, a->full_w + a->gpad_l + a->gpad_r, &px_lo, &px_hi);
                    cnt = (py_hi - py_lo) * (px_hi - px_lo);
                } else {
                    cnt = (ky_hi - ky_lo) * (kx_hi - kx_lo);
                }
                v = cnt > 0 ? (int32_t)dt_rounddiv64(s, cnt) : 0;
            }
            if (rq->mul) {
                const int32_t mi = b * rq->mul_s[0] + c * rq->mul_s[1] + oy * rq->mul_s[2] + ox * rq->mul_s[3];
                const int32_t ai = b * rq->add_s[0] + c * rq->add_s[1] + oy * rq->add_s[2] + ox * rq->add_s[3];
                v = dt_requant_apply(rq, v, rq->mul[mi], rq->add[ai]);
            }
            yrow[ox] = (DT_TY)v;
        }
    }
}

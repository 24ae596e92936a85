/* Template: row-wise integer operators (iSoftmax, ITAMax, iRMSNorm, iLayerNorm) over whole rows of
 * `len` contiguous elements; the formulas are those of the reference interpreter (intops.py).
 * Define: DT_NAME, DT_TX, DT_TY. */
void DT_NAME(const void *args_) {
    const dt_rowwise_args_t *a = (const dt_rowwise_args_t *)args_;
    const int32_t len = a->len;
    int32_t lo, hi, r;
    dt_split(a->rows, &lo, &hi);
    for (r = lo; r < hi; ++r) {
        const DT_TX *x = (const DT_TX *)a->x + r * a->x_sr;
        DT_TY *y = (DT_TY *)a->y + r * a->y_sr;
        int32_t j;
        if (len == 0) continue;
        if (a->op == DT_ROW_ISOFTMAX) {
            /* xt = x - max; z = floor(-xt / log2); p = xt + z*log2; e = floor((A*(p+B)^2 + C) / 2^z);
             * y = clip(floor(e*(n-1) / sum(e)), 0, n-1). Two passes recompute e (no scratch). */
            const int64_t ca = a->p[0], cb = a->p[1], cc = a->p[2], l2 = a->p[3], nl = a->p[4];
            int32_t mx = (int32_t)x[0];
            int64_t sum = 0;
            for (j = 1; j < len; ++j)
                if ((int32_t)x[j] > mx) mx = (int32_t)x[j];
            for (j = 0; j < len; ++j) {
                const int64_t xt = (int64_t)x[j] - mx;
                const int64_t z = dt_floordiv64(-xt, l2); /* -xt >= 0 */
                const int64_t p = xt + z * l2;
                sum += dt_shr_floor64(ca * (p + cb) * (p + cb) + cc, (int32_t)z);
            }
            for (j = 0; j < len; ++j) {
                const int64_t xt = (int64_t)x[j] - mx;
                const int64_t z = dt_floordiv64(-xt, l2);
                const int64_t p = xt + z * l2;
                const int64_t e = dt_shr_floor64(ca * (p + cb) * (p + cb) + cc, (int32_t)z);
                int64_t v = sum > 0 ? dt_floordiv64(e * (nl - 1), sum) : 0;
                if (v < 0) v = 0;
                if (v > nl - 1) v = nl - 1;
                y[j] = (DT_TY)v;
            }
        } else if (a->op == DT_ROW_ITAMAX) {
            /* B = log2(n); shift = floor((max - x)*B / 2^B + 1/2); s = floor(sum(n / 2^shift)) computed
             * exactly as floor(sum(n * 2^(top - shift)) / 2^top); inv = floor(n(n-1)/s); y = inv >> shift */
            const int64_t nl = a->p[0];
            int32_t bb = 0, mx = (int32_t)x[0], top = 0;
            int64_t scaled = 0, s, inv;
            while (((int64_t)1 << (bb + 1)) <= nl) ++bb;
            for (j = 1; j < len; ++j)
                if ((int32_t)x[j] > mx) mx = (int32_t)x[j];
            for (j = 0; j < len; ++j) {
                const int32_t sh = (int32_t)dt_rounddiv64(((int64_t)mx - x[j]) * bb, (int64_t)1 << bb);
                if (sh > top) top = sh;
            }
            if (top > 40) top = 40; /* terms below 2^-40 of n never change the floor for len < 2^20 */
            for (j = 0; j < len; ++j) {
                int32_t sh = (int32_t)dt_rounddiv64(((int64_t)mx - x[j]) * bb, (int64_t)1 << bb);
                if (sh <= top) scaled += nl << (top - sh);
            }
            s = scaled >> top;
            inv = (nl * (nl - 1)) / s;
            for (j = 0; j < len; ++j) {
                const int32_t sh = (int32_t)dt_rounddiv64(((int64_t)mx - x[j]) * bb, (int64_t)1 << bb);
                y[j] = (DT_TY)dt_shr_floor64(inv, sh);
            }
        } else if (a->op == DT_ROW_IRMSNORM) {
            /* rms = floor(sqrt(floor(sum(x^2) / L) + 1)); y = clip(floor(x*w / (rms*D)), lo, hi) */
            const int64_t d = a->p[0], nl = a->p[1];
            int64_t ss = 0, rms;
            for (j = 0; j < len; ++j) ss += (int64_t)x[j] * x[j];
            rms = dt_isqrt64(ss / len + 1);
            for (j = 0; j < len; ++j) {
                int64_t v = dt_floordiv64((int64_t)x[j] * dt_load_int(a->w, a->w_bytes, j), rms * d);
                if (v < -(nl / 2)) v = -(nl / 2);
                if (v > nl / 2 - 1) v = nl / 2 - 1;
                y[j] = (DT_TY)v;
            }
        } else { /* DT_ROW_ILAYERNORM */
            /* mean = trunc(sum(x) / L); c = x - mean; std = floor(sqrt(floor(sum(c^2) / L) + 1));
             * y = clip(floor((trunc(c*w / std) + b) / D), lo, hi) */
            const int64_t d = a->p[0], nl = a->p[1];
            int64_t sx = 0, ss = 0, mean, sd;
            for (j = 0; j < len; ++j) sx += x[j];
            mean = sx / len;
            for (j = 0; j < len; ++j) ss += ((int64_t)x[j] - mean) * ((int64_t)x[j] - mean);
            sd = dt_isqrt64(ss / len + 1);
            for (j = 0; j < len; ++j) {
                const int64_t c = (int64_t)x[j] - mean;
                int64_t v = (c * dt_load_int(a->w, a->w_bytes, j)) / sd;
                v = dt_floordiv64(v + dt_load_int(a->bias, a->bias_bytes, j), d);
                if (v < -(nl / 2)) v = -(nl / 2);
                if (v > nl / 2 - 1) v = nl / 2 - 1;
                y[j] = (DT_TY)v;
            }
        }
    }
}

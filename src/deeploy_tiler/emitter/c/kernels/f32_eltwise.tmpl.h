/* Template: float32 elementwise operators on a 4-D box (dt_eltwise_args_t, broadcast through zero
 * strides; rq unused). Define: DT_NAME, DT_T (float). One rounded float32 operation per element, as the
 * reference: Add / Sub / Mul; Relu x > 0 ? x : +0; Clip x < lo ? lo : (x > hi ? hi : x), lo / hi given
 * as float32 bit patterns in p[0] / p[1]. (Copies of float tensors move bits through the integer
 * template.) */
#define DT_F32_LOOP_(EXPR)                                                                               \
    for (it = lo; it < hi; ++it) {                                                                       \
        const int32_t i2 = it % a->d[2];                                                                 \
        const int32_t t_ = it / a->d[2];                                                                 \
        const int32_t i1 = t_ % a->d[1];                                                                 \
        const int32_t i0 = t_ / a->d[1];                                                                 \
        const DT_T *ap = A + i0 * a->a_s[0] + i1 * a->a_s[1] + i2 * a->a_s[2];                           \
        const DT_T *bp = B ? B + i0 * a->b_s[0] + i1 * a->b_s[1] + i2 * a->b_s[2] : 0;                   \
        DT_T *yp = Y + i0 * a->y_s[0] + i1 * a->y_s[1] + i2 * a->y_s[2];                                 \
        int32_t i3;                                                                                      \
        (void)bp;                                                                                        \
        for (i3 = 0; i3 < a->d[3]; ++i3) {                                                               \
            const DT_T x_ = ap[i3 * a->a_s[3]];                                                          \
            (void)x_;                                                                                    \
            yp[i3 * a->y_s[3]] = (EXPR);                                                                 \
        }                                                                                                \
    }

void DT_NAME(const void *args_) {
    const dt_eltwise_args_t *a = (const dt_eltwise_args_t *)args_;
    const DT_T *A = (const DT_T *)a->a;
    const DT_T *B = (const DT_T *)a->b;
    DT_T *Y = (DT_T *)a->y;
    union { int32_t i; DT_T f; } lo_u, hi_u; /* the bounds' bit patterns as floats */
    DT_T lo_v, hi_v;
    int32_t lo, hi, it;
    lo_u.i = a->p[0];
    hi_u.i = a->p[1];
    lo_v = lo_u.f;
    hi_v = hi_u.f;
    dt_split(a->d[0] * a->d[1] * a->d[2], &lo, &hi);
    switch (a->op) {
    case DT_EW_ADD: DT_F32_LOOP_(x_ + bp[i3 * a->b_s[3]]) break;
    case DT_EW_SUB: DT_F32_LOOP_(x_ - bp[i3 * a->b_s[3]]) break;
    case DT_EW_MUL: DT_F32_LOOP_(x_ * bp[i3 * a->b_s[3]]) break;
    case DT_EW_RELU: DT_F32_LOOP_(x_ > 0.0f ? x_ : 0.0f) break;
    case DT_EW_CLIP: DT_F32_LOOP_(x_ < lo_v ? lo_v : (x_ > hi_v ? hi_v : x_)) break;
    default: break;
    }
}

#undef DT_F32_LOOP_

/* Template: elementwise operators on a 4-D box (broadcast through zero strides). Define:
 *   DT_NAME, DT_TA, DT_TB (operand types; unary ops ignore b), DT_TY (output type). */
#define DT_EW_STORE_(R)                                                                                  \
    do {                                                                                                 \
        int32_t r_ = (R);                                                                                \
        if (rq->mul)                                                                                     \
            r_ = dt_requant_apply(rq, r_, rq->mul[mrow + i3 * rq->mul_s[3]],                             \
                                  rq->add[arow + i3 * rq->add_s[3]]);                                    \
        yp[i3 * ys3] = (DT_TY)r_;                                                                        \
    } while (0)

#define DT_EW_LOOP_(EXPR)                                                                                \
    for (it = lo / d3; it * d3 < hi; ++it) {                                                             \
        const int32_t j_lo = lo > it * d3 ? lo - it * d3 : 0;                                            \
        const int32_t j_hi = hi - it * d3 < d3 ? hi - it * d3 : d3;                                      \
        const int32_t i2 = it % a->d[2];                                                                 \
        const int32_t t_ = it / a->d[2];                                                                 \
        const int32_t i1 = t_ % a->d[1];                                                                 \
        const int32_t i0 = t_ / a->d[1];                                                                 \
        const DT_TA *ap = A + i0 * a->a_s[0] + i1 * a->a_s[1] + i2 * a->a_s[2];                          \
        const DT_TB *bp = B ? B + i0 * a->b_s[0] + i1 * a->b_s[1] + i2 * a->b_s[2] : 0;                  \
        DT_TY *yp = Y + i0 * a->y_s[0] + i1 * a->y_s[1] + i2 * a->y_s[2];                                \
        const int32_t mrow = i0 * rq->mul_s[0] + i1 * rq->mul_s[1] + i2 * rq->mul_s[2];                  \
        const int32_t arow = i0 * rq->add_s[0] + i1 * rq->add_s[1] + i2 * rq->add_s[2];                  \
        int32_t i3;                                                                                      \
        (void)ap;                                                                                        \
        (void)bp;                                                                                        \
        for (i3 = j_lo; i3 < j_hi; ++i3) {                                                               \
            DT_EW_STORE_(EXPR);                                                                          \
        }                                                                                                \
    }

#define DT_EW_A_ ((int32_t)ap[i3 * as3])
#define DT_EW_B_ ((int32_t)bp[i3 * bs3])

void DT_NAME(const void *args_) {
    const dt_eltwise_args_t *a = (const dt_eltwise_args_t *)args_;
    const DT_TA *A = (const DT_TA *)a->a;
    const DT_TB *B = (const DT_TB *)a->b;
    DT_TY *Y = (DT_TY *)a->y;
    const dt_requant_t rq_local = a->rq; /* a local copy: int8 output stores may alias the argument block */
    const dt_requant_t *rq = &rq_local;
    const int32_t as3 = a->a_s[3], bs3 = a->b_s[3], ys3 = a->y_s[3];
    const int32_t p0 = a->p[0], p1 = a->p[1], p2 = a->p[2], p3 = a->p[3];
    const int32_t d3 = a->d[3];
    int32_t lo, hi, it;
    (void)p2;
    (void)p3;
    /* split elements, not rows: a box the emitter collapsed into one long row still spreads over the cores */
    if (d3 <= 0) return;
    dt_split(a->d[0] * a->d[1] * a->d[2] * d3, &lo, &hi);
    switch (a->op) {
    case DT_EW_ADD: DT_EW_LOOP_(DT_EW_A_ + DT_EW_B_) break;
    case DT_EW_SUB: DT_EW_LOOP_(DT_EW_A_ - DT_EW_B_) break;
    case DT_EW_MUL: DT_EW_LOOP_(DT_EW_A_ * DT_EW_B_) break;
    case DT_EW_COPY: DT_EW_LOOP_(DT_EW_A_) break;
    case DT_EW_RELU: DT_EW_LOOP_(DT_EW_A_ > 0 ? DT_EW_A_ : 0) break;
    case DT_EW_CLIP: DT_EW_LOOP_(DT_EW_A_ < p0 ? p0 : (DT_EW_A_ > p1 ? p1 : DT_EW_A_)) break;
    case DT_EW_FILL: DT_EW_LOOP_(p0) break;
    case DT_EW_IHARDSWISH: DT_EW_LOOP_(dt_ihardswish(DT_EW_A_, p0, p1, p2)) break;
    case DT_EW_IGELU: DT_EW_LOOP_(dt_igelu(DT_EW_A_, p0, p1)) break;
    case DT_EW_TRUEDIV: DT_EW_LOOP_(dt_truediv(DT_EW_A_, p0, p1, p2, p3)) break;
    case DT_EW_QADD: DT_EW_LOOP_(dt_qadd(DT_EW_A_, DT_EW_B_, p0, p1, p2, p3, rq->lo, rq->hi)) break;
    default: break;
    }
}

#undef DT_EW_STORE_
#undef DT_EW_LOOP_
#undef DT_EW_A_
#undef DT_EW_B_

/* Template: (batched) GEMM / MatMul of one output tile. Define before including:
 *   DT_NAME, DT_TA, DT_TB (operand types), DT_TY (output type).
 * Inner loops: four output columns at once when B's columns are contiguous (each A element loaded once
 * for four products), a 4-way unrolled dot product when both rows are contiguous, else a plain loop. */
#define DT_GEMM_STORE_(J, ACC)                                                                           \
    do {                                                                                                 \
        if (rq->mul) {                                                                                   \
            const int32_t mi_ = mrow + (J) * rq->mul_s[3], ai_ = arow + (J) * rq->add_s[3];              \
            yp[(J) * a->y_sn] = (DT_TY)dt_requant_apply(rq, (ACC), rq->mul[mi_], rq->add[ai_]);          \
        } else {                                                                                         \
            yp[(J) * a->y_sn] = (DT_TY)(ACC);                                                            \
        }                                                                                                \
    } while (0)
#define DT_GEMM_BIAS_(J) (a->c ? a->c[i * a->c_sm + (J) * a->c_sn] : 0)

void DT_NAME(const void *args_) {
    const dt_gemm_args_t *a = (const dt_gemm_args_t *)args_;
    const DT_TA *A = (const DT_TA *)a->a;
    const DT_TB *B = (const DT_TB *)a->b;
    DT_TY *Y = (DT_TY *)a->y;
    const dt_requant_t *rq = &a->rq;
    const int32_t K = a->k, a_sk = a->a_sk, b_sk = a->b_sk;
    int32_t lo, hi, it;
    dt_split(a->nb1 * a->nb2 * a->m, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t i = it % a->m;
        const int32_t t = it / a->m;
        const int32_t b2 = t % a->nb2;
        const int32_t b1 = t / a->nb2;
        const DT_TA *ap = A + b1 * a->a_sb1 + b2 * a->a_sb2 + i * a->a_sm;
        const DT_TB *bp = B + b1 * a->b_sb1 + b2 * a->b_sb2;
        DT_TY *yp = Y + b1 * a->y_sb1 + b2 * a->y_sb2 + i * a->y_sm;
        const int32_t mrow = b1 * rq->mul_s[0] + b2 * rq->mul_s[1] + i * rq->mul_s[2];
        const int32_t arow = b1 * rq->add_s[0] + b2 * rq->add_s[1] + i * rq->add_s[2];
        int32_t j = 0;
        if (a->b_sn == 1) {
            for (; j + 4 <= a->n; j += 4) {
                int32_t acc0 = DT_GEMM_BIAS_(j), acc1 = DT_GEMM_BIAS_(j + 1);
                int32_t acc2 = DT_GEMM_BIAS_(j + 2), acc3 = DT_GEMM_BIAS_(j + 3);
                const DT_TA *pa = ap;
                const DT_TB *pb = bp + j;
                int32_t kk;
                for (kk = 0; kk < K; ++kk) {
                    const int32_t av = (int32_t)*pa;
                    acc0 += av * (int32_t)pb[0];
                    acc1 += av * (int32_t)pb[1];
                    acc2 += av * (int32_t)pb[2];
                    acc3 += av * (int32_t)pb[3];
                    pa += a_sk;
                    pb += b_sk;
                }
                DT_GEMM_STORE_(j, acc0);
                DT_GEMM_STORE_(j + 1, acc1);
                DT_GEMM_STORE_(j + 2, acc2);
                DT_GEMM_STORE_(j + 3, acc3);
            }
        }
        for (; j < a->n; ++j) {
            const DT_TB *pb = bp + j * a->b_sn;
            const DT_TA *pa = ap;
            int32_t acc = DT_GEMM_BIAS_(j);
            int32_t kk = 0;
            if (a_sk == 1 && b_sk == 1) {
                for (; kk + 4 <= K; kk += 4) {
                    acc += (int32_t)pa[0] * (int32_t)pb[0] + (int32_t)pa[1] * (int32_t)pb[1] +
                           (int32_t)pa[2] * (int32_t)pb[2] + (int32_t)pa[3] * (int32_t)pb[3];
                    pa += 4;
                    pb += 4;
                }
            }
            for (; kk < K; ++kk) {
                acc += (int32_t)*pa * (int32_t)*pb;
                pa += a_sk;
                pb += b_sk;
            }
            DT_GEMM_STORE_(j, acc);
        }
    }
}

#undef DT_GEMM_STORE_
#undef DT_GEMM_BIAS_

/* Template: int8 x int8 GEMM / MatMul tile with XpulpV2 dot products (siracusa target). Define DT_NAME,
 * DT_PORTABLE (the portable instance of the same types, for layouts this kernel does not take), DT_TA,
 * DT_TB (both int8), DT_TY. Same argument block and results as gemm.tmpl.h, bit for bit.
 *   B with contiguous columns along K (b_sk == 1, e.g. transB): one A word and four B words feed four
 *     dot products; work split over (batch, row, 4-column block) so a single row still uses every core.
 *   B with contiguous rows (b_sn == 1): each core copies 4 columns of B at a time into a transposed
 *     block on its stack (K <= DT_SIMD_KMAX) and runs the same loop over all rows. */
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

#ifndef DT_SIMD_KMAX
#define DT_SIMD_KMAX 512
#endif

void DT_PORTABLE(const void *args_);

#define DT_SIMD_STORE_(I, J, ACC)                                                                         \
    do {                                                                                                  \
        DT_TY *yp_ = Y + b1 * a->y_sb1 + b2 * a->y_sb2 + (I) * a->y_sm + (J) * a->y_sn;                   \
        if (rq->mul) {                                                                                    \
            const int32_t mi_ = b1 * rq->mul_s[0] + b2 * rq->mul_s[1] + (I) * rq->mul_s[2] + (J) * rq->mul_s[3]; \
            const int32_t ai_ = b1 * rq->add_s[0] + b2 * rq->add_s[1] + (I) * rq->add_s[2] + (J) * rq->add_s[3]; \
            *yp_ = (DT_TY)dt_requant_apply(rq, (ACC), rq->mul[mi_], rq->add[ai_]);                        \
        } else {                                                                                          \
            *yp_ = (DT_TY)(ACC);                                                                          \
        }                                                                                                 \
    } while (0)
#define DT_SIMD_BIAS_(I, J) (a->c ? a->c[(I) * a->c_sm + (J) * a->c_sn] : 0)

void DT_NAME(const void *args_) {
    const dt_gemm_args_t *a = (const dt_gemm_args_t *)args_;
    const DT_SIMD_XT_ *A = (const DT_SIMD_XT_ *)a->a;
    const int8_t *B = (const int8_t *)a->b;
    DT_TY *Y = (DT_TY *)a->y;
    const dt_requant_t *rq = &a->rq;
    const int32_t K = a->k, nblk = (a->n + 3) / 4;
    int32_t lo, hi, it;
    if (a->a_sk != 1 || K < 8 || (a->b_sk != 1 && (a->b_sn != 1 || K > DT_SIMD_KMAX))) {
        DT_PORTABLE(args_);
        return;
    }
    if (a->b_sk == 1) {
        dt_split(a->nb1 * a->nb2 * a->m * nblk, &lo, &hi);
        for (it = lo; it < hi; ++it) {
            const int32_t jb = it % nblk, t = it / nblk;
            const int32_t i = t % a->m, t2 = t / a->m;
            const int32_t b2 = t2 % a->nb2, b1 = t2 / a->nb2;
            const DT_SIMD_XT_ *ap = A + b1 * a->a_sb1 + b2 * a->a_sb2 + i * a->a_sm;
            const int8_t *bp = B + b1 * a->b_sb1 + b2 * a->b_sb2;
            const int32_t j0 = jb * 4, w = a->n - j0 < 4 ? a->n - j0 : 4;
            if (w == 4) {
                const int8_t *p0 = bp + j0 * a->b_sn, *p1 = p0 + a->b_sn, *p2 = p1 + a->b_sn, *p3 = p2 + a->b_sn;
                int32_t acc0 = DT_SIMD_BIAS_(i, j0), acc1 = DT_SIMD_BIAS_(i, j0 + 1);
                int32_t acc2 = DT_SIMD_BIAS_(i, j0 + 2), acc3 = DT_SIMD_BIAS_(i, j0 + 3);
                int32_t k = 0;
                for (; k + 4 <= K; k += 4) {
                    const uint32_t av = dt_ld4(ap + k);
                    acc0 = DT_SIMD_DOT4_(acc0, av, dt_ld4(p0 + k));
                    acc1 = DT_SIMD_DOT4_(acc1, av, dt_ld4(p1 + k));
                    acc2 = DT_SIMD_DOT4_(acc2, av, dt_ld4(p2 + k));
                    acc3 = DT_SIMD_DOT4_(acc3, av, dt_ld4(p3 + k));
                }
                for (; k < K; ++k) {
                    const int32_t x = ap[k];
                    acc0 += x * p0[k];
                    acc1 += x * p1[k];
                    acc2 += x * p2[k];
                    acc3 += x * p3[k];
                }
                DT_SIMD_STORE_(i, j0, acc0);
                DT_SIMD_STORE_(i, j0 + 1, acc1);
                DT_SIMD_STORE_(i, j0 + 2, acc2);
                DT_SIMD_STORE_(i, j0 + 3, acc3);
            } else {
                int32_t j;
                for (j = j0; j < j0 + w; ++j) {
                    const int32_t acc = DT_SIMD_DOT_(DT_SIMD_BIAS_(i, j), ap, bp + j * a->b_sn, K);
                    DT_SIMD_STORE_(i, j, acc);
                }
            }
        }
        return;
    }
    { /* b_sn == 1: transpose 4 columns of B per block into bt, then all rows against it */
        int8_t bt[4 * DT_SIMD_KMAX] __attribute__((aligned(4)));
        const int32_t b_sk = a->b_sk;
        dt_split(a->nb1 * a->nb2 * nblk, &lo, &hi);
        for (it = lo; it < hi; ++it) {
            const int32_t jb = it % nblk, t = it / nblk;
            const int32_t b2 = t % a->nb2, b1 = t / a->nb2;
            const int8_t *bp = B + b1 * a->b_sb1 + b2 * a->b_sb2;
            const int32_t j0 = jb * 4, w = a->n - j0 < 4 ? a->n - j0 : 4;
            int32_t i, k, q;
            for (q = 0; q < 4; ++q) {
                int8_t *dst = bt + q * K;
                const int8_t *src = bp + j0 + (q < w ? q : 0);
                for (k = 0; k < K; ++k) dst[k] = src[k * b_sk];
            }
            for (i = 0; i < a->m; ++i) {
                const DT_SIMD_XT_ *ap = A + b1 * a->a_sb1 + b2 * a->a_sb2 + i * a->a_sm;
                int32_t acc[4];
                for (q = 0; q < 4; ++q) acc[q] = q < w ? DT_SIMD_BIAS_(i, j0 + q) : 0;
                for (k = 0; k + 4 <= K; k += 4) {
                    const uint32_t av = dt_ld4(ap + k);
                    acc[0] = DT_SIMD_DOT4_(acc[0], av, dt_ld4(bt + k));
                    acc[1] = DT_SIMD_DOT4_(acc[1], av, dt_ld4(bt + K + k));
                    acc[2] = DT_SIMD_DOT4_(acc[2], av, dt_ld4(bt + 2 * K + k));
                    acc[3] = DT_SIMD_DOT4_(acc[3], av, dt_ld4(bt + 3 * K + k));
                }
                for (; k < K; ++k) {
                    const int32_t x = ap[k];
                    for (q = 0; q < 4; ++q) acc[q] += x * bt[q * K + k];
                }
                for (q = 0; q < w; ++q) DT_SIMD_STORE_(i, j0 + q, acc[q]);
            }
        }
    }
}

#undef DT_SIMD_STORE_
#undef DT_SIMD_BIAS_
#undef DT_SIMD_XT_
#undef DT_SIMD_DOT4_
#undef DT_SIMD_DOT_

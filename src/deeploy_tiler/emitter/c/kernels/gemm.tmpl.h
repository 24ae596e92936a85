/* Template: (batched) GEMM / MatMul of one output tile. Define before including:
 *   DT_NAME, DT_TA, DT_TB (operand types), DT_TY (output type).
 * The tile is cut into blocks of 4 rows x 4 columns (smaller at the right / bottom edge, never across
 * a batch), the blocks split over the cores. A full block keeps its 16 sums in registers: per k it
 * loads 4 elements of A and 4 of B for 16 MACs (B's 4 columns contiguous, or each column's k
 * contiguous as in A x B^T). Edge blocks compute one element at a time (a 4-way unrolled dot product
 * when both operands are contiguous along k). int32 sums are exact, so no result depends on the
 * blocking. */
#define DT_GEMM_STORE_(R, J, ACC)                                                                        \
    do {                                                                                                 \
        if (rq->mul) {                                                                                   \
            const int32_t mi_ = mrow + (R) * rq->mul_s[2] + (J) * rq->mul_s[3];                          \
            const int32_t ai_ = arow + (R) * rq->add_s[2] + (J) * rq->add_s[3];                          \
            yp[(R) * y_sm + (J) * y_sn] = (DT_TY)dt_requant_apply(rq, (ACC), rq->mul[mi_], rq->add[ai_]); \
        } else {                                                                                         \
            yp[(R) * y_sm + (J) * y_sn] = (DT_TY)(ACC);                                                  \
        }                                                                                                \
    } while (0)
#define DT_GEMM_BIAS_(R, J) (a->c ? a->c[(i0 + (R)) * a->c_sm + (j0 + (J)) * a->c_sn] : 0)
#define DT_GEMM_CAT2_(A, B) A##B
#define DT_GEMM_CAT_(A, B) DT_GEMM_CAT2_(A, B)

/* c[r*8 + j] = sum_k A[r][k] * B[k][j] over a 2x8 block: A rows contiguous along k (a_sm apart), B's
 * eight columns side by side (rows b_sk apart). Per k two A elements stay in registers while B's eight
 * stream past: 10 loads for 16 MACs, and 16 sums + 3 pointers fit RV32's registers without spills
 * (a 4x4 block needs 5 pointers and 5 live values and spills). A function of its own (not inlined),
 * k unrolled by two; scheduling before register allocation is off here: it hoists loads and spills
 * sums (measured with riscv64-unknown-elf-gcc 12 -O2). */
#define DT_GEMM_K2x8_(OFF)                                                                               \
    do {                                                                                                 \
        const int32_t u = a0[OFF], v = a1[OFF];                                                          \
        int32_t w;                                                                                       \
        w = b[0], c00 += u * w, c10 += v * w;                                                            \
        w = b[1], c01 += u * w, c11 += v * w;                                                            \
        w = b[2], c02 += u * w, c12 += v * w;                                                            \
        w = b[3], c03 += u * w, c13 += v * w;                                                            \
        w = b[4], c04 += u * w, c14 += v * w;                                                            \
        w = b[5], c05 += u * w, c15 += v * w;                                                            \
        w = b[6], c06 += u * w, c16 += v * w;                                                            \
        w = b[7], c07 += u * w, c17 += v * w;                                                            \
        b += b_sk;                                                                                       \
    } while (0)
__attribute__((noinline, optimize("no-schedule-insns"))) static void DT_GEMM_CAT_(DT_NAME, _2x8)(
    const DT_TA *a0, int32_t a_sm, const DT_TB *b, int32_t b_sk, int32_t K, int32_t *c) {
    const DT_TA *a1 = a0 + a_sm;
    int32_t c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
    int32_t c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
    int32_t k;
    for (k = 0; k + 2 <= K; k += 2) {
        DT_GEMM_K2x8_(0);
        DT_GEMM_K2x8_(1);
        a0 += 2, a1 += 2;
    }
    if (k < K) DT_GEMM_K2x8_(0);
    c[0] = c00, c[1] = c01, c[2] = c02, c[3] = c03, c[4] = c04, c[5] = c05, c[6] = c06, c[7] = c07;
    c[8] = c10, c[9] = c11, c[10] = c12, c[11] = c13, c[12] = c14, c[13] = c15, c[14] = c16, c[15] = c17;
}
#undef DT_GEMM_K2x8_

/* c[j] = sum_k a[k] * B[k][j] for one row and eight contiguous columns (the odd row of a 2x8 grid, and
 * matrix x vector products with a single row). */
__attribute__((noinline, optimize("no-schedule-insns"))) static void DT_GEMM_CAT_(DT_NAME, _1x8)(
    const DT_TA *a0, const DT_TB *b, int32_t b_sk, int32_t K, int32_t *c) {
    int32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    int32_t k;
    for (k = 0; k < K; ++k) {
        const int32_t u = a0[k];
        c0 += u * b[0], c1 += u * b[1], c2 += u * b[2], c3 += u * b[3];
        c4 += u * b[4], c5 += u * b[5], c6 += u * b[6], c7 += u * b[7];
        b += b_sk;
    }
    c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3, c[4] = c4, c[5] = c5, c[6] = c6, c[7] = c7;
}

/* c[r*2 + j] = sum_k A[r][k] * B^T[j][k] over a 4x2 block: A rows and B^T rows contiguous along k;
 * k unrolled by two. */
#define DT_GEMM_K4x2_(OFF)                                                                               \
    do {                                                                                                 \
        const int32_t b0 = q0[OFF], b1 = q1[OFF];                                                        \
        int32_t v;                                                                                       \
        v = a0[OFF], c00 += v * b0, c01 += v * b1;                                                       \
        v = a1[OFF], c10 += v * b0, c11 += v * b1;                                                       \
        v = a2[OFF], c20 += v * b0, c21 += v * b1;                                                       \
        v = a3[OFF], c30 += v * b0, c31 += v * b1;                                                       \
    } while (0)
__attribute__((noinline, optimize("no-schedule-insns"))) static void DT_GEMM_CAT_(DT_NAME, _4x2t)(
    const DT_TA *a0, int32_t a_sm, const DT_TB *q0, int32_t b_sn, int32_t K, int32_t *c) {
    const DT_TA *a1 = a0 + a_sm, *a2 = a1 + a_sm, *a3 = a2 + a_sm;
    const DT_TB *q1 = q0 + b_sn;
    int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
    int32_t k;
    for (k = 0; k + 2 <= K; k += 2) {
        DT_GEMM_K4x2_(0);
        DT_GEMM_K4x2_(1);
        a0 += 2, a1 += 2, a2 += 2, a3 += 2, q0 += 2, q1 += 2;
    }
    if (k < K) DT_GEMM_K4x2_(0);
    c[0] = c00, c[1] = c01, c[2] = c10, c[3] = c11, c[4] = c20, c[5] = c21, c[6] = c30, c[7] = c31;
}
#undef DT_GEMM_K4x2_

void DT_NAME(const void *args_) {
    const dt_gemm_args_t *a = (const dt_gemm_args_t *)args_;
    const DT_TA *A = (const DT_TA *)a->a;
    const DT_TB *B = (const DT_TB *)a->b;
    DT_TY *Y = (DT_TY *)a->y;
    const dt_requant_t rq_local = a->rq; /* a local copy: int8 output stores may alias the argument block */
    const dt_requant_t *rq = &rq_local;
    const int32_t K = a->k, a_sk = a->a_sk, b_sk = a->b_sk, a_sm = a->a_sm, b_sn = a->b_sn;
    const int32_t y_sm = a->y_sm, y_sn = a->y_sn;
    /* B row-major: 2x8 blocks; B^T (k contiguous in both operands): 4x2 blocks */
    const int32_t row_major = b_sn == 1 && a_sk == 1, trans = !row_major && a_sk == 1 && b_sk == 1;
    const int32_t br = trans ? 4 : 2, bc = trans ? 2 : 8;
    const int32_t mb = (a->m + br - 1) / br, nbk = (a->n + bc - 1) / bc;
    int32_t lo, hi, it;
    dt_split(a->nb1 * a->nb2 * mb * nbk, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t jb = it % nbk;
        const int32_t t0 = it / nbk;
        const int32_t ib = t0 % mb;
        const int32_t t = t0 / mb;
        const int32_t b2 = t % a->nb2;
        const int32_t b1 = t / a->nb2;
        const int32_t i0 = ib * br, j0 = jb * bc;
        const int32_t rows = a->m - i0 < br ? a->m - i0 : br;
        const int32_t cols = a->n - j0 < bc ? a->n - j0 : bc;
        const DT_TA *ap = A + b1 * a->a_sb1 + b2 * a->a_sb2 + i0 * a_sm;
        const DT_TB *bp = B + b1 * a->b_sb1 + b2 * a->b_sb2 + j0 * b_sn;
        DT_TY *yp = Y + b1 * a->y_sb1 + b2 * a->y_sb2 + i0 * y_sm + j0 * y_sn;
        const int32_t mrow = b1 * rq->mul_s[0] + b2 * rq->mul_s[1] + i0 * rq->mul_s[2] + j0 * rq->mul_s[3];
        const int32_t arow = b1 * rq->add_s[0] + b2 * rq->add_s[1] + i0 * rq->add_s[2] + j0 * rq->add_s[3];
        if ((row_major || trans) && rows == br && cols == bc) {
            int32_t c[16];
            int32_t r, j;
            if (row_major) DT_GEMM_CAT_(DT_NAME, _2x8)(ap, a_sm, bp, b_sk, K, c);
            else DT_GEMM_CAT_(DT_NAME, _4x2t)(ap, a_sm, bp, b_sn, K, c);
            if (a->c) {
                for (r = 0; r < br; ++r) {
                    for (j = 0; j < bc; ++j) c[r * bc + j] += a->c[(i0 + r) * a->c_sm + (j0 + j) * a->c_sn];
                }
            }
            for (r = 0; r < br && sizeof(DT_TY) > 4; ++r) { /* wide outputs: element by element */
                for (j = 0; j < bc; ++j) DT_GEMM_STORE_(r, j, c[r * bc + j]);
            }
            for (r = 0; r < br && sizeof(DT_TY) <= 4; ++r) {
                dt_requant_store_row(rq, c + r * bc, bc, mrow + r * rq->mul_s[2], rq->mul_s[3],
                                     arow + r * rq->add_s[2], rq->add_s[3], yp + r * y_sm, y_sn,
                                     (int32_t)sizeof(DT_TY));
            }
        } else if (row_major && cols == bc && sizeof(DT_TY) <= 4) { /* the last single row: 1x8 */
            int32_t c[8];
            int32_t r, j;
            for (r = 0; r < rows; ++r) {
                DT_GEMM_CAT_(DT_NAME, _1x8)(ap + r * a_sm, bp, b_sk, K, c);
                if (a->c) {
                    for (j = 0; j < 8; ++j) c[j] += a->c[(i0 + r) * a->c_sm + (j0 + j) * a->c_sn];
                }
                dt_requant_store_row(rq, c, 8, mrow + r * rq->mul_s[2], rq->mul_s[3], arow + r * rq->add_s[2],
                                     rq->add_s[3], yp + r * y_sm, y_sn, (int32_t)sizeof(DT_TY));
            }
        } else {
            int32_t r, j;
            for (r = 0; r < rows; ++r) {
                for (j = 0; j < cols; ++j) {
                    const DT_TA *pa = ap + r * a_sm;
                    const DT_TB *pb = bp + j * b_sn;
                    int32_t acc = a->c ? a->c[(i0 + r) * a->c_sm + (j0 + j) * a->c_sn] : 0;
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
                    DT_GEMM_STORE_(r, j, acc);
                }
            }
        }
    }
}

#undef DT_GEMM_STORE_
#undef DT_GEMM_BIAS_
#undef DT_GEMM_CAT_
#undef DT_GEMM_CAT2_

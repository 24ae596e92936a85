/* Template: float32 (batched) GEMM / MatMul of one output tile (dt_gemm_args_t; rq unused). Define:
 * DT_NAME, DT_T (float). The float32 reference's order (reference/float32.py): acc = +0; for k = 0 ..
 * K-1: acc = acc + A[i][k] * B[k][j], each step rounded (-ffp-contract=off); then y = acc + C (Gemm).
 * K is whole in every tile (never split), so the order does not depend on the tiling. */
void DT_NAME(const void *args_) {
    const dt_gemm_args_t *a = (const dt_gemm_args_t *)args_;
    const DT_T *A = (const DT_T *)a->a;
    const DT_T *B = (const DT_T *)a->b;
    const DT_T *C = (const DT_T *)(const void *)a->c;
    DT_T *Y = (DT_T *)a->y;
    int32_t lo, hi, it;
    dt_split(a->nb1 * a->nb2 * a->m, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t i = it % a->m;
        const int32_t t = it / a->m;
        const int32_t b2 = t % a->nb2;
        const int32_t b1 = t / a->nb2;
        const DT_T *ar = A + b1 * a->a_sb1 + b2 * a->a_sb2 + i * a->a_sm;
        const DT_T *bb = B + b1 * a->b_sb1 + b2 * a->b_sb2;
        DT_T *yr = Y + b1 * a->y_sb1 + b2 * a->y_sb2 + i * a->y_sm;
        int32_t j;
        for (j = 0; j < a->n; ++j) {
            const DT_T *ap = ar;
            const DT_T *bp = bb + j * a->b_sn;
            DT_T acc = 0.0f;
            int32_t k;
            for (k = 0; k < a->k; ++k) {
                const DT_T p = *ap * *bp;
                acc = acc + p;
                ap += a->a_sk;
                bp += a->b_sk;
            }
            if (C) acc = acc + C[i * a->c_sm + j * a->c_sn];
            yr[j * a->y_sn] = acc;
        }
    }
}

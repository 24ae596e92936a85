/* Template: mean over the middle axis of [outer, len, inner], rounded half up (IntegerMean,
 * ReduceMean): y = floor(sum / divisor + 1/2). Define: DT_NAME, DT_TX, DT_TY. */
void DT_NAME(const void *args_) {
    const dt_reduce_args_t *a = (const dt_reduce_args_t *)args_;
    const DT_TX *x = (const DT_TX *)a->x;
    DT_TY *y = (DT_TY *)a->y;
    int32_t lo, hi, it;
    dt_split(a->outer * a->inner, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t i = it % a->inner, o = it / a->inner;
        const DT_TX *xp = x + o * a->x_so + i * a->x_si;
        int64_t s = 0;
        int32_t l;
        for (l = 0; l < a->len; ++l) s += xp[l * a->x_sl];
        y[o * a->y_so + i * a->y_si] = (DT_TY)dt_rounddiv64(s, a->divisor);
    }
}

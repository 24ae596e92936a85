/* Untyped kernels of the library (typed ones are template instances, see dt_kernels.h). */
#include "dt_kernels.h"

#include <string.h>

void dt_gather(const void *args_) {
    const dt_gather_args_t *a = (const dt_gather_args_t *)args_;
    const uint8_t *x = (const uint8_t *)a->x;
    uint8_t *y = (uint8_t *)a->y;
    const int32_t eb = a->elem_bytes;
    int32_t lo, hi, it;
    dt_split(a->outer * a->nidx, &lo, &hi);
    for (it = lo; it < hi; ++it) {
        const int32_t j = it % a->nidx, o = it / a->nidx;
        int64_t ix = dt_load_int(a->idx, a->idx_bytes, j * a->idx_s);
        int32_t i;
        if (ix < 0) ix += a->axis_len;
        ix -= a->axis_start;
        for (i = 0; i < a->inner; ++i) {
            memcpy(y + (size_t)(o * a->y_so + j * a->y_sa + i * a->y_si) * (size_t)eb,
                   x + (size_t)(o * a->x_so + (int32_t)ix * a->x_sa + i * a->x_si) * (size_t)eb, (size_t)eb);
        }
    }
}

/* Cluster fork/join. dt_cluster_fork(fn, args) runs fn(args) on every core of the cluster and returns
 * when all finished (join). Kernels split their work with dt_core_id() / dt_num_cores() / dt_split().
 * Functional backend: the cores run one after the other on the calling core, so results and the
 * total retired instructions equal those of the parallel run (the sum over cores). */
#ifndef DT_CLUSTER_H
#define DT_CLUSTER_H

#include <stdint.h>

#ifndef DT_NUM_CORES
#define DT_NUM_CORES 8
#endif

typedef void (*dt_task_fn)(const void *args);

void dt_cluster_fork(dt_task_fn fn, const void *args);
int32_t dt_core_id(void);
static inline int32_t dt_num_cores(void) { return DT_NUM_CORES; }

/* This core's share [*lo, *hi) of n work items (contiguous chunks, the first ones one larger). */
static inline void dt_split(int32_t n, int32_t *lo, int32_t *hi) {
    int32_t c = dt_core_id(), p = dt_num_cores();
    int32_t q = n / p, r = n % p;
    *lo = c * q + (c < r ? c : r);
    *hi = *lo + q + (c < r ? 1 : 0);
}

#endif /* DT_CLUSTER_H */

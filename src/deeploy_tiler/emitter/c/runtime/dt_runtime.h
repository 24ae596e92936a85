/* deeploy_tiler C runtime: memory arenas, DMA, cluster fork/join, NPU tasks, counters.
 *
 * One header for generated code and kernels. Portable C99; the functional backends (memcpy DMA,
 * sequential cluster, NPU functional model) run on a host and on plain RV32 under QEMU, while the
 * generated code keeps the asynchronous form a chip needs (start, then wait; fork, then join).
 */
#ifndef DT_RUNTIME_H
#define DT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dt_arena.h"
#include "dt_perf.h"
#include "dt_dma.h"
#include "dt_l3.h"
#include "dt_cluster.h"
#include "dt_npu.h"
#include "dt_schedule.h"

#endif /* DT_RUNTIME_H */

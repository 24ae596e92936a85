/* NPU task interface (N-EUREKA-like convolution engine): a placeholder with a functional model.
 *
 * Generated code fills a task descriptor per tile and submits it; the NPU reads its input, weight and
 * output buffers in place (L1, or weights from the weight memory). dt_npu_submit() is asynchronous in
 * form; dt_npu_wait() blocks until the task completed. The functional model (host, QEMU) runs the
 * task's reference kernel on the cluster's portable C code at wait time. A real driver replaces
 * dt_npu_set_model() / the descriptor packing; the field layout is ours, not the hardware's.
 */
#ifndef DT_NPU_H
#define DT_NPU_H

#include <stdint.h>

#include "dt_cluster.h"

typedef enum {
    DT_NPU_CONV1X1 = 0,
    DT_NPU_CONV3X3 = 1,
    DT_NPU_DWCONV3X3 = 2,
    DT_NPU_GEMM = 3 /* GEMM / Linear mapped as a 1x1 convolution */
} dt_npu_kind_t;

typedef struct {
    dt_npu_kind_t kind;
    int32_t relu;            /* fused ReLU requested (applied by the requant clip in the model) */
    dt_task_fn kernel;       /* functional model: the portable kernel computing the same tile */
    const void *kernel_args; /* its argument block (pointers into L1 / WMEM, geometry, requant) */
} dt_npu_task_t;

typedef int32_t dt_npu_handle_t;
typedef void (*dt_npu_model_fn)(const dt_npu_task_t *task);

dt_npu_handle_t dt_npu_submit(const dt_npu_task_t *task);
void dt_npu_wait(dt_npu_handle_t handle);
/* Replace the functional model (NULL restores the default: run task->kernel on the cluster). */
void dt_npu_set_model(dt_npu_model_fn model);
uint32_t dt_npu_tasks(void);

/* A kernel entry point that submits the task in `args` and waits for it (for the schedule tables). */
void dt_npu_run_task(const void *args);

#endif /* DT_NPU_H */

/* Table-driven execution of one node's plan: the event list of the Plan, transcribed as is.
 *
 *   DT_EV_DMA_START ref -> dt_dma_start(&xfers[ref]), handle kept in handles[ref]
 *   DT_EV_DMA_WAIT  ref -> dt_dma_wait(handles[ref])
 *   DT_EV_COMPUTE   ref -> the kernel calls of step `ref` (fork/join on the cluster or NPU task)
 */
#ifndef DT_SCHEDULE_H
#define DT_SCHEDULE_H

#include <stdint.h>

#include "dt_cluster.h"
#include "dt_dma.h"

enum { DT_EV_DMA_START = 0, DT_EV_DMA_WAIT = 1, DT_EV_COMPUTE = 2 };

typedef struct {
    uint16_t kind;
    uint16_t ref;
} dt_event_t;

typedef struct {
    dt_task_fn fn;    /* kernel (or dt_npu_run_task) */
    const void *args; /* its argument block */
    uint8_t on_cluster; /* 1: fork on the cluster; 0: call once on the calling core (NPU tasks) */
} dt_call_t;

typedef struct {
    uint16_t first_call; /* index into calls[] */
    uint16_t num_calls;
} dt_step_t;

typedef struct {
    const dt_event_t *events;
    uint32_t num_events;
    const dt_dma_desc_t *xfers;
    dt_dma_handle_t *handles; /* one slot per transfer */
    const dt_step_t *steps;
    const dt_call_t *calls;
} dt_node_sched_t;

/* Runs the node; returns 0, or -1 when a transfer was left pending at the end (a plan bug). */
int32_t dt_run_node(const dt_node_sched_t *s);

#endif /* DT_SCHEDULE_H */

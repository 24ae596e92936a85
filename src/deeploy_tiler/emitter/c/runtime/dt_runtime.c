/* Functional backends of the runtime (host and QEMU): memcpy DMA, sequential cluster, NPU model. */
#include "dt_runtime.h"

/* ---- DMA ---------------------------------------------------------------------------------- */
static const dt_dma_desc_t *dt_dma_queue[DT_DMA_MAX_PENDING];
static uint32_t dt_dma_busy_mask[(DT_DMA_MAX_PENDING + 31) / 32];
static int32_t dt_dma_npending;
static uint32_t dt_dma_count, dt_dma_nbytes;

void dt_dma_copy_now(const dt_dma_desc_t *d) {
    uint32_t i3, i2, i1;
    for (i3 = 0; i3 < d->n3; ++i3) {
        for (i2 = 0; i2 < d->n2; ++i2) {
            const uint8_t *s = (const uint8_t *)d->src + (int32_t)i3 * d->src_s3 + (int32_t)i2 * d->src_s2;
            uint8_t *t = (uint8_t *)d->dst + (int32_t)i3 * d->dst_s3 + (int32_t)i2 * d->dst_s2;
            for (i1 = 0; i1 < d->n1; ++i1) {
                memcpy(t, s, d->row_bytes);
                s += d->src_s1;
                t += d->dst_s1;
            }
        }
    }
    dt_dma_count += 1;
    dt_dma_nbytes += d->row_bytes * d->n1 * d->n2 * d->n3;
}

dt_dma_handle_t dt_dma_start(const dt_dma_desc_t *desc) {
    int32_t h;
    for (h = 0; h < DT_DMA_MAX_PENDING; ++h) {
        if (!(dt_dma_busy_mask[h >> 5] & (1u << (h & 31)))) break;
    }
    if (h == DT_DMA_MAX_PENDING) { /* queue full: a real DMA would stall; complete synchronously */
        dt_dma_copy_now(desc);
        return -1;
    }
#if DT_DMA_EAGER
    dt_dma_copy_now(desc);
    dt_dma_queue[h] = 0;
#else
    dt_dma_queue[h] = desc;
#endif
    dt_dma_busy_mask[h >> 5] |= 1u << (h & 31);
    dt_dma_npending += 1;
    return h;
}

void dt_dma_wait(dt_dma_handle_t h) {
    if (h < 0 || h >= DT_DMA_MAX_PENDING) return;
    if (!(dt_dma_busy_mask[h >> 5] & (1u << (h & 31)))) return;
    if (dt_dma_queue[h]) dt_dma_copy_now(dt_dma_queue[h]);
    dt_dma_queue[h] = 0;
    dt_dma_busy_mask[h >> 5] &= ~(1u << (h & 31));
    dt_dma_npending -= 1;
}

int32_t dt_dma_pending(void) { return dt_dma_npending; }
uint32_t dt_dma_transfers(void) { return dt_dma_count; }
uint32_t dt_dma_bytes(void) { return dt_dma_nbytes; }

/* ---- L3 DMA (dt_l3.h): its own queue, the same functional copy -------------------------------- */
static void dt_l3_copy_now(const dt_dma_desc_t *d) {
    /* dt_dma_copy_now counts cluster transfers: keep the L3 counters apart */
    const uint32_t count = dt_dma_count, nbytes = dt_dma_nbytes;
    dt_dma_copy_now(d);
    dt_dma_count = count;
    dt_dma_nbytes = nbytes;
}

#include "dt_l3_queue.h"

/* ---- cluster ------------------------------------------------------------------------------ */
static int32_t dt_current_core;

int32_t dt_core_id(void) { return dt_current_core; }

void dt_cluster_fork(dt_task_fn fn, const void *args) {
    int32_t c;
    for (c = 0; c < DT_NUM_CORES; ++c) {
        dt_current_core = c;
        fn(args);
    }
    dt_current_core = 0; /* join */
}

/* ---- NPU ---------------------------------------------------------------------------------- */
static void dt_npu_default_model(const dt_npu_task_t *task) { dt_cluster_fork(task->kernel, task->kernel_args); }

static dt_npu_model_fn dt_npu_model = dt_npu_default_model;
static const dt_npu_task_t *dt_npu_inflight;
static uint32_t dt_npu_count;

void dt_npu_set_model(dt_npu_model_fn model) { dt_npu_model = model ? model : dt_npu_default_model; }

dt_npu_handle_t dt_npu_submit(const dt_npu_task_t *task) {
    dt_npu_inflight = task; /* one task in flight: the functional model runs it at wait */
    dt_npu_count += 1;
    return 0;
}

void dt_npu_wait(dt_npu_handle_t handle) {
    (void)handle;
    if (dt_npu_inflight) {
        const dt_npu_task_t *t = dt_npu_inflight;
        dt_npu_inflight = 0;
        dt_npu_model(t);
    }
}

uint32_t dt_npu_tasks(void) { return dt_npu_count; }

void dt_npu_run_task(const void *args) { dt_npu_wait(dt_npu_submit((const dt_npu_task_t *)args)); }

/* ---- schedule ----------------------------------------------------------------------------- */
int32_t dt_run_node(const dt_node_sched_t *s) {
    uint32_t e;
    for (e = 0; e < s->num_events; ++e) {
        const dt_event_t ev = s->events[e];
        if (ev.kind == DT_EV_DMA_START) {
            s->handles[ev.ref] = dt_dma_start(&s->xfers[ev.ref]);
        } else if (ev.kind == DT_EV_DMA_WAIT) {
            dt_dma_wait(s->handles[ev.ref]);
        } else {
            const dt_step_t st = s->steps[ev.ref];
            uint32_t c;
            for (c = st.first_call; c < (uint32_t)st.first_call + st.num_calls; ++c) {
                const dt_call_t *call = &s->calls[c];
                if (call->on_cluster) dt_cluster_fork(call->fn, call->args);
                else call->fn(call->args);
            }
        }
    }
    return dt_dma_pending() == 0 ? 0 : -1;
}

/* The L3 DMA queue of dt_l3.h, shared by the functional backends (dt_runtime.c, siracusa/dt_siracusa.c).
 *
 * Include it once, in the runtime's .c file, after defining
 *     static void dt_l3_copy_now(const dt_dma_desc_t *d);
 * which makes one copy (each backend keeps its own counters). The queue records what was started and
 * makes the copy when it is waited for (DT_DMA_EAGER=1: at start), so a node that reads a staged buffer
 * before its wait sees stale bytes and the comparison fails instead of passing by luck.
 */
#ifndef DT_L3_QUEUE_H
#define DT_L3_QUEUE_H

#include "dt_l3.h"

static const dt_dma_desc_t *dt_l3_queue[DT_L3_MAX_PENDING];
static uint8_t dt_l3_busy[DT_L3_MAX_PENDING];
static int32_t dt_l3_npending;
static uint32_t dt_l3_count, dt_l3_nbytes;

static void dt_l3_copy(const dt_dma_desc_t *d) {
    dt_l3_copy_now(d);
    dt_l3_count += 1;
    dt_l3_nbytes += d->row_bytes * d->n1 * d->n2 * d->n3;
}

dt_dma_handle_t dt_l3_dma_start(const dt_dma_desc_t *desc) {
    int32_t h;
    for (h = 0; h < DT_L3_MAX_PENDING; ++h) {
        if (!dt_l3_busy[h]) break;
    }
    if (h == DT_L3_MAX_PENDING) { /* queue full: complete synchronously */
        dt_l3_copy(desc);
        return -1;
    }
#if DT_DMA_EAGER
    dt_l3_copy(desc);
    dt_l3_queue[h] = 0;
#else
    dt_l3_queue[h] = desc;
#endif
    dt_l3_busy[h] = 1;
    dt_l3_npending += 1;
    return h;
}

void dt_l3_dma_wait(dt_dma_handle_t h) {
    if (h < 0 || h >= DT_L3_MAX_PENDING || !dt_l3_busy[h]) return;
    if (dt_l3_queue[h]) dt_l3_copy(dt_l3_queue[h]);
    dt_l3_queue[h] = 0;
    dt_l3_busy[h] = 0;
    dt_l3_npending -= 1;
}

int32_t dt_l3_dma_pending(void) { return dt_l3_npending; }
uint32_t dt_l3_dma_transfers(void) { return dt_l3_count; }
uint32_t dt_l3_dma_bytes(void) { return dt_l3_nbytes; }

#endif /* DT_L3_QUEUE_H */

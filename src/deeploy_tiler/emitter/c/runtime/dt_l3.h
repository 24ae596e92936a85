/* L3 DMA API: whole-tensor copies between L3 (off-chip RAM) and L2, across nodes.
 *
 *   dt_dma_handle_t h = dt_l3_dma_start(&desc);   issue before the node at the plan's issue step
 *   ...nodes run...
 *   dt_l3_dma_wait(h);                             before the first node reading the staged copy
 *
 * Same descriptor and handle types as the cluster DMA (dt_dma.h), its own queue: a copy in flight
 * across nodes does not count as a cluster transfer left pending. Functional backend (host, QEMU): the
 * copy is made when it is waited for (DT_DMA_EAGER=1: at start), so a node reading a staged buffer
 * before its wait sees stale bytes and the comparison fails instead of passing by luck.
 */
#ifndef DT_L3_H
#define DT_L3_H

#include <stdint.h>

#include "dt_dma.h"

#ifndef DT_L3_MAX_PENDING
#define DT_L3_MAX_PENDING 64
#endif

dt_dma_handle_t dt_l3_dma_start(const dt_dma_desc_t *desc);
void dt_l3_dma_wait(dt_dma_handle_t handle);
int32_t dt_l3_dma_pending(void);
uint32_t dt_l3_dma_transfers(void);
uint32_t dt_l3_dma_bytes(void);

#endif /* DT_L3_H */

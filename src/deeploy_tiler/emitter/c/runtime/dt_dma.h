/* DMA API: 1-D to 3-D strided copies between a tensor's home level and an L1 buffer.
 *
 *   dt_dma_handle_t h = dt_dma_start(&desc);   issue, returns at once
 *   ...compute on other buffers...
 *   dt_dma_wait(h);                             block until that copy completed
 *
 * A descriptor copies n3 x n2 x n1 rows of `row_bytes` contiguous bytes; strides are in bytes.
 * (The cluster DMA of the target takes 2-D jobs; a 3-D descriptor is issued as n3 of them.)
 *
 * Functional backend (host, QEMU): the copy is performed by memcpy *when the transfer is waited for*
 * (DT_DMA_EAGER=1 copies at start instead). Deferring the copy makes the functional run as strict as
 * an infinitely slow DMA: a kernel that reads an input slot before its wait, or a slot overwritten
 * before its outbound copy was waited for, produces wrong results instead of passing by luck.
 * dt_dma_pending() counts transfers started and not yet waited for (0 at the end of every node).
 */
#ifndef DT_DMA_H
#define DT_DMA_H

#include <stdint.h>

typedef struct {
    void *dst;
    const void *src;
    uint32_t row_bytes;              /* contiguous bytes per row */
    uint32_t n1, n2, n3;             /* rows, planes, blocks (>= 1 each) */
    int32_t src_s1, src_s2, src_s3;  /* byte strides between rows / planes / blocks at the source */
    int32_t dst_s1, dst_s2, dst_s3;  /* the same at the destination */
} dt_dma_desc_t;

typedef int32_t dt_dma_handle_t;

#ifndef DT_DMA_MAX_PENDING
#define DT_DMA_MAX_PENDING 64
#endif
#ifndef DT_DMA_EAGER
#define DT_DMA_EAGER 0
#endif

dt_dma_handle_t dt_dma_start(const dt_dma_desc_t *desc);
void dt_dma_wait(dt_dma_handle_t handle);
int32_t dt_dma_pending(void);
/* Counters for reports: transfers and bytes moved since reset. */
uint32_t dt_dma_transfers(void);
uint32_t dt_dma_bytes(void);
void dt_dma_copy_now(const dt_dma_desc_t *desc); /* the synchronous copy the backend performs */

#endif /* DT_DMA_H */

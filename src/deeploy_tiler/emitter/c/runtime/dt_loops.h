/* Loop-emitted schedules: what the node functions of network.c call (emitter/loops.py folds a plan's
 * event list into counted loops; these are the statements of their bodies).
 *
 *   dt_xfer(ref, dst, src, row_bytes, n1, n2, n3, src_s1, src_s2, src_s3, dst_s1, dst_s2, dst_s3)
 *       the plan's `dma_start ref`: fills the descriptor of transfer `ref` and starts it
 *   dt_xfer1(ref, dst, src, bytes)   the same for one contiguous run of bytes
 *   dt_xwait(ref)      the plan's `dma_wait ref`
 *   DT_P(symbol, byte offset), DT_CP(...)   an address in an arena / constant (a const pointer)
 *   DT_STEP(ref);      marks the plan's `compute ref` (the kernel calls of that step follow)
 *
 * Descriptors and handles live in a ring of DT_XRING entries indexed by `ref & (DT_XRING - 1)`: the
 * functional DMA reads a descriptor when the transfer is waited for, so it must outlive its start; the
 * emitter sizes the ring (a power of two) so that no transfer reuses an entry still in flight.
 * network.c defines DT_XRING, the ring arrays and, for a trace build (-DDT_TRACE), DT_TRACE_L1 /
 * DT_TRACE_L1_BYTES (the L1 arena) before including this header.
 *
 * -DDT_TRACE prints every event as it runs, one line each:
 *   DT_EV start <node> <ref> <L1 offset of the transfer's L1 side, -1 if none> <bytes>
 *   DT_EV wait <node> <ref>
 *   DT_EV compute <node> <step>
 */
#ifndef DT_LOOPS_H
#define DT_LOOPS_H

#include <stdint.h>

#include "dt_dma.h"

/* one out-of-line copy per program: a call site is its arguments, not the descriptor stores */
#if defined(__GNUC__)
#define DT_LOOP_FN static __attribute__((noinline, unused))
#else
#define DT_LOOP_FN static
#endif

#ifndef DT_XRING
#define DT_XRING 64
#endif

#define DT_P(sym, off) ((void *)((uint8_t *)(sym) + (off)))
#define DT_CP(sym, off) ((const void *)((const uint8_t *)(sym) + (off)))

extern dt_dma_desc_t dt_xring[DT_XRING];
extern dt_dma_handle_t dt_xhandle[DT_XRING];

#if defined(DT_TRACE)
#include <stdio.h>
extern int32_t dt_trace_node;
static inline long dt_trace_l1_offset(const void *p) {
#if defined(DT_TRACE_L1)
    const uint8_t *b = (const uint8_t *)DT_TRACE_L1, *q = (const uint8_t *)p;
    if (q >= b && q < b + DT_TRACE_L1_BYTES) return (long)(q - b);
#else
    (void)p;
#endif
    return -1;
}
#define DT_STEP(ref) printf("DT_EV compute %ld %ld\n", (long)dt_trace_node, (long)(ref))
#else
#define DT_STEP(ref) ((void)0)
#endif

DT_LOOP_FN void dt_xfer(uint32_t ref, void *dst, const void *src, uint32_t row_bytes, uint32_t n1, uint32_t n2,
                           uint32_t n3, int32_t src_s1, int32_t src_s2, int32_t src_s3, int32_t dst_s1,
                           int32_t dst_s2, int32_t dst_s3) {
    dt_dma_desc_t *d = &dt_xring[ref & (DT_XRING - 1)];
    d->dst = dst;
    d->src = src;
    d->row_bytes = row_bytes;
    d->n1 = n1;
    d->n2 = n2;
    d->n3 = n3;
    d->src_s1 = src_s1;
    d->src_s2 = src_s2;
    d->src_s3 = src_s3;
    d->dst_s1 = dst_s1;
    d->dst_s2 = dst_s2;
    d->dst_s3 = dst_s3;
#if defined(DT_TRACE)
    {
        long off = dt_trace_l1_offset(dst);
        if (off < 0) off = dt_trace_l1_offset(src);
        printf("DT_EV start %ld %lu %ld %lu\n", (long)dt_trace_node, (unsigned long)ref, off,
               (unsigned long)(row_bytes * n1 * n2 * n3));
    }
#endif
    dt_xhandle[ref & (DT_XRING - 1)] = dt_dma_start(d);
}

DT_LOOP_FN void dt_xfer1(uint32_t ref, void *dst, const void *src, uint32_t bytes) {
    dt_xfer(ref, dst, src, bytes, 1, 1, 1, 0, 0, 0, 0, 0, 0);
}

DT_LOOP_FN void dt_xwait(uint32_t ref) {
#if defined(DT_TRACE)
    printf("DT_EV wait %ld %lu\n", (long)dt_trace_node, (unsigned long)ref);
#endif
    dt_dma_wait(dt_xhandle[ref & (DT_XRING - 1)]);
}

#endif /* DT_LOOPS_H */

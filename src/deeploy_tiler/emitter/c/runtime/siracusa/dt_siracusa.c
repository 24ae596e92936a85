/* Siracusa backend of the runtime (replaces dt_runtime.c in the siracusa build): boot, the cluster's
 * fork / join on its 8 cores, the plan's DMA as real asynchronous mchan transfers, cycle counters,
 * stdout / exit through the SoC peripherals, and the few C library functions the program needs.
 *
 * DMA: a descriptor (1-D to 3-D, dt_dma.h) becomes mchan commands under ONE transfer counter: a 1-D
 * command when both sides are contiguous, a 2-D one (strided rows at the L2 side) per plane when only
 * the L1 side is, else one 1-D command per row. dt_dma_start() issues and returns; dt_dma_wait() polls
 * the counter and frees it. mchan has 16 counters: when the plan keeps more transfers in flight, the
 * runtime waits for one of them first (an earlier wait never changes results).
 *
 * Fork: a kernel's argument block lives in L2 (the node tables); core 0 copies it into L1 by DMA before
 * the fork (as many bytes as the largest argument block), so the 8 cores read it at L1 latency. */
#include <stdint.h>
#include <string.h>

#include "dt_kernels.h"
#include "dt_runtime.h"
#include "dt_siracusa.h"

/* ---- console, exit ------------------------------------------------------------------------ */
void dt_sir_putc(char c) {
    const uint32_t h = dt_sir_hartid();
    *(volatile uint32_t *)DT_SIR_STDOUT(h >> 5, h & 31u) = (uint8_t)c;
}

void dt_sir_exit(int32_t status) {
    dt_sir_write(DT_SIR_EXIT, 0x80000000u | (uint32_t)status);
    for (;;) __asm__ volatile("wfi");
}

int putchar(int c) {
    dt_sir_putc((char)c);
    return c;
}

int puts(const char *s) {
    while (*s) dt_sir_putc(*s++);
    dt_sir_putc('\n');
    return 0;
}

static void dt_sir_put_unsigned(unsigned long v, int neg) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    if (neg) dt_sir_putc('-');
    while (n) dt_sir_putc(buf[--n]);
}

/* printf for the harness's formats: %s %d %ld %u %lu %c %% (no widths) */
int printf(const char *fmt, ...) {
    __builtin_va_list ap;
    __builtin_va_start(ap, fmt);
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            dt_sir_putc(*fmt);
            continue;
        }
        ++fmt;
        if (*fmt == 'l') ++fmt;
        switch (*fmt) {
        case 's': {
            const char *s = __builtin_va_arg(ap, const char *);
            while (*s) dt_sir_putc(*s++);
            break;
        }
        case 'd':
        case 'i': {
            long v = __builtin_va_arg(ap, long);
            dt_sir_put_unsigned(v < 0 ? 0ul - (unsigned long)v : (unsigned long)v, v < 0);
            break;
        }
        case 'u': dt_sir_put_unsigned(__builtin_va_arg(ap, unsigned long), 0); break;
        case 'c': dt_sir_putc((char)__builtin_va_arg(ap, int)); break;
        case '%': dt_sir_putc('%'); break;
        default: dt_sir_putc('?'); break;
        }
    }
    __builtin_va_end(ap);
    return 0;
}

/* ---- C library -------------------------------------------------------------------------------- */
void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if ((((uint32_t)d | (uint32_t)s) & 3u) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
    while (n--) d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *p = (const uint8_t *)a, *q = (const uint8_t *)b;
    for (; n; --n, ++p, ++q) {
        if (*p != *q) return *p < *q ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

/* The runtime's state lives in L1: from the cluster every L2 access costs about 20 cycles. */
#define DT_SIR_L1 __attribute__((section(".l1_bss")))

/* ---- counters --------------------------------------------------------------------------------- */
static uint32_t dt_sir_cyc_last DT_SIR_L1, dt_sir_cyc_high DT_SIR_L1;

uint64_t dt_sir_perf_read(void) { /* mcycle has no high half here: widen across wraps */
#if defined(DT_SIR_PERF_EVENT) /* diagnostics: a PULP performance counter instead (DT_SIR_PROFILE enables them) */
    uint32_t v;
    __asm__ volatile("csrr %0, %1" : "=r"(v) : "i"(0x780 + DT_SIR_PERF_EVENT));
#else
    const uint32_t v = dt_sir_cycles();
#endif
    if (v < dt_sir_cyc_last) dt_sir_cyc_high += 1;
    dt_sir_cyc_last = v;
    return ((uint64_t)dt_sir_cyc_high << 32) | v;
}

/* ---- cluster fork / join ------------------------------------------------------------------- */

typedef struct {
    dt_task_fn fn;
    const void *args;
    uint32_t gen; /* incremented by core 0 per fork (written last) */
} dt_sir_fork_t;

static volatile dt_sir_fork_t dt_sir_fork DT_SIR_L1;
static volatile uint32_t dt_sir_done[8] DT_SIR_L1; /* core c writes the generation it finished */

typedef union { /* the largest argument block a fork passes */
    dt_conv2d_args_t conv;
    dt_gemm_args_t gemm;
    dt_eltwise_args_t eltwise;
    dt_pool_args_t pool;
    dt_reduce_args_t reduce;
    dt_gather_args_t gather;
    dt_rowwise_args_t rowwise;
    dt_npu_task_t npu;
} dt_sir_args_t;
static dt_sir_args_t dt_sir_args[2] DT_SIR_L1; /* alternating: a fork never overwrites the running one */
static uint32_t dt_sir_args_next DT_SIR_L1;

static const void *dt_sir_stage_args(const void *args);

int32_t dt_core_id(void) { return (int32_t)(dt_sir_hartid() & 31u); }

void dt_cluster_fork(dt_task_fn fn, const void *args) {
    uint32_t gen, c;
    args = dt_sir_stage_args(args);
#if DT_NUM_CORES > 1
    gen = dt_sir_fork.gen + 1u;
    dt_sir_fork.fn = fn;
    dt_sir_fork.args = args;
    __asm__ volatile("" ::: "memory");
    dt_sir_fork.gen = gen;
    fn(args);
    for (c = 1; c < DT_NUM_CORES; ++c) {
        while (dt_sir_done[c] != gen) {
        }
    }
#else
    (void)gen;
    (void)c;
    fn(args);
#endif
}

#if defined(DT_SIR_PROFILE)
static uint32_t dt_sir_wprof[8][5] DT_SIR_L1; /* per worker: cycles, instructions, load stalls, imiss, contention */
#endif

static void dt_sir_worker(uint32_t core) {
    uint32_t seen = 0;
#if defined(DT_SIR_PROFILE)
    __asm__ volatile("csrw 0xCC0, %0" ::"r"(0x1FFFFu));
    __asm__ volatile("csrw 0xCC1, %0" ::"r"(1u));
#endif
    for (;;) {
        uint32_t gen;
        while ((gen = dt_sir_fork.gen) == seen) { /* poll gently: each read is a TCDM access */
            __asm__ volatile("nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop");
        }
        seen = gen;
        if (core < DT_NUM_CORES) dt_sir_fork.fn(dt_sir_fork.args);
#if defined(DT_SIR_PROFILE)
        __asm__ volatile("csrr %0, 0x780" : "=r"(dt_sir_wprof[core][0]));
        __asm__ volatile("csrr %0, 0x781" : "=r"(dt_sir_wprof[core][1]));
        __asm__ volatile("csrr %0, 0x782" : "=r"(dt_sir_wprof[core][2]));
        __asm__ volatile("csrr %0, 0x784" : "=r"(dt_sir_wprof[core][3]));
        __asm__ volatile("csrr %0, 0x790" : "=r"(dt_sir_wprof[core][4]));
#endif
        dt_sir_done[core] = seen;
    }
}

/* ---- DMA (mchan v7) ---------------------------------------------------------------------- */
static int8_t dt_sir_counter[DT_DMA_MAX_PENDING] DT_SIR_L1; /* handle -> mchan counter, -1: none */
static uint8_t dt_sir_busy[DT_DMA_MAX_PENDING] DT_SIR_L1;   /* handle started and not waited for */
static int32_t dt_sir_nlive DT_SIR_L1;                      /* mchan counters held */
static int32_t dt_sir_next_h DT_SIR_L1;                     /* where the search for a free handle starts */
static int32_t dt_dma_npending DT_SIR_L1;
static uint32_t dt_dma_count DT_SIR_L1, dt_dma_nbytes DT_SIR_L1;

static void dt_sir_cmd(uint32_t len, uint32_t ext2loc, uint32_t loc, uint32_t ext, uint32_t rows,
                       uint32_t row_len, int32_t stride) {
    if (rows > 1) {
        dt_sir_write(DT_SIR_MCHAN_CMD, len | ext2loc | DT_SIR_MCHAN_INC | DT_SIR_MCHAN_2D);
        dt_sir_write(DT_SIR_MCHAN_CMD, loc);
        dt_sir_write(DT_SIR_MCHAN_CMD, ext);
        dt_sir_write(DT_SIR_MCHAN_CMD, row_len);
        dt_sir_write(DT_SIR_MCHAN_CMD, (uint32_t)stride);
    } else {
        dt_sir_write(DT_SIR_MCHAN_CMD, len | ext2loc | DT_SIR_MCHAN_INC);
        dt_sir_write(DT_SIR_MCHAN_CMD, loc);
        dt_sir_write(DT_SIR_MCHAN_CMD, ext);
    }
}

/* rows of `row` bytes, n of them, L1 side contiguous, ext side `stride` apart */
static void dt_sir_rows(uint32_t ext2loc, uint32_t loc, uint32_t ext, uint32_t row, uint32_t n, int32_t stride) {
    if (stride == (int32_t)row) { /* one contiguous block, in chunks of the 17-bit length */
        uint32_t total = row * n;
        while (total) {
            const uint32_t len = total > 0x10000u ? 0x10000u : total;
            dt_sir_cmd(len, ext2loc, loc, ext, 1, 0, 0);
            loc += len;
            ext += len;
            total -= len;
        }
        return;
    }
    if (row > DT_SIR_MCHAN_MAX_LEN || stride <= 0) { /* not a 2-D job: row by row */
        uint32_t i;
        for (i = 0; i < n; ++i) dt_sir_rows(ext2loc, loc + i * row, ext + (uint32_t)((int32_t)i * stride), row, 1, (int32_t)row);
        return;
    }
    while (n) {
        uint32_t k = DT_SIR_MCHAN_MAX_LEN / row;
        if (k > n) k = n;
        dt_sir_cmd(k * row, ext2loc, loc, ext, k, row, stride);
        loc += k * row;
        ext += (uint32_t)((int32_t)k * stride);
        n -= k;
    }
}

static void dt_sir_retire(int32_t h) { /* wait for handle h's counter, free it */
    const int32_t c = dt_sir_counter[h];
    if (c < 0) return;
    while (dt_sir_read(DT_SIR_MCHAN_STATUS) & (1u << c)) {
    }
    dt_sir_write(DT_SIR_MCHAN_STATUS, 1u << c);
    dt_sir_counter[h] = -1;
    dt_sir_nlive -= 1;
}

static void dt_sir_need_counter(void) { /* all 16 held: complete one transfer early (results unchanged) */
    int32_t h;
    if (dt_sir_nlive < DT_SIR_MCHAN_COUNTERS) return;
    for (h = 0; h < DT_DMA_MAX_PENDING; ++h) {
        if (dt_sir_counter[h] >= 0) {
            dt_sir_retire(h);
            return;
        }
    }
}

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
}

dt_dma_handle_t dt_dma_start(const dt_dma_desc_t *d) {
    const uint32_t dst_l1 = dt_sir_is_l1(d->dst), src_l1 = dt_sir_is_l1(d->src);
    const uint32_t ext2loc = dst_l1 ? DT_SIR_MCHAN_EXT2LOC : 0u;
    const uint32_t loc0 = (uint32_t)(dst_l1 ? d->dst : d->src), ext0 = (uint32_t)(dst_l1 ? d->src : d->dst);
    const int32_t loc_s1 = dst_l1 ? d->dst_s1 : d->src_s1, ext_s1 = dst_l1 ? d->src_s1 : d->dst_s1;
    int32_t h = dt_sir_next_h, k;
    uint32_t c;
    dt_dma_count += 1;
    if (dst_l1 == src_l1) { /* L2 <-> L2 or L1 <-> L1: no mchan job; copy now */
        dt_dma_nbytes += d->row_bytes * d->n1 * d->n2 * d->n3;
        dt_dma_copy_now(d);
        return -1;
    }
    for (k = 0; k < DT_DMA_MAX_PENDING && dt_sir_busy[h]; ++k) h = h + 1 == DT_DMA_MAX_PENDING ? 0 : h + 1;
    if (k == DT_DMA_MAX_PENDING) { /* more handles in flight than the queue holds: copy now */
        dt_dma_nbytes += d->row_bytes * d->n1 * d->n2 * d->n3;
        dt_dma_copy_now(d);
        return -1;
    }
    dt_sir_next_h = h + 1 == DT_DMA_MAX_PENDING ? 0 : h + 1;
    dt_sir_need_counter();
    c = dt_sir_read(DT_SIR_MCHAN_CMD); /* allocates the counter for the commands that follow */
    if (d->n2 == 1 && d->n3 == 1) { /* 1-D or 2-D: the common case */
        dt_dma_nbytes += d->row_bytes * d->n1;
        if (d->n1 == 1 || loc_s1 == (int32_t)d->row_bytes) {
            dt_sir_rows(ext2loc, loc0, ext0, d->row_bytes, d->n1, d->n1 == 1 ? (int32_t)d->row_bytes : ext_s1);
        } else {
            uint32_t i1;
            for (i1 = 0; i1 < d->n1; ++i1)
                dt_sir_rows(ext2loc, loc0 + (uint32_t)((int32_t)i1 * loc_s1), ext0 + (uint32_t)((int32_t)i1 * ext_s1),
                            d->row_bytes, 1, (int32_t)d->row_bytes);
        }
    } else { /* 3-D / 4-D: one 2-D job (or rows) per plane, all under the same counter */
        const int32_t loc_s2 = dst_l1 ? d->dst_s2 : d->src_s2, ext_s2 = dst_l1 ? d->src_s2 : d->dst_s2;
        const int32_t loc_s3 = dst_l1 ? d->dst_s3 : d->src_s3, ext_s3 = dst_l1 ? d->src_s3 : d->dst_s3;
        uint32_t i3, i2, i1;
        dt_dma_nbytes += d->row_bytes * d->n1 * d->n2 * d->n3;
        for (i3 = 0; i3 < d->n3; ++i3) {
            for (i2 = 0; i2 < d->n2; ++i2) {
                const uint32_t loc = loc0 + (uint32_t)((int32_t)i3 * loc_s3 + (int32_t)i2 * loc_s2);
                const uint32_t ext = ext0 + (uint32_t)((int32_t)i3 * ext_s3 + (int32_t)i2 * ext_s2);
                if (d->n1 == 1 || loc_s1 == (int32_t)d->row_bytes) {
                    dt_sir_rows(ext2loc, loc, ext, d->row_bytes, d->n1, d->n1 == 1 ? (int32_t)d->row_bytes : ext_s1);
                } else { /* strided at the L1 side: row by row */
                    for (i1 = 0; i1 < d->n1; ++i1)
                        dt_sir_rows(ext2loc, loc + (uint32_t)((int32_t)i1 * loc_s1), ext + (uint32_t)((int32_t)i1 * ext_s1),
                                    d->row_bytes, 1, (int32_t)d->row_bytes);
                }
            }
        }
    }
    dt_sir_counter[h] = (int8_t)c;
    dt_sir_nlive += 1;
    dt_sir_busy[h] = 1;
    dt_dma_npending += 1;
    return h;
}

void dt_dma_wait(dt_dma_handle_t h) {
    if (h < 0 || h >= DT_DMA_MAX_PENDING || !dt_sir_busy[h]) return;
    dt_sir_retire(h);
    dt_sir_busy[h] = 0;
    dt_dma_npending -= 1;
}

/* synchronous L2 -> L1 copy by mchan (the runtime's own tables) */
static void dt_sir_fetch(void *l1, const void *l2, uint32_t bytes) {
    uint32_t c;
    dt_sir_need_counter();
    c = dt_sir_read(DT_SIR_MCHAN_CMD);
    dt_sir_write(DT_SIR_MCHAN_CMD, bytes | DT_SIR_MCHAN_EXT2LOC | DT_SIR_MCHAN_INC);
    dt_sir_write(DT_SIR_MCHAN_CMD, (uint32_t)l1);
    dt_sir_write(DT_SIR_MCHAN_CMD, (uint32_t)l2);
    while (dt_sir_read(DT_SIR_MCHAN_STATUS) & (1u << c)) {
    }
    dt_sir_write(DT_SIR_MCHAN_STATUS, 1u << c);
}

static uint32_t dt_sir_in_l2(const void *p, uint32_t bytes) {
    return (uint32_t)p - DT_SIR_L2_BASE <= DT_SIR_L2_SIZE - bytes;
}

static const void *dt_sir_stage_args(const void *args) {
    uint32_t slot;
    if (!args || !dt_sir_in_l2(args, sizeof(dt_sir_args_t))) return args;
    slot = dt_sir_args_next;
    dt_sir_args_next ^= 1u;
    dt_sir_fetch(&dt_sir_args[slot], args, sizeof(dt_sir_args_t));
    return &dt_sir_args[slot];
}

int32_t dt_dma_pending(void) { return dt_dma_npending; }
uint32_t dt_dma_transfers(void) { return dt_dma_count; }
uint32_t dt_dma_bytes(void) { return dt_dma_nbytes; }

/* ---- NPU: the functional model on the cluster (the register-interface driver is not written) --- */
static void dt_npu_default_model(const dt_npu_task_t *task) { dt_cluster_fork(task->kernel, task->kernel_args); }

static dt_npu_model_fn dt_npu_model = dt_npu_default_model;
static const dt_npu_task_t *dt_npu_inflight DT_SIR_L1;
static uint32_t dt_npu_count DT_SIR_L1;

void dt_npu_set_model(dt_npu_model_fn model) { dt_npu_model = model ? model : dt_npu_default_model; }

dt_npu_handle_t dt_npu_submit(const dt_npu_task_t *task) {
    dt_npu_inflight = task;
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

/* ---- schedule ---------------------------------------------------------------------------------
 * As dt_runtime.c, with the node's tables read through L1 windows filled by DMA (events 512 at a time,
 * transfer descriptors 32 at a time) and the transfer handles kept in L1. */
#define DT_SIR_EV_WIN 512
#define DT_SIR_XF_WIN 32
#define DT_SIR_REFS 2048
static dt_event_t dt_sir_ev[DT_SIR_EV_WIN] DT_SIR_L1;
static dt_dma_desc_t dt_sir_xf[DT_SIR_XF_WIN] DT_SIR_L1;
static int16_t dt_sir_ref_handle[DT_SIR_REFS] DT_SIR_L1;
static const dt_dma_desc_t *dt_sir_xf_src DT_SIR_L1; /* what dt_sir_xf holds: xfers + dt_sir_xf_base */
static uint32_t dt_sir_xf_base DT_SIR_L1;

static const dt_dma_desc_t *dt_sir_desc(const dt_dma_desc_t *xfers, uint32_t ref) {
    if (!dt_sir_in_l2(xfers + ref, DT_SIR_XF_WIN * sizeof(dt_dma_desc_t))) return &xfers[ref];
    if (xfers != dt_sir_xf_src || ref < dt_sir_xf_base || ref >= dt_sir_xf_base + DT_SIR_XF_WIN) {
        dt_sir_fetch(dt_sir_xf, xfers + ref, DT_SIR_XF_WIN * sizeof(dt_dma_desc_t));
        dt_sir_xf_src = xfers;
        dt_sir_xf_base = ref;
    }
    return &dt_sir_xf[ref - dt_sir_xf_base];
}

int32_t dt_run_node(const dt_node_sched_t *s) {
    uint32_t e, win = 0, nwin = 0;
    const dt_event_t *evs = s->events;
    dt_sir_xf_src = 0;
    for (e = 0; e < s->num_events; ++e) {
        dt_event_t ev;
        if (e == win + nwin) { /* next window of events */
            win = e;
            nwin = s->num_events - e < DT_SIR_EV_WIN ? s->num_events - e : DT_SIR_EV_WIN;
            if (dt_sir_in_l2(evs + e, nwin * sizeof(dt_event_t))) {
                dt_sir_fetch(dt_sir_ev, evs + e, (nwin * sizeof(dt_event_t) + 3u) & ~3u);
                evs = dt_sir_ev - e;
            } else {
                evs = s->events;
            }
        }
        ev = evs[e];
        if (ev.kind == DT_EV_DMA_START) {
            const dt_dma_handle_t h = dt_dma_start(dt_sir_desc(s->xfers, ev.ref));
            if (ev.ref < DT_SIR_REFS) dt_sir_ref_handle[ev.ref] = (int16_t)h;
            else s->handles[ev.ref] = h;
        } else if (ev.kind == DT_EV_DMA_WAIT) {
            dt_dma_wait(ev.ref < DT_SIR_REFS ? dt_sir_ref_handle[ev.ref] : s->handles[ev.ref]);
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

/* ---- boot ------------------------------------------------------------------------------------ */
extern uint8_t __bss_start[], __bss_end[], __l1_start[], __l1_end[];
extern int main(void);
extern void _start(void);

void dt_sir_fc_main(void) {
    uint32_t i;
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    memset(__l1_start, 0, (size_t)(__l1_end - __l1_start));
    for (i = 0; i < DT_DMA_MAX_PENDING; ++i) dt_sir_counter[i] = -1;
    dt_sir_write(DT_SIR_FC_ICACHE, 0xFFFFFFFFu);
    dt_sir_write(DT_SIR_CLUSTER_ICACHE, 0xFFFFFFFFu);
    for (i = 0; i < 8; ++i) dt_sir_write(DT_SIR_CLUSTER_BOOT_ADDR(i), (uint32_t)_start);
    dt_sir_write(DT_SIR_CLUSTER_FETCH_EN, 0xFFu);
    for (;;) __asm__ volatile("wfi"); /* cluster core 0 ends the run through the exit register */
}

#if defined(DT_SIR_PROFILE) /* diagnostics: core 0's PULP performance counters over the whole run */
#define DT_SIR_CSRW(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"(v))
#define DT_SIR_CSRR(csr, v) __asm__ volatile("csrr %0, " #csr : "=r"(v))
static void dt_sir_profile_start(void) {
    DT_SIR_CSRW(0xCC0, 0x1FFFFu); /* events 0..16 */
    DT_SIR_CSRW(0xCC1, 1u);
}
static void dt_sir_profile_print(void) {
    uint32_t v[17];
    int32_t i;
    DT_SIR_CSRR(0x780, v[0]); DT_SIR_CSRR(0x781, v[1]); DT_SIR_CSRR(0x782, v[2]); DT_SIR_CSRR(0x783, v[3]);
    DT_SIR_CSRR(0x784, v[4]); DT_SIR_CSRR(0x785, v[5]); DT_SIR_CSRR(0x786, v[6]); DT_SIR_CSRR(0x787, v[7]);
    DT_SIR_CSRR(0x788, v[8]); DT_SIR_CSRR(0x789, v[9]); DT_SIR_CSRR(0x78A, v[10]); DT_SIR_CSRR(0x78B, v[11]);
    DT_SIR_CSRR(0x78C, v[12]); DT_SIR_CSRR(0x78D, v[13]); DT_SIR_CSRR(0x78E, v[14]); DT_SIR_CSRR(0x78F, v[15]);
    DT_SIR_CSRR(0x790, v[16]);
    for (i = 0; i < 17; ++i) printf("DT_PCCR %ld %lu\n", (long)i, (unsigned long)v[i]);
    for (i = 1; i < 8; ++i)
        printf("DT_WORKER %ld cycles %lu instr %lu ldstall %lu imiss %lu tcdm %lu\n", (long)i,
               (unsigned long)dt_sir_wprof[i][0], (unsigned long)dt_sir_wprof[i][1], (unsigned long)dt_sir_wprof[i][2],
               (unsigned long)dt_sir_wprof[i][3], (unsigned long)dt_sir_wprof[i][4]);
}
#endif

void dt_sir_cluster_main(uint32_t core) {
    if (core == 0) {
        int32_t rc;
#if defined(DT_SIR_PROFILE)
        dt_sir_profile_start();
        rc = main();
        dt_sir_profile_print();
#else
        rc = main();
#endif
        dt_sir_exit(rc);
    }
    dt_sir_worker(core);
}

/* ---- L3 DMA (dt_l3.h): a functional copy at wait, as in dt_runtime.c (no L3 on the GVSoC runs yet) ---- */
static void dt_l3_copy_now(const dt_dma_desc_t *d) { dt_dma_copy_now(d); }

#include "dt_l3_queue.h"

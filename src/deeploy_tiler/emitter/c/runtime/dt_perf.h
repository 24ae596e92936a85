/* Retired-instruction counter: `minstret` on RV32 (exact and deterministic under QEMU with
 * -icount shift=0), a stub returning 0 elsewhere (host builds check results, not counts). */
#ifndef DT_PERF_H
#define DT_PERF_H

#include <stdint.h>

#if defined(DT_TARGET_SIRACUSA) /* cycles of the calling core (GVSoC has no minstret) */
#include "siracusa/dt_siracusa.h"
static inline uint64_t dt_perf_read(void) { return dt_sir_perf_read(); }
#define DT_PERF_AVAILABLE 1
#elif defined(__riscv) && (__riscv_xlen == 32)
static inline uint64_t dt_perf_read(void) {
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}
#define DT_PERF_AVAILABLE 1
#elif defined(__riscv)
static inline uint64_t dt_perf_read(void) {
    uint64_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}
#define DT_PERF_AVAILABLE 1
#else
static inline uint64_t dt_perf_read(void) { return 0; }
#define DT_PERF_AVAILABLE 0
#endif

#endif /* DT_PERF_H */

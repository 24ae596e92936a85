/* Siracusa bare metal as modeled by GVSoC: addresses and registers the runtime uses (no PULP SDK).
 *
 * Harts: mhartid = cluster << 5 | core; the fabric controller (FC) is cluster 31. The FC boots, clears
 * memory, enables the instruction caches and starts the 8 cluster cores; cluster core 0 runs main()
 * (the network, issuing DMA and forking kernels), cores 1..7 wait in dt_cluster_worker() for forks.
 * The cluster has no atomics (no A extension): fork / join use per-core flags in L1. */
#ifndef DT_SIRACUSA_H
#define DT_SIRACUSA_H

#include <stdint.h>

#define DT_SIR_L1_BASE 0x10000000u
#define DT_SIR_L1_SIZE 0x00040000u            /* 256 KiB TCDM */
#define DT_SIR_L2_BASE 0x1C000000u
#define DT_SIR_L2_SIZE 0x00200000u            /* 2 MiB */
#define DT_SIR_FC_CLUSTER 31u

#define DT_SIR_CLUSTER_BOOT_ADDR(i) (0x10200040u + 4u * (i)) /* core i's boot address */
#define DT_SIR_CLUSTER_FETCH_EN 0x10200008u                 /* fetch-enable mask */
#define DT_SIR_CLUSTER_ICACHE 0x10201400u
#define DT_SIR_FC_ICACHE 0x1A108800u
#define DT_SIR_STDOUT(cluster, core) (0x1A10F000u + ((cluster) << 7) + ((core) << 3))
#define DT_SIR_EXIT 0x1A1040A0u                             /* 0x80000000 | status ends the run */
#define DT_SIR_MCHAN 0x10204400u                            /* cluster DMA, seen from a cluster core */

/* mchan v7: reading CMD allocates a transfer counter (id 0..15); then CMD takes the command words
 * (len | ext2loc << 17 | incr << 18 | 2-D << 19, the L1 address, the external address, and for 2-D the
 * row length and the external stride). STATUS bit id is set while bytes counted by `id` are pending;
 * writing 1 << id to STATUS frees the counter. The L1 side of a command is always contiguous. */
#define DT_SIR_MCHAN_CMD (DT_SIR_MCHAN + 0u)
#define DT_SIR_MCHAN_STATUS (DT_SIR_MCHAN + 4u)
#define DT_SIR_MCHAN_COUNTERS 16
#define DT_SIR_MCHAN_MAX_LEN 0x1FFFFu                      /* 17-bit length field */
#define DT_SIR_MCHAN_EXT2LOC (1u << 17)
#define DT_SIR_MCHAN_INC (1u << 18)
#define DT_SIR_MCHAN_2D (1u << 19)

static inline void dt_sir_write(uint32_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint32_t dt_sir_read(uint32_t addr) { return *(volatile uint32_t *)addr; }

static inline uint32_t dt_sir_hartid(void) {
    uint32_t v;
    __asm__ volatile("csrr %0, mhartid" : "=r"(v));
    return v;
}

static inline uint32_t dt_sir_is_l1(const void *p) {
    return (uint32_t)p - DT_SIR_L1_BASE < DT_SIR_L1_SIZE;
}

/* cycles of the calling core (mcycle, 32 bits; widened in software by dt_perf_read) */
static inline uint32_t dt_sir_cycles(void) {
    uint32_t v;
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
    return v;
}

void dt_sir_putc(char c);
void dt_sir_exit(int32_t status) __attribute__((noreturn));
uint64_t dt_sir_perf_read(void);

#endif /* DT_SIRACUSA_H */

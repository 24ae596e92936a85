/* XpulpV2 SIMD helpers for the siracusa kernels. Debian's gcc knows no Xpulp, so the instructions are
 * encoded with binutils' .insn: pv.sdotsp.b rd, rs1, rs2 (opcode 0x57, funct3 1, funct7 0x5C) accumulates
 * the dot product of the four int8 lanes of rs1 and rs2 into rd; pv.sdotusp.b (funct7 0x54) the same
 * with rs1's lanes unsigned (uint8 activations against int8 weights). Word loads may be
 * misaligned (the cores split them). Built for the host (kernel tests), the same helpers are plain C. */
#ifndef DT_SIMD_H
#define DT_SIMD_H

#include <stdint.h>

typedef uint32_t dt_w32 __attribute__((may_alias));

static inline uint32_t dt_ld4(const void *p) { return *(const dt_w32 *)p; }

#if defined(DT_TARGET_SIRACUSA)
static inline int32_t dt_sdot4(int32_t acc, uint32_t a, uint32_t b) {
    __asm__(".insn r 0x57, 1, 0x5C, %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
}
static inline int32_t dt_sdotus4(int32_t acc, uint32_t a, uint32_t b) {
    __asm__(".insn r 0x57, 1, 0x54, %0, %1, %2" : "+r"(acc) : "r"(a), "r"(b));
    return acc;
}
#else
static inline int32_t dt_sdot4(int32_t acc, uint32_t a, uint32_t b) {
    int32_t k;
    for (k = 0; k < 4; ++k) acc += (int32_t)(int8_t)(a >> (8 * k)) * (int32_t)(int8_t)(b >> (8 * k));
    return acc;
}
static inline int32_t dt_sdotus4(int32_t acc, uint32_t a, uint32_t b) {
    int32_t k;
    for (k = 0; k < 4; ++k) acc += (int32_t)(uint8_t)(a >> (8 * k)) * (int32_t)(int8_t)(b >> (8 * k));
    return acc;
}
#endif

/* sum_k x[k] * w[k] over n int8 pairs, 4 at a time */
static inline int32_t dt_dot_i8(int32_t acc, const int8_t *x, const int8_t *w, int32_t n) {
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) acc = dt_sdot4(acc, dt_ld4(x + k), dt_ld4(w + k));
    for (; k < n; ++k) acc += (int32_t)x[k] * (int32_t)w[k];
    return acc;
}

static inline int32_t dt_dot_u8i8(int32_t acc, const uint8_t *x, const int8_t *w, int32_t n) {
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) acc = dt_sdotus4(acc, dt_ld4(x + k), dt_ld4(w + k));
    for (; k < n; ++k) acc += (int32_t)x[k] * (int32_t)w[k];
    return acc;
}

#endif /* DT_SIMD_H */

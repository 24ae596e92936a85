/* Static arenas, one per memory level, sized exactly from the plan by the generated network.c.
 *
 * The generated code declares, for each level LV the plan uses:
 *     DT_ARENA(L1, 12345);           -> uint8_t dt_arena_L1[12345] in section .bss.dt_L1
 * and places constants with DT_CONST_SECTION(L2) (section .rodata.dt_L2). The section names match
 * the default `.bss.*` / `.rodata.*` input patterns of GNU ld scripts (host, picolibc), so the
 * functional builds need no linker script; a chip's script maps .bss.dt_L1 to the TCDM and so on.
 * build.py measures the sizes of the `dt_arena_*` symbols in the ELF against the plan's budgets.
 */
#ifndef DT_ARENA_H
#define DT_ARENA_H

#include <stdint.h>

#ifndef DT_ARENA_ALIGN
#define DT_ARENA_ALIGN 16
#endif
#ifndef DT_CONST_ALIGN
#define DT_CONST_ALIGN 4 /* the levels' buffer alignment in the bundled specs; measured sizes round to it */
#endif

#if defined(__GNUC__) && defined(__ELF__)
#define DT_SECTION(name) __attribute__((section(name)))
#else
#define DT_SECTION(name)
#endif
#if defined(__GNUC__)
#define DT_ALIGNED(n) __attribute__((aligned(n)))
#else
#define DT_ALIGNED(n)
#endif

#define DT_STR_(x) #x
#define DT_STR(x) DT_STR_(x)

/* Arrays of size 0 are not C99: an unused level gets no arena at all (the emitter omits it). */
#define DT_ARENA(level, bytes) \
    uint8_t dt_arena_##level[(bytes)] DT_SECTION(".bss.dt_" #level) DT_ALIGNED(DT_ARENA_ALIGN)
#define DT_ARENA_DECL(level, bytes) extern uint8_t dt_arena_##level[(bytes)]
#define DT_CONST_SECTION(level) DT_SECTION(".rodata.dt_" #level) DT_ALIGNED(DT_CONST_ALIGN)
/* the same with the level's own alignment (generated code uses this one) */
#define DT_CONST_IN(level, align) DT_SECTION(".rodata.dt_" #level) DT_ALIGNED(align)

#endif /* DT_ARENA_H */

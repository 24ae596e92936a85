/* Boot code of the siracusa target (GVSoC; no PULP runtime). One entry for every hart:
 *   FC (mhartid >> 5 == 31): stack at the top of L2, then dt_sir_fc_main() (clears .bss and the L1
 *     sections, enables the caches, starts the cluster, then sleeps).
 *   cluster core c: stack in L1 (core 0: DT_SIR_STACK0 bytes at the top of L1, core c > 0 DT_SIR_STACKW
 *     bytes below it), then dt_sir_cluster_main(c): core 0 runs main(), the others wait for forks.
 * Stack sizes come from the linker script (the spec reserves 8,000 + 8 x 3,800 B of L1 for them). */
    .section .text.start, "ax"
    .global _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    csrr a0, mhartid
    srli t0, a0, 5
    li t1, 31
    beq t0, t1, 1f
    andi a0, a0, 31                 /* cluster core id */
    la sp, __l1_stack_top           /* core 0: top of L1 */
    beqz a0, 2f
    la t0, __l1_stack0_size
    sub sp, sp, t0
    addi t1, a0, -1
    la t2, __l1_stackw_size
    mul t1, t1, t2
    sub sp, sp, t1
2:
    andi sp, sp, -16
    call dt_sir_cluster_main
3:  wfi
    j 3b
1:
    la sp, __fc_stack_top
    andi sp, sp, -16
    call dt_sir_fc_main
4:  wfi
    j 4b

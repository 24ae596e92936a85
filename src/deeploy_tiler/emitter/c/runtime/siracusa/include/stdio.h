/* The C library subset the siracusa build links (implemented in dt_siracusa.c; output through the
 * SoC's stdout peripheral). Freestanding builds find this header before any system one. */
#ifndef DT_SIR_STDIO_H
#define DT_SIR_STDIO_H
int printf(const char *fmt, ...);
int putchar(int c);
int puts(const char *s);
#endif

/*
 * Whether a program file loads libcr when it runs: a statically linked ELF
 * program has no dynamic loader (nothing reads LD_PRELOAD), so only one
 * linked with libcr.a (its marker, src/crs/libcr/runtime.c) does. Used by
 * cr_run (refuse a static program it could never checkpoint) and by libcr's
 * exec functions (pass the System V notes only to a program whose libcr
 * takes them). No allocation, small stack, async-signal-safe: libcr's exec
 * functions may run in a forked child of a threaded program.
 */
#ifndef REVIVE_COMMON_STATIC_EXE_H
#define REVIVE_COMMON_STATIC_EXE_H

/* 1: fd (open for reading, at any offset; pread only) is a statically
 * linked 64-bit ELF program (no PT_INTERP). name (the file's path or
 * basename, may be NULL) exempts the dynamic loader itself, which has no
 * PT_INTERP either but loads what it is given, preloads included. 0
 * otherwise, or when the file cannot be read. */
int revive_exe_is_static(int fd, const char *name);

/* 1: the file holds libcr.a's marker (a static program linked with it). */
int revive_exe_has_static_libcr(int fd);

#endif

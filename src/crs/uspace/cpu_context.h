/*
 * Saving and resuming a thread's call-preserved CPU state (x86_64), in the
 * spirit of setjmp/longjmp but usable across a restart: the context is plain
 * data in the image, and crs_ctx_resume needs no libc.
 */
#ifndef REVIVE_CRS_CPU_CONTEXT_H
#define REVIVE_CRS_CPU_CONTEXT_H

#include <stddef.h>
#include "crs/base/image_format.h"

/* Returns 0 when the context was saved; returns the nonzero `value` given to
 * crs_ctx_resume when execution comes back here (after a restart). */
long crs_ctx_save(struct crs_cpu_ctx *ctx) __attribute__((returns_twice));

/* Jumps into a saved context, making its crs_ctx_save return `value`. */
void crs_ctx_resume(const struct crs_cpu_ctx *ctx, long value) __attribute__((noreturn));

/* Sets the TLS base to `fsbase`, then resumes `ctx` (the last step of a restore). */
void crs_ctx_resume_tls(const struct crs_cpu_ctx *ctx, long value, unsigned long fsbase)
    __attribute__((noreturn));

/* clone3(args, size) whose child resumes `ctx` with `value` at once, touching no
 * stack. Returns the child's tid in the caller, or -errno. */
long crs_clone3_resume(void *clone_args, size_t size, const struct crs_cpu_ctx *ctx, long value);

/* Calls fn(arg) on the stack whose top is `stack_top`; fn must not return. */
void crs_call_on_stack(void (*fn)(void *), void *arg, void *stack_top) __attribute__((noreturn));

#endif

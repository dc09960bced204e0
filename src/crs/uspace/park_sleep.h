/*
 * A wait the park signal interrupted goes on as if nothing happened (the
 * signal is Revive's, not the application's): used only by the park handler
 * (park.c). Two parts, because the thread may be restarted from an image in
 * between: crs_sleep_note reads what the interrupted call asked for before the
 * thread parks; crs_sleep_resume finishes the call after the park, in this
 * process or in the restarted one.
 */
#ifndef REVIVE_CRS_PARK_SLEEP_H
#define REVIVE_CRS_PARK_SLEEP_H

#include <time.h>
#include <ucontext.h>

/* What the interrupted call was, as far as it matters for resuming it. */
struct crs_sleep_call {
    int interrupted;      /* 1: the handler came in on a system call's EINTR */
    int restartable;      /* 0: a call known to return EINTR with no restart block */
    int sleep;            /* 1: nanosleep/clock_nanosleep, decoded below */
    int absolute;         /* TIMER_ABSTIME: `when` is a time on `clock` */
    int clock;
    struct timespec when; /* absolute: the deadline; relative: CLOCK_MONOTONIC deadline */
    struct timespec *rem; /* the caller's rem of a relative sleep (may be NULL) */
};

/* In the park handler, before parking: notes the call `uc` was interrupted in
 * and when this thread parks. Async-signal-safe. */
void crs_sleep_note(const ucontext_t *uc, struct crs_sleep_call *c);

/* In the park handler, after the release: finishes the interrupted call of
 * `uc` (its result replaces the EINTR) under the thread's own signal mask.
 * `restarted`: the thread comes back from an image. */
void crs_sleep_resume(ucontext_t *uc, const struct crs_sleep_call *c, int restarted);

#endif

/* Waiting without spinning (REVIVE_MPI_YIELD_WHEN_IDLE=1): what a wait loop of the layer does
 * with a turn that found nothing done, and a blocking collective completed by such a wait.
 * With more ranks than cores, a rank that polls flat out keeps the core from the rank it waits
 * for: measured here, 8 MPICH ranks on 2 cores doing Allreduce and a ring exchange, 300 rounds:
 * 20-21 s polling, 4-5 s with a sched_yield per idle turn, 1.6 s when idle turns sleep.
 * The waits inside the library (win.c's locks and epochs) take their turns through UCX's
 * progress calls (lib_progress; at MPI_THREAD_MULTIPLE they only yield). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/halves.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pml_idle_on;

/* The first idle turns only yield (a message due within microseconds costs no sleep); then
 * each turn sleeps, from 16 us doubling every 16 turns up to 1 ms (a wait of seconds wakes
 * 1000 times a second; about 20 ms of waiting reaches the longest sleep). */
#define IDLE_YIELDS 32u
#define IDLE_STEP 16u
#define IDLE_MIN_US 16L
#define IDLE_MAX_US 1000L

static void lib_progress(unsigned events);

/* Called at load and again by a restarted rank (its job's environment): the library's progress
 * turns are told to lib_progress only while the setting is on, so that off they cost no call. */
void pml_idle_configure(const char *value, const char *where)
{
    if (!value || !*value || !strcmp(value, "0")) {
        pml_idle_on = 0;
    } else if (!strcmp(value, "1")) {
        pml_idle_on = 1;
    } else {
        pml_fatal("REVIVE_MPI_YIELD_WHEN_IDLE=%s (%s): expected 0 or 1", value, where);
    }
    pml_halves_progress_with(pml_idle_on ? lib_progress : NULL);
}

__attribute__((constructor)) static void idle_load(void)
{
    pml_idle_configure(getenv("REVIVE_MPI_YIELD_WHEN_IDLE"), "the environment");
}

void pml_idle_slow(struct pml_slot *t)
{
    pml_idle_turn(&t->idle);
}

void pml_idle_turn(uint32_t *turns)
{
    uint32_t n = *turns;
    if (n < UINT32_MAX)
        *turns = n + 1;
    if (n < IDLE_YIELDS) {
        sched_yield();
        return;
    }
    uint32_t k = (n - IDLE_YIELDS) / IDLE_STEP;
    long us = k >= 7 ? IDLE_MAX_US : IDLE_MIN_US << k;
    if (us > IDLE_MAX_US)
        us = IDLE_MAX_US;
    struct timespec d = { 0, us * 1000 };
    nanosleep(&d, NULL); /* a signal may end it early: the next turn polls */
}

void pml_idle_test_slow(void)
{
    sched_yield();
}

/* One of the library's UCX progress turns (lower_root.c), events found or not. At
 * MPI_THREAD_MULTIPLE the turn runs inside MPICH's progress, which then holds its global (or a
 * VCI's) critical section: a sleep there would hold every other thread of the rank that calls
 * MPI, the layer's agent draining for a snapshot among them, for up to 1 ms a turn, so such a
 * turn only yields (diffrev22 L2; docs/mpi.md). The layer's own waits run outside the library
 * and sleep at every level. */
static void lib_progress(unsigned events)
{
    struct pml_slot *t = pml_self;
    if (!t || !t->lib_wait)
        return; /* a thread of the library's own, or a call that waits in the layer (or not at all) */
    if (events)
        t->lib_idle = 0;
    else if (pml_threaded)
        sched_yield();
    else
        pml_idle_turn(&t->lib_idle);
}

int pml_idle_complete(MPI_Request *q, struct pml_slot *t)
{
    pml_idle_start(t);
    for (;;) {
        int flag = 0;
        int rc = pml_L.MPI_Test(q, &flag, MPI_STATUS_IGNORE);
        if (flag || rc != MPI_SUCCESS)
            return rc;
        pml_idle_slow(t);
    }
}

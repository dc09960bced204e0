/* What the MPI-4 request programs rst_mpi4.c and rst_mpi4b.c (rst_mpi4.sh) share: their command
 * line STEPS CKPT_STEP CKPT_STEP2, the snapshot a step takes with MPIX_Checkpoint (at CKPT_STEP,
 * and at CKPT_STEP2 in a job restarted from a snapshot, so that the test can restart twice), and
 * how a step's buffers become one number on rank 0. Include after tests/mpi/mpitest.h (me, np,
 * CHECK, start). */
#ifndef REVIVE_TESTS_RST_MPI4_H
#define REVIVE_TESTS_RST_MPI4_H

#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "mpix_ckpt.h"

struct mpi4_run {
    int steps, ck1, ck2;
    int revive;    /* running under Revive (natively MPIX_Checkpoint fails and changes nothing) */
    int restarted; /* how many times this job came back from a snapshot */
};

/* MPI_Init (mpitest.h's start), stdout line-buffered, the command line read; without it
 * "usage: NAME STEPS CKPT_STEP CKPT_STEP2" and status 2. */
static inline struct mpi4_run mpi4_start(int *argc, char ***argv, const char *name)
{
    start(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (*argc < 4) {
        fprintf(stderr, "usage: %s STEPS CKPT_STEP CKPT_STEP2\n", name);
        exit(2);
    }
    struct mpi4_run r = { atoi((*argv)[1]), atoi((*argv)[2]), atoi((*argv)[3]), 0, 0 };
    r.revive = dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint") != NULL;
    return r;
}

/* At step S, when it is a checkpoint step of R: MPIX_Checkpoint. Under Revive a failure ends the
 * rank with status 3, and a restarted rank says so on stderr ("rank R restarted at step S", what
 * rst_mpi4.sh waits for). */
static inline void mpi4_ckpt_step(struct mpi4_run *r, int s)
{
    if (s != r->ck1 && !(r->restarted && s == r->ck2))
        return;
    int flag = -1, rc = MPIX_Checkpoint(&flag);
    if (r->revive && rc != MPI_SUCCESS) {
        fprintf(stderr, "rank %d: MPIX_Checkpoint returned %d at step %d\n", me, rc, s);
        exit(3);
    }
    if (r->revive && flag == MPIX_CKPT_RESTARTED) {
        r->restarted++;
        fprintf(stderr, "rank %d restarted at step %d\n", me, s);
    }
}

/* X summed over the ranks, on rank 0 (elsewhere 0). */
static inline long mpi4_sum(long x)
{
    long t = 0;
    CHECK(MPI_Reduce(&x, &t, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    return t;
}

/* N longs as one number, order counting. */
static inline long mpi4_digest(const long *p, int n)
{
    long h = 0;
    for (int i = 0; i < n; i++)
        h = h * 31 + p[i];
    return h;
}

#endif

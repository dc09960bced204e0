/* The exchanges among the ranks of an epoch once the gate is closed: the drain's message counts,
 * the barrier that ends the drain and the one after the files and windows are settled. They are
 * made of point-to-point messages on the layer's private communicator, tagged with the epoch and
 * the phase, so that a rank leaves them at once when the coordinator aborts the epoch (another
 * rank failed and will not come): a collective cannot be abandoned (a rank that left one
 * halfway would mismatch every later one on the communicator), while a tagged message left
 * behind matches nothing of a later epoch and is thrown away by the next exchange. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapc/agent.h"

/* Tags stay below 32767, the least upper bound MPI allows (MPI_TAG_UB). */
#define XCHG_TAG_BASE 1000
#define XCHG_EPOCHS 4096
#define XCHG_PURGE 64   /* epochs looked back for messages left behind */

static uint32_t last_epoch; /* the epoch of this rank's last exchange */

static int tag_of(uint32_t epoch, int phase)
{
    return XCHG_TAG_BASE + (int)(epoch % XCHG_EPOCHS) * PML_XCHG_PHASES + phase;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Throws away what other ranks sent in exchanges of earlier epochs that this rank left or never
 * entered (aborted epochs). */
static void purge(MPI_Comm pw, MPI_Datatype u64, uint32_t epoch)
{
    uint32_t from = last_epoch + 1;
    if (epoch - from > XCHG_PURGE || from > epoch)
        from = epoch > XCHG_PURGE ? epoch - XCHG_PURGE : 1;
    for (uint32_t e = from; e < epoch; e++)
        for (int ph = 0; ph < PML_XCHG_PHASES; ph++)
            for (;;) {
                int flag = 0;
                MPI_Status s;
                uint64_t junk;
                if (pml_L.MPI_Iprobe(MPI_ANY_SOURCE, tag_of(e, ph), pw, &flag, &s) != MPI_SUCCESS ||
                    !flag)
                    break;
                pml_L.MPI_Recv(&junk, 1, u64, s.MPI_SOURCE, s.MPI_TAG, pw, MPI_STATUS_IGNORE);
            }
}

/* The lower half's MPI_REQUEST_NULL (the upper half's handle is another value). */
static MPI_Request lower_null(void)
{
    return (MPI_Request)pml_v2r(PML_H(MPI_REQUEST_NULL));
}

/* Leaves the exchange: receives cancelled (nothing of theirs may arrive into this frame),
 * sends left to complete on their own. */
static void leave(MPI_Request *rq, int n)
{
    for (int i = 0; i < n; i++) {
        if (rq[i] == lower_null())
            continue;
        if (i % 2 == 0) {
            pml_L.MPI_Cancel(&rq[i]);
            pml_L.MPI_Wait(&rq[i], MPI_STATUS_IGNORE);
        } else {
            pml_L.MPI_Request_free(&rq[i]);
        }
    }
}

int pml_xchg(int phase, const uint64_t *out, uint64_t *in, double deadline, const char *what,
             char *err, size_t errlen)
{
    MPI_Comm pw = (MPI_Comm)pml_private_world;
    MPI_Datatype u64 = (MPI_Datatype)pml_v2r(PML_H(MPI_UINT64_T));
    int n = pml_world_size, me = pml_world_rank, rc = MPI_SUCCESS;
    uint32_t epoch = pml_agent_running ? snapc_agent_epoch() : 0;
    if (epoch != last_epoch)
        purge(pw, u64, epoch);
    last_epoch = epoch;
    int tag = tag_of(epoch, phase);
    uint64_t *zero = calloc(2 * (size_t)n, sizeof *zero);
    MPI_Request *rq = malloc(2 * (size_t)n * sizeof *rq);
    if (!zero || !rq) {
        free(zero);
        free(rq);
        snprintf(err, errlen, "%s: out of memory", what);
        return -ENOMEM;
    }
    const uint64_t *o = out ? out : zero;
    uint64_t *got = in ? in : zero + n;
    for (int j = 0; j < n; j++) {
        rq[2 * j] = rq[2 * j + 1] = lower_null();
        if (j == me) {
            got[j] = o[j];
            continue;
        }
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Irecv(&got[j], 1, u64, j, tag, pw, &rq[2 * j]);
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Isend(&o[j], 1, u64, j, tag, pw, &rq[2 * j + 1]);
    }
    int e = 0;
    for (int done = 0; rc == MPI_SUCCESS && !done;) {
        done = 1;
        for (int i = 0; i < 2 * n && rc == MPI_SUCCESS; i++) {
            int one = 1;
            if (rq[i] != lower_null())
                rc = pml_L.MPI_Test(&rq[i], &one, MPI_STATUS_IGNORE);
            done &= one;
        }
        if (done || rc != MPI_SUCCESS)
            break;
        if (pml_agent_running && snapc_agent_poll_abort()) {
            snprintf(err, errlen, "%s: the epoch was aborted", what);
            e = -ECANCELED;
        } else if (now_s() > deadline) {
            snprintf(err, errlen, "%s: not every rank answered within 60 s", what);
            e = -ETIMEDOUT;
        }
        if (e)
            break;
    }
    if (!e && rc != MPI_SUCCESS) {
        snprintf(err, errlen, "%s failed (MPI error %d)", what, rc);
        e = -EIO;
    }
    if (e)
        leave(rq, 2 * n);   /* zero stays allocated: a send left behind may still read it */
    else
        free(zero);
    free(rq);
    return e;
}

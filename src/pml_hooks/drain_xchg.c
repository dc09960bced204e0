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

#include "common/clock.h"
#include "snapc/agent.h"

/* Tags stay below 32767, the least upper bound MPI allows (MPI_TAG_UB). */
#define XCHG_TAG_BASE 1000
#define XCHG_EPOCHS 3000 /* 1000 + 3000 * PML_XCHG_PHASES stays below 32000 (owed.c's tag) */
#define XCHG_PURGE 64   /* epochs looked back for messages left behind */
/* a phase added later must not make the exchanges' tags reach the notices' (diffrev51 R-L9) */
_Static_assert(XCHG_TAG_BASE + XCHG_EPOCHS * PML_XCHG_PHASES <= PML_OWED_TAG,
               "the exchanges' tags reach owed.c's notice tag: fewer XCHG_EPOCHS");
_Static_assert(PML_OWED_TAG <= 32767, "owed.c's notice tag is above MPI_TAG_UB's least bound");

static uint32_t last_epoch; /* the epoch of this rank's last exchange */

static int tag_of(uint32_t epoch, int phase)
{
    return XCHG_TAG_BASE + (int)(epoch % XCHG_EPOCHS) * PML_XCHG_PHASES + phase;
}

/* Throws away what other ranks sent in exchanges of earlier epochs that this rank left or never
 * entered (aborted epochs); a message of pml_xchgv may hold many numbers. */
static void purge(MPI_Comm pw, MPI_Datatype u64, uint32_t epoch)
{
    uint32_t from = last_epoch + 1;
    if (epoch - from > XCHG_PURGE || from > epoch)
        from = epoch > XCHG_PURGE ? epoch - XCHG_PURGE : 1;
    for (uint32_t e = from; e < epoch; e++)
        for (int ph = 0; ph < PML_XCHG_PHASES; ph++)
            for (;;) {
                int flag = 0, count = 0;
                MPI_Status s;
                if (pml_L.MPI_Iprobe(MPI_ANY_SOURCE, tag_of(e, ph), pw, &flag, &s) != MPI_SUCCESS ||
                    !flag)
                    break;
                if (pml_L.MPI_Get_count(&s, u64, &count) != MPI_SUCCESS || count < 1)
                    count = 1;
                uint64_t *junk = malloc((size_t)count * sizeof *junk);
                if (!junk)
                    return; /* left for the next exchange's purge */
                pml_L.MPI_Recv(junk, count, u64, s.MPI_SOURCE, s.MPI_TAG, pw, MPI_STATUS_IGNORE);
                free(junk);
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

/* This rank sends scount[j] numbers from sbuf[j] to rank j and gets rcount[j] from rank j into
 * rbuf[j] (its own part copied), on the tag of the epoch and phase. See pml_xchg. */
static int exchange(int phase, uint64_t *const *sbuf, const int *scount, uint64_t *const *rbuf,
                    const int *rcount, double deadline, const char *what, char *err, size_t errlen)
{
    MPI_Comm pw = (MPI_Comm)pml_private_world;
    MPI_Datatype u64 = (MPI_Datatype)pml_v2r(PML_H(MPI_UINT64_T));
    int n = pml_world_size, me = pml_world_rank, rc = MPI_SUCCESS;
    uint32_t epoch = pml_agent_running ? snapc_agent_epoch() : 0;
    if (epoch != last_epoch)
        purge(pw, u64, epoch);
    last_epoch = epoch;
    int tag = tag_of(epoch, phase);
    MPI_Request *rq = malloc(2 * (size_t)n * sizeof *rq);
    if (!rq) {
        snprintf(err, errlen, "%s: out of memory", what);
        return -ENOMEM;
    }
    for (int j = 0; j < n; j++) {
        rq[2 * j] = rq[2 * j + 1] = lower_null();
        if (j == me) {
            if (rcount[j])
                memcpy(rbuf[j], sbuf[j], (size_t)rcount[j] * sizeof **sbuf);
            continue;
        }
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Irecv(rbuf[j], rcount[j], u64, j, tag, pw, &rq[2 * j]);
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Isend(sbuf[j], scount[j], u64, j, tag, pw, &rq[2 * j + 1]);
    }
    int e = 0;
    uint32_t idle = 0; /* turns that completed nothing: with REVIVE_MPI_YIELD_WHEN_IDLE, not spun */
    for (int done = 0, before = 0; rc == MPI_SUCCESS && !done;) {
        done = 1;
        int ndone = 0;
        for (int i = 0; i < 2 * n && rc == MPI_SUCCESS; i++) {
            int one = 1;
            if (rq[i] != lower_null())
                rc = pml_L.MPI_Test(&rq[i], &one, MPI_STATUS_IGNORE);
            done &= one;
            ndone += one;
        }
        if (done || rc != MPI_SUCCESS)
            break;
        if (pml_agent_running && snapc_agent_poll_abort()) {
            snprintf(err, errlen, "%s: the epoch was aborted", what);
            e = -ECANCELED;
        } else if (revive_mono_s() > deadline) {
            snprintf(err, errlen, "%s: not every rank answered within 60 s", what);
            e = -ETIMEDOUT;
        }
        if (e)
            break;
        if (ndone > before)
            idle = 0;
        else
            pml_idle_own(&idle);
        before = ndone;
    }
    if (!e && rc != MPI_SUCCESS) {
        snprintf(err, errlen, "%s failed (MPI error %d)", what, rc);
        e = -EIO;
    }
    if (e)
        leave(rq, 2 * n);
    free(rq);
    return e;
}

/* The per-rank pointers and counts of an exchange (freed by the caller). */
struct xplan {
    uint64_t **sbuf, **rbuf;
    int *scount, *rcount;
};

static int xplan_alloc(struct xplan *x, int n)
{
    x->sbuf = malloc((size_t)n * sizeof *x->sbuf);
    x->rbuf = malloc((size_t)n * sizeof *x->rbuf);
    x->scount = malloc((size_t)n * sizeof *x->scount);
    x->rcount = malloc((size_t)n * sizeof *x->rcount);
    return x->sbuf && x->rbuf && x->scount && x->rcount ? 0 : -ENOMEM;
}

static void xplan_free(struct xplan *x)
{
    free(x->sbuf);
    free(x->rbuf);
    free(x->scount);
    free(x->rcount);
}

int pml_xchg(int phase, const uint64_t *out, uint64_t *in, double deadline, const char *what,
             char *err, size_t errlen)
{
    int n = pml_world_size;
    struct xplan x = {0};
    uint64_t *zero = calloc(2 * (size_t)n, sizeof *zero);
    if (!zero || xplan_alloc(&x, n)) {
        free(zero);
        xplan_free(&x);
        snprintf(err, errlen, "%s: out of memory", what);
        return -ENOMEM;
    }
    uint64_t *o = out ? (uint64_t *)out : zero, *got = in ? in : zero + n;
    for (int j = 0; j < n; j++) {
        x.sbuf[j] = &o[j];
        x.rbuf[j] = &got[j];
        x.scount[j] = x.rcount[j] = 1;
    }
    int e = exchange(phase, x.sbuf, x.scount, x.rbuf, x.rcount, deadline, what, err, errlen);
    if (!e)
        free(zero); /* else a send left behind may still read it */
    xplan_free(&x);
    return e;
}

int pml_xchgv(int phase_counts, int phase_data, const uint64_t *mine, int n_mine, uint64_t **all,
              long *n_all, double deadline, const char *what, char *err, size_t errlen)
{
    int n = pml_world_size;
    *all = NULL;
    *n_all = 0;
    uint64_t *counts = malloc((size_t)n * sizeof *counts), *out = calloc((size_t)n, sizeof *out);
    /* the sends may outlive a failed exchange: they read a copy of their own, never freed then */
    uint64_t *copy = malloc((size_t)(n_mine ? n_mine : 1) * sizeof *copy);
    struct xplan x = {0};
    int e = -ENOMEM, sent = 0; /* sent: sends of out (1) or of copy (2) may outlive a failure */
    if (!counts || !out || !copy || xplan_alloc(&x, n)) {
        snprintf(err, errlen, "%s: out of memory", what);
        goto out;
    }
    if (n_mine)
        memcpy(copy, mine, (size_t)n_mine * sizeof *copy);
    for (int j = 0; j < n; j++)
        out[j] = (uint64_t)n_mine;
    sent = 1;
    e = pml_xchg(phase_counts, out, counts, deadline, what, err, errlen);
    if (e)
        goto out;
    sent = 0;
    long total = 0;
    for (int j = 0; j < n; j++) {
        if (counts[j] > 0x7fffffffu / 2) {
            snprintf(err, errlen, "%s: rank %d has too many (%llu)", what, j,
                     (unsigned long long)counts[j]);
            e = -E2BIG;
            goto out;
        }
        total += (long)counts[j];
    }
    uint64_t *buf = malloc((size_t)(total ? total : 1) * sizeof *buf);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory for %ld numbers", what, total);
        e = -ENOMEM;
        goto out;
    }
    long at = 0;
    for (int j = 0; j < n; j++) {
        x.sbuf[j] = copy;
        x.scount[j] = n_mine;
        x.rbuf[j] = buf + at;
        x.rcount[j] = (int)counts[j];
        at += (long)counts[j];
    }
    sent = 2;
    /* every rank has the same counts: with none to send, none exchanges (one round, not two) */
    e = total ? exchange(phase_data, x.sbuf, x.scount, x.rbuf, x.rcount, deadline, what, err, errlen)
              : 0;
    if (e) {
        free(buf); /* its receives were cancelled: nothing more lands in it */
        goto out;
    }
    sent = 0;
    *all = buf;
    *n_all = total;
out:
    if (sent != 2)
        free(copy);
    if (sent != 1)
        free(out);
    free(counts);
    xplan_free(&x);
    return e;
}

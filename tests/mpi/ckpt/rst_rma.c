/* A one-sided rank program for the restart tests (rst_rma.sh): four windows, one of each kind,
 * used in steps, and a checkpoint of its own at a step without a coordinator (the layer's
 * pml_restart_capture, as rst_io.c); the restarted job goes on with the windows Revive made again.
 *
 *   rst_rma STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *
 * At a second checkpoint step a restarted job checkpoints again (and ends, with --exit): a
 * restart from an image of a restarted job.
 *
 *   - create: MPI_Win_create on the program's memory, fence epochs (one is open at the snapshot:
 *     the step's closing fence opened it), Put and Accumulate to both neighbours; a name.
 *   - allocate: MPI_Win_allocate, MPI_Win_lock_all held from start to end (so at the snapshot),
 *     Fetch_and_op, Accumulate, Put and Get with flushes, and stores and loads through the base
 *     pointer the library gave (MPI_Win_sync).
 *   - shared: MPI_Win_allocate_shared on the node's ranks, loads and stores through pointers to
 *     the neighbour's part that MPI_Win_shared_query gave before the snapshot, MPI_Win_sync; Put,
 *     Get and Accumulate to the neighbour's part.
 * On one rank each window's memory is the rank's own (Open MPI: heap memory of the library's
 * malloc, served from a shared mapping by the lower half's root while the window is made).
 *   - dynamic: MPI_Win_create_dynamic with a region attached, addresses exchanged; a shared lock
 *     on the right neighbour held from start to end, Put and Get with flushes.
 *
 * RST_RMA_ALLOCATE_ONLY=1 leaves the create and dynamic windows out (Open MPI makes neither on
 * one rank).
 *
 * DIR "mpix" checkpoints with MPIX_Checkpoint instead (rst_step.h): a global snapshot taken by the
 * agents, restarted with restart-mpi.
 *
 * Rank 0 prints one line per step (a checksum over every rank's windows, each rank's view of its
 * neighbour's shared part included) and a final line; the lines equal an uninterrupted run's. */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rst_step.h"

#define N 64

static int rank, size;

const char rst_name[] = "rst_rma";

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    struct rst_args args = rst_start(&argc, &argv, 1, "", &rank, &size);
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int all_kinds = !getenv("RST_RMA_ALLOCATE_ONLY");

    /* create */
    long *cmem = calloc(N, sizeof *cmem);
    MPI_Win wc = MPI_WIN_NULL;
    if (all_kinds) {
        CHECK(MPI_Win_create(cmem, N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                             &wc));
        CHECK(MPI_Win_set_name(wc, "rst_rma create"));
        CHECK(MPI_Win_fence(0, wc));
    }
    /* allocate */
    long *amem;
    MPI_Win wa;
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &amem,
                           &wa));
    memset(amem, 0, N * sizeof(long));
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(MPI_Win_lock_all(0, wa));
    /* shared */
    MPI_Comm node;
    CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    int nrank, nsize;
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    long *smem, *sright;
    MPI_Win ws;
    CHECK(MPI_Win_allocate_shared(N * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &smem, &ws));
    MPI_Aint qs;
    int qd;
    CHECK(MPI_Win_shared_query(ws, (nrank + 1) % nsize, &qs, &qd, &sright));
    memset(smem, 0, N * sizeof(long));
    CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, ws));
    /* dynamic */
    long *dmem = calloc(N, sizeof *dmem);
    MPI_Win wd = MPI_WIN_NULL;
    MPI_Aint mine, *addrs = calloc((size_t)size, sizeof *addrs);
    if (all_kinds) {
        CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &wd));
        CHECK(MPI_Win_attach(wd, dmem, N * sizeof(long)));
        CHECK(MPI_Get_address(dmem, &mine));
        CHECK(MPI_Allgather(&mine, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD));
        CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, wd));
    }
    CHECK(MPI_Barrier(MPI_COMM_WORLD));

    for (int s = 0; s < args.steps; s++) {
        long v = (long)(s * 1000 + rank * 10 + 1);
        int k = s % N;
        /* create: fence epoch (open since the last fence) */
        if (all_kinds) {
            CHECK(MPI_Put(&v, 1, MPI_LONG, right, k, 1, MPI_LONG, wc));
            CHECK(MPI_Accumulate(&v, 1, MPI_LONG, left, (k + 1) % N, 1, MPI_LONG, MPI_SUM, wc));
            CHECK(MPI_Win_fence(0, wc));
        }
        /* allocate: passive, lock_all held */
        long old = 0;
        CHECK(MPI_Fetch_and_op(&v, &old, MPI_LONG, right, k, MPI_SUM, wa));
        CHECK(MPI_Accumulate(&old, 1, MPI_LONG, left, (k + 2) % N, 1, MPI_LONG, MPI_SUM, wa));
        /* Put to the right, Get from the left of what its own store left there a step ago
         * (nothing writes that slot in this step) */
        long pv = v * 3, aget = 0;
        CHECK(MPI_Put(&pv, 1, MPI_LONG, right, (k + 5) % N, 1, MPI_LONG, wa));
        CHECK(MPI_Get(&aget, 1, MPI_LONG, left, (k + 6) % N, 1, MPI_LONG, wa));
        CHECK(MPI_Win_flush_all(wa));
        /* a store through the library's base pointer (a load of it: the hash below) */
        amem[(k + 7) % N] = v + aget + amem[(k + 3) % N];
        CHECK(MPI_Win_sync(wa));
        /* dynamic: shared lock on the right neighbour held */
        long got = 0;
        if (all_kinds) {
            CHECK(MPI_Put(&v, 1, MPI_LONG, right, addrs[right] + (MPI_Aint)(k * sizeof(long)), 1,
                          MPI_LONG, wd));
            CHECK(MPI_Win_flush(right, wd));
            CHECK(MPI_Get(&got, 1, MPI_LONG, right,
                          addrs[right] + (MPI_Aint)(((k + N - 1) % N) * sizeof(long)), 1, MPI_LONG,
                          wd));
            CHECK(MPI_Win_flush(right, wd));
        }
        /* shared: a store into this rank's part, read by the left neighbour through its pointer;
         * Put and Accumulate into the right neighbour's part, Get of what the Put of a step ago
         * left there */
        int sr = (nrank + 1) % nsize;
        long sget = 0;
        CHECK(MPI_Put(&pv, 1, MPI_LONG, sr, (k + 20) % N, 1, MPI_LONG, ws));
        CHECK(MPI_Accumulate(&v, 1, MPI_LONG, sr, (k + 30) % N, 1, MPI_LONG, MPI_SUM, ws));
        CHECK(MPI_Get(&sget, 1, MPI_LONG, sr, (k + 19) % N, 1, MPI_LONG, ws));
        CHECK(MPI_Win_flush_all(ws));
        smem[k] = v + got + sget;
        CHECK(MPI_Win_sync(ws));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Win_sync(ws));
        CHECK(MPI_Win_sync(wa));
        long seen = sright[k];
        /* every rank's windows, hashed; rank 0 prints the sum of the hashes */
        uint64_t h = 1469598103934665603ull;
        h = mix(h, cmem, N * sizeof(long));
        h = mix(h, amem, N * sizeof(long));
        h = mix(h, smem, N * sizeof(long));
        h = mix(h, dmem, N * sizeof(long));
        h = mix(h, &seen, sizeof seen);
        h = mix(h, &old, sizeof old);
        h = mix(h, &aget, sizeof aget);
        h = mix(h, &sget, sizeof sget);
        unsigned long long hh = h, sum = 0;
        CHECK(MPI_Reduce(&hh, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
        if (rank == 0)
            printf("step %d: %016llx\n", s, sum);
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        rst_step_end(&args, s);
    }
    /* what the restarted job knows of its windows, as the program was told */
    char name[MPI_MAX_OBJECT_NAME] = "";
    int len = 0, flag = 0, *fl = NULL;
    void *b = NULL;
    if (all_kinds)
        CHECK(MPI_Win_get_name(wc, name, &len));
    CHECK(MPI_Win_get_attr(wa, MPI_WIN_CREATE_FLAVOR, &fl, &flag));
    int fa = flag ? *fl : -1;
    CHECK(MPI_Win_get_attr(ws, MPI_WIN_CREATE_FLAVOR, &fl, &flag));
    int fs = flag ? *fl : -1;
    CHECK(MPI_Win_get_attr(ws, MPI_WIN_BASE, &b, &flag));
    long *sr2;
    CHECK(MPI_Win_shared_query(ws, (nrank + 1) % nsize, &qs, &qd, &sr2));
    int same = b == (void *)smem && sr2 == sright;
    if (all_kinds) {
        CHECK(MPI_Win_unlock(right, wd));
        CHECK(MPI_Win_detach(wd, dmem));
        CHECK(MPI_Win_free(&wd));
    }
    CHECK(MPI_Win_unlock_all(ws));
    CHECK(MPI_Win_free(&ws));
    CHECK(MPI_Win_unlock_all(wa));
    CHECK(MPI_Win_free(&wa));
    if (all_kinds) {
        CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wc));
        CHECK(MPI_Win_free(&wc));
    }
    int all = 0;
    CHECK(MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD));
    if (rank == 0)
        printf("done: %d steps on %d ranks, name '%s', flavors %s %s, shared addresses %s\n",
               args.steps, size, name, fa == MPI_WIN_FLAVOR_ALLOCATE ? "allocate" : "WRONG",
               fs == MPI_WIN_FLAVOR_SHARED ? "shared" : "WRONG", all ? "as given" : "MOVED");
    MPI_Comm_free(&node);
    free(cmem);
    free(dmem);
    free(addrs);
    CHECK(MPI_Finalize());
    return 0;
}

/* A rank program for rst_comms.sh: a program that makes and frees communicators of every
 * creation kind in a loop, then is checkpointed and restarted.
 *
 *   rst_comms ROUNDS STEPS PACEFILE MS
 *
 * ROUNDS times it makes and frees one communicator of each kind: MPI_Comm_dup, MPI_Comm_split,
 * MPI_Comm_create, MPI_Comm_create_group, MPI_Intercomm_create (from the halves of an
 * MPI_Comm_split) and MPI_Intercomm_merge, MPI_Cart_create and MPI_Cart_sub, MPI_Graph_create
 * (the halves, the intercommunicator and the cartesian one freed too); on the dup it sets an
 * attribute and opens and closes a file (deleted on close). Half way it keeps a few:
 * a split of that round's dup (the dup itself is freed: an ancestor the restart must make again),
 * the merged intracommunicator and a create_group communicator. Then STEPS steps: an Allreduce
 * on each kept communicator, rank 0 prints one line per step; between steps it sleeps MS
 * milliseconds while PACEFILE exists (the test keeps the job from ending before its snapshot).
 * Rank 0 says on stderr "rst_comms: round R of ROUNDS" every 10 rounds, and at the end of the
 * rounds how long they took: the test bounds a run by its progress, not by its length (a round
 * makes ten communicators and opens a file, each a few exchanges with the other rank, and beside
 * CPU-bound processes each exchange can wait for a time slice: natively 2100 rounds took 3.6 s
 * with the cores not busy, 20 rounds 17 s beside one busy loop per core).
 *
 * What it shows (campaign-failures.md #9): the restart made every MPI_Comm_create_group ever
 * called again and freed them only at its end, so MPICH ran out of context ids ("Too many
 * communicators") after about 2040 of them; and its time grew with every communicator the
 * program ever made, dead or alive. The snapshot's record kept every MPI_File_open and
 * attribute set too, of files long closed and communicators long freed. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static int rank, size;

static void check(int rc, const char *what, int round)
{
    if (rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int l = 0;
        MPI_Error_string(rc, s, &l);
        fprintf(stderr, "rst_comms rank %d: FAIL: %s in round %d: %s\n", rank, what, round, s);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

static void free_comm(MPI_Comm *c, int round)
{
    if (*c != MPI_COMM_NULL)
        check(MPI_Comm_free(c), "MPI_Comm_free", round);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: rst_comms ROUNDS STEPS PACEFILE MS\n");
        return 2;
    }
    int rounds = atoi(argv[1]), steps = atoi(argv[2]), ms = atoi(argv[4]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        fprintf(stderr, "rst_comms: needs 2 ranks or more\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Group world;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Comm keep_split = MPI_COMM_NULL, keep_merged = MPI_COMM_NULL, keep_group = MPI_COMM_NULL;
    int *index = malloc((size_t)size * sizeof *index), *edges = malloc((size_t)size * 2 * sizeof *edges);
    for (int i = 0; i < size; i++) { /* a ring */
        index[i] = 2 * (i + 1);
        edges[2 * i] = (i + 1) % size;
        edges[2 * i + 1] = (i + size - 1) % size;
    }
    long made = 0;
    int kv;
    check(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &kv, NULL),
          "MPI_Comm_create_keyval", -1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < rounds; r++) {
        if (rank == 0 && r % 10 == 0)
            fprintf(stderr, "rst_comms: round %d of %d\n", r, rounds);
        MPI_Comm dup, split, create, cgroup, half, inter, merged, cart, sub, graph;
        MPI_File f;
        check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup", r);
        check(MPI_Comm_set_attr(dup, kv, (void *)(intptr_t)(r + 1)), "MPI_Comm_set_attr", r);
        check(MPI_File_open(dup, "rst_comms.file", MPI_MODE_CREATE | MPI_MODE_RDWR |
                            MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &f), "MPI_File_open", r);
        check(MPI_File_close(&f), "MPI_File_close", r);
        check(MPI_Comm_split(dup, rank % 2, -rank, &split), "MPI_Comm_split", r);
        check(MPI_Comm_create(MPI_COMM_WORLD, world, &create), "MPI_Comm_create", r);
        check(MPI_Comm_create_group(MPI_COMM_WORLD, world, r % 100, &cgroup), "MPI_Comm_create_group", r);
        check(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half), "MPI_Comm_split (halves)", r);
        check(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 ? 0 : 1, 5, &inter),
              "MPI_Intercomm_create", r);
        check(MPI_Intercomm_merge(inter, rank % 2, &merged), "MPI_Intercomm_merge", r);
        int dims[1] = { size }, periods[1] = { 1 }, remain[1] = { 1 };
        check(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart), "MPI_Cart_create", r);
        check(MPI_Cart_sub(cart, remain, &sub), "MPI_Cart_sub", r);
        check(MPI_Graph_create(MPI_COMM_WORLD, size, index, edges, 0, &graph), "MPI_Graph_create", r);
        made += 10;
        if (r == rounds / 2) {
            check(MPI_Comm_split(dup, 0, rank, &keep_split), "MPI_Comm_split (kept)", r);
            keep_merged = merged;
            keep_group = cgroup;
            merged = cgroup = MPI_COMM_NULL;
            made++;
        }
        free_comm(&dup, r);
        free_comm(&split, r);
        free_comm(&create, r);
        free_comm(&cgroup, r);
        free_comm(&half, r);
        free_comm(&inter, r);
        free_comm(&merged, r);
        free_comm(&cart, r);
        free_comm(&sub, r);
        free_comm(&graph, r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rank == 0) {
        fprintf(stderr, "rst_comms: %d rounds in %.0f ms\n", rounds,
                (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        printf("made: %ld communicators in %d rounds, 3 kept\n", made, rounds);
        fflush(stdout);
    }
    for (int s = 1; s <= steps; s++) {
        long x = (long)s * (rank + 1), a = 0, b = 0, c = 0;
        check(MPI_Allreduce(&x, &a, 1, MPI_LONG, MPI_SUM, keep_split), "MPI_Allreduce (split)", s);
        check(MPI_Allreduce(&x, &b, 1, MPI_LONG, MPI_SUM, keep_merged), "MPI_Allreduce (merged)", s);
        check(MPI_Allreduce(&x, &c, 1, MPI_LONG, MPI_SUM, keep_group), "MPI_Allreduce (create_group)", s);
        if (rank == 0) {
            printf("step %d: %ld %ld %ld\n", s, a, b, c);
            fflush(stdout);
        }
        rst_pace(argv[3], ms, steps - s);
    }
    MPI_Comm_free(&keep_split);
    MPI_Comm_free(&keep_merged);
    MPI_Comm_free(&keep_group);
    MPI_Comm_free_keyval(&kv);
    MPI_Group_free(&world);
    free(index);
    free(edges);
    if (rank == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

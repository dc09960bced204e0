/* A rank's thread stores into another rank's part of a shared window outside MPI calls, for
 * shstore.sh (campaign-failures.md #26).
 *
 *   shstore STEPS PACEFILE ITER
 *
 * Rank 1 adds 1, ITER times per step, to a counter in rank 0's part of an MPI_Win_allocate_shared
 * window (c; rank 1's own part is empty) and to one in its own memory (p), with no MPI call in
 * between; after each step (sync, barrier, sync, barrier) rank 0 prints "step S: ok" when c
 * equals p, else "step S: LOST c C p P".
 * Sleeps 20 ms after each step while PACEFILE exists, and prints a "done:" line. A snapshot taken
 * while rank 1 counts must hold in rank 0's part every store rank 1's image has made.
 *
 *   shstore STEPS PACEFILE ITER loop
 *
 * The same after LOOPS rounds of shared windows made and freed (on the node's communicator; on
 * a duplicate made and freed with its window; on a duplicate freed while its window lives),
 * each checking its neighbour's part, and with a second counter in rank 0's part of a second
 * window on a duplicate of the node's communicator freed at once (the window outlives it); a
 * window made and freed on the node's communicator at every step too. "step S: ok" when both
 * counters equal p. The layer's meeting places (src/pml_hooks/win_ckpt.c): one per
 * communicator, reused by its windows, kept by a window whose communicator was freed.
 *
 *   shstore 0 - 0 segs
 *
 * Prints "segments: N windows, M shared mappings" (rank 0): the shared mappings of the rank
 * (/proc/self/maps) that NWIN shared windows of the node's communicator, all live at once,
 * added; a layer that made a second shared window per window doubled M (win_ckpt.c). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOOPS 12
#define NWIN 24

/* shared mappings in /proc/self/maps ("rw-s" and kin) */
static int shared_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char l[4096], perm[8];
    int n = 0;
    while (fgets(l, sizeof l, f))
        if (sscanf(l, "%*s %7s", perm) == 1 && perm[3] == 's')
            n++;
    fclose(f);
    return n;
}

static void segs(MPI_Comm node, int rank)
{
    MPI_Win w[NWIN];
    long *b[NWIN];
    MPI_Barrier(node);
    int before = shared_maps();
    for (int i = 0; i < NWIN; i++) {
        MPI_Win_allocate_shared(4096, 1, MPI_INFO_NULL, node, &b[i], &w[i]);
        b[i][0] = i;
    }
    int after = shared_maps();
    for (int i = 0; i < NWIN; i++)
        MPI_Win_free(&w[i]);
    if (rank == 0)
        printf("segments: %d windows, %d shared mappings\n", NWIN, after - before);
}

/* A shared window on c with one long a rank, each rank's set, its neighbour's read (-1 when it
 * did not hold what the neighbour stored). */
static int one_window(MPI_Comm c, int rank, int size, long tag, int free_comm_first)
{
    MPI_Win w;
    long *mine, *theirs;
    MPI_Aint qs;
    int qd, bad = 0;
    MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, c, &mine, &w);
    if (free_comm_first)
        MPI_Comm_free(&c);
    int peer = (rank + 1) % size;
    MPI_Win_shared_query(w, peer, &qs, &qd, &theirs);
    MPI_Win_fence(0, w);
    mine[0] = tag * 100 + rank;
    MPI_Win_fence(0, w);
    if (theirs[0] != tag * 100 + peer)
        bad = 1;
    MPI_Win_fence(0, w);
    MPI_Win_free(&w);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: shstore STEPS PACEFILE ITER [loop|segs]\n");
        return 2;
    }
    int loop = argc > 4 && !strcmp(argv[4], "loop");
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int steps = atoi(argv[1]);
    long iter = atol(argv[3]);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nsize;
    MPI_Comm_size(node, &nsize);
    if (size != 2 || nsize != 2) {
        fprintf(stderr, "shstore: needs 2 ranks on one node\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (argc > 4 && !strcmp(argv[4], "segs")) {
        segs(node, rank);
        MPI_Comm_free(&node);
        MPI_Finalize();
        return 0;
    }
    if (loop) {
        int bad = 0;
        for (int k = 0; k < LOOPS; k++) {
            MPI_Comm c;
            bad += one_window(node, rank, size, 3 * k, 0);
            MPI_Comm_dup(node, &c);
            bad += one_window(c, rank, size, 3 * k + 1, 0);
            MPI_Comm_free(&c);
            MPI_Comm_dup(node, &c);
            bad += one_window(c, rank, size, 3 * k + 2, 1);
        }
        if (rank == 0)
            printf("loop: %d rounds of 3 windows, %d bad\n", LOOPS, bad);
    }
    volatile long *mine, *zero, *mine2 = NULL, *zero2 = NULL;
    MPI_Win w, w2 = MPI_WIN_NULL;
    MPI_Aint qs;
    int qd;
    /* rank 1's own part is empty: a member with nothing to copy still meets the others */
    MPI_Win_allocate_shared(rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long), MPI_INFO_NULL,
                            node, (void *)&mine, &w);
    MPI_Win_shared_query(w, 0, &qs, &qd, (void *)&zero);
    if (rank == 0)
        mine[0] = 0;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, w);
    if (loop) {
        /* on a communicator of its own that the window outlives */
        MPI_Comm c;
        MPI_Comm_dup(node, &c);
        MPI_Win_allocate_shared(rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long),
                                MPI_INFO_NULL, c, (void *)&mine2, &w2);
        MPI_Comm_free(&c);
        MPI_Win_shared_query(w2, 0, &qs, &qd, (void *)&zero2);
        if (rank == 0)
            mine2[0] = 0;
        MPI_Win_lock_all(MPI_MODE_NOCHECK, w2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    volatile long p = 0;
    int lost = 0;
    for (int s = 0; s < steps; s++) {
        if (rank == 1)
            for (long i = 0; i < iter; i++) {
                zero[0] = zero[0] + 1;
                if (loop)
                    zero2[0] = zero2[0] + 1;
                p = p + 1;
            }
        MPI_Win_sync(w);
        if (loop)
            MPI_Win_sync(w2);
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Win_sync(w);
        if (loop)
            MPI_Win_sync(w2);
        long pv = p, c = zero[0], c2 = loop ? zero2[0] : c;
        MPI_Barrier(MPI_COMM_WORLD); /* rank 1 counts on only once c is read */
        if (rank == 1)
            MPI_Send(&pv, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
        if (rank == 0) {
            MPI_Recv(&pv, 1, MPI_LONG, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (c != pv || c2 != pv) {
                lost++;
                printf("step %d: LOST c %ld c2 %ld p %ld\n", s, c, c2, pv);
            } else {
                printf("step %d: ok\n", s);
            }
        }
        if (loop && one_window(node, rank, size, 1000 + s, 0) && rank == 0)
            printf("step %d: a window made at this step was wrong\n", s);
        if (access(argv[2], F_OK) == 0)
            usleep(20000);
    }
    MPI_Win_unlock_all(w);
    MPI_Win_free(&w);
    if (loop) {
        MPI_Win_unlock_all(w2);
        MPI_Win_free(&w2);
    }
    MPI_Comm_free(&node);
    if (rank == 0)
        printf("done: %d steps, %d lost\n", steps, lost);
    MPI_Finalize();
    return 0;
}

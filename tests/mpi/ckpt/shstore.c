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
 * added; a layer that made a second shared window per window doubled M (win_ckpt.c).
 *
 *   shstore STEPS PACEFILE 0 cfree
 *
 * (any number of ranks on one node) At each step two duplicates of the node's communicator, a
 * shared window on each; the first window freed; then rank i sleeps i s and frees both
 * communicators (the second's window lives on), then the window is checked and freed: "step S:
 * ok V" (V: what rank 0 read of its neighbour's part), or "step S: BAD ...". The members reach
 * MPI_Comm_free of communicators with (or without) shared windows 1 s apart (diffrev40 R-M1).
 *
 *   shstore STEPS - 0 order
 *
 * (any number of ranks on one node) Rank 0 frees a communicator before the next shared window,
 * the others after it; then rank 0 frees the communicator of a window before the window, the
 * others after it, then MPI_Barrier: "order: N windows, B bad". MPI_Comm_free is local in both
 * libraries: a layer that freed or adopted a meeting place on one member's word waited in a
 * collective the others never entered.
 *
 *   shstore STEPS - 0 grow
 *
 * (three or more ranks on one node) STEPS communicators of every rank, each in another order
 * (MPI_Comm_split, key: a permutation of the ranks), a shared window on each, freed, the
 * communicator freed: "grow: N steps, M shared mappings more, B bad" (rank 0), M the shared
 * mappings after the steps less those after the first. A layer that kept the meeting place of
 * every member order until MPI_Finalize added one mapping per step. */
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

/* The fence-checked store and read of one_window on the live window w (of c's ranks): 1 when the
 * neighbour's part did not hold what it stored; *seen: what was read. */
static int check_window(MPI_Win w, long *mine, int rank, int size, long tag, long *seen)
{
    long *theirs;
    MPI_Aint qs;
    int qd, peer = (rank + 1) % size;
    MPI_Win_shared_query(w, peer, &qs, &qd, &theirs);
    MPI_Win_fence(0, w);
    mine[0] = tag * 100 + rank;
    MPI_Win_fence(0, w);
    *seen = theirs[0];
    MPI_Win_fence(0, w);
    return *seen != tag * 100 + peer;
}

static void cfree_steps(MPI_Comm node, int rank, int size, int steps, const char *pace)
{
    for (int s = 0; s < steps; s++) {
        MPI_Comm a, b;
        MPI_Win wa, wb;
        long *pa, *pb, seen = 0;
        MPI_Comm_dup(node, &a);
        MPI_Comm_dup(node, &b);
        MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, a, &pa, &wa);
        MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, b, &pb, &wb);
        int bad = check_window(wa, pa, rank, size, 2 * s, &seen);
        MPI_Win_free(&wa);
        usleep((useconds_t)rank * 1000000);
        MPI_Comm_free(&a);
        MPI_Comm_free(&b);
        bad += check_window(wb, pb, rank, size, 2 * s + 1, &seen);
        MPI_Win_free(&wb);
        int allbad = 0;
        MPI_Reduce(&bad, &allbad, 1, MPI_INT, MPI_SUM, 0, node);
        if (rank == 0)
            printf("step %d: %s %ld\n", s, allbad ? "BAD" : "ok", seen);
        if (access(pace, F_OK) == 0)
            usleep(20000);
    }
}

static int order_windows(int rank, int size)
{
    MPI_Comm a, b;
    MPI_Win w;
    long *p, seen;
    int bad = 0;
    MPI_Comm_dup(MPI_COMM_WORLD, &a);
    MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, a, &p, &w);
    bad += check_window(w, p, rank, size, 1, &seen);
    MPI_Win_free(&w);
    if (rank == 0)
        MPI_Comm_free(&a);
    MPI_Comm_dup(MPI_COMM_WORLD, &b);
    MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, b, &p, &w);
    if (rank != 0)
        MPI_Comm_free(&a);
    bad += check_window(w, p, rank, size, 2, &seen);
    MPI_Win_free(&w);
    MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, b, &p, &w);
    bad += check_window(w, p, rank, size, 3, &seen);
    if (rank == 0)
        MPI_Comm_free(&b);
    MPI_Win_free(&w);
    if (rank != 0)
        MPI_Comm_free(&b);
    MPI_Barrier(MPI_COMM_WORLD);
    int allbad = 0;
    MPI_Reduce(&bad, &allbad, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    return allbad;
}

/* The key of rank in the k-th permutation of 0..size-1 (factorial number system). */
static int perm_key(int k, int size, int rank)
{
    int left[64], n = size;
    for (int i = 0; i < n; i++)
        left[i] = i;
    for (int pos = 0; pos < size; pos++) {
        int f = 1;
        for (int i = 2; i < n; i++)
            f *= i;
        int j = (k / f) % n;
        k %= f;
        if (left[j] == rank)
            return pos;
        for (int i = j; i < n - 1; i++)
            left[i] = left[i + 1];
        n--;
    }
    return 0;
}

static void grow(int rank, int size, int steps)
{
    int bad = 0, first = 0;
    for (int s = 0; s <= steps; s++) {
        MPI_Comm c;
        MPI_Win w;
        long *p, seen;
        int csize;
        MPI_Comm_split(MPI_COMM_WORLD, 0, perm_key(s, size, rank), &c);
        MPI_Comm_size(c, &csize);
        int crank;
        MPI_Comm_rank(c, &crank);
        MPI_Win_allocate_shared(sizeof(long), sizeof(long), MPI_INFO_NULL, c, &p, &w);
        bad += check_window(w, p, crank, csize, s, &seen);
        MPI_Win_free(&w);
        MPI_Comm_free(&c);
        MPI_Barrier(MPI_COMM_WORLD);
        if (s == 0)
            first = shared_maps();
    }
    int allbad = 0;
    MPI_Reduce(&bad, &allbad, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("grow: %d steps, %d shared mappings more, %d bad\n", steps, shared_maps() - first,
               allbad);
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
        fprintf(stderr, "usage: shstore STEPS PACEFILE ITER [loop|segs|cfree|order|grow]\n");
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
    const char *mode = argc > 4 ? argv[4] : "";
    if (nsize == size && (!strcmp(mode, "cfree") || !strcmp(mode, "order") ||
                          (!strcmp(mode, "grow") && size >= 3 && size <= 8))) {
        if (!strcmp(mode, "cfree"))
            cfree_steps(node, rank, size, steps, argv[2]);
        else if (!strcmp(mode, "order")) {
            int bad = order_windows(rank, size);
            if (rank == 0)
                printf("order: 3 windows, %d bad\n", bad);
        } else
            grow(rank, size, steps);
        MPI_Comm_free(&node);
        if (rank == 0 && !strcmp(mode, "cfree"))
            printf("done: %d steps\n", steps);
        MPI_Finalize();
        return 0;
    }
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

/* A rank program for rst_heap.sh: a large heap, windows and MPI_Alloc_mem memory made after a
 * restart, and unwinding (backtraces, thread cancellation) in the restarted process.
 *
 *   rst_heap STEPS PACEFILE MS MIB WSTEP
 *
 * Each rank mallocs and fills MIB MiB after MPI_Init; every step sums a stride of it over
 * MPI_COMM_WORLD with a reduction function of the program (which also takes a backtrace: the
 * unwinder walks through the MPI library's frames), mallocs, fills and frees another MIB/4 MiB
 * (the heap grows and shrinks), and cancels a thread of its own (a forced unwind). From step
 * WSTEP on the rank has an MPI_Win_allocate window, an MPI_Win_allocate_shared window on the
 * ranks of its node and an MPI_Alloc_mem buffer, made at step WSTEP: every step then puts from
 * the MPI_Alloc_mem buffer into the next rank's window, fences, gets it back, writes its slot of
 * the shared window and reads its neighbour's, and allocates and frees one more MPI_Alloc_mem
 * block. Rank 0 prints one line per step with what all of that gave (identical in an
 * uninterrupted run). Between steps it sleeps MS milliseconds while PACEFILE exists.
 *
 * And at every step it asks the dynamic loader about every return address those backtraces met
 * so far (the library's among them): ld.so may name an object at such an address only if that
 * object is loaded now, and the unwinder's lookup there (_Unwind_Find_FDE, which asks ld.so's
 * _dl_find_object) must come back. After a restart the MPI library the job ran on before is gone; ld.so's table of
 * objects for the unwinder still named its objects, with unwind data in memory that is not
 * there any more: an unwinder handed such an address died of SIGSEGV (SEGV_ACCERR) in
 * _Unwind_Find_FDE (issue 7, finding A). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

/* libgcc_s's lookup of an address's unwind data (unwind-dw2-fde.h; exported since GCC 3.0) */
struct dwarf_eh_bases {
    void *tbase, *dbase, *func;
};
const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

static int rank, size;

static void fail(const char *what)
{
    fprintf(stderr, "rst_heap rank %d: FAIL: %s\n", rank, what);
    MPI_Abort(MPI_COMM_WORLD, 3);
}

/* ---- return addresses met so far ------------------------------------------------------------ */
#define PC_MAX 512
static void *pcs[PC_MAX];
static int npcs;

static void remember(void *const *b, int n)
{
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < npcs && pcs[k] != b[i])
            k++;
        if (k == npcs && npcs < PC_MAX)
            pcs[npcs++] = b[i];
    }
}

/* Every return address a backtrace met at an earlier step: ld.so may name an object there only
 * if that object is loaded now (dladdr looks among the loaded ones), and the unwinder's lookup
 * of it must come back. */
static void probe_pcs(void)
{
    for (int i = 0; i < npcs; i++) {
        struct dl_find_object fo;
        Dl_info di;
        struct link_map *lm = NULL;
        if (_dl_find_object(pcs[i], &fo) == 0 &&
            (!dladdr1(pcs[i], &di, (void **)&lm, RTLD_DL_LINKMAP) || lm != fo.dlfo_link_map)) {
            char what[400];
            snprintf(what, sizeof what, "ld.so names an object at %p (%s), which is not loaded"
                     " any more", pcs[i], fo.dlfo_link_map && fo.dlfo_link_map->l_name ?
                     fo.dlfo_link_map->l_name : "?");
            fail(what);
        }
        struct dwarf_eh_bases b;
        (void)_Unwind_Find_FDE(pcs[i], &b);
    }
}

/* ---- unwinding ------------------------------------------------------------------------------ */
static volatile int frames;

static void sum_bt(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    void *b[64];
    frames = backtrace(b, 64); /* through the library's frames that called us */
    remember(b, frames);
    for (int i = 0; i < *len; i++)
        ((long *)inout)[i] += ((long *)in)[i];
}

static volatile int cleaned;
static void cleanup(void *arg)
{
    (void)arg;
    cleaned = 1;
}

static void *cancellee(void *arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    for (;;)
        pause(); /* a cancellation point */
    pthread_cleanup_pop(0);
    return NULL;
}

static void cancel_one(void)
{
    pthread_t t;
    void *ret = NULL;
    cleaned = 0;
    if (pthread_create(&t, NULL, cancellee, NULL) != 0)
        fail("pthread_create");
    if (pthread_cancel(t) != 0 || pthread_join(t, &ret) != 0 || ret != PTHREAD_CANCELED || !cleaned)
        fail("a cancelled thread did not end through its cleanup handler");
}

/* ---- memory ---------------------------------------------------------------------------------- */
static unsigned char pattern(size_t i, int salt)
{
    return (unsigned char)(i * 2654435761u >> 13) ^ (unsigned char)salt;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: rst_heap STEPS PACEFILE MS MIB WSTEP\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]), mib = atoi(argv[4]), wstep = atoi(argv[5]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t n = (size_t)mib << 20;
    unsigned char *heap = malloc(n);
    if (!heap)
        fail("malloc of the heap");
    for (size_t i = 0; i < n; i++)
        heap[i] = pattern(i, rank);
    MPI_Op op;
    MPI_Op_create(sum_bt, 1, &op);
    MPI_Win win = MPI_WIN_NULL, swin = MPI_WIN_NULL;
    MPI_Comm node = MPI_COMM_NULL;
    long *wbase = NULL, *sbase = NULL, *origin = NULL, *right = NULL;
    int nrank = 0, nsize = 1;
    for (int s = 1; s <= steps; s++) {
        probe_pcs();
        /* the heap: a stride of it summed over the job through the program's reduction */
        long mine = 0, all = 0;
        for (size_t i = (size_t)s * 4099 % 65536; i < n; i += 65536)
            mine += heap[i];
        frames = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_LONG, op, MPI_COMM_WORLD);
        if (rank == 0 && frames < 2)
            fail("no backtrace in the reduction function");
        /* the heap grows and shrinks */
        size_t m = n / 4 + (size_t)s * 4096;
        unsigned char *more = malloc(m);
        if (!more)
            fail("malloc");
        memset(more, s, m);
        long tmp = more[m - 1] + more[m / 2];
        free(more);
        cancel_one();
        if (s == wstep) {
            if (MPI_Win_allocate(64 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                                 &wbase, &win) != MPI_SUCCESS ||
                MPI_Alloc_mem(64 * sizeof(long), MPI_INFO_NULL, &origin) != MPI_SUCCESS ||
                MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                                    &node) != MPI_SUCCESS)
                fail("MPI_Win_allocate/MPI_Alloc_mem/MPI_Comm_split_type");
            MPI_Comm_rank(node, &nrank);
            MPI_Comm_size(node, &nsize);
            if (MPI_Win_allocate_shared(8 * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &sbase,
                                        &swin) != MPI_SUCCESS)
                fail("MPI_Win_allocate_shared");
            MPI_Aint qs;
            int qd;
            MPI_Win_shared_query(swin, (nrank + 1) % nsize, &qs, &qd, &right);
            for (int i = 0; i < 64; i++)
                wbase[i] = rank * 1000 + i;
            for (int i = 0; i < 8; i++)
                sbase[i] = 0;
            MPI_Win_fence(0, win);
            MPI_Win_fence(0, swin);
        }
        long got = 0, shared = 0, am = 0;
        if (win != MPI_WIN_NULL) {
            int to = (rank + 1) % size;
            for (int i = 0; i < 64; i++)
                origin[i] = (long)s * 100 + rank + i;
            MPI_Put(origin, 8, MPI_LONG, to, s % 56, 8, MPI_LONG, win);
            MPI_Win_fence(0, win);
            long back[8];
            MPI_Get(back, 8, MPI_LONG, to, s % 56, 8, MPI_LONG, win);
            MPI_Win_fence(0, win);
            for (int i = 0; i < 8; i++)
                got += back[i];
            sbase[s % 8] = (long)s * 7 + rank;
            MPI_Win_fence(0, swin);
            shared = right[s % 8];
            MPI_Win_fence(0, swin);
            long *blk = NULL;
            if (MPI_Alloc_mem((MPI_Aint)(1 << 20) + s, MPI_INFO_NULL, &blk) != MPI_SUCCESS)
                fail("MPI_Alloc_mem");
            memset(blk, s, (size_t)(1 << 20) + (size_t)s);
            am = ((unsigned char *)blk)[s];
            MPI_Free_mem(blk);
        }
        long v[4] = { got, shared, am, tmp }, w[4];
        MPI_Allreduce(v, w, 4, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: heap %ld window %ld shared %ld alloc_mem %ld more %ld\n", s, all, w[0],
                   w[1], w[2], w[3]);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s);
    }
    if (win != MPI_WIN_NULL) {
        MPI_Win_free(&win);
        MPI_Win_free(&swin);
        MPI_Free_mem(origin);
        MPI_Comm_free(&node);
    }
    MPI_Op_free(&op);
    free(heap);
    if (rank == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

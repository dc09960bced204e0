/* Buffered sends through buffers attached and detached around global snapshots (rst_mpi4.sh
 * FLAVOR rst_bsend, both MPIs):
 *
 *   rst_bsend STEPS CKPT_STEP CKPT_STEP2
 *
 * Every step attaches a malloc'd buffer A, sends a ring of MPI_Bsend through it and detaches it
 * (the library must give back A and its size), then writes a pattern of its own over all of A:
 * detached, A is the program's memory again. It attaches a second buffer F, sends through it,
 * detaches and frees it (a guard allocation after F keeps F's chunk out of the heap's top, in a
 * free list). Then it attaches a static buffer B, which stays attached across the step's
 * MPIX_Checkpoint (at CKPT_STEP, and at CKPT_STEP2 in a restarted job); after it, A must still
 * hold its pattern, a ring of MPI_Bsend goes through B, and detaching gives back B and its size.
 * Rank 0 prints one line per step: the values received and the bytes of A found changed, summed
 * over the ranks (natively MPIX_Checkpoint fails and changes nothing).
 *
 * Before the fix, a restart replayed every MPI_Buffer_attach of the creation record, also of
 * buffers detached since: MPICH writes its header into the buffer at attach, so the restarted
 * rank overwrote A (the program's data) and F's freed chunk (malloc's free-list links), and died
 * of SIGSEGV in malloc (CI of 8aaf7ad: cc_persist's snapshot taken after its MPI_Buffer_detach
 * and free, restarted). */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#define K 3   /* messages per ring */
#define M 64  /* longs per message */

static void ring(void *buf, int size, int s, int tag, long *got)
{
    int right = (me + 1) % np, left = (me + np - 1) % np;
    long out[K][M], in[M];
    CHECK(MPI_Buffer_attach(buf, size));
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < M; i++)
            out[k][i] = me * 100000L + s * 1000L + k * 100L + i;
        CHECK(MPI_Bsend(out[k], M, MPI_LONG, right, tag, MPI_COMM_WORLD));
    }
    for (int k = 0; k < K; k++) {
        CHECK(MPI_Recv(in, M, MPI_LONG, left, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        *got += mpi4_digest(in, M);
    }
}

static void detach_expect(const void *buf, int size, int s, const char *name)
{
    void *b = NULL;
    int n = -1;
    CHECK(MPI_Buffer_detach(&b, &n));
    if (b != buf || n != size) {
        fprintf(stderr, "rank %d: step %d: MPI_Buffer_detach gave %p (%d bytes), not %s %p (%d)\n",
                me, s, b, n, name, buf, size);
        exit(4);
    }
}

int main(int argc, char **argv)
{
    struct mpi4_run run = mpi4_start(&argc, &argv, "rst_bsend");
    enum { SZ = K * (M * (int)sizeof(long) + MPI_BSEND_OVERHEAD) };
    static char bbuf[SZ];
    for (int s = 0; s < run.steps; s++) {
        long got = 0;
        unsigned char pat = (unsigned char)(0x5a ^ (s * 7 + me));
        unsigned char *a = malloc(SZ);
        ring(a, SZ, s, 1, &got);
        detach_expect(a, SZ, s, "A");
        memset(a, pat, SZ);
        /* F: attached, used, detached and freed before the snapshot */
        char *f = malloc(SZ + 512), *guard = malloc(64);
        ring(f, SZ + 512, s, 2, &got);
        detach_expect(f, SZ + 512, s, "F");
        free(f);
        /* B: attached across the snapshot */
        CHECK(MPI_Buffer_attach(bbuf, SZ));
        mpi4_ckpt_step(&run, s);
        long changed = 0;
        for (int i = 0; i < SZ; i++)
            changed += a[i] != pat;
        if (changed)
            fprintf(stderr, "rank %d: step %d: %ld bytes of the detached buffer A changed\n", me, s,
                    changed);
        detach_expect(bbuf, SZ, s, "B");
        ring(bbuf, SZ, s, 3, &got);
        detach_expect(bbuf, SZ, s, "B");
        free(guard);
        free(a);
        long g = mpi4_sum(got), c = mpi4_sum(changed);
        if (me == 0)
            printf("step %d: %ld, %ld bytes of detached buffers changed\n", s, g, c);
    }
    if (me == 0)
        printf("done: %d steps\n", run.steps);
    MPI_Finalize();
    return 0;
}

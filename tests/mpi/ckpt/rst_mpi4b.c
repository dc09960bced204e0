/* MPI_Request_free and MPI_Cancel of active MPI_Isendrecv requests, and a persistent
 * MPI_Alltoallw_init with a datatype per peer, across global snapshots (rst_mpi4.sh; MPICH 4.0):
 *
 *   rst_mpi4b STEPS CKPT_STEP CKPT_STEP2
 *
 * Every step, on a ring, before the snapshot (MPIX_Checkpoint at CKPT_STEP and, in a job
 * restarted from a snapshot, at CKPT_STEP2):
 *  - F: a pair whose request is freed at once; its receive's message is sent only after the
 *    snapshot (so a restart must post it again), followed by a second message of the same tag
 *    that MPI_Recv takes: by MPI's order the freed receive matched the first;
 *  - C1: a pair whose send is received and whose receive is never matched, cancelled before the
 *    snapshot and waited for after it;
 *  - C2: the same, cancelled only after the snapshot (the restarted job cancels a receive the
 *    fresh lower half holds again);
 *  - W: the persistent MPI_Alltoallw_init started (active at the snapshot), waited for after.
 *    Its datatypes (a strided vector of J+1 elements to peer J, a contiguous one from each peer)
 *    are freed just after the init, as MPI allows, so a restart must make the request again
 *    with types the program no longer holds.
 * Rank 0 prints one line per step (buffers, the cancelled flags, summed over the ranks).
 *
 * Natively the pairs are MPI_Irecv + MPI_Isend, what a pair means: MPICH 4.0.2's own
 * MPI_Isendrecv refuses both calls (MPI_Cancel: "Internal MPI error", MPI_Request_free:
 * "Other MPI error"; measured), and under Revive an MPI_Isendrecv is that pair, so the lines
 * must equal the native run's. (MPI_Cancel of a started persistent collective is erroneous and
 * MPICH 4.0.2 aborts on an assertion; the layer passes it on, so it aborts the same way: not
 * run here.) */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#define N 8
#define MAXP 8 /* ranks at most */

static int revive;

/* a pair: one MPI_Isendrecv under Revive (q[1] null), MPI_Irecv + MPI_Isend natively */
static void pair(long *sb, int dest, int stag, long *rb, int src, int rtag, MPI_Request q[2])
{
    if (revive) {
        CHECK(MPI_Isendrecv(sb, N, MPI_LONG, dest, stag, rb, N, MPI_LONG, src, rtag,
                            MPI_COMM_WORLD, &q[0]));
        q[1] = MPI_REQUEST_NULL;
    } else {
        CHECK(MPI_Irecv(rb, N, MPI_LONG, src, rtag, MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Isend(sb, N, MPI_LONG, dest, stag, MPI_COMM_WORLD, &q[1]));
    }
}

static void cancel(MPI_Request q[2])
{
    for (int i = 0; i < 2; i++)
        if (q[i] != MPI_REQUEST_NULL)
            CHECK(MPI_Cancel(&q[i]));
}

/* waits for a cancelled pair: whether its receive was cancelled (its status) */
static int finish(MPI_Request q[2])
{
    MPI_Status st[2];
    int flag = -1;
    CHECK(MPI_Waitall(2, q, st));
    CHECK(MPI_Test_cancelled(&st[0], &flag));
    return flag;
}

int main(int argc, char **argv)
{
    struct mpi4_run run = mpi4_start(&argc, &argv, "rst_mpi4b");
    int steps = run.steps;
    revive = run.revive;
    int right = (me + 1) % np, left = (me + np - 1) % np;

    /* W: to peer J, J+1 elements every other one of its block; from each peer, ME+1 in a row */
    if (np > MAXP) {
        fprintf(stderr, "rst_mpi4b: at most %d ranks\n", MAXP);
        return 2;
    }
    int scounts[MAXP], sdispls[MAXP], rcounts[MAXP], rdispls[MAXP], slen = 0;
    MPI_Datatype stypes[MAXP], rtypes[MAXP];
    for (int j = 0; j < np; j++) {
        CHECK(MPI_Type_vector(j + 1, 1, 2, MPI_LONG, &stypes[j]));
        CHECK(MPI_Type_commit(&stypes[j]));
        CHECK(MPI_Type_contiguous(me + 1, MPI_LONG, &rtypes[j]));
        CHECK(MPI_Type_commit(&rtypes[j]));
        scounts[j] = rcounts[j] = 1;
        sdispls[j] = slen * (int)sizeof(long);
        rdispls[j] = j * (me + 1) * (int)sizeof(long);
        slen += 2 * (j + 1);
    }
    long wsend[MAXP * (MAXP + 1)], wrecv[MAXP * MAXP];
    MPI_Request pw;
    CHECK(MPI_Alltoallw_init(wsend, scounts, sdispls, stypes, wrecv, rcounts, rdispls, rtypes,
                             MPI_COMM_WORLD, MPI_INFO_NULL, &pw));
    for (int j = 0; j < np; j++) {
        CHECK(MPI_Type_free(&stypes[j]));
        CHECK(MPI_Type_free(&rtypes[j]));
    }

    for (int s = 0; s < steps; s++) {
        long fs[N], fr[N], c1s[N], c1r[N], c2s[N], c2r[N], got[N], late[N];
        for (int i = 0; i < N; i++) {
            fs[i] = me * 5 + s + i;
            c1s[i] = me * 7 - s + i;
            c2s[i] = me * 9 + s * 2 + i;
            fr[i] = c1r[i] = c2r[i] = -1;
        }
        for (int i = 0; i < slen; i++)
            wsend[i] = me * 1000 + s * 10 + i;
        for (int i = 0; i < np * (me + 1); i++)
            wrecv[i] = -1;
        MPI_Request f[2], c1[2], c2[2];
        CHECK(MPI_Start(&pw));
        pair(fs, right, 10, fr, left, 11, f);
        for (int i = 0; i < 2; i++)
            if (f[i] != MPI_REQUEST_NULL)
                CHECK(MPI_Request_free(&f[i]));
        pair(c1s, right, 12, c1r, left, 13, c1);
        pair(c2s, right, 14, c2r, left, 15, c2);
        /* the sends of C1 and C2 received everywhere: only their receives are left to cancel */
        long g1[N], g2[N];
        CHECK(MPI_Recv(g1, N, MPI_LONG, left, 12, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(MPI_Recv(g2, N, MPI_LONG, left, 14, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        cancel(c1);
        mpi4_ckpt_step(&run, s);
        cancel(c2);
        int k1 = finish(c1), k2 = finish(c2);
        /* F's send, then its receive's message and a second one after it */
        CHECK(MPI_Recv(got, N, MPI_LONG, left, 10, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        long m1 = me * 3 + s, m2 = me * 3 + s + 100, r2 = -1;
        for (int i = 0; i < N; i++)
            late[i] = m1 + i;
        CHECK(MPI_Send(late, N, MPI_LONG, right, 11, MPI_COMM_WORLD));
        for (int i = 0; i < N; i++)
            late[i] = m2 + i;
        long second[N];
        CHECK(MPI_Sendrecv(late, N, MPI_LONG, right, 11, second, N, MPI_LONG, left, 11,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        r2 = second[0];
        CHECK(MPI_Wait(&pw, MPI_STATUS_IGNORE));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        long h = mpi4_digest(fr, N) ^ mpi4_digest(got, N) * 3 ^ r2 * 5 ^ (long)(k1 * 2 + k2) * 7 ^
                 mpi4_digest(c1r, N) * 11 ^ mpi4_digest(c2r, N) * 13 ^
                 mpi4_digest(g1, N) * 17 ^ mpi4_digest(g2, N) * 19 ^
                 mpi4_digest(wrecv, np * (me + 1)) * 23;
        long t = mpi4_sum(h), kc = mpi4_sum(k1 + k2), fsum = mpi4_sum(fr[0] - (left * 3 + s));
        if (me == 0)
            printf("step %d: %lx cancelled %ld of %d, F off by %ld\n", s, (unsigned long)t, kc,
                   2 * np, fsum);
    }
    CHECK(MPI_Request_free(&pw));
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

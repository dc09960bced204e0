/* MPI-4's MPI_Isendrecv(_replace) and persistent collectives across global snapshots
 * (rst_mpi4.sh; MPICH 4.0, the library that has them):
 *
 *   rst_mpi4 STEPS CKPT_STEP CKPT_STEP2
 *
 * Every step starts a persistent MPI_Allreduce_init request, posts three pairs on a ring
 * (MPI_Isendrecv whose message was sent before, MPI_Isendrecv_c whose receive waits for a
 * message the left neighbour sends only later, MPI_Isendrecv_replace), and
 * at CKPT_STEP (and, in a job restarted from a snapshot, at CKPT_STEP2) calls MPIX_Checkpoint
 * with all of them in flight, so that the snapshot's drain completes the persistent collective
 * and the sends, holds or completes the receives, and a restart posts the late one again. Then
 * the late message is sent, everything completed, and two persistent collectives that were
 * inactive meanwhile are started (MPI_Bcast_init_c and MPI_Neighbor_allgather_init on a ring
 * topology; one with MPI_Startall). Rank 0 prints one line per step (every buffer and status
 * summed over the ranks); natively MPIX_Checkpoint returns an error and changes nothing, so the
 * lines equal an uninterrupted run's in every generation. (Contiguous data and no status fields
 * of the pairs: MPICH 4.0.2's own MPI_Isendrecv_replace of a strided datatype gives wrong data
 * natively, and its MPI_Isendrecv leaves the status's source and tag undefined.) */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#define N 16

int main(int argc, char **argv)
{
    struct mpi4_run run = mpi4_start(&argc, &argv, "rst_mpi4");
    int steps = run.steps;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    long pin[N], pout[N], bc[N], nb_in[2], nb_out[2], a[N], b[N], c[N], d[N], x[2 * N], late[2];
    MPI_Request pa, pb, pn;
    CHECK(MPI_Allreduce_init(pin, pout, N, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, MPI_INFO_NULL, &pa));
    CHECK(MPI_Bcast_init_c(bc, N, MPI_LONG, np - 1, MPI_COMM_WORLD, MPI_INFO_NULL, &pb));
    MPI_Comm ring;
    int dims[1] = { np }, periods[1] = { 1 };
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &ring));
    CHECK(MPI_Neighbor_allgather_init(nb_out, 1, MPI_LONG, nb_in, 1, MPI_LONG, ring, MPI_INFO_NULL, &pn));
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++) {
            pin[i] = me * 1000 + s * 10 + i;
            a[i] = me * 7 + s + i;
            c[i] = me * 11 - s + i;
            b[i] = d[i] = -1;
        }
        for (int i = 0; i < 2 * N; i++)
            x[i] = me * 100 + s * 3 + i;
        late[0] = me + s;
        MPI_Request q[4];
        CHECK(MPI_Start(&pa));
        CHECK(MPI_Isendrecv(a, N, MPI_LONG, right, 1, b, N, MPI_LONG, left, 1, MPI_COMM_WORLD, &q[0]));
        /* its receive waits for the message the left neighbour sends after the checkpoint */
        CHECK(MPI_Isendrecv_c(c, N, MPI_LONG, left, 2, d, 1, MPI_LONG, left, 3, MPI_COMM_WORLD, &q[1]));
        CHECK(MPI_Isendrecv_replace(x, 2 * N, MPI_LONG, right, 4, left, 4, MPI_COMM_WORLD, &q[2]));
        q[3] = pa;
        mpi4_ckpt_step(&run, s);
        long rcv[N];
        CHECK(MPI_Sendrecv(late, 1, MPI_LONG, right, 3, rcv, N, MPI_LONG, right, 2, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE)); /* the late message out; tag 2 is the pair's send */
        /* (the pair's own tag-2 send went to the left neighbour: its right is this rank) */
        CHECK(MPI_Waitall(4, q, MPI_STATUSES_IGNORE));
        pa = q[3];
        long h = mpi4_digest(b, N) ^ mpi4_digest(d, 1) * 3 ^ mpi4_digest(x, 2 * N) * 5 ^
                 mpi4_digest(pout, N) * 7;
        for (int i = 0; i < N; i++)
            bc[i] = me == np - 1 ? s * 5 + i : -1;
        nb_out[0] = me * 3 + s;
        MPI_Request r2[2] = { pb, pn };
        CHECK(MPI_Startall(2, r2));
        CHECK(MPI_Waitall(2, r2, MPI_STATUSES_IGNORE));
        pb = r2[0];
        pn = r2[1];
        h ^= mpi4_digest(bc, N) * 19 ^ mpi4_digest(nb_in, 2) * 23 ^ mpi4_digest(rcv, N) * 29;
        long t = mpi4_sum(h);
        if (me == 0)
            printf("step %d: %lx\n", s, (unsigned long)t);
    }
    CHECK(MPI_Request_free(&pa));
    CHECK(MPI_Request_free(&pb));
    CHECK(MPI_Request_free(&pn));
    CHECK(MPI_Comm_free(&ring));
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

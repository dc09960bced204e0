/* A rank program for rst_refs.sh: more than 65536 persistent requests on one datatype at once.
 *
 *   rst_refs STEPS PACEFILE MS NREQ
 *
 * It makes a derived datatype (2 ints) and keeps it to the end; NREQ persistent requests on it,
 * all alive together (half MPI_Send_init to the right neighbour in the ring of ranks, half
 * MPI_Recv_init from the left one, on MPI_COMM_WORLD); then STEPS steps, each starting one
 * send and one receive of them (a different pair each step), exchanging the datatype directly
 * with MPI_Sendrecv too, rank 0 printing "step S: SUM". At the end it frees every request,
 * exchanges the datatype once more, frees it and prints "done: SUM". Every error returns
 * (MPI_ERRORS_RETURN) and is printed with what failed ("rst_refs rank R: FAIL: ...").
 * What it shows: each persistent request is one more reference to the datatype's handle in
 * Revive's MPI layer, counted in 16 bits before session 41: past 65536 requests the count
 * wrapped, the handle went with a later MPI_Request_free while the program and the other
 * requests still held it, and the restart freed the datatype the program kept. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "rst_pace.h"

static int me;

static void check(int rc, const char *what, int step)
{
    if (rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int l = 0;
        MPI_Error_string(rc, s, &l);
        fprintf(stderr, "rst_refs rank %d: FAIL: %s at step %d: %s\n", me, what, step, s);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: rst_refs STEPS PACEFILE MS NREQ\n");
        return 2;
    }
    struct rst_run r = rst_begin(&argc, &argv, "rst_refs");
    int half = atoi(argv[4]) / 2;
    me = r.me;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Datatype pair;
    check(MPI_Type_contiguous(2, MPI_INT, &pair), "MPI_Type_contiguous", -1);
    check(MPI_Type_commit(&pair), "MPI_Type_commit", -1);
    MPI_Request *req = malloc(2 * (size_t)half * sizeof *req);
    if (half < 1 || !req) {
        fprintf(stderr, "rst_refs: bad NREQ or out of memory\n");
        return 2;
    }
    int sb[2], rb[2], sx[2], rx[2];
    for (int i = 0; i < half; i++) {
        check(MPI_Send_init(sb, 1, pair, r.right, 4, MPI_COMM_WORLD, &req[i]), "MPI_Send_init", -1);
        check(MPI_Recv_init(rb, 1, pair, r.left, 4, MPI_COMM_WORLD, &req[half + i]),
              "MPI_Recv_init", -1);
    }
    long long acc = 0;
    for (int s = 0; s < r.steps; s++) {
        int k = (s * 7919) % half;
        MPI_Request two[2] = { req[k], req[half + k] };
        sb[0] = s * 100 + me;
        sb[1] = k;
        sx[0] = s * 3 + me;
        sx[1] = -s;
        check(MPI_Startall(2, two), "MPI_Startall", s);
        check(MPI_Waitall(2, two, MPI_STATUSES_IGNORE), "MPI_Waitall", s);
        check(MPI_Sendrecv(sx, 1, pair, r.right, 5, rx, 1, pair, r.left, 5, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE), "MPI_Sendrecv with the datatype", s);
        acc += (long long)rb[0] * 3 + rb[1] + (long long)rx[0] * 5 + rx[1];
        rst_step_sum(&r, s, acc);
    }
    for (int i = 0; i < 2 * half; i++)
        check(MPI_Request_free(&req[i]), "MPI_Request_free", r.steps);
    sx[0] = 7;
    sx[1] = me;
    check(MPI_Sendrecv(sx, 1, pair, r.right, 6, rx, 1, pair, r.left, 6, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE), "MPI_Sendrecv with the datatype after the requests",
          r.steps);
    acc += (long long)rx[0] * 11 + rx[1];
    check(MPI_Type_free(&pair), "MPI_Type_free", r.steps);
    free(req);
    rst_done_sum(&r, acc);
    MPI_Finalize();
    return 0;
}

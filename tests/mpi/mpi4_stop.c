/* MPI-4 calls of the kinds Revive's layer did not forward: one of them, named by the argument,
 * used correctly. Natively rank 0 prints "CALL ok"; under Revive the job must stop at a call the
 * layer still refuses with one message naming it, and one the layer now wraps (isendrecv,
 * isendrecv_replace, allreduce_init, sendrecv_c) must print the same (mpi4_stop.sh). MPICH 4.0
 * has them all; Open MPI 4.1 only its MPIX_ persistent collectives (mpi-ext.h).
 *
 *   mpi4_stop isendrecv|isendrecv_replace|allreduce_init|psend_init|session_init|
 *             comm_create_from_group|sendrecv_c|type_get_envelope_c|mpix_allreduce_init */
#include "mpitest.h"
#ifdef OPEN_MPI
#include <mpi-ext.h>
#endif

#include <string.h>

int main(int argc, char **argv)
{
    start(&argc, &argv);
    const char *call = argc > 1 ? argv[1] : "";
    int right = (me + 1) % np, left = (me + np - 1) % np, x = me, y = -1;
    MPI_Request rq;
    (void)right;
    (void)left;
    (void)rq;
    if (0) {
#ifdef OMPI_HAVE_MPI_EXT_PCOLLREQ
    } else if (!strcmp(call, "mpix_allreduce_init")) {
        CHECK(MPIX_Allreduce_init(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, MPI_INFO_NULL, &rq));
        CHECK(MPI_Start(&rq));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
        CHECK(MPI_Request_free(&rq));
#endif
#if MPI_VERSION >= 4
    } else if (!strcmp(call, "isendrecv")) {
        CHECK(MPI_Isendrecv(&x, 1, MPI_INT, right, 1, &y, 1, MPI_INT, left, 1, MPI_COMM_WORLD, &rq));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    } else if (!strcmp(call, "isendrecv_replace")) {
        CHECK(MPI_Isendrecv_replace(&x, 1, MPI_INT, right, 1, left, 1, MPI_COMM_WORLD, &rq));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    } else if (!strcmp(call, "allreduce_init")) {
        CHECK(MPI_Allreduce_init(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, MPI_INFO_NULL, &rq));
        CHECK(MPI_Start(&rq));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
        CHECK(MPI_Request_free(&rq));
    } else if (!strcmp(call, "psend_init")) {
        MPI_Request s;
        CHECK(MPI_Precv_init(&y, 1, 1, MPI_INT, left, 2, MPI_COMM_WORLD, MPI_INFO_NULL, &rq));
        CHECK(MPI_Psend_init(&x, 1, 1, MPI_INT, right, 2, MPI_COMM_WORLD, MPI_INFO_NULL, &s));
        CHECK(MPI_Start(&rq));
        CHECK(MPI_Start(&s));
        CHECK(MPI_Pready(0, s));
        CHECK(MPI_Wait(&s, MPI_STATUS_IGNORE));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
        CHECK(MPI_Request_free(&s));
        CHECK(MPI_Request_free(&rq));
    } else if (!strcmp(call, "session_init")) {
        MPI_Session s;
        CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
        CHECK(MPI_Session_finalize(&s));
    } else if (!strcmp(call, "comm_create_from_group")) {
        MPI_Group g;
        MPI_Comm c;
        CHECK(MPI_Comm_group(MPI_COMM_WORLD, &g));
        CHECK(MPI_Comm_create_from_group(g, "revive.mpi4_stop", MPI_INFO_NULL, MPI_ERRORS_RETURN, &c));
        CHECK(MPI_Comm_free(&c));
        CHECK(MPI_Group_free(&g));
    } else if (!strcmp(call, "sendrecv_c")) {
        CHECK(MPI_Sendrecv_c(&x, 1, MPI_INT, right, 3, &y, 1, MPI_INT, left, 3, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE));
    } else if (!strcmp(call, "type_get_envelope_c")) {
        MPI_Count ni, na, nc, nd;
        int comb;
        CHECK(MPI_Type_get_envelope_c(MPI_INT, &ni, &na, &nc, &nd, &comb));
#endif
    } else {
        fprintf(stderr, "mpi4_stop: unknown call '%s'\n", call);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (me == 0)
        printf("%s ok\n", call);
    MPI_Finalize();
    return 0;
}

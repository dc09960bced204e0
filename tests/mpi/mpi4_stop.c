/* MPI-4 calls Revive's layer does not forward yet (MPICH 4.0 has them; Open MPI 4.1 has none):
 * one of them, named by the argument, used correctly. Natively rank 0 prints "CALL ok"; under
 * Revive the job must stop at the call with one message naming it (mpi4_stop-mpich.sh).
 *
 *   mpi4_stop isendrecv|isendrecv_replace|allreduce_init|psend_init|session_init */
#include "mpitest.h"

#include <string.h>

int main(int argc, char **argv)
{
    start(&argc, &argv);
    const char *call = argc > 1 ? argv[1] : "";
    int right = (me + 1) % np, left = (me + np - 1) % np, x = me, y = -1;
    MPI_Request rq;
    if (!strcmp(call, "isendrecv")) {
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
    } else {
        fprintf(stderr, "mpi4_stop: unknown call '%s'\n", call);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (me == 0)
        printf("%s ok\n", call);
    MPI_Finalize();
    return 0;
}

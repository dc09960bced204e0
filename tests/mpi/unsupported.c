/* Calls MPI_Comm_spawn (dynamic processes), which Revive does not support: under Revive the job
 * must stop with a message naming the call. "unsupported early NAME": calls NAME (one of the
 * calls the layer writes by hand, whose check that MPI_Init ran asks for another call's entry of
 * the lower half) before MPI_Init: the message must name NAME (diffrev46 R-L6:
 * MPI_Grequest_start was "MPI_Wait was called before MPI_Init"). */
#include "mpitest.h"
#include <string.h>

static int query(void *x, MPI_Status *st)
{
    (void)x;
    (void)st;
    return MPI_SUCCESS;
}

static int nothing(void *x)
{
    (void)x;
    return MPI_SUCCESS;
}

static int nocancel(void *x, int done)
{
    (void)x;
    (void)done;
    return MPI_SUCCESS;
}

static void early(const char *name)
{
    MPI_Request rq = MPI_REQUEST_NULL;
    MPI_Message m = MPI_MESSAGE_NULL;
    MPI_Status st;
    int flag, x[2] = {0, 0};
    if (!strcmp(name, "MPI_Grequest_start"))
        MPI_Grequest_start(query, nothing, nocancel, NULL, &rq);
    else if (!strcmp(name, "MPI_Grequest_complete"))
        MPI_Grequest_complete(rq);
    else if (!strcmp(name, "MPI_Probe"))
        MPI_Probe(0, 0, MPI_COMM_WORLD, &st);
    else if (!strcmp(name, "MPI_Mprobe"))
        MPI_Mprobe(0, 0, MPI_COMM_WORLD, &m, &st);
    else if (!strcmp(name, "MPI_Mrecv"))
        MPI_Mrecv(x, 1, MPI_INT, &m, &st);
    else if (!strcmp(name, "MPI_Iprobe"))
        MPI_Iprobe(0, 0, MPI_COMM_WORLD, &flag, &st);
#if MPI_VERSION >= 4
    else if (!strcmp(name, "MPI_Isendrecv"))
        MPI_Isendrecv(x, 1, MPI_INT, 0, 0, x + 1, 1, MPI_INT, 0, 0, MPI_COMM_SELF, &rq);
    else if (!strcmp(name, "MPI_Isendrecv_replace"))
        MPI_Isendrecv_replace(x, 1, MPI_INT, 0, 0, 0, 0, MPI_COMM_SELF, &rq);
#endif
    else {
        fprintf(stderr, "unsupported: early: no call %s here\n", name);
        exit(2);
    }
    printf("%s returned\n", name);
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "early"))
        early(argv[2]);
    start(&argc, &argv);
    MPI_Comm inter;
    char *args[] = { NULL };
    CHECK(MPI_Comm_spawn("true", args, 1, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter,
                         MPI_ERRCODES_IGNORE));
    if (me == 0)
        printf("spawn ok\n");
    MPI_Finalize();
    return 0;
}

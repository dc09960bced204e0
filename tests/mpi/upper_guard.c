/* Calls an internal function of the application's copy of the MPI library directly, as a path
 * the layer does not route would: under Revive the copy's code is unreachable after MPI_Init,
 * so the rank must stop with the layer's message naming the function (upper_guard.sh). The
 * functions chosen would do no harm if they ran: Open MPI's opal_argv_count (libopen-pal) and
 * ompi_crcp_base_none_open (libmpi, returns 0), MPICH's MPIR_Dup_fn (copies a pointer).
 * Argument (Open MPI): "pal" or "mpi", the library to enter. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
#ifdef OPEN_MPI
    const char *name = argc > 1 && !strcmp(argv[1], "mpi") ? "ompi_crcp_base_none_open" : "opal_argv_count";
#else
    const char *name = "MPIR_Dup_fn";
#endif
    void *f = dlsym(RTLD_DEFAULT, name);
    if (!f) {
        printf("%s not found\n", name);
        return 2;
    }
    printf("calling %s\n", name);
    fflush(stdout);
#ifdef OPEN_MPI
    int r = strcmp(name, "opal_argv_count") ? ((int (*)(void))f)() : ((int (*)(char **))f)(argv);
#else
    void *in = &argc, *out = NULL;
    int flag = 0;
    int r = ((int (*)(MPI_Comm, int, void *, void *, void *, int *))f)(MPI_COMM_WORLD, 0, NULL, in, &out, &flag);
#endif
    printf("%s returned %d\n", name, r);
    MPI_Finalize();
    return 0;
}

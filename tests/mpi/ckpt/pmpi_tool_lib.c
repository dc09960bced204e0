/* A PMPI profiling tool, as mpiP, IPM or Darshan are made (pmpi_tool.sh): MPI_X wrappers that count
 * the calls and their bytes and call PMPI_X. At MPI_Finalize each rank prints one line, "tool rank
 * R: ..." with its counts since MPI_Init; MPI_Pcontrol (variadic) sums the levels it was given.
 * Built with -DVIA_RTLD_NEXT: each wrapper reaches PMPI_X with dlsym(RTLD_NEXT, "PMPI_X"), as
 * Darshan's preloaded build does.
 * Built with -DPMPI_LEVEL instead: a wrapper of PMPI_Barrier itself, reaching the next definition
 * with dlsym(RTLD_NEXT) (a tool of the PMPI layer), which cannot run under Revive: the layer says
 * so at MPI_Init. */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>

#ifdef PMPI_LEVEL
#include <dlfcn.h>

int PMPI_Barrier(MPI_Comm comm);

int PMPI_Barrier(MPI_Comm comm)
{
    int (*next)(MPI_Comm) = (int (*)(MPI_Comm))dlsym(RTLD_NEXT, "PMPI_Barrier");
    fprintf(stderr, "pmpi_tool_lib: PMPI_Barrier wrapped\n");
    return next ? next(comm) : MPI_ERR_INTERN;
}
#else
#ifdef VIA_RTLD_NEXT
#include <dlfcn.h>
#include <stdlib.h>

static void *next_of(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "pmpi_tool_lib: dlsym(RTLD_NEXT, %s): %s\n", name, dlerror());
        abort();
    }
    return f;
}
#define REAL(f) ((__typeof__(&f))next_of(#f))
#else
#define REAL(f) f
#endif

static long n_init, n_allreduce, n_bcast, n_send, n_recv, n_reduce, n_pcontrol, levels, bytes;

static long size_of(int count, MPI_Datatype t)
{
    int sz = 0;
    REAL(PMPI_Type_size)(t, &sz);
    return (long)count * sz;
}

int MPI_Init(int *argc, char ***argv)
{
    n_init++;
    return REAL(PMPI_Init)(argc, argv);
}

int MPI_Allreduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m)
{
    n_allreduce++;
    bytes += size_of(c, t);
    return REAL(PMPI_Allreduce)(s, r, c, t, o, m);
}

int MPI_Bcast(void *b, int c, MPI_Datatype t, int root, MPI_Comm m)
{
    n_bcast++;
    bytes += size_of(c, t);
    return REAL(PMPI_Bcast)(b, c, t, root, m);
}

int MPI_Send(const void *b, int c, MPI_Datatype t, int dest, int tag, MPI_Comm m)
{
    n_send++;
    bytes += size_of(c, t);
    return REAL(PMPI_Send)(b, c, t, dest, tag, m);
}

int MPI_Recv(void *b, int c, MPI_Datatype t, int src, int tag, MPI_Comm m, MPI_Status *st)
{
    n_recv++;
    return REAL(PMPI_Recv)(b, c, t, src, tag, m, st);
}

int MPI_Reduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, int root, MPI_Comm m)
{
    n_reduce++;
    bytes += size_of(c, t);
    return REAL(PMPI_Reduce)(s, r, c, t, o, root, m);
}

int MPI_Pcontrol(const int level, ...)
{
    n_pcontrol++;
    levels += level;
    va_list ap;
    va_start(ap, level);
    if (level == 7) /* a tool's own convention: one more argument */
        levels += va_arg(ap, int);
    va_end(ap);
    return REAL(PMPI_Pcontrol)(level);
}

int MPI_Finalize(void)
{
    int rank = -1;
    REAL(PMPI_Comm_rank)(MPI_COMM_WORLD, &rank);
    printf("tool rank %d: init %ld allreduce %ld bcast %ld send %ld recv %ld reduce %ld pcontrol %ld"
           " levels %ld bytes %ld\n", rank, n_init, n_allreduce, n_bcast, n_send, n_recv, n_reduce,
           n_pcontrol, levels, bytes);
    fflush(stdout);
    return REAL(PMPI_Finalize)();
}
#endif

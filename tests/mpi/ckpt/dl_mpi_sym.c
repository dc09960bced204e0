/* dl_mpi_sym STEPS PACEFILE MS [LIBRARY]: an MPI program that is not linked against MPI and calls the
 * library only through dlsym on the handle dlopen gave for it, as Julia's MPI.jl, Python's ctypes
 * and cffi bindings, and R's Rmpi with dynamic loading do: dlopen(SONAME, RTLD_NOW | RTLD_LOCAL),
 * then dlsym(handle, "MPI_Init"), ..., the predefined objects of Open MPI by their symbols
 * (ompi_mpi_comm_world, ...), MPICH's by their integer values. LIBRARY (a path) is dlopen'ed
 * instead of the soname: a copy of the library in another file, as an MPI bundled with Julia's
 * MPI.jl or a Python package is. Built with the plain C compiler,
 * once per MPI (-DDL_MPICH for MPICH: dl_mpi.sh). STEPS steps of an Allreduce, a ring
 * Sendrecv and a Bcast, sleeping MS ms after each step while PACEFILE exists; rank 0 prints
 * "step K: SUM" and "done: STEPS H0 H1 ..". */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifdef DL_MPICH
typedef int H; /* MPICH's handles are integers */
#define SONAME "libmpich.so.12"
#define OBJ(sym, value) ((H)(value))
#define COMM_WORLD OBJ(MPI_COMM_WORLD, 0x44000000)
#define T_LONG OBJ(MPI_LONG, 0x4c000807)
#define T_UINT64 OBJ(MPI_UINT64_T, 0x4c00083e)
#define OP_SUM OBJ(MPI_SUM, 0x58000003)
#else
typedef void *H; /* Open MPI's are the addresses of the library's objects */
#define SONAME "libmpi.so.40"
#define OBJ(sym, value) ((H)need(sym))
#define COMM_WORLD OBJ("ompi_mpi_comm_world", 0)
#define T_LONG OBJ("ompi_mpi_long", 0)
#define T_UINT64 OBJ("ompi_mpi_uint64_t", 0)
#define OP_SUM OBJ("ompi_mpi_op_sum", 0)
#endif

static void *lib;

static void *need(const char *name)
{
    dlerror();
    void *p = dlsym(lib, name);
    const char *e = dlerror(); /* none after a lookup that succeeded (the usual check) */
    if (!p || e) {
        fprintf(stderr, "dl_mpi_sym: %s in %s: %s\n", name, SONAME, e ? e : "not found");
        exit(2);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: dl_mpi_sym STEPS PACEFILE MS [LIBRARY]\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]);
    const char *pace = argv[2];
    lib = dlopen(argc > 4 ? argv[4] : SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dl_mpi_sym: %s\n", dlerror());
        return 2;
    }
    int (*init)(int *, char ***) = (int (*)(int *, char ***))need("MPI_Init");
    int (*fin)(void) = (int (*)(void))need("MPI_Finalize");
    int (*rank_of)(H, int *) = (int (*)(H, int *))need("MPI_Comm_rank");
    int (*size_of)(H, int *) = (int (*)(H, int *))need("MPI_Comm_size");
    int (*allreduce)(const void *, void *, int, H, H, H) =
        (int (*)(const void *, void *, int, H, H, H))need("MPI_Allreduce");
    int (*sendrecv)(const void *, int, H, int, int, void *, int, H, int, int, H, void *) =
        (int (*)(const void *, int, H, int, int, void *, int, H, int, int, H, void *))need(
            "MPI_Sendrecv");
    int (*bcast)(void *, int, H, int, H) = (int (*)(void *, int, H, int, H))need("MPI_Bcast");
    int (*gather)(const void *, int, H, void *, int, H, int, H) =
        (int (*)(const void *, int, H, void *, int, H, int, H))need("MPI_Gather");
    H world = COMM_WORLD, lng = T_LONG, u64 = T_UINT64, sum = OP_SUM;
    if (init(&argc, &argv) != 0)
        return 3;
    int r, n;
    rank_of(world, &r);
    size_of(world, &n);
    long acc = r + 1;
    uint64_t h = 7;
    for (int s = 0; s < steps; s++) {
        long y, in, b;
        long st[16]; /* an MPI_Status of either library (MPICH's MPI_STATUS_IGNORE is not NULL) */
        allreduce(&acc, &y, 1, lng, sum, world);
        sendrecv(&y, 1, lng, (r + 1) % n, s, &in, 1, lng, (r + n - 1) % n, s, world, st);
        acc = (acc * 31 + y + in) % 1000003;
        b = r == 0 ? acc + s : 0;
        bcast(&b, 1, lng, 0, world);
        h = h * 1000003u + (uint64_t)acc + 3u * (uint64_t)b;
        if (r == 0) {
            printf("step %d: %ld\n", s, y);
            fflush(stdout);
        }
        if (access(pace, F_OK) == 0) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    uint64_t *all = malloc(sizeof *all * (size_t)n);
    gather(&h, 1, u64, all, 1, u64, 0, world);
    if (r == 0) {
        printf("done: %d", steps);
        for (int i = 0; i < n; i++)
            printf(" %llu", (unsigned long long)all[i]);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    fin();
    return 0;
}

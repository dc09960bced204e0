/* dl_own STEPS PACEFILE MS: an MPI program that defines dlsym itself (owndlsym_wrap.c, linked
 * in: counts its calls and forwards to the C library's dlsym, found with dlvsym, as tracing
 * tools and profilers do), dl_own.sh. Before, libcr and the MPI layer found the libc calls they
 * stand in front of through the symbol dlsym, so through the program's, whose RTLD_NEXT is
 * relative to the program: each took its own function for the next one, and the rank died of
 * SIGSEGV (endless recursion) before MPI_Init returned (diffrev38 R-L8).
 * Each step: a ring exchange and an Allreduce of values made with functions the program looks
 * up through its dlsym (cos of a dlopen'ed libm, MPI_Allreduce by RTLD_DEFAULT: the layer's),
 * rank 0 prints "step S: SUM"; "done: ..." at the end. Sleeps MS ms after each step while
 * PACEFILE exists (rst_pace.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "rst_pace.h"

unsigned long crt_own_dlsym_calls(void); /* owndlsym_wrap.c's */

typedef int allreduce_fn(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm);

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "dl_own");
    void *libm = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
    if (!libm) {
        fprintf(stderr, "dl_own: dlopen libm.so.6: %s\n", dlerror());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    long long acc = r.me + 1;
    for (int s = 0; s < r.steps; s++) {
        double (*cosine)(double) = (double (*)(double))dlsym(libm, "cos");
        allreduce_fn *allreduce = (allreduce_fn *)dlsym(RTLD_DEFAULT, "MPI_Allreduce");
        if (!cosine || !allreduce) {
            fprintf(stderr, "dl_own: step %d: dlsym: %s\n", s, dlerror());
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        long long in = 0, sum = 0;
        MPI_Sendrecv(&acc, 1, MPI_LONG_LONG, r.right, s, &in, 1, MPI_LONG_LONG, r.left, s,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        acc = (acc * 31 + in + (long long)(cosine(0.001 * (double)(s + r.me)) * 1e6)) % 1000000007;
        allreduce(&acc, &sum, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (r.me == 0) {
            printf("step %d: %lld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(r.pace, r.ms, r.steps - 1 - s);
    }
    rst_done_sum(&r, acc);
    /* the program's own lookups went through its dlsym (restored with the rest of its memory) */
    int bad = crt_own_dlsym_calls() < 2 * (unsigned long)r.steps;
    if (bad)
        fprintf(stderr, "dl_own: rank %d: its dlsym had %lu calls, fewer than its own lookups\n",
                r.me, crt_own_dlsym_calls());
    MPI_Finalize();
    return bad ? 3 : 0;
}

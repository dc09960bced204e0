/* rank_fdlib STEPS PACEFILE MS LIBD: a rank using descriptors its libraries opened in their
 * constructors (rank_fdlib_lib.c; rank_fdlib.sh). Before MPI_Init it dlopens LIBD (libfdl_d.so)
 * and finds libfdl_p.so's descriptor (preloaded, when it is). Every step each rank writes 2 bytes
 * to each library's /dev/null (checked to be /dev/null still: not a number a restart gave the
 * MPI library or the launcher), passes the step's byte through each library's pipe, and reads
 * the next 8-byte line of fdlib.in (libfdl_b.so's, the file of the folder it started in): its
 * number goes into the rank's sum. A call that fails counts 1000003 into the sum (the results then
 * differ from the uninterrupted run's) and is said once on stderr. Rank 0 prints "step S: SUM"
 * and "done: SUM". */
#define _GNU_SOURCE
#include "rst_pace.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

extern int fdl_a_null, fdl_a_pipe[2];
int *fdl_a_input(void);
static int me, said;

static long long failure(const char *what, int fd, int s)
{
    if (!said++)
        fprintf(stderr, "rank_fdlib rank %d: step %d: descriptor %d: %s: %s\n", me, s, fd, what,
                strerror(errno));
    return 1000003;
}

static long long null_write(int fd, int s)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return failure("fstat of a library's /dev/null", fd, s);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        errno = EBADF;
        return failure("a library's /dev/null is another file now", fd, s);
    }
    return write(fd, "x\n", 2) == 2 ? 0 : failure("write to a library's /dev/null", fd, s);
}

static long long through_pipe(const int *p, int s)
{
    unsigned char b = (unsigned char)s, back = 0;
    if (write(p[1], &b, 1) != 1)
        return failure("write to a library's pipe", p[1], s);
    if (read(p[0], &back, 1) != 1 || back != b)
        return failure("read of a library's pipe", p[0], s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: rank_fdlib STEPS PACEFILE MS LIBD\n");
        return 2;
    }
    void *h = dlopen(argv[4], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "rank_fdlib: %s\n", dlerror());
        return 2;
    }
    int *d_null = dlsym(h, "fdl_d_null"), *d_pipe = dlsym(h, "fdl_d_pipe");
    int *p_null = dlsym(RTLD_DEFAULT, "fdl_p_null");
    int *b_in = fdl_a_input(); /* libfdl_a.so's dependency's, not the program's */
    struct rst_run r = rst_begin(&argc, &argv, "rank_fdlib");
    me = r.me;
    if (!d_null || !d_pipe || *d_null < 0 || *d_pipe < 0 || fdl_a_null < 0 || fdl_a_pipe[0] < 0 ||
        *b_in < 0 || (p_null && *p_null < 0)) {
        fprintf(stderr, "rank_fdlib rank %d: a library's constructor did not open its descriptors\n", me);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    if (me == 0)
        fprintf(stderr, "rank_fdlib: descriptors a %d %d,%d b %d d %d %d,%d p %d\n", fdl_a_null,
                fdl_a_pipe[0], fdl_a_pipe[1], *b_in, *d_null, d_pipe[0], d_pipe[1], p_null ? *p_null : -1);
    long long acc = 0;
    for (int s = 0; s < r.steps; s++) {
        char line[9] = { 0 };
        acc += null_write(fdl_a_null, s) + null_write(*d_null, s) + (p_null ? null_write(*p_null, s) : 0);
        acc += through_pipe(fdl_a_pipe, s) + through_pipe(d_pipe, s);
        if (read(*b_in, line, 8) == 8)
            acc += atoll(line) * (me + 1);
        else
            acc += failure("read of a library's input file", *b_in, s);
        rst_step_sum(&r, s, acc);
    }
    rst_done_sum(&r, acc);
    MPI_Finalize();
    return 0;
}

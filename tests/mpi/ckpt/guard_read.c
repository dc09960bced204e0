/* guard_read: whether the guard page below a thread's stack stops a read (it must not under
 * Revive: halves.h, pml_guard_readable) and a write (it must, natively and under Revive). A
 * thread started after MPI_Init finds its guard (pthread_getattr_np), reads a byte of it and
 * writes one, each under a SIGSEGV handler, and rank 0 prints
 *   guard: read ok|faults, write ok|faults, perms P
 * with P the permissions /proc/self/maps gives the page. Then every rank writes a file with
 * MPI_File_iwrite (the libraries' POSIX AIO starts threads of the library's libc, which the
 * layer does not start) and rank 0 prints whether /proc/self/maps still shows thread-stack
 * guards that fault on a read:
 *   inaccessible stack guards after MPI_File_iwrite: some|none Why: Open MPI 4.1 reads past the end of
 * a keyval made from Fortran (ompi_attr_delete_impl); under Revive the lower libc's malloc
 * places its segments right below the newest mapping, often a thread stack, and such a read
 * ended in the guard page now and then (SIGSEGV in MPI_Comm_free; rst_flegacy). */
#define _GNU_SOURCE
#include <mpi.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sigjmp_buf jb;
static char line[128];

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

static void perms_of(uintptr_t p, char *out)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char buf[512];
    strcpy(out, "none");
    while (f && fgets(buf, sizeof buf, f)) {
        unsigned long lo, hi;
        char pr[8];
        if (sscanf(buf, "%lx-%lx %7s", &lo, &hi, pr) == 3 && lo <= p && p < hi) {
            strcpy(out, pr);
            break;
        }
    }
    if (f)
        fclose(f);
}

static void *probe(void *unused)
{
    (void)unused;
    pthread_attr_t a;
    void *addr;
    size_t size, guard = 0;
    if (pthread_getattr_np(pthread_self(), &a) || pthread_attr_getstack(&a, &addr, &size) ||
        pthread_attr_getguardsize(&a, &guard) || guard == 0) {
        snprintf(line, sizeof line, "guard: none found");
        return NULL;
    }
    pthread_attr_destroy(&a);
    volatile char *g = (volatile char *)(((uintptr_t)addr - guard) & ~(uintptr_t)4095);
    char pr[8];
    perms_of((uintptr_t)g, pr);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old);
    int rd = 0, wr = 0;
    if (!sigsetjmp(jb, 1)) {
        (void)*g;
        rd = 1;
    }
    if (!sigsetjmp(jb, 1)) {
        *g = 1;
        wr = 1;
    }
    sigaction(SIGSEGV, &old, NULL);
    snprintf(line, sizeof line, "guard: read %s, write %s, perms %s", rd ? "ok" : "faults",
             wr ? "ok" : "faults", pr);
    return NULL;
}

/* Inaccessible pages (---p, anonymous, at most 64 KiB) right below an anonymous read-write
 * mapping: the guards of thread stacks that still fault on a read. */
static int inaccessible_guards(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char buf[512];
    unsigned long plo = 0, phi = 0;
    int prev_guard = 0, n = 0;
    while (f && fgets(buf, sizeof buf, f)) {
        unsigned long lo, hi, off, ino;
        char pr[8], dev[16];
        int path = 0;
        if (sscanf(buf, "%lx-%lx %7s %lx %15s %lu %n", &lo, &hi, pr, &off, dev, &ino, &path) < 6)
            continue;
        int anon = ino == 0 && (path == 0 || buf[path] == '\n' || buf[path] == '\0');
        if (prev_guard && anon && lo == phi && !strcmp(pr, "rw-p"))
            n++;
        prev_guard = anon && !strcmp(pr, "---p") && hi - lo <= 65536;
        plo = lo;
        phi = hi;
    }
    (void)plo;
    if (f)
        fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    int me;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    pthread_t t;
    if (pthread_create(&t, NULL, probe, NULL) || pthread_join(t, NULL))
        snprintf(line, sizeof line, "guard: no thread");
    if (me == 0)
        printf("%s\n", line);
    /* nonblocking file I/O: both libraries use POSIX AIO, whose threads the library's libc starts
     * by itself (no pthread_create the layer sees) */
    char path[4096];
    snprintf(path, sizeof path, "%s/guard_read.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", me);
    MPI_File fh;
    MPI_Request rq;
    static char data[1 << 16];
    if (MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                      MPI_INFO_NULL, &fh) == MPI_SUCCESS &&
        MPI_File_iwrite(fh, data, sizeof data, MPI_CHAR, &rq) == MPI_SUCCESS &&
        MPI_Wait(&rq, MPI_STATUS_IGNORE) == MPI_SUCCESS) {
        int n = inaccessible_guards();
        if (me == 0)
            printf("inaccessible stack guards after MPI_File_iwrite: %s\n", n ? "some" : "none");
        MPI_File_close(&fh);
    } else if (me == 0) {
        printf("MPI_File_iwrite failed\n");
    }
    MPI_Finalize();
    return 0;
}

/* The cost of a shared-memory window at a checkpoint (bench/mpi/shwin.sh). The library's
 * segment behind MPI_Win_allocate_shared is not in an image: each snapshot copies this rank's
 * part into application memory (src/pml_hooks/win_ckpt.c), which the image then holds. The
 * baseline is the same number of bytes of ordinary application memory (malloc), which the image
 * holds directly. Each rank fills its memory, then the job checkpoints itself REPS times (the
 * layer's pml_restart_capture, as tests/mpi/ckpt/rst_step.c; under Revive only) into $TMPDIR.
 * Rank 0 prints "name value unit" lines: the best checkpoint time (the slowest rank's), the size
 * of its image, its resident memory after the checkpoints and how much that grew during them
 * (a copy kept after the snapshot would stay resident).
 *
 *   shwin MIB shared|private [REPS] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    long mib = argc > 1 ? atol(argv[1]) : 0;
    int shared = argc > 2 && !strcmp(argv[2], "shared");
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    int (*capture)(const char *, char *, size_t) =
        (int (*)(const char *, char *, size_t))dlsym(RTLD_DEFAULT, "pml_restart_capture");
    if (mib <= 0 || argc < 3 || (!shared && strcmp(argv[2], "private")) || reps < 1 || !capture) {
        if (me == 0)
            fprintf(stderr, "%s", !capture ? "shwin: run it under Revive (mpirun -am ft-enable-cr)\n"
                                           : "usage: shwin MIB shared|private [REPS]\n");
        MPI_Finalize();
        return 2;
    }
    size_t bytes = (size_t)mib << 20;
    char *mem;
    MPI_Win win = MPI_WIN_NULL;
    if (shared)
        MPI_Win_allocate_shared((MPI_Aint)bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    else
        mem = malloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        mem[i] = (char)(i * 7 + (size_t)me);
    const char *d = getenv("TMPDIR");
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/revive-shwin-%d-%d.img", d && *d ? d : "/tmp", (int)getppid(), me);
    long rss0 = rss_kib();
    double best = 1e30;
    long long img = -1;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (capture(path, err, sizeof err) < 0) {
            fprintf(stderr, "shwin rank %d: checkpoint: %s\n", me, err);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        double t = MPI_Wtime() - t0;
        MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (t < best)
            best = t;
        struct stat st;
        if (stat(path, &st) == 0)
            img = (long long)st.st_size;
        unlink(path);
    }
    long rss = rss_kib();
    if (me == 0) {
        printf("ckpt_%s %.1f ms\n", shared ? "shared" : "private", best * 1e3);
        printf("image_%s %.1f MiB\n", shared ? "shared" : "private", img / 1048576.0);
        printf("rss_%s %.1f MiB\n", shared ? "shared" : "private", rss / 1024.0);
        printf("rssgrow_%s %.1f MiB\n", shared ? "shared" : "private", (rss - rss0) / 1024.0);
    }
    if (shared)
        MPI_Win_free(&win);
    else
        free(mem);
    MPI_Finalize();
    return 0;
}

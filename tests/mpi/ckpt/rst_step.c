/* The shared part of the self-checkpointing rank programs (rst_step.h). */
#define _GNU_SOURCE
#include "rst_step.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int my_rank(void)
{
    int r = -1, up = 0;
    MPI_Initialized(&up);
    if (up)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

void rst_die(const char *what)
{
    fprintf(stderr, "%s rank %d: FAIL: %s\n", rst_name, my_rank(), what);
    MPI_Abort(MPI_COMM_WORLD, 3);
    exit(3);
}

int rst_checkpoint_step(const char *dir, int step, int exit_after)
{
    /* looked up once: a restarted job checkpointing again uses what the first capture found */
    static int (*capture)(const char *, char *, size_t);
    if (!capture)
        capture = (__typeof__(capture))dlsym(RTLD_DEFAULT, "pml_restart_capture");
    if (!capture)
        rst_die("pml_restart_capture is not there: run under Revive's MPI layer");
    int rank = my_rank();
    char d[4096], path[4200], err[1024];
    snprintf(d, sizeof d, "%s/s%d", dir, step);
    if (rank == 0 && mkdir(d, 0700) != 0 && errno != EEXIST)
        rst_die("cannot make the snapshot directory");
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    snprintf(path, sizeof path, "%s/rank_%d.img", d, rank);
    int r = capture(path, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "%s rank %d: checkpoint at step %d: %s\n", rst_name, rank, step, err);
        /* the tests read this line: Hydra's abort can end the proxies before they forward what
         * the ranks wrote (fresh-clone CI at c8d909b, rst_io-mpich: status 4, stderr empty) */
        sleep(1);
        MPI_Abort(MPI_COMM_WORLD, 4);
        exit(4);
    }
    if (r == 1)
        return 1;
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (exit_after) {
        fflush(stdout);
        _exit(0);
    }
    return 0;
}

long rst_total(long x)
{
    long s = 0;
    CHECK(MPI_Reduce(&x, &s, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    return s;
}

struct rst_args rst_start(int *argc, char ***argv, int first, const char *lead, int *rank, int *size)
{
    int n = *argc;
    char **v = *argv;
    if (n <= first) {
        fprintf(stderr, "usage: %s %sSTEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]\n", rst_name, lead);
        exit(2);
    }
    struct rst_args a = { .steps = atoi(v[first]), .ckpt = -1, .ckpt2 = -1 };
    a.dir = n > first + 1 ? v[first + 1] : NULL;
    if (n > first + 2) {
        a.ckpt = atoi(v[first + 2]);
        if (strchr(v[first + 2], ','))
            a.ckpt2 = atoi(strchr(v[first + 2], ',') + 1);
    }
    a.exit_after = n > first + 3 && !strcmp(v[first + 3], "--exit");
    CHECK(MPI_Init(argc, argv));
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return a;
}

/* DIR "mpix": MPIX_Checkpoint at CKPT_STEP, and in a job restarted from a snapshot at
 * CKPT_STEP2, through the layer's revive_mpix_checkpoint (what libmpix_ckpt calls; found with
 * dlsym, so the programs need no libmpix_ckpt); natively it is not there and nothing is done. */
static int mpix_step(const struct rst_args *a, int s)
{
    static int restarted;
    static int (*fn)(int, int *);
    if (s != (restarted ? a->ckpt2 : a->ckpt))
        return 0;
    if (!fn)
        fn = (__typeof__(fn))dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint");
    if (!fn)
        return 0;
    int flag = 0, rc = fn(1, &flag);
    if (rc != 0) {
        fprintf(stderr, "%s rank %d: MPIX_Checkpoint at step %d: error %d\n", rst_name, my_rank(),
                s, rc);
        rst_die("MPIX_Checkpoint");
    }
    if (flag)
        restarted = 1;
    return flag;
}

void rst_step_end(const struct rst_args *a, int s)
{
    if (!a->dir)
        return;
    int r = 0;
    if (!strcmp(a->dir, "mpix"))
        r = mpix_step(a, s);
    else if (s == a->ckpt || s == a->ckpt2)
        r = rst_checkpoint_step(a->dir, s, a->exit_after);
    if (r == 1)
        fprintf(stderr, "rank %d restarted at step %d\n", my_rank(), s);
}

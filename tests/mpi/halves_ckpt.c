/* A running MPI rank for halves_ckpt.sh: checkpointed from outside (cr_checkpoint) while it
 * communicates and a thread of its own maps and unmaps memory through the layer's hooks.
 *   halves_ckpt DIR
 * Each rank writes DIR/pid.RANK (its pid), DIR/before.RANK (the layer's classification of
 * every region, thread and descriptor: pml_halves_dump) and DIR/own.RANK (its own descriptors
 * and threads, for the script), then runs Allreduce rounds until DIR/go exists (rank 0 looks,
 * and tells the others), writes DIR/after.RANK, and finishes. Exit status 0 when every round
 * gave the right sum and the mapping thread saw its memory intact. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int me, np, fails;
static _Atomic int stop;
static _Atomic long nmaps;
static pid_t mapper_tid;

/* maps and unmaps memory through the hooks (malloc's big chunks too), checking it keeps what
 * it wrote */
static void *mapper(void *arg)
{
    (void)arg;
    mapper_tid = (pid_t)syscall(SYS_gettid);
    unsigned seed = (unsigned)getpid();
    char *keep[16] = { 0 };
    size_t len[16] = { 0 };
    while (!atomic_load(&stop)) {
        int k = (int)(rand_r(&seed) % 16);
        if (keep[k]) {
            for (size_t i = 0; i < len[k]; i += 4096)
                if (keep[k][i] != (char)k) {
                    fprintf(stderr, "rank %d: mapper: memory changed under it\n", me);
                    fails++;
                }
            if (k % 3 == 0)
                free(keep[k]);
            else
                munmap(keep[k], len[k]);
            keep[k] = NULL;
        } else {
            len[k] = (size_t)(1 + rand_r(&seed) % 64) * 65536;
            keep[k] = k % 3 == 0 ? malloc(len[k])
                                 : mmap(NULL, len[k], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (keep[k] == MAP_FAILED || !keep[k]) {
                keep[k] = NULL;
                continue;
            }
            for (size_t i = 0; i < len[k]; i += 4096)
                keep[k][i] = (char)k;
        }
        atomic_fetch_add(&nmaps, 1);
    }
    for (int k = 0; k < 16; k++)
        if (keep[k]) {
            if (k % 3 == 0)
                free(keep[k]);
            else
                munmap(keep[k], len[k]);
        }
    return NULL;
}

static void dump(const char *dir, const char *what)
{
    void (*d)(FILE *) = (void (*)(FILE *))dlsym(RTLD_DEFAULT, "pml_halves_dump");
    char p[4200];
    snprintf(p, sizeof p, "%s/%s.%d", dir, what, me);
    FILE *f = fopen(p, "w");
    if (!f || !d) {
        fprintf(stderr, "rank %d: cannot write %s%s\n", me, p, d ? "" : " (no MPI layer)");
        exit(1);
    }
    d(f);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: halves_ckpt DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    pthread_t th;
    pthread_create(&th, NULL, mapper, NULL);
    while (!mapper_tid)
        usleep(1000);

    /* descriptors of its own: a pipe and a file */
    int pfd[2];
    char p[4200];
    snprintf(p, sizeof p, "%s/file.%d", dir, me);
    int ffd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (pipe(pfd) || ffd < 0) {
        fprintf(stderr, "rank %d: pipe/open failed\n", me);
        return 1;
    }
    snprintf(p, sizeof p, "%s/own.%d", dir, me);
    FILE *o = fopen(p, "w");
    fprintf(o, "fd %d\nfd %d\nfd %d\nthread %d\nthread %d\n", pfd[0], pfd[1], ffd, (int)getpid(),
            (int)mapper_tid);
    fclose(o);
    dump(dir, "before");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/pid.%d.tmp", dir, me);
    snprintf(p, sizeof p, "%s/pid.%d", dir, me);
    o = fopen(tmp, "w");
    fprintf(o, "%d\n", (int)getpid());
    fclose(o);
    rename(tmp, p);

    snprintf(p, sizeof p, "%s/go", dir);
    long rounds = 0;
    for (int go = 0; !go; rounds++) {
        long v = me + rounds, sum = 0;
        MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (sum != (long)np * (np - 1) / 2 + np * rounds) {
            fprintf(stderr, "rank %d: round %ld: Allreduce gave %ld\n", me, rounds, sum);
            fails++;
        }
        if (me == 0) {
            go = access(p, F_OK) == 0;
            if (!go)
                usleep(2000);
        }
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
    dump(dir, "after");
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    int all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    printf("rank %d: %s: %ld Allreduce rounds, %ld maps and unmaps by its own thread\n", me,
           all ? "FAIL" : "ok", rounds, atomic_load(&nmaps));
    MPI_Finalize();
    return all ? 1 : 0;
}

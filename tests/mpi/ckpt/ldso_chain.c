/* A chain of "restarts" of a lower half without the checkpointer: each generation loads the MPI
 * library into a new dlmopen namespace (through Revive's lower root), initialises it as a
 * singleton and computes with it; then the process forks without atfork handlers (only the
 * calling thread survives, as at a restart), the child unmaps every region that appeared since
 * the generation began (the lower half's objects, arenas, thread stacks and segments) and asks
 * lower_reset.c to make ld.so forget the dead namespace; the next generation runs in the child.
 * Threads are created and joined in every generation (the stack lists), and the last one exits
 * normally (exit's walk of every namespace).
 *
 *   ldso_chain LOWER_ROOT.so GENERATIONS [noreset]
 * prints one line per generation and "PASS" at the end; with "noreset" the stale namespace is
 * left in place (to show what happens without lower_reset.c). */
#define _GNU_SOURCE
#include "pml_hooks/lower_reset.h"

#include <dlfcn.h>
#include <malloc.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXR 4096
static struct { uint64_t lo, hi; } pre[MAXR];
static int npre;

static int read_maps(void (*fn)(uint64_t, uint64_t, const char *))
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[4200];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s%n", &lo, &hi, &off) < 2)
            continue;
        char *path = line + off;
        while (*path == ' ')
            path++;
        path[strcspn(path, "\n")] = 0;
        fn(lo, hi, path);
    }
    fclose(f);
    return 0;
}

static void take_pre(uint64_t lo, uint64_t hi, const char *path)
{
    (void)path;
    if (npre < MAXR) {
        pre[npre].lo = lo;
        pre[npre].hi = hi;
        npre++;
    }
}

static uint64_t heap_lo, heap_hi;
static void find_heap(uint64_t lo, uint64_t hi, const char *path)
{
    if (!strcmp(path, "[heap]")) {
        heap_lo = lo;
        heap_hi = hi;
    }
}

static int is_upper(uint64_t a)
{
    for (int i = 0; i < npre; i++)
        if (a >= pre[i].lo && a < pre[i].hi)
            return 1;
    return a >= heap_lo && a < heap_hi;
}

#define MAXU 4096
static struct { uint64_t lo, hi; } gone[MAXU];
static int ngone;
static void collect_lower(uint64_t lo, uint64_t hi, const char *path)
{
    if (!strcmp(path, "[heap]") || !strcmp(path, "[stack]") || !strncmp(path, "[v", 2))
        return;
    for (int i = 0; i < npre; i++) /* a region that grew or split (malloc's heaps) is not new */
        if (lo < pre[i].hi && hi > pre[i].lo)
            return;
    if (ngone < MAXU) {
        gone[ngone].lo = lo;
        gone[ngone].hi = hi;
        ngone++;
    }
}

/* Every worker mallocs while all of them are alive, so the application's libc makes all the
 * malloc arenas it will ever make (at most 8 per core) before a generation's snapshot of the
 * maps: the emulated restart must not take an arena of the application's for the lower half's. */
#define NWORK 24
static pthread_barrier_t bar;

static void *worker(void *arg)
{
    volatile int *x = arg;
    void *p = malloc(100);
    pthread_barrier_wait(&bar);
    free(p);
    __atomic_fetch_add(x, 1, __ATOMIC_RELAXED);
    return NULL;
}

static int counter; /* not on the stack: the detached worker may still count after we return */

static void threads(void)
{
    int *x = &counter;
    pthread_t t[NWORK];
    pthread_barrier_init(&bar, NULL, NWORK);
    for (int i = 0; i < NWORK; i++)
        if (pthread_create(&t[i], NULL, worker, x)) {
            printf("FAIL: pthread_create\n");
            exit(1);
        }
    for (int i = 0; i < NWORK; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_barrier_init(&bar, NULL, 1);
    pthread_create(&d, &a, worker, x);
    pthread_attr_destroy(&a);
    usleep(1000);
}

static int result_fd = -1;

static int count_threads(void)
{
    int n = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static int mpi_gen(void *h, int gen)
{
    int (*init_thread)(int *, char ***, int, int *) = dlsym(h, "PMPI_Init_thread");
    int (*allreduce)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm) = dlsym(h, "PMPI_Allreduce");
    int (*rank)(MPI_Comm, int *) = dlsym(h, "PMPI_Comm_rank");
    if (!init_thread || !allreduce || !rank) {
        printf("FAIL: the lower half lacks MPI functions\n");
        return -1;
    }
#ifdef OPEN_MPI
    MPI_Comm world = dlsym(h, "ompi_mpi_comm_world");
    MPI_Datatype dint = dlsym(h, "ompi_mpi_int");
    MPI_Op sum = dlsym(h, "ompi_mpi_op_sum");
#else
    MPI_Comm world = MPI_COMM_WORLD;
    MPI_Datatype dint = MPI_INT;
    MPI_Op sum = MPI_SUM;
#endif
    if (getenv("LDSO_CHAIN_DEBUG"))
        printf("generation %d: PMPI_Init_thread at %p\n", gen, (void *)init_thread);
    int provided = 0, r = -1, x = gen, y = 0;
    if (init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS ||
        rank(world, &r) != MPI_SUCCESS || allreduce(&x, &y, 1, dint, sum, world) != MPI_SUCCESS ||
        y != gen) {
        printf("FAIL: MPI in generation %d\n", gen);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ldso_chain LOWER_ROOT.so GENERATIONS [noreset]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    /* The application's malloc keeps to its main arena (the brk heap): an arena it made later,
     * also for a lower thread whose TLS ld.so allocates with it, would be new memory here and
     * be unmapped with the lower half's (the real halves must keep such arenas: they are the
     * application's libc's). */
    mallopt(M_ARENA_MAX, 1);
    int gens = atoi(argv[2]), reset = !(argc > 3 && !strcmp(argv[3], "noreset"));
    /* The harness: the chain runs in a child; each generation's process ends once the next one
     * is forked (its lower half's threads with it, as at a real restart); being the
     * subreaper, the harness waits for all of them, and the last one's status pipe says how the
     * chain ended. */
    int fds[2];
    if (pipe(fds) || prctl(PR_SET_CHILD_SUBREAPER, 1)) {
        perror("pipe/prctl");
        return 1;
    }
    pid_t first = fork();
    if (first > 0) {
        close(fds[1]);
        char res = 'X';
        if (read(fds[0], &res, 1) != 1)
            res = 'X';
        while (wait(NULL) > 0 || errno == EINTR)
            ;
        if (res != 'P')
            printf("FAIL: the chain ended without a result\n");
        return res == 'P' ? 0 : 1;
    }
    close(fds[0]);
    result_fd = fds[1];
    char err[512];
    for (int g = 1; g <= gens; g++) {
        threads();
        npre = 0;
        read_maps(take_pre);
        void *h = dlmopen(LM_ID_NEWLM, argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            printf("FAIL: generation %d: dlmopen: %s\n", g, dlerror());
            return 1;
        }
        Lmid_t lmid = -1;
        dlinfo(h, RTLD_DI_LMID, &lmid);
        if (mpi_gen(h, g))
            return 1;
        threads();
        read_maps(find_heap);
        if (reset && pml_ldso_learn(h, lmid, is_upper, err, sizeof err)) {
            printf("FAIL: learn: %s\n", err);
            return 1;
        }
        if (g == gens) {
            printf("generation %d: namespace %ld; exiting normally\n", g, (long)lmid);
            break;
        }
        if (reset && pml_ldso_freeze(err, sizeof err)) {
            printf("FAIL: freeze: %s\n", err);
            return 1;
        }
        ngone = 0;
        read_maps(collect_lower);
        long pid = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0) {
            printf("FAIL: clone\n");
            return 1;
        }
        if (pid > 0)
            _exit(0); /* the harness (main) waits for the chain's last process */
        /* the child: the lower half's memory is gone */
        for (int i = 0; i < ngone; i++)
            syscall(SYS_munmap, gone[i].lo, gone[i].hi - gone[i].lo);
        if (reset) {
            if (pml_ldso_forget(err, sizeof err)) {
                printf("FAIL: forget: %s\n", err);
                return 1;
            }
            struct pml_ldso_stats st;
            pml_ldso_last_stats(&st);
            printf("[pid %d, %d threads] ", (int)getpid(), count_threads());
            printf("generation %d: namespace %ld: %d regions unmapped; forgot %u objects, %u TLS"
                   " modules, %lu bytes of static TLS (now %lu); threads kept %u dropped %u,"
                   " cache kept %u dropped %u; %u ranges reserved, %u handlers reset, %u TSD values"
                   " dropped\n",
                   g, st.lmid, ngone, st.objects, st.tls_modules,
                   (unsigned long)st.static_tls_freed, (unsigned long)st.static_tls_used,
                   st.threads_kept, st.threads_dropped, st.cache_kept, st.cache_dropped,
                   st.ranges_reserved, st.handlers_reset, st.tsd_cleared);
        } else {
            printf("generation %d: namespace %ld: %d regions unmapped; no reset\n", g, (long)lmid, ngone);
        }
    }
    printf("PASS\n");
    if (write(result_fd, "P", 1) != 1)
        return 1;
    return 0;
}

/* Knowing the halves apart, checked on a running rank. Besides communicating, the program
 * makes its own heap data, threads (one before MPI_Init, one after), private, shared, memfd,
 * file, POSIX-shm and SysV mappings, and open files; then it asks Revive's MPI layer (found with
 * dlsym: the program is an ordinary MPI program) to classify every region of /proc/self/maps,
 * every thread and every descriptor, and compares with what it knows independently:
 *   - its own memory, threads and descriptors must be upper;
 *   - mappings of /dev/shm and SysV segments it did not make, every mapping of a shared object
 *     outside the objects of its own namespace (dl_iterate_phdr lists only the caller's
 *     namespace), every thread it did not start (names from /proc/self/task/N/comm), every
 *     socket, eventfd and epoll descriptor, and every descriptor that appeared after main()
 *     started without the program opening it, must be lower;
 *   - the objects of its namespace, [heap] and [stack] must be upper;
 *   - threads that existed before main() began were started by a constructor: Revive's own
 *     (libcr's checkpoint thread), part of the application's image, so upper;
 *   - nothing is left without a half and a reason;
 *   - libcr's capture filters (the layer registers one built on the queries; libcr adds its own
 *     scratch memory and descriptors) leave out every lower piece of memory, every lower thread
 *     and descriptor, and none of the program's own memory, threads or descriptors.
 * Each rank prints one line; failures go to stderr, exit status 1. Run natively (no layer) it
 * only communicates and says so. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <mpi.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../src/crs/base/capture_filter.h"
#include "../../src/pml_hooks/halves.h"

static int me, np, fails;
#define FAIL(...) do { fprintf(stderr, "rank %d: FAIL: ", me); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); fails++; } while (0)

static int (*q_region)(uint64_t, uint64_t, const char *, const char **);
static int (*q_split)(uint64_t, uint64_t, const char *, struct pml_half_span *, int);
static int (*q_thread)(pid_t, const char **);
static int (*q_fd)(int, const char **);

/* ---- what the program knows it owns ---- */
struct own { const char *what; uint64_t lo, hi; };
static struct own mine[64];
static int nmine;
/* the workers register theirs while main registers its own: "nmine++" from two threads at once
 * lost an entry (final CI of session 33: the program's own SysV and POSIX shm segments, not in
 * mine[], were taken for MPI's: "MPI shared segment ... is upper (attached by the application)") */
static pthread_mutex_t mine_lock = PTHREAD_MUTEX_INITIALIZER;
static void own_mem(const char *what, const void *p, size_t n)
{
    pthread_mutex_lock(&mine_lock);
    mine[nmine++] = (struct own){ what, (uint64_t)p & ~4095ull, ((uint64_t)p + n + 4095) & ~4095ull };
    pthread_mutex_unlock(&mine_lock);
}
static int own_fds[32], nown_fds;
static pid_t own_tids[4];
static int nown_tids;
static char at_start[4096]; /* descriptors open when main() began */
static pid_t early_tids[8];  /* threads other than main when main() began */
static int nearly_tids;

/* libcr's combined capture filter (crs/base/capture_filter.h), found like the queries */
static int (*f_region)(uint64_t, uint64_t, const char *, struct crs_span *, int, char *, size_t);
static int (*f_thread)(pid_t);
static int (*f_fd)(int);
static long excl_extra; /* bytes the filters leave out that the halves call upper (libcr's own) */

/* ---- threads of the program ---- */
static pthread_barrier_t ready, done;
/* worker 0's memory must exist before MPI_Init, as its name says: under load the thread could
 * otherwise run its mallocs while MPI_Init runs, and a region that appears then is the
 * library's by the halves' rule (seen in a CI at load ~6: "appeared while the MPI library was
 * loaded and initialised"); a thread allocating during MPI_Init: tests/mpi/ckpt/rank_initalloc.sh */
static sem_t worker0_made;
static void *worker(void *arg)
{
    long n = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "app-worker-%ld", n);
    pthread_setname_np(pthread_self(), name);
    own_tids[n] = (pid_t)syscall(SYS_gettid);
    volatile char local[256];
    local[0] = 1;
    own_mem("worker stack", (const void *)local, sizeof local);
    char *big = malloc(8 << 20); /* an mmapped chunk of the upper libc, made by a thread */
    char *small = malloc(1000);  /* in the thread's arena */
    memset(big, 1, 8 << 20);
    memset(small, 2, 1000);
    own_mem(n ? "worker 8 MiB malloc (after MPI_Init)" : "worker 8 MiB malloc (before MPI_Init)",
            big, 8 << 20);
    own_mem("worker small malloc", small, 1000);
    if (n == 0)
        sem_post(&worker0_made);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done);
    free(big);
    free(small);
    return NULL;
}

/* ---- independent evidence: the objects of this namespace ---- */
struct obj { uint64_t lo, hi; };
static struct obj objs[256];
static int nobjs;
static int add_obj(struct dl_phdr_info *i, size_t sz, void *arg)
{
    (void)sz;
    (void)arg;
    for (int k = 0; k < i->dlpi_phnum && nobjs < 256; k++)
        if (i->dlpi_phdr[k].p_type == PT_LOAD) {
            uint64_t lo = (i->dlpi_addr + i->dlpi_phdr[k].p_vaddr) & ~4095ull;
            uint64_t hi = (i->dlpi_addr + i->dlpi_phdr[k].p_vaddr + i->dlpi_phdr[k].p_memsz + 4095) & ~4095ull;
            objs[nobjs++] = (struct obj){ lo, hi };
        }
    return 0;
}
static int in_upper_obj(uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < nobjs; i++)
        if (lo < objs[i].hi && hi > objs[i].lo)
            return 1;
    return 0;
}

static int n_up, n_lo, n_mixed, n_thr_up, n_thr_lo, n_fd_up, n_fd_lo;

static void check_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4400];
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8], path[4096] = "";
        if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095[^\n]", &lo, &hi, perms, path) < 3)
            continue;
        const char *why = NULL;
        int h = q_region(lo, hi, path, &why);
        struct pml_half_span sp[64];
        int n = q_split(lo, hi, path, sp, 64);
        if (n < 1 || n > 64 || (h != PML_HALF_UPPER && h != PML_HALF_LOWER && h != PML_HALF_MIXED) || !why)
            FAIL("region %llx-%llx %s: not classified (half %d, %d pieces)", lo, hi, path, h, n);
        uint64_t at = lo;
        for (int i = 0; i < n && i < 64; i++) {
            if (sp[i].start != at || sp[i].end <= sp[i].start || !sp[i].why ||
                (sp[i].half != PML_HALF_UPPER && sp[i].half != PML_HALF_LOWER))
                FAIL("region %llx-%llx %s: bad piece %d", lo, hi, path, i);
            at = sp[i].end;
        }
        if (at != hi)
            FAIL("region %llx-%llx %s: pieces end at %llx", lo, hi, path, (unsigned long long)at);
        n_up += h == PML_HALF_UPPER;
        n_lo += h == PML_HALF_LOWER;
        n_mixed += h == PML_HALF_MIXED;
        /* what capture leaves out of this mapping: every lower piece, none of the program's */
        struct crs_span ex[64];
        char err[256] = "";
        int nex = f_region(lo, hi, path, ex, 64, err, sizeof err);
        if (nex < 0)
            FAIL("region %llx-%llx %s: the capture filters fail: %s", lo, hi, path, err);
        for (int i = 0; i < n && i < 64 && nex >= 0; i++) {
            if (sp[i].half != PML_HALF_LOWER)
                continue;
            uint64_t covered = 0;
            for (int k = 0; k < nex; k++) {
                uint64_t a = ex[k].start > sp[i].start ? ex[k].start : sp[i].start;
                uint64_t b = ex[k].end < sp[i].end ? ex[k].end : sp[i].end;
                covered += a < b ? b - a : 0;
            }
            if (covered != sp[i].end - sp[i].start)
                FAIL("lower piece %llx-%llx of %s (%s) is not left out of an image",
                     (unsigned long long)sp[i].start, (unsigned long long)sp[i].end, path, sp[i].why);
        }
        for (int k = 0; k < nex; k++) {
            for (int m = 0; m < nmine; m++)
                if (ex[k].start < mine[m].hi && ex[k].end > mine[m].lo)
                    FAIL("capture leaves out %llx-%llx, part of the program's %s",
                         (unsigned long long)ex[k].start, (unsigned long long)ex[k].end, mine[m].what);
            for (int i = 0; i < n && i < 64; i++) {
                uint64_t a = ex[k].start > sp[i].start ? ex[k].start : sp[i].start;
                uint64_t b = ex[k].end < sp[i].end ? ex[k].end : sp[i].end;
                if (a < b && sp[i].half == PML_HALF_UPPER)
                    excl_extra += (long)(b - a);
            }
        }
        /* the program's own memory is upper, piece by piece */
        int own = 0;
        for (int k = 0; k < nmine; k++) {
            uint64_t a = mine[k].lo > lo ? mine[k].lo : lo, b = mine[k].hi < hi ? mine[k].hi : hi;
            if (a >= b)
                continue;
            own = 1;
            const char *w;
            if (q_region(a, b, path, &w) != PML_HALF_UPPER)
                FAIL("%s at %llx-%llx (%s) is not upper: %s", mine[k].what, (unsigned long long)a,
                     (unsigned long long)b, *path ? path : "anonymous", w);
        }
        char *del = strstr(path, " (deleted)");
        if (del)
            *del = 0;
        if ((!strncmp(path, "/dev/shm/", 9) || !strncmp(path, "/SYSV", 5)) && !own) {
            if (h != PML_HALF_LOWER)
                FAIL("MPI shared segment %llx-%llx %s is %s (%s)", lo, hi, path,
                     h == PML_HALF_UPPER ? "upper" : "mixed", why);
        } else if (strstr(path, ".so") && path[0] == '/') {
            int want = in_upper_obj(lo, hi) ? PML_HALF_UPPER : PML_HALF_LOWER;
            if (h != want)
                FAIL("shared object mapping %llx-%llx %s is half %d, expected %s (%s)", lo, hi, path,
                     h, want == PML_HALF_UPPER ? "upper (this namespace)" : "lower (another namespace)", why);
        } else if (!strcmp(path, "[heap]") || !strcmp(path, "[stack]")) {
            if (h != PML_HALF_UPPER)
                FAIL("%s is not upper (%s)", path, why);
        }
    }
    fclose(f);
}

static void check_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t tid = atoi(e->d_name);
        char p[64], comm[32] = "";
        snprintf(p, sizeof p, "/proc/self/task/%d/comm", tid);
        FILE *c = fopen(p, "r");
        if (c) {
            if (!fgets(comm, sizeof comm, c))
                comm[0] = 0;
            comm[strcspn(comm, "\n")] = 0;
            fclose(c);
        }
        int ours = tid == getpid();
        for (int i = 0; i < nearly_tids; i++)
            ours |= early_tids[i] == tid; /* Revive's own (libcr's checkpoint thread) */
        /* the checkpoint agent (src/snapc), started in MPI_Init when a coordinator runs the job:
         * Revive's own, part of the image */
        ours |= !strcmp(comm, "revive-agent");
        for (int i = 0; i < nown_tids; i++)
            if (own_tids[i] == tid) {
                ours = 1;
                found++;
                if (strncmp(comm, "app-worker-", 11))
                    FAIL("thread %d: name %s, expected app-worker-*", tid, comm);
            }
        if (!ours && !strncmp(comm, "app-worker-", 11))
            FAIL("thread %d named %s was not recorded as the program's", tid, comm);
        const char *why;
        int h = q_thread(tid, &why);
        if (h != (ours ? PML_HALF_UPPER : PML_HALF_LOWER))
            FAIL("thread %d (%s, %s) is %s: %s", tid, comm, ours ? "the program's" : "the MPI library's",
                 h == PML_HALF_UPPER ? "upper" : "lower", why);
        n_thr_up += h == PML_HALF_UPPER;
        n_thr_lo += h == PML_HALF_LOWER;
        if (f_thread(tid) != (h == PML_HALF_LOWER))
            FAIL("thread %d (%s) is %s but capture %s it", tid, comm, h == PML_HALF_LOWER ? "lower" : "upper",
                 f_thread(tid) ? "leaves out" : "keeps");
    }
    closedir(d);
    if (found != nown_tids)
        FAIL("found %d of the program's %d threads", found, nown_tids);
}

static void check_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int skip = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd == skip)
            continue;
        char p[64], t[512];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n < 0)
            continue;
        t[n] = 0;
        int ours = 0;
        for (int i = 0; i < nown_fds; i++)
            ours |= own_fds[i] == fd;
        const char *why;
        int h = q_fd(fd, &why), want = 0;
        if (ours)
            want = PML_HALF_UPPER;
        else if (!strncmp(t, "socket:", 7) || !strcmp(t, "anon_inode:[eventfd]") ||
                 !strcmp(t, "anon_inode:[eventpoll]") || !strncmp(t, "/dev/shm/", 9))
            want = PML_HALF_LOWER;
        else if (fd >= (int)sizeof at_start || !at_start[fd])
            want = PML_HALF_LOWER; /* appeared since main() began, not opened by the program */
        if (h != PML_HALF_UPPER && h != PML_HALF_LOWER)
            FAIL("fd %d (%s): not classified", fd, t);
        else if (want && h != want)
            FAIL("fd %d -> %s (%s) is %s: %s", fd, t, ours ? "the program's" : "the MPI library's",
                 h == PML_HALF_UPPER ? "upper" : "lower", why);
        n_fd_up += h == PML_HALF_UPPER;
        n_fd_lo += h == PML_HALF_LOWER;
        if (h == PML_HALF_LOWER && !f_fd(fd))
            FAIL("fd %d -> %s is lower but capture keeps it", fd, t);
        if (ours && f_fd(fd))
            FAIL("fd %d -> %s is the program's but capture leaves it out", fd, t);
    }
    closedir(d);
}

/* a fork: libcr's fork handler runs in the child before the layer's; the child must not hang */
static void check_fork(void)
{
    pid_t c = fork();
    if (c == 0) {
        void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        const char *why;
        _exit(p == MAP_FAILED || q_region((uint64_t)p, (uint64_t)p + (1 << 20), "", &why) != PML_HALF_UPPER);
    }
    int st = -1;
    for (int i = 0; i < 200 && c > 0; i++) {
        if (waitpid(c, &st, WNOHANG) == c)
            break;
        st = -1;
        usleep(50 * 1000);
    }
    if (c < 0) {
        FAIL("fork failed");
    } else if (st == -1) {
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        FAIL("a forked child hangs (the halves registry's lock?)");
    } else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        FAIL("a forked child ended with status %#x", st);
    }
}

int main(int argc, char **argv)
{
    for (int fd = 0; fd < (int)sizeof at_start; fd++)
        at_start[fd] = fcntl(fd, F_GETFD) >= 0;
    DIR *td = opendir("/proc/self/task");
    for (struct dirent *e; td && (e = readdir(td));)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && atoi(e->d_name) != getpid() && nearly_tids < 8)
            early_tids[nearly_tids++] = atoi(e->d_name);
    if (td)
        closedir(td);
    pthread_t th[2];
    pthread_barrier_init(&ready, NULL, 3);
    pthread_barrier_init(&done, NULL, 3);
    sem_init(&worker0_made, 0, 0);
    pthread_create(&th[0], NULL, worker, (void *)0L); /* before MPI_Init */
    nown_tids = 1;
    while (sem_wait(&worker0_made) != 0)
        ;
    char *early = malloc(32 << 20);
    memset(early, 3, 32 << 20);
    own_mem("32 MiB malloc before MPI_Init", early, 32 << 20);

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    pthread_create(&th[1], NULL, worker, (void *)1L); /* after */
    nown_tids = 2;

    /* communicate: a ring of 1 MiB messages and an Allreduce */
    size_t len = 1 << 20;
    char *sb = malloc(len), *rb = malloc(len);
    memset(sb, me, len);
    for (int r = 0; r < 3; r++)
        MPI_Sendrecv(sb, (int)len, MPI_CHAR, (me + 1) % np, 0, rb, (int)len, MPI_CHAR,
                     (me + np - 1) % np, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    long v = me, sum = 0;
    MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (sum != (long)np * (np - 1) / 2)
        FAIL("Allreduce gave %ld", sum);

    /* the program's own memory and descriptors */
    int small_on_stack = 7;
    own_mem("main stack", &small_on_stack, sizeof small_on_stack);
    char *heap = malloc(100);
    memset(heap, 4, 100);
    own_mem("small malloc", heap, 100);
    char *late = malloc(64 << 20);
    memset(late, 5, 64 << 20);
    own_mem("64 MiB malloc after MPI_Init", late, 64 << 20);
    own_mem("send buffer", sb, len);
    own_mem("receive buffer", rb, len);
    size_t ml = 3 << 20;
    char *priv = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shar = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int mfd = memfd_create("app-memfd", 0);
    if (ftruncate(mfd, (off_t)ml))
        FAIL("ftruncate memfd");
    char *mem = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    char tmpl[] = "/tmp/revive-halves-XXXXXX";
    int ffd = mkstemp(tmpl);
    unlink(tmpl);
    if (ftruncate(ffd, (off_t)ml))
        FAIL("ftruncate file");
    char *fmap = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
    char shmname[64];
    snprintf(shmname, sizeof shmname, "/revive-halves-%d", (int)getpid());
    int sfd = shm_open(shmname, O_CREAT | O_RDWR | O_EXCL, 0600);
    shm_unlink(shmname);
    if (ftruncate(sfd, (off_t)ml))
        FAIL("ftruncate shm");
    char *smap = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    int sysv = shmget(IPC_PRIVATE, ml, IPC_CREAT | 0600);
    char *sv = shmat(sysv, NULL, 0);
    shmctl(sysv, IPC_RMID, NULL);
    int pfd[2];
    if (pipe(pfd))
        FAIL("pipe");
    if (priv == MAP_FAILED || shar == MAP_FAILED || mem == MAP_FAILED || fmap == MAP_FAILED ||
        smap == MAP_FAILED || sv == (void *)-1 || mfd < 0 || ffd < 0 || sfd < 0)
        FAIL("setting up the program's own mappings");
    memset(priv, 1, ml);
    memset(shar, 2, ml);
    memset(mem, 3, ml);
    memset(fmap, 4, ml);
    memset(smap, 5, ml);
    memset(sv, 6, ml);
    own_mem("private anonymous mmap", priv, ml);
    own_mem("shared anonymous mmap", shar, ml);
    own_mem("memfd mmap", mem, ml);
    own_mem("file mmap", fmap, ml);
    own_mem("POSIX shm mmap", smap, ml);
    own_mem("SysV shmat", sv, ml);
    int *fds[] = { &mfd, &ffd, &sfd, &pfd[0], &pfd[1] };
    for (unsigned i = 0; i < sizeof fds / sizeof *fds; i++)
        own_fds[nown_fds++] = *fds[i];
    pthread_barrier_wait(&ready);

    q_region = (__typeof__(q_region))dlsym(RTLD_DEFAULT, "pml_half_of_region");
    q_split = (__typeof__(q_split))dlsym(RTLD_DEFAULT, "pml_halves_split");
    q_thread = (__typeof__(q_thread))dlsym(RTLD_DEFAULT, "pml_half_of_thread");
    q_fd = (__typeof__(q_fd))dlsym(RTLD_DEFAULT, "pml_half_of_fd");
    f_region = (__typeof__(f_region))dlsym(RTLD_DEFAULT, "crs_capture_filter_region");
    f_thread = (__typeof__(f_thread))dlsym(RTLD_DEFAULT, "crs_capture_filter_thread");
    f_fd = (__typeof__(f_fd))dlsym(RTLD_DEFAULT, "crs_capture_filter_fd");
    if (q_region && (!f_region || !f_thread || !f_fd)) {
        FAIL("the MPI layer is loaded but libcr's capture filter calls are not: the layer must bring libcr");
        q_region = NULL;
    }
    if (!q_region || !q_split || !q_thread || !q_fd) {
        printf("rank %d: not under Revive (no pml_half_of_region); communicated only\n", me);
    } else {
        dl_iterate_phdr(add_obj, NULL);
        check_maps();
        check_threads();
        check_fds();
        check_fork();
        printf("rank %d: %s: regions %d upper, %d lower, %d mixed; threads %d upper, %d lower;"
               " fds %d upper, %d lower; capture leaves out the lower half (and %ld KiB of libcr's own)\n",
               me, fails ? "FAIL" : "ok", n_up, n_lo, n_mixed, n_thr_up, n_thr_lo, n_fd_up, n_fd_lo,
               excl_extra / 1024);
    }
    fflush(stdout);
    pthread_barrier_wait(&done);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    int all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    return all ? 1 : 0;
}

/* A rank that forks in a tight loop outside MPI (issue 7: rank_child-mpich failed in CI, the
 * image of a worker the rank forked held the agent's /proc/self/task/TID/syscall descriptor):
 *   rank_forkloop STEPS PACEFILE MS
 * Each step each rank first forks children, one after the other, outside MPI: for MS ms while
 * PACEFILE exists (a snapshot meanwhile waits for the rank, and its agent reads what the main
 * thread is doing from /proc), else 8 of them. Each child looks at its descriptors (fd_check)
 * and ends with status 0, or 3 after naming on stderr a descriptor it should not hold; the rank
 * waits for it at once. The last child of the step is the step's worker: it makes the same check
 * and then waits on a pipe until the next step's children are made, and ends with its status
 * then (a snapshot while the rank is in MPI finds it running: it comes along in the rank's image,
 * a tree file, and back at a restart). Then an MPI_Allreduce of the step's number. Rank 0
 * prints "step N: SUM" and "done: ACC", then the number of children of this generation that
 * failed their check (each named its descriptor on stderr).
 *
 * What a child may not hold (the kinds of descriptor Revive's threads make, which neither this
 * program nor its launcher gives a child): a /proc file (what the agent reads), a regular file
 * or a directory (an image, the snapshot store), a kernel object (anon_inode: the agent's
 * eventfd), a TCP socket (the agent's connection to the coordinator, a partner's copy); unless
 * it was open with the same link before MPI_Init (the launcher's) or is /dev/null (the MPI
 * library's, put there by the layer's fork handler). Pipes and Unix sockets are the launcher's
 * and are not looked at; nor, after a restart (the descriptors open before MPI_Init are not
 * those any more), TCP sockets: the new launcher's (Hydra's PMI connection) are not known. The native run's children hold the MPI
 * library's descriptors: the test looks at the lines of its runs under Revive only. */
#include <mpi.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"
#include "../../fd_link.h"

#define PRE_MAX 256
static char pre_link[PRE_MAX][128]; /* links of the descriptors open before MPI_Init ("" none) */
static int me;
static int pre_gone; /* a descriptor open before MPI_Init is another one now: a restarted process */

static void note_pre(void)
{
    for (int fd = 3; fd < PRE_MAX; fd++)
        if (link_of("/proc/self/fd", fd, pre_link[fd], sizeof pre_link[fd]) < 0)
            pre_link[fd][0] = 0;
}

/* 1 when "socket:[INO]" is a TCP socket (its inode in /proc/net/tcp or tcp6) */
static int tcp_socket(const char *link)
{
    unsigned long ino;
    if (sscanf(link, "socket:[%lu]", &ino) != 1)
        return 0;
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    for (int t = 0; t < 2; t++) {
        FILE *f = fopen(tables[t], "re");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            unsigned long i = 0;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &i) == 1 && i == ino) {
                fclose(f);
                return 1;
            }
        }
        if (f)
            fclose(f);
    }
    return 0;
}

/* In the child: 0 when it holds nothing of the rank's, else 3 (named on stderr). */
static int fd_check(int keep1, int keep2)
{
    int bad = 0;
    char pl[128];
    for (int fd = 3; fd < PRE_MAX && !pre_gone; fd++)
        pre_gone = pre_link[fd][0] && (link_of("/proc/self/fd", fd, pl, sizeof pl) < 0 || strcmp(pl, pre_link[fd]));
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    int self = dirfd(d);
    char l[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd < 3 || fd == self || fd == keep1 || fd == keep2 || link_of("/proc/self/fd", fd, l, sizeof l) < 0)
            continue;
        if (strcmp(l, "/dev/null") == 0 || (fd < PRE_MAX && strcmp(l, pre_link[fd]) == 0))
            continue;
        struct stat st;
        if (fstat(fd, &st) != 0)
            continue;
        int revives = strncmp(l, "/proc/", 6) == 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ||
                      strncmp(l, "anon_inode:", 11) == 0 || (S_ISSOCK(st.st_mode) && !pre_gone && tcp_socket(l));
        char own[32];
        snprintf(own, sizeof own, "/proc/%d/", (int)getpid());
        if (!revives || strncmp(l, own, strlen(own)) == 0) /* (its own libcr's, starting) */
            continue;
        fprintf(stderr, "rank %d: a child forked outside MPI holds descriptor %d: %s (%s)\n", me, fd, l,
                pre_gone ? "restarted" : "first run");
        bad = 1;
    }
    closedir(d);
    return bad ? 3 : 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "rank %d: waitpid(%d): %s\n", me, (int)pid, strerror(errno));
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    note_pre();
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    long acc = 0, bad = 0;
    pid_t worker = 0;
    int wpipe = -1;
    for (int s = 1; s <= steps; s++) {
        char l[128];
        for (int fd = 3; fd < PRE_MAX && !pre_gone; fd++)
            pre_gone = pre_link[fd][0] && (link_of("/proc/self/fd", fd, l, sizeof l) < 0 || strcmp(l, pre_link[fd]));
        /* outside MPI: children one after the other */
        int paced = pace && ms > 0 && access(pace, F_OK) == 0;
        double until = now_s() + ms / 1000.0;
        for (int k = 0; paced ? now_s() < until : k < 8; k++) {
            pid_t c = fork();
            if (c < 0) {
                fprintf(stderr, "rank %d: fork: %s\n", me, strerror(errno));
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            if (c == 0)
                _exit(fd_check(wpipe, -1)); /* (the worker's pipe is the program's) */
            bad += reap(c);
        }
        if (worker) {
            close(wpipe); /* the last step's worker ends */
            bad += reap(worker);
        }
        int p[2];
        if (pipe(p) != 0) {
            fprintf(stderr, "rank %d: pipe: %s\n", me, strerror(errno));
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        worker = fork();
        if (worker == 0) {
            close(p[1]);
            int r = fd_check(p[0], -1);
            char b;
            while (read(p[0], &b, 1) < 0 && errno == EINTR)
                ;
            _exit(r);
        }
        close(p[0]);
        wpipe = p[1];
        long x = s, sum = 0;
        MPI_Allreduce(&x, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        acc += sum;
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    close(wpipe);
    bad += reap(worker);
    long x = bad, all = 0;
    MPI_Allreduce(&x, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        printf("done: %ld\n", acc);
        printf("children that held a descriptor of the kinds above: %ld\n", all);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}

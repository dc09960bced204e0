/* lower_inner DIR: a rank whose thread forks in a tight loop while MPI_Init runs (lower_inner.sh).
 * Before MPI_Init each rank notes the descriptors it holds, writes its pid into DIR/pid.PID and
 * waits (at most 60 s) until DIR/go.PID exists (the test attaches strace to it meanwhile, which
 * widens the moments the MPI library's libc holds a descriptor of its own inside one call:
 * getifaddrs' netlink socket, sysconf's /sys/devices/system/cpu/online, getaddrinfo's
 * /etc/hosts...). Then a thread forks, one child after the other, until MPI_Init has returned
 * and a barrier passed; each child looks at its descriptors and ends with status 0, or 3 after
 * naming on stderr one it should not hold: anything but /dev/null (the MPI library's, put there
 * by the layer's fork handler), what the rank held before MPI_Init (the launcher's) and the
 * child's own libcr's listening socket. Rank 0
 * prints "forks F, children that held a descriptor: B" (sums over the ranks). */
#include <mpi.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../fd_link.h"

#define PRE_MAX 256
static char pre_link[PRE_MAX][128]; /* the links of the descriptors open before MPI_Init */
static int stop;
static long forks, bad;

/* 1 when fd is the child's own libcr's listening socket (abstract "revive-cr.PID", its own pid:
 * src/crs/base/protocol.c), which it makes at its start */
static int own_listener(int fd)
{
    struct sockaddr_un a;
    socklen_t l = sizeof a;
    char want[40];
    int n = snprintf(want, sizeof want, "revive-cr.%d", (int)getpid());
    return getsockname(fd, (struct sockaddr *)&a, &l) == 0 && a.sun_family == AF_UNIX &&
           l == offsetof(struct sockaddr_un, sun_path) + 1 + (socklen_t)n && a.sun_path[0] == 0 &&
           memcmp(a.sun_path + 1, want, (size_t)n) == 0;
}

/* in the child: 0 when it holds nothing new, else 3 */
static int fd_check(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    int self = dirfd(d), held = 0;
    char l[256];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == self || link_of("/proc/self/fd", fd, l, sizeof l) < 0 || strcmp(l, "/dev/null") == 0 ||
            (fd < PRE_MAX && strcmp(l, pre_link[fd]) == 0) || own_listener(fd))
            continue;
        fprintf(stderr, "pid %d: a child forked during MPI_Init holds descriptor %d: %s\n", (int)getppid(), fd, l);
        held = 1;
    }
    closedir(d);
    return held ? 3 : 0;
}

static void *forker(void *arg)
{
    (void)arg;
    struct timespec ms = {0, 1000000};
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        pid_t c = fork();
        if (c == 0)
            _exit(fd_check());
        if (c < 0) {
            perror("lower_inner: fork");
            exit(2);
        }
        int st;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
            ;
        forks++;
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    for (int fd = 0; fd < PRE_MAX; fd++)
        if (link_of("/proc/self/fd", fd, pre_link[fd], sizeof pre_link[fd]) < 0)
            pre_link[fd][0] = 0;
    if (dir) {
        char p[512];
        snprintf(p, sizeof p, "%s/pid.%d", dir, (int)getpid());
        FILE *f = fopen(p, "w");
        if (!f) {
            perror(p);
            return 2;
        }
        fclose(f);
        snprintf(p, sizeof p, "%s/go.%d", dir, (int)getpid());
        struct timespec t = {0, 10000000};
        for (int i = 0; i < 6000 && access(p, F_OK) != 0; i++)
            nanosleep(&t, NULL);
    }
    pthread_t th;
    pthread_create(&th, NULL, forker, NULL);
    MPI_Init(&argc, &argv);
    MPI_Barrier(MPI_COMM_WORLD);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    long mine[2] = {forks, bad}, all[2];
    MPI_Reduce(mine, all, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (me == 0)
        printf("forks %ld, children that held a descriptor: %ld\n", all[0], all[1]);
    MPI_Finalize();
    return 0;
}

/*
 * crs_runtime_tree_here (src/crs/libcr/runtime.h): a process takes a tree image of itself and
 * its child from a thread of its own (the MPI layer's agent does so for a rank), member 0 its
 * own capture. The child is joined to it by two pipes: it waits on `go` before it reads the
 * numbers the program writes into `nums`, so at the image 1..10 sit unread in `nums` (the
 * table's bytes). Then 11..20 are written, `nums` closed, `go` given; the child reads to the
 * end and exits with the count when every number came once and in order (100 + the first
 * wrong one otherwise); waitpid gives its status.
 * tree_here IMAGE [kill]: with kill the original ends itself and its child with SIGKILL once
 * the image is written (cr_restart brings both back from it); tree_here - runs uninterrupted.
 * TREE_HERE_MALLOC=1: three threads loop on malloc and free meanwhile (with MALLOC_ARENA_MAX=1 it
 * is often parked inside malloc holding the one arena: the requester, which runs in the park
 * window, must not call malloc; diffrev25 R-M1).
 * Prints one line per fact (only the program: the child prints nothing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crs/base/tree.h"
#include "crs/libcr/runtime.h"

static const char *image;
static int rc = -1;
static char err[512];

static void *take(void *arg)
{
    (void)arg;
    int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct crs_ckpt_opts o;
    struct crs_ckpt_result res;
    struct crs_tree_ckpt_opts to;
    memset(&o, 0, sizeof o);
    memset(&to, 0, sizeof to);
    o.fd = fd;
    o.timeout_ms = 30000;
    to.scope = CRS_TREE_SCOPE_TREE;
    to.id = getpid();
    to.timeout_ms = 30000;
    rc = fd < 0 ? -errno : crs_runtime_tree_here(&o, &to, &res);
    if (rc < 0)
        snprintf(err, sizeof err, "%s", fd < 0 ? strerror(-rc) : res.err);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0 && rc != 1)
        close(fd);   /* the restarted process holds no such descriptor */
    return NULL;
}

static void *churn(void *arg)
{
    (void)arg;
    for (unsigned i = 0;; i++) {
        void *volatile p = malloc(16 + (i * 7919u) % 4096);
        free(p);
    }
    return NULL;
}

static void put(int fd, int n)
{
    if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
        printf("FAIL writing %d: %s\n", n, strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tree_here IMAGE|- [kill]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    image = argv[1];
    int nums[2], go[2];
    if (pipe(nums) != 0 || pipe(go) != 0)
        return 2;
    pid_t kid = fork();
    if (kid == 0) {
        close(nums[1]);
        close(go[1]);
        char c;
        while (read(go[0], &c, 1) < 0 && errno == EINTR)
            ;
        int n, want = 1;
        ssize_t got;
        while ((got = read(nums[0], &n, sizeof n)) == (ssize_t)sizeof n || (got < 0 && errno == EINTR)) {
            if (got < 0)
                continue;
            if (n != want)
                _exit(100 + want);
            want++;
        }
        _exit(want - 1);
    }
    close(nums[0]);
    close(go[0]);
    for (int n = 1; n <= 10; n++)
        put(nums[1], n);
    if (strcmp(image, "-")) {
        pthread_t th;
        const char *m = getenv("TREE_HERE_MALLOC");
        for (int k = 0; m && *m == '1' && k < 3; k++)   /* one is parked inside malloc more often */
            if (pthread_create(&th, NULL, churn, NULL) != 0)
                return 2;
        if (pthread_create(&th, NULL, take, NULL) != 0 || pthread_join(th, NULL) != 0)
            return 2;
        if (rc < 0) {
            printf("tree image: %s\n", err);
            kill(kid, SIGKILL);
            return 1;
        }
        printf("tree image: %s\n", rc == 1 ? "restarted" : "written");
        if (rc == 0 && argc > 2 && !strcmp(argv[2], "kill")) {
            kill(kid, SIGKILL);
            raise(SIGKILL);
        }
    }
    for (int n = 11; n <= 20; n++)
        put(nums[1], n);
    close(nums[1]);
    if (write(go[1], "g", 1) != 1)
        printf("FAIL go: %s\n", strerror(errno));
    int st = 0;
    pid_t w;
    while ((w = waitpid(kid, &st, 0)) < 0 && errno == EINTR)
        ;
    printf("child: %s, %s %d\n", w == kid ? "waited for" : strerror(errno),
           WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
}

/*
 * A child forked while a checkpoint's epoll marker is open (diffrev24 G-L1,
 * f11579a): the marker is a signalfd libcr makes just before the park when
 * an epoll watches a signalfd edge-triggered (capture_epoll_mark.c), and the
 * program's threads still run then. A child forked meanwhile got a copy of
 * it, a descriptor it did not know (and the file outlived the checkpoint's
 * close); now a pthread_atfork child handler closes it. Run under
 * REVIVE_FAULT=capture-mark-late (the marker stays open 1 s before the park:
 * crs_markfork.sh): the program holds one signalfd (SIGUSR1, blocked) in an
 * epoll, edge-triggered; a thread watches the process's descriptors until a
 * second signalfd appears (the marker), then forks once; the child counts
 * the signalfds it holds and ends 0 when it holds just the program's, 3 when
 * more. The thread reaps it at once (no child is left for the park to find)
 * and writes 1 (forked in the window) to crt_markfork.forked. After point 1
 * the program checks that no child held more. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop, extra, forked;

/* The signalfds this process holds. */
static int signalfds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[300], link[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t l = readlink(path, link, sizeof link - 1);
        if (l > 0) {
            link[l] = 0;
            n += !strcmp(link, "anon_inode:[signalfd]");
        }
    }
    if (d)
        closedir(d);
    return n;
}

static void *forker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop) && !atomic_load(&forked)) {
        if (signalfds() < 2) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
            continue;
        }
        pid_t kid = fork();   /* the marker is open: the window */
        if (kid < 0)
            continue;
        if (kid == 0)
            _exit(signalfds() == 1 ? 0 : 3);
        int status = 0;
        while (waitpid(kid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            atomic_fetch_add(&extra, 1);
        atomic_store(&forked, 1);
        FILE *f = fopen("crt_markfork.forked", "w");
        if (f)
            fclose(f);
    }
    return NULL;
}

int main(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &m, NULL))
        crt_die("pthread_sigmask");
    int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = sfd };
    if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev))
        crt_die("signalfd or epoll: %s", strerror(errno));
    pthread_t t;
    if (pthread_create(&t, NULL, forker, NULL))
        crt_die("pthread_create");
    crt_say("a signalfd watched edge-triggered, a thread waiting to fork while the checkpoint's marker is open");

    crt_checkpoint_point(1);

    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    crt_check("no child forked while the checkpoint's marker was open held a signalfd it did not know",
              atomic_load(&extra) == 0, "%d did (libcr's marker)", atomic_load(&extra));
    crt_check("the program holds its one signalfd", signalfds() == 1, "%d", signalfds());

    crt_checkpoint_point(2);

    crt_finish();
}

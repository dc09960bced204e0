/*
 * A program that forks in a tight loop while checkpoints are asked of it (issue 7: a descriptor a
 * thread of Revive's holds for a moment was copied into a child the program forked then; in a
 * cr_run process the thread is libcr's: the connection and image file of a request, the /proc
 * files the checkpoint reads while it parks the threads). Run by crs_forkloop.sh under cr_run and
 * REVIVE_FAULT=fork-window-wide (each such /proc descriptor held 20 ms longer). A thread forks
 * children one after the other and waits for each; a child looks at its descriptors and ends 0
 * when it holds only what the program held at its start (with the same links) and sockets its
 * parent does not hold (its own libcr's new listener), else 3, naming the first other one on
 * stderr. Between points 1 and 2 the checks: no child held another descriptor; the thread forked
 * at least once. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../fd_link.h"

#define PRE_MAX 256
static char pre_link[PRE_MAX][128];
static atomic_int stop, bad;
static atomic_long forks;

static int parent_holds(const char *link)
{
    char dir[64], l[512];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)getppid());
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));)
        if (e->d_name[0] != '.' && link_of(dir, atoi(e->d_name), l, sizeof l) == 0)
            found = strcmp(l, link) == 0;
    closedir(d);
    return found;
}

static int child_check(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    int self = dirfd(d), r = 0;
    char l[512];
    for (struct dirent *e; !r && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd < 3 || fd == self || link_of("/proc/self/fd", fd, l, sizeof l) < 0)
            continue;
        if (fd < PRE_MAX && strcmp(l, pre_link[fd]) == 0)
            continue;
        if (strncmp(l, "socket:", 7) == 0 && !parent_holds(l))
            continue;
        if (strstr(l, "/ready.1")) /* the program's own, for a moment (crt_checkpoint_point) */
            continue;
        char own[32];
        snprintf(own, sizeof own, "/proc/%d/", (int)getpid());
        if (strncmp(l, own, strlen(own)) == 0) /* its own libcr's, starting */
            continue;
        fprintf(stderr, "a child forked during a checkpoint request holds descriptor %d: %s\n", fd, l);
        r = 3;
    }
    closedir(d);
    return r;
}

static void *forker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        pid_t kid = fork();
        if (kid < 0)
            continue;
        if (kid == 0)
            _exit(child_check());
        int status = 0;
        while (waitpid(kid, &status, 0) < 0 && errno == EINTR)
            ;
        atomic_fetch_add(&forks, 1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            atomic_fetch_add(&bad, 1);
    }
    return NULL;
}

int main(void)
{
    for (int fd = 3; fd < PRE_MAX; fd++)
        if (link_of("/proc/self/fd", fd, pre_link[fd], sizeof pre_link[fd]) < 0)
            pre_link[fd][0] = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, forker, NULL))
        crt_die("pthread_create");
    crt_say("a thread forking children one after the other, each looking at its descriptors");

    crt_checkpoint_point(1);

    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    crt_check("no child forked meanwhile held a descriptor the program did not have", atomic_load(&bad) == 0,
              "%d of %ld did", atomic_load(&bad), atomic_load(&forks));
    crt_check("the thread forked", atomic_load(&forks) > 0, "%ld times", atomic_load(&forks));

    crt_checkpoint_point(2);

    crt_finish();
}

/*
 * cs_hold READY SECONDS [child]: a program (linked with -lcr) that holds a critical section
 * (cr_enter_cs) for SECONDS, so that a checkpoint asked for meanwhile waits until it leaves:
 * writes its pid into READY once inside the section, leaves it after SECONDS, prints "done"
 * and exits 0. With `child`, its forked child does that (READY names the child) while the
 * program waits for it and then prints "parent done, child STATUS" (a tree whose member sits
 * in a critical section). After the section it lives 1 s more, so that a checkpoint that waited
 * for it runs (a process that ends at once never writes one). For cs_timeout.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"

static void sleep_s(int s)
{
    struct timespec t = { s, 0 };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

static int hold(const char *ready, int secs)
{
    cr_client_id_t id = cr_init();
    if (id < 0) {
        fprintf(stderr, "cs_hold: cr_init: %s\n", strerror(errno));
        return 2;
    }
    if (cr_enter_cs(id) != 0) {
        fprintf(stderr, "cs_hold: cr_enter_cs: %s\n", strerror(errno));
        return 2;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, ready) != 0) {
        fprintf(stderr, "cs_hold: cannot write %s\n", ready);
        return 2;
    }
    sleep_s(secs);
    cr_leave_cs(id);
    sleep_s(1);
    printf("done\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: cs_hold READY SECONDS [child]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int secs = atoi(argv[2]);
    if (argc == 3)
        return hold(argv[1], secs);
    pid_t kid = fork();
    if (kid < 0)
        return 2;
    if (kid == 0)
        _exit(hold(argv[1], secs));
    int st;
    while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
        ;
    printf("parent done, child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}

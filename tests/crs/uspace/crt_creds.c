/* Prints its uid, gid and group lines from /proc/self/status, sleeps 4 s
 * (the checkpoint comes then), and prints them again: after a restart they
 * must be the same (crs_creds.sh). 8 s with CRT_CREDS_BECOME, which prints
 * "pid PID dumpable N" first.
 * CRT_CREDS_BECOME=UID: started as root, it first becomes user UID (group UID,
 * no other groups) in every thread, as a daemon that drops root does, which
 * makes the kernel mark it not dumpable; CRT_CREDS_DUMPABLE=1 then makes it
 * dumpable again (prctl PR_SET_DUMPABLE 1), as such a program must to be
 * checkpointed. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void show(const char *when)
{
    char line[4096];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7))
            printf("%s %s", when, line);
    fclose(f);
    fflush(stdout);
}

static void become(const char *uid)
{
    uid_t u = (uid_t)strtoul(uid, NULL, 10);
    if (setgroups(0, NULL) != 0 || setresgid(u, u, u) != 0 || setresuid(u, u, u) != 0) {
        fprintf(stderr, "crt_creds: becoming user %s: %s\n", uid, strerror(errno));
        exit(1);
    }
    const char *d = getenv("CRT_CREDS_DUMPABLE");
    if (d && !strcmp(d, "1"))
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    printf("pid %d dumpable %d\n", (int)getpid(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

int main(void)
{
    const char *u = getenv("CRT_CREDS_BECOME");
    if (u && *u)
        become(u);
    show("start");
    struct timespec t = { u && *u ? 8 : 4, 0 };   /* more time under load: crs_creds.sh checkpoints it once "start" shows */
    while (nanosleep(&t, &t) != 0)
        ;
    show("end");
    return 0;
}

/* Prints its uid, gid and group lines from /proc/self/status, sleeps 4 s
 * (the checkpoint comes then), and prints them again: after a restart they
 * must be the same (crs_creds.sh). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

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

int main(void)
{
    show("start");
    struct timespec t = { 4, 0 };
    while (nanosleep(&t, &t) != 0)
        ;
    show("end");
    return 0;
}

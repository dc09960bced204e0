/*
 * State test: /proc after a restart (issue 10, point 5). The program holds
 * /proc/self/status open (opened as /proc/<its pid>/status) and, after each
 * point, reads its own /proc: /proc/self names it, /proc/<getpid()>/status
 * is its own (Pid, and the innermost NSpid, equal getpid(); Name as it was),
 * and the held descriptor reads its own status too. Where a restart had to
 * use a pid namespace (the original pid taken, or no privilege) this holds
 * only with a /proc of that namespace. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int held;

/* The values of "Pid:", the last of "NSpid:" and "Name:" in a status text. */
static void status_of(const char *text, long *pid, long *nspid, char *name, size_t cap)
{
    const char *p;
    *pid = *nspid = -1;
    name[0] = 0;
    if ((p = strstr(text, "\nPid:")))
        *pid = strtol(p + 5, NULL, 10);
    if ((p = strstr(text, "\nNSpid:"))) {
        char *end;
        p += 7;
        for (long v = strtol(p, &end, 10); end != p; v = strtol(p, &end, 10)) {
            *nspid = v;
            p = end;
        }
    }
    if (!strncmp(text, "Name:", 5))
        sscanf(text + 5, " %63s", name), (void)cap;
}

static void check(const char *when)
{
    char name[160], buf[4096], self[32], nm[64];
    long pid, nspid, me = (long)getpid();
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(name, sizeof name, "/proc/self names this process %s", when);
    crt_check(name, n > 0 && atol(self) == me, "/proc/self -> %s, getpid %ld", self, me);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", me);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    status_of(buf, &pid, &nspid, nm, sizeof nm);
    snprintf(name, sizeof name, "/proc/<getpid()>/status is its own %s", when);
    crt_check(name, pid == me && nspid == me && !strcmp(nm, "crt_procself"), "Pid %ld, NSpid %ld, Name %s", pid,
              nspid, nm);
    n = pread(held, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    status_of(buf, &pid, &nspid, nm, sizeof nm);
    snprintf(name, sizeof name, "the held /proc/self/status descriptor reads its own %s", when);
    crt_check(name, pid == me && !strcmp(nm, "crt_procself"), "Pid %ld, Name %s", pid, nm);
    /* its parent: one it sees (getppid() 0 is a parent outside its pid namespace: right only
     * for the namespace's init), whose /proc entry it can read, the PPid of its own status */
    long pp = (long)getppid(), ppid = -1;
    fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char *q = strstr(buf, "\nPPid:");
    if (q)
        ppid = strtol(q + 6, NULL, 10);
    snprintf(path, sizeof path, "/proc/%ld/stat", pp);
    snprintf(name, sizeof name, "getppid() names a parent it sees %s", when);
    crt_check(name, pp == ppid && ((pp > 0 && access(path, R_OK) == 0) || (pp == 0 && me == 1)),
              "getppid %ld, PPid %ld, %s %s", pp, ppid,
              path, access(path, R_OK) == 0 ? "readable" : strerror(errno));
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)getpid());
    held = open(path, O_RDONLY | O_CLOEXEC);
    if (held < 0)
        crt_die("%s: %s", path, strerror(errno));
    crt_say("holds /proc/<pid>/status open");
    crt_check_around_points(check);
}

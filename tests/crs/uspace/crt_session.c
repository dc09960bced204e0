/*
 * State test: sessions and process groups (issue 10, point 2).
 *   CRT_SESSION=setsid  the program leads a session of its own, without a
 *                       terminal (as setsid(1) or daemon(3) leave it)
 *   CRT_SESSION=pgrp    the program leads a process group of its own (as a
 *                       shell's job) in its parent's session
 * After each point: it still leads them (getsid, getpgrp against getpid),
 * and a session leader still has no controlling terminal (/dev/tty).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mode_setsid;

static void check(const char *when)
{
    char name[128];
    pid_t me = getpid(), sid = getsid(0), pg = getpgrp();
    if (mode_setsid) {
        snprintf(name, sizeof name, "leads its own session and process group %s", when);
        crt_check(name, sid == me && pg == me, "pid %d, sid %d, pgid %d", (int)me, (int)sid, (int)pg);
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(name, sizeof name, "has no controlling terminal %s", when);
        crt_check(name, fd < 0 && e == ENXIO, "/dev/tty: %s", fd >= 0 ? "opened" : strerror(e));
    } else {
        snprintf(name, sizeof name, "leads its own process group, in another's session %s", when);
        crt_check(name, pg == me && sid != me, "pid %d, sid %d, pgid %d", (int)me, (int)sid, (int)pg);
    }
}

int main(void)
{
    const char *m = getenv("CRT_SESSION");
    mode_setsid = !m || strcmp(m, "pgrp") != 0;
    if (mode_setsid) {
        if (setsid() < 0)
            crt_die("setsid: %s", strerror(errno));
    } else if (setpgid(0, 0) != 0) {
        crt_die("setpgid: %s", strerror(errno));
    }
    crt_say("%s", mode_setsid ? "a session of its own (setsid)" : "a process group of its own (setpgid)");
    crt_check_around_points(check);
}

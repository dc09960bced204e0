/*
 * State test: sessions and process groups (issue 10, point 2).
 *   CRT_SESSION=setsid  the program leads a session of its own, without a
 *                       terminal (as setsid(1) or daemon(3) leave it)
 *   CRT_SESSION=pgrp    the program leads a process group of its own (as a
 *                       shell's job) in its parent's session
 *   CRT_SESSION=daemon  setsid's, and the program puts /dev/null on its
 *                       stdin and stderr itself (open, dup2), as daemon(3)
 *                       and daemons by hand do (its stdout stays, for the
 *                       results): both must still be /dev/null after a
 *                       restart, not cr_restart's streams (stdin reads end
 *                       of file at once)
 * After each point: it still leads them (getsid, getpgrp against getpid),
 * and a session leader still has no controlling terminal (/dev/tty).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mode_setsid, mode_daemon;

/* /dev/null (character device 1:3) at fd */
static int on_devnull(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

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
        if (mode_daemon) {
            snprintf(name, sizeof name, "stdin and stderr are /dev/null %s", when);
            crt_check(name, on_devnull(0) && on_devnull(2), "stdin %s, stderr %s", on_devnull(0) ? "/dev/null" :
                      "another file", on_devnull(2) ? "/dev/null" : "another file");
            struct pollfd p = { .fd = 0, .events = POLLIN };
            char c;
            int ready = poll(&p, 1, 0) == 1;
            snprintf(name, sizeof name, "stdin reads end of file at once %s", when);
            crt_check(name, ready && read(0, &c, 1) == 0, "%s", ready ? "read a byte" : "not readable");
        }
    } else {
        snprintf(name, sizeof name, "leads its own process group, in another's session %s", when);
        crt_check(name, pg == me && sid != me, "pid %d, sid %d, pgid %d", (int)me, (int)sid, (int)pg);
    }
}

int main(void)
{
    const char *m = getenv("CRT_SESSION");
    mode_setsid = !m || strcmp(m, "pgrp") != 0;
    mode_daemon = m && !strcmp(m, "daemon");
    if (mode_setsid) {
        if (setsid() < 0)
            crt_die("setsid: %s", strerror(errno));
        int nul = mode_daemon ? open("/dev/null", O_RDWR) : -1;
        if (mode_daemon && (nul < 0 || dup2(nul, 0) != 0 || dup2(nul, 2) != 2 || close(nul) != 0))
            crt_die("/dev/null on stdin and stderr: %s", strerror(errno));
    } else if (setpgid(0, 0) != 0) {
        crt_die("setpgid: %s", strerror(errno));
    }
    crt_say("%s", mode_daemon   ? "a session of its own, stdin and stderr on /dev/null (a daemon)"
                  : mode_setsid ? "a session of its own (setsid)"
                                : "a process group of its own (setpgid)");
    crt_check_around_points(check);
}

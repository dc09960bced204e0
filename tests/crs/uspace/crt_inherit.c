/*
 * State test: descriptors inherited from the launcher and never used (issue
 * 10, point 12). The program first plays its own launcher: it makes a
 * "launcher" process (double-forked, so not its child) that holds the other
 * ends of three descriptors, then execs itself, keeping
 *   fd 5  the write end of a pipe the launcher reads (a pipe to a shell),
 *   fd 6  a Unix stream socket connected to the launcher (a batch system's),
 *   fd 7  the read end of a pipe holding "++++" (a job server's tokens),
 * so that libcr (preloaded across the exec) finds them open when it starts.
 * None of them can be reopened at a restart, and none blocks a checkpoint:
 * at a restart each is cr_restart's own descriptor of that number if it has
 * one of that type and access, else closed (cr_info says so). After each
 * point: each of 5, 6, 7 is either closed or still of its type, and a line
 * written to fd 5 when it is open goes through (inherit_reconnect.sh gives
 * cr_restart a pipe there and reads the line). The launcher leaves when the
 * pipe of fd 5 has no writer left. With CRT_INHERIT_OWN_PIPE=1 the program
 * also makes a pipe to another process itself (fd 9), which keeps the
 * strict rule: a checkpoint is refused naming it. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Moves fd to number `want` by way of a number above every one in play. */
static void place(int fd, int want)
{
    int high = fcntl(fd, F_DUPFD, 100);
    if (high < 0 || dup2(high, want) < 0)
        crt_die("moving %d to %d: %s", fd, want, strerror(errno));
    close(high);
}

/* A process that is not our child (its parent, our child, is reaped at
 * once) and keeps `keep` open, reading `reader` until no writer is left. */
static void far_end(int reader, const int *keep, int nkeep, const int *drop, int ndrop)
{
    pid_t p = fork();
    if (p < 0)
        crt_die("fork: %s", strerror(errno));
    if (p == 0) {
        if (fork() != 0)
            _exit(0);
        for (int i = 0; i < ndrop; i++)
            close(drop[i]);
        (void)keep, (void)nkeep;
        alarm(600);
        char buf[256];
        while (read(reader, buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    waitpid(p, NULL, 0);
    for (int i = 0; i < nkeep; i++)
        close(keep[i]);
}

/* The launcher holds the far ends; it reads fd 5's pipe until no writer is left. */
static void launch_and_exec(char **argv)
{
    int out[2], tok[2], sv[2];
    if (pipe(out) || pipe(tok) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        crt_die("pipe/socketpair: %s", strerror(errno));
    if (write(tok[1], "++++", 4) != 4)
        crt_die("tokens: %s", strerror(errno));
    far_end(out[0], (int[]){ out[0], tok[1], sv[1] }, 3, (int[]){ out[1], tok[0], sv[0] }, 3);
    int a = fcntl(out[1], F_DUPFD, 100), b = fcntl(sv[0], F_DUPFD, 100), c = fcntl(tok[0], F_DUPFD, 100);
    close(out[1]);
    close(sv[0]);
    close(tok[0]);
    place(a, 5);
    place(b, 6);
    place(c, 7);
    close(a);
    close(b);
    close(c);
    setenv("CRT_INHERIT_STAGE", "1", 1);
    execv("/proc/self/exe", argv);
    crt_die("exec: %s", strerror(errno));
}

static const struct { int fd; mode_t type; int acc; const char *what; } fds[] = {
    { 5, S_IFIFO, O_WRONLY, "pipe to the launcher" },
    { 6, S_IFSOCK, O_RDWR, "socket to the launcher" },
    { 7, S_IFIFO, O_RDONLY, "job server's pipe" },
};

static void check_inherited(const char *when)
{
    char name[128];
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        struct stat st;
        int fl = fcntl(fds[i].fd, F_GETFL);
        int closed = fl < 0 && errno == EBADF;
        int same = fl >= 0 && fstat(fds[i].fd, &st) == 0 && (st.st_mode & S_IFMT) == fds[i].type &&
                   (fl & O_ACCMODE) == fds[i].acc;
        snprintf(name, sizeof name, "fd %d (%s) %s: still of its kind, or closed", fds[i].fd, fds[i].what, when);
        crt_check(name, closed || same, "flags %d, %s", fl, closed ? "closed" : "another kind of file");
    }
    /* a line for whoever reads fd 5 now (inherit_reconnect.sh checks it) */
    char line[128];
    int n = snprintf(line, sizeof line, "pid %d writes to its inherited fd 5 %s\n", (int)getpid(), when);
    ssize_t w = fcntl(5, F_GETFL) >= 0 ? write(5, line, (size_t)n) : n;
    snprintf(name, sizeof name, "a line to fd 5 %s goes through where it is open", when);
    crt_check(name, w == n, "write gave %zd (%s)", w, w < 0 ? strerror(errno) : "short");
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (!getenv("CRT_INHERIT_STAGE"))
        launch_and_exec(argv);
    crt_say("started with fds 5, 6 and 7 from its launcher");
    check_inherited("at start");
    if (crt_env_long("CRT_INHERIT_OWN_PIPE", 0)) {
        /* a pipe to another process that the program makes itself, as fd 9:
         * the strict rule (inherit_reconnect.sh expects the refusal) */
        int p[2];
        if (pipe(p) || dup2(p[1], 9) < 0)
            crt_die("pipe: %s", strerror(errno));
        close(p[1]);
        far_end(p[0], (int[]){ p[0] }, 1, (int[]){ 9 }, 1);
    }

    crt_checkpoint_point(1);

    check_inherited("after point 1");

    crt_checkpoint_point(2);

    check_inherited("after point 2");
    crt_finish();
}

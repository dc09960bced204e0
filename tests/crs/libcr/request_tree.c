/*
 * cr_request_checkpoint with CR_SCOPE_TREE of the caller's own tree (issue
 * 10, point 1; BLCR's scopes); with argv[2] `pgrp` or `sess`, CR_SCOPE_PGRP of
 * the process group it leads (setpgid first) or CR_SCOPE_SESS of the session it
 * leads (setsid first), target 0: its own. The program (linked with -lcr) forks a child
 * that waits on a pipe, requests a checkpoint of its tree into argv[1] and
 * polls until it is written. In the original the poll gives 1; in the
 * process restarted from the file it gives CR_POLL_CHKPT_ERR_POST with errno
 * CR_ERESTARTED. Either way the child is then told to end and must exit 9
 * (waitpid). Also: requests that must fail at once (a process group that
 * does not exist: ESRCH; a read-only descriptor: EINVAL).
 * Prints one line per fact; exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcr.h"

static const char *en(int e)
{
    return e == ESRCH ? "ESRCH" : e == EINVAL ? "EINVAL" : e == EPERM ? "EPERM" : strerror(e);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: request_tree IMAGE [pgrp|sess]\n");
        return 2;
    }
    const char *scope = argc == 3 ? argv[2] : "tree";
    if (!strcmp(scope, "pgrp") && setpgid(0, 0) != 0)
        return 2;
    if (!strcmp(scope, "sess") && setsid() < 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    if (pipe(p) != 0)
        return 2;
    pid_t kid = fork();
    if (kid == 0) {
        close(p[1]);
        char c;
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(9);
    }
    close(p[0]);
    if (cr_init() < 0) {
        printf("cr_init: -1 %s\n", en(errno));
        return 1;
    }
    cr_checkpoint_args_t a;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_scope = CR_SCOPE_PGRP;
    a.cr_target = 999999;
    a.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = cr_request_checkpoint(&a, &h);
    printf("group that does not exist: %d %s\n", r, r ? en(errno) : "");
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    a.cr_fd = ro;
    a.cr_scope = CR_SCOPE_TREE;
    a.cr_target = 0;
    r = cr_request_checkpoint(&a, &h);
    printf("descriptor not writable: %d %s\n", r, r ? en(errno) : "");
    close(ro);
    a.cr_fd = open(argv[1], O_WRONLY | O_CLOEXEC);
    a.cr_scope = !strcmp(scope, "pgrp") ? CR_SCOPE_PGRP : !strcmp(scope, "sess") ? CR_SCOPE_SESS : CR_SCOPE_TREE;
    r = cr_request_checkpoint(&a, &h);
    printf("%s request: %d\n", scope, r);
    if (r)
        return 1;
    r = cr_poll_checkpoint(&h, NULL);
    int e = errno;
    if (r == 1)
        printf("poll: 1 (written, the original runs on)\n");
    else if (r == CR_POLL_CHKPT_ERR_POST && e == CR_ERESTARTED)
        printf("poll: restarted\n");
    else
        printf("poll: %d %s\n", r, en(e));
    close(a.cr_fd);
    if (write(p[1], "q", 1) != 1)
        printf("FAIL the child's pipe: %s\n", strerror(errno));
    int st = 0;
    pid_t w;
    while ((w = waitpid(kid, &st, 0)) < 0 && errno == EINTR)
        ;
    printf("child: %s, status %d\n", w == kid ? "waited for" : strerror(errno),
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/*
 * cr_request_checkpoint with CR_SCOPE_TREE, PGRP or SESS: the members are
 * checkpointed by a helper cr_checkpoint process (crs/base/tree_ckpt.c), as
 * the caller may be a member itself and must then be parked like the others.
 * It is made without an exit signal (clone, then exec at once), so the
 * program never gets a SIGCHLD for it nor reaps it with waitpid(-1); it runs
 * with REVIVE_DISABLE=1 (not a process to checkpoint) and excludes itself
 * from the members.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/tree.h"
#include "crs/libcr/runtime.h"

#ifndef REVIVE_BINDIR
#define REVIVE_BINDIR "/usr/local/bin"
#endif

struct helper {
    const char *path;
    char **argv, **envp;
    int fd;
};

static int helper_main(void *arg)
{
    struct helper *h = arg;
    fcntl(h->fd, F_SETFD, 0);   /* our own table (no CLONE_FILES): the helper inherits it */
    execve(h->path, h->argv, h->envp);
    _exit(127);
}

/* $REVIVE_CR_CHECKPOINT, else the installed one, else the first in $PATH. */
static int find_tool(char *out, size_t cap)
{
    const char *env = getenv("REVIVE_CR_CHECKPOINT");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return access(out, X_OK) == 0 ? 0 : -ENOENT;
    }
    snprintf(out, cap, "%s/cr_checkpoint", REVIVE_BINDIR);
    if (access(out, X_OK) == 0)
        return 0;
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        snprintf(out, cap, "%.*s/cr_checkpoint", (int)len, path);
        if (len && access(out, X_OK) == 0)
            return 0;
        path = end ? end + 1 : NULL;
    }
    return -ENOENT;
}

int crs_scope_checkpoint(struct crs_request_slot *s)
{
    char tool[4096];
    int e = find_tool(tool, sizeof tool);
    if (e) {
        fprintf(stderr, "libcr: a checkpoint of a process %s needs cr_checkpoint, found neither in "
                        "$REVIVE_CR_CHECKPOINT, " REVIVE_BINDIR " nor $PATH\n",
                crs_tree_scope_name((uint32_t)s->scope));
        return e;
    }
    char fdarg[32], id[32], sig[32], timeout[32];
    snprintf(fdarg, sizeof fdarg, "--fd=%d", s->fd);
    snprintf(id, sizeof id, "%d", (int)s->target);
    snprintf(sig, sizeof sig, "--signal=%d", s->signal > 0 ? s->signal : 0);
    snprintf(timeout, sizeof timeout, "%u", s->timeout_s);
    static char a_name[] = "cr_checkpoint", a_tree[] = "--tree", a_pgid[] = "--pgid", a_sid[] = "--sid",
                a_time[] = "-T", a_zstd[] = "--compress", a_ign[] = "--ignore-fds", e_off[] = "REVIVE_DISABLE=1";
    char *argv[16];
    int n = 0;
    argv[n++] = a_name;
    argv[n++] = s->scope == CRS_TREE_SCOPE_TREE ? a_tree : s->scope == CRS_TREE_SCOPE_PGRP ? a_pgid : a_sid;
    argv[n++] = fdarg;
    argv[n++] = sig;
    if (s->timeout_s) {
        argv[n++] = a_time;
        argv[n++] = timeout;
    }
    if (s->flags & CR_CHKPT_COMPRESS)
        argv[n++] = a_zstd;
    if (s->flags & CR_CHKPT_IGNORE_FDS)
        argv[n++] = a_ign;
    argv[n++] = id;
    argv[n] = NULL;
    size_t ne = 0;
    while (environ && environ[ne])
        ne++;
    char **envp = calloc(ne + 2, sizeof *envp);
    size_t stack_len = 64 << 10;
    void *stack = mmap(NULL, stack_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (!envp || stack == MAP_FAILED) {
        free(envp);
        if (stack != MAP_FAILED)
            munmap(stack, stack_len);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "REVIVE_DISABLE=", 15))
            envp[k++] = environ[i];
    envp[k++] = e_off;
    envp[k] = NULL;
    struct helper h = { tool, argv, envp, s->fd };
    /* CLONE_VFORK: we go on once it has exec'd; no exit signal */
    pid_t pid = clone(helper_main, (char *)stack + stack_len, CLONE_VM | CLONE_VFORK, &h);
    e = pid < 0 ? -errno : 0;
    munmap(stack, stack_len);
    free(envp);
    if (e)
        return e;
    int st;
    while (waitpid(pid, &st, __WALL) < 0)
        if (errno != EINTR)
            return -errno;   /* ECHILD: in a process restarted from the image (not ours any more) */
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return -ENOEXEC;
    return WIFEXITED(st) && WEXITSTATUS(st) < 126 ? -WEXITSTATUS(st) : -EIO;
}

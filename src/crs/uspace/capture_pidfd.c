/* pidfds (pidfd_open, clone3 CLONE_PIDFD): a descriptor naming a process.
 * One of the process itself comes back as one of the restarted process;
 * one of another process only in a tree's checkpoint, where cr_checkpoint
 * has checked that the process it names is a member (tree_ckpt.c), whose
 * restart gives it back under its pid. The restart opens it again once
 * every member is back (restore_pidfd.c). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pid fdinfo gives the target as this process's pid namespace sees it:
 * the last NSpid entry when the target lives in our namespace (a tree's
 * members do), else the Pid line. -1: a process that has ended and been
 * waited for; 0: one outside our namespace. */
static long target_pid(const char *info)
{
    const char *ns = strstr(info, "\nNSpid:");
    const char *p = strstr(info, "\nPid:");
    if (!p)
        return -2;
    long pid = strtol(p + 5, NULL, 10);
    if (ns && pid > 0) {
        const char *q = ns + 7;
        long last = pid;
        char *end;
        for (;;) {
            long v = strtol(q, &end, 10);
            if (end == q)
                break;
            last = v;
            q = end;
        }
        return last;
    }
    return pid;
}

static void comm_of(long pid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    long n = revive_read_file(path, out, cap);
    if (n <= 0 || n == -ENOSPC) {
        snprintf(out, cap, "?");
        return;
    }
    out[strcspn(out, "\n")] = 0;
}

int crs_capture_pidfd(struct crs_capture *c, struct crs_rec_fd *r, const char *link)
{
    if (strcmp(link, "anon_inode:[pidfd]"))
        return 1;   /* not one */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", r->fd);
    long len = revive_read_file(path, c->fdinfo, 1u << 20);
    if (len < 0) {
        crs_capture_error(c, "cannot read %s: %s", path, strerror((int)-len));
        return (int)len;
    }
    long pid = target_pid(c->fdinfo);
    if (pid == -1) {
        crs_capture_error(c, "file descriptor %d is a pidfd of a process that has ended and been waited for: "
                             "a restart has no such process to name; close it before the checkpoint", r->fd);
        return -ENOTSUP;
    }
    if (pid <= 0 || pid > INT32_MAX) {
        crs_capture_error(c, "file descriptor %d is a pidfd of a process outside this process's pid namespace: "
                             "a restart cannot name it again; close it before the checkpoint", r->fd);
        return -ENOTSUP;
    }
    char comm[32];
    if ((pid_t)pid != getpid()) {
        char task[64];
        snprintf(task, sizeof task, "/proc/self/task/%ld", pid);
        if (access(task, F_OK) == 0) {
            crs_capture_error(c, "file descriptor %d is a pidfd of thread %ld of this process: thread ids are "
                                 "not kept across a restart; close it before the checkpoint", r->fd, pid);
            return -ENOTSUP;
        }
        if (!c->opts.tree) {
            comm_of(pid, comm, sizeof comm);
            crs_capture_error(c, "file descriptor %d is a pidfd of process %ld (%s), which is not being "
                                 "checkpointed: after a restart it would name another process or none; checkpoint "
                                 "a scope that holds that process too (cr_checkpoint --tree, --pgid, --sid), or "
                                 "close it first", r->fd, pid, comm);
            return -ENOTSUP;
        }
        /* a member of the tree: cr_checkpoint checked it */
    }
    r->kind = CRS_FD_PIDFD;
    r->memfd = (int32_t)pid;
    return 0;
}

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
#include <sys/ioctl.h>
#include <unistd.h>

/* The pid fdinfo gives the target as this process's pid namespace sees it:
 * the last NSpid entry when the target lives in our namespace (a tree's
 * members do), else the Pid line. -1: a process that has ended and been
 * waited for (any process: it can no longer be told apart); 0: one outside
 * our namespace. */
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

/* PIDFD_GET_INFO (Linux 6.13; the exit code of a process waited for since
 * 6.15), declared here: Debian 12's headers predate it. */
struct pidfd_info_v1 {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
    uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO_V1 _IOWR(0xFF, 11, struct pidfd_info_v1)
#define PIDFD_INFO_EXIT_V1 0x8u

/* The wait status the kernel kept for a process that has ended and been
 * waited for, or -1 when it keeps none (kernels before 6.15). */
static int64_t ended_status(int fd)
{
    struct pidfd_info_v1 in;
    memset(&in, 0, sizeof in);
    in.mask = PIDFD_INFO_EXIT_V1;
    if (ioctl(fd, PIDFD_GET_INFO_V1, &in) != 0 || !(in.mask & PIDFD_INFO_EXIT_V1) || in.exit_code < 0 ||
        in.exit_code > 0xffff)
        return -1;
    return in.exit_code;
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
        /* ended and waited for: nothing to name, but the descriptor says
         * so (poll, waitid, pidfd_send_signal, its exit code): made again
         * from a child that ends the same way (restore_pidfd.c) */
        r->kind = CRS_FD_PIDFD;
        r->memfd = 0;
        r->offset = ended_status(r->fd);
        return 0;
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
            /* one of our threads: the restored process opens it again once
             * its threads are back (restore_pidfd.c) */
            r->kind = CRS_FD_PIDFD;
            r->memfd = (int32_t)pid;
            return 0;
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

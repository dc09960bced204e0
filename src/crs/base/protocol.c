#define _GNU_SOURCE
#include "crs/base/protocol.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int crs_proto_address(struct sockaddr_un *sa, pid_t pid)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "revive-cr.%d", (int)pid);
    return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int crs_proto_send(int sock, const void *msg, size_t len, int fd)
{
    struct iovec iov = { (void *)msg, len };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EPROTO;
}

int crs_proto_recv(int sock, void *msg, size_t len, int *fd, int timeout_ms)
{
    if (fd)
        *fd = -1;
    struct pollfd p = { .fd = sock, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return -ETIMEDOUT;
    struct iovec iov = { msg, len };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int got;
            memcpy(&got, CMSG_DATA(cm), sizeof got);
            if (fd && *fd < 0)
                *fd = got;
            else
                close(got);
        }
    if (n == 0)
        return -ECONNRESET;
    return (size_t)n == len ? 0 : -EPROTO;
}

pid_t crs_proto_self_pid(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    if (n <= 0)
        return getpid();
    buf[n] = 0;
    return (pid_t)atoi(buf);
}

long crs_proto_process_uid(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    if (stat(path, &st) != 0)
        return -ESRCH;
    return (long)st.st_uid;
}

int crs_proto_connect(pid_t pid)
{
    if (pid <= 0)
        return -ESRCH;
    long owner = crs_proto_process_uid(pid);
    if (owner < 0)
        return (int)owner;
    uid_t me = getuid();
    if (me != 0 && (uid_t)owner != me)
        return -EPERM;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct sockaddr_un sa;
    int len = crs_proto_address(&sa, pid);
    if (connect(s, (struct sockaddr *)&sa, (socklen_t)len) != 0) {
        int e = errno;
        close(s);
        return e == ENOENT ? -ECONNREFUSED : -e;
    }
    /* The abstract name could be squatted by another process: check that
     * the one answering is the target, run by the target's owner. */
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.uid != (uid_t)owner ||
        cr.pid != pid) {
        close(s);
        return -EACCES;
    }
    return s;
}

pid_t crs_proto_find_inner_pid(pid_t inner)
{
    /* A restarted process may run in a pid namespace of its own, where it
     * keeps its old pid: the one its output shows. /proc/N/status's NSpid
     * line lists a process's ids from the outermost namespace in. */
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    pid_t found = -1;
    int matches = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        char *p = strstr(buf, "NSpid:");
        if (!p)
            continue;
        char *end = strchr(p, '\n');
        if (end)
            *end = 0;
        long ids[8];
        int k = 0;
        for (char *q = p + 6; *q && k < 8;) {
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q < '0' || *q > '9')
                break;
            ids[k++] = strtol(q, &q, 10);
        }
        if (k >= 2 && ids[k - 1] == inner && ids[0] != inner && (getuid() == 0 || crs_proto_process_uid((pid_t)ids[0]) == (long)getuid())) {
            found = (pid_t)ids[0];
            matches++;
        }
    }
    closedir(d);
    return matches == 1 ? found : -1;
}

static int process_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* The state letter of /proc/PID/stat ('R', 'S', 'T' stopped, 'Z' ...), or 0. */
static char process_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static int stopped_or_dead(pid_t pid, char *err, size_t errlen)
{
    char st = process_state(pid);
    if (st == 'T' || st == 't') {
        snprintf(err, errlen, "process %d is stopped (state %c), so it cannot take its checkpoint; "
                 "let it run (kill -CONT %d) and try again", (int)pid, st, (int)pid);
        return -EAGAIN;
    }
    if (st == 'Z' || st == 'X' || process_gone(pid)) {
        snprintf(err, errlen, "process %d has exited", (int)pid);
        return -ESRCH;
    }
    return 0;
}

int crs_proto_checkpoint(pid_t pid, int image_fd, uint32_t flags, int zstd_level, int timeout_ms,
                         int signal_after, int (*commit)(void *arg, char *err, size_t errlen), void *arg,
                         struct crs_proto_reply *reply, char *err, size_t errlen)
{
    int s = crs_proto_connect(pid);
    if (s >= 0) {
        int e = stopped_or_dead(pid, err, errlen);
        if (e) {
            close(s);
            return e;
        }
    }
    if (s < 0) {
        switch (-s) {
        case ESRCH: {
            pid_t outer = crs_proto_find_inner_pid(pid);
            if (outer > 0)
                snprintf(err, errlen, "no process with PID %d here; process %d runs as %d inside its own pid "
                         "namespace (a restarted process): checkpoint it as %d", (int)pid, (int)outer, (int)pid,
                         (int)outer);
            else
                snprintf(err, errlen, "no process with PID %d", (int)pid);
            break;
        }
        case EPERM: snprintf(err, errlen, "process %d belongs to another user; only its owner (or root) can checkpoint it", (int)pid); break;
        case ECONNREFUSED:
            snprintf(err, errlen, "process %d does not run under Revive (start it with cr_run, or link it with -lcr)", (int)pid);
            break;
        case EACCES: snprintf(err, errlen, "the checkpoint socket of process %d is held by another process; refusing to talk to it", (int)pid); break;
        default: snprintf(err, errlen, "cannot reach process %d: %s", (int)pid, strerror(-s)); break;
        }
        return s;
    }
    struct crs_proto_request rq = { .magic = CRS_PROTO_MAGIC, .version = CRS_PROTO_VERSION, .flags = flags,
                                    .zstd_level = zstd_level, .timeout_ms = 10000 };
    int e = crs_proto_send(s, &rq, sizeof rq, image_fd);
    if (e) {
        snprintf(err, errlen, "cannot send the request to process %d: %s", (int)pid, strerror(-e));
        goto out;
    }
    /* Wait in slices, so that a process that dies (or is stopped) while
     * writing does not leave us waiting forever. */
    int waited = 0;
    for (;;) {
        e = crs_proto_recv(s, reply, sizeof *reply, NULL, 1000);
        if (e != -ETIMEDOUT)
            break;
        waited += 1000;
        if ((e = stopped_or_dead(pid, err, errlen)) != 0) {
            if (e == -ESRCH)
                snprintf(err, errlen, "process %d died during the checkpoint", (int)pid);
            goto out;
        }
        if (timeout_ms >= 0 && waited >= timeout_ms) {
            snprintf(err, errlen, "process %d did not finish its checkpoint within %d s (is it stopped?)",
                     (int)pid, timeout_ms / 1000);
            goto out;
        }
    }
    if (e) {
        snprintf(err, errlen, "process %d ended the checkpoint without an answer (%s); it may have died",
                 (int)pid, strerror(-e));
        goto out;
    }
    if (reply->magic != CRS_PROTO_MAGIC) {
        snprintf(err, errlen, "process %d answered with a malformed reply", (int)pid);
        e = -EPROTO;
        goto out;
    }
    if (reply->status) {
        reply->msg[sizeof reply->msg - 1] = 0;
        snprintf(err, errlen, "%s", reply->msg);
        e = reply->status;
        goto out;
    }
    if (commit && (e = commit(arg, err, errlen)))
        goto out;
    if (signal_after)
        kill(pid, signal_after);
    char go = CRS_PROTO_RESUME;
    crs_proto_send(s, &go, 1, -1);
out:
    close(s);
    return e;
}

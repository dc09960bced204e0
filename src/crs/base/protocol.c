#define _GNU_SOURCE
#include "crs/base/protocol.h"
#include "common/procfs.h"

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
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
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

/* One message of at most len bytes into msg: its length, or -errno. */
static ssize_t recv_some(int sock, void *msg, size_t len, int *fd, int timeout_ms)
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
    return n;
}

int crs_proto_recv(int sock, void *msg, size_t len, int *fd, int timeout_ms)
{
    ssize_t n = recv_some(sock, msg, len, fd, timeout_ms);
    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -EPROTO;
}

int crs_proto_recv_reply(int sock, struct crs_proto_reply *rp, int timeout_ms, uint32_t *peer)
{
    memset(rp, 0, sizeof *rp);
    *peer = CRS_PROTO_VERSION;
    ssize_t n = recv_some(sock, rp, sizeof *rp, NULL, timeout_ms);
    if (n < 0)
        return (int)n;
    if ((size_t)n < CRS_PROTO_REPLY_V1_SIZE)
        return -EPROTO;
    if (rp->magic != CRS_PROTO_MAGIC && rp->magic != CRS_PROTO_PARKED)
        return (size_t)n == sizeof *rp ? 0 : -EPROTO;   /* the caller names a malformed reply */
    /* version 1's reply ends before `version` (and one of Revive's own between d537784 and the
     * bump, a version 1 with the note, has text or zeros there: below 2 too) */
    uint32_t v = (size_t)n >= CRS_PROTO_REPLY_V1_SIZE + sizeof rp->version ? rp->version : 1;
    *peer = v < 2 ? 1 : v;
    if (*peer != CRS_PROTO_VERSION) {
        rp->msg[sizeof rp->msg - 1] = 0;
        memset((char *)rp + CRS_PROTO_REPLY_V1_SIZE, 0, sizeof *rp - CRS_PROTO_REPLY_V1_SIZE);
        return -EPROTONOSUPPORT;
    }
    return (size_t)n == sizeof *rp ? 0 : -EPROTO;
}

void crs_proto_version_text(char *err, size_t errlen, const char *who, uint32_t peer)
{
    if (peer < CRS_PROTO_VERSION)
        snprintf(err, errlen, "%s runs an older Revive: its libcr.so speaks checkpoint protocol version %u, this "
                 "requester's version %u (it was started before Revive was upgraded, or under another "
                 "installation): checkpoint it with the cr_checkpoint of the Revive it was started with, or "
                 "start it again under this one", who, peer, CRS_PROTO_VERSION);
    else
        snprintf(err, errlen, "%s runs a newer Revive: its libcr.so speaks checkpoint protocol version %u, this "
                 "requester's version %u: checkpoint it with the cr_checkpoint of the Revive it was started "
                 "with", who, peer, CRS_PROTO_VERSION);
}

/* Set after a restart under a /proc of the process's own pid namespace
 * (which calls it by its inner pid); only for the process it was set in. */
static pid_t told_outer, told_for;

void crs_proto_set_self_pid(pid_t outer)
{
    told_outer = outer;
    told_for = getpid();
}

pid_t crs_proto_self_pid(void)
{
    if (told_outer > 0 && told_for == getpid())
        return told_outer;
    pid_t p = revive_proc_self_pid();
    return p > 0 ? p : getpid();
}

long crs_proto_process_uid(pid_t pid)
{
    char path[64];
    struct stat st;
    if (pid <= 0 || revive_proc_path(path, sizeof path, pid, 0, NULL) < 0 || stat(path, &st) != 0)
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
        /* A process started after a restart inside the restart's pid
         * namespace (a restarted shell's new child) reads its inner pid from
         * the namespace's /proc and listens under that: try it too (the
         * credentials below still check who answers). */
        char buf[4096];
        int64_t ids[40];
        long n = revive_proc_read(pid, 0, "status", buf, sizeof buf);
        int k = n > 0 || n == -ENOSPC ? revive_status_ids(buf, "NSpid", ids, 40) : 0;
        if (k >= 2 && k <= 40 && ids[k - 1] != pid) {
            len = crs_proto_address(&sa, (pid_t)ids[k - 1]);
            if (connect(s, (struct sockaddr *)&sa, (socklen_t)len) == 0)
                goto connected;
        }
        close(s);
        return e == ENOENT ? -ECONNREFUSED : -e;
    }
connected:;
    /* The abstract name could be squatted by another process: check that
     * the one answering is the target, run by the target's owner, or by root: the credentials
     * are those of when libcr began to listen, and a process started as root that became
     * another user since (a privilege-dropping daemon) still holds the socket root made. */
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || (cr.uid != (uid_t)owner && cr.uid != 0) ||
        cr.pid != pid) {
        close(s);
        return -EACCES;
    }
    return s;
}

struct inner_search {
    pid_t inner, found;
    int matches;
};

static long match_inner(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct inner_search *q = arg;
    char buf[4096];
    int64_t ids[40]; /* a pid namespace is at most 32 deep */
    long len = revive_proc_read((pid_t)n, 0, "status", buf, sizeof buf);
    if (len < 0 && len != -ENOSPC) /* gone meanwhile; -ENOSPC still holds NSpid */
        return 0;
    int k = revive_status_ids(buf, "NSpid", ids, 40);
    if (k >= 2 && k <= 40 && ids[k - 1] == q->inner && ids[0] != q->inner &&
        (getuid() == 0 || crs_proto_process_uid((pid_t)ids[0]) == (long)getuid())) {
        q->found = (pid_t)ids[0];
        q->matches++;
    }
    return 0;
}

pid_t crs_proto_find_inner_pid(pid_t inner)
{
    /* A restarted process may run in a pid namespace of its own, where it
     * keeps its old pid: the one its output shows. /proc/N/status's NSpid
     * line lists a process's ids from the outermost namespace in. */
    struct inner_search q = { inner, -1, 0 };
    if (revive_proc_for_each_number("/proc", match_inner, &q) < 0)
        return -1;
    return q.matches == 1 ? q.found : -1;
}

static int process_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* The process's tracer (TracerPid), 0 when none or unknown. */
static pid_t tracer_of(pid_t pid)
{
    char buf[4096];
    int64_t id = 0;
    long n = revive_proc_read(pid, 0, "status", buf, sizeof buf);
    if ((n > 0 || n == -ENOSPC) && revive_status_ids(buf, "TracerPid", &id, 1) == 1)
        return (pid_t)id;
    return 0;
}

static int stopped_or_dead(pid_t pid, char *err, size_t errlen)
{
    char st = revive_proc_held_stopped(pid, 1000);
    if (st == 'T') {
        snprintf(err, errlen, "process %d is stopped (state T), so it cannot take its checkpoint; "
                 "let it run (kill -CONT %d) and try again", (int)pid, (int)pid);
        return -EAGAIN;
    }
    if (st == 't') {
        /* a traced process stopped by a signal shows state t as well (diffrev37 R-L7): name both */
        snprintf(err, errlen, "process %d is held stopped under its tracer (process %d) for more than 1 s: a "
                 "debugger at a breakpoint, or a stop signal while traced, so it cannot take its checkpoint; "
                 "let it run (kill -CONT %d, or continue it in the debugger) and try again",
                 (int)pid, (int)tracer_of(pid), (int)pid);
        return -EAGAIN;
    }
    st = revive_proc_state(pid);
    if (st == 'Z' || st == 'X' || process_gone(pid)) {
        snprintf(err, errlen, "process %d has exited", (int)pid);
        return -ESRCH;
    }
    return 0;
}

static int exchange(pid_t pid, int image_fd, uint32_t flags, int zstd_level, uint32_t file_data_max_mb,
                    int timeout_ms, int signal_after,
                    int (*commit)(void *arg, char *err, size_t errlen), void *arg, struct crs_proto_reply *reply,
                    char *err, size_t errlen);

int crs_proto_has_libcr(pid_t pid)
{
    char buf[8192];
    struct revive_maps_reader r;
    struct revive_maps_entry me;
    if (revive_maps_open(&r, pid, 0, buf, sizeof buf) != 0)
        return 0;
    int found = 0;
    while (!found && revive_maps_next(&r, &me) > 0) {
        const char *b = strrchr(me.name, '/');
        found = b && !strncmp(b + 1, "libcr.so", 8);
    }
    revive_maps_close(&r);
    return found;
}

/* A process that refuses a connection but will listen in a moment: one
 * just forked without libc's fork (syscall(SYS_fork), clone: libcr starts
 * its checkpoint thread only in a fork handler), a vfork child, either
 * until it starts its program, and one that is starting its program
 * (libcr loaded, its constructor not run yet). Any with libcr.so loaded is
 * given a while; one without is refused at once (a program linked with
 * libcr.a shows no libcr.so: not waited for). */
#define START_WAIT_TRIES 50
#define START_WAIT_MS 100

static int may_listen_soon(pid_t pid)
{
    return crs_proto_has_libcr(pid);
}

/* The refusal of one that never listened: what it is, when libcr is loaded. */
static void not_listening(pid_t pid, char *err, size_t errlen)
{
    char buf[1024];
    uint64_t ppid = 0;
    long n = revive_proc_read(pid, 0, "stat", buf, sizeof buf);
    int have_ppid = (n >= 0 || n == -ENOSPC) && revive_stat_field(buf, 4, &ppid) == 0 && ppid > 0;
    if (have_ppid && syscall(SYS_kcmp, pid, (pid_t)ppid, 1 /* KCMP_VM */, 0, 0) == 0)
        snprintf(err, errlen, "process %d is a vfork child of process %d (vfork or posix_spawn) that has not started "
                 "its program: it shares its parent's memory, and its parent waits, until it does, so neither can be "
                 "checkpointed now; try again once it has (a vfork child should exec at once)", (int)pid, (int)ppid);
    else if (crs_proto_has_libcr(pid))
        snprintf(err, errlen, "process %d has Revive's library loaded but did not answer within %d s: a child made "
                 "without libc's fork (syscall(SYS_fork), clone) runs no checkpoint thread until it starts a program; "
                 "try again once it has, or checkpoint its parent with --tree", (int)pid,
                 START_WAIT_TRIES * START_WAIT_MS / 1000);
}

int crs_proto_connect_wait(pid_t pid)
{
    int s = crs_proto_connect(pid);
    if (s != -ECONNREFUSED || !may_listen_soon(pid))
        return s;
    for (int tries = 0; s == -ECONNREFUSED && tries < START_WAIT_TRIES && !process_gone(pid); tries++) {
        struct timespec ts = { 0, START_WAIT_MS * 1000000L };
        nanosleep(&ts, NULL);
        s = crs_proto_connect(pid);
    }
    return s;
}

int crs_proto_checkpoint(pid_t pid, int image_fd, uint32_t flags, int zstd_level, uint32_t file_data_max_mb,
                         int timeout_ms, int signal_after, int (*commit)(void *arg, char *err, size_t errlen), void *arg,
                         struct crs_proto_reply *reply, char *err, size_t errlen)
{
    /* A process whose program closed libcr's socket without libc drops the
     * connection that makes it notice, and listens again a moment later:
     * such a drop, before any answer and with nothing written, and a refused
     * connection right after it, are worth a few tries. */
    off_t start = image_fd >= 0 ? lseek(image_fd, 0, SEEK_CUR) : -1;
    int e = -ECONNRESET;
    for (int attempt = 0; attempt < 5 && (e == -ECONNRESET || (attempt && e == -ECONNREFUSED)); attempt++) {
        if (attempt) {
            struct timespec ts = { 0, 200000000L };
            nanosleep(&ts, NULL);
            if (image_fd < 0 || lseek(image_fd, 0, SEEK_CUR) != start || process_gone(pid))
                break;
        }
        e = exchange(pid, image_fd, flags, zstd_level, file_data_max_mb, timeout_ms, signal_after, commit, arg,
                     reply, err, errlen);
    }
    /* just forked or starting its program: it listens in a moment */
    if (e == -ECONNREFUSED && may_listen_soon(pid)) {
        for (int tries = 0; image_fd >= 0 && e == -ECONNREFUSED && tries < START_WAIT_TRIES && !process_gone(pid);
             tries++) {
            struct timespec ts = { 0, START_WAIT_MS * 1000000L };
            nanosleep(&ts, NULL);
            if (lseek(image_fd, 0, SEEK_CUR) != start)
                break;
            e = exchange(pid, image_fd, flags, zstd_level, file_data_max_mb, timeout_ms, signal_after, commit, arg,
                         reply, err, errlen);
        }
        if (e == -ECONNREFUSED)
            not_listening(pid, err, errlen);
    }
    return e;
}

int crs_proto_park_timeout_ms(void)
{
    /* a test of a thread that never parks (timers_glibc.sh) waited out the whole 10 s */
    const char *v = getenv("REVIVE_PARK_TIMEOUT_S");
    char *end;
    long s = v && *v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && s >= 1 && s <= 3600 ? (int)s * 1000 : 10000;
}

/* One connection's exchange: -ECONNRESET (err set) when the process hung up
 * before answering. */
static int exchange(pid_t pid, int image_fd, uint32_t flags, int zstd_level, uint32_t file_data_max_mb,
                    int timeout_ms, int signal_after,
                    int (*commit)(void *arg, char *err, size_t errlen), void *arg, struct crs_proto_reply *reply,
                    char *err, size_t errlen)
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
        case ECONNREFUSED: {
            /* a zombie listens no more, whatever it ran under: "does not run under Revive" sent a
             * user whose daemon had just ended to start it with cr_run (a fresh-user review) */
            char st = revive_proc_state(pid);
            if (st == 'Z' || st == 'X')
                snprintf(err, errlen, "process %d has exited (a zombie its parent has not reaped yet): there is "
                         "nothing left to checkpoint", (int)pid);
            else {
                char comm[64];
                long n = revive_proc_read(pid, 0, "comm", comm, sizeof comm);
                if (n <= 0)
                    snprintf(comm, sizeof comm, "?");
                comm[strcspn(comm, "\n")] = 0;
                if (pid == 1) /* "start it with cr_run" cannot apply to init */
                    snprintf(err, errlen, "process 1 (%s), the first process of this pid namespace (its init), "
                             "does not run under Revive; give the PID of a process started with cr_run", comm);
                else
                    snprintf(err, errlen, "process %d (%s) does not run under Revive (start it with cr_run, or link "
                             "it with -lcr)", (int)pid, comm);
            }
            break;
        }
        case EACCES: snprintf(err, errlen, "the checkpoint socket of process %d is held by another process; refusing to talk to it", (int)pid); break;
        default: snprintf(err, errlen, "cannot reach process %d: %s", (int)pid, strerror(-s)); break;
        }
        return s;
    }
    struct crs_proto_request rq = { .magic = CRS_PROTO_MAGIC, .version = CRS_PROTO_VERSION, .flags = flags,
                                    .zstd_level = zstd_level, .timeout_ms = (uint32_t)crs_proto_park_timeout_ms(),
                                    .file_data_max_mb = file_data_max_mb };
    int e = crs_proto_send(s, &rq, sizeof rq, image_fd);
    if (e) {
        snprintf(err, errlen, "cannot send the request to process %d: %s", (int)pid, strerror(-e));
        if (e == -EPIPE)
            e = -ECONNRESET;
        goto out;
    }
    /* Wait in slices, so that a process that dies (or is stopped) while
     * writing does not leave us waiting forever. */
    int waited = 0;
    uint32_t peer = CRS_PROTO_VERSION;
    for (;;) {
        e = crs_proto_recv_reply(s, reply, 1000, &peer);
        if (e != -ETIMEDOUT)
            break;
        waited += 1000;
        if ((e = stopped_or_dead(pid, err, errlen)) != 0) {
            if (e == -ESRCH)
                snprintf(err, errlen, "process %d died during the checkpoint", (int)pid);
            goto out;
        }
        if (timeout_ms >= 0 && waited >= timeout_ms) {
            /* a failure (newuser10 F8: it went out as success, exit 0 with no image and the
             * temporary file left): our hang-up tells the process to stop writing and remove
             * what it wrote (libcr's requester_gone); the caller removes it too */
            snprintf(err, errlen, "process %d did not finish its checkpoint within %d s: no image is kept "
                     "(an earlier one under that name stays) and the process runs on; a critical section of "
                     "the program (cr_enter_cs) or a large image can take longer: give more time",
                     (int)pid, timeout_ms / 1000);
            e = -ETIMEDOUT;
            goto out;
        }
    }
    if (e == -EPROTONOSUPPORT) {
        char who[32];
        snprintf(who, sizeof who, "process %d", (int)pid);
        crs_proto_version_text(err, errlen, who, peer);
        goto out;
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
    reply->msg[sizeof reply->msg - 1] = 0;   /* on success: a caveat, or "" */
    if (reply->msg[0] && (signal_after == SIGKILL || signal_after == SIGTERM)) {
        /* the image could not be restarted here: the process is not ended (the
         * connection closes, it runs on) and the image is not kept */
        snprintf(err, errlen, "%s; process %d was not ended (%s) and the image was not kept: raise the limit and "
                 "checkpoint again, or checkpoint with --cont or --stop to keep the image while it runs",
                 reply->msg, (int)pid, signal_after == SIGKILL ? "--kill" : "--term");
        e = -E2BIG;
        goto out;
    }
    if (commit && (e = commit(arg, err, errlen)))
        goto out;
    if (signal_after)
        kill(pid, signal_after);
    char go = CRS_PROTO_RESUME;
    crs_proto_send(s, &go, 1, -1);
    /* --stop promises a stopped process on return (BLCR's cr_checkpoint --stop); the signal
     * alone does not: on a busy machine the target may not have run since (crs_procattr's
     * "stop" saw state R). Not stopping within 10 s (a tracer holding it) is not an error:
     * the image is committed and the signal pending. */
    if (signal_after == SIGSTOP)
        revive_wait_stopped(pid, 10000);
out:
    close(s);
    return e;
}

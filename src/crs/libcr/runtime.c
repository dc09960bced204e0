/*
 * The checkpoint thread: started when libcr is loaded (cr_run preloads it, or
 * the program links -lcr); serves requests from cr_checkpoint on an abstract
 * Unix socket and from the BLCR API through request slots.
 */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "libcr"
#include "crs/libcr/runtime.h"
#include "crs/uspace/cpu_clocks.h"
#include "crs/libcr/seccomp_precheck.h"
#include "crs/libcr/fork_guard.h"
#include "crs/base/mcast_if_notes.h"
#include "crs/base/sysvipc_notes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/capture_filter.h"
#include "crs/base/component.h"
#include "crs/base/hooks.h"
#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/procfs.h"
#include "crs/base/protocol.h"
#include "crs/base/durable.h"
#include "crs/base/shared_note.h"

#ifndef REVIVE_BINDIR
#define REVIVE_BINDIR "/usr/local/bin"
#endif

#define PARK_TIMEOUT_MS 30000
#define RESUME_WAIT_MS 600000

struct crs_request_slot crs_requests[CRS_MAX_REQUESTS];
int crs_runtime_last_status;

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int started;   /* 1 running, -errno failed */
/* The listening socket, at a high number, and who it is (a program may close
 * it behind libc's back, and the number may then be another file of its). */
static _Atomic int listen_fd = -1;
static dev_t listen_dev;
static ino_t listen_ino;
static int serving_conn = -1;   /* cr_checkpoint's connection while it is served */
/* The connection being served and the image file it passed, from accept to
 * the end: a child forked meanwhile inherits them, and they are not its own. */
static _Atomic int accepted_conn = -1, accepted_file = -1;
static const struct crs_component *crs;

/* libcr's own descriptors never go into an image: the socket, the
 * requester's connection, the requests' files and folders. */
static int own_fds(void *arg, int fd)
{
    (void)arg;
    if (fd == atomic_load(&listen_fd) || fd == serving_conn)
        return 1;
    for (int i = 0; i < CRS_MAX_REQUESTS; i++) {
        const struct crs_request_slot *s = &crs_requests[i];
        if (atomic_load(&s->state) == CRS_SLOT_FREE)
            continue;
        if (fd == s->fd || (s->durable && fd == s->durable->dirfd))
            return 1;
    }
    return 0;
}

const struct crs_component *crs_runtime_component(void)
{
    return crs;
}

int crs_runtime_park_signal(void)
{
    const struct crs_component *c = crs;
    return c ? c->park_signal() : 0;
}

void crs_runtime_exec_enter(struct crs_exec_guard *g)
{
    const struct crs_component *c = crs;
    g->slot = -1;
    g->blocked = 0;
    if (c && c->exec_enter && atomic_load(&started) == 1)
        c->exec_enter(g);
}

void crs_runtime_exec_leave(const struct crs_exec_guard *g)
{
    const struct crs_component *c = crs;
    if (c && c->exec_leave && (g->blocked || g->slot >= 0))
        c->exec_leave(g);
}

void crs_runtime_block_signals(void)
{
    uint64_t mask = ~0ull & ~(1ull << 31) & ~(1ull << 32);
    int park = crs_runtime_park_signal();
    if (park > 0)
        mask &= ~(1ull << (park - 1));
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
}

/* Our descriptors live at high numbers, out of the way of programs that
 * expect the lowest free ones or close a range of low ones: just below the
 * soft limit on open files, or below 1024 when that is higher. */
int crs_runtime_high_fd(int fd)
{
    struct rlimit rl;
    long top = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < top)
        top = (long)rl.rlim_cur;
    for (long want = top - 24; want >= 64 && want > fd; want -= 64) {
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, (int)want);
        if (moved >= 0) {
            crs_real_close(fd);
            return moved;
        }
    }
    return fd;
}

static int open_listener(void)
{
    /* non-blocking: manager_main accepts only after poll, inside a fork guard section */
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -errno;
    struct sockaddr_un sa;
    int len = crs_proto_address(&sa, crs_proto_self_pid());
    if (bind(s, (struct sockaddr *)&sa, (socklen_t)len) != 0 || listen(s, 8) != 0) {
        int e = errno;
        crs_real_close(s);
        return -e;
    }
    s = crs_runtime_high_fd(s);
    struct stat st;
    if (fstat(s, &st) == 0) {
        listen_dev = st.st_dev;
        listen_ino = st.st_ino;
    }
    return s;
}

/* Is our listening socket still under its number? */
static int listener_intact(int fd)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == listen_dev && st.st_ino == listen_ino;
}

int crs_runtime_own_fd(void)
{
    return atomic_load(&listen_fd);
}

int crs_runtime_owns_fd(int fd)
{
    return fd >= 0 && fd == atomic_load(&listen_fd);
}

/* The program wants the number of our socket (dup2 onto it): the socket
 * moves to another high number first. */
void crs_runtime_give_up_fd(int fd)
{
    pthread_mutex_lock(&start_lock);
    crs_fork_guard_enter(); /* the copy is stored before any fork copies it */
    if (fd == atomic_load(&listen_fd)) {
        int moved = -1;
        for (int want = fd - 1; want >= 64 && moved < 0; want -= 64)
            if ((moved = fcntl(fd, F_DUPFD_CLOEXEC, want)) == fd)
                moved = -1;
        if (moved < 0)
            moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
        atomic_store(&listen_fd, moved);   /* -1: the next wake-up opens a new one */
        revive_log_debug("the program takes descriptor %d; Revive's checkpoint socket moves to %d", fd, moved);
    }
    crs_fork_guard_leave();
    pthread_mutex_unlock(&start_lock);
}

/* Reply to the requester; in place mode wait for its word that the image is
 * durable (or its hang-up) before the threads run on. */
struct external {
    int conn;
    int fork_mode;
    struct crs_ckpt_opts *o;
    dev_t conn_dev;      /* the connection's socket, so that a number the program reused is not it */
    ino_t conn_ino;
    int writing;         /* the image is ours to write (a tree's member: once its word to record came) */
    char given[PATH_MAX]; /* the image file's path as handed over (/proc/self/fd), "" unknown */
    int gone;            /* the requester hung up before its word that the image is kept */
    const struct crs_ckpt_result *res;   /* the checkpoint's (its shared mappings, on success) */
};

/* Whether the requester hung up on us: only the connection's own hang-up counts (a requester
 * killed, by a batch system's time limit or `timeout`: newuser10 F1), not a descriptor the
 * program closed or reused behind our back (it tells nothing of the requester). */
static int hung_up(const struct external *x)
{
    struct stat st;
    if (fstat(x->conn, &st) != 0 || st.st_dev != x->conn_dev || st.st_ino != x->conn_ino)
        return 0;
    struct pollfd p = { x->conn, POLLRDHUP, 0 };
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return r == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) && !(p.revents & POLLNVAL);
}

/* crs_ckpt_opts.requester_gone: asked while the image is written (in the --fork writer too) */
static int external_requester_gone(void *arg)
{
    struct external *x = arg;
    if (revive_fault(REVIVE_FAULT_image_write_slow)) {
        struct timespec slow = { 0, 100 * 1000 * 1000 };   /* (tests: the write surely under way) */
        while (nanosleep(&slow, &slow) != 0 && errno == EINTR)
            ;
    }
    if (!x->gone && hung_up(x))
        x->gone = 1;
    return x->gone;
}

/* The requester went away without keeping the image: nobody will rename its temporary file or
 * remove it (a full-size .NAME.tmp.PID left for good, newuser10 F1), so it goes now. Not before
 * this process's turn to write came (a tree's requester drops a parked member's connection and
 * goes on with the file), never a file renamed to its final name (crs_durable_drop_orphan). */
static void drop_orphan(struct external *x)
{
    if (!x->gone || !x->writing || !x->o || x->o->fd < 0)
        return;
    const char *path = x->given[0] ? x->given : "(its name unknown)";
    int r = crs_durable_drop_orphan(x->o->fd, x->given[0] ? x->given : NULL);
    if (r == 1)
        revive_log_warn("the checkpoint's requester went away before the image was kept: its temporary "
                        "file %s is removed; the process runs on", path);
    else if (r == 2)
        revive_log_warn("the checkpoint's requester went away before the image was kept: its temporary "
                        "file %s is emptied (its directory does not let this process remove it)", path);
    else if (r < 0)
        revive_log_warn("the checkpoint's requester went away before the image was kept, and its temporary "
                        "file %s cannot be removed: %s", path, strerror(-r));
}

static void external_after_write(void *arg, int status, const char *msg)
{
    struct external *x = arg;
    struct crs_proto_reply rp;
    memset(&rp, 0, sizeof rp);
    rp.magic = CRS_PROTO_MAGIC;
    rp.version = CRS_PROTO_VERSION;
    rp.status = status;
    snprintf(rp.msg, sizeof rp.msg, "%s", msg ? msg : "");
    if (status == 0 && x->res)
        snprintf(rp.shared, sizeof rp.shared, "%s", x->res->shared);
    int e = crs_proto_send(x->conn, &rp, sizeof rp, -1);
    if ((e == -EPIPE || e == -ECONNRESET) && hung_up(x))
        x->gone = 1;
    if (!e && status == 0 && !x->fork_mode) {
        char go;
        /* its word comes once the image is renamed; a hang-up instead: it never was, or the
         * requester died after the rename (then the file has its final name and stays) */
        if (crs_proto_recv(x->conn, &go, 1, NULL, RESUME_WAIT_MS) == -ECONNRESET && hung_up(x))
            x->gone = 1;
    }
    drop_orphan(x);
}

/* A tree member: say that the threads are parked, then wait for the
 * requester's word to record (it parks every member first). */
static int external_after_park(void *arg, char *err, size_t errlen)
{
    struct external *x = arg;
    struct crs_proto_reply rp;
    memset(&rp, 0, sizeof rp);
    rp.magic = CRS_PROTO_PARKED;
    rp.version = CRS_PROTO_VERSION;
    /* one checkpoint at a time (ckpt_lock): the capture reads it after us */
    static struct crs_proto_go go;
    memset(&go, 0, sizeof go);
    int e = crs_proto_send(x->conn, &rp, sizeof rp, -1);
    if (!e)
        e = crs_proto_recv(x->conn, &go, sizeof go, NULL, RESUME_WAIT_MS);
    if (!e && !crs_runtime_take_go(x->o, &go)) {
        x->writing = 1;
        return 0;
    }
    snprintf(err, errlen, "the checkpoint of the process tree was called off by its requester");
    return -ECANCELED;
}

int crs_runtime_take_go(struct crs_ckpt_opts *o, const struct crs_proto_go *go)
{
    /* one checkpoint at a time (ckpt_lock): the capture reads it after us */
    static struct crs_file_id elsewhere[CRS_PROTO_GO_FILES_MAX];
    if (go->magic != CRS_PROTO_GO || (go->nplaced > CRS_PROTO_GO_MAX && go->nplaced != CRS_PROTO_GO_ALL) ||
        go->nelsewhere > CRS_PROTO_GO_FILES_MAX)
        return -EPROTO;
    o->tree_placed = go->placed;
    o->ntree_placed = go->nplaced == CRS_PROTO_GO_ALL ? -1 : (int)go->nplaced;
    for (uint32_t k = 0; k < go->nelsewhere; k++)
        elsewhere[k] = (struct crs_file_id){ go->elsewhere[k][0], go->elsewhere[k][1] };
    o->tree_elsewhere = elsewhere;
    o->ntree_elsewhere = (int)go->nelsewhere;
    o->tree_members = go->members;
    o->ntree_members = go->nmembers <= CRS_PROTO_GO_MEMBERS_MAX ? (int)go->nmembers : -1;
    return 0;
}

static void mark_requests_restarted(void)
{
    for (int i = 0; i < CRS_MAX_REQUESTS; i++) {
        uint32_t s = atomic_load(&crs_requests[i].state);
        if (s == CRS_SLOT_QUEUED || s == CRS_SLOT_RUNNING) {
            /* its descriptors were never saved: the numbers are not ours */
            crs_requests[i].fd = -1;
            crs_requests[i].durable = NULL;
            crs_requests[i].err = CR_ERESTARTED;
            atomic_store(&crs_requests[i].state, CRS_SLOT_RESTARTED);
        }
    }
    syscall(SYS_futex, &crs_requests[0].state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* In the restarted process our descriptors of the past are gone (they were
 * never saved) and their numbers may belong to the application now: forget
 * them without closing, and open new ones. */
/* A restart hook (hooks.h): the other threads are still parked, so our
 * socket never holds a low number the program could have expected. */
static int reopen_after_restart(void *arg, enum crs_hook_event event, int status)
{
    (void)arg;
    (void)status;
    if (event != CRS_HOOK_RESTART)
        return 0;
    crs_timers_after_restart();
    crs_fork_guard_restarted();
    serving_conn = -1;
    atomic_store(&accepted_conn, -1);
    atomic_store(&accepted_file, -1);
    crs_fork_guard_enter();
    int fd = open_listener();
    atomic_store(&listen_fd, fd);
    crs_fork_guard_leave();
    if (fd < 0)
        revive_log_warn("restarted process %d cannot listen for checkpoint requests: %s", getpid(),
                        strerror(-fd));
    mark_requests_restarted();
    return 0;
}

/* A refusal of a passing state (crs_ckpt_result.passing: a client of a system daemon with the
 * reply to its request waiting unread, as when the park caught the program between the reply's
 * arrival and its recv, issue 7) is tried again once the threads ran a little: 20 ms apart, for up
 * to 10 s (or the park's timeout when shorter), as the MPI layer does for a rank (pml_capture). Only
 * the last try's refusal goes to the requester (o->passing_quiet keeps the others from
 * after_write). Not for a tree's member: its requester parks every member once. */
static void try_passing_again(struct crs_ckpt_opts *o, struct crs_ckpt_result *res)
{
    double first = revive_mono_s(), limit = o->timeout_ms < 10000 ? o->timeout_ms / 1000.0 : 10;
    int tries = 1;
    while (res->status && res->passing && !res->restarted && revive_mono_s() - first < limit) {
        struct timespec d = { 0, 20 * 1000 * 1000 };
        nanosleep(&d, NULL);
        crs->checkpoint(o, res);
        tries++;
    }
    if (!res->status || !res->passing || res->restarted)
        return;
    char was[sizeof res->err];
    memcpy(was, res->err, sizeof was);
    snprintf(res->err, sizeof res->err, "%.380s; it was so at each of %d tries over %d s (is the program "
             "stopped, or blocked before it reads the reply?)", was, tries, (int)(revive_mono_s() - first + 0.5));
    if (o->after_write)
        o->after_write(o->arg, res->status, res->err);
}

/* Runs one checkpoint with the callbacks around it. Returns 1 when this is
 * the restarted process. */
static int run_checkpoint(struct crs_ckpt_opts *o, struct crs_ckpt_result *res, int already_pending)
{
    if (!already_pending)
        crs_cs_request_pending(+1);
    crs_cs_wait_clear();
    if (crs_seccomp_forbids_capture(res, o->fd)) {
        if (o->after_write)
            o->after_write(o->arg, res->status, res->err);
        crs_cs_request_pending(-1);
        return 0;
    }
    struct crs_cb_run run;
    int e = crs_callbacks_before(&run);
    if (e) {
        memset(res, 0, sizeof *res);
        res->status = e;
        snprintf(res->err, sizeof res->err, "a checkpoint callback cancelled the checkpoint (%s)", strerror(-e));
        if (o->after_write)
            o->after_write(o->arg, e, res->err);
        crs_cs_request_pending(-1);
        return 0;
    }
    if (!o->timeout_ms)
        o->timeout_ms = PARK_TIMEOUT_MS;
    crs->checkpoint(o, res);
    if (o->passing_quiet)
        try_passing_again(o, res);
    crs_runtime_last_status = res->status;
    crs_callbacks_after(&run, res->restarted ? 1 : res->status);
    crs_cs_request_pending(-1);
    return res->restarted;
}

/* One checkpoint at a time: the checkpoint thread's, or one a library runs from its own thread
 * (crs_runtime_checkpoint_here). */
static pthread_mutex_t ckpt_lock = PTHREAD_MUTEX_INITIALIZER;

static int run_checkpoint_locked(struct crs_ckpt_opts *o, struct crs_ckpt_result *res, int already_pending)
{
    pthread_mutex_lock(&ckpt_lock);
    int r = run_checkpoint(o, res, already_pending);
    pthread_mutex_unlock(&ckpt_lock);
    return r;
}

int crs_runtime_checkpoint_here(struct crs_ckpt_opts *o, struct crs_ckpt_result *res)
{
    if ((pid_t)syscall(SYS_gettid) == getpid()) {   /* runtime.h: the main thread must park */
        memset(res, 0, sizeof *res);
        res->status = -EINVAL;
        snprintf(res->err, sizeof res->err, "crs_runtime_checkpoint_here was called from the main thread of "
                 "process %d, which the checkpoint must park and record as its main thread: call it from a "
                 "thread of its own", (int)getpid());
        return -EINVAL;
    }
    int e = crs_runtime_start();
    if (e) {
        memset(res, 0, sizeof *res);
        res->status = e;
        snprintf(res->err, sizeof res->err, "libcr cannot checkpoint this process: %s", strerror(-e));
        return e;
    }
    return run_checkpoint_locked(o, res, 0) ? 1 : res->status;
}

static int peer_allowed(int conn)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return 0;
    return cr.uid == getuid() || cr.uid == 0;
}

/* The request's file and connection closed, forgotten first (before the numbers can be another
 * file's), in a fork guard section: a child forked between the two would hold them unknown. */
static void drop_accepted(int fd, int conn)
{
    crs_fork_guard_enter();
    atomic_store(&accepted_file, -1);
    atomic_store(&accepted_conn, -1);
    if (fd >= 0)
        close(fd);
    close(conn);
    crs_fork_guard_leave();
}

static void serve_external(int conn)
{
    struct crs_proto_request rq;
    int fd = -1;
    if (!peer_allowed(conn)) {
        drop_accepted(-1, conn);
        return;
    }
    /* the request and its image file: waited for outside, received inside a fork guard section
     * with the store that lets after_fork_child close the file in a forked child */
    struct pollfd pw = { conn, POLLIN, 0 };
    int pr;
    do
        pr = poll(&pw, 1, 5000);
    while (pr < 0 && errno == EINTR);
    crs_fork_guard_enter();
    int got = pr > 0 ? crs_proto_recv(conn, &rq, sizeof rq, &fd, 0) : -ETIMEDOUT;
    if (fd >= 0)
        fd = crs_runtime_high_fd(fd);   /* out of the program's way while it runs */
    atomic_store(&accepted_file, fd);
    crs_fork_guard_leave();
    if (got != 0 || rq.magic != CRS_PROTO_MAGIC) {
        drop_accepted(fd, conn);
        return;
    }
    struct stat st;
    struct crs_ckpt_opts o;
    memset(&o, 0, sizeof o);
    static struct external x;   /* (one request at a time: the checkpoint thread's) */
    x = (struct external){ conn, (rq.flags & CRS_REQ_F_FORK) != 0, &o, 0, 0, 1, "", 0, NULL };
    if (fd >= 0) {
        /* its name now, before the requester can rename it: drop_orphan never removes a file
         * that has another since (renamed to a final name of the temporary's form) */
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, x.given, sizeof x.given - 1);
        x.given[n > 0 ? n : 0] = 0;
    }
    struct stat cst;
    if (fstat(conn, &cst) == 0) {
        x.conn_dev = cst.st_dev;
        x.conn_ino = cst.st_ino;
    }
    if (rq.version != CRS_PROTO_VERSION) {
        /* the requester's Revive is another than this process's libcr.so (diffrev34 R-L21: both
         * versions and what to do; a requester of version 1 prints this message as it is) */
        char msg[400];
        snprintf(msg, sizeof msg, "the requester speaks checkpoint protocol version %u, this process's libcr.so "
                 "version %u (they are of different Revive installations, or of before and after an upgrade): "
                 "checkpoint the process with %s/cr_checkpoint, of the Revive it was started with",
                 rq.version, CRS_PROTO_VERSION, REVIVE_BINDIR);
        external_after_write(&x, -EPROTONOSUPPORT, msg);
        goto out;
    }
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        external_after_write(&x, -EINVAL, "the image destination is not a regular file");
        goto out;
    }
    o.fd = fd;
    o.fork_mode = x.fork_mode;
    o.zstd_level = rq.zstd_level;
    o.ignore_fds = (rq.flags & CRS_REQ_F_IGNORE_FDS) != 0;
    o.save_shared = (rq.flags & CRS_REQ_F_SAVE_SHARED) != 0;
    o.file_data_max = rq.file_data_max_mb == CRS_PROTO_NO_LIMIT ? UINT64_MAX
                                                                : (uint64_t)rq.file_data_max_mb << 20;
    o.timeout_ms = (int)rq.timeout_ms;
    o.requester_gone = external_requester_gone;
    if (rq.flags & CRS_REQ_F_TREE) {
        x.writing = 0;   /* once its word to record comes (external_after_park) */
        o.tree_member = 1;
        o.after_park = external_after_park;
        o.fork_mode = x.fork_mode = 0;   /* members are released together */
    }
    o.passing_quiet = !o.tree_member;   /* a request in progress ends by itself: try_passing_again */
    serving_conn = conn;
    o.after_write = external_after_write;
    o.arg = &x;
    struct crs_ckpt_result res;
    x.res = &res;
    int restarted = run_checkpoint_locked(&o, &res, 0);
    serving_conn = -1;
    if (restarted)
        return;
out:
    drop_accepted(fd, conn);
}

/* A durable request's image goes under its final name once written, while
 * the threads are still parked (as cr_checkpoint does it); a failed one's
 * temporary file goes. Both, and the message of a failure, before the
 * requester's critical section opens (it may exit right after). */
struct slot_commit {
    struct crs_request_slot *s;
    int status;
    int warned;
    char err[512];
};

static void slot_after_write(void *arg, int status, const char *msg)
{
    struct slot_commit *sc = arg;
    struct crs_durable *d = sc->s->durable;
    if (status == 0 && d && !crs_callbacks_cancelled())
        sc->status = crs_durable_commit(d, sc->err, sizeof sc->err);
    if (d && (status != 0 || crs_callbacks_cancelled() || sc->status != 0))
        crs_durable_abort(d);
    if (status != 0 || sc->status != 0) {
        revive_log_warn("checkpoint failed: %s", status != 0 ? msg : sc->err);
        sc->warned = 1;
    }
}

static void serve_slot(int i)
{
    struct crs_request_slot *s = &crs_requests[i];
    uint32_t queued = CRS_SLOT_QUEUED;
    if (!atomic_compare_exchange_strong(&s->state, &queued, CRS_SLOT_RUNNING))
        return;
    struct crs_ckpt_opts o;
    memset(&o, 0, sizeof o);
    o.fd = s->fd;
    o.fork_mode = (s->flags & CR_CHKPT_FORK) != 0;
    o.zstd_level = (s->flags & CR_CHKPT_COMPRESS) ? 3 : 0;
    o.ignore_fds = (s->flags & CR_CHKPT_IGNORE_FDS) != 0;
    o.timeout_ms = (int)s->timeout_s * 1000;
    struct slot_commit sc = { s, 0, 0, "" };
    o.after_write = slot_after_write;
    o.passing_quiet = 1;   /* try_passing_again */
    o.arg = &sc;
    struct crs_ckpt_result res;
    struct stat st;
    if (fstat(s->fd, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
        /* the program closed the request's descriptor (a close loop) and
         * may use its number for a file of its own: never write there */
        memset(&res, 0, sizeof res);
        res.status = -EBADF;
        snprintf(res.err, sizeof res.err, "the program closed the request's image descriptor %d", s->fd);
        crs_cs_request_pending(-1);
        s->fd = -1;
        if (s->durable)   /* its folder's descriptor may be gone too: keep off both */
            s->durable->fd = s->durable->dirfd = -1;
    } else if (run_checkpoint_locked(&o, &res, 1)) {
        return;
    }
    if (crs_callbacks_cancelled() && !res.status)
        res.status = -crs_callbacks_cancelled();
    if (!res.status && sc.status) {
        res.status = sc.status;
        snprintf(res.err, sizeof res.err, "%s", sc.err);
    }
    if (res.status && !sc.warned)
        revive_log_warn("checkpoint failed: %s", res.err);
    if (s->durable) {
        crs_durable_close(s->durable);   /* committed or removed already */
        free(s->durable);
        s->durable = NULL;
    } else {
        close(s->fd);
    }
    s->err = -res.status;
    int sig = s->signal;
    atomic_store(&s->state, res.status ? CRS_SLOT_FAILED : CRS_SLOT_DONE);
    syscall(SYS_futex, &s->state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    if (!res.status && sig > 0)
        kill(getpid(), sig);
}

static void serve_slots(void)
{
    for (int i = 0; i < CRS_MAX_REQUESTS; i++)
        if (atomic_load(&crs_requests[i].state) == CRS_SLOT_QUEUED && crs_requests[i].target == 0 &&
            !crs_requests[i].scope)
            serve_slot(i);
}

static void sleep_s(int s)
{
    struct timespec ts = { s, 0 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The program closed our socket behind libc's back (a raw close_range, say)
 * or it could not be opened: listen again, waiting longer after each failure
 * instead of spinning. Returns the socket, or -1 after a wait. */
static int listen_again(int old, int *failures)
{
    if (old >= 0)
        revive_log_warn("the program closed Revive's checkpoint socket (descriptor %d) without libc; "
                        "process %d listens again", old, getpid());
    pthread_mutex_lock(&start_lock);
    crs_fork_guard_enter(); /* a fork copies it only once stored (after_fork_child closes it) */
    int fd = open_listener();
    atomic_store(&listen_fd, fd < 0 ? -1 : fd);
    crs_fork_guard_leave();
    pthread_mutex_unlock(&start_lock);
    if (fd >= 0) {
        if (*failures)
            revive_log_warn("process %d listens for checkpoint requests again", getpid());
        *failures = 0;
        return fd;
    }
    if ((*failures)++ == 0)
        revive_log_warn("process %d cannot listen for checkpoint requests (%s); it cannot be checkpointed "
                        "until that works again (retrying, less and less often)", getpid(), strerror(-fd));
    sleep_s(*failures < 60 ? *failures : 60);
    return -1;
}

/* Waits for connections: cr_checkpoint's, or a thread of ours asking to
 * serve its request slot (crs_runtime_submit connects to wake us). Never
 * spins: a socket that vanished or fails is replaced, with waits between
 * failures. */
static void *manager_main(void *arg)
{
    (void)arg;
    int failures = 0;
    /* Only the park signal comes through: a checkpoint that another thread runs
     * (crs_runtime_checkpoint_here) parks this one like any other. */
    int psig = crs->park_signal();
    if (psig > 0) {
        sigset_t ps;
        sigemptyset(&ps);
        sigaddset(&ps, psig);
        pthread_sigmask(SIG_UNBLOCK, &ps, NULL);
    }
    for (;;) {
        int fd = atomic_load(&listen_fd);
        if (!listener_intact(fd) && (fd = listen_again(fd, &failures)) < 0)
            continue;
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, -1);
        if (r < 0 || !(p.revents & (POLLIN | POLLNVAL | POLLERR | POLLHUP)))
            continue;
        if (fd != atomic_load(&listen_fd) || !listener_intact(fd))
            continue;   /* moved (dup2 onto it) or gone: look again */
        /* the listener does not block (open_listener): the accept is made inside a fork guard
         * section, with the store that lets after_fork_child close it in a forked child */
        crs_fork_guard_enter();
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC), ae = errno;
        if (conn >= 0)
            atomic_store(&accepted_conn, conn = crs_runtime_high_fd(conn));
        crs_fork_guard_leave();
        errno = ae;
        if (conn < 0) {
            serve_slots();
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (failures++ == 0)
                    revive_log_warn("process %d cannot accept a checkpoint request: %s", getpid(), strerror(errno));
                sleep_s(1);   /* the request stays queued: no spinning on it */
            }
            continue;
        }
        failures = 0;
        struct ucred cr;
        socklen_t len = sizeof cr;
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid == getpid()) {
            crs_fork_guard_enter();
            atomic_store(&accepted_conn, -1);
            crs_real_close(conn);   /* one of our threads woke us (closed first: no image sees it) */
            crs_fork_guard_leave();
        } else {
            serve_external(conn);
        }
        atomic_store(&accepted_conn, -1);
        atomic_store(&accepted_file, -1);
        serve_slots();
    }
    return NULL;
}

static int start_locked(void)
{
    const char *v = getenv("REVIVE_SIGNAL");
    int sig = v && *v ? atoi(v) : CRS_DEFAULT_PARK_SIGNAL;
    if (sig < SIGRTMIN || sig > SIGRTMAX)
        return -EINVAL;
    char why[256];
    crs = crs_component_select(NULL, why, sizeof why);
    if (!crs) {
        revive_log_error("%s", why);
        return -EINVAL;
    }
    int e = crs->init(sig);
    if (e)
        return e;
    static int filter_registered;   /* once: a forked child inherits the table */
    if (!filter_registered) {
        struct crs_capture_filter f = { .owner = "libcr", .fd_exclude = own_fds };
        if ((e = crs_capture_filter_register(&f)))
            return e;
        struct crs_hook h = { .owner = "libcr", .fn = reopen_after_restart };
        if ((e = crs_hook_register(&h)))
            return e;
        filter_registered = 1;
    }
    crs_callbacks_init();
    crs_fork_guard_enter();
    int fd = open_listener();
    if (fd >= 0)
        atomic_store(&listen_fd, fd);
    crs_fork_guard_leave();
    if (fd < 0)
        return fd;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1 << 20);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the new thread starts with every signal blocked */
    pthread_t t;
    e = pthread_create(&t, &a, manager_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (e)
        return -e;
    pthread_detach(t);
    return 0;
}

int crs_runtime_start(void)
{
    /* Running already: no lock (callers may be inside a park-deferral section). */
    if (atomic_load(&started) == 1)
        return 0;
    pthread_mutex_lock(&start_lock);
    if (!started) {
        int e = start_locked();
        started = e ? e : 1;
        if (e)
            revive_log_error("process %d cannot be checkpointed: %s", getpid(), strerror(-e));
    }
    int r = started < 0 ? started : 0;
    pthread_mutex_unlock(&start_lock);
    return r;
}

static void *remote_request(void *arg)
{
    crs_runtime_block_signals();
    struct crs_request_slot *s = arg;
    if (s->scope) {
        int e = crs_scope_checkpoint(s);
        uint32_t running = CRS_SLOT_QUEUED;
        /* in a process restarted from the scope's image the slot is
         * marked restarted already (and its descriptor is not ours) */
        if (atomic_load(&s->state) == CRS_SLOT_RESTARTED)
            return NULL;
        close(s->fd);
        s->err = -e;
        atomic_compare_exchange_strong(&s->state, &running, e ? CRS_SLOT_FAILED : CRS_SLOT_DONE);
        syscall(SYS_futex, &s->state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        return NULL;
    }
    struct crs_proto_reply rp;
    memset(&rp, 0, sizeof rp);
    char err[512] = "";
    int e = crs_proto_checkpoint(s->target, s->fd,
                                 ((s->flags & CR_CHKPT_FORK) ? CRS_REQ_F_FORK : 0) |
                                     ((s->flags & CR_CHKPT_IGNORE_FDS) ? CRS_REQ_F_IGNORE_FDS : 0),
                                 (s->flags & CR_CHKPT_COMPRESS) ? 3 : 0, 0,
                                 s->timeout_s ? (int)s->timeout_s * 1000 : -1, s->signal, NULL, NULL, &rp, err,
                                 sizeof err);
    /* what cr_checkpoint would print: the reason of a failure (cr_poll_checkpoint gives only
     * its errno), or the caveat of an image written that a restart on this machine would refuse
     * (with cr_signal SIGKILL or SIGTERM the protocol makes that a failure; else it was lost) */
    if (e)
        revive_log_warn("cr_request_checkpoint: the checkpoint of process %d failed: %s", (int)s->target,
                        err[0] ? err : strerror(-e));
    else if (rp.magic == CRS_PROTO_MAGIC && rp.msg[0])
        revive_log_warn("cr_request_checkpoint: warning: process %d written, but %.400s", (int)s->target, rp.msg);
    if (!e && rp.magic == CRS_PROTO_MAGIC) {
        /* as cr_checkpoint: each writable shared file mapping the image left to its file */
        rp.shared[sizeof rp.shared - 1] = 0;
        const char *cur = rp.shared;
        struct crs_shared_line l;
        char whom[32], w[PATH_MAX + 300];
        snprintf(whom, sizeof whom, "process %d", (int)s->target);
        while (crs_shared_note_next(&cur, 0, &l)) {
            crs_shared_warning(w, sizeof w, whom, &l, "image", NULL, NULL);
            revive_log_warn("cr_request_checkpoint: warning: %s", w);
        }
    }
    close(s->fd);
    s->err = -e;
    atomic_store(&s->state, e ? CRS_SLOT_FAILED : CRS_SLOT_DONE);
    syscall(SYS_futex, &s->state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    return NULL;
}

int crs_runtime_submit(int i)
{
    struct crs_request_slot *s = &crs_requests[i];
    if (s->target != 0 || s->scope) {
        pthread_t t;
        int e = pthread_create(&t, NULL, remote_request, s);
        if (e)
            return -e;
        pthread_detach(t);
        return 0;
    }
    /* wake the checkpoint thread: a connection from ourselves, in a
     * park-deferral section so that the checkpoint it starts never finds
     * this thread parked with the socket open */
    crs_park_defer_enter();
    int c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int e = c < 0 ? -errno : 0;
    if (c >= 0) {
        struct sockaddr_un sa;
        int len = crs_proto_address(&sa, crs_proto_self_pid());
        e = connect(c, (struct sockaddr *)&sa, (socklen_t)len) == 0 ? 0 : -errno;
        crs_real_close(c);
    }
    crs_park_defer_leave();
    return e;
}

/* The parent's socket stays open in the child but is not ours to use; nor is a connection the
 * parent was serving, or its image file (a checkpoint of this child would take them for the
 * program's). System calls only: also in the child of _Fork (fork_raw.c). */
void crs_runtime_forked_raw(void)
{
    int l = atomic_exchange(&listen_fd, -1);
    if (l >= 0)
        crs_real_close(l);
    int conn = atomic_exchange(&accepted_conn, -1), file = atomic_exchange(&accepted_file, -1);
    if (conn >= 0)
        crs_real_close(conn);
    if (file >= 0 && file != conn)
        crs_real_close(file);
    if (serving_conn >= 0 && serving_conn != conn)
        crs_real_close(serving_conn);
    serving_conn = -1;
}

/* A forked child is a new process: it gets its own checkpoint thread. */
static void after_fork_child(void)
{
    /* A checkpoint this process ran while the program forked (its park had not stopped the
     * forking thread yet) held these in the parent: copied held, the child's checkpoint thread
     * waited for them for ever (a tree capture of a rank's worker: "did not answer within 30 s",
     * rank_forkloop.sh). No other thread runs in the child. */
    pthread_mutex_init(&ckpt_lock, NULL);
    pthread_mutex_init(&start_lock, NULL);
    crs_cs_forked();
    crs_sysvipc_forked();   /* the kernel gives a child no SEM_UNDO adjustments */
    crs_mcast_if_forked();
    crs_cpu_forked();       /* its CPU times start from 0, as natively (cpu_clocks.h) */
    if (started != 1)
        return;
    crs_timers_after_fork_child();
    crs_runtime_forked_raw();
    for (int i = 0; i < CRS_MAX_REQUESTS; i++)
        atomic_store(&crs_requests[i].state, CRS_SLOT_FREE);
    started = 0;
    crs_runtime_start();
}

#ifdef REVIVE_LIBCR_STATIC
/* cr_run finds it in a static program linked with libcr.a, which needs no
 * preloading (tools/cr_run.c) */
extern const char crs_libcr_static_marker[];
__attribute__((used)) const char crs_libcr_static_marker[] = "revive-libcr-static-1";
#endif

__attribute__((constructor)) static void libcr_load(void)
{
    /* first: its child handler closes Revive's descriptors before any other handler runs (fork_guard.h) */
    pthread_atfork(crs_fork_guard_prepare, crs_fork_guard_parent, crs_fork_guard_child);
    crs_sysvipc_take_over();   /* from the program before an execve: before the inherited descriptors are noted */
    crs_inotify_read_init();   /* the program's reads go through us even with Revive off */
    const char *off = getenv("REVIVE_DISABLE");
    if (off && *off == '1')
        return;
    crs_interpose_init();
    pthread_atfork(NULL, NULL, after_fork_child);
    crs_runtime_start();
}

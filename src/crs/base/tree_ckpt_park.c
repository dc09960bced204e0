/* Talking to the members of a tree's checkpoint (tree_ckpt.c): connecting
 * to each one's checkpoint thread, parking it (CRS_REQ_F_TREE), looking at
 * /proc again until the members settle, their replies, and releasing them. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/protocol.h"
#include "common/fault.h"
#include "common/procfs.h"
#include "common/static_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PARK_WAIT_MS 60000
/* how often /proc is read before a tree whose members keep changing is refused */
#define CRS_TREE_SETTLE_LOOKS 16
/* a child forked a moment ago listens within this (CONNECT_TRIES x CONNECT_PAUSE_MS) */
#define CONNECT_TRIES 50
#define CONNECT_PAUSE_MS 100

/* Closes a connection (none for the caller as member 0). */
static void drop(int conn)
{
    if (conn != TREE_CONN_SELF)
        close(conn);
}

int crs_tree_own_fd(const struct tree_ckpt *t, int fd)
{
    for (size_t m = 0; t->conn && m < t->nmembers; m++)
        if (t->conn[m] == fd)
            return 1;
    return 0;
}

/* Ended since it was listed (a zombie now, or reaped): the next look at
 * /proc records it as it is. */
static int ended(pid_t pid)
{
    char st = revive_proc_state(pid);
    return st == 0 || st == 'Z' || st == 'X';
}

int crs_tree_member_ended(pid_t pid)
{
    return ended(pid);
}

/* A connection to process pid's checkpoint thread, or -errno. A process
 * that was just forked, or that just started another program (execve), may
 * not listen yet: a refused connection is tried again for a while. */
static int connect_pid(pid_t pid)
{
    int s = crs_proto_connect(pid);
    for (int tries = 0; s == -ECONNREFUSED && tries < CONNECT_TRIES && !ended(pid); tries++) {
        struct timespec ts = { 0, CONNECT_PAUSE_MS * 1000000L };
        nanosleep(&ts, NULL);
        s = crs_proto_connect(pid);
    }
    return s;
}

/* Why member pid, whose tree was started under cr_run, has no libcr: into
 * why (empty when neither reason below shows): a static program (no
 * dynamic loader reads LD_PRELOAD), or an environment without libcr in its
 * LD_PRELOAD (env -i, sudo, a setuid program, a launcher that clears it)
 * (newuser10 M2: the message told the user to start the tree with cr_run,
 * which they had). */
static void why_no_libcr(pid_t pid, char *why, size_t cap)
{
    char path[64], env[16384];
    why[0] = 0;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int stat_exe = fd >= 0 && revive_exe_is_static(fd, NULL) && !revive_exe_has_static_libcr(fd);
    if (fd >= 0)
        close(fd);
    if (stat_exe) {
        snprintf(why, cap, ": it is a statically linked program, into which libcr cannot be preloaded (link it "
                           "with libcr.a, as Revive's README says)");
        return;
    }
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    long n = revive_read_file(path, env, sizeof env - 1);
    if (n < 0)
        return;   /* unreadable, or longer than we look: the generic words */
    env[n] = 0;
    for (long k = 0; k < n; k += (long)strlen(env + k) + 1)
        if (!strncmp(env + k, "LD_PRELOAD=", 11) && strstr(env + k, "libcr"))
            return;   /* preloaded, yet not listening: the generic words */
    snprintf(why, cap, ": its environment has no LD_PRELOAD of libcr (a step started through env -i, sudo, a "
                       "setuid program or a launcher that clears the environment)");
}

/* Connects to the members not connected yet. One that ended meanwhile is
 * left to the next look at /proc; a child forked a moment ago may not listen
 * yet (libcr starts its checkpoint thread in the child's fork handler), so a
 * refused connection is tried again for a while. */
static int connect_members(struct tree_ckpt *t)
{
    char w[64];
    for (size_t m = 0; m < t->nmembers; m++) {
        const struct proc_info *p = &t->all[t->members[m]];
        if (p->state == 'Z' || t->conn[m] >= 0)
            continue;
        if (t->self && p->pid == getpid()) {
            t->conn[m] = TREE_CONN_SELF;   /* its own capture parks it */
            continue;
        }
        if ((p->state == 'T' || p->state == 't') && revive_proc_held_stopped(p->pid, 1000)) {
            fail(t, "%s of the %s is stopped, so it cannot take its checkpoint; let it run (kill -CONT %d) and "
                    "try again", who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope), (int)p->pid);
            return -EAGAIN;
        }
        int s = connect_pid(p->pid);
        if (s < 0 && ended(p->pid))
            continue;   /* the next look records it */
        if (s < 0) {
            /* a vfork child (vfork, posix_spawn) shares its parent's memory
             * until it starts its program or ends, and its parent waits
             * meanwhile: neither can take a checkpoint then */
            if (s == -ECONNREFUSED && p->ppid > 0 && syscall(SYS_kcmp, p->pid, p->ppid, 1 /* KCMP_VM */, 0, 0) == 0)
                fail(t, "%s, a member of the %s, is a vfork child of process %d (vfork or posix_spawn): it shares "
                        "its parent's memory, and its parent waits, until it starts its program or ends, so neither "
                        "can be checkpointed now; try again once it has (a vfork child should exec at once)",
                     who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope), (int)p->ppid);
            else if (s == -ECONNREFUSED) {
                char why[300];
                why_no_libcr(p->pid, why, sizeof why);
                if (why[0])
                    fail(t, "%s, a member of the %s, does not run under Revive%s; the checkpoint can be taken "
                            "once it has ended (or with that step run under Revive)", who(t, m, w, sizeof w),
                         crs_tree_scope_name(t->o->scope), why);
                else
                    fail(t, "%s, a member of the %s, does not run under Revive: start the tree's first process "
                            "with cr_run (its children inherit it) or link every program with -lcr",
                         who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope));
            }
            else if (s == -EPERM)
                fail(t, "%s, a member of the %s, belongs to another user; only its owner (or root) can "
                        "checkpoint it", who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope));
            else
                fail(t, "cannot reach %s, a member of the %s: %s", who(t, m, w, sizeof w),
                     crs_tree_scope_name(t->o->scope), strerror(-s));
            return s;
        }
        t->conn[m] = s;
        t->fresh[m] = 1;
    }
    return 0;
}

/* The park signal the members most likely use: libcr's choice as our
 * environment makes it (theirs may differ; then a death by it is only
 * named by number). */
int crs_tree_park_signal(void)
{
    const char *v = getenv("REVIVE_SIGNAL");
    return v && *v ? atoi(v) : CRS_DEFAULT_PARK_SIGNAL;
}

static int gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Member m holds the tree's checkpoint (what, the caller's reason: "did not answer within 5 s",
 * "wrote nothing of its image for 60 s"): why, in one line, from its state now: stopped (T: kill
 * -CONT), stopped by its tracer (t: SIGCONT does not resume a tracing stop, diffrev32 R-L4), else
 * its state and kernel wait channel with the caller's advice for a member still busy. The wait for
 * a parked member's answer and the wait for its image said these three apart (ddf737d0), and only
 * the second named a busy member's wait channel (the CI's popen stall: the lead to its cause). */
static int member_held(struct tree_ckpt *t, size_t m, const char *what, const char *busy_advice)
{
    char w[64], wchan[64] = "";
    pid_t pid = t->all[t->members[m]].pid;
    const char *scope = crs_tree_scope_name(t->o->scope);
    char st = revive_proc_state(pid);
    if (st == 'T') {
        fail(t, "%s %s during the checkpoint of the %s: it is stopped (state T); no image is kept and the other "
                "processes run on; let it run (kill -CONT %d) and try again", who(t, m, w, sizeof w), what, scope,
             (int)pid);
    } else if (st == 't') {
        fail(t, "%s %s during the checkpoint of the %s: it is stopped by its tracer (a debugger or strace: state "
                "t); no image is kept and the other processes run on; let the tracer resume it or detach, and try "
                "again", who(t, m, w, sizeof w), what, scope);
    } else {
        long n = revive_proc_read(pid, 0, "wchan", wchan, sizeof wchan);
        wchan[n > 0 ? (n < (long)sizeof wchan ? n : (long)sizeof wchan - 1) : 0] = 0;
        wchan[strcspn(wchan, "\n")] = 0;
        /* "0": no kernel wait (running, or the kernel does not say) */
        int waits = wchan[0] && strcmp(wchan, "0");
        fail(t, "%s %s during the checkpoint of the %s (state %c, %s%s): no image is kept and the other processes "
                "run on; %s", who(t, m, w, sizeof w), what, scope, st ? st : '?',
             waits ? "waiting in " : "in user space", waits ? wchan : "", busy_advice);
    }
    return -ETIMEDOUT;
}

/* Member m wrote no byte of its image into the tree's file for idle_ms (member_reply): why, in
 * one line, and -ETIMEDOUT. Waited for while it lived, a member stopped (SIGSTOP, a tracer) or
 * stuck once told to write held the whole tree's checkpoint for ever, and with it a rank's
 * capture and its job's epoch, with no word (rst_popen-mpich in the CI of d59c58cd: 15 minutes
 * after the first member's image, until the test's own time limit). */
/* "N s", or "N ms" for a time that is not whole seconds (a short timeout said "within 0 s") */
static const char *span(int ms, char *buf, size_t len)
{
    if (ms % 1000)
        snprintf(buf, len, "%d ms", ms);
    else
        snprintf(buf, len, "%d s", ms / 1000);
    return buf;
}

static int no_progress(struct tree_ckpt *t, size_t m, int idle_ms)
{
    char what[64], d[24];
    snprintf(what, sizeof what, "wrote nothing of its image for %s", span(idle_ms, d, sizeof d));
    return member_held(t, m, what, "a process whose capture takes longer before its first byte needs more time");
}

/* Member m did not answer within timeout_ms (member_reply): stopped, or busy: most often in a
 * critical section of the program, which a checkpoint waits for (a member in one was asked "is it
 * stopped?": newuser10b). */
static int no_answer(struct tree_ckpt *t, size_t m, int timeout_ms)
{
    char what[64], d[24];
    snprintf(what, sizeof what, "did not answer within %s", span(timeout_ms, d, sizeof d));
    return member_held(t, m, what,
                       "a critical section of the program (cr_enter_cs) or a large image can take longer: give "
                       "more time");
}

/* How far the tree's file reaches: a member's writer extends it as it writes (pwrite; the
 * offset, which they share, moves only at its image's end). -1 unknown. */
static off_t file_reach(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Waits for member m's reply, in slices, while it lives: within timeout_ms (< 0: no bound), or,
 * with image_fd >= 0 (the tree's file, which the member's writer extends), as long as the
 * member's image grows, failing once it did not for idle_ms. */
static int member_reply(struct tree_ckpt *t, size_t m, struct crs_proto_reply *rp, int timeout_ms, int image_fd,
                        int idle_ms)
{
    char w[64];
    int waited = 0, idle = 0, e;
    off_t at = image_fd >= 0 ? file_reach(image_fd) : -1;
    uint32_t peer = CRS_PROTO_VERSION;
    for (;;) {
        e = crs_proto_recv_reply(t->conn[m], rp, 1000, &peer);
        if (e != -ETIMEDOUT)
            break;
        waited += 1000;
        if (gone(t->all[t->members[m]].pid)) {
            fail(t, "%s died during the checkpoint of the %s", who(t, m, w, sizeof w),
                 crs_tree_scope_name(t->o->scope));
            return -ESRCH;
        }
        if (image_fd >= 0) {
            off_t now = file_reach(image_fd);
            idle = now == at ? idle + 1000 : 0;
            at = now;
            if (idle >= idle_ms)
                return no_progress(t, m, idle);
        }
        if (timeout_ms >= 0 && waited >= timeout_ms)
            return no_answer(t, m, timeout_ms);
    }
    if (e == -EPROTONOSUPPORT) {
        char why[600];
        crs_proto_version_text(why, sizeof why, who(t, m, w, sizeof w), peer);
        fail(t, "%s", why);
        return e;
    }
    if (e && ended(t->all[t->members[m]].pid)) {
        fail(t, "%s died during the checkpoint of the %s", who(t, m, w, sizeof w),
             crs_tree_scope_name(t->o->scope));
        return e;
    }
    if (e) {
        fail(t, "%s ended the checkpoint without an answer (%s); it may have died", who(t, m, w, sizeof w),
             strerror(-e));
        return e;
    }
    if (rp->magic != CRS_PROTO_MAGIC && rp->magic != CRS_PROTO_PARKED) {
        fail(t, "%s answered with a malformed reply", who(t, m, w, sizeof w));
        return -EPROTO;
    }
    if (rp->magic == CRS_PROTO_MAGIC && rp->status) {
        rp->msg[sizeof rp->msg - 1] = 0;
        fail(t, "%s: %s", who(t, m, w, sizeof w), rp->msg);
        return rp->status;
    }
    return 0;
}

int crs_tree_member_reply(struct tree_ckpt *t, size_t m, struct crs_proto_reply *rp, int timeout_ms)
{
    return member_reply(t, m, rp, timeout_ms, -1, 0);
}

int crs_tree_member_written(struct tree_ckpt *t, size_t m, int image_fd, struct crs_proto_reply *rp)
{
    /* the park's bound (the rank's 30 s; cr_checkpoint's --time, else a minute) of no byte written */
    int idle_ms = t->o->timeout_ms >= 0 ? t->o->timeout_ms : PARK_WAIT_MS;
    return member_reply(t, m, rp, -1, image_fd, idle_ms < 1000 ? 1000 : idle_ms);
}

static int send_request(struct tree_ckpt *t, size_t m, int image_fd)
{
    struct crs_proto_request rq = { .magic = CRS_PROTO_MAGIC, .version = CRS_PROTO_VERSION,
                                    .flags = (t->o->flags & ~CRS_REQ_F_FORK) | CRS_REQ_F_TREE,
                                    .zstd_level = t->o->zstd_level, .timeout_ms = (uint32_t)crs_proto_park_timeout_ms(),
                                    .file_data_max_mb = t->o->file_data_max_mb };
    int e = crs_proto_send(t->conn[m], &rq, sizeof rq, image_fd);
    if (e) {
        char w[64];
        fail(t, "cannot send the request to %s: %s", who(t, m, w, sizeof w), strerror(-e));
    }
    return e;
}

/* Parks the members connected by the last connect_members. One that ends
 * before it parks (a short-lived child exiting) is left to the next look. */
static int park_members(struct tree_ckpt *t, int image_fd)
{
    for (size_t m = 0; m < t->nmembers; m++)
        if (t->fresh[m] && send_request(t, m, image_fd)) {
            /* it ended, or started another program (execve closes the
             * connection): answered below, or asked again there */
            t->err[0] = 0;
        }
    for (size_t m = 0; m < t->nmembers; m++) {
        if (!t->fresh[m])
            continue;
        t->fresh[m] = 0;
        pid_t pid = t->all[t->members[m]].pid;
        struct crs_proto_reply rp;
        int e = crs_tree_member_reply(t, m, &rp, t->o->timeout_ms >= 0 ? t->o->timeout_ms : PARK_WAIT_MS);
        /* The connection went while the process lives on: its program
         * started another (execve ends the checkpoint thread; the new
         * program's listens a moment later), or closed libcr's socket
         * behind libc's back and listens again (as crs_proto_checkpoint):
         * asked again, a few times. */
        for (int attempt = 0; (e == -ECONNRESET || e == -EPIPE) && attempt < 5 && !ended(pid); attempt++) {
            struct timespec ts = { 0, 20000000L };
            nanosleep(&ts, NULL);
            close(t->conn[m]);
            t->conn[m] = connect_pid(pid);
            if (t->conn[m] < 0 || send_request(t, m, image_fd))
                continue;
            t->err[0] = 0;
            e = crs_tree_member_reply(t, m, &rp, t->o->timeout_ms >= 0 ? t->o->timeout_ms : PARK_WAIT_MS);
        }
        if (e && ended(pid)) {
            t->err[0] = 0;   /* not a failure: the next look records it */
            if (t->conn[m] >= 0)
                close(t->conn[m]);
            t->conn[m] = -1;
            continue;
        }
        if (e)
            return e;
        if (rp.magic != CRS_PROTO_PARKED) {
            char w[64];
            fail(t, "%s does not take part in a tree's checkpoint (an older Revive?)", who(t, m, w, sizeof w));
            return -EPROTO;
        }
    }
    return 0;
}

/* Parks every member, then looks at /proc again, until a look finds the
 * members the one before found, each living or ended as before, and every
 * living one parked. A list read while members still run can be stale by
 * the time they are parked: a parent that reaped a child and forked the next
 * one in between would be recorded with a child it no longer has and without
 * the one it waits for (CRIU's seize without a freezer looks again the same
 * way). Parked members neither fork nor reap, so each look leaves fewer
 * processes that can change the list; a tree that never settles (a fork
 * bomb) is refused after CRS_TREE_SETTLE_LOOKS looks. */
int crs_tree_settle_members(struct tree_ckpt *t, int image_fd)
{
    pid_t *opid = NULL;
    char *ostate = NULL;
    int *oconn = NULL;
    size_t on = 0;
    int e = 0;
    for (int look = 1;; look++) {
        /* the last look's connections are in oconn now */
        crs_tmem_free(t->conn), crs_tmem_free(t->fresh);
        t->conn = NULL;
        t->fresh = NULL;
        if ((e = crs_tree_list_members(t)))
            break;
        int *conn = crs_tmem_malloc(t->nmembers * sizeof *conn);
        unsigned char *fresh = crs_tmem_calloc(t->nmembers, 1);
        if (!conn || !fresh) {
            crs_tmem_free(conn), crs_tmem_free(fresh);
            e = -ENOMEM;
            break;
        }
        int changed = t->nmembers != on;
        for (size_t m = 0; m < t->nmembers; m++) {
            const struct proc_info *p = &t->all[t->members[m]];
            conn[m] = -1;
            size_t k = 0;
            while (k < on && opid[k] != p->pid)
                k++;
            if (k == on) {
                changed = 1;
                continue;
            }
            conn[m] = oconn[k];
            oconn[k] = -1;
            changed |= (ostate[k] == 'Z') != (p->state == 'Z');
            if (conn[m] >= 0 && p->state == 'Z' && !e) {
                char w[64], how[160] = "";
                if (WIFSIGNALED(p->exit_code))
                    snprintf(how, sizeof how, ", killed by signal %d%s", WTERMSIG(p->exit_code),
                             WTERMSIG(p->exit_code) == crs_tree_park_signal()
                                 ? " (Revive's park signal, which must never reach a program: please report it)"
                                 : "");
                fail(t, "%s died during the checkpoint of the %s%s; the other members run on, try again",
                     who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope), how);
                e = -ESRCH;
            }
        }
        for (size_t k = 0; k < on; k++)
            if (oconn[k] >= 0) {
                if (!e)
                    fail(t, "process %d, parked for the checkpoint of the %s, is no longer in it (it died, or left "
                            "the group or session); try again", (int)opid[k], crs_tree_scope_name(t->o->scope));
                drop(oconn[k]);
                oconn[k] = -1;
                e = e ? e : -EAGAIN;
            }
        t->conn = conn;
        t->fresh = fresh;
        if (e)
            break;
        int unparked = 0;
        for (size_t m = 0; m < t->nmembers; m++)
            unparked |= t->all[t->members[m]].state != 'Z' && t->conn[m] < 0;
        if (revive_fault(REVIVE_FAULT_tree_unsettled))
            changed = 1;
        if (!changed && !unparked)
            break;   /* settled */
        if (look == CRS_TREE_SETTLE_LOOKS) {
            fail(t, "the %s %d kept changing while its members were being stopped (processes starting or ending "
                    "faster than they can be parked: %d looks at /proc disagreed); try again, or checkpoint it "
                    "when it forks less", crs_tree_scope_name(t->o->scope), (int)t->o->id, look);
            e = -EAGAIN;
            break;
        }
        if ((e = connect_members(t)) || (e = park_members(t, image_fd)))
            break;
        /* this look's list is the next one's reference; its connections move there */
        crs_tmem_free(opid), crs_tmem_free(ostate), crs_tmem_free(oconn);
        on = t->nmembers;
        opid = crs_tmem_malloc(on * sizeof *opid);
        ostate = crs_tmem_malloc(on);
        oconn = crs_tmem_malloc(on * sizeof *oconn);
        if (!opid || !ostate || !oconn) {
            on = 0;
            e = -ENOMEM;
            break;
        }
        for (size_t m = 0; m < on; m++) {
            opid[m] = t->all[t->members[m]].pid;
            ostate[m] = t->all[t->members[m]].state;
            oconn[m] = t->conn[m];
            t->conn[m] = -1;
        }
    }
    /* connections not handed back (an error above): closed, the member runs on */
    for (size_t k = 0; oconn && k < on; k++)
        if (oconn[k] >= 0)
            drop(oconn[k]);
    crs_tmem_free(opid), crs_tmem_free(ostate), crs_tmem_free(oconn);
    return e;
}

/* Lets every connected member run on (resume: told so first). */
void crs_tree_release_all(struct tree_ckpt *t, int resume)
{
    char go = CRS_PROTO_RESUME;
    for (size_t m = 0; m < t->nmembers; m++)
        if (t->conn && t->conn[m] >= 0) {
            if (resume && t->conn[m] != TREE_CONN_SELF)
                crs_proto_send(t->conn[m], &go, 1, -1);
            drop(t->conn[m]);   /* a closed connection lets a member run on too */
            t->conn[m] = -1;
        }
}

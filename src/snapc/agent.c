/* The rank agent (see agent.h): one thread per rank that speaks the coordination protocol with
 * the job's coordinator and drives the MPI layer through struct snapc_rank_ops. This file: its
 * state, its connection (HELLO, INFO, the new coordinator after a restart), the thread that
 * reads the coordinator's frames and sends what application threads asked for, and the calls
 * that start and wake it. The epoch itself is agent_epoch.c's. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/agent_int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "filem/place.h"

struct agent_state A = {
    .fd = -1,
    .efd = -1,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
};

static void env_copy(struct agent_env *e, const char *coord, const char *secret, const char *job)
{
    memset(e, 0, sizeof *e);
    snprintf(e->coord, sizeof e->coord, "%s", coord ? coord : "");
    snprintf(e->secret, sizeof e->secret, "%s", secret ? secret : "");
    snprintf(e->job_id, sizeof e->job_id, "%s", job ? job : "");
    e->set = coord && *coord;
}

static const char *env_find(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

void snapc_agent_set_restart_env(char *const *envp)
{
    env_copy(&A.restart_env, env_find(envp, SNAPC_ENV_COORD), env_find(envp, SNAPC_ENV_SECRET),
             env_find(envp, SNAPC_ENV_JOB_ID));
    A.restart_env_given = 1; /* even when it names no coordinator: then there is none */
    const char *pre = env_find(envp, SNAPC_ENV_PRELOADED);
    size_t l = pre ? strlen(pre) : 0;
    if (l >= sizeof A.preloaded)
        l = 0; /* cannot be ours: the cache's paths are shorter */
    memcpy(A.preloaded, pre ? pre : "", l);
    A.preloaded[l] = 0;
}

int agent_send(uint16_t type, const void *p, uint32_t len, const void *tail, uint32_t tlen)
{
    /* one frame at a time: the partner copy's thread reports while this one stages */
    static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;
    int fd = atomic_load(&A.fd);
    if (fd < 0)
        return -ENOTCONN;
    pthread_mutex_lock(&send_lock);
    int e = snapc_wire_send(fd, type, A.epoch, p, len, tail, tlen, AGENT_SEND_MS);
    pthread_mutex_unlock(&send_lock);
    if (e < 0)
        revive_log_warn("rank %d: cannot send to the coordinator: %s", A.world_rank, strerror(-e));
    return e;
}

void agent_send_failed(int err, int phase, const char *msg)
{
    struct snapc_failed f;
    memset(&f, 0, sizeof f);
    f.err = err < 0 ? -err : err;
    f.phase = (uint32_t)phase;
    /* the whole message follows (a long path and the advice after it); msg holds its start */
    const char *m = msg && *msg ? msg : strerror(f.err);
    char text[SNAPC_TEXT_MAX];
    snapc_wire_text(text, sizeof text, m, strlen(m));
    snapc_wire_text(f.msg, sizeof f.msg, text, strlen(text));
    agent_send(SNAPC_MSG_FAILED, &f, sizeof f, text, (uint32_t)strlen(text));
}

/* Asks the layer for its state and reports it when it changed (or always). */
void agent_report_state(int force)
{
    if (atomic_load(&A.fd) < 0)
        return;
    struct snapc_rank_state st;
    memset(&st, 0, sizeof st);
    if (A.ops.state)
        A.ops.state(A.ops.arg, &st);
    st.what[sizeof st.what - 1] = 0;
    uint32_t v = A.in_epoch ? A.v_applied : 0;
    if (!force && A.last_valid && A.last_v == v && A.last.at_target == st.at_target &&
        A.last.in_cs == st.in_cs && A.last.finalizing == st.finalizing &&
        strcmp(A.last.what, st.what) == 0)
        return;
    struct snapc_state_msg m;
    memset(&m, 0, sizeof m);
    m.version_seen = v;
    m.at_target = st.at_target;
    m.in_cs = st.in_cs;
    m.finalizing = st.finalizing;
    memcpy(m.what, st.what, sizeof m.what);
    if (agent_send(SNAPC_MSG_STATE, &m, sizeof m, NULL, 0) == 0) {
        A.last = st;
        A.last_v = v;
        A.last_valid = 1;
    }
    agent_cache_drop_at_end();
}

static void fill_hello(struct snapc_hello *h, const struct agent_env *e, int restarted,
                       int64_t rseq)
{
    memset(h, 0, sizeof *h);
    memcpy(h->secret, e->secret, SNAPC_SECRET_HEX);
    h->world_rank = (uint32_t)A.world_rank;
    h->world_size = (uint32_t)A.world_size;
    h->pid = (uint32_t)getpid();
    h->flags = restarted ? SNAPC_HELLO_RESTARTED : 0;
    h->restarted_seq = restarted ? rseq : -1;
    gethostname(h->host, sizeof h->host - 1);
    const char *fl = getenv("REVIVE_MPI_FLAVOR");
    snprintf(h->flavor, sizeof h->flavor, "%s", fl && *fl ? fl : "?");
}

/* What the metadata wants to know about this rank (INFO): sent after HELLO and again just before
 * CAPTURED, so the layer's describe can give counts as of the capture. */
void agent_send_info(void)
{
    char info[8192];
    int n = snprintf(info, sizeof info, "pid %d\n", (int)getpid());
    char exe[PATH_MAX];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el > 0) {
        exe[el] = 0;
        n += snprintf(info + n, sizeof info - (size_t)n, "exe %s\n", exe);
    }
    if (A.in_epoch && A.prx)
        n += snprintf(info + n, sizeof info - (size_t)n, "partner_listen %s\n", A.partner_addr);
    if (A.in_epoch && A.direct)   /* its image is in the snapshot directory: the cache was full */
        n += snprintf(info + n, sizeof info - (size_t)n, "local_full 1\n");
    if (A.in_epoch && A.stdin_note[0])
        n += snprintf(info + n, sizeof info - (size_t)n, "%s", A.stdin_note);
    if (A.in_epoch && A.shared_note[0] && n < (int)sizeof info)
        n += snprintf(info + n, sizeof info - (size_t)n, "%s", A.shared_note);
    size_t pl = strlen(A.place);
    if (A.in_epoch && pl < sizeof info - (size_t)n) {
        memcpy(info + n, A.place, pl + 1); /* where it ran (capture_image) */
        n += (int)pl;
    }
    if (A.ops.describe && n < (int)sizeof info - 1) {
        int d = A.ops.describe(A.ops.arg, info + n, sizeof info - (size_t)n);
        if (d > 0 && d < (int)(sizeof info - (size_t)n))
            n += d;
        info[n] = 0;
    }
    agent_send(SNAPC_MSG_INFO, NULL, 0, info, (uint32_t)strlen(info));
}

/* Connects, says HELLO and waits for WELCOME. Sets A.fd. 0 or -errno (logged). */
static int connect_coord(const struct agent_env *e, int restarted, int64_t rseq)
{
    char err[256];
    if (!snapc_secret_valid(e->secret)) {
        revive_log_error("rank %d: %s is missing or not 64 hex digits; this rank cannot be "
                         "checkpointed (start the job with Revive's mpirun -am ft-enable-cr)",
                         A.world_rank, SNAPC_ENV_SECRET);
        return -EINVAL;
    }
    int fd = snapc_tcp_connect(e->coord, AGENT_CONNECT_MS, err, sizeof err);
    if (fd < 0) {
        revive_log_error("rank %d: cannot reach the job's coordinator at %s (%s): %s; this rank "
                         "cannot be checkpointed",
                         A.world_rank, e->coord, SNAPC_ENV_COORD, err);
        return fd;
    }
    struct snapc_hello h;
    fill_hello(&h, e, restarted, rseq);
    int r = snapc_wire_send(fd, SNAPC_MSG_HELLO, 0, &h, sizeof h, NULL, 0, AGENT_CONNECT_MS);
    explicit_bzero(&h, sizeof h);
    struct snapc_reader rd;
    snapc_reader_init(&rd, 4096);
    if (r == 0)
        r = snapc_reader_wait(fd, &rd, AGENT_CONNECT_MS);
    if (r == 1 && snapc_wire_check(&rd.hdr, rd.buf, err, sizeof err) < 0)
        r = -EPROTO;
    else if (r < 0)
        snprintf(err, sizeof err, "%s", rd.err[0] ? rd.err : strerror(-r));
    if (r == 1 && rd.hdr.type == SNAPC_MSG_REFUSED) {
        char why[512];
        snapc_wire_str(why, sizeof why, (const char *)rd.buf, rd.hdr.len);
        revive_log_error("rank %d: the job's coordinator refused this rank: %s", A.world_rank, why);
        r = -EACCES;
    } else if (r == 1 && rd.hdr.type != SNAPC_MSG_WELCOME) {
        snprintf(err, sizeof err, "unexpected answer (type %u)", rd.hdr.type);
        r = -EPROTO;
    }
    if (r < 0 && r != -EACCES)
        revive_log_error("rank %d: no answer from the job's coordinator at %s: %s", A.world_rank,
                         e->coord, err);
    snapc_reader_free(&rd);
    if (r < 0) {
        close(fd);
        return r;
    }
    atomic_store(&A.fd, fd);
    A.env = *e;
    agent_send_info();
    return 0;
}

void agent_after_restart(void)
{
    /* The descriptors of the old process are not ours any more (the capture
     * filter left them out; the restored process may reuse the numbers). */
    atomic_store(&A.fd, -1);
    atomic_store(&A.efd, -1);
    snapc_reader_next(&A.rd);
    A.prx = NULL; /* none ran at the capture (partner_rx_stop at CKPT) */
    A.outcome_pending = 0; /* the job that staged it is not this one */
    A.unreported_fail = 0;  /* nor the one whose copy failed */
    int64_t rseq = (int64_t)A.seq;
    A.in_epoch = 0;
    A.v_applied = 0;
    A.last_valid = 0;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_store(&A.efd, efd);
    struct agent_env e;
    if (A.restart_env_given)
        e = A.restart_env;
    else
        env_copy(&e, getenv(SNAPC_ENV_COORD), getenv(SNAPC_ENV_SECRET), getenv(SNAPC_ENV_JOB_ID));
    atomic_store(&A.restart_flag, 0);
    /* bound as at the capture where this host allows (src/filem/place.h) */
    filem_place_forget();
    char said[1024], host[256] = "";
    gethostname(host, sizeof host - 1);
    int pe = filem_place_apply(A.place, said, sizeof said);
    if (pe < 0)
        revive_log_warn("rank %d on %s: not placed as at the checkpoint: hwloc cannot read this "
                        "host's topology (%s)", A.world_rank, host, strerror(-pe));
    else if (said[0])
        revive_log_warn("rank %d on %s: could not place it as at the checkpoint: %s", A.world_rank,
                        host, said);
    if (!e.set)
        revive_log_info("rank %d: restarted without a coordinator (not under restart-mpi): no "
                        "further checkpoints of this job", A.world_rank);
    else if (connect_coord(&e, 1, rseq) < 0)
        revive_log_warn("rank %d: restarted, but the new coordinator cannot be reached: no "
                        "further checkpoints of this job", A.world_rank);
    /* the epoch's end first, while the application's threads are still held (see on_resume) */
    agent_epoch_ended(1, 1, 0, 0);
    if (A.ops.resume)
        A.ops.resume(A.ops.arg, SNAPC_RESUME_RESTARTED);
    if (atomic_load(&A.fd) < 0)
        agent_set_disconnected();
}

void snapc_agent_forget_connection(void)
{
    if (!atomic_load(&A.running))
        return;
    atomic_store(&A.fd, -1);
    atomic_store(&A.efd, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    snapc_reader_next(&A.rd);
    A.in_epoch = 0;
    A.v_applied = 0;
    A.last_valid = 0;
}

int snapc_agent_restarted(void)
{
    if (!atomic_load(&A.running))
        return -ENOTCONN;
    atomic_store(&A.restart_flag, 1);
    int efd = atomic_load(&A.efd);
    if (efd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(efd, &one, sizeof one);
        (void)w;
    }
    return 0;
}

static void flush_outgoing(void)
{
    struct snapc_raise rs[AGENT_MAX_RAISES];
    int nr;
    int req, coll;
    uint64_t rseq;
    pthread_mutex_lock(&A.lock);
    nr = A.nraises;
    memcpy(rs, A.raises, (size_t)nr * sizeof *rs);
    A.nraises = 0;
    req = A.req_pending;
    coll = A.req_collective;
    rseq = A.req_seq;
    /* made before an epoch that answers it and not sent until now: sent, it started another
     * epoch at the same cut (agent_request_covered) */
    int covered = req && !A.req_plain && agent_request_covered(rseq);
    if (req && !covered && !A.req_plain && A.in_epoch && revive_fault(REVIVE_FAULT_mpix_ask_late)) {
        /* sent after this epoch's end, as when the asking thread loses the CPU between
         * recording its request and waking this thread until the epoch is over */
        A.req_held = 1;
        req = 0;
    } else {
        A.req_pending = 0;
        A.req_plain = 0;
    }
    pthread_mutex_unlock(&A.lock);
    if (covered) {
        revive_log_debug("rank %d: MPIX_Checkpoint's request at world seq %llu not sent: an "
                         "epoch covers it already", A.world_rank, (unsigned long long)rseq);
        req = 0;
    }
    for (int i = 0; i < nr; i++)
        if (A.in_epoch)
            agent_send(SNAPC_MSG_RAISE, &rs[i], sizeof rs[i], NULL, 0);
    if (req) {
        struct snapc_request q = {.collective = (uint32_t)coll, .world_seq = rseq};
        agent_send(SNAPC_MSG_REQUEST, &q, sizeof q, NULL, 0);
    }
}

static atomic_int agent_named; /* the agent thread has named itself (snapc_agent_start waits) */

static void *agent_main(void *unused)
{
    (void)unused;
    /* named by itself: glibc names another thread through /proc/self/task/TID/comm, a descriptor
     * it opens inside the call, which a fork of the application's meanwhile copied
     * (lower_inner-ompi; src/crs/libcr/fork_guard.h); its own name is a prctl */
    pthread_setname_np(pthread_self(), "revive-agent");
    atomic_store(&agent_named, 1);
    for (;;) {
        if (atomic_load(&A.restart_flag) && atomic_load(&A.fd) < 0) {
            atomic_store(&A.restart_flag, 0);
            struct agent_env e = A.restart_env_given ? A.restart_env : A.env;
            if (e.set)
                connect_coord(&e, 1, (int64_t)A.seq);
        }
        int fd = atomic_load(&A.fd), efd = atomic_load(&A.efd);
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
        int r = poll(pf, 2, fd < 0 ? 1000 : -1);
        if (r < 0 && errno != EINTR) {
            revive_log_error("rank %d: agent poll failed: %s", A.world_rank, strerror(errno));
            agent_set_disconnected(); /* nobody answers waiters any more */
            break;
        }
        if (efd >= 0 && (pf[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(efd, &v, sizeof v);
            (void)n;
            flush_outgoing();
            agent_report_state(0);
            agent_fin_check();
        }
        if (fd < 0)
            continue;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            for (;;) {
                int got = snapc_reader_feed(fd, &A.rd);
                if (got == 0)
                    break;
                if (got < 0 || agent_on_frame() < 0) {
                    if (got < 0)
                        revive_log_warn("rank %d: lost the connection to the job's coordinator "
                                        "(%s); no further checkpoints of this job",
                                        A.world_rank, A.rd.err);
                    agent_abort_epoch();
                    if (atomic_load(&A.fd) == fd) {
                        atomic_store(&A.fd, -1);
                        close(fd);
                    }
                    agent_set_disconnected();
                    break;
                }
                if (!A.rd_consumed)
                    snapc_reader_next(&A.rd);
                A.rd_consumed = 0;
                if (A.req_held && !A.in_epoch) {
                    A.req_held = 0;
                    flush_outgoing();
                }
                if (atomic_load(&A.fd) != fd)
                    break; /* restarted: a new connection */
            }
        }
    }
    return NULL;
}

int snapc_agent_start(const struct snapc_rank_ops *ops, int world_rank, int world_size)
{
    const char *coord = getenv(SNAPC_ENV_COORD);
    if (!coord || !*coord)
        return 1;
    if (atomic_load(&A.running))
        return -EALREADY;
    A.ops = *ops;
    A.world_rank = world_rank;
    A.world_size = world_size;
    snapc_reader_init(&A.rd, SNAPC_WIRE_MAX_PAYLOAD);
    struct agent_env e;
    env_copy(&e, coord, getenv(SNAPC_ENV_SECRET), getenv(SNAPC_ENV_JOB_ID));
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        int err = errno;
        revive_log_error("rank %d: cannot create the agent's eventfd: %s", world_rank,
                         strerror(err));
        return -err;
    }
    atomic_store(&A.efd, efd);
    int r = connect_coord(&e, 0, -1);
    if (r < 0) {
        atomic_store(&A.efd, -1);
        close(efd);
        return r;
    }
    atomic_store(&A.running, 1);
    r = pthread_create(&A.thread, NULL, agent_main, NULL);
    if (r != 0) {
        revive_log_error("rank %d: cannot start the agent thread: %s", world_rank, strerror(r));
        atomic_store(&A.running, 0);
        int fd = atomic_exchange(&A.fd, -1);
        close(fd);
        atomic_store(&A.efd, -1);
        close(efd);
        return -r;
    }
    while (!atomic_load(&agent_named)) /* named when this returns, as before */
        sched_yield();
    snapc_agent_notify(); /* the first STATE, from the agent thread (the only sender) */
    return 0;
}

void snapc_agent_notify(void)
{
    int efd = atomic_load(&A.efd);
    if (efd < 0)
        return;
    uint64_t one = 1;
    ssize_t w = write(efd, &one, sizeof one);
    (void)w;
}

int snapc_agent_raise(uint64_t cid, uint64_t target)
{
    if (atomic_load(&A.fd) < 0)
        return -ENOTCONN;
    pthread_mutex_lock(&A.lock);
    int i;
    for (i = 0; i < A.nraises; i++)
        if (A.raises[i].cid == cid) {
            if (target > A.raises[i].target)
                A.raises[i].target = target;
            break;
        }
    if (i == A.nraises) {
        if (A.nraises == AGENT_MAX_RAISES) {
            pthread_mutex_unlock(&A.lock);
            snapc_agent_notify();
            return -EAGAIN;
        }
        A.raises[A.nraises].cid = cid;
        A.raises[A.nraises].target = target;
        A.nraises++;
    }
    pthread_mutex_unlock(&A.lock);
    snapc_agent_notify();
    return 0;
}

int snapc_agent_fds(int *fds, int max)
{
    int n = 0;
    int fd = atomic_load(&A.fd), efd = atomic_load(&A.efd);
    if (fd >= 0 && n < max)
        fds[n++] = fd;
    if (efd >= 0 && n < max)
        fds[n++] = efd;
    return n;
}

int snapc_agent_is_agent_thread(void)
{
    return atomic_load(&A.running) && pthread_equal(pthread_self(), A.thread);
}

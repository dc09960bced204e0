/* The rank agent (see agent.h): one thread per rank that speaks the
 * coordination protocol with the job's coordinator and drives the MPI layer
 * through struct snapc_rank_ops. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/agent.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"
#include "filem/local_gc.h"
#include "filem/local_meta.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "filem/place.h"
#include "filem/stage.h"
#include "snapc/wire.h"

#define AGENT_CONNECT_MS 10000
#define AGENT_SEND_MS 30000
#define AGENT_MAX_RAISES 256
#define AGENT_CUTS 16
#define AGENT_OUTCOMES 16

/* Configuration of the current connection. */
struct agent_env {
    char coord[256];
    char secret[SNAPC_SECRET_HEX + 1];
    char job_id[32];
    int set;
};

static struct {
    struct snapc_rank_ops ops;
    int world_rank, world_size;
    _Atomic int fd;            /* socket to the coordinator, -1 when none */
    _Atomic int efd;           /* eventfd: notify/raise/request wake the thread */
    _Atomic int running;       /* the thread exists */
    pthread_t thread;
    struct snapc_reader rd;
    struct agent_env env;      /* what we connected with */
    struct agent_env restart_env; /* set by snapc_agent_set_restart_env */
    int restart_env_given;
    _Atomic int restart_flag;  /* snapc_agent_restarted was called */

    /* epoch state (agent thread only) */
    int in_epoch;
    uint32_t epoch;
    uint64_t seq;
    uint32_t ckpt_flags;
    char dir[PATH_MAX];
    char local[PATH_MAX];      /* SNAPC_CKPT_LOCAL: the node-local cache (issue 9), else "" */
    char local_seq[PATH_MAX];  /* this epoch's node-local sequence directory */
    int local_committed;       /* local_seq's sequence is committed (its RESUME notice) */
    int partner;               /* SNAPC_CKPT_PARTNER: partner copies this epoch */
    struct filem_partner_rx *prx; /* receiving other nodes' partner copies (after the capture
                                   * only: never running while an image is written) */
    char partner_addr[96];     /* where prx listens, told in INFO */
    char image[PATH_MAX + 32]; /* where this epoch's image was written */
    uint64_t image_sum;        /* its header checksum (CAPTURED) */
    char place[1024];          /* where it ran at its last capture (filem/place.h) */
    char stdin_note[128];      /* its standard input's unread bytes at that capture (INFO) */
    uint32_t v_applied;
    uint64_t target0;          /* the epoch's target on WORLD (cid 0) */
    int have_targets;          /* TARGETS came in this epoch: target0 is its cut on WORLD */
    int aborted;               /* ABORT seen by poll_abort */
    int rd_consumed;           /* on_frame advanced the reader itself (QUIESCE) */
    struct snapc_seq *tbuf;
    int tcap;
    struct snapc_rank_state last;  /* last STATE sent */
    uint32_t last_v;
    int last_valid;

    /* shared with application threads (lock) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct snapc_raise raises[AGENT_MAX_RAISES];
    int nraises;
    int req_pending, req_collective;
    uint64_t req_seq;
    uint64_t req_gen;          /* end_gen when the last request was made */
    /* Captures of this rank begun so far, the one of the current epoch (0: none yet), and
     * their count when MPIX_Checkpoint asked: in a job of one rank, an epoch whose capture
     * began before the call holds no cut of it and does not answer it (wait_epoch). */
    uint64_t captures, epoch_capture, req_captures;
    uint64_t end_gen;          /* epochs ended (RESUME, ABORT, restart) */
    int end_committed, end_restarted, end_refused;  /* how the last epoch ended */
    int disconnected;
    /* Node-local first: the job runs on before its sequence is copied to shared storage and
     * committed. Until the outcome (RESUME outside the epoch: committed or not) comes, a rank
     * that returned from MPI_Finalize and exited would cut its copy short or never hear the
     * commit, so its node's cache of the sequence would stay (CI, tests/snapc/localdir.sh):
     * MPI_Finalize waits for it (snapc_agent_finalize_wait). */
    int outcome_pending;       /* set and cleared by the agent thread */
    uint64_t outcome_seq;      /* the sequence it is about */
    _Atomic int fin_wait;      /* MPI_Finalize waits: the rank ends with this process */
    int fin_done;              /* the agent saw fin_wait with no outcome pending (and dropped
                                * the committed sequence's cache) */
    /* The epochs that decide MPIX_Checkpoint calls (see decide()): each ended epoch whose
     * cut on WORLD is above every earlier one's, oldest first (a ring of the newest). */
    struct cut_rec {
        uint64_t cut, seq;
        int committed, restarted;
        int staging;           /* ended at "recovered": the copy and the commit were to follow */
        int nowait;            /* --ckpt-no-wait-stage: MPIX_Checkpoint returns at "recovered" */
        uint64_t prior_fail;   /* 1 + a sequence whose staging failed after its MPIX_Checkpoint
                                * returned (--ckpt-no-wait-stage), not reported yet; 0 none */
        uint64_t capture;      /* A.epoch_capture: which capture of this rank it took, 0 none */
    } cuts[AGENT_CUTS];
    unsigned ncuts;            /* records ever kept; the newest is cuts[(ncuts-1) % AGENT_CUTS] */
    struct cut_rec end_rec;    /* the last epoch to end (a job of one rank decides by it) */
    /* How staging sequences ended (RESUME outside the epoch), the newest last: MPIX_Checkpoint
     * waits here for the commit of its snapshot (--ckpt-no-wait-stage: it does not). */
    struct { uint64_t seq; int committed; } outcomes[AGENT_OUTCOMES];
    unsigned noutcomes;
    uint64_t unreported_fail;  /* 1 + a --ckpt-no-wait-stage sequence whose staging failed,
                                * until an epoch's end (the next MPIX_Checkpoint) takes it */
} A = {
    .fd = -1,
    .efd = -1,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
};

/* ---- environment ---- */

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
}

/* ---- sending ---- */

static int send_frame(uint16_t type, const void *p, uint32_t len, const void *tail, uint32_t tlen)
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

static void send_failed(int err, int phase, const char *msg)
{
    struct snapc_failed f;
    memset(&f, 0, sizeof f);
    f.err = err < 0 ? -err : err;
    f.phase = (uint32_t)phase;
    snprintf(f.msg, sizeof f.msg, "%s", msg && *msg ? msg : strerror(f.err));
    send_frame(SNAPC_MSG_FAILED, &f, sizeof f, NULL, 0);
}

/* A rank in MPI_Finalize whose last snapshot is committed: the job ends normally and needs
 * no node-local copy of it (the shared one stays); a job killed or ended by --term keeps its
 * caches for a restart. */
static void drop_local_at_end(void)
{
    int ending = (A.last_valid && A.last.finalizing) || atomic_load(&A.fin_wait);
    if (A.local_seq[0] && A.local_committed && ending && !A.in_epoch) {
        /* the older sequences --ckpt-keep N kept in the cache go too (review: N-1 stayed) */
        filem_local_retain(A.local_seq, A.dir, 1, NULL);
        filem_local_drop(A.local_seq, A.world_rank);
        A.local_seq[0] = 0;
    }
}

/* Asks the layer for its state and reports it when it changed (or always). */
static void report_state(int force)
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
    if (send_frame(SNAPC_MSG_STATE, &m, sizeof m, NULL, 0) == 0) {
        A.last = st;
        A.last_v = v;
        A.last_valid = 1;
    }
    drop_local_at_end();
}

/* ---- epoch ends (wake MPIX_Checkpoint waiters) ---- */

/* Which epoch answers MPIX_Checkpoint at world_seq s (every rank calls it at the same s: it is
 * a collective on MPI_COMM_WORLD): the first epoch to end whose cut on WORLD (its target there)
 * is >= s. Every rank sees the same epochs end in the same order with the same targets, so
 * every rank picks the same one, whenever it arrives at the call: a rank still computing
 * before its call when an epoch with cut s committed (its snapshot is at that call: every
 * rank at s collectives) returns at once, as the ranks parked at the call's entry did; waiting
 * for another epoch instead hung, the others being in the next collective already. Committed:
 * the call is covered (restarted in a job restarted from it); aborted: -ECANCELED on every
 * rank. The first epoch with cut >= s is always one whose cut is above every earlier one's:
 * only those are kept. A job of one rank counts no collective on WORLD (s is always 0): there
 * the first epoch to end after the request answers it, unless that epoch's capture began
 * before the call (snapc_agent_wait_epoch). Called with
 * A.lock held; 1 when decided. */
static int decide(uint64_t s, int *rc, int *restarted, struct cut_rec *by)
{
    if (A.world_size == 1)
        return 0;
    unsigned first = A.ncuts > AGENT_CUTS ? A.ncuts - AGENT_CUTS : 0;
    for (unsigned i = first; i < A.ncuts; i++) {
        const struct cut_rec *c = &A.cuts[i % AGENT_CUTS];
        if (c->cut < s)
            continue;
        *rc = c->committed ? 0 : -ECANCELED;
        *restarted = c->committed && c->restarted;
        if (by)
            *by = *c;
        return 1;
    }
    return 0;
}

/* staging: the epoch ended at "recovered" (node-local first), its copy and commit to come.
 * Agent thread (A.ckpt_flags is the epoch's). */
static void epoch_ended(int committed, int restarted, int refused, int staging)
{
    pthread_mutex_lock(&A.lock);
    struct cut_rec rec = {.cut = A.target0, .seq = A.seq, .committed = committed,
                          .restarted = restarted, .staging = staging,
                          .nowait = (A.ckpt_flags & SNAPC_CKPT_NOWAIT_MPIX) != 0,
                          .capture = A.epoch_capture};
    A.epoch_capture = 0;
    if (!refused) {
        /* an earlier failure goes with the first epoch to end after it: every rank sees the
         * same messages in the same order, so every rank's MPIX_Checkpoint answered by that
         * epoch reports it */
        rec.prior_fail = A.unreported_fail;
        A.end_rec = rec;
    }
    int kept = !refused && A.world_size == 1;
    if (!refused && A.have_targets) {
        const struct cut_rec *last = A.ncuts ? &A.cuts[(A.ncuts - 1) % AGENT_CUTS] : NULL;
        if (!last || A.target0 > last->cut) {
            A.cuts[A.ncuts % AGENT_CUTS] = rec;
            A.ncuts++;
            kept = 1;
        }
    }
    if (kept)
        A.unreported_fail = 0;
    A.have_targets = 0;
    A.end_gen++;
    A.end_committed = committed;
    A.end_restarted = restarted;
    A.end_refused = refused;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

static void set_disconnected(void)
{
    pthread_mutex_lock(&A.lock);
    A.disconnected = 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* Agent thread: a waiting MPI_Finalize may go once no outcome is pending; the committed
 * sequence's cache is dropped first (the rank ends with it). */
static void fin_check(void)
{
    pthread_mutex_lock(&A.lock);
    int go = atomic_load(&A.fin_wait) && !A.outcome_pending && !A.fin_done;
    pthread_mutex_unlock(&A.lock);
    if (!go)
        return;
    drop_local_at_end();
    pthread_mutex_lock(&A.lock);
    A.fin_done = 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* Agent thread: how staging sequence seq ended (its RESUME outside the epoch), for the
 * MPIX_Checkpoint that waits for its commit; with --ckpt-no-wait-stage (A.ckpt_flags is still
 * that epoch's: the outcome comes before the next CKPT) a failure waits for the next call. */
static void outcome_record(uint64_t seq, int committed)
{
    pthread_mutex_lock(&A.lock);
    A.outcomes[A.noutcomes % AGENT_OUTCOMES].seq = seq;
    A.outcomes[A.noutcomes % AGENT_OUTCOMES].committed = committed;
    A.noutcomes++;
    if (!committed && (A.ckpt_flags & SNAPC_CKPT_NOWAIT_MPIX))
        A.unreported_fail = seq + 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* With A.lock held: 1 when seq's outcome is known (*committed says which). */
static int outcome_find(uint64_t seq, int *committed)
{
    unsigned first = A.noutcomes > AGENT_OUTCOMES ? A.noutcomes - AGENT_OUTCOMES : 0;
    for (unsigned i = A.noutcomes; i-- > first;)
        if (A.outcomes[i % AGENT_OUTCOMES].seq == seq) {
            *committed = A.outcomes[i % AGENT_OUTCOMES].committed;
            return 1;
        }
    return 0;
}

/* Agent thread: the staging sequence's outcome is known (or will never come). */
static void outcome_set(int pending, uint64_t seq)
{
    pthread_mutex_lock(&A.lock);
    A.outcome_pending = pending;
    A.outcome_seq = seq;
    pthread_mutex_unlock(&A.lock);
    if (!pending)
        fin_check();
}

/* ---- connecting ---- */

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
/* Bytes of standard input this rank had not read when its image was written: in a pipe (the
 * launcher's, to rank 0), a socket or a terminal they are not in the image, and a restart reads
 * restart-mpi's standard input instead (review9 F1). Said in INFO (stdin_unread, stdin_kind,
 * stdin_ended: the writer had closed its end, so these bytes were the rest of the input), from
 * there in snapshot.meta and in ckpt-mpirun's summary. A regular file is reopened at its saved
 * offset: nothing is lost, nothing said. */
static void note_stdin(void)
{
    A.stdin_note[0] = 0;
    struct stat st;
    if (fstat(0, &st) < 0)
        return;
    const char *kind = S_ISFIFO(st.st_mode)                 ? "pipe"
                       : S_ISSOCK(st.st_mode)               ? "socket"
                       : S_ISCHR(st.st_mode) && isatty(0) ? "terminal"
                                                            : NULL;
    int n = 0;
    if (!kind || ioctl(0, FIONREAD, &n) < 0 || n <= 0)
        return;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int ended = !S_ISCHR(st.st_mode) && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
    snprintf(A.stdin_note, sizeof A.stdin_note, "stdin_unread %d\nstdin_kind %s\nstdin_ended %d\n",
             n, kind, ended);
}

static void send_info(void)
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
    if (A.in_epoch && A.stdin_note[0])
        n += snprintf(info + n, sizeof info - (size_t)n, "%s", A.stdin_note);
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
    send_frame(SNAPC_MSG_INFO, NULL, 0, info, (uint32_t)strlen(info));
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
    send_info();
    return 0;
}

/* ---- the epoch ---- */

/* The partner receiver of the last epoch goes before anything else happens: it never runs
 * while this process is captured, and a copy still coming in is finished first. */
static void partner_rx_stop(void)
{
    if (A.prx) {
        filem_partner_rx_stop(A.prx);
        A.prx = NULL;
        A.partner_addr[0] = 0;
    }
}

static void abort_epoch(void)
{
    if (!A.in_epoch)
        return;
    if (A.ops.abort)
        A.ops.abort(A.ops.arg);
    A.in_epoch = 0;
    A.v_applied = 0;
    epoch_ended(0, 0, 0, 0);
}

static void on_ckpt(const struct snapc_hdr *h, const uint8_t *p)
{
    struct snapc_ckpt c;
    memcpy(&c, p, sizeof c);
    if (A.in_epoch)
        abort_epoch(); /* a new epoch means the coordinator gave up the old one */
    partner_rx_stop();
    if (A.outcome_pending)
        outcome_record(A.outcome_seq, 0); /* no outcome came: nobody waits for it forever */
    outcome_set(0, 0); /* the coordinator is done with the previous sequence */
    A.in_epoch = 1;
    A.partner = (c.flags & SNAPC_CKPT_PARTNER) && (c.flags & SNAPC_CKPT_LOCAL);
    A.aborted = 0;
    A.epoch = h->epoch;
    A.seq = c.seq;
    A.ckpt_flags = c.flags;
    A.v_applied = 0;
    A.target0 = 0;
    A.have_targets = 0;
    A.last_valid = 0;
    snapc_wire_str(A.dir, sizeof A.dir, (const char *)p + sizeof c, h->len - sizeof c);
    A.local[0] = A.local_seq[0] = A.image[0] = 0;
    if (c.flags & SNAPC_CKPT_LOCAL) {
        size_t off = sizeof c + strlen(A.dir) + 1;
        if (off < h->len)
            snapc_wire_str(A.local, sizeof A.local, (const char *)p + off, h->len - off);
        if (!A.local[0]) {
            /* no --ckpt-local: this node's default cache, resolved here (TMPDIR is the node's) */
            char err[PATH_MAX + 256];
            if (filem_local_default(A.local, sizeof A.local, 1, err, sizeof err) < 0) {
                A.local[0] = 0;
                send_failed(EPERM, SNAPC_PHASE_REQUESTED, err);
                return;
            }
        }
    }
    int e = A.ops.begin ? A.ops.begin(A.ops.arg) : 0;
    if (e < 0) {
        send_failed(e, SNAPC_PHASE_REQUESTED, e == -ESHUTDOWN ? "this rank has called MPI_Finalize"
                                                              : "cannot start the checkpoint in this rank");
        return;
    }
    int n;
    for (;;) {
        if (A.tcap == 0) {
            A.tbuf = malloc(64 * sizeof *A.tbuf);
            if (!A.tbuf) {
                send_failed(ENOMEM, SNAPC_PHASE_REQUESTED, "out of memory");
                return;
            }
            A.tcap = 64;
        }
        n = A.ops.seqs ? A.ops.seqs(A.ops.arg, A.tbuf, A.tcap) : 0;
        if (n != -ENOSPC)
            break;
        if (A.tcap >= (int)SNAPC_MAX_COMMS) {
            send_failed(E2BIG, SNAPC_PHASE_REQUESTED, "more communicators than the protocol carries");
            return;
        }
        void *nb = realloc(A.tbuf, 4 * (size_t)A.tcap * sizeof *A.tbuf);
        if (!nb) {
            send_failed(ENOMEM, SNAPC_PHASE_REQUESTED, "out of memory");
            return;
        }
        A.tbuf = nb;
        A.tcap *= 4;
    }
    if (n < 0 || n > A.tcap) {
        send_failed(n < 0 ? n : -EINVAL, SNAPC_PHASE_REQUESTED, "cannot read the collective clock");
        return;
    }
    struct snapc_table t = {.version = 0, .n = (uint32_t)n};
    _Static_assert(sizeof(struct snapc_seq) == sizeof(struct snapc_wire_seq), "same layout");
    send_frame(SNAPC_MSG_SEQS, &t, sizeof t, A.tbuf, (uint32_t)n * sizeof(struct snapc_seq));
    /* its placement, in the image (for a restart, on another host too) and the metadata: read
     * now, while the program runs on and the ranks converge, not in the stall between QUIESCE
     * and RESUME (hwloc asks the kernel where each page is: measured 50-500 ms for 128 MiB on
     * a loaded 2-CPU VM, as much as the image write itself) */
    int pe = filem_place_describe(A.place, sizeof A.place);
    if (pe < 0) {
        A.place[0] = 0;
        revive_log_warn("rank %d: its placement is not recorded: hwloc cannot read the topology "
                        "(%s)", A.world_rank, strerror(-pe));
    }
}

static void on_targets(const struct snapc_hdr *h, const uint8_t *p)
{
    if (!A.in_epoch)
        return;
    struct snapc_table t;
    memcpy(&t, p, sizeof t);
    if ((int)t.n > A.tcap) {
        void *nb = realloc(A.tbuf, (size_t)t.n * sizeof *A.tbuf);
        if (!nb) {
            send_failed(ENOMEM, SNAPC_PHASE_RUNNING, "out of memory for the targets");
            return;
        }
        A.tbuf = nb;
        A.tcap = (int)t.n;
    }
    memcpy(A.tbuf, p + sizeof t, (size_t)t.n * sizeof *A.tbuf);
    (void)h;
    A.target0 = 0;
    A.have_targets = 1;
    for (uint32_t i = 0; i < t.n; i++)
        if (A.tbuf[i].cid == 0)
            A.target0 = A.tbuf[i].seq;
    if (A.ops.targets)
        A.ops.targets(A.ops.arg, A.tbuf, (int)t.n, t.version);
    A.v_applied = t.version;
    report_state(1);
}

static void after_restart(void);

/* A full file system (or quota) is the user's to fix: say which option moves the snapshots
 * elsewhere (--ckpt-local for the node-local cache, else --ckpt-dir), in place of the image
 * writer's advice for cr_checkpoint (one piece of advice, not two). */
static void full_advice(int e, char *msg, size_t len, int local)
{
    if (e != -ENOSPC && e != -EDQUOT)
        return;
    char *generic = strstr(msg, "; free space");   /* the image writer's, for cr_checkpoint */
    if (generic)
        *generic = 0;
    size_t n = strlen(msg), at = n < len / 2 ? n : len / 2;   /* the advice fits */
    int k = snprintf(msg + at, len - at, "; free space on its file system or give another %s",
                     local ? "--ckpt-local DIR (REVIVE_LOCAL_DIR)" : "--ckpt-dir DIR (REVIVE_SNAPSHOT_DIR)");
    (void)k;
}

/* REVIVE_FAULT_EPOCH (default 1): fault points in the rank fire from that epoch on, so that a
 * test can take good snapshots first (snapc-rank-drain at that epoch only). */
static uint32_t fault_first(void)
{
    const char *fe = getenv("REVIVE_FAULT_EPOCH");
    return (uint32_t)(fe && atoi(fe) > 0 ? atoi(fe) : 1);
}

static int fault_epoch(void)
{
    return A.epoch >= fault_first();
}

/* Fault point filem-stage-hold: wait until the file REVIVE_STAGE_HOLD exists (10 min at most),
 * so that a test kills a host or a rank while this sequence is surely staging. */
static void stage_hold(void)
{
    const char *f = getenv("REVIVE_STAGE_HOLD");
    if (!f || !*f)
        return;
    revive_log_info("rank %d: staging holds until %s exists (fault point filem-stage-hold)",
                    A.world_rank, f);
    for (int i = 0; i < 12000 && access(f, F_OK) != 0; i++) {
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

static void on_quiesce(const struct snapc_quiesce *qp)
{
    if (!A.in_epoch)
        return;
    struct snapc_quiesce q = *qp;
    char err[512] = "";
    int e = A.ops.quiesce ? A.ops.quiesce(A.ops.arg, (int)q.timeout_ms) : 0;
    if (A.aborted) {
        abort_epoch();
        return;
    }
    if (e < 0) {
        send_failed(e, SNAPC_PHASE_QUIESCED, "cannot close the gate into MPI");
        return;
    }
    send_frame(SNAPC_MSG_QUIESCED, NULL, 0, NULL, 0);

    struct snapc_drain_stats st;
    memset(&st, 0, sizeof st);
    /* The drain polls for an ABORT (snapc_agent_poll_abort) and leaves at once: its exchanges
     * with the other ranks are tagged with the epoch, so none is left halfway (drain_xchg.c). */
    if (A.world_rank == 0 && A.epoch == fault_first() &&
        revive_fault(REVIVE_FAULT_snapc_rank_drain)) {
        send_failed(EIO, SNAPC_PHASE_DRAINED, "cannot drain (fault point snapc-rank-drain)");
        return;
    }
    e = A.ops.drain ? A.ops.drain(A.ops.arg, &st, err, sizeof err) : 0;
    if (A.aborted) {
        abort_epoch();
        return;
    }
    if (e < 0) {
        send_failed(e, SNAPC_PHASE_DRAINED, err);
        return;
    }
    struct snapc_drained d;
    memcpy(&d, &st, sizeof d);
    send_frame(SNAPC_MSG_DRAINED, &d, sizeof d, NULL, 0);

    /* an ABORT that came during the drain: do not write into a directory being discarded */
    if (snapc_agent_poll_abort()) {
        abort_epoch();
        return;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/rank_%d.img", A.dir, A.world_rank);
    if (A.local[0]) {
        /* node-local first: the image goes to this node's cache; STAGE copies it later */
        A.local_committed = 0;
        e = filem_local_seq_dir(A.local, A.dir, 1, A.local_seq, sizeof A.local_seq, err,
                                sizeof err);
        if (e < 0) {
            send_failed(-e, SNAPC_PHASE_CAPTURED, err);
            return;
        }
        snprintf(path, sizeof path, "%s/rank_%d.img", A.local_seq, A.world_rank);
    }
    snprintf(A.image, sizeof A.image, "%s", path);
    struct snapc_capture_result r;
    memset(&r, 0, sizeof r);
    r.hold = (A.ckpt_flags & SNAPC_CKPT_TERM) != 0;
    if (fault_epoch() && revive_fault(REVIVE_FAULT_snapc_rank_capture)) {
        send_failed(EIO, SNAPC_PHASE_CAPTURED, "cannot write the image (fault point "
                                               "snapc-rank-capture)");
        return;
    }
    pthread_mutex_lock(&A.lock);
    A.epoch_capture = ++A.captures; /* in the image too: a restart from it knows its epoch */
    pthread_mutex_unlock(&A.lock);
    note_stdin(); /* the job's threads are parked: what the image leaves unread */
    e = A.ops.capture ? A.ops.capture(A.ops.arg, path, &r) : -ENOSYS;
    if (e == 1) {
        after_restart();
        return;
    }
    if (e < 0) {
        r.err[sizeof r.err - 1] = 0;
        if (!r.err[0])
            snprintf(r.err, sizeof r.err, "cannot write the image: %s", strerror(-e));
        full_advice(e, r.err, sizeof r.err, A.local[0] != 0);
        send_failed(e, SNAPC_PHASE_CAPTURED, r.err);
        return;
    }
    if (A.partner) {
        /* this node's cache also takes another node's images (filem/partner.h) */
        char perr[PATH_MAX + 256];
        int pe2 = filem_partner_rx_start(atomic_load(&A.fd), A.local_seq, A.seq, A.env.secret,
                                         A.partner_addr, sizeof A.partner_addr, &A.prx, perr,
                                         sizeof perr);
        if (pe2 < 0)
            revive_log_warn("rank %d: %s", A.world_rank, perr);
    }
    send_info();
    A.image_sum = r.checksum;
    struct snapc_captured c = {.bytes = r.bytes, .checksum = r.checksum};
    send_frame(SNAPC_MSG_CAPTURED, &c, sizeof c, NULL, 0);
}

/* The copy to the partner node (filem/partner.h), reported at once (PARTNERED): a node lost
 * while its images are still on their way to shared storage then leaves a verified copy on
 * another node, which the coordinator has staged in its place (STAGE_FOR). */
struct partner_job {
    char to[128];
    int st;                       /* 1 verified there, else -errno */
    char err[2 * PATH_MAX];
};

static void *partner_copy(void *arg)
{
    struct partner_job *j = arg;
    int pst = filem_partner_send(j->to, A.env.secret, A.image, A.world_rank, A.seq, A.image_sum,
                                 j->err, sizeof j->err);
    j->st = pst < 0 ? pst : 1;
    struct snapc_partnered pd = {.status = j->st};
    send_frame(SNAPC_MSG_PARTNERED, &pd, sizeof pd, j->st < 0 ? j->err : NULL,
               j->st < 0 ? (uint32_t)strlen(j->err) : 0);
    /* said after the coordinator was told (a test loses the node once it reads this) */
    if (j->st < 0)
        revive_log_warn("rank %d: no partner copy: %s", A.world_rank, j->err);
    else
        revive_log_info("rank %d: partner copy: %s", A.world_rank, j->err);
    return NULL;
}

/* STAGE: copy this epoch's node-local image to the shared sequence directory and verify the
 * copy (src/filem/stage.c); the rank runs on meanwhile (its RESUME came first) unless the
 * epoch ends the job (--term, --stop), whose RESUME comes after the commit. With partner copies
 * the copy to the partner node runs at the same time, in a thread of its own (before, it ran
 * first: the two times added up, and a partner lost mid-transfer held this rank's own staging
 * for the transfer's bound); STAGED, which carries both answers, waits for it, so PARTNERED
 * always comes first. REVIVE_PARTNER_SERIAL=1 (bench/stage's baseline) runs them one after the
 * other as before. */
static void on_stage(const struct snapc_hdr *h, const uint8_t *p)
{
    struct snapc_stage sg;
    memcpy(&sg, p, sizeof sg);
    struct partner_job pj = {.st = 0};
    snapc_wire_str(pj.to, sizeof pj.to, (const char *)p + sizeof sg, h->len - sizeof sg);
    char err[2 * PATH_MAX] = "";
    struct filem_stage_stats st;
    memset(&st, 0, sizeof st);
    char name[32];
    snprintf(name, sizeof name, "rank_%d.img", A.world_rank);
    pthread_t pth;
    int partner = pj.to[0] && A.image[0] && A.local[0], threaded = 0;
    if (partner) {
        const char *serial = getenv("REVIVE_PARTNER_SERIAL");
        if (!(serial && *serial == '1'))
            threaded = pthread_create(&pth, NULL, partner_copy, &pj) == 0;
        if (!threaded)
            partner_copy(&pj);
    }
    int e;
    if (!A.image[0] || !A.local[0]) {
        e = -EPROTO;
        snprintf(err, sizeof err, "no node-local image of this epoch to stage");
    } else if (fault_epoch() && revive_fault(REVIVE_FAULT_filem_stage)) {
        e = -EIO;
        snprintf(err, sizeof err, "cannot copy %s (fault point filem-stage)", A.image);
    } else {
        if (fault_epoch() && revive_fault(REVIVE_FAULT_filem_stage_hold))
            stage_hold();
        /* at most as many copies at once on this node as it has cores (hwloc) */
        int slot = filem_place_stage_slot(A.local, A.world_rank);
        e = filem_stage_file(A.image, A.dir, name, A.image_sum, sg.bw, &st, err, sizeof err);
        if (slot >= 0)
            close(slot);
    }
    full_advice(e, err, sizeof err, 0);
    if (threaded)
        pthread_join(pth, NULL);
    int pst = pj.st;
    if (e == -ENOENT && access(A.dir, F_OK) != 0 && errno == ENOENT) {
        /* the coordinator set the sequence aside once another rank's copy failed (a full disk):
         * "cannot create a file ...: No such file or directory" under that rank's message sent
         * users looking for a missing directory (seen in diskfull.sh's job output) */
        snprintf(err, sizeof err, "the sequence directory %s is gone (the checkpoint was "
                 "abandoned, or the directory removed): this rank's image was not copied", A.dir);
        revive_log_info("rank %d: %s", A.world_rank, err);
    } else if (e < 0)
        revive_log_warn("rank %d: staging failed: %s", A.world_rank, err);
    else if (pst < 0)
        snprintf(err, sizeof err, "%s", pj.err);
    struct snapc_staged d = {.status = e, .partner = pst, .bytes = st.bytes,
                             .copy_ns = (uint64_t)st.copy_ns, .verify_ns = (uint64_t)st.verify_ns};
    int say = e < 0 || pst < 0;
    send_frame(SNAPC_MSG_STAGED, &d, sizeof d, say ? err : NULL, say ? (uint32_t)strlen(err) : 0);
}

/* STAGE_FOR: a rank of another node was lost before its image reached shared storage; this
 * node's cache holds its verified partner copy (received by this rank's listener): the copy
 * goes to the shared sequence directory under that rank's name, verified as its own would be
 * (the header checksum the lost rank reported, every chunk). */
static void on_stage_for(const uint8_t *p)
{
    struct snapc_stage_for sf;
    memcpy(&sf, p, sizeof sf);
    char err[2 * PATH_MAX] = "", src[PATH_MAX + 64], name[48];
    struct filem_stage_stats st;
    memset(&st, 0, sizeof st);
    int e;
    if (!A.local_seq[0] || !A.dir[0]) {
        e = -EPROTO;
        snprintf(err, sizeof err, "no node-local sequence of this epoch on this node");
    } else {
        snprintf(src, sizeof src, "%s/%s%u.img", A.local_seq, FILEM_PARTNER_PREFIX, sf.rank);
        snprintf(name, sizeof name, "rank_%u.img", sf.rank);
        int slot = filem_place_stage_slot(A.local, A.world_rank);
        e = filem_stage_file(src, A.dir, name, sf.checksum, sf.bw, &st, err, sizeof err);
        if (slot >= 0)
            close(slot);
        full_advice(e, err, sizeof err, 0);
    }
    if (e < 0)
        revive_log_warn("rank %d: cannot stage the partner copy of rank %u: %s", A.world_rank,
                        sf.rank, err);
    else
        revive_log_info("rank %d: staged the partner copy of rank %u", A.world_rank, sf.rank);
    struct snapc_staged_for d = {.status = e, .rank = sf.rank, .bytes = st.bytes,
                                 .copy_ns = (uint64_t)st.copy_ns,
                                 .verify_ns = (uint64_t)st.verify_ns};
    send_frame(SNAPC_MSG_STAGED_FOR, &d, sizeof d, e < 0 ? err : NULL,
               e < 0 ? (uint32_t)strlen(err) : 0);
}

static void on_resume(const uint8_t *p)
{
    struct snapc_resume r;
    memcpy(&r, p, sizeof r);
    if (r.committed && r.seq == A.seq)
        partner_rx_stop(); /* every partner copy of the sequence came in before its commit */
    if (r.committed && A.local_seq[0] && r.seq == A.seq) {
        /* the committed metadata beside the cached images: a restart from the caches when the
         * shared directory is lost (filem/local_meta.h) */
        char merr[PATH_MAX + 128];
        if (filem_local_keep_meta(A.dir, A.local_seq, merr, sizeof merr) < 0)
            revive_log_warn("rank %d: this node's cache of sequence %llu will not hold its "
                            "snapshot.meta (a restart needs the shared directory): %s",
                            A.world_rank, (unsigned long long)r.seq, merr);
        /* the cache keeps what the shared directory keeps (--ckpt-keep), never one a restart
         * reads */
        struct filem_local_retain_stats rs;
        int e = filem_local_retain(A.local_seq, A.dir, filem_local_keep(A.dir), &rs);
        if (e < 0)
            revive_log_warn("rank %d: retention of the node-local cache of %s: %s", A.world_rank,
                            A.local_seq, strerror(-e));
        if (e == 0 && rs.swept)
            revive_log_info("rank %d: removed this node's caches of %d superseded job%s (restarted "
                            "elsewhere and committed since)",
                            A.world_rank, rs.swept, rs.swept == 1 ? "" : "s");
        if (e == 0 && rs.busy)
            revive_log_info("rank %d: %d older node-local sequence%s kept while a restart reads "
                            "them", A.world_rank, rs.busy, rs.busy == 1 ? "" : "s");
        /* once per job on each node (its ranks' agents side by side are harmless): the caches
         * of ended jobs that no restart can need go (filem/local_gc.h) */
        static int gc_done;
        if (!gc_done) {
            gc_done = 1;
            struct filem_local_gc_stats gs;
            if (filem_local_gc(A.local, -1, &gs, NULL, NULL) == 0 &&
                (gs.removed || gs.tmp || gs.jobs_gone))
                revive_log_info("rank %d: node-local cache %s: removed %d sequence%s and %d "
                                "partial image%s of ended jobs no restart can need (%llu MB)",
                                A.world_rank, A.local, gs.removed, gs.removed == 1 ? "" : "s",
                                gs.tmp, gs.tmp == 1 ? "" : "s", gs.bytes >> 20);
        }
        A.local_committed = 1;
    }
    if (!A.in_epoch) {
        /* the outcome of the sequence that was staging: committed, or not (the coordinator
         * says so since this rank may be waiting in MPI_Finalize) */
        drop_local_at_end(); /* the commit came after this rank entered MPI_Finalize */
        if (r.seq == A.seq) {
            outcome_record(r.seq, r.committed != 0);
            outcome_set(0, r.seq);
        }
        return;
    }
    if (!r.committed && A.local_seq[0])
        outcome_set(1, r.seq); /* recovered: the copy to shared storage and the commit follow */
    A.in_epoch = 0;
    A.v_applied = 0;
    if (A.ops.resume)
        A.ops.resume(A.ops.arg, (int)r.action);
    if (r.action == SNAPC_RESUME_STOP) {
        /* SIGSTOP to this thread, not the process: the stop is taken before tgkill returns
         * (a process-directed signal may go to another thread and this one run on), so the
         * CONTINUED below says that this rank was stopped and runs again (coord_stop.c) */
        syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGSTOP);
        send_frame(SNAPC_MSG_CONTINUED, NULL, 0, NULL, 0);
    }
    if (r.action == SNAPC_RESUME_TERM) {
        /* see SNAPC_RESUME_TERM: exit_group, the parked threads go with us, no atexit */
        revive_log_info("rank %d: the job ends after its snapshot (--term)", A.world_rank);
        _exit(0);
    }
    /* a RESUME before the commit (node-local first) ends the epoch for this rank too: every
     * image is durable in its node's cache; MPIX_Checkpoint returns now, as the job runs on,
     * and the copy to shared storage and the commit follow */
    epoch_ended(1, 0, 0, !r.committed);
    report_state(1);
}

static void on_abort(const struct snapc_hdr *h, const uint8_t *p)
{
    char why[512];
    snapc_wire_str(why, sizeof why, (const char *)p, h->len);
    if (A.in_epoch) {
        revive_log_info("rank %d: no checkpoint: %s", A.world_rank, why);
        abort_epoch();
    } else {
        /* our own request was refused */
        revive_log_warn("rank %d: checkpoint request refused: %s", A.world_rank, why);
        epoch_ended(0, 0, 1, 0);
    }
}

/* One complete frame from the coordinator. 0, or -EPROTO (drop the connection). */
static int on_frame(void)
{
    const struct snapc_hdr *h = &A.rd.hdr;
    const uint8_t *p = A.rd.buf;
    char err[160];
    if (snapc_wire_check(h, p, err, sizeof err) < 0) {
        revive_log_error("rank %d: bad message from the coordinator: %s", A.world_rank, err);
        return -EPROTO;
    }
    if (h->type != SNAPC_MSG_CKPT && h->type != SNAPC_MSG_ABORT && A.in_epoch &&
        h->epoch != A.epoch)
        return 0; /* a late message of an epoch we already left */
    switch (h->type) {
    case SNAPC_MSG_CKPT: on_ckpt(h, p); break;
    case SNAPC_MSG_TARGETS: on_targets(h, p); break;
    case SNAPC_MSG_QUIESCE: {
        /* the quiesce runs long (gate, drain, capture): free the reader first, so that
         * snapc_agent_poll_abort sees an ABORT that comes meanwhile */
        struct snapc_quiesce q;
        memcpy(&q, p, sizeof q);
        snapc_reader_next(&A.rd);
        A.rd_consumed = 1;
        on_quiesce(&q);
        break;
    }
    case SNAPC_MSG_RESUME: on_resume(p); break;
    case SNAPC_MSG_STAGE: on_stage(h, p); break;
    case SNAPC_MSG_STAGE_FOR: on_stage_for(p); break;
    case SNAPC_MSG_ABORT:
        if (!A.in_epoch || h->epoch == A.epoch || h->epoch == 0)
            on_abort(h, p);
        break;
    default:
        revive_log_error("rank %d: unexpected message type %u from the coordinator", A.world_rank,
                         h->type);
        return -EPROTO;
    }
    return 0;
}

uint32_t snapc_agent_epoch(void)
{
    return A.epoch;
}

int snapc_agent_poll_abort(void)
{
    if (A.aborted)
        return 1;
    int fd = atomic_load(&A.fd);
    if (fd < 0 || !snapc_agent_is_agent_thread())
        return 0;
    int r = snapc_reader_feed(fd, &A.rd);
    if (r < 0) {
        A.aborted = 1; /* the coordinator is gone: nobody will commit this epoch */
        return 1;
    }
    if (r == 1 && A.rd.hdr.type == SNAPC_MSG_ABORT) {
        char why[512];
        snapc_wire_str(why, sizeof why, (const char *)A.rd.buf, A.rd.hdr.len);
        revive_log_info("rank %d: no checkpoint: %s", A.world_rank, why);
        snapc_reader_next(&A.rd);
        A.aborted = 1;
        return 1;
    }
    return 0; /* any other frame waits in the reader for the main loop */
}

/* ---- restart ---- */

static void after_restart(void)
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
    if (A.ops.resume)
        A.ops.resume(A.ops.arg, SNAPC_RESUME_RESTARTED);
    if (atomic_load(&A.fd) < 0)
        set_disconnected();
    epoch_ended(1, 1, 0, 0);
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

/* ---- the thread ---- */

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
    A.req_pending = 0;
    pthread_mutex_unlock(&A.lock);
    for (int i = 0; i < nr; i++)
        if (A.in_epoch)
            send_frame(SNAPC_MSG_RAISE, &rs[i], sizeof rs[i], NULL, 0);
    if (req) {
        struct snapc_request q = {.collective = (uint32_t)coll, .world_seq = rseq};
        send_frame(SNAPC_MSG_REQUEST, &q, sizeof q, NULL, 0);
    }
}

static void *agent_main(void *unused)
{
    (void)unused;
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
            set_disconnected(); /* nobody answers waiters any more */
            break;
        }
        if (efd >= 0 && (pf[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(efd, &v, sizeof v);
            (void)n;
            flush_outgoing();
            report_state(0);
            fin_check();
        }
        if (fd < 0)
            continue;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            for (;;) {
                int got = snapc_reader_feed(fd, &A.rd);
                if (got == 0)
                    break;
                if (got < 0 || on_frame() < 0) {
                    if (got < 0)
                        revive_log_warn("rank %d: lost the connection to the job's coordinator "
                                        "(%s); no further checkpoints of this job",
                                        A.world_rank, A.rd.err);
                    abort_epoch();
                    if (atomic_load(&A.fd) == fd) {
                        atomic_store(&A.fd, -1);
                        close(fd);
                    }
                    set_disconnected();
                    break;
                }
                if (!A.rd_consumed)
                    snapc_reader_next(&A.rd);
                A.rd_consumed = 0;
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
    pthread_setname_np(A.thread, "revive-agent");
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

int snapc_agent_request(int collective, uint64_t world_seq)
{
    if (!atomic_load(&A.running) || atomic_load(&A.fd) < 0)
        return -ENOTCONN;
    pthread_mutex_lock(&A.lock);
    int drc, dre;
    if (collective && decide(world_seq, &drc, &dre, NULL)) {
        /* an epoch that ended already answers it (see decide): nothing to ask */
        A.req_gen = A.end_gen;
        pthread_mutex_unlock(&A.lock);
        return 0;
    }
    if (!A.req_pending || world_seq > A.req_seq)
        A.req_seq = world_seq;
    A.req_pending = 1;
    A.req_collective |= collective ? 1 : 0;
    A.req_gen = A.end_gen;
    if (collective)
        A.req_captures = A.captures;
    pthread_mutex_unlock(&A.lock);
    snapc_agent_notify();
    return 0;
}

/* MPIX_Checkpoint's wait for the commit of the snapshot that answered it (node-local first:
 * its epoch ended at "recovered"). The wait is outside MPI (the call counted itself as a
 * collective already), so the agents go on staging, and a request that comes meanwhile (a
 * ckpt-mpirun, the interval timer) waits in the coordinator's queue until the outcome: nothing
 * needs these ranks before it. The outcome always comes: committed, or failed (a copy failed,
 * a rank died, the coordinator's staging bound); a lost coordinator ends the wait too. Called
 * with A.lock held. 0, -EIO (not committed: rank 0 says so), or -ETIMEDOUT. */
static int wait_commit(uint64_t seq, int64_t deadline)
{
    if (A.world_rank == 0)
        revive_log_info("rank 0: MPIX_Checkpoint waits until snapshot sequence %llu is copied "
                        "to the snapshot directory and committed",
                        (unsigned long long)seq);
    else
        revive_log_info("rank %d: MPIX_Checkpoint waits for the commit of sequence %llu",
                        A.world_rank, (unsigned long long)seq);
    for (;;) {
        int committed;
        if (outcome_find(seq, &committed)) {
            if (committed)
                return 0;
            if (A.world_rank == 0)
                revive_log_warn("MPIX_Checkpoint: snapshot sequence %llu was taken but not "
                                "committed: its images could not all be copied to the snapshot "
                                "directory (the coordinator's 'checkpoint %llu is not committed' "
                                "says why); earlier snapshots are intact, the job goes on",
                                (unsigned long long)seq, (unsigned long long)seq);
            return -EIO;
        }
        if (A.disconnected) {
            if (A.world_rank == 0)
                revive_log_warn("MPIX_Checkpoint: the job's coordinator went away before "
                                "snapshot sequence %llu was committed; no further checkpoints "
                                "of this job", (unsigned long long)seq);
            return -EIO;
        }
        if (revive_mono_ms() >= deadline)
            return -ETIMEDOUT;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&A.cond, &A.lock, &ts);
    }
}

int snapc_agent_wait_epoch(uint64_t world_seq, int *restarted)
{
    if (restarted)
        *restarted = 0;
    if (!atomic_load(&A.running))
        return -ENOTCONN;
    int64_t deadline = revive_mono_ms() + 24LL * 3600 * 1000;
    int rc, re = 0, undecided = 0;
    struct cut_rec by;
    memset(&by, 0, sizeof by);
    pthread_mutex_lock(&A.lock);
    uint64_t gen = A.req_gen;
    for (;;) {
        if (decide(world_seq, &rc, &re, &by))
            break;
        if (A.end_gen > gen) {
            gen = A.end_gen;
            if (A.end_refused) {
                rc = -ECANCELED; /* our request was refused (the reason is logged) */
                break;
            }
            /* one rank: the epoch answers unless its capture began before the call (a tool's
             * epoch past its capture when the call came: its snapshot does not hold the call,
             * so a restart from it would not come back inside it), then ask again */
            if (A.world_size == 1 &&
                !(A.end_rec.capture && A.end_rec.capture <= A.req_captures)) {
                rc = A.end_committed ? 0 : -ECANCELED;
                re = A.end_restarted;
                by = A.end_rec;
                break;
            }
            /* an epoch that ended before its targets (or with a cut below this call): the
             * coordinator forgot the requests it had; ask again, a few times */
            if (++undecided > 3) {
                rc = -ECANCELED;
                break;
            }
            if (!A.req_pending || world_seq > A.req_seq)
                A.req_seq = world_seq;
            A.req_pending = 1;
            A.req_collective = 1;
            pthread_mutex_unlock(&A.lock);
            snapc_agent_notify();
            pthread_mutex_lock(&A.lock);
            continue;
        }
        if (A.disconnected) {
            rc = -ENOTCONN;
            break;
        }
        if (revive_mono_ms() >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&A.cond, &A.lock, &ts);
    }
    /* node-local first: the snapshot is in the nodes' caches; the call returns once it is
     * committed, unless the job runs with --ckpt-no-wait-stage. Never in a restarted job: its
     * snapshot was committed (it restarted from it). */
    if (rc == 0 && !re && by.staging && !by.nowait)
        rc = wait_commit(by.seq, deadline);
    if (rc != -ENOTCONN && !re && by.prior_fail) {
        /* --ckpt-no-wait-stage: an earlier call returned before its snapshot's copy, which
         * failed since; this call says so (every rank: the same epoch answers it) */
        if (A.world_rank == 0)
            revive_log_warn("MPIX_Checkpoint: snapshot sequence %llu was not committed: its "
                            "images could not all be copied to the snapshot directory (the "
                            "coordinator's 'checkpoint %llu is not committed' says why; the "
                            "MPIX_Checkpoint that took it returned before the copy, "
                            "--ckpt-no-wait-stage); earlier snapshots are intact",
                            (unsigned long long)(by.prior_fail - 1),
                            (unsigned long long)(by.prior_fail - 1));
        if (rc == 0)
            rc = -EREMOTEIO;
    }
    pthread_mutex_unlock(&A.lock);
    if (restarted)
        *restarted = re;
    return rc;
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

/* How long MPI_Finalize waits at most for a staging sequence's outcome: REVIVE_FINALIZE_WAIT
 * seconds, else a little more than the coordinator's own bound on staging (its capture
 * timeout, 1800 s by default), which ends the sequence one way or the other before. */
#define AGENT_FINALIZE_WAIT_S 1900
#define AGENT_FINALIZE_LOOK_MS 10000

int snapc_agent_finalize_wait(void)
{
    if (!atomic_load(&A.running) || snapc_agent_is_agent_thread())
        return 0;
    const char *w = getenv("REVIVE_FINALIZE_WAIT");
    int64_t bound_s = w && *w && atoll(w) >= 0 ? atoll(w) : AGENT_FINALIZE_WAIT_S;
    int64_t t0 = revive_mono_ms(), deadline = t0 + bound_s * 1000;
    pthread_mutex_lock(&A.lock);
    atomic_store(&A.fin_wait, 1);
    int pending = A.outcome_pending;
    uint64_t seq = A.outcome_seq;
    pthread_mutex_unlock(&A.lock);
    if (pending)
        revive_log_info("rank %d: MPI_Finalize waits until snapshot sequence %llu is copied to "
                        "shared storage and committed (or fails)",
                        A.world_rank, (unsigned long long)seq);
    snapc_agent_notify(); /* the agent thread looks (fin_check) */
    int rc = 0;
    int64_t seen = t0; /* when an outcome was last pending */
    pthread_mutex_lock(&A.lock);
    while (!A.fin_done) {
        if (A.disconnected) {
            rc = -ENOTCONN;
            break;
        }
        /* nothing pending: only the agent thread's look (and a drop) is waited for */
        int64_t now = revive_mono_ms();
        if (A.outcome_pending)
            seen = now;
        if (now >= (A.outcome_pending ? deadline : seen + AGENT_FINALIZE_LOOK_MS)) {
            rc = -ETIMEDOUT;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&A.cond, &A.lock, &ts);
    }
    pending = A.outcome_pending;
    seq = A.outcome_seq;
    uint64_t unreported = A.unreported_fail;
    A.unreported_fail = 0;
    pthread_mutex_unlock(&A.lock);
    if (unreported && A.world_rank == 0)
        /* --ckpt-no-wait-stage: no MPIX_Checkpoint came after to say it */
        revive_log_warn("snapshot sequence %llu was not committed: its images could not all be "
                        "copied to the snapshot directory (the coordinator's 'checkpoint %llu is "
                        "not committed' says why; the MPIX_Checkpoint that took it returned "
                        "before the copy, --ckpt-no-wait-stage); earlier snapshots are intact",
                        (unsigned long long)(unreported - 1), (unsigned long long)(unreported - 1));
    if (rc == -ETIMEDOUT && pending)
        revive_log_warn("rank %d: MPI_Finalize returns after %lld s without the outcome of "
                        "snapshot sequence %llu (still being copied to shared storage): it may "
                        "not be committed, and this node's cached images of it stay "
                        "(REVIVE_FINALIZE_WAIT=SECONDS sets this bound)",
                        A.world_rank, (long long)((revive_mono_ms() - t0) / 1000),
                        (unsigned long long)seq);
    return rc == -ENOTCONN && !pending ? 0 : rc;
}

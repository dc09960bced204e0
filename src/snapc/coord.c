/* The job's coordinator (see coord.h): one poll loop over the launcher child's
 * signals, the tools' Unix socket, the ranks' TCP connections and the timers;
 * the protocol decisions are proto.c's, the files filem's. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/coord.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "filem/filem.h"
#include "snapc/proto.h"
#include "snapc/util.h"
#include "snapc/wire.h"

#define MAX_CONNS 8192
#define HELLO_TIMEOUT_MS 10000
#define SEND_TIMEOUT_MS 10000
#define TOOL_MAX_PAYLOAD 4096
#define RANK_MAX_PAYLOAD SNAPC_WIRE_MAX_PAYLOAD
#define PENDING_MAX_PAYLOAD 4096
#define EXIT_GRACE_MS 5000

enum conn_kind { C_FREE, C_PENDING, C_RANK, C_TOOL };

struct conn {
    int kind;
    int fd;
    int rank;               /* C_RANK */
    struct snapc_reader rd;
    int64_t t_accept;
    char peer[96];          /* "ip:port" or "tool pid N" */
    /* C_RANK */
    char host[64];
    char flavor[16];
    uint32_t pid;
    int64_t restarted_seq;
    char *info;             /* INFO text */
    /* C_TOOL */
    uint32_t foreign_uid;   /* uid + 1 of a peer that is not the job's user: refused */
    uint32_t tool_flags;
    int asked;              /* sent a CKPT request */
    int done_deferred;      /* --term: DONE waits for the job's end */
    int32_t done_status;
    char done_text[512];
    uint64_t done_seq;
};

static struct {
    const struct snapc_coord_cfg *cfg;
    struct snapc_proto p;
    struct conn *c;
    int nc;
    int *rank_conn;          /* rank -> conn index, -1 */
    int nrank_conn;
    int sfd, ufd, tfd;       /* signalfd, unix listener, tcp listener */
    char sock_path[PATH_MAX];
    char coord_addr[128];
    char secret[SNAPC_SECRET_HEX + 1];
    pid_t child;
    int child_status;        /* wait status once reaped */
    int child_done;
    int64_t child_done_ms;
    int64_t term_kill_at;    /* SIGKILL the launcher then (ms), 0 none */
    int64_t next_tick;       /* interval timer (ms), 0 none */
    char base[PATH_MAX];     /* base snapshot directory */
    char jobdir[PATH_MAX];
    int jobdir_ok;
    char seqdir[PATH_MAX];   /* of the current epoch */
    int64_t wall_start;      /* wall ms of the epoch's start */
    int64_t mono_start;
    /* restart mode */
    int restart_lock;        /* shared lock on the sequence restarted from */
    int recovered;           /* every rank said HELLO after the restart */
    int64_t parent_seq;
    char parent_jobdir[PATH_MAX];
    int term_pending;        /* an epoch with --term committed: the job is ending */
} S = {.sfd = -1, .ufd = -1, .tfd = -1, .restart_lock = -1, .parent_seq = -1};

/* Fault points fire from epoch REVIVE_FAULT_EPOCH on (default 1): a test can take good
 * snapshots first, then see a failure leave them intact. */
static uint32_t fault_epoch = 1;

static int coord_fault(enum revive_fault_point p)
{
    return S.p.epoch >= fault_epoch && revive_fault(p);
}

/* ---- connections ---- */

static int conn_new(int fd, int kind)
{
    int i;
    for (i = 0; i < S.nc; i++)
        if (S.c[i].kind == C_FREE)
            break;
    if (i == S.nc) {
        if (S.nc == MAX_CONNS)
            return -1;
        struct conn *nc = realloc(S.c, (size_t)(S.nc + 16) * sizeof *nc);
        if (!nc)
            return -1;
        S.c = nc;
        memset(&S.c[S.nc], 0, 16 * sizeof *nc);
        S.nc += 16;
    }
    struct conn *c = &S.c[i];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->fd = fd;
    c->rank = -1;
    c->t_accept = snapc_mono_ms();
    /* until a rank proved the secret, it may send a HELLO and nothing larger */
    snapc_reader_init(&c->rd, kind == C_TOOL ? TOOL_MAX_PAYLOAD : PENDING_MAX_PAYLOAD);
    return i;
}

static void feed(struct snapc_event *ev);

static void conn_close(int i)
{
    struct conn *c = &S.c[i];
    if (c->kind == C_FREE)
        return;
    int kind = c->kind, rank = c->rank;
    close(c->fd);
    snapc_reader_free(&c->rd);
    free(c->info);
    c->info = NULL;
    c->kind = C_FREE;
    c->fd = -1;
    if (kind == C_RANK && rank >= 0 && rank < S.nrank_conn && S.rank_conn[rank] == i) {
        S.rank_conn[rank] = -1;
        struct snapc_event ev = {.type = SNAPC_EV_GONE, .rank = rank};
        feed(&ev);
    }
    if (kind == C_TOOL) {
        struct snapc_event ev = {.type = SNAPC_EV_CANCEL};
        ev.u.req.client = i;
        feed(&ev);
    }
}

static int conn_send(int i, uint16_t type, const void *p, uint32_t len, const void *tail,
                     uint32_t tlen)
{
    struct conn *c = &S.c[i];
    if (c->kind == C_FREE)
        return -EBADF;
    int e = snapc_wire_send(c->fd, type, S.p.epoch, p, len, tail, tlen, SEND_TIMEOUT_MS);
    if (e < 0)
        revive_log_info("cannot send to %s: %s", c->peer, strerror(-e));
    return e;
}

/* To every live rank (or one). */
static void send_ranks(int rank, uint16_t type, const void *p, uint32_t len, const void *tail,
                       uint32_t tlen)
{
    for (int r = 0; r < S.nrank_conn; r++) {
        if (rank >= 0 && r != rank)
            continue;
        int i = S.rank_conn[r];
        if (i >= 0 && conn_send(i, type, p, len, tail, tlen) < 0)
            conn_close(i); /* GONE: the epoch aborts */
    }
}

/* ---- events and actions ---- */

static int64_t now_ms(void)
{
    return snapc_mono_ms();
}

static int in_action_loop;
static void run_actions(void);

static void feed(struct snapc_event *ev)
{
    ev->now_ms = now_ms();
    if (snapc_proto_event(&S.p, ev) < 0) {
        revive_log_error("out of memory in the coordinator");
        return;
    }
    if (!in_action_loop)
        run_actions();
}

static void local_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void local_fail(int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct snapc_event ev = {.type = SNAPC_EV_LOCAL_FAIL};
    ev.u.done.status = status;
    ev.u.done.msg = msg;
    feed(&ev);
}

static int ensure_jobdir(char *err, size_t errlen)
{
    if (S.jobdir_ok)
        return 0;
    int e = filem_private_dir(S.jobdir, 1, err, errlen);
    if (e < 0)
        return e;
    S.jobdir_ok = 1;
    return 0;
}

static void act_ckpt(const struct snapc_action *a)
{
    char err[512];
    filem_faults_enable(S.p.epoch >= fault_epoch);
    S.wall_start = snapc_wall_ms();
    S.mono_start = now_ms();
    int e = ensure_jobdir(err, sizeof err);
    if (e == 0 && coord_fault(REVIVE_FAULT_snapc_seq_dir)) {
        e = -EIO;
        snapc_fmt(err, sizeof err, "cannot create the sequence directory (fault point snapc-seq-dir)");
    }
    if (e == 0) {
        filem_trash_clean(S.jobdir); /* what late writers of a failed attempt kept */
        e = filem_seq_create(S.jobdir, a->seq, err, sizeof err);
    }
    if (e < 0) {
        S.seqdir[0] = 0;
        local_fail(e, "%s", err);
        return;
    }
    filem_seq_path(S.seqdir, sizeof S.seqdir, S.jobdir, a->seq);
    revive_log_info("checkpoint %llu of the job (epoch %u) into %s", (unsigned long long)a->seq,
                    S.p.epoch, S.seqdir);
    struct snapc_ckpt c = {.seq = a->seq, .flags = a->arg, .timeout_ms = S.p.timeout_s * 1000};
    send_ranks(-1, SNAPC_MSG_CKPT, &c, sizeof c, S.seqdir, (uint32_t)strlen(S.seqdir));
}

static void act_targets(void)
{
    if (S.p.version == 1 && coord_fault(REVIVE_FAULT_snapc_targets)) {
        local_fail(-EIO, "the coordinator failed before sending the targets (fault point "
                         "snapc-targets)");
        return;
    }
    struct snapc_table t = {.version = S.p.version, .n = (uint32_t)S.p.ntargets};
    send_ranks(-1, SNAPC_MSG_TARGETS, &t, sizeof t, S.p.targets,
               (uint32_t)S.p.ntargets * (uint32_t)sizeof(struct snapc_seq));
}

static void act_quiesce(void)
{
    if (coord_fault(REVIVE_FAULT_snapc_quiesce)) {
        local_fail(-EIO, "the coordinator failed before closing the gates (fault point "
                         "snapc-quiesce)");
        return;
    }
    struct snapc_quiesce q = {.timeout_ms = S.p.timeout_s * 1000};
    send_ranks(-1, SNAPC_MSG_QUIESCE, &q, sizeof q, NULL, 0);
}

/* ---- metadata ---- */

static void put_time(struct filem_meta *m, const char *key, int phase)
{
    if (!S.p.t_phase[phase])
        return;
    char t[32];
    snapc_wall_str(t, sizeof t, S.wall_start + (S.p.t_phase[phase] - S.mono_start));
    filem_meta_set(m, key, "%s", t);
}

/* Copies "key value" lines of a rank's INFO under rank.<r>.<key>. */
static void put_info(struct filem_meta *m, int r, const char *info)
{
    const char *s = info;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t ll = nl ? (size_t)(nl - s) : strlen(s);
        const char *sp = memchr(s, ' ', ll);
        if (sp && sp > s && sp - s < 64) {
            char key[96];
            snprintf(key, sizeof key, "rank.%d.%.*s", r, (int)(sp - s), s);
            filem_meta_set(m, key, "%.*s", (int)(ll - (size_t)(sp - s) - 1), sp + 1);
        }
        s = nl ? nl + 1 : NULL;
    }
}

static int build_meta(struct filem_meta *m, char *err, size_t errlen)
{
    const struct snapc_coord_cfg *cfg = S.cfg;
    filem_meta_init(m);
    filem_meta_set(m, "format", "1");
    filem_meta_set(m, "revive_version", "%s", PACKAGE_VERSION);
    filem_meta_set(m, "seq", "%llu", (unsigned long long)S.p.seq);
    filem_meta_set(m, "epoch", "%u", S.p.epoch);
    filem_meta_set(m, "job_id", "%d", (int)getpid());
    filem_meta_set(m, "reference", "%s", S.seqdir);
    filem_meta_set(m, "state", "committed");
    if (S.parent_seq >= 0) {
        filem_meta_set(m, "parent.jobdir", "%s", S.parent_jobdir);
        filem_meta_set(m, "parent.seq", "%lld", (long long)S.parent_seq);
    }
    static const char *const tk[SNAPC_PHASE_COUNT] = {
        [SNAPC_PHASE_REQUESTED] = "time.requested", [SNAPC_PHASE_PENDING] = "time.pending",
        [SNAPC_PHASE_RUNNING] = "time.running",     [SNAPC_PHASE_QUIESCED] = "time.quiesced",
        [SNAPC_PHASE_DRAINED] = "time.drained",     [SNAPC_PHASE_CAPTURED] = "time.captured",
    };
    for (int ph = 0; ph < SNAPC_PHASE_COUNT; ph++)
        if (tk[ph])
            put_time(m, tk[ph], ph);
    char t[32];
    snapc_wall_str(t, sizeof t, snapc_wall_ms());
    filem_meta_set(m, "time.established", "%s", t);
    filem_meta_set(m, "timeout_s", "%u", S.p.timeout_s);
    filem_meta_set(m, "ckpt.interval_s", "%d", cfg->interval_s);
    filem_meta_set(m, "ckpt.keep", "%d", cfg->keep);
    filem_meta_set(m, "raises", "%u", S.p.raises);
    filem_meta_set(m, "ranks", "%d", S.p.nranks);
    /* launcher and application */
    filem_meta_set(m, "launcher.flavor", "%s", cfg->flavor ? cfg->flavor : "?");
    if (cfg->launcher)
        filem_meta_set(m, "launcher.path", "%s", cfg->launcher);
    filem_meta_set(m, "launcher.argc", "%d", cfg->nuser_args);
    for (int i = 0; i < cfg->nuser_args; i++) {
        char k[48];
        snprintf(k, sizeof k, "launcher.arg.%d", i);
        filem_meta_set(m, k, "%s", cfg->user_args[i]);
    }
    struct snapc_sbuf pb = {0};
    for (int i = 0; i < cfg->nprogs; i++)
        snapc_sb_printf(&pb, "%s%d", i ? "," : "", cfg->progs[i]);
    filem_meta_set(m, "launcher.progs", "%s", pb.p ? pb.p : "");
    snapc_sb_free(&pb);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd))
        filem_meta_set(m, "cwd", "%s", cwd);
    filem_meta_set(m, "env_filter", "the lower half gets the new launcher's environment; the "
                                    "application keeps its own (restored with its memory)");
    if (cfg->nprogs > 0 && cfg->progs[0] < cfg->nuser_args) {
        struct snapc_sbuf ab = {0};
        for (int i = cfg->progs[0]; i < cfg->nuser_args && strcmp(cfg->user_args[i], ":"); i++)
            snapc_sb_printf(&ab, "%s%s", i > cfg->progs[0] ? " " : "", cfg->user_args[i]);
        filem_meta_set(m, "app.argv", "%s", ab.p ? ab.p : "");
        snapc_sb_free(&ab);
    }
    /* per rank */
    uint64_t total = 0;
    struct snapc_sbuf hosts = {0};
    for (int r = 0; r < S.p.nranks; r++) {
        const struct snapc_rank_rec *rr = &S.p.r[r];
        int i = r < S.nrank_conn ? S.rank_conn[r] : -1;
        char k[64];
#define RK(name) (snprintf(k, sizeof k, "rank.%d." name, r), k)
        filem_meta_set(m, RK("image"), "rank_%d.img", r);
        filem_meta_set(m, RK("size"), "%llu", (unsigned long long)rr->bytes);
        filem_meta_set(m, RK("checksum"), "0x%016" PRIx64, rr->checksum);
        filem_meta_set(m, RK("sent"), "%llu", (unsigned long long)rr->drain.sent);
        filem_meta_set(m, RK("received"), "%llu", (unsigned long long)rr->drain.received);
        filem_meta_set(m, RK("drained_msgs"), "%llu", (unsigned long long)rr->drain.drained_msgs);
        filem_meta_set(m, RK("drained_bytes"), "%llu", (unsigned long long)rr->drain.drained_bytes);
        filem_meta_set(m, RK("pending_recvs"), "%llu", (unsigned long long)rr->drain.pending_recvs);
        filem_meta_set(m, RK("nbc_completed"), "%llu", (unsigned long long)rr->drain.nbc_completed);
        if (i >= 0) {
            filem_meta_set(m, RK("host"), "%s", S.c[i].host);
            filem_meta_set(m, RK("pid"), "%u", S.c[i].pid);
            if (S.c[i].info)
                put_info(m, r, S.c[i].info);
            if (!strstr(hosts.p ? hosts.p : "", S.c[i].host))
                snapc_sb_printf(&hosts, "%s%s", hosts.len ? "," : "", S.c[i].host);
        }
#undef RK
        total += rr->bytes;
    }
    filem_meta_set(m, "bytes", "%llu", (unsigned long long)total);
    filem_meta_set(m, "hosts", "%s", hosts.p ? hosts.p : "");
    snapc_sb_free(&hosts);
    /* the application binary and the MPI library, as the ranks ran them */
    const char *exe = filem_meta_get(m, "rank.0.exe");
    struct filem_file_facts f;
    char e2[512];
    if (exe && filem_file_facts(exe, &f, e2, sizeof e2) == 0)
        filem_meta_put_facts(m, "app", &f);
    const char *lib = filem_meta_get(m, "rank.0.mpi_library");
    if (lib && filem_file_facts(lib, &f, e2, sizeof e2) == 0)
        filem_meta_put_facts(m, "mpi", &f);
    (void)err;
    (void)errlen;
    return 0;
}

/* Every image is there, of the size its rank reported, and opens with the
 * reported header checksum (the pages' checksums are checked when read). */
static int check_images(char *err, size_t errlen)
{
    for (int r = 0; r < S.p.nranks; r++) {
        char path[PATH_MAX], e2[512];
        filem_image_path(path, sizeof path, S.jobdir, S.p.seq, r);
        struct stat st;
        if (lstat(path, &st) == 0 &&
            (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))) {
            snapc_fmt(err, errlen,
                      "rank %d's image %s is not private (uid %u, mode %04o; Revive writes 0600 "
                      "files of the job's user)",
                      r, path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
            return -EPERM;
        }
        uint64_t sum, size;
        int e = filem_image_checksum(path, &sum, &size, e2, sizeof e2);
        if (e == -ENOENT) {
            snapc_fmt(err, errlen,
                     "rank %d's image %s is not visible from the coordinator's host (snapshot "
                     "directories must be on storage every host shares)",
                     r, path);
            return e;
        }
        if (e < 0) {
            snapc_fmt(err, errlen, "rank %d's image is unusable: %s", r, e2);
            return e;
        }
        if (size != S.p.r[r].bytes || sum != S.p.r[r].checksum) {
            snapc_fmt(err, errlen,
                     "rank %d's image %s is not what the rank reported (%llu bytes, checksum "
                     "%016" PRIx64 "; reported %llu, %016" PRIx64 ")",
                     r, path, (unsigned long long)size, sum,
                     (unsigned long long)S.p.r[r].bytes, S.p.r[r].checksum);
            return -EBADMSG;
        }
    }
    return 0;
}

static void act_commit(void)
{
    char err[512];
    struct snapc_event ev = {.type = SNAPC_EV_COMMITTED};
    if (coord_fault(REVIVE_FAULT_snapc_captured)) {
        ev.u.done.status = -EIO;
        ev.u.done.msg = "the coordinator failed before writing the metadata (fault point "
                        "snapc-captured)";
        feed(&ev);
        return;
    }
    int e = check_images(err, sizeof err);
    struct filem_meta m;
    filem_meta_init(&m);
    if (e == 0)
        e = build_meta(&m, err, sizeof err);
    if (e == 0)
        e = filem_meta_write(S.seqdir, &m, err, sizeof err);
    filem_meta_free(&m);
    ev.u.done.status = e;
    ev.u.done.msg = err;
    feed(&ev);
    if (e < 0)
        return;
    /* after the commit: the index and retention never undo it */
    if (filem_index_update(S.jobdir, err, sizeof err) < 0)
        revive_log_warn("the snapshot is committed, but the index was not updated: %s", err);
    if (S.cfg->keep > 0) {
        int removed, skipped;
        if (filem_retain(S.jobdir, S.cfg->keep, -1, &removed, &skipped, err, sizeof err) < 0)
            revive_log_warn("retention: %s", err);
        if (removed && filem_index_update(S.jobdir, err, sizeof err) < 0)
            revive_log_warn("the index was not updated after retention: %s", err);
    }
}

/* The summary a tool gets (JSON). */
static void summary(struct snapc_sbuf *b, int status, const char *text)
{
    const struct snapc_proto *p = &S.p;
    uint64_t bytes = 0;
    for (int r = 0; r < p->nranks; r++)
        bytes += p->r[r].bytes;
    int64_t t0 = p->t_phase[SNAPC_PHASE_REQUESTED];
#define PH(x) (p->t_phase[x] ? (long long)(p->t_phase[x] - t0) : -1LL)
    snapc_sb_printf(b, "{\"status\":%s,\"seq\":%llu,\"epoch\":%u,\"ranks\":%d",
                    status == 0 ? "\"committed\"" : "\"no checkpoint\"", (unsigned long long)p->seq,
                    p->epoch, p->nranks);
    if (status == 0) {
        snapc_sb_printf(b, ",\"reference\":");
        snapc_sb_json_str(b, S.seqdir);
        snapc_sb_printf(b, ",\"bytes\":%llu,\"raises\":%u", (unsigned long long)bytes, p->raises);
        snapc_sb_printf(b,
                        ",\"ms\":{\"targets\":%lld,\"converged\":%lld,\"quiesced\":%lld,"
                        "\"drained\":%lld,\"captured\":%lld,\"established\":%lld,"
                        "\"recovered\":%lld}",
                        PH(SNAPC_PHASE_PENDING), p->t_phase[SNAPC_PHASE_QUIESCED] ? PH(SNAPC_PHASE_QUIESCED) : -1LL,
                        PH(SNAPC_PHASE_QUIESCED), PH(SNAPC_PHASE_DRAINED), PH(SNAPC_PHASE_CAPTURED),
                        PH(SNAPC_PHASE_ESTABLISHED), PH(SNAPC_PHASE_RECOVERED));
    } else {
        snapc_sb_printf(b, ",\"error\":");
        snapc_sb_json_str(b, text);
        snapc_sb_printf(b, ",\"errno\":%d", -status);
    }
    snapc_sb_printf(b, "}");
#undef PH
}

static void send_done(int client, int status, const char *text, int epoch_summary)
{
    if (client < 0 || client >= S.nc || S.c[client].kind != C_TOOL)
        return;
    struct snapc_sbuf b = {0};
    if (epoch_summary)
        summary(&b, status, text);
    else {
        snapc_sb_printf(&b, "{\"status\":\"refused\",\"error\":");
        snapc_sb_json_str(&b, text);
        snapc_sb_printf(&b, ",\"errno\":%d}", -status);
    }
    const char *ref = status == 0 ? S.seqdir : "";
    struct snapc_tool_done d = {.status = status, .ref_len = (uint32_t)strlen(ref), .seq = S.p.seq};
    struct snapc_sbuf tail = {0};
    snapc_sb_printf(&tail, "%s%s", ref, b.p ? b.p : "{}");
    conn_send(client, SNAPC_TOOL_DONE, &d, sizeof d, tail.p, (uint32_t)tail.len);
    snapc_sb_free(&b);
    snapc_sb_free(&tail);
    conn_close(client);
}

static void act_done(const struct snapc_action *a)
{
    int i = a->client;
    if (i < 0 || i >= S.nc || S.c[i].kind != C_TOOL)
        return;
    if (a->status == 0 && S.term_pending && !S.child_done) {
        /* --term: the tool hears once the job has ended */
        S.c[i].done_deferred = 1;
        S.c[i].done_status = a->status;
        S.c[i].done_seq = a->seq;
        return;
    }
    send_done(i, a->status, a->text, 1);
}

static void act_progress(const struct snapc_action *a)
{
    int64_t t = S.p.t_phase[a->arg] - S.p.t_phase[SNAPC_PHASE_REQUESTED];
    revive_log_info("checkpoint %llu: %s (%lld ms)", (unsigned long long)S.p.seq, a->text,
                    (long long)t);
    char line[sizeof a->text];
    snapc_fmt(line, sizeof line, "%s", a->text);
    for (int i = 0; i < S.nc; i++)
        if (S.c[i].kind == C_TOOL && S.c[i].asked && (S.c[i].tool_flags & SNAPC_TOOL_STATUS) &&
            !S.c[i].done_deferred)
            conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
}

static void end_job(void)
{
    S.term_pending = 1;
    if (S.child > 0 && !S.child_done) {
        revive_log_info("ending the job after its checkpoint (SIGTERM to the launcher %d)",
                        (int)S.child);
        kill(S.child, SIGTERM);
        const char *g = getenv("REVIVE_TERM_GRACE");
        int grace = g && *g ? atoi(g) : 10;
        S.term_kill_at = now_ms() + (int64_t)(grace > 0 ? grace : 10) * 1000;
    }
}

static void run_actions(void)
{
    in_action_loop = 1;
    while (S.p.nacts > 0) {
        int n = S.p.nacts;
        struct snapc_action *v = malloc((size_t)n * sizeof *v);
        if (!v) {
            revive_log_error("out of memory in the coordinator");
            S.p.nacts = 0;
            break;
        }
        memcpy(v, S.p.acts, (size_t)n * sizeof *v);
        S.p.nacts = 0;
        for (int k = 0; k < n; k++) {
            const struct snapc_action *a = &v[k];
            switch (a->type) {
            case SNAPC_ACT_CKPT: act_ckpt(a); break;
            case SNAPC_ACT_TARGETS: act_targets(); break;
            case SNAPC_ACT_QUIESCE: act_quiesce(); break;
            case SNAPC_ACT_COMMIT: act_commit(); break;
            case SNAPC_ACT_RESUME: {
                struct snapc_resume r = {.action = a->arg, .committed = 1, .seq = a->seq};
                send_ranks(-1, SNAPC_MSG_RESUME, &r, sizeof r, NULL, 0);
                revive_log_info("checkpoint %llu committed: %s", (unsigned long long)a->seq,
                                S.seqdir);
                break;
            }
            case SNAPC_ACT_ABORT:
                if (a->rank < 0)
                    revive_log_warn("no checkpoint: %s", a->text);
                send_ranks(a->rank, SNAPC_MSG_ABORT, NULL, 0, a->text, (uint32_t)strlen(a->text));
                break;
            case SNAPC_ACT_DISCARD:
                if (S.seqdir[0]) {
                    char err[512];
                    if (filem_seq_discard(S.jobdir, a->seq, err, sizeof err) < 0)
                        revive_log_warn("the failed sequence was not removed: %s", err);
                    S.seqdir[0] = 0;
                }
                break;
            case SNAPC_ACT_PROGRESS: act_progress(a); break;
            case SNAPC_ACT_DONE: act_done(a); break;
            case SNAPC_ACT_REFUSE: send_done(a->client, a->status, a->text, 0); break;
            case SNAPC_ACT_END_JOB: end_job(); break;
            case SNAPC_ACT_DROP_RANK:
                revive_log_warn("%s", a->text);
                if (a->rank >= 0 && a->rank < S.nrank_conn && S.rank_conn[a->rank] >= 0)
                    conn_close(S.rank_conn[a->rank]);
                break;
            }
        }
        free(v);
    }
    in_action_loop = 0;
}

/* ---- incoming frames ---- */

/* Before an epoch may start: the next sequence is past every directory there
 * (a leftover of a crashed attempt keeps its number). */
static void update_next_seq(void)
{
    char err[512];
    uint64_t n;
    if (access(S.jobdir, F_OK) == 0 && filem_next_seq(S.jobdir, &n, err, sizeof err) == 0 &&
        n > S.p.next_seq)
        S.p.next_seq = n;
}

static void rank_hello(int i)
{
    struct conn *c = &S.c[i];
    char err[160];
    if (c->rd.hdr.type != SNAPC_MSG_HELLO || snapc_wire_check(&c->rd.hdr, c->rd.buf, err, sizeof err) < 0) {
        revive_log_warn("a connection from %s did not start with HELLO; closed", c->peer);
        conn_close(i);
        return;
    }
    struct snapc_hello h;
    memcpy(&h, c->rd.buf, sizeof h);
    int ok = snapc_secret_equal(h.secret, S.secret, SNAPC_SECRET_HEX);
    explicit_bzero(c->rd.buf, c->rd.hdr.len);
    if (!ok) {
        revive_log_warn("refused a connection from %s: wrong job secret (not a rank of this job)",
                        c->peer);
        const char *why = "wrong job secret: this connection does not belong to the job";
        snapc_wire_send(c->fd, SNAPC_MSG_REFUSED, 0, NULL, 0, why, (uint32_t)strlen(why), 1000);
        conn_close(i);
        return;
    }
    int rank = (int)h.world_rank;
    if (h.world_size == 0 || h.world_size > (1u << 20) || h.world_rank >= h.world_size ||
        (S.p.nranks && (int)h.world_size != S.p.nranks) ||
        (rank < S.nrank_conn && S.rank_conn[rank] >= 0) ||
        (S.p.nranks && rank < S.p.nranks && S.p.r[rank].hello)) {
        char why[160];
        snapc_fmt(why, sizeof why, "rank %u of %u does not fit this job (%d ranks%s)", h.world_rank,
                 h.world_size, S.p.nranks,
                 rank < S.nrank_conn && S.rank_conn[rank] >= 0 ? ", rank already connected" : "");
        revive_log_warn("refused a rank from %s: %s", c->peer, why);
        snapc_wire_send(c->fd, SNAPC_MSG_REFUSED, 0, NULL, 0, why, (uint32_t)strlen(why), 1000);
        conn_close(i);
        return;
    }
    if (S.nrank_conn == 0) {
        S.rank_conn = malloc(h.world_size * sizeof *S.rank_conn);
        if (!S.rank_conn) {
            conn_close(i);
            return;
        }
        for (uint32_t r = 0; r < h.world_size; r++)
            S.rank_conn[r] = -1;
        S.nrank_conn = (int)h.world_size;
    }
    c->kind = C_RANK;
    c->rank = rank;
    c->rd.max_len = RANK_MAX_PAYLOAD;
    snapc_wire_str(c->host, sizeof c->host, h.host, sizeof h.host);
    snapc_wire_str(c->flavor, sizeof c->flavor, h.flavor, sizeof h.flavor);
    c->pid = h.pid;
    c->restarted_seq = (h.flags & SNAPC_HELLO_RESTARTED) ? h.restarted_seq : -1;
    S.rank_conn[rank] = i;
    struct snapc_welcome w = {.job_id = (uint64_t)getpid(), .world_size = h.world_size};
    if (conn_send(i, SNAPC_MSG_WELCOME, &w, sizeof w, NULL, 0) < 0) {
        S.rank_conn[rank] = -1;
        c->kind = C_PENDING;
        conn_close(i);
        return;
    }
    revive_log_debug("rank %d (pid %u on %s) connected%s", rank, h.pid, c->host,
                     c->restarted_seq >= 0 ? " after a restart" : "");
    struct snapc_event ev = {.type = SNAPC_EV_HELLO, .rank = rank};
    ev.u.hello.world_size = h.world_size;
    feed(&ev);
    if (S.cfg->restart_of && !S.recovered && S.p.nhello == S.p.nranks) {
        S.recovered = 1;
        revive_log_info("every rank of the restarted job is back (Recovered)");
        if (S.restart_lock >= 0) {
            close(S.restart_lock);
            S.restart_lock = -1;
        }
    }
}

static int epoch_bound(int type)
{
    return type == SNAPC_MSG_SEQS || type == SNAPC_MSG_RAISE || type == SNAPC_MSG_QUIESCED ||
           type == SNAPC_MSG_DRAINED || type == SNAPC_MSG_CAPTURED || type == SNAPC_MSG_FAILED;
}

static void rank_frame(int i)
{
    struct conn *c = &S.c[i];
    const struct snapc_hdr *h = &c->rd.hdr;
    const uint8_t *p = c->rd.buf;
    char err[160];
    if (snapc_wire_check(h, p, err, sizeof err) < 0) {
        revive_log_warn("rank %d sent a malformed message (%s); its connection is closed", c->rank,
                        err);
        conn_close(i);
        return;
    }
    if (epoch_bound(h->type) && (S.p.phase == SNAPC_P_IDLE || h->epoch != S.p.epoch))
        return; /* a late message of an epoch that is over */
    struct snapc_event ev = {.rank = c->rank};
    switch (h->type) {
    case SNAPC_MSG_INFO: {
        char *t = malloc(h->len + 1);
        if (t) {
            memcpy(t, p, h->len);
            t[h->len] = 0;
            free(c->info);
            c->info = t;
        }
        return;
    }
    case SNAPC_MSG_SEQS: {
        struct snapc_table t;
        memcpy(&t, p, sizeof t);
        ev.type = SNAPC_EV_SEQS;
        ev.u.seqs.n = (int)t.n;
        struct snapc_seq *tab = t.n ? malloc(t.n * sizeof *tab) : NULL;
        if (t.n && !tab) {
            conn_close(i);
            return;
        }
        if (t.n)
            memcpy(tab, p + sizeof t, t.n * sizeof *tab);
        ev.u.seqs.t = tab;
        feed(&ev);
        free(tab);
        return;
    }
    case SNAPC_MSG_RAISE: {
        struct snapc_raise r;
        memcpy(&r, p, sizeof r);
        ev.type = SNAPC_EV_RAISE;
        ev.u.raise.cid = r.cid;
        ev.u.raise.target = r.target;
        break;
    }
    case SNAPC_MSG_STATE: {
        struct snapc_state_msg s;
        memcpy(&s, p, sizeof s);
        char what[sizeof s.what + 1];
        snapc_wire_str(what, sizeof what, s.what, sizeof s.what);
        ev.type = SNAPC_EV_STATE;
        ev.u.state.version = h->epoch == S.p.epoch ? s.version_seen : 0;
        ev.u.state.at_target = s.at_target;
        ev.u.state.in_cs = s.in_cs;
        ev.u.state.finalizing = s.finalizing;
        ev.u.state.what = what;
        feed(&ev);
        return;
    }
    case SNAPC_MSG_QUIESCED: ev.type = SNAPC_EV_QUIESCED; break;
    case SNAPC_MSG_DRAINED: {
        struct snapc_drained d;
        memcpy(&d, p, sizeof d);
        ev.type = SNAPC_EV_DRAINED;
        memcpy(&ev.u.drained, &d, sizeof d);
        break;
    }
    case SNAPC_MSG_CAPTURED: {
        struct snapc_captured cp;
        memcpy(&cp, p, sizeof cp);
        ev.type = SNAPC_EV_CAPTURED;
        ev.u.captured.bytes = cp.bytes;
        ev.u.captured.checksum = cp.checksum;
        break;
    }
    case SNAPC_MSG_FAILED: {
        struct snapc_failed f;
        memcpy(&f, p, sizeof f);
        char msg[sizeof f.msg + 1];
        snapc_wire_str(msg, sizeof msg, f.msg, sizeof f.msg);
        ev.type = SNAPC_EV_FAILED;
        ev.u.failed.err = f.err;
        ev.u.failed.phase = (int)f.phase;
        ev.u.failed.msg = msg;
        feed(&ev);
        return;
    }
    case SNAPC_MSG_REQUEST: {
        struct snapc_request q;
        memcpy(&q, p, sizeof q);
        ev.type = SNAPC_EV_REQUEST;
        ev.u.req.source = SNAPC_SRC_RANK;
        ev.u.req.collective = (int)q.collective;
        ev.u.req.world_seq = q.world_seq;
        ev.u.req.client = -1;
        if (S.p.phase == SNAPC_P_IDLE)
            update_next_seq();
        break;
    }
    default:
        revive_log_warn("rank %d sent a message of type %u, which ranks do not send; its "
                        "connection is closed",
                        c->rank, h->type);
        conn_close(i);
        return;
    }
    feed(&ev);
}

static void refuse_foreign(int i);

static void tool_frame(int i)
{
    struct conn *c = &S.c[i];
    const struct snapc_hdr *h = &c->rd.hdr;
    char err[160];
    if (c->foreign_uid) {
        refuse_foreign(i);
        return;
    }
    if (snapc_wire_check(h, c->rd.buf, err, sizeof err) < 0) {
        revive_log_info("a tool sent a malformed request (%s); closed", err);
        conn_close(i);
        return;
    }
    if (h->type == SNAPC_TOOL_QUERY) {
        struct snapc_sbuf b = {0};
        snapc_sb_printf(&b, "{\"job_id\":%d,\"launcher_pid\":%d,\"flavor\":", (int)getpid(),
                        (int)S.child);
        snapc_sb_json_str(&b, S.cfg->flavor);
        snapc_sb_printf(&b, ",\"ranks\":%d,\"ready\":%d,\"phase\":", S.p.nranks, S.p.nhello);
        snapc_sb_json_str(&b, S.p.phase == SNAPC_P_IDLE ? "idle" : snapc_phase_name(S.p.job_phase));
        snapc_sb_printf(&b, ",\"epoch\":%u,\"next_seq\":%llu,\"snapshot_dir\":", S.p.epoch,
                        (unsigned long long)S.p.next_seq);
        snapc_sb_json_str(&b, S.jobdir);
        snapc_sb_printf(&b, ",\"interval_s\":%d,\"keep\":%d", S.cfg->interval_s, S.cfg->keep);
        if (S.p.last_error[0]) {
            snapc_sb_printf(&b, ",\"last_error\":");
            snapc_sb_json_str(&b, S.p.last_error);
        }
        snapc_sb_printf(&b, "}");
        conn_send(i, SNAPC_TOOL_INFO, NULL, 0, b.p, (uint32_t)b.len);
        snapc_sb_free(&b);
        conn_close(i);
        return;
    }
    if (h->type != SNAPC_TOOL_CKPT) {
        revive_log_info("a tool sent a message of type %u; closed", h->type);
        conn_close(i);
        return;
    }
    struct snapc_tool_ckpt t;
    memcpy(&t, c->rd.buf, sizeof t);
    c->tool_flags = t.flags;
    c->asked = 1;
    if (S.p.phase == SNAPC_P_IDLE)
        update_next_seq();
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TOOL;
    ev.u.req.client = i;
    ev.u.req.flags = t.flags;
    ev.u.req.timeout_s = t.timeout_s;
    feed(&ev);
    /* --wait --status: say that the request waits (behind an epoch, or for the ranks) */
    if (S.c[i].kind == C_TOOL && (t.flags & SNAPC_TOOL_STATUS))
        for (int k = 0; k < S.p.nnext; k++)
            if (S.p.next_clients[k] == i) {
                char line[160];
                if (S.p.phase != SNAPC_P_IDLE)
                    snapc_fmt(line, sizeof line,
                              "Queued (after the checkpoint in progress, sequence %llu)",
                              (unsigned long long)S.p.seq);
                else
                    snapc_fmt(line, sizeof line, "Queued (the job is starting: %d of %d ranks ready)",
                              S.p.nhello, S.p.nranks);
                conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
                break;
            }
}

static void conn_readable(int i)
{
    for (int rounds = 0; rounds < 64 && S.c[i].kind != C_FREE; rounds++) {
        struct conn *c = &S.c[i];
        int r = snapc_reader_feed(c->fd, &c->rd);
        if (r == 0)
            return;
        if (r < 0) {
            if (r == -EPROTO)
                revive_log_warn("%s%s sent a malformed frame (%s); closed",
                                c->kind == C_RANK ? "rank " : "connection from ",
                                c->kind == C_RANK ? "" : c->peer, c->rd.err);
            else if (c->kind == C_RANK && !S.p.r[c->rank].finalizing && !S.child_done)
                revive_log_info("rank %d's connection closed (%s)", c->rank, c->rd.err);
            conn_close(i);
            return;
        }
        switch (c->kind) {
        case C_PENDING: rank_hello(i); break;
        case C_RANK: rank_frame(i); break;
        case C_TOOL: tool_frame(i); break;
        }
        if (S.c[i].kind != C_FREE)
            snapc_reader_next(&S.c[i].rd);
    }
}

static void accept_tcp(void)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(S.tfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    int i = conn_new(fd, C_PENDING);
    if (i < 0) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char host[64] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snapc_fmt(S.c[i].peer, sizeof S.c[i].peer, "%s:%d", host, port);
}

static void accept_unix(void)
{
    int fd = accept4(S.ufd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    int foreign = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
                  (cr.uid != geteuid() && cr.uid != 0);
    int i = conn_new(fd, C_TOOL);
    if (i < 0) {
        close(fd);
        return;
    }
    snapc_fmt(S.c[i].peer, sizeof S.c[i].peer, "tool pid %d", (int)cr.pid);
    if (foreign) {
        /* refused once its request is read: closing with a request unread would reset the
         * connection, and the tool would not get the answer */
        S.c[i].foreign_uid = cr.uid + 1;
        revive_log_warn("refused a tool connection from uid %u (pid %d): this job belongs to uid %u",
                        (unsigned)cr.uid, (int)cr.pid, (unsigned)geteuid());
    }
}

static void refuse_foreign(int i)
{
    char why[160];
    snapc_fmt(why, sizeof why, "this job belongs to another user (uid %u)", (unsigned)geteuid());
    struct snapc_sbuf b = {0};
    snapc_sb_printf(&b, "{\"status\":\"refused\",\"error\":");
    snapc_sb_json_str(&b, why);
    snapc_sb_printf(&b, ",\"errno\":%d}", EPERM);
    struct snapc_tool_done d = {.status = -EPERM};
    snapc_wire_send(S.c[i].fd, SNAPC_TOOL_DONE, 0, &d, sizeof d, b.p, (uint32_t)b.len, 1000);
    snapc_sb_free(&b);
    conn_close(i);
}

/* ---- set-up ---- */

static int listen_unix(char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snapc_socket_dir(dir, sizeof dir, (unsigned)geteuid());
    int e = filem_private_dir(dir, 1, err, errlen);
    if (e < 0)
        return e;
    if ((size_t)snprintf(S.sock_path, sizeof S.sock_path, "%s/coord.%d", dir, (int)getpid()) >=
        sizeof(((struct sockaddr_un *)0)->sun_path)) {
        snapc_fmt(err, errlen, "the socket path under %s is too long", dir);
        return -ENAMETOOLONG;
    }
    unlink(S.sock_path); /* a stale one of an earlier process with our pid */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        e = -errno;
        snapc_fmt(err, errlen, "cannot create a socket: %s", strerror(-e));
        return e;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, S.sock_path, strlen(S.sock_path) + 1); /* length checked above */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r < 0 || chmod(S.sock_path, 0600) < 0 || listen(fd, 64) < 0) {
        e = -errno;
        snapc_fmt(err, errlen, "cannot listen on %s: %s", S.sock_path, strerror(-e));
        close(fd);
        unlink(S.sock_path);
        S.sock_path[0] = 0;
        return e;
    }
    S.ufd = fd;
    return 0;
}

/* The address the ranks reach us at: $REVIVE_COORD_ADDR, else the first
 * non-loopback IPv4 address of this host, else 127.0.0.1. */
static void pick_addr(char *out, size_t len)
{
    const char *env = getenv("REVIVE_COORD_ADDR");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    snprintf(out, len, "127.0.0.1");
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)len);
        break;
    }
    freeifaddrs(ifa);
}

static int listen_tcp(char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "cannot create a TCP socket: %s", strerror(-e));
        return e;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "cannot listen on TCP: %s", strerror(-e));
        close(fd);
        return e;
    }
    char ip[64];
    pick_addr(ip, sizeof ip);
    snprintf(S.coord_addr, sizeof S.coord_addr, "%s:%d", ip, ntohs(a.sin_port));
    S.tfd = fd;
    return 0;
}

static sigset_t forwarded_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT};
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++)
        sigaddset(&s, sigs[k]);
    return s;
}

static int spawn(char **cmd, const sigset_t *oldmask, char *err, size_t errlen)
{
    char jobid[32];
    snprintf(jobid, sizeof jobid, "%d", (int)getpid());
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "pipe: %s", strerror(-e));
        return e;
    }
    pid_t coord_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(pfd[0]);
        close(pfd[1]);
        snapc_fmt(err, errlen, "cannot start the launcher: %s", strerror(-e));
        return e;
    }
    if (pid == 0) {
        /* the launcher (and with it the ranks) ends when the coordinator is killed */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != coord_pid)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        setenv(SNAPC_ENV_COORD, S.coord_addr, 1);
        setenv(SNAPC_ENV_SECRET, S.secret, 1);
        setenv(SNAPC_ENV_JOB_ID, jobid, 1);
        execvp(cmd[0], cmd);
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    int childerr = 0;
    ssize_t n = read(pfd[0], &childerr, sizeof childerr);
    close(pfd[0]);
    if (n == (ssize_t)sizeof childerr) {
        waitpid(pid, NULL, 0);
        snapc_fmt(err, errlen, "cannot run the launcher %s: %s", cmd[0], strerror(childerr));
        return -childerr;
    }
    S.child = pid;
    return 0;
}

/* ---- the loop ---- */

/* SIGCONT to every rank of this host (launchers do not all pass SIGCONT on). */
static void cont_ranks(void)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (int r = 0; r < S.nrank_conn; r++) {
        int i = S.rank_conn[r];
        if (i >= 0 && strcmp(S.c[i].host, host) == 0 && S.c[i].pid > 1)
            kill((pid_t)S.c[i].pid, SIGCONT);
    }
}

static void on_signal(void)
{
    struct signalfd_siginfo si;
    while (read(S.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                if (p == S.child) {
                    S.child_done = 1;
                    S.child_status = st;
                    S.child_done_ms = now_ms();
                }
            continue;
        }
        /* A terminal's signal (^C) reached the launcher already (same process group). */
        if (si.ssi_code == SI_KERNEL)
            continue;
        if (S.child > 0 && !S.child_done)
            kill(S.child, sig);
        if (sig == SIGCONT)
            cont_ranks(); /* after ckpt-mpirun --stop: the ranks stopped themselves */
    }
}

static int live_rank_conns(void)
{
    int n = 0;
    for (int r = 0; r < S.nrank_conn; r++)
        n += S.rank_conn[r] >= 0;
    return n;
}

/* 1 while pid exists and is not a zombie (a zombie writes nothing). */
static int alive(pid_t pid)
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
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* After the launcher ended: a rank still connected on this host is a stray. */
static void kill_strays(void)
{
    pid_t killed[64];
    int nkilled = 0;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (int r = 0; r < S.nrank_conn; r++) {
        int i = S.rank_conn[r];
        if (i < 0)
            continue;
        if (strcmp(S.c[i].host, host) == 0 && S.c[i].pid > 1) {
            revive_log_warn("rank %d (pid %u) outlived the launcher; killed", r, S.c[i].pid);
            kill((pid_t)S.c[i].pid, SIGKILL);
            killed[nkilled < 64 ? nkilled++ : 63] = (pid_t)S.c[i].pid;
        } else {
            revive_log_warn("rank %d (pid %u on %s) is still connected after the launcher ended",
                            r, S.c[i].pid, S.c[i].host);
        }
    }
    /* gone before the coordinator ends (and before it cleans up after them): at most 5 s */
    for (int t = 0; t < 500 && nkilled > 0; t++) {
        int left = 0;
        for (int k = 0; k < nkilled; k++)
            left += alive(killed[k]);
        if (!left)
            break;
        usleep(10000);
    }
}

static int exit_status(void)
{
    if (WIFEXITED(S.child_status))
        return WEXITSTATUS(S.child_status);
    if (WIFSIGNALED(S.child_status))
        return 128 + WTERMSIG(S.child_status);
    return 1;
}

static void flush_deferred(void)
{
    for (int i = 0; i < S.nc; i++)
        if (S.c[i].kind == C_TOOL && S.c[i].done_deferred) {
            S.c[i].done_deferred = 0;
            send_done(i, S.c[i].done_status, "", 1);
        }
}

int snapc_coord_run(const struct snapc_coord_cfg *cfg)
{
    char err[512];
    S.cfg = cfg;
    snapc_proto_init(&S.p);
    S.p.default_timeout_s = cfg->timeout_s ? cfg->timeout_s : SNAPC_DEFAULT_TIMEOUT_S;
    const char *fe = getenv("REVIVE_FAULT_EPOCH");
    if (fe && atoi(fe) > 0)
        fault_epoch = (uint32_t)atoi(fe);
    filem_faults_enable(0);
    const char *ct = getenv("REVIVE_CAPTURE_TIMEOUT");
    if (ct && atoi(ct) > 0)
        S.p.capture_timeout_s = (uint32_t)atoi(ct);

    /* where snapshots go */
    if (cfg->restart_of) {
        /* a restarted job's snapshots live beside the old ones */
        char ref[PATH_MAX];
        int64_t seq;
        if (filem_resolve_ref(cfg->restart_of, ref, sizeof ref, &seq, err, sizeof err) < 0 || seq < 0) {
            fprintf(stderr, "revive-coord: %s\n", err[0] ? err : "bad --restart-of");
            return 1;
        }
        snprintf(S.parent_jobdir, sizeof S.parent_jobdir, "%s", ref);
        S.parent_seq = seq;
        char *slash = strrchr(ref, '/');
        if (slash)
            *slash = 0;
        snprintf(S.base, sizeof S.base, "%s", slash ? (ref[0] ? ref : "/") : ".");
        S.restart_lock = filem_seq_lock_shared(S.parent_jobdir, (uint64_t)seq);
    } else if (cfg->dir && *cfg->dir) {
        if (!realpath(cfg->dir, S.base)) {
            fprintf(stderr,
                    "revive-coord: the snapshot directory %s: %s; create it or choose another "
                    "(--ckpt-dir, REVIVE_SNAPSHOT_DIR)\n",
                    cfg->dir, strerror(errno));
            return 1;
        }
    } else if (!getcwd(S.base, sizeof S.base)) {
        fprintf(stderr, "revive-coord: cannot tell the current directory: %s\n", strerror(errno));
        return 1;
    }
    struct stat st;
    if (stat(S.base, &st) < 0 || !S_ISDIR(st.st_mode) || access(S.base, W_OK | X_OK) < 0) {
        fprintf(stderr,
                "revive-coord: cannot write snapshots into %s (%s); choose another directory "
                "with --ckpt-dir or REVIVE_SNAPSHOT_DIR\n",
                S.base, !S_ISDIR(st.st_mode) ? "not a directory" : strerror(errno));
        return 1;
    }
    if (filem_job_path(S.jobdir, sizeof S.jobdir, S.base, (long)getpid()) < 0) {
        fprintf(stderr, "revive-coord: the snapshot directory path %s is too long\n", S.base);
        return 1;
    }
    if (snapc_secret_new(S.secret) < 0) {
        fprintf(stderr, "revive-coord: cannot get random bytes for the job's secret: %s\n",
                strerror(errno));
        return 1;
    }
    if (listen_unix(err, sizeof err) < 0 || listen_tcp(err, sizeof err) < 0) {
        fprintf(stderr, "revive-coord: %s\n", err);
        if (S.sock_path[0])
            unlink(S.sock_path);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t set = forwarded_set(), old;
    sigprocmask(SIG_BLOCK, &set, &old);
    S.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (S.sfd < 0 || spawn(cfg->cmd, &old, err, sizeof err) < 0) {
        if (S.sfd < 0)
            snapc_fmt(err, sizeof err, "signalfd: %s", strerror(errno));
        fprintf(stderr, "revive-coord: %s\n", err);
        unlink(S.sock_path);
        return 127;
    }
    revive_log_info("job %d: launcher %d, ranks connect to %s, snapshots in %s", (int)getpid(),
                    (int)S.child, S.coord_addr, S.jobdir);
    if (cfg->interval_s > 0)
        S.next_tick = now_ms() + (int64_t)cfg->interval_s * 1000;

    struct pollfd *pf = NULL;
    int *pidx = NULL;
    int pcap = 0;
    for (;;) {
        int64_t now = now_ms();
        if (S.child_done) {
            if (S.p.phase != SNAPC_P_IDLE)
                local_fail(-ESRCH, "the job ended during the checkpoint");
            if (S.cfg->restart_of && !S.recovered && S.parent_seq >= 0) {
                char e2[512], why[160];
                snapc_fmt(why, sizeof why, "the restarted job ended (status %d) before every rank was back",
                         exit_status());
                revive_log_error("the restart from %s/%lld failed: %s; recorded in its index (a "
                                 "restart-mpi of %s takes an earlier sequence by default)",
                                 S.parent_jobdir, (long long)S.parent_seq, why, S.parent_jobdir);
                if (filem_index_mark_failed(S.parent_jobdir, (uint64_t)S.parent_seq, why, e2, sizeof e2) < 0)
                    revive_log_warn("cannot record the failed restart: %s", e2);
                S.recovered = 1;
            }
            /* --term's tools hear once the ranks are gone too (after the loop) */
            if (live_rank_conns() == 0 || now - S.child_done_ms >= EXIT_GRACE_MS)
                break;
        }
        if (S.term_kill_at && !S.child_done && now >= S.term_kill_at) {
            revive_log_warn("the launcher %d did not end after SIGTERM; SIGKILL", (int)S.child);
            kill(S.child, SIGKILL);
            S.term_kill_at = 0;
        }
        if (S.next_tick && now >= S.next_tick) {
            S.next_tick = now + (int64_t)cfg->interval_s * 1000;
            if (!S.term_pending && !S.child_done) {
                if (S.p.phase == SNAPC_P_IDLE)
                    update_next_seq();
                struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
                ev.u.req.source = SNAPC_SRC_TIMER;
                ev.u.req.client = -1;
                feed(&ev);
            }
        }
        /* pending connections that never said HELLO */
        for (int i = 0; i < S.nc; i++)
            if ((S.c[i].kind == C_PENDING || (S.c[i].kind == C_TOOL && !S.c[i].asked)) &&
                now - S.c[i].t_accept > HELLO_TIMEOUT_MS) {
                revive_log_info("a connection from %s said nothing for %d s; closed", S.c[i].peer,
                                HELLO_TIMEOUT_MS / 1000);
                conn_close(i);
            }
        struct snapc_event tick = {.type = SNAPC_EV_TICK};
        feed(&tick);

        int64_t wake = -1;
#define WAKE(t) do { int64_t _t = (t); if (_t > 0 && (wake < 0 || _t < wake)) wake = _t; } while (0)
        WAKE(snapc_proto_deadline(&S.p));
        WAKE(S.next_tick);
        WAKE(S.term_kill_at);
        if (S.child_done)
            WAKE(S.child_done_ms + EXIT_GRACE_MS);
        for (int i = 0; i < S.nc; i++)
            if (S.c[i].kind == C_PENDING || (S.c[i].kind == C_TOOL && !S.c[i].asked))
                WAKE(S.c[i].t_accept + HELLO_TIMEOUT_MS + 1);
#undef WAKE
        int timeout = wake < 0 ? -1 : (int)(wake > now ? (wake - now > 60000 ? 60000 : wake - now) : 0);

        int need = S.nc + 3;
        if (need > pcap) {
            pcap = need + 16;
            pf = realloc(pf, (size_t)pcap * sizeof *pf);
            pidx = realloc(pidx, (size_t)pcap * sizeof *pidx);
            if (!pf || !pidx) {
                revive_log_error("out of memory in the coordinator");
                break;
            }
        }
        int np = 0;
        pf[np] = (struct pollfd){.fd = S.sfd, .events = POLLIN};
        pidx[np++] = -1;
        pf[np] = (struct pollfd){.fd = S.child_done ? -1 : S.ufd, .events = POLLIN};
        pidx[np++] = -2;
        pf[np] = (struct pollfd){.fd = S.child_done ? -1 : S.tfd, .events = POLLIN};
        pidx[np++] = -3;
        for (int i = 0; i < S.nc; i++)
            if (S.c[i].kind != C_FREE) {
                pf[np] = (struct pollfd){.fd = S.c[i].fd, .events = POLLIN};
                pidx[np++] = i;
            }
        int r = poll(pf, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR) {
            revive_log_error("poll: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < np && r > 0; k++) {
            if (!pf[k].revents)
                continue;
            if (pidx[k] == -1)
                on_signal();
            else if (pidx[k] == -2)
                accept_unix();
            else if (pidx[k] == -3)
                accept_tcp();
            else if (S.c[pidx[k]].kind != C_FREE && S.c[pidx[k]].fd == pf[k].fd)
                conn_readable(pidx[k]);
        }
    }
    free(pf);
    free(pidx);
    if (!S.child_done) {
        /* the loop failed: do not leave the job behind */
        kill(S.child, SIGTERM);
        sleep(1);
        kill(S.child, SIGKILL);
        waitpid(S.child, &S.child_status, 0);
        S.child_done = 1;
    }
    kill_strays();
    if (S.jobdir_ok && filem_trash_clean(S.jobdir) > 0)
        revive_log_warn("%s holds hidden directories of failed checkpoints that could not be "
                        "removed (.discarded.*); remove them by hand",
                        S.jobdir);
    flush_deferred();
    for (int i = 0; i < S.nc; i++)
        if (S.c[i].kind == C_TOOL) {
            if (S.c[i].done_deferred)
                send_done(i, S.c[i].done_status, "", 1);
            else if (S.c[i].asked)
                send_done(i, -ESRCH, "the job ended", 0);
        }
    if (S.sock_path[0])
        unlink(S.sock_path);
    if (S.restart_lock >= 0)
        close(S.restart_lock);
    int status = exit_status();
    explicit_bzero(S.secret, sizeof S.secret);
    snapc_proto_fini(&S.p);
    if (WIFSIGNALED(S.child_status)) {
        /* the launcher died of a signal: so do we (the shell sees what it would natively),
         * except for signals that would leave a core of the coordinator */
        int sig = WTERMSIG(S.child_status);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGKILL || sig == SIGPIPE ||
            sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGALRM) {
            signal(sig, SIG_DFL);
            sigset_t one;
            sigemptyset(&one);
            sigaddset(&one, sig);
            sigprocmask(SIG_UNBLOCK, &one, NULL);
            raise(sig);
        }
    }
    return status;
}

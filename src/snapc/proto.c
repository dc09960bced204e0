/* The coordinator's protocol state machine (see proto.h): pure, one table. */
#include "snapc/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pphase_names[SNAPC_P_COUNT] = {
    "idle", "seqs", "converge", "quiesce", "drain", "capture", "stage", "commit",
};

static const char *const ev_names[SNAPC_EV_COUNT] = {
    "HELLO", "GONE", "REQUEST", "SEQS", "RAISE", "STATE", "QUIESCED", "DRAINED",
    "CAPTURED", "FAILED", "COMMITTED", "LOCAL_FAIL", "CANCEL", "TICK", "STAGED",
    "PARTNERED", "STAGED_FOR", "FILES_SAVED", "HELD_DONE",
};

const char *snapc_pphase_name(int phase)
{
    return phase >= 0 && phase < SNAPC_P_COUNT ? pphase_names[phase] : "?";
}

const char *snapc_ev_name(int ev)
{
    return ev >= 0 && ev < SNAPC_EV_COUNT ? ev_names[ev] : "?";
}

/* What a rank does in each phase, for messages. */
/* A request that meets the job's normal end (a rank in or past MPI_Finalize): not a failure of
 * a rank (review U). */
#define ENDED_BEFORE "the job ended before the snapshot could be taken "
#define ENDING_BEFORE "the job is ending before the snapshot could be taken "

/* ENDED_BEFORE once every rank has ended, else ENDING_BEFORE: a rank in MPI_Finalize ends the
 * chance of a snapshot, not the job, whose other ranks may compute for a long while yet
 * (newuser7b F6: "the job ended" while three ranks ran on for 5 s). */
static const char *end_words(const struct snapc_proto *p)
{
    for (int i = 0; i < p->nranks; i++)
        if (!p->r[i].gone)
            return ENDING_BEFORE;
    return ENDED_BEFORE;
}

int snapc_proto_job_end_text(const char *text)
{
    return !strncmp(text, ENDED_BEFORE, strlen(ENDED_BEFORE)) || !strncmp(text, ENDING_BEFORE, strlen(ENDING_BEFORE));
}

static const char *const doing[SNAPC_P_COUNT] = {
    "run", "answer the checkpoint request", "reach its targets", "close its gate",
    "drain its messages", "write its image", "copy its image to shared storage",
    "wait for the commit",
};

/* ---- actions ---- */

/* vsnprintf whose cut shows: "..." at the end of a message that did not fit */
static void vfmt_cut(char *dst, size_t len, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void vfmt_cut(char *dst, size_t len, const char *fmt, va_list ap)
{
    int n = vsnprintf(dst, len, fmt, ap);
    if (n > 0 && (size_t)n >= len && len > 3)
        memcpy(dst + len - 4, "...", 3);
}

static struct snapc_action *emit(struct snapc_proto *p, int type)
{
    if (p->nacts == p->acts_cap) {
        int cap = p->acts_cap ? 2 * p->acts_cap : 16;
        struct snapc_action *a = realloc(p->acts, (size_t)cap * sizeof *a);
        if (!a)
            return NULL;
        p->acts = a;
        p->acts_cap = cap;
    }
    struct snapc_action *a = &p->acts[p->nacts++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->client = -1;
    a->rank = -1;
    a->seq = p->seq;
    a->epoch = p->epoch;
    return a;
}

static int emitf(struct snapc_proto *p, int type, int rank, int client, int status, const char *fmt,
                 ...) __attribute__((format(printf, 6, 7)));
static int emitf(struct snapc_proto *p, int type, int rank, int client, int status, const char *fmt,
                 ...)
{
    struct snapc_action *a = emit(p, type);
    if (!a)
        return -ENOMEM;
    a->rank = rank;
    a->client = client;
    a->status = status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfmt_cut(a->text, sizeof a->text, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static int progress(struct snapc_proto *p, int job_phase, int64_t now)
{
    p->job_phase = job_phase;
    p->t_phase[job_phase] = now;
    struct snapc_action *a = emit(p, SNAPC_ACT_PROGRESS);
    if (!a)
        return -ENOMEM;
    a->arg = (uint32_t)job_phase;
    snprintf(a->text, sizeof a->text, "%s", snapc_phase_name(job_phase));
    return 0;
}

/* ---- targets table ---- */

static int find_target(const struct snapc_proto *p, uint64_t cid)
{
    int lo = 0, hi = p->ntargets;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (p->targets[mid].cid < cid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t snapc_proto_target(const struct snapc_proto *p, uint64_t cid)
{
    int i = find_target(p, cid);
    return i < p->ntargets && p->targets[i].cid == cid ? p->targets[i].seq : 0;
}

/* target[cid] = max(target[cid], seq). */
static int raise_target(struct snapc_proto *p, uint64_t cid, uint64_t seq)
{
    int i = find_target(p, cid);
    if (i < p->ntargets && p->targets[i].cid == cid) {
        if (seq > p->targets[i].seq)
            p->targets[i].seq = seq;
        return 0;
    }
    if (p->ntargets == p->targets_cap) {
        int cap = p->targets_cap ? 2 * p->targets_cap : 16;
        struct snapc_seq *t = realloc(p->targets, (size_t)cap * sizeof *t);
        if (!t)
            return -ENOMEM;
        p->targets = t;
        p->targets_cap = cap;
    }
    memmove(&p->targets[i + 1], &p->targets[i], (size_t)(p->ntargets - i) * sizeof *p->targets);
    p->targets[i].cid = cid;
    p->targets[i].seq = seq;
    p->ntargets++;
    return 0;
}

/* ---- epochs ---- */

static int is_client(const int *list, int n, int c)
{
    for (int i = 0; i < n; i++)
        if (list[i] == c)
            return 1;
    return 0;
}

/* Why a checkpoint cannot start now, or NULL. */
static const char *not_ready(const struct snapc_proto *p, char *buf, size_t len)
{
    if (p->finalizing_rank >= 0) {
        snprintf(buf, len, "rank %d has called MPI_Finalize: the job is ending",
                 p->finalizing_rank);
        return buf;
    }
    if (p->ended_rank >= 0) {
        snprintf(buf, len, "rank %d has ended: the job is ending", p->ended_rank);
        return buf;
    }
    if (p->nranks == 0) {
        snprintf(buf, len, "the job is starting: no rank is ready yet; try again in a moment");
        return buf;
    }
    if (p->nhello < p->nranks) {
        snprintf(buf, len, "the job is starting: %d of %d ranks ready; try again in a moment",
                 p->nhello, p->nranks);
        return buf;
    }
    return NULL;
}

/* Adds LIST's paths (PATH,PATH...) not already in DST to DST. 0, or -E2BIG when DST would
 * be too long (DST unchanged). */
static int merge_files(char *dst, const char *list)
{
    char tmp[SNAPC_FILES_LIST_MAX];
    size_t n = strlen(dst);
    memcpy(tmp, dst, n + 1);
    for (const char *s = list; s && *s;) {
        size_t l = strcspn(s, ",");
        int have = 0;
        for (const char *t = tmp; *t;) {
            size_t k = strcspn(t, ",");
            if (k == l && !strncmp(t, s, l))
                have = 1;
            t += k + (t[k] == ',');
        }
        if (!have && l) {
            if (n + (n ? 1 : 0) + l + 1 > sizeof tmp)
                return -E2BIG;
            if (n)
                tmp[n++] = ',';
            memcpy(tmp + n, s, l);
            n += l;
            tmp[n] = 0;
        }
        s += l + (s[l] == ',');
    }
    memcpy(dst, tmp, n + 1);
    return 0;
}

/* Empties the queue of tools' requests (their clients moved to the epoch, refused, or none) */
static void drop_queue(struct snapc_proto *p)
{
    for (int i = 0; i < p->nnext; i++) {
        free(p->next_client_files[i]);
        p->next_client_files[i] = NULL;
    }
    p->nnext = 0;
}

/* The refusal of a request whose --save-files paths do not fit beside the queued ones'. */
static int refuse_files(struct snapc_proto *p, int client)
{
    return emitf(p, SNAPC_ACT_REFUSE, -1, client, -E2BIG,
                 "the --save-files paths of the requests waiting for this job are more than %d "
                 "bytes together; name fewer (a directory saves what it holds)",
                 SNAPC_FILES_LIST_MAX - 1);
}

static int start_epoch(struct snapc_proto *p, int64_t now)
{
    p->epoch++;
    p->seq = p->next_seq;
    p->phase = SNAPC_P_SEQS;
    p->flags = p->next_flags;
    /* requests waiting together (--wait) share one snapshot; of --term and --stop, which exclude
     * each other, --term wins: its requester wants the job's nodes back (a batch job's end, a
     * preemption), which a stopped job would hold with nobody left to end it, while the --stop
     * requester has the snapshot to run it again from. Each requester learns from
     * `ended.flags` how the job was left (newuser12 F3: a --stop one was told its ranks were
     * stopped, the job having ended) */
    if (p->flags & SNAPC_TOOL_TERM)
        p->flags &= ~SNAPC_TOOL_STOP;
    p->timeout_s = p->next_timeout_s ? p->next_timeout_s : p->default_timeout_s;
    p->source = p->next_source;
    p->t_start = now;
    p->deadline = now + (int64_t)p->timeout_s * 1000;
    memset(p->t_phase, 0, sizeof p->t_phase);
    p->ntargets = 0;
    p->version = 0;
    p->raises = 0;
    p->resumed = 0;
    p->files_state = 0;
    memcpy(p->files, p->next_files, sizeof p->files);
    p->next_files[0] = 0;
    p->held = 0;
    p->last_error[0] = 0;
    memcpy(p->clients, p->next_clients, (size_t)p->nnext * sizeof *p->clients);
    p->nclients = p->nnext;
    drop_queue(p);
    p->next_flags = 0;
    p->next_timeout_s = 0;
    p->next_wanted = 0;
    p->rank_req = 0;
    for (int i = 0; i < p->nranks; i++) {
        struct snapc_rank_rec *r = &p->r[i];
        r->seqs_in = 0;
        r->step = 0;
        r->v_seen = 0;
        r->at_target = 0;
        r->in_cs = 0;
        r->state_known = 0;
        r->bytes = r->checksum = 0;
        r->captured_ms = 0;
        r->staged = 0;
        r->partnered = 0;
        r->holder = -1;
        r->proxied = 0;
        memset(&r->drain, 0, sizeof r->drain);
    }
    struct snapc_action *a = emit(p, SNAPC_ACT_CKPT);
    if (!a)
        return -ENOMEM;
    a->arg = p->flags;
    a->status = snapc_proto_holds(p);
    return progress(p, SNAPC_PHASE_REQUESTED, now);
}

/* After an epoch: start the next one if a queued request wants it. */
static int maybe_next(struct snapc_proto *p, int64_t now, int after_commit)
{
    int want = p->next_wanted;
    if (p->rank_req && after_commit) {
        /* The epoch just committed covers the request when its cut on WORLD is at or past the
         * call. No targets: a job of one rank (collectives of one rank are not counted, its
         * request's world seq is 0), whose agent takes the first epoch to end as the call's
         * answer (snapc_agent_wait_epoch). Another epoch there took a second snapshot nobody
         * asked for, later in the run, which restart-mpi then took as the newest
         * (rst_mpi4-mpich np=1: the restart did not come back in MPIX_Checkpoint). */
        if (p->ntargets == 0 || snapc_proto_target(p, 0) >= p->rank_req_seq)
            p->rank_req = 0;
        else
            want = 1;
    }
    if (!after_commit)
        p->rank_req = 0; /* the waiting ranks got the ABORT */
    if (p->rank_req_late) {
        p->rank_req_late = 0;
        p->rank_req = 1;
        p->rank_req_seq = 0;
        want = 1;
    }
    if (!want)
        return 0;
    char why[256];
    const char *nr = not_ready(p, why, sizeof why);
    if (!nr && p->last_status == 0 && (p->flags & SNAPC_TOOL_TERM)) {
        snprintf(why, sizeof why, "the job was ended after its checkpoint (sequence %llu)",
                 (unsigned long long)p->seq);
        nr = why;
    }
    if (nr) {
        /* a queued request that meets the job's end: it ended before the snapshot could be
         * taken */
        int ending = p->finalizing_rank >= 0 || p->ended_rank >= 0;
        char end[64];
        if (p->finalizing_rank >= 0)
            snprintf(end, sizeof end, "rank %d has called MPI_Finalize", p->finalizing_rank);
        else
            snprintf(end, sizeof end, "rank %d has ended", p->ended_rank);
        for (int i = 0; i < p->nnext; i++)
            if (ending ? emitf(p, SNAPC_ACT_REFUSE, -1, p->next_clients[i], -EAGAIN, "%s(%s)", end_words(p), end)
                       : emitf(p, SNAPC_ACT_REFUSE, -1, p->next_clients[i], -EAGAIN, "%s", nr))
                return -ENOMEM;
        drop_queue(p);
        p->next_wanted = 0;
        p->rank_req = 0;
        return 0;
    }
    if (!p->next_wanted)
        p->next_source = SNAPC_SRC_RANK;
    return start_epoch(p, now);
}

static void save_ended(struct snapc_proto *p)
{
    struct snapc_epoch_summary *s = &p->ended;
    s->epoch = p->epoch;
    s->seq = p->seq;
    s->nranks = p->nranks;
    s->raises = p->raises;
    s->flags = p->flags;
    s->bytes = 0;
    for (int r = 0; r < p->nranks; r++)
        s->bytes += p->r[r].bytes;
    memcpy(s->t_phase, p->t_phase, sizeof s->t_phase);
    memcpy(s->clients, p->clients, (size_t)p->nclients * sizeof *s->clients);
    s->nclients = p->nclients;
}

/* Ends the epoch without a snapshot: every live rank is released. */
static int fail_epoch(struct snapc_proto *p, int64_t now, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_epoch(struct snapc_proto *p, int64_t now, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfmt_cut(p->last_error, sizeof p->last_error, fmt, ap);
    va_end(ap);
    p->last_status = status;
    if (p->stage && (p->phase == SNAPC_P_STAGE || p->phase == SNAPC_P_COMMIT)) {
        /* every image was captured: ranks already running hear nothing (nothing of theirs
         * is undone but the outcome's notice, for a rank waiting in MPI_Finalize), the
         * sequence stays uncommitted and marked failed (ckpt-info shows why),
         * the next epoch takes the next number; the node-local copies stay */
        if ((!p->resumed && emitf(p, SNAPC_ACT_ABORT, -1, -1, status, "%s", p->last_error)) ||
            emitf(p, SNAPC_ACT_STAGE_FAILED, -1, -1, status, "%s", p->last_error) ||
            (p->resumed && emitf(p, SNAPC_ACT_RESUME, -1, -1, 3, NULL)) ||
            progress(p, SNAPC_PHASE_NO_CKPT, now))
            return -ENOMEM;
        p->next_seq = p->seq + 1;
    } else if (emitf(p, SNAPC_ACT_ABORT, -1, -1, status, "%s", p->last_error) ||
               emitf(p, SNAPC_ACT_DISCARD, -1, -1, status, NULL) ||
               progress(p, SNAPC_PHASE_NO_CKPT, now))
        return -ENOMEM;
    save_ended(p);
    for (int i = 0; i < p->nclients; i++)
        if (emitf(p, SNAPC_ACT_DONE, -1, p->clients[i], status, "%s", p->last_error))
            return -ENOMEM;
    p->nclients = 0;
    p->phase = SNAPC_P_IDLE;
    p->deadline = -1;
    return maybe_next(p, now, 0);
}

static int commit_done(struct snapc_proto *p, int64_t now)
{
    p->last_status = 0;
    p->last_error[0] = 0;
    uint32_t action = (p->flags & SNAPC_TOOL_TERM)   ? SNAPC_RESUME_TERM
                      : (p->flags & SNAPC_TOOL_STOP) ? SNAPC_RESUME_STOP
                                                     : SNAPC_RESUME_CONTINUE;
    if (progress(p, SNAPC_PHASE_ESTABLISHED, now))
        return -ENOMEM;
    struct snapc_action *a = emit(p, SNAPC_ACT_RESUME);
    if (!a)
        return -ENOMEM;
    a->arg = action;
    a->status = p->resumed ? 2 : 0;
    if (action == SNAPC_RESUME_TERM && !emit(p, SNAPC_ACT_END_JOB))
        return -ENOMEM;
    if (!p->resumed && progress(p, SNAPC_PHASE_RECOVERED, now))
        return -ENOMEM;
    save_ended(p);
    for (int i = 0; i < p->nclients; i++)
        if (emitf(p, SNAPC_ACT_DONE, -1, p->clients[i], 0, NULL))
            return -ENOMEM;
    p->nclients = 0;
    p->phase = SNAPC_P_IDLE;
    p->deadline = -1;
    p->next_seq = p->seq + 1;
    return maybe_next(p, now, 1);
}

static int live_ranks_all(const struct snapc_proto *p, int (*pred)(const struct snapc_rank_rec *))
{
    for (int i = 0; i < p->nranks; i++)
        if (!p->r[i].gone && !pred(&p->r[i]))
            return 0;
    return 1;
}

static int has_seqs(const struct snapc_rank_rec *r) { return r->seqs_in; }

static int protocol_error(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (emitf(p, SNAPC_ACT_DROP_RANK, ev->rank, -1, -EPROTO,
              "rank %d sent %s while the checkpoint was in phase '%s' (protocol error)", ev->rank,
              snapc_ev_name(ev->type), snapc_pphase_name(p->phase)))
        return -ENOMEM;
    return fail_epoch(p, ev->now_ms, -EPROTO,
                      "rank %d sent %s while the checkpoint was in phase '%s' (protocol error)",
                      ev->rank, snapc_ev_name(ev->type), snapc_pphase_name(p->phase));
}

/* ---- convergence ---- */

static int converged_rank(const struct snapc_proto *p, const struct snapc_rank_rec *r)
{
    return r->state_known && r->v_seen == p->version && r->at_target && !r->in_cs;
}

static int check_converged(struct snapc_proto *p, int64_t now)
{
    for (int i = 0; i < p->nranks; i++)
        if (!p->r[i].gone && !converged_rank(p, &p->r[i]))
            return 0;
    p->phase = SNAPC_P_QUIESCE;
    p->deadline = now + (int64_t)p->capture_timeout_s * 1000;
    struct snapc_action *a = emit(p, SNAPC_ACT_QUIESCE);
    if (!a)
        return -ENOMEM;
    return 0;
}

/* The reason a converging job did not get there. The rank named is the one
 * most likely holding the others up: one in MPI_Finalize, then one outside
 * MPI short of its targets (the others wait for it inside collectives), one
 * that did not answer the last targets, one waiting in a call, and last one
 * inside a collective (itself usually waiting for another). */
static void convergence_blame(const struct snapc_proto *p, char *buf, size_t len)
{
    int best = -1, best_rank = -1;
    for (int i = 0; i < p->nranks; i++) {
        const struct snapc_rank_rec *r = &p->r[i];
        if (r->gone || converged_rank(p, r))
            continue;
        int prio;
        if (r->finalizing)
            prio = 5;
        else if (!r->state_known || r->v_seen != p->version)
            prio = 3;
        else if (r->in_cs)
            prio = 1;
        else if (r->what[0] && strncmp(r->what, "is outside MPI", 14) != 0)
            prio = 2;   /* the layer says "is outside MPI" itself: that rank is prio 4
                         * (review: a rank in MPI_Recv was named instead of its sender) */
        else
            prio = 4;
        if (prio > best) {
            best = prio;
            best_rank = i;
        }
    }
    const struct snapc_rank_rec *r = best_rank >= 0 ? &p->r[best_rank] : NULL;
    switch (best) {
    case 5: snprintf(buf, len, "rank %d is in MPI_Finalize", best_rank); break;
    case 4:
        /* the layer may say what the rank does there ("is outside MPI, blocked reading fd 0
         * (its standard input: ...)"); a rank that said nothing is just outside MPI */
        if (r && !strncmp(r->what, "is outside MPI", 14))
            snprintf(buf, len, "rank %d %s", best_rank, r->what);
        else
            snprintf(buf, len, "rank %d is outside MPI", best_rank);
        break;
    case 3:
        snprintf(buf, len, "rank %d did not acknowledge target update %u", best_rank, p->version);
        break;
    case 2:
    case 1:
        /* the MPI layer describes itself with its verb ("waits in MPI_Bcast on comm 3 ...",
         * "is outside MPI"); a bare call name gets one here */
        if (r->what[0] && (!strncmp(r->what, "is ", 3) || !strncmp(r->what, "waits ", 6)))
            snprintf(buf, len, "rank %d %s", best_rank, r->what);
        else if (best == 2)
            snprintf(buf, len, "rank %d waits in %s", best_rank, r->what);
        else
            snprintf(buf, len, "rank %d is inside %s", best_rank, r->what[0] ? r->what : "a collective");
        break;
    default: snprintf(buf, len, "no rank is at fault (?)"); break;
    }
}

/* ---- handlers ---- */

typedef int (*handler_fn)(struct snapc_proto *p, const struct snapc_event *ev);

static int h_ignore(struct snapc_proto *p, const struct snapc_event *ev)
{
    (void)p;
    (void)ev;
    return 0;
}

static int h_hello(struct snapc_proto *p, const struct snapc_event *ev)
{
    uint32_t size = ev->u.hello.world_size;
    if (p->nranks == 0) {
        if (size == 0 || size > (1u << 20))
            return emitf(p, SNAPC_ACT_DROP_RANK, ev->rank, -1, -EPROTO,
                         "a rank says the job has %u ranks", size);
        p->r = calloc(size, sizeof *p->r);
        if (!p->r)
            return -ENOMEM;
        p->nranks = (int)size;
    }
    if ((int)size != p->nranks || ev->rank < 0 || ev->rank >= p->nranks)
        return emitf(p, SNAPC_ACT_DROP_RANK, ev->rank, -1, -EPROTO,
                     "rank %d of %u does not belong to this job of %d ranks", ev->rank, size,
                     p->nranks);
    struct snapc_rank_rec *r = &p->r[ev->rank];
    if (r->hello)
        return emitf(p, SNAPC_ACT_DROP_RANK, ev->rank, -1, -EPROTO,
                     "rank %d connected twice", ev->rank);
    r->hello = 1;
    p->nhello++;
    if (p->phase == SNAPC_P_IDLE && p->nhello == p->nranks && (p->rank_req || p->next_wanted)) {
        if (!p->next_wanted)
            p->next_source = SNAPC_SRC_RANK;
        int rr = p->rank_req;
        uint64_t rs = p->rank_req_seq;
        int e = start_epoch(p, ev->now_ms);
        p->rank_req = rr; /* still to be covered by this epoch's targets */
        p->rank_req_seq = rs;
        return e;
    }
    return 0;
}

static int mark_gone(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (ev->rank < 0 || ev->rank >= p->nranks)
        return 0;
    struct snapc_rank_rec *r = &p->r[ev->rank];
    if (r->gone)
        return 1;
    r->gone = 1;
    if (!r->finalizing && p->ended_rank < 0)
        p->ended_rank = ev->rank;
    return 0;
}

static int h_gone_idle(struct snapc_proto *p, const struct snapc_event *ev)
{
    mark_gone(p, ev);
    return 0;
}

static int try_stage_for(struct snapc_proto *p, int rank, int64_t now, const char *lost);
static int all_staged(struct snapc_proto *p);

/* Rank `rank` ended before its image was verified on shared storage and nobody alive holds a
 * copy to stage (a launcher that ends the whole job when a node goes: Open MPI's mpirun, about
 * 2 s after the node's remote shell dies, newuser9 F5): the coordinator stages the copy its own
 * host's cache holds, the rank's own or a partner copy (SNAPC_ACT_STAGE_SELF, text: the failure
 * it is not, said when the coordinator has no copy either; it calls snapc_proto_self_staged or
 * feeds LOCAL_FAIL). Marked proxied: its own late word no longer counts. 0 or -ENOMEM. */
static int self_stage(struct snapc_proto *p, int rank, const char *why)
{
    p->r[rank].proxied = 1;
    return emitf(p, SNAPC_ACT_STAGE_SELF, rank, -1, 0, "%s", why) ? -ENOMEM : 0;
}

static int h_gone_epoch(struct snapc_proto *p, const struct snapc_event *ev)
{
    int phase = p->phase;
    if (mark_gone(p, ev))
        return 0;
    if (p->stage && (phase == SNAPC_P_STAGE || phase == SNAPC_P_COMMIT)) {
        /* node-local first, every image captured: what counts is whether each image is
         * verified on shared storage, not what became of its rank afterwards (a node lost
         * after its copies, a rank ended by its launcher when another node went) */
        struct snapc_rank_rec *r = &p->r[ev->rank];
        /* the lost ranks whose partner copy this rank was to stage: nobody left to, but the
         * coordinator's host may hold that copy (newuser9 F5) */
        for (int i = 0; p->self_stage && phase == SNAPC_P_STAGE && i < p->nranks; i++)
            if (i != ev->rank && p->r[i].proxied && p->r[i].holder == ev->rank &&
                !p->r[i].staged) {
                char why[SNAPC_TEXT_MAX];
                snprintf(why, sizeof why,
                         "rank %d was lost before its image reached the shared directory, and "
                         "rank %d, which held its partner copy, ended before staging it",
                         i, ev->rank);
                if (self_stage(p, i, why) < 0)
                    return -ENOMEM;
            }
        if (r->staged || r->proxied)
            return 0;
        int e = try_stage_for(p, ev->rank, ev->now_ms, "ended");
        if (e != 0)
            return e < 0 ? e : 0;
    }
    char why[SNAPC_TEXT_MAX];
    if (p->r[ev->rank].finalizing)
        snprintf(why, sizeof why,
                 "%s(rank %d called MPI_Finalize and ended during the checkpoint)", end_words(p), ev->rank);
    else if (ev->u.gone.why) /* its host went silent: the host is what the user must know (F3) */
        snprintf(why, sizeof why, "%s during the checkpoint (rank %d was to %s)", ev->u.gone.why,
                 ev->rank, doing[phase]);
    else
        snprintf(why, sizeof why, "rank %d ended during the checkpoint (while it was to %s)",
                 ev->rank, doing[phase]);
    if (p->stage && p->self_stage && phase == SNAPC_P_STAGE)
        return self_stage(p, ev->rank, why);
    return fail_epoch(p, ev->now_ms, -ESRCH, "%s", why);
}

/* A waiting request joins the queued snapshot: the longest bound of the queued requests bounds
 * it, a request without --timeout (0) counting as the coordinator's default (as 0 it lost to
 * another's shorter --timeout: diffrev42 R-M1). */
static void queue_timeout(struct snapc_proto *p, uint32_t timeout_s)
{
    uint32_t t = timeout_s ? timeout_s : p->default_timeout_s;
    if (t > p->next_timeout_s)
        p->next_timeout_s = t;
}

/* The flags of a request that one snapshot serves with others (--wait) */
#define QUEUED_FLAGS (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP | SNAPC_TOOL_SAVE_SHARED)

/* Queues a tool's request for the next epoch (its --save-files merged into next_files already),
 * its flags and files kept apart too: a request withdrawn (the tool interrupted, h_cancel) must
 * leave neither its --term or --stop nor its files to the others' snapshot (diffrev46 R-M2: a
 * withdrawn --save-files SECRET was copied into the next snapshot, and put back at its
 * restart). 0 or -ENOMEM. */
static int queue_client(struct snapc_proto *p, int client, uint32_t flags, const char *files)
{
    char *f = NULL;
    if (files && *files && !(f = strdup(files)))
        return -ENOMEM;
    p->next_client_files[p->nnext] = f;
    p->next_client_flags[p->nnext] = flags & QUEUED_FLAGS;
    p->next_clients[p->nnext++] = client;
    p->next_flags |= flags & QUEUED_FLAGS;
    return 0;
}

static int h_request_idle(struct snapc_proto *p, const struct snapc_event *ev)
{
    char why[256];
    const char *nr = not_ready(p, why, sizeof why);
    int src = ev->u.req.source;
    if (nr) {
        int starting = p->finalizing_rank < 0 && p->ended_rank < 0;
        if (src == SNAPC_SRC_TOOL && starting && (ev->u.req.flags & SNAPC_TOOL_WAIT) &&
            p->nnext < SNAPC_MAX_CLIENTS) {
            /* --wait: taken once every rank is there */
            if (merge_files(p->next_files, ev->u.req.files) < 0)
                return refuse_files(p, ev->u.req.client);
            if (queue_client(p, ev->u.req.client, ev->u.req.flags, ev->u.req.files) < 0)
                return -ENOMEM;
            queue_timeout(p, ev->u.req.timeout_s);
            p->next_wanted = 1;
            p->next_source = SNAPC_SRC_TOOL;
            return 0;
        }
        if (src == SNAPC_SRC_TOOL)
            return emitf(p, SNAPC_ACT_REFUSE, -1, ev->u.req.client, -EAGAIN, "%s", nr);
        if (src == SNAPC_SRC_RANK) {
            if (p->finalizing_rank < 0 && p->ended_rank < 0) {
                /* MPIX_Checkpoint before every rank said HELLO: starts when they have */
                if (!p->rank_req || ev->u.req.world_seq > p->rank_req_seq)
                    p->rank_req_seq = ev->u.req.world_seq;
                p->rank_req = 1;
                return 0;
            }
            return emitf(p, SNAPC_ACT_ABORT, ev->rank, -1, -EAGAIN, "%s", nr);
        }
        return 0; /* the timer tries again at its next tick */
    }
    drop_queue(p);
    p->next_files[0] = 0;
    if (src == SNAPC_SRC_TOOL) {
        if (merge_files(p->next_files, ev->u.req.files) < 0)
            return refuse_files(p, ev->u.req.client);
        p->next_client_files[p->nnext] = NULL; /* the epoch starts now: next_files holds them */
        p->next_client_flags[p->nnext] = ev->u.req.flags & QUEUED_FLAGS;
        p->next_clients[p->nnext++] = ev->u.req.client;
    }
    p->next_flags = ev->u.req.flags & QUEUED_FLAGS;
    p->next_timeout_s = ev->u.req.timeout_s;
    p->next_source = src;
    int e = start_epoch(p, ev->now_ms);
    if (e == 0 && src == SNAPC_SRC_RANK) {
        /* the epoch covers it unless its targets say otherwise (maybe_next) */
        p->rank_req = 1;
        p->rank_req_seq = ev->u.req.world_seq;
    }
    return e;
}

static int h_request_busy(struct snapc_proto *p, const struct snapc_event *ev)
{
    switch (ev->u.req.source) {
    case SNAPC_SRC_TIMER:
        return 0; /* coalesces with the running epoch */
    case SNAPC_SRC_RANK:
        if (p->nranks == 1 && p->phase >= SNAPC_P_STAGE) {
            /* one rank counts no collective (world_seq is 0): its request comes on the
             * connection after its CAPTURED only when made after its capture began (the
             * agent thread sends both), so this epoch does not hold the call */
            p->rank_req_late = 1;
            return 0;
        }
        if (!p->rank_req || ev->u.req.world_seq > p->rank_req_seq)
            p->rank_req_seq = ev->u.req.world_seq;
        p->rank_req = 1;
        return 0;
    default:
        break;
    }
    int c = ev->u.req.client;
    if (!(ev->u.req.flags & SNAPC_TOOL_WAIT))
        return emitf(p, SNAPC_ACT_REFUSE, -1, c, -EBUSY,
                     "a checkpoint of this job is in progress (sequence %llu); try again when "
                     "it ends (or use --wait)",
                     (unsigned long long)p->seq);
    if (p->nnext == SNAPC_MAX_CLIENTS)
        return emitf(p, SNAPC_ACT_REFUSE, -1, c, -EBUSY,
                     "%d requests are already waiting for this job; try again later",
                     SNAPC_MAX_CLIENTS);
    if (merge_files(p->next_files, ev->u.req.files) < 0)
        return refuse_files(p, c);
    if (queue_client(p, c, ev->u.req.flags, ev->u.req.files) < 0)
        return -ENOMEM;
    queue_timeout(p, ev->u.req.timeout_s);
    p->next_wanted = 1;
    p->next_source = SNAPC_SRC_TOOL;
    return 0;
}

static int h_seqs(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    if (r->seqs_in)
        return protocol_error(p, ev);
    for (int i = 0; i < ev->u.seqs.n; i++)
        if (raise_target(p, ev->u.seqs.t[i].cid, ev->u.seqs.t[i].seq))
            return -ENOMEM;
    r->seqs_in = 1;
    if (!live_ranks_all(p, has_seqs))
        return 0;
    p->version = 1;
    p->phase = SNAPC_P_CONVERGE;
    if (progress(p, SNAPC_PHASE_PENDING, ev->now_ms) || !emit(p, SNAPC_ACT_TARGETS) ||
        progress(p, SNAPC_PHASE_RUNNING, ev->now_ms))
        return -ENOMEM;
    return 0;
}

static int h_raise(struct snapc_proto *p, const struct snapc_event *ev)
{
    /* a raise to a target the coordinator already has (the rank asked from a stale view: it
     * raises once per version it sees while blocked) changes nothing: the targets it lacks are
     * on their way. Counted as a new version, it made every rank acknowledge again, and ranks
     * blocked on one another kept raising (converge.sh, 8 slow agents: 54155 versions in 120 s,
     * no checkpoint) */
    int i = find_target(p, ev->u.raise.cid);
    if (i < p->ntargets && p->targets[i].cid == ev->u.raise.cid &&
        ev->u.raise.target <= p->targets[i].seq) {
        return 0;
    }
    if (raise_target(p, ev->u.raise.cid, ev->u.raise.target))
        return -ENOMEM;
    p->version++;
    p->raises++;
    /* the raising rank is not at its targets any more until it says so */
    p->r[ev->rank].at_target = 0;
    struct snapc_action *a = emit(p, SNAPC_ACT_TARGETS);
    return a ? 0 : -ENOMEM;
}

static void record_state(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    r->v_seen = ev->u.state.version;
    r->at_target = ev->u.state.at_target;
    r->in_cs = ev->u.state.in_cs;
    r->state_known = 1;
    snprintf(r->what, sizeof r->what, "%s", ev->u.state.what ? ev->u.state.what : "");
    if (ev->u.state.finalizing && !r->finalizing) {
        r->finalizing = 1;
        if (p->finalizing_rank < 0)
            p->finalizing_rank = ev->rank;
    }
}

static int h_state_idle(struct snapc_proto *p, const struct snapc_event *ev)
{
    record_state(p, ev);
    p->r[ev->rank].state_known = 0; /* outside an epoch the version means nothing */
    return 0;
}

static int h_state_seqs(struct snapc_proto *p, const struct snapc_event *ev)
{
    record_state(p, ev);
    if (p->r[ev->rank].finalizing)
        return fail_epoch(p, ev->now_ms, -ESRCH, "%s(rank %d has called MPI_Finalize)", end_words(p),
                          ev->rank);
    return 0;
}

static int h_state_converge(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (ev->u.state.version > p->version)
        return protocol_error(p, ev);
    record_state(p, ev);
    if (p->r[ev->rank].finalizing)
        return fail_epoch(p, ev->now_ms, -ESRCH, "%s(rank %d has called MPI_Finalize)", end_words(p),
                          ev->rank);
    return check_converged(p, ev->now_ms);
}

static int h_state_late(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    snprintf(r->what, sizeof r->what, "%s", ev->u.state.what ? ev->u.state.what : "");
    /* a rank that ran on at "recovered" (node-local first) and reached MPI_Finalize while its
     * images are staged: its agent says so once, now. Kept, so that a request queued behind
     * this epoch is refused as the job ends instead of starting an epoch its ranks leave
     * (review U: "rank 0 ended during the checkpoint (while it was to answer the checkpoint
     * request)" for a job that had finished normally) */
    if (ev->u.state.finalizing && !r->finalizing) {
        r->finalizing = 1;
        if (p->finalizing_rank < 0)
            p->finalizing_rank = ev->rank;
    }
    return 0;
}

static int min_step(const struct snapc_proto *p)
{
    int m = 3;
    for (int i = 0; i < p->nranks; i++)
        if (!p->r[i].gone && p->r[i].step < m)
            m = p->r[i].step;
    return m;
}

/* The step a rank in step m of QUIESCE..CAPTURE has not done yet (its name, what it does). */
static const char *const wait_steps[3][2] = {
    {"quiesce", "close the gate"}, {"drain", "drain the messages"}, {"capture", "write the image"}};

/* 1 when rank r has not done what the current phase waits for (m: min_step, in QUIESCE..CAPTURE) */
static int waits_for(const struct snapc_proto *p, const struct snapc_rank_rec *r, int m)
{
    switch (p->phase) {
    case SNAPC_P_SEQS: return !r->gone && !r->seqs_in;
    case SNAPC_P_CONVERGE: return !r->gone && !converged_rank(p, r);
    case SNAPC_P_QUIESCE:
    case SNAPC_P_DRAIN:
    case SNAPC_P_CAPTURE: return !r->gone && r->step == m && m < 3;
    case SNAPC_P_STAGE: return !r->staged && (!r->gone || r->proxied);
    default: return 0;
    }
}

int snapc_proto_waiting(const struct snapc_proto *p, int *out, int max, const char **step,
                        const char **task)
{
    int m = min_step(p), n = 0;
    *step = *task = "";
    for (int i = 0; i < p->nranks; i++)
        if (waits_for(p, &p->r[i], m)) {
            if (n < max)
                out[n] = i;
            n++;
        }
    if (!n)
        return 0;
    switch (p->phase) {
    case SNAPC_P_SEQS: *step = "targets", *task = "answer the checkpoint request"; break;
    case SNAPC_P_CONVERGE: *step = "targets", *task = "reach the targets"; break;
    case SNAPC_P_STAGE: *step = "stage", *task = "copy the image to the shared directory"; break;
    default: *step = wait_steps[m][0], *task = wait_steps[m][1]; break;
    }
    return n;
}

int snapc_proto_holds(const struct snapc_proto *p)
{
    return (p->flags & SNAPC_PROTO_HOLD_FLAGS) != 0 || p->files[0] || p->files_always;
}

/* Moves the job phase on as far as every rank has come. */
static int advance(struct snapc_proto *p, int64_t now)
{
    int m = min_step(p);
    if (m >= 1 && p->phase == SNAPC_P_QUIESCE) {
        p->phase = SNAPC_P_DRAIN;
        if (progress(p, SNAPC_PHASE_QUIESCED, now))
            return -ENOMEM;
    }
    if (m >= 2 && p->phase == SNAPC_P_DRAIN) {
        p->phase = SNAPC_P_CAPTURE;
        if (progress(p, SNAPC_PHASE_DRAINED, now))
            return -ENOMEM;
    }
    if (m >= 3 && p->phase == SNAPC_P_CAPTURE && snapc_proto_holds(p) && p->held != 2) {
        /* every image durable, every rank held: the coordinator's work that needs no rank to
         * run (--save-files' copy) before the epoch goes on; once */
        if (p->held == 0) {
            p->held = 1;
            if (!emit(p, SNAPC_ACT_HELD))
                return -ENOMEM;
        }
        return 0;
    }
    if (m >= 3 && p->phase == SNAPC_P_CAPTURE && (p->files[0] || p->files_always) &&
        p->files_state != 2) {
        /* every image durable, every rank held where its capture left it (no RESUME yet, in
         * either mode): the files are copied now, and nothing moves on until they are */
        if (p->files_state == 0) {
            p->files_state = 1;
            if (!emit(p, SNAPC_ACT_SAVE_FILES))
                return -ENOMEM;
        }
        return 0;
    }
    if (m >= 3 && p->phase == SNAPC_P_CAPTURE && p->stage) {
        /* every image is durable in its node's cache: the job runs on ("recovered") unless
         * the epoch ends it, and the images go to shared storage */
        p->phase = SNAPC_P_STAGE;
        p->deadline = now + (int64_t)p->capture_timeout_s * 1000;
        if (progress(p, SNAPC_PHASE_CAPTURED, now))
            return -ENOMEM;
        if (!(p->flags & (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP))) {
            struct snapc_action *a = emit(p, SNAPC_ACT_RESUME);
            if (!a)
                return -ENOMEM;
            a->arg = SNAPC_RESUME_CONTINUE;
            a->status = 1;
            p->resumed = 1;
            if (progress(p, SNAPC_PHASE_RECOVERED, now))
                return -ENOMEM;
            /* the answer of a tool that does not wait for the staging (--no-wait-stage) is
             * made from `ended` at this progress: the epoch's numbers so far */
            save_ended(p);
        }
        return emit(p, SNAPC_ACT_STAGE) ? 0 : -ENOMEM;
    }
    if (m >= 3 && p->phase == SNAPC_P_CAPTURE) {
        p->phase = SNAPC_P_COMMIT;
        p->deadline = -1;
        if (progress(p, SNAPC_PHASE_CAPTURED, now) || !emit(p, SNAPC_ACT_COMMIT))
            return -ENOMEM;
    }
    return 0;
}

static int step(struct snapc_proto *p, const struct snapc_event *ev, int from)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    if (r->step != from)
        return protocol_error(p, ev);
    r->step = from + 1;
    return advance(p, ev->now_ms);
}

static int h_quiesced(struct snapc_proto *p, const struct snapc_event *ev)
{
    return step(p, ev, 0);
}

static int h_drained(struct snapc_proto *p, const struct snapc_event *ev)
{
    p->r[ev->rank].drain = ev->u.drained;
    return step(p, ev, 1);
}

static int h_captured(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    r->bytes = ev->u.captured.bytes;
    r->checksum = ev->u.captured.checksum;
    r->captured_ms = ev->now_ms;
    return step(p, ev, 2);
}

static int h_failed(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (ev->u.failed.err == ESHUTDOWN && ev->u.failed.phase == SNAPC_PHASE_REQUESTED) {
        /* the rank's agent got the request in MPI_Finalize (its STATE saying so was not in
         * yet): the job's normal end, not a rank's failure */
        struct snapc_rank_rec *r = &p->r[ev->rank];
        r->finalizing = 1;
        if (p->finalizing_rank < 0)
            p->finalizing_rank = ev->rank;
        return fail_epoch(p, ev->now_ms, -ESRCH, "%s(rank %d has called MPI_Finalize)", end_words(p),
                          ev->rank);
    }
    int e = ev->u.failed.err > 0 ? -ev->u.failed.err : -EIO;
    const char *msg = ev->u.failed.msg && ev->u.failed.msg[0] ? ev->u.failed.msg : "no reason given";
    /* what the rank was doing, as it says (it may be ahead of the job's phase) */
    const char *what = doing[p->phase];
    switch (ev->u.failed.phase) {
    case SNAPC_PHASE_REQUESTED: what = doing[SNAPC_P_SEQS]; break;
    case SNAPC_PHASE_PENDING:
    case SNAPC_PHASE_RUNNING: what = doing[SNAPC_P_CONVERGE]; break;
    case SNAPC_PHASE_QUIESCED: what = doing[SNAPC_P_QUIESCE]; break;
    case SNAPC_PHASE_DRAINED: what = doing[SNAPC_P_DRAIN]; break;
    case SNAPC_PHASE_CAPTURED: what = doing[SNAPC_P_CAPTURE]; break;
    default: break;
    }
    return fail_epoch(p, ev->now_ms, e, "rank %d could not %s: %s", ev->rank, what, msg);
}

/* The coordinator's work under the hold is done (SNAPC_ACT_HELD): the epoch goes on, or fails
 * with its reason (every rank released by the ABORT, the sequence discarded). One of another
 * epoch, or one that comes when none is awaited (the epoch failed meanwhile: a rank ended), is
 * stale. */
static int h_held_done(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (p->held != 1 || ev->u.held.epoch != p->epoch)
        return 0;
    if (ev->u.held.status < 0)
        return fail_epoch(p, ev->now_ms, ev->u.held.status, "%s",
                          ev->u.held.msg && ev->u.held.msg[0] ? ev->u.held.msg
                                                              : "the coordinator failed while the ranks were held");
    p->held = 2;
    return advance(p, ev->now_ms);
}

/* Every rank's image verified on shared storage (its own STAGED or its partner copy's
 * STAGED_FOR; a rank gone before the epoch has none to give): the commit. */
static int all_staged(struct snapc_proto *p)
{
    for (int i = 0; i < p->nranks; i++)
        if (!p->r[i].staged && (!p->r[i].gone || p->r[i].proxied))
            return 0;
    p->phase = SNAPC_P_COMMIT;
    p->deadline = -1;
    return emit(p, SNAPC_ACT_COMMIT) ? 0 : -ENOMEM;
}

/* Rank `rank` was lost (`lost`: "ended", or silent past the staging bound) before its image
 * was verified on shared storage: the rank holding its verified partner copy stages that copy
 * in its place, within a new staging bound. 1 asked, 0 not possible (no verified copy, its
 * holder gone too), -ENOMEM. */
static int try_stage_for(struct snapc_proto *p, int rank, int64_t now, const char *lost)
{
    struct snapc_rank_rec *r = &p->r[rank];
    int q = r->holder;
    if (p->phase != SNAPC_P_STAGE || !r->partnered || r->proxied || q < 0 || q >= p->nranks ||
        p->r[q].gone)
        return 0;
    r->proxied = 1;
    p->deadline = now + (int64_t)p->capture_timeout_s * 1000;
    if (emitf(p, SNAPC_ACT_STAGE_FOR, q, -1, 0,
              "rank %d %s before its image reached the shared directory: rank %d stages its "
              "partner copy in its place",
              rank, lost, q))
        return -ENOMEM;
    p->acts[p->nacts - 1].arg = (uint32_t)rank;
    return 1;
}

int snapc_proto_self_staged(struct snapc_proto *p, int rank)
{
    /* not an event: the rank is gone and cannot speak (snapc_proto_event drops its words) */
    if (p->phase != SNAPC_P_STAGE || rank < 0 || rank >= p->nranks || !p->r[rank].proxied ||
        p->r[rank].staged)
        return 0;
    p->r[rank].staged = 1;
    return all_staged(p);
}

static int h_staged(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    if (r->proxied) {
        /* a rank thought lost (silent past the bound) whose partner copy was asked for: the
         * first verified copy counts (the two have the same bytes); its own failure does not,
         * the partner copy may still come */
        if (ev->u.staged.status < 0 || r->staged)
            return 0;
        r->staged = 1;
        return all_staged(p);
    }
    if (ev->u.staged.status < 0)
        return fail_epoch(p, ev->now_ms, ev->u.staged.status,
                          "rank %d could not copy its image to the shared directory: %s", ev->rank,
                          ev->u.staged.msg && ev->u.staged.msg[0] ? ev->u.staged.msg
                                                                  : "no reason given");
    if (r->staged)
        return protocol_error(p, ev);
    r->staged = 1;
    return all_staged(p);
}

static int h_partnered(struct snapc_proto *p, const struct snapc_event *ev)
{
    struct snapc_rank_rec *r = &p->r[ev->rank];
    int q = ev->u.partnered.holder;
    if (q < 0 || q >= p->nranks || q == ev->rank)
        return 0;
    r->partnered = 1;
    r->holder = q;
    return 0;
}

static int h_staged_for(struct snapc_proto *p, const struct snapc_event *ev)
{
    int l = ev->u.staged.for_rank;
    if (l < 0 || l >= p->nranks || !p->r[l].proxied || p->r[l].holder != ev->rank)
        return protocol_error(p, ev);
    if (p->r[l].staged)
        return 0; /* its own copy came first */
    if (ev->u.staged.status < 0)
        return fail_epoch(p, ev->now_ms, ev->u.staged.status,
                          "rank %d was lost before its image reached the shared directory, and "
                          "rank %d could not stage its partner copy: %s",
                          l, ev->rank,
                          ev->u.staged.msg && ev->u.staged.msg[0] ? ev->u.staged.msg
                                                                  : "no reason given");
    p->r[l].staged = 1;
    return all_staged(p);
}

static int h_files_saved(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (p->files_state != 1)
        return 0; /* not asked this epoch: stale */
    if (ev->u.done.status < 0)
        return fail_epoch(p, ev->now_ms, ev->u.done.status,
                          "cannot save the files named by --save-files: %s",
                          ev->u.done.msg && ev->u.done.msg[0] ? ev->u.done.msg : "unknown error");
    p->files_state = 2;
    return advance(p, ev->now_ms);
}

static int h_committed(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (ev->u.done.status == 0)
        return commit_done(p, ev->now_ms);
    return fail_epoch(p, ev->now_ms, ev->u.done.status, "cannot commit the snapshot: %s",
                      ev->u.done.msg && ev->u.done.msg[0] ? ev->u.done.msg : "unknown error");
}

static int h_local_fail(struct snapc_proto *p, const struct snapc_event *ev)
{
    return fail_epoch(p, ev->now_ms, ev->u.done.status ? ev->u.done.status : -EIO, "%s",
                      ev->u.done.msg && ev->u.done.msg[0] ? ev->u.done.msg : "coordinator error");
}

static void drop_client(int *list, int *n, int c)
{
    for (int i = 0; i < *n; i++)
        if (list[i] == c) {
            memmove(&list[i], &list[i + 1], (size_t)(*n - i - 1) * sizeof *list);
            (*n)--;
            return;
        }
}

/* A tool went away (interrupted, or it withdrew: coord_tool.c). Its part in an epoch that has
 * begun stays (the epoch goes on); a queued request is withdrawn whole: the flags of the next
 * epoch are those of the requests still queued (before, a withdrawn --term still ended the job
 * at the next snapshot another request or MPIX_Checkpoint asked for) */
static int h_cancel(struct snapc_proto *p, const struct snapc_event *ev)
{
    drop_client(p->clients, &p->nclients, ev->u.req.client);
    /* (its connection's slot may be another tool's next: never one an ended epoch answers) */
    drop_client(p->ended.clients, &p->ended.nclients, ev->u.req.client);
    for (int i = 0; i < p->nnext; i++)
        if (p->next_clients[i] == ev->u.req.client) {
            size_t rest = (size_t)(p->nnext - i - 1);
            memmove(&p->next_clients[i], &p->next_clients[i + 1], rest * sizeof *p->next_clients);
            memmove(&p->next_client_flags[i], &p->next_client_flags[i + 1],
                    rest * sizeof *p->next_client_flags);
            free(p->next_client_files[i]);
            memmove(&p->next_client_files[i], &p->next_client_files[i + 1],
                    rest * sizeof *p->next_client_files);
            p->nnext--;
            p->next_client_files[p->nnext] = NULL;
            p->next_flags = 0;
            p->next_files[0] = 0;
            for (int k = 0; k < p->nnext; k++) {
                p->next_flags |= p->next_client_flags[k];
                merge_files(p->next_files, p->next_client_files[k]); /* fitted before */
            }
            break;
        }
    if (p->nnext == 0 && p->next_source == SNAPC_SRC_TOOL)
        p->next_wanted = 0;
    return 0;
}

static int h_tick(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (p->deadline < 0 || ev->now_ms < p->deadline)
        return 0;
    char why[256];
    switch (p->phase) {
    case SNAPC_P_SEQS:
        for (int i = 0; i < p->nranks; i++)
            if (!p->r[i].gone && !p->r[i].seqs_in)
                return fail_epoch(p, ev->now_ms, -ETIMEDOUT,
                                  "rank %d did not answer the checkpoint request within %u s", i,
                                  p->timeout_s);
        return 0;
    case SNAPC_P_CONVERGE:
        convergence_blame(p, why, sizeof why);
        return fail_epoch(p, ev->now_ms, -ETIMEDOUT, "%s (targets not reached within %u s)", why,
                          p->timeout_s);
    case SNAPC_P_QUIESCE:
    case SNAPC_P_DRAIN:
    case SNAPC_P_CAPTURE: {
        static const char *const steps[3] = {"close its gate", "drain its messages",
                                             "write its image"};
        int m = min_step(p);
        for (int i = 0; i < p->nranks; i++)
            if (!p->r[i].gone && p->r[i].step == m && m < 3)
                return fail_epoch(p, ev->now_ms, -ETIMEDOUT, "rank %d did not %s within %u s", i,
                                  steps[m], p->capture_timeout_s);
        /* every rank held: the coordinator's own work then is bounded too, or the job stays held */
        if (p->held == 1)
            return fail_epoch(p, ev->now_ms, -ETIMEDOUT, "the coordinator's work while every rank "
                              "was held did not end within %u s", p->capture_timeout_s);
        return 0;
    }
    case SNAPC_P_STAGE:
        for (int i = 0; i < p->nranks; i++) {
            struct snapc_rank_rec *r = &p->r[i];
            if (r->staged || (r->gone && !r->proxied))
                continue;
            if (r->proxied)
                return fail_epoch(p, ev->now_ms, -ETIMEDOUT,
                                  "rank %d was lost before its image reached the shared "
                                  "directory, and rank %d did not stage its partner copy within "
                                  "%u s",
                                  i, r->holder, p->capture_timeout_s);
            /* silent (a node lost without a word: its link down) or just slow: its partner
             * copy, when there is one, is staged instead; its own copy may still come */
            int e = try_stage_for(p, i, ev->now_ms, "did not answer within the staging bound");
            if (e < 0)
                return e;
            if (e == 0)
                return fail_epoch(p, ev->now_ms, -ETIMEDOUT,
                                  "rank %d did not copy its image to the shared directory within "
                                  "%u s",
                                  i, p->capture_timeout_s);
        }
        return 0;
    default:
        return 0;
    }
}

/* ---- the table ---- */

#define ERR protocol_error
#define IGN h_ignore

/* Events that come from a rank with a current epoch.
 * A RAISE after CONVERGE is stale, never an error: a thread decides to raise while another
 * thread of its rank is still short of a target, and sends it after that other thread reached
 * it and the rank's STATE (all targets reached, current version) ended the convergence. Once
 * every rank reached every target of the current version no thread can need one raised (targets
 * only grow with the version), so the raising thread parks at its entry like the others. Seen in
 * the campaign (cc_thread, MPICH, 2 ranks: "rank 1 sent RAISE ... in phase 'quiesce'"). */
static const handler_fn table[SNAPC_P_COUNT][SNAPC_EV_COUNT] = {
    /*                   HELLO    GONE         REQUEST         SEQS    RAISE    STATE             QUIESCED   DRAINED    CAPTURED    FAILED    COMMITTED    LOCAL_FAIL    CANCEL    TICK    STAGED    PARTNERED    STAGED_FOR  FILES_SAVED  HELD_DONE */
    [SNAPC_P_IDLE]     = {h_hello, h_gone_idle, h_request_idle, IGN,    IGN,     h_state_idle,     IGN,       IGN,       IGN,        IGN,      IGN,         IGN,          h_cancel, h_tick, IGN, IGN, IGN, IGN, IGN},
    [SNAPC_P_SEQS]     = {h_hello, h_gone_epoch, h_request_busy, h_seqs, ERR,    h_state_seqs,     ERR,       ERR,       ERR,        h_failed, IGN,         h_local_fail, h_cancel, h_tick, ERR, ERR, ERR, IGN, IGN},
    [SNAPC_P_CONVERGE] = {h_hello, h_gone_epoch, h_request_busy, ERR,    h_raise, h_state_converge, ERR,       ERR,       ERR,        h_failed, IGN,         h_local_fail, h_cancel, h_tick, ERR, ERR, ERR, IGN, IGN},
    [SNAPC_P_QUIESCE]  = {h_hello, h_gone_epoch, h_request_busy, ERR,    IGN,     h_state_late,     h_quiesced, h_drained, h_captured, h_failed, IGN,        h_local_fail, h_cancel, h_tick, ERR, ERR, ERR, IGN, IGN},
    [SNAPC_P_DRAIN]    = {h_hello, h_gone_epoch, h_request_busy, ERR,    IGN,     h_state_late,     h_quiesced, h_drained, h_captured, h_failed, IGN,        h_local_fail, h_cancel, h_tick, ERR, ERR, ERR, IGN, IGN},
    [SNAPC_P_CAPTURE]  = {h_hello, h_gone_epoch, h_request_busy, ERR,    IGN,     h_state_late,     h_quiesced, h_drained, h_captured, h_failed, IGN,        h_local_fail, h_cancel, h_tick, ERR, ERR, ERR, h_files_saved, h_held_done},
    [SNAPC_P_STAGE]    = {h_hello, h_gone_epoch, h_request_busy, ERR,    IGN,     h_state_late,     ERR,       ERR,       ERR,        h_failed, IGN,         h_local_fail, h_cancel, h_tick, h_staged, h_partnered, h_staged_for, IGN, IGN},
    [SNAPC_P_COMMIT]   = {h_hello, h_gone_epoch, h_request_busy, ERR,    IGN,     h_state_late,     ERR,       ERR,       ERR,        h_failed, h_committed, h_local_fail, h_cancel, h_tick, IGN, IGN, IGN, IGN, IGN},
};

/* Events that carry a rank number. */
static int from_rank(int ev)
{
    switch (ev) {
    case SNAPC_EV_SEQS:
    case SNAPC_EV_RAISE:
    case SNAPC_EV_STATE:
    case SNAPC_EV_QUIESCED:
    case SNAPC_EV_DRAINED:
    case SNAPC_EV_CAPTURED:
    case SNAPC_EV_FAILED:
    case SNAPC_EV_STAGED:
    case SNAPC_EV_PARTNERED:
    case SNAPC_EV_STAGED_FOR:
        return 1;
    default:
        return 0;
    }
}

int snapc_proto_init(struct snapc_proto *p)
{
    memset(p, 0, sizeof *p);
    p->capture_timeout_s = SNAPC_DEFAULT_CAPTURE_TIMEOUT_S;
    p->default_timeout_s = SNAPC_DEFAULT_TIMEOUT_S;
    p->finalizing_rank = -1;
    p->ended_rank = -1;
    p->deadline = -1;
    p->phase = SNAPC_P_IDLE;
    return 0;
}

void snapc_proto_fini(struct snapc_proto *p)
{
    drop_queue(p);
    free(p->r);
    free(p->targets);
    free(p->acts);
    memset(p, 0, sizeof *p);
}

int snapc_proto_event(struct snapc_proto *p, const struct snapc_event *ev)
{
    if (ev->type < 0 || ev->type >= SNAPC_EV_COUNT)
        return -EINVAL;
    if (from_rank(ev->type)) {
        /* a rank that is unknown, never said HELLO or is gone cannot speak */
        if (ev->rank < 0 || ev->rank >= p->nranks || !p->r[ev->rank].hello || p->r[ev->rank].gone)
            return emitf(p, SNAPC_ACT_DROP_RANK, ev->rank, -1, -EPROTO,
                         "a message from rank %d, which is not connected", ev->rank);
    }
    if (ev->type == SNAPC_EV_REQUEST && ev->u.req.source == SNAPC_SRC_TOOL &&
        (is_client(p->clients, p->nclients, ev->u.req.client) ||
         is_client(p->next_clients, p->nnext, ev->u.req.client)))
        return emitf(p, SNAPC_ACT_REFUSE, -1, ev->u.req.client, -EINVAL,
                     "this connection already asked for a checkpoint");
    return table[p->phase][ev->type](p, ev);
}

int64_t snapc_proto_deadline(const struct snapc_proto *p)
{
    return p->phase == SNAPC_P_IDLE ? -1 : p->deadline;
}

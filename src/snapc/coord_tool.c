/* The tools' side of the coordinator (ckpt-mpirun, ckpt-info --live): their
 * requests (CKPT, QUERY), the progress lines, and the reply that ends each
 * request (DONE with the summary, or a refusal). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keyval.h"
#include "common/log.h"
#include "crs/base/shared_note.h"
#include "snapc/coord_int.h"

/* A rank's standard input held bytes its image leaves unread (agent_epoch.c note_stdin): a
 * restart does not get them (review9 F1). Kept from the rank's INFO of the epoch (the lowest
 * rank), not read from the connection at the summary: after --term the ranks are gone by then. */
static struct {
    uint32_t epoch;
    int rank;
    long long bytes;
    char kind[32];
    int ended;
    int saved; /* in DIR/rank_<r>.stdin, fed to a restart (agent_epoch.c save_stdin) */
} stdin_note = {.rank = -1};

void coord_stdin_note(int rank, const char *info)
{
    char n[32], kind[32], ended[8];
    if (!revive_kv_value(info, "stdin_unread", n, sizeof n))
        return;
    if (stdin_note.epoch == coord.p.epoch && stdin_note.rank >= 0 && stdin_note.rank < rank)
        return;
    stdin_note.epoch = coord.p.epoch;
    stdin_note.rank = rank;
    stdin_note.bytes = strtoll(n, NULL, 10);
    if (!revive_kv_value(info, "stdin_kind", kind, sizeof kind))
        snapc_fmt(kind, sizeof kind, "?");
    snapc_fmt(stdin_note.kind, sizeof stdin_note.kind, "%s", kind);
    stdin_note.ended =
        revive_kv_value(info, "stdin_ended", ended, sizeof ended) && !strcmp(ended, "1");
    stdin_note.saved = revive_kv_value(info, "stdin_saved", n, sizeof n);
}

static void stdin_unread(struct snapc_sbuf *b)
{
    if (stdin_note.rank < 0 || stdin_note.epoch != coord.p.ended.epoch || stdin_note.bytes <= 0)
        return;
    snapc_sb_printf(b, ",\"stdin_rank\":%d,\"stdin_unread\":%lld,\"stdin_kind\":",
                    stdin_note.rank, stdin_note.bytes);
    snapc_sb_json_str(b, stdin_note.kind);
    snapc_sb_printf(b, ",\"stdin_ended\":%s,\"stdin_saved\":%s",
                    stdin_note.ended ? "true" : "false", stdin_note.saved ? "true" : "false");
}

/* The writable shared file mappings whose pages a rank's image left to their files (the
 * "shared_file.K BYTES PATH" lines of its INFO after its capture, agent_epoch.c): kept per rank
 * with the epoch of that INFO, for the epoch's summary, as the ranks may be gone by then. */
static struct shared_note {
    uint32_t epoch;
    char *lines; /* "BYTES PATH\n" each, "+N\n" for more */
} *shared_notes;
static int nshared_notes;

void coord_shared_note(int rank, const char *info)
{
    if (rank < 0)
        return;
    if (rank >= nshared_notes) {
        int n = rank + 1 > 2 * nshared_notes ? rank + 1 : 2 * nshared_notes;
        struct shared_note *m = realloc(shared_notes, (size_t)n * sizeof *m);
        if (!m)
            return;
        memset(m + nshared_notes, 0, (size_t)(n - nshared_notes) * sizeof *m);
        shared_notes = m;
        nshared_notes = n;
    }
    struct shared_note *sn = &shared_notes[rank];
    struct snapc_sbuf b = {0};
    for (const char *l = info; l && *l;) {
        size_t n = strcspn(l, "\n");
        if (n > 12 && !strncmp(l, "shared_file.", 12)) {
            const char *v = memchr(l, ' ', n);
            if (v)
                snapc_sb_printf(&b, "%s%.*s\n", strncmp(l, "shared_file.more ", 17) ? "" : "+",
                                (int)(n - (size_t)(v + 1 - l)), v + 1);
        }
        l += n + (l[n] == '\n');
    }
    free(sn->lines);
    sn->lines = b.p; /* NULL when none */
    sn->epoch = coord.p.epoch;
}

/* The ranks whose image went straight into the snapshot directory because their node's cache
 * had no room for it, even once its older copies were gone ("local_full 1" in the INFO after
 * their capture, agent_cache.c; newuser10 F4): the epoch of each, for the epoch's summary and
 * the once-a-job warning. */
static uint32_t *full_epochs; /* epoch + 1; 0: never */
static int nfull_epochs;

void coord_local_full_note(int rank, const char *info)
{
    char v[8];
    if (rank < 0 || !revive_kv_value(info, "local_full", v, sizeof v) || strcmp(v, "1"))
        return;
    if (rank >= nfull_epochs) {
        int n = rank + 1 > 2 * nfull_epochs ? rank + 1 : 2 * nfull_epochs;
        uint32_t *m = realloc(full_epochs, (size_t)n * sizeof *m);
        if (!m)
            return;
        memset(m + nfull_epochs, 0, (size_t)(n - nfull_epochs) * sizeof *m);
        full_epochs = m;
        nfull_epochs = n;
    }
    full_epochs[rank] = coord.p.epoch + 1;
}

static int full_in(int r, void *arg)
{
    return full_epochs[r] == *(uint32_t *)arg + 1;
}

/* The ranks of EPOCH whose image went straight into the snapshot directory, "0,2,5"
 * (snapc_sb_rank_list: the first 32, then ",..."), into OUT; returns how many. */
static int local_full_ranks(uint32_t epoch, char *out, size_t len)
{
    struct snapc_sbuf b = {0};
    int n = snapc_sb_rank_list(&b, nfull_epochs, full_in, &epoch);
    snapc_fmt(out, len, "%s", b.p ? b.p : "");
    snapc_sb_free(&b);
    return n;
}

void coord_local_full_warn_once(uint64_t seq, uint32_t epoch)
{
    static int said;
    char ranks[256];
    int n = local_full_ranks(epoch, ranks, sizeof ranks);
    if (said || !n)
        return;
    said = 1;
    revive_log_warn("snapshot %llu: the node-local cache (%s) had no room for the image of rank%s "
                    "%s even once its older copies were gone: written straight into the snapshot "
                    "directory instead (slower; give a larger --ckpt-local DIR to keep the cache "
                    "in use; said once a job)",
                    (unsigned long long)seq,
                    coord.cfg->local_dir && *coord.cfg->local_dir ? coord.cfg->local_dir
                                                                  : "each host's default",
                    n == 1 ? "" : "s", ranks);
}

/* ,"unsaved_shared":[{"rank":R,"bytes":B,"path":"P"},...] (at most 64; the others counted in
 * "unsaved_shared_more") for the epoch that ended, when some rank had such mappings */
static void unsaved_shared(struct snapc_sbuf *b)
{
    int listed = 0;
    long long more = 0;
    for (int r = 0; r < nshared_notes; r++) {
        const struct shared_note *sn = &shared_notes[r];
        if (!sn->lines || sn->epoch != coord.p.ended.epoch)
            continue;
        const char *cur = sn->lines;
        struct crs_shared_line l;
        while (crs_shared_note_next(&cur, 0, &l)) {
            if (l.more || listed == 64) {
                more += l.more ? (long long)l.more : 1;
                continue;
            }
            char path[PATH_MAX];
            snapc_fmt(path, sizeof path, "%.*s", l.pathlen, l.path);
            snapc_sb_printf(b, "%s{\"rank\":%d,\"bytes\":%llu,\"path\":", listed ? "," : ",\"unsaved_shared\":[",
                            r, l.bytes);
            snapc_sb_json_str(b, path);
            snapc_sb_printf(b, "}");
            listed++;
        }
    }
    if (listed)
        snapc_sb_printf(b, "]");
    if (more)
        snapc_sb_printf(b, ",\"unsaved_shared_more\":%lld", more);
}

/* A snapshot no tool asked for (the interval timer, MPIX_Checkpoint) has nobody to print
 * ckpt-mpirun's warnings: the coordinator says them itself, on the job's standard error, at the
 * first such commit that leaves some writable shared file mapping to its file (once a job: every
 * later snapshot would say the same; the snapshot's metadata keeps them all, ckpt-info shows
 * them). At most SHARED_WARN_LINES lines, then one saying how many more were left out and
 * whose (diffrev34 R-L22: the rest went unsaid). */
#define SHARED_WARN_LINES 8
void coord_shared_warn_once(uint64_t seq, uint32_t epoch)
{
    static int said;
    int n = 0, first_left = -1, last_left = -1;
    unsigned long long left = 0;
    char whom[32], w[PATH_MAX + 300];
    for (int r = 0; !said && r < nshared_notes; r++) {
        const struct shared_note *sn = &shared_notes[r];
        if (!sn->lines || sn->epoch != epoch)
            continue;
        const char *cur = sn->lines;
        struct crs_shared_line l;
        while (crs_shared_note_next(&cur, 0, &l)) {
            if (n == SHARED_WARN_LINES) {
                left += l.more ? l.more : 1;
                if (first_left < 0)
                    first_left = r;
                last_left = r;
                continue;
            }
            snapc_fmt(whom, sizeof whom, "rank %d", r);
            crs_shared_warning(w, sizeof w, whom, &l, "snapshot", "mpirun --ckpt-save-shared", "ckpt-info");
            revive_log_warn("snapshot %llu: %s%s", (unsigned long long)seq, w,
                            l.more ? "" : "; said once a job, ckpt-info lists every snapshot's");
            n++;
        }
    }
    if (left) {
        if (first_left == last_left)
            snapc_fmt(whom, sizeof whom, "rank %d", first_left);
        else
            snapc_fmt(whom, sizeof whom, "ranks %d-%d", first_left, last_left);
        struct crs_shared_line l = {.more = left};
        crs_shared_warning(w, sizeof w, whom, &l, "snapshot", NULL, "ckpt-info");
        revive_log_warn("snapshot %llu: %s", (unsigned long long)seq, w);
    }
    if (n)
        said = 1;
}

/* The summary a tool gets (JSON): the numbers of the epoch that ended (proto.h's `ended`: a
 * queued request may have started the next one already), ref its snapshot's directory. */
static void summary(struct snapc_sbuf *b, int status, const char *text, const char *ref)
{
    const struct snapc_epoch_summary *p = &coord.p.ended;
    int64_t t0 = p->t_phase[SNAPC_PHASE_REQUESTED];
#define PH(x) (p->t_phase[x] ? (long long)(p->t_phase[x] - t0) : -1LL)
    /* node-local first, --no-wait-stage: the answer comes at "recovered", before the commit */
    int staging = status == 0 && coord.p.phase == SNAPC_P_STAGE && p->seq == coord.p.seq &&
                  p->epoch == coord.p.epoch;
    snapc_sb_printf(b, "{\"status\":%s,\"seq\":%llu,\"epoch\":%u,\"ranks\":%d",
                    staging ? "\"staging\"" : status == 0 ? "\"committed\"" : "\"no checkpoint\"",
                    (unsigned long long)p->seq, p->epoch, p->nranks);
    if (status == 0) {
        snapc_sb_printf(b, ",\"reference\":");
        snapc_sb_json_str(b, ref);
        snapc_sb_printf(b, ",\"bytes\":%llu,\"raises\":%u", (unsigned long long)p->bytes, p->raises);
        /* how the snapshot left the job: requests that shared it (--wait) may have asked
         * otherwise than this tool (newuser12 F3) */
        snapc_sb_printf(b, ",\"job_after\":\"%s\"",
                        (p->flags & SNAPC_TOOL_TERM)   ? "ended"
                        : (p->flags & SNAPC_TOOL_STOP) ? "stopped"
                                                       : "running");
        if (p->flags & SNAPC_TOOL_SAVE_SHARED)
            snapc_sb_printf(b, ",\"save_shared\":true");
        snapc_sb_printf(b,
                        ",\"ms\":{\"targets\":%lld,\"converged\":%lld,\"quiesced\":%lld,"
                        "\"drained\":%lld,\"captured\":%lld,\"established\":%lld,"
                        "\"recovered\":%lld}",
                        PH(SNAPC_PHASE_PENDING), p->t_phase[SNAPC_PHASE_QUIESCED] ? PH(SNAPC_PHASE_QUIESCED) : -1LL,
                        PH(SNAPC_PHASE_QUIESCED), PH(SNAPC_PHASE_DRAINED), PH(SNAPC_PHASE_CAPTURED),
                        PH(SNAPC_PHASE_ESTABLISHED), PH(SNAPC_PHASE_RECOVERED));
        stdin_unread(b);
        unsaved_shared(b);
        char full[256];
        if (local_full_ranks(p->epoch, full, sizeof full)) {
            snapc_sb_printf(b, ",\"local_full\":");
            snapc_sb_json_str(b, full);
        }
        /* --save-files: what the snapshot keeps (coord_files.c; reset only by the next epoch's
         * CKPT, which comes after this epoch's answers) */
        const char *roots = filem_meta_get(&coord.files_meta, "files.roots");
        const char *cnt = filem_meta_get(&coord.files_meta, "files.count");
        if (roots && cnt && p->epoch == coord.p.epoch) {
            snapc_sb_printf(b, ",\"saved_files\":");
            snapc_sb_json_str(b, roots);
            snapc_sb_printf(b, ",\"saved_entries\":%s", cnt);
        }
        const char *absent = filem_meta_get(&coord.files_meta, "files.absent");
        if (absent && p->epoch == coord.p.epoch) {
            snapc_sb_printf(b, ",\"absent_files\":");
            snapc_sb_json_str(b, absent);
        }
    } else {
        snapc_sb_printf(b, ",\"error\":");
        snapc_sb_json_str(b, text);
        snapc_sb_printf(b, ",\"errno\":%d", -status);
    }
    snapc_sb_printf(b, "}");
#undef PH
}

void coord_send_done(int client, int status, const char *text, int epoch_summary)
{
    if (client < 0 || client >= coord.nc || coord.c[client].kind != C_TOOL)
        return;
    char ref[PATH_MAX] = "";
    if (status == 0 && epoch_summary)
        filem_seq_path(ref, sizeof ref, coord.jobdir, coord.p.ended.seq);
    struct snapc_sbuf b = {0};
    if (epoch_summary)
        summary(&b, status, text, ref);
    else {
        snapc_sb_printf(&b, "{\"status\":\"refused\",\"error\":");
        snapc_sb_json_str(&b, text);
        snapc_sb_printf(&b, ",\"errno\":%d}", -status);
    }
    struct snapc_tool_done d = {.status = status, .ref_len = (uint32_t)strlen(ref),
                                .seq = epoch_summary ? coord.p.ended.seq : coord.p.seq};
    struct snapc_sbuf tail = {0};
    snapc_sb_printf(&tail, "%s%s", ref, b.p ? b.p : "{}");
    coord_conn_send(client, SNAPC_TOOL_DONE, &d, sizeof d, tail.p, (uint32_t)tail.len);
    snapc_sb_free(&b);
    snapc_sb_free(&tail);
    coord_conn_close(client);
}

void coord_act_done(const struct snapc_action *a)
{
    int i = a->client;
    if (i < 0 || i >= coord.nc || coord.c[i].kind != C_TOOL)
        return;
    if (a->status == 0 && ((coord.term_pending && !coord.child_done) || coord_stop_defer())) {
        /* --term: the tool hears once the job has ended; --stop: once it is stopped */
        coord.c[i].done_deferred = 1;
        coord.c[i].done_status = a->status;
        coord.c[i].done_seq = a->seq;
        return;
    }
    if (a->status != 0 && coord_job_stopped()) {
        /* the ranks were stopped the whole time: that is why, not the rank the protocol names */
        char why[sizeof a->text + 160];
        snapc_fmt(why, sizeof why, "the job is stopped (ckpt-mpirun --stop) and was not continued "
                  "(kill -CONT %d), so %s", (int)getpid(), a->text);
        coord_send_done(i, a->status, why, 1);
        return;
    }
    if (a->status != 0 && coord.end_signal && coord.end_signal_ms >= coord.mono_start) {
        /* a signal that ends the job (SIGTERM to mpirun: a batch system's cancel) came during
         * the checkpoint: that is why a rank ended, not a fault of the rank (review newuser7 L4:
         * "rank 0 ended during the checkpoint" alone). One from before this checkpoint, which the
         * job outlived, is not the reason (diffrev27 I-M1). */
        char why[sizeof a->text + 96];
        snapc_fmt(why, sizeof why, "the job was sent SIG%s during the checkpoint and is ending: %s",
                  sigabbrev_np(coord.end_signal), a->text);
        coord_send_done(i, a->status, why, 1);
        return;
    }
    char stopped[384];
    if (a->status == -ETIMEDOUT && coord_ranks_stopped(stopped, sizeof stopped) > 0) {
        /* the silence the protocol timed out on has a reason a user can undo */
        char why[sizeof a->text + sizeof stopped + 8];
        snapc_fmt(why, sizeof why, "%s, so %s", stopped, a->text);
        coord_send_done(i, a->status, why, 1);
        return;
    }
    coord_send_done(i, a->status, a->text, 1);
}

/* 1 when client i is among n in list */
static int among(const int *list, int n, int i)
{
    for (int k = 0; k < n; k++)
        if (list[k] == i)
            return 1;
    return 0;
}

/* 1 when tool i's request is one EPOCH answers. The actions of an event run once the protocol
 * has moved on: the commit that ends an epoch starts the next one for the requests queued behind
 * it (--wait) in the same event, so "every tool that asked" at the ended epoch's Established
 * held those queued ones, which printed it as their own phase, before their own Requested
 * (newuser47 L2), and a queued --no-wait-stage one got the ended epoch's answer. */
static int of_epoch(uint32_t epoch, int i)
{
    const struct snapc_proto *p = &coord.p;
    if (coord.c[i].kind != C_TOOL || !coord.c[i].asked || coord.c[i].done_deferred)
        return 0;
    if (epoch == p->epoch && p->phase != SNAPC_P_IDLE)
        return among(p->clients, p->nclients, i);
    return epoch == p->ended.epoch && among(p->ended.clients, p->ended.nclients, i);
}

/* 1 when tool i waits for a later epoch than EPOCH: queued behind it, or its own begun since */
static int after_epoch(uint32_t epoch, int i)
{
    const struct snapc_proto *p = &coord.p;
    if (coord.c[i].kind != C_TOOL || !coord.c[i].asked || coord.c[i].done_deferred)
        return 0;
    return among(p->next_clients, p->nnext, i) ||
           (p->epoch != epoch && p->phase != SNAPC_P_IDLE && among(p->clients, p->nclients, i));
}

void coord_act_progress(const struct snapc_action *a)
{
    /* the phase of an epoch that has ended already (a queued request began the next) */
    const int64_t *tp = a->epoch == coord.p.epoch ? coord.p.t_phase : coord.p.ended.t_phase;
    int64_t t = tp[a->arg] - tp[SNAPC_PHASE_REQUESTED];
    revive_log_info("checkpoint %llu: %s (%lld ms)", (unsigned long long)a->seq, a->text,
                    (long long)t);
    char line[sizeof a->text];
    snapc_fmt(line, sizeof line, "%s", a->text);
    for (int i = 0; i < coord.nc; i++)
        if (of_epoch(a->epoch, i) && (coord.c[i].tool_flags & SNAPC_TOOL_STATUS))
            coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
    if (a->arg == SNAPC_PHASE_ESTABLISHED || a->arg == SNAPC_PHASE_NO_CKPT) {
        /* a request queued behind it hears that the checkpoint ahead ended, in words that are
         * no phase of its own (it said "Queued (after the checkpoint in progress, sequence N)") */
        snapc_fmt(line, sizeof line, "the checkpoint ahead of this one (sequence %llu) %s",
                  (unsigned long long)a->seq,
                  a->arg == SNAPC_PHASE_ESTABLISHED ? "is committed" : "ended without a snapshot");
        for (int i = 0; i < coord.nc; i++)
            if (after_epoch(a->epoch, i) && (coord.c[i].tool_flags & SNAPC_TOOL_STATUS))
                coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
    }
    if (a->arg == SNAPC_PHASE_RECOVERED && coord.p.phase == SNAPC_P_STAGE && a->epoch == coord.p.epoch)
        /* node-local first: a tool that does not wait for the staging has its answer now (its
         * own epoch's: not one queued behind it) */
        for (int i = 0; i < coord.nc; i++)
            if (of_epoch(a->epoch, i) && (coord.c[i].tool_flags & SNAPC_TOOL_NOWAIT_STAGE))
                coord_send_done(i, 0, NULL, 1);
}

void coord_tool_note(uint32_t epoch, const char *line)
{
    for (int i = 0; i < coord.nc; i++)
        if (of_epoch(epoch, i))
            coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
}

/* The user interrupted ckpt-mpirun (^C) after its request was sent: the request is withdrawn
 * when still queued (behind another epoch, or for the job's start), and stays when its epoch has
 * begun, whose commit and --term or --stop go on (the ranks may be held, their images half
 * written: taking that back is a failed epoch, which is no one's wish). The tool is told which,
 * with the reference the snapshot will have, how the job is left after it, and then closed
 * (newuser15 F1: it said "a checkpoint that has begun goes on ..., one still queued is
 * withdrawn", the user left to guess whether the --term'd job survived). */
void coord_tool_withdraw(int i)
{
    struct conn *c = &coord.c[i];
    struct snapc_sbuf b = {0};
    uint64_t seq = 0;
    uint32_t flags = 0;
    int begun = 0, committed = 0;
    if (c->done_deferred) {
        /* committed; the answer waited for the job's end (--term) or its stop */
        begun = committed = 1;
        seq = c->done_seq;
        flags = coord.p.ended.flags;
    } else if (coord.p.phase != SNAPC_P_IDLE && among(coord.p.clients, coord.p.nclients, i)) {
        begun = 1;
        seq = coord.p.seq;
        flags = coord.p.flags;
    }
    if (begun) {
        char ref[PATH_MAX];
        filem_seq_path(ref, sizeof ref, coord.jobdir, seq);
        snapc_sb_printf(&b, "{\"withdrawn\":false,\"seq\":%llu,\"committed\":%s,\"reference\":",
                        (unsigned long long)seq, committed ? "true" : "false");
        snapc_sb_json_str(&b, ref);
        snapc_sb_printf(&b, ",\"job_after\":\"%s\",\"job_stopped\":%s}",
                        (flags & SNAPC_TOOL_TERM)   ? "ended"
                        : (flags & SNAPC_TOOL_STOP) ? "stopped"
                                                    : "running",
                        !committed && coord_job_stopped() ? "true" : "false");
        revive_log_info("a tool was interrupted after its checkpoint (sequence %llu) began: "
                        "it goes on", (unsigned long long)seq);
    } else {
        char behind[160];
        if (coord.p.phase != SNAPC_P_IDLE)
            snapc_fmt(behind, sizeof behind, "behind the checkpoint in progress, sequence %llu",
                      (unsigned long long)coord.p.seq);
        else if (coord.cfg->restart_of && !coord.recovered)
            snapc_fmt(behind, sizeof behind, "for the job's restore (restart-mpi)");
        else
            snapc_fmt(behind, sizeof behind, "for the job's start");
        snapc_sb_printf(&b, "{\"withdrawn\":true,\"queued\":");
        snapc_sb_json_str(&b, behind);
        snapc_sb_printf(&b, ",\"job_stopped\":%s}", coord_job_stopped() ? "true" : "false");
        revive_log_info("a tool withdrew its queued checkpoint request");
    }
    coord_conn_send(i, SNAPC_TOOL_WITHDRAWN, NULL, 0, b.p, (uint32_t)b.len);
    snapc_sb_free(&b);
    /* the end of the connection takes a queued request out of the queue (h_cancel), and this
     * tool out of the begun epoch's answers */
    coord_conn_close(i);
}

void coord_tool_frame(int i)
{
    struct conn *c = &coord.c[i];
    const struct snapc_hdr *h = &c->rd.hdr;
    char err[160];
    if (c->foreign_uid) {
        coord_refuse_foreign(i);
        return;
    }
    if (snapc_wire_check(h, c->rd.buf, err, sizeof err) < 0) {
        revive_log_info("a tool sent a malformed request (%s); closed", err);
        coord_conn_close(i);
        return;
    }
    if (h->type == SNAPC_TOOL_QUERY) {
        struct snapc_sbuf b = {0};
        snapc_sb_printf(&b, "{\"job_id\":%d,\"launcher_pid\":%d,\"flavor\":", (int)getpid(),
                        (int)coord.child);
        snapc_sb_json_str(&b, coord.cfg->flavor);
        snapc_sb_printf(&b, ",\"ranks\":%d,\"ready\":%d,\"phase\":", coord.p.nranks, coord.p.nhello);
        snapc_sb_json_str(&b, coord.p.phase == SNAPC_P_IDLE ? "idle" : snapc_phase_name(coord.p.job_phase));
        snapc_sb_printf(&b, ",\"epoch\":%u,\"next_seq\":%llu,\"snapshot_dir\":", coord.p.epoch,
                        (unsigned long long)coord.p.next_seq);
        snapc_sb_json_str(&b, coord.jobdir);
        snapc_sb_printf(&b, ",\"interval_s\":%d,\"keep\":%d", coord.cfg->interval_s, coord.cfg->keep);
        if (coord.p.last_error[0]) {
            snapc_sb_printf(&b, ",\"last_error\":");
            snapc_sb_json_str(&b, coord.p.last_error);
        }
        snapc_sb_printf(&b, "}");
        coord_conn_send(i, SNAPC_TOOL_INFO, NULL, 0, b.p, (uint32_t)b.len);
        snapc_sb_free(&b);
        coord_conn_close(i);
        return;
    }
    if (h->type == SNAPC_TOOL_WITHDRAW && c->asked) {
        coord_tool_withdraw(i);
        return;
    }
    if (h->type != SNAPC_TOOL_CKPT) {
        revive_log_info("a tool sent a message of type %u; closed", h->type);
        coord_conn_close(i);
        return;
    }
    struct snapc_tool_ckpt t;
    memcpy(&t, c->rd.buf, sizeof t);
    /* --save-files PATH[,PATH...]: checked here, in the job's working directory (relative PATHs
     * are the job's, not the tool's), refused before any epoch when one is missing */
    char files[SNAPC_FILES_LIST_MAX];
    uint32_t fl = c->rd.hdr.len - (uint32_t)sizeof t;
    files[0] = 0;
    if (fl > 0) {
        char ferr[1024];
        int e = fl < sizeof files && !memchr(c->rd.buf + sizeof t, 0, fl) ? 0 : -E2BIG;
        if (e == 0) {
            char rel[SNAPC_FILES_LIST_MAX];
            memcpy(rel, c->rd.buf + sizeof t, fl);
            rel[fl] = 0;
            e = coord_files_check(rel, ferr, sizeof ferr);
            /* absolute (this directory's), so that each PATH is one name when merged */
            if (e == 0 && coord_files_absolute(rel, files, sizeof files) < 0) {
                e = -E2BIG;
                snapc_fmt(ferr, sizeof ferr, "--save-files: the list of paths is longer than %d "
                          "bytes once made absolute; name fewer (a directory saves what it holds)",
                          SNAPC_FILES_LIST_MAX - 1);
            }
        } else
            snapc_fmt(ferr, sizeof ferr, "--save-files: the list of paths is longer than %d bytes "
                      "(or holds a NUL byte); name fewer (a directory saves what it holds)",
                      SNAPC_FILES_LIST_MAX - 1);
        if (e < 0) {
            c->asked = 1;
            coord_send_done(i, e, ferr, 0);
            return;
        }
    }
    c->tool_flags = t.flags;
    c->req_timeout_s = t.timeout_s;
    c->asked = 1;
    if (coord.child_done) {
        /* the launcher has ended; the coordinator waits for the last ranks to go */
        coord_send_done(i, -ESRCH, "the job ended", 0);
        return;
    }
    if (coord.p.phase == SNAPC_P_IDLE)
        coord_update_next_seq();
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TOOL;
    ev.u.req.client = i;
    ev.u.req.flags = t.flags;
    ev.u.req.timeout_s = t.timeout_s;
    ev.u.req.files = files[0] ? files : NULL;
    coord_feed(&ev);
    if (coord.c[i].kind == C_TOOL && coord_job_stopped()) {
        /* the ranks reach no safe point until continued: say so now, not after the timeout
         * (the request stays: a job continued in time is checkpointed) */
        char line[256];
        snapc_fmt(line, sizeof line,
                  "the job is stopped (ckpt-mpirun --stop): the checkpoint waits until it is "
                  "continued with kill -CONT %d, or fails after its timeout",
                  (int)getpid());
        coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
    }
    /* --wait on a job still starting: bounded, and said (coord_startwait.c) */
    coord_start_wait_begin(i, t.timeout_s);
    /* --wait --status: say that the request waits (behind an epoch, or for the ranks) */
    if (coord.c[i].kind == C_TOOL && (t.flags & SNAPC_TOOL_STATUS))
        for (int k = 0; k < coord.p.nnext; k++)
            if (coord.p.next_clients[k] == i) {
                char line[160];
                if (coord.p.phase != SNAPC_P_IDLE)
                    snapc_fmt(line, sizeof line,
                              "Queued (after the checkpoint in progress, sequence %llu)",
                              (unsigned long long)coord.p.seq);
                else if (coord.cfg->restart_of && !coord.recovered)
                    snapc_fmt(line, sizeof line, "Queued (the job is being restored: %d of %d "
                              "ranks back)", coord.p.nhello,
                              coord.p.nranks > 0 ? coord.p.nranks : coord.restart_ranks);
                else if (coord.p.nranks == 0)
                    snapc_fmt(line, sizeof line, "Queued (the job is starting: no rank is ready yet)");
                else
                    snapc_fmt(line, sizeof line, "Queued (the job is starting: %d of %d ranks ready)",
                              coord.p.nhello, coord.p.nranks);
                coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, line, (uint32_t)strlen(line));
                break;
            }
}

void coord_refuse_foreign(int i)
{
    char why[160];
    snapc_fmt(why, sizeof why, "this job belongs to another user (uid %u)", (unsigned)geteuid());
    struct snapc_sbuf b = {0};
    snapc_sb_printf(&b, "{\"status\":\"refused\",\"error\":");
    snapc_sb_json_str(&b, why);
    snapc_sb_printf(&b, ",\"errno\":%d}", EPERM);
    struct snapc_tool_done d = {.status = -EPERM};
    snapc_wire_send(coord.c[i].fd, SNAPC_TOOL_DONE, 0, &d, sizeof d, b.p, (uint32_t)b.len, 1000);
    snapc_sb_free(&b);
    coord_conn_close(i);
}

void coord_flush_deferred(void)
{
    for (int i = 0; i < coord.nc; i++)
        if (coord.c[i].kind == C_TOOL && coord.c[i].done_deferred) {
            coord.c[i].done_deferred = 0;
            coord_send_done(i, coord.c[i].done_status, "", 1);
        }
}

/* Reads, for at most 2 s, the requests of the tools that have not sent theirs whole yet. */
static void read_late_requests(void)
{
    int64_t until = coord_now_ms() + 2000;
    for (;;) {
        struct pollfd pf[64];
        int n = 0;
        for (int i = 0; i < coord.nc && n < 64; i++) {
            struct conn *c = &coord.c[i];
            if (c->kind != C_TOOL || c->asked)
                continue;
            int r = snapc_reader_feed(c->fd, &c->rd);
            if (r < 0) {
                coord_conn_close(i); /* the tool gave up */
            } else if (r == 1) {
                if (c->rd.hdr.type == SNAPC_TOOL_QUERY && !c->foreign_uid)
                    coord_tool_frame(i); /* ckpt-info --live: its answer, as while running */
                else
                    c->asked = 1;        /* a request: answered with the others */
            } else {
                pf[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
            }
        }
        int64_t left = until - coord_now_ms();
        if (n == 0 || left <= 0)
            return;
        poll(pf, (nfds_t)n, (int)(left < 100 ? left : 100));
    }
}

/* The job has ended: every tool hears, --term's now that the ranks are gone too. So do the
 * tools whose requests met the end: those still in the listener's queue are accepted (and no
 * new one can connect: the socket's name goes first) and their requests read before the
 * answer. Closing a connection with its request unread resets it, and the tool saw only
 * "Broken pipe" (campaign-failures.md #7). */
void coord_tools_job_ended(void)
{
    if (coord.sock_path[0]) {
        unlink(coord.sock_path);
        coord.sock_path[0] = 0;
    }
    if (coord.ufd >= 0)
        for (int k = 0; k < 1024 && coord_accept_unix() >= 0; k++)
            ;
    read_late_requests();
    coord_flush_deferred();
    for (int i = 0; i < coord.nc; i++) {
        struct conn *c = &coord.c[i];
        if (c->kind != C_TOOL)
            continue;
        if (c->foreign_uid)
            coord_refuse_foreign(i);
        else if (c->done_deferred)
            coord_send_done(i, c->done_status, "", 1);
        else if (c->asked) {
            const char *none = coord_start_none_at_end();
            coord_send_done(i, -ESRCH, none ? none : "the job ended", 0);
        }
        else
            coord_send_done(i, -ESRCH, "the job ended before the request was read", 0);
    }
}

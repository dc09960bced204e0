/* The epoch driver: events go into the protocol state machine (proto.c), its
 * actions come out here and become messages to the ranks, files and replies. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "filem/alive.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"

/* Set while coord_run_actions runs: an action that feeds another event leaves
 * the new actions to the running loop (no recursion, actions stay in order). */
static int in_action_loop;

int coord_fault(enum revive_fault_point p)
{
    return coord.p.epoch >= coord.fault_epoch && revive_fault(p);
}

int64_t coord_now_ms(void)
{
    return revive_mono_ms();
}

void coord_feed(struct snapc_event *ev)
{
    ev->now_ms = coord_now_ms();
    if (snapc_proto_event(&coord.p, ev) < 0) {
        revive_log_error("out of memory in the coordinator");
        return;
    }
    if (!in_action_loop)
        coord_run_actions();
}

void coord_local_fail(int status, const char *fmt, ...)
{
    char msg[SNAPC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct snapc_event ev = {.type = SNAPC_EV_LOCAL_FAIL};
    ev.u.done.status = status;
    ev.u.done.msg = msg;
    coord_feed(&ev);
}

/* The lock file unlinked: the job's snapshot directory was removed, and perhaps re-created as
 * act_ckpt's message says. Lock it again in the new one, else a restart's cache cleanup takes
 * this running job's node-local sequences for a dead job's (diffrev27 I-M2). */
static void alive_retake(void)
{
    struct stat st;
    if (coord.alive_fd >= 0 && (fstat(coord.alive_fd, &st) < 0 || st.st_nlink > 0))
        return;
    if (access(coord.jobdir, F_OK) < 0)
        return;
    int fd = filem_job_alive_take(coord.jobdir);
    if (fd < 0)
        return;
    if (coord.alive_fd >= 0)
        close(coord.alive_fd);
    coord.alive_fd = fd;
}

static int ensure_jobdir(char *err, size_t errlen)
{
    if (coord.jobdir_ok) {
        alive_retake();
        return 0;
    }
    int e = filem_private_dir(coord.jobdir, 1, err, errlen);
    if (e < 0)
        return e;
    coord.jobdir_ok = 1;
    coord_witness_jobdir(coord.jobdir);
    /* this job runs: a restart of it running beside it leaves its caches alone */
    coord.alive_fd = filem_job_alive_take(coord.jobdir);
    if (coord.alive_fd < 0)
        revive_log_warn("cannot lock %s/%s (%s): a restart of this job run while it runs could "
                        "take its node-local caches for superseded",
                        coord.jobdir, FILEM_ALIVE_NAME, strerror(-coord.alive_fd));
    return 0;
}

static void act_ckpt(const struct snapc_action *a)
{
    char err[512];
    filem_faults_enable(coord.p.epoch >= coord.fault_epoch);
    coord_files_reset();
    coord.wall_start = snapc_wall_ms();
    coord.mono_start = coord_now_ms();
    int e = ensure_jobdir(err, sizeof err);
    if (e == 0 && coord_fault(REVIVE_FAULT_snapc_seq_dir)) {
        e = -EIO;
        snapc_fmt(err, sizeof err, "cannot create the sequence directory (fault point snapc-seq-dir)");
    }
    if (e == 0) {
        filem_trash_clean(coord.jobdir); /* what late writers of a failed attempt kept */
        e = filem_seq_create(coord.jobdir, a->seq, err, sizeof err);
        /* the job's snapshot directory removed while the job runs (review newuser7 L5: "cannot
         * create DIR/N: No such file or directory" at every later checkpoint, no remedy) */
        if (e == -ENOENT && access(coord.jobdir, F_OK) < 0 && errno == ENOENT)
            snapc_fmt(err, sizeof err,
                      "the job's snapshot directory %s is gone (removed while the job runs, with "
                      "the snapshots it held): re-create it (mkdir -m 700 %s) and the next "
                      "checkpoint is written there, or end the job and run it again with "
                      "another --ckpt-dir",
                      coord.jobdir, coord.jobdir);
    }
    if (e < 0) {
        coord.seqdir[0] = 0;
        coord_local_fail(e, "%s", err);
        return;
    }
    filem_seq_path(coord.seqdir, sizeof coord.seqdir, coord.jobdir, a->seq);
    revive_log_info("checkpoint %llu of the job (epoch %u) into %s", (unsigned long long)a->seq,
                    coord.p.epoch, coord.seqdir);
    /* ckpt-info shows it being written, not "not committed" (filem/stage_mark.h) */
    if (filem_phase_mark(coord.jobdir, a->seq, FILEM_PHASE_WRITING, err, sizeof err) < 0)
        revive_log_info("checkpoint %llu: ckpt-info cannot show it being written: %s",
                        (unsigned long long)a->seq, err);
    /* node-local first: room for the mark of a staging that fails, kept while there is room
     * (filem/stage_mark.h); the ranks run meanwhile (no gate is closed yet) */
    if (coord.cfg->local_dir && filem_stage_reserve(coord.jobdir, err, sizeof err) < 0)
        revive_log_info("no room kept for the mark of a failed staging (%s): should this "
                        "sequence's staging fail, the mark needs room then",
                        err);
    /* a->arg holds the request's SNAPC_TOOL_* bits; the ranks read SNAPC_CKPT_* (other values:
     * the tool's TERM went out as CKPT_STOP while nothing read it; the agent's --term capture
     * keeps the application parked by it now) */
    uint32_t f = ((a->arg & SNAPC_TOOL_TERM) ? SNAPC_CKPT_TERM : 0) |
                 ((a->arg & SNAPC_TOOL_STOP) ? SNAPC_CKPT_STOP : 0) |
                 ((a->arg & SNAPC_TOOL_SAVE_SHARED) || coord.cfg->save_shared ? SNAPC_CKPT_SAVE_SHARED : 0) |
                 (a->status == 1 ? SNAPC_CKPT_HOLD : 0);
    struct snapc_ckpt c = {.seq = a->seq, .flags = f, .timeout_ms = coord.p.timeout_s * 1000};
    if (coord.cfg->local_dir) {
        /* node-local first: the text is SEQDIR NUL LOCALDIR */
        char t[2 * PATH_MAX + 2];
        size_t n1 = strlen(coord.seqdir), n2 = strlen(coord.cfg->local_dir);
        if (n1 + n2 + 1 < sizeof t) {
            memcpy(t, coord.seqdir, n1 + 1);
            memcpy(t + n1 + 1, coord.cfg->local_dir, n2);
            c.flags |= SNAPC_CKPT_LOCAL | (coord.cfg->partner ? SNAPC_CKPT_PARTNER : 0) |
                       (coord.cfg->mpix_nowait ? SNAPC_CKPT_NOWAIT_MPIX : 0);
            coord_send_ranks(-1, SNAPC_MSG_CKPT, &c, sizeof c, t, (uint32_t)(n1 + 1 + n2));
            return;
        }
    }
    coord_send_ranks(-1, SNAPC_MSG_CKPT, &c, sizeof c, coord.seqdir, (uint32_t)strlen(coord.seqdir));
}

static void act_targets(void)
{
    if (coord.p.version == 1 && coord_fault(REVIVE_FAULT_snapc_targets)) {
        coord_local_fail(-EIO, "the coordinator failed before sending the targets (fault point "
                         "snapc-targets)");
        return;
    }
    struct snapc_table t = {.version = coord.p.version, .n = (uint32_t)coord.p.ntargets};
    coord_send_ranks(-1, SNAPC_MSG_TARGETS, &t, sizeof t, coord.p.targets,
               (uint32_t)coord.p.ntargets * (uint32_t)sizeof(struct snapc_seq));
}

static void act_quiesce(void)
{
    if (coord_fault(REVIVE_FAULT_snapc_quiesce)) {
        coord_local_fail(-EIO, "the coordinator failed before closing the gates (fault point "
                         "snapc-quiesce)");
        return;
    }
    struct snapc_quiesce q = {.timeout_ms = coord.p.timeout_s * 1000};
    coord_send_ranks(-1, SNAPC_MSG_QUIESCE, &q, sizeof q, NULL, 0);
}

/* --term committed: the ranks leave on their own (the agents end their processes after
 * RESUME(term), see SNAPC_RESUME_TERM), so that the launcher sees a normal end. Only a job
 * still there after REVIVE_TERM_WAIT seconds (default 30) is ended with signals
 * (coord_term_tick). */
static void end_job(void)
{
    coord.term_pending = 1;
    if (coord.child > 0 && !coord.child_done) {
        const char *w = getenv("REVIVE_TERM_WAIT");
        int wait_s = w && *w && atoi(w) > 0 ? atoi(w) : 30;
        coord.term_signal_at = coord_now_ms() + (int64_t)wait_s * 1000;
        revive_log_info("the job ends after its checkpoint: its ranks leave (the launcher %d is "
                        "signalled if it still runs in %d s)",
                        (int)coord.child, wait_s);
    }
}

/* SNAPC_ACT_HELD: every image of the epoch is durable and no application thread of any rank
 * runs until the RESUME or ABORT that follows (the ranks hold them: SNAPC_CKPT_HOLD). Here goes
 * what needs the job still (the copy of --save-files); its end is fed as SNAPC_EV_HELD_DONE of
 * this epoch (status < 0 and a reason: the epoch fails). */
void coord_epoch_held(const struct snapc_action *a)
{
    struct snapc_event ev = {.type = SNAPC_EV_HELD_DONE};
    ev.u.held.epoch = a->epoch;
    ev.u.held.status = 0;
    coord_feed(&ev);
}

/* A failed epoch, said on the job's stderr. A rank that refuses every checkpoint while it holds
 * what no restart could bring back (ENOTRECOVERABLE: an MPI window in the library's private
 * memory, src/pml_hooks/win_ckpt.c) is said once, not again at each --ckpt-interval after it
 * (newuser7f F1): the later ones go to the log at info until a checkpoint commits or fails
 * otherwise. A tool that asked hears each one itself. */
static int refusing;

static void abort_said(const struct snapc_action *a)
{
    if (snapc_proto_job_end_text(a->text)) {
        revive_log_info("no checkpoint: %s", a->text);
    } else if (a->status != -ENOTRECOVERABLE) {
        refusing = 0;
        /* the same failure at every interval (a full snapshot directory, a rank that stays
         * stuck) is said once (newuser49 L4) */
        char note[160];
        if (coord_fail_repeats(a->epoch, a->seq, a->status, a->text))
            revive_log_info("no checkpoint, %s: %s", coord_fail_repeat_note(note, sizeof note),
                            a->text);
        else
            revive_log_warn("no checkpoint: %s", a->text);
    } else if (refusing) {
        revive_log_info("no checkpoint (refused as before): %s", a->text);
    } else {
        refusing = 1;
        revive_log_warn("no checkpoint: %s (later checkpoints are refused alike while it lasts: "
                        "said once)", a->text);
    }
}

void coord_run_actions(void)
{
    in_action_loop = 1;
    while (coord.p.nacts > 0) {
        int n = coord.p.nacts;
        struct snapc_action *v = malloc((size_t)n * sizeof *v);
        if (!v) {
            revive_log_error("out of memory in the coordinator");
            coord.p.nacts = 0;
            break;
        }
        memcpy(v, coord.p.acts, (size_t)n * sizeof *v);
        coord.p.nacts = 0;
        for (int k = 0; k < n; k++) {
            const struct snapc_action *a = &v[k];
            /* frames go out under the action's epoch: the RESUME of a commit that a queued
             * request follows at once was sent under the next epoch's number, which the
             * ranks dropped as a stray frame; each then took that epoch's CKPT for the end of
             * an aborted one (a committed snapshot seen as none: MPIX_Checkpoint failed) */
            coord.send_epoch = a->epoch;
            switch (a->type) {
            case SNAPC_ACT_CKPT: act_ckpt(a); break;
            case SNAPC_ACT_TARGETS: act_targets(); break;
            case SNAPC_ACT_QUIESCE: act_quiesce(); break;
            case SNAPC_ACT_COMMIT: coord_commit(); break;
            case SNAPC_ACT_RESUME: {
                /* status 1: node-local first, the ranks run on before the commit; 3: the
                 * staging of a sequence they ran on from failed (coord_stage_failed says it) */
                struct snapc_resume r = {.action = a->arg,
                                         .committed = a->status != 1 && a->status != 3,
                                         .seq = a->seq};
                refusing = 0; /* a snapshot was taken: a later refusal is said again */
                if (a->arg == SNAPC_RESUME_STOP)
                    coord_stop_begin(); /* the launcher first; until the job is continued */
                coord_send_ranks(-1, SNAPC_MSG_RESUME, &r, sizeof r, NULL, 0);
                if (a->status == 3)
                    break;
                if (a->status == 1)
                    revive_log_info("checkpoint %llu: every image is in its node's cache; the "
                                    "job runs on while they are copied to %s",
                                    (unsigned long long)a->seq, coord.seqdir);
                else
                    revive_log_info("checkpoint %llu committed: %s", (unsigned long long)a->seq,
                                    coord.seqdir);
                break;
            }
            case SNAPC_ACT_STAGE: {
                struct snapc_stage sg = {.bw = coord.cfg->stage_bw};
                coord_partner_stage(&sg);
                break;
            }
            case SNAPC_ACT_STAGE_FOR: {
                int l = (int)a->arg;
                struct snapc_stage_for sf = {.rank = a->arg, .bw = coord.cfg->stage_bw,
                                             .checksum = l < coord.p.nranks ? coord.p.r[l].checksum : 0};
                revive_log_warn("checkpoint %llu: %s", (unsigned long long)a->seq, a->text);
                coord_send_ranks(a->rank, SNAPC_MSG_STAGE_FOR, &sf, sizeof sf, NULL, 0);
                break;
            }
            case SNAPC_ACT_SAVE_FILES: coord_save_files(); break;
            case SNAPC_ACT_STAGE_SELF:
                coord_self_stage(a->rank, a->text);
                break;
            case SNAPC_ACT_STAGE_FAILED:
                coord_stage_failed(a->epoch, a->seq, a->status, a->text);
                break;
            case SNAPC_ACT_ABORT:
                if (a->rank < 0)
                    abort_said(a);
                coord_send_ranks(a->rank, SNAPC_MSG_ABORT, NULL, 0, a->text, (uint32_t)strlen(a->text));
                break;
            case SNAPC_ACT_DISCARD:
                if (coord.seqdir[0]) {
                    char err[512];
                    /* (a discard that fails leaves no sequence shown as being written) */
                    filem_phase_unmark(coord.jobdir, a->seq, FILEM_PHASE_WRITING);
                    if (filem_seq_discard(coord.jobdir, a->seq, err, sizeof err) < 0)
                        revive_log_warn("the failed sequence was not removed: %s", err);
                    coord.seqdir[0] = 0;
                }
                break;
            case SNAPC_ACT_PROGRESS:
                /* every image in its node's cache: the agents copy them now; marked before a
                 * tool that does not wait for the staging hears "recovered" (newuser9 F1) */
                if (a->arg == SNAPC_PHASE_CAPTURED && a->epoch == coord.p.epoch &&
                    coord.p.phase == SNAPC_P_STAGE && coord.seqdir[0]) {
                    char err[512];
                    filem_phase_unmark(coord.jobdir, a->seq, FILEM_PHASE_WRITING); /* written: staging now */
                    if (filem_phase_mark(coord.jobdir, a->seq, FILEM_PHASE_STAGING, err, sizeof err) < 0)
                        revive_log_info("checkpoint %llu: ckpt-info cannot show it staging: %s",
                                        (unsigned long long)a->seq, err);
                }
                coord_act_progress(a);
                break;
            case SNAPC_ACT_DONE: coord_act_done(a); break;
            case SNAPC_ACT_REFUSE:
                /* a job starting for long: what is missing, not "try again" (coord_startwait.c) */
                coord_start_refuse(a->client, a->status, a->text);
                break;
            case SNAPC_ACT_END_JOB: end_job(); break;
            case SNAPC_ACT_HELD: coord_epoch_held(a); break;
            case SNAPC_ACT_DROP_RANK:
                revive_log_warn("%s", a->text);
                if (a->rank >= 0 && a->rank < coord.nrank_conn && coord.rank_conn[a->rank] >= 0)
                    coord_conn_close(coord.rank_conn[a->rank]);
                break;
            }
        }
        free(v);
    }
    coord.send_epoch = 0;
    in_action_loop = 0;
}

/* Before an epoch may start: the next sequence is past every directory there
 * (a leftover of a crashed attempt keeps its number). */
void coord_update_next_seq(void)
{
    char err[512];
    uint64_t n;
    if (access(coord.jobdir, F_OK) == 0 && filem_next_seq(coord.jobdir, &n, err, sizeof err) == 0 &&
        n > coord.p.next_seq)
        coord.p.next_seq = n;
}

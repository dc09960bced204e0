/*
 * The coordinator's side of the global-snapshot protocol as a pure state
 * machine: events in (a rank said HELLO, sent its seqs, raised a target, a
 * tool asked for a checkpoint, time passed...), actions out (send CKPT to
 * every rank, commit the snapshot, tell a tool it is done...). No I/O, no
 * clock, no globals: the coordinator (coord.c) feeds it and carries out the
 * actions; the unit tests (tests/snapc/test_proto.c) drive it alone.
 *
 * Dispatch is one table, phase x event -> handler (proto.c: `table`); an
 * event a phase does not expect from a rank is a protocol error that ends the
 * epoch (ABORT), one the phase ignores by design (a late STATE...) is listed
 * as such in the table.
 *
 * One epoch at a time. Phases of an epoch:
 *   IDLE -> SEQS (CKPT sent, waiting for every rank's seq table)
 *        -> CONVERGE (TARGETS v1 sent; RAISEs bump the version; done when every
 *           live rank reports the current version, at_target, !in_cs)
 *        -> QUIESCE -> DRAIN -> CAPTURE (QUIESCE sent; each rank moves
 *           QUIESCED -> DRAINED -> CAPTURED on its own; the job's phase is the
 *           least advanced rank's; an epoch that holds (snapc_proto_holds: --stop,
 *           --term, --save-files) then emits HELD once and waits in CAPTURE for
 *           HELD_DONE: every image is durable and no application thread of any rank
 *           runs meanwhile; then, when files are to be saved (--save-files),
 *           SAVE_FILES is emitted and nothing more until FILES_SAVED: the copy is
 *           made while every rank is still held, before any RESUME; a failed copy
 *           fails the epoch like a failed image)
 *        -> STAGE (node-local first only: RESUME sent at once unless the epoch ends
 *           the job, then STAGE; done when every rank's image is verified on shared
 *           storage: its STAGED, or, for a rank lost (GONE, or silent past the staging bound)
 *           before it staged, the STAGED_FOR of the rank holding its verified partner copy
 *           (PARTNERED), which stages that copy in its place; a rank that goes after its
 *           STAGED changes nothing; a failure here leaves the sequence uncommitted and
 *           marked, and sends no ABORT to running ranks)
 *        -> COMMIT (the coordinator writes snapshot.meta, then feeds COMMITTED; with node-local
 *           first every image is verified by then: ranks that go meanwhile change nothing)
 *        -> IDLE (RESUME sent; or ABORT at any failure before the commit)
 */
#ifndef REVIVE_SNAPC_PROTO_H
#define REVIVE_SNAPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "snapc/agent.h"
#include "snapc/wire.h"

enum snapc_pphase {
    SNAPC_P_IDLE,
    SNAPC_P_SEQS,
    SNAPC_P_CONVERGE,
    SNAPC_P_QUIESCE,
    SNAPC_P_DRAIN,
    SNAPC_P_CAPTURE,
    SNAPC_P_STAGE,   /* node-local first: every image captured, STAGE sent, STAGED awaited */
    SNAPC_P_COMMIT,
    SNAPC_P_COUNT
};

enum snapc_ev {
    SNAPC_EV_HELLO,     /* rank, u.hello.world_size */
    SNAPC_EV_GONE,      /* rank: connection closed (process ended or killed) */
    SNAPC_EV_REQUEST,   /* u.req: a tool, the interval timer, or a rank (MPIX) */
    SNAPC_EV_SEQS,      /* rank, u.seqs */
    SNAPC_EV_RAISE,     /* rank, u.raise */
    SNAPC_EV_STATE,     /* rank, u.state */
    SNAPC_EV_QUIESCED,  /* rank */
    SNAPC_EV_DRAINED,   /* rank, u.drained */
    SNAPC_EV_CAPTURED,  /* rank, u.captured */
    SNAPC_EV_FAILED,    /* rank, u.failed */
    SNAPC_EV_COMMITTED, /* u.done: the coordinator's commit (status 0 or -errno + msg) */
    SNAPC_EV_LOCAL_FAIL,/* u.done: the coordinator could not do an action (mkdir...) */
    SNAPC_EV_CANCEL,    /* u.req.client: a waiting tool went away */
    SNAPC_EV_TICK,      /* time passed (now_ms): deadlines */
    SNAPC_EV_STAGED,    /* rank, u.staged: its image is copied to shared storage and verified */
    SNAPC_EV_PARTNERED, /* rank, u.partnered.holder: its partner copy is verified in the cache
                         * of rank `holder`'s node (--ckpt-partner) */
    SNAPC_EV_STAGED_FOR,/* rank (the holder), u.staged (for_rank): the partner copy of a lost
                         * rank is staged in its place and verified */
    SNAPC_EV_FILES_SAVED,/* u.done: the coordinator's copy of the --save-files paths (SAVE_FILES)
                          * ended (status 0, or -errno + msg) */
    SNAPC_EV_HELD_DONE, /* u.held: the coordinator's work while every rank is held
                         * (SNAPC_ACT_HELD) is done: status 0, the epoch goes on; < 0 (msg: why)
                         * it fails. One of another epoch, or after the epoch failed, is ignored */
    SNAPC_EV_COUNT
};

enum snapc_src { SNAPC_SRC_TOOL, SNAPC_SRC_TIMER, SNAPC_SRC_RANK };

struct snapc_event {
    int type;
    int rank;
    int64_t now_ms;
    union {
        struct { uint32_t world_size; } hello;
        struct {
            int source;          /* enum snapc_src */
            int client;          /* tool: the coordinator's id for the connection */
            uint32_t flags;      /* SNAPC_TOOL_* */
            uint32_t timeout_s;  /* 0: default */
            int collective;      /* rank: MPIX_Checkpoint */
            uint64_t world_seq;  /* rank */
            const char *files;   /* tool: --save-files PATH[,PATH...] of this request, or NULL */
        } req;
        struct { const struct snapc_seq *t; int n; } seqs;
        struct { uint64_t cid, target; } raise;
        struct {
            uint32_t version, at_target, in_cs, finalizing;
            const char *what;
        } state;
        struct snapc_drain_stats drained;
        struct { uint64_t bytes, checksum; } captured;
        struct { int err; int phase; const char *msg; } failed;
        struct { int status; const char *msg; } done;
        struct { int status; const char *msg; int for_rank; } staged;
        struct { int holder; } partnered;
        /* GONE: why, when the coordinator knows more than "it ended" (its host silent:
         * "h2 (ranks 2,3) stopped answering (lost or cut off?)"); NULL otherwise */
        struct { const char *why; } gone;
        struct { uint32_t epoch; int status; const char *msg; } held;
    } u;
};

enum snapc_act {
    SNAPC_ACT_CKPT,      /* send CKPT(epoch, seq, flags) to every rank; arg: the request's
                          * SNAPC_TOOL_* bits; status 1: the epoch holds (SNAPC_CKPT_HOLD) */
    SNAPC_ACT_TARGETS,   /* send TARGETS(version, table) to every rank */
    SNAPC_ACT_QUIESCE,   /* send QUIESCE to every rank */
    SNAPC_ACT_COMMIT,    /* write snapshot.meta of `seq`, then feed SNAPC_EV_COMMITTED */
    SNAPC_ACT_RESUME,    /* send RESUME(arg = SNAPC_RESUME_*) to every live rank; status: 0 after
                          * the commit, 1 before it (node-local first: "recovered", staging
                          * follows), 2 the commit's notice to ranks already running, 3 the
                          * notice that staging failed to ranks already running (not
                          * committed: a rank waiting in MPI_Finalize for the outcome goes) */
    SNAPC_ACT_ABORT,     /* send ABORT(text) to every live rank */
    SNAPC_ACT_DISCARD,   /* remove the uncommitted sequence directory `seq` */
    SNAPC_ACT_PROGRESS,  /* job phase `arg` (enum snapc_phase) reached: tell tools */
    SNAPC_ACT_DONE,      /* tell tool `client`: status `status`, text (reason) */
    SNAPC_ACT_REFUSE,    /* tell tool `client` (or nobody if -1): refused, text */
    SNAPC_ACT_END_JOB,   /* --term: end the job (the launcher) now */
    SNAPC_ACT_DROP_RANK, /* close rank `rank`'s connection (protocol error, text) */
    SNAPC_ACT_STAGE,     /* send STAGE to every live rank (node-local first) */
    SNAPC_ACT_STAGE_FAILED, /* staging of `seq` failed: leave it uncommitted, marked (text) */
    SNAPC_ACT_STAGE_FOR, /* send STAGE_FOR(arg: a lost rank) to rank `rank`, which holds its
                          * partner copy (text: why, for the log) */
    SNAPC_ACT_STAGE_SELF, /* rank `rank` and its partner holder are gone before its image was
                           * staged: the coordinator stages the copy its own host's cache holds,
                           * if any, then calls snapc_proto_self_staged or feeds LOCAL_FAIL */
    SNAPC_ACT_SAVE_FILES, /* every image is durable, every rank held: copy the epoch's
                           * --save-files paths (p->files, and the job's own list when
                           * p->files_always) into the sequence, then feed FILES_SAVED */
    SNAPC_ACT_HELD,      /* an epoch that holds: every live rank's image is durable (node-local
                          * first: in its node's cache) and every rank's application threads
                          * stay parked where its capture parked them, until the RESUME or ABORT
                          * that follows; the coordinator does what needs that (--save-files'
                          * copy), then feeds SNAPC_EV_HELD_DONE with this epoch */
};

struct snapc_action {
    int type;
    int client;       /* tools: -1 none */
    int rank;         /* -1: every live rank */
    int status;       /* DONE: 0 or -errno */
    uint32_t arg;
    uint64_t seq;
    uint32_t epoch;   /* the epoch it belongs to: a commit's RESUME may run after the next
                         epoch began (a queued request), and ranks drop frames of another */
    char text[SNAPC_TEXT_MAX + 256]; /* a rank's whole message and what the coordinator puts
                                      * before it ("..." at the end when cut) */
};

struct snapc_rank_rec {
    int hello, gone, finalizing;
    int seqs_in;                  /* SEQS received this epoch */
    int step;                     /* 0, 1 QUIESCED, 2 DRAINED, 3 CAPTURED (this epoch) */
    uint32_t v_seen, at_target, in_cs;
    int state_known;              /* a STATE for this epoch arrived */
    char what[160];
    struct snapc_drain_stats drain;
    uint64_t bytes, checksum;
    int64_t captured_ms;
    int staged;                   /* its image is verified on shared storage this epoch */
    int partnered;                /* PARTNERED this epoch: a verified copy in holder's cache */
    int holder;
    int proxied;                  /* STAGE_FOR sent to holder for it this epoch */
};

#define SNAPC_MAX_CLIENTS 64

/* The numbers of an epoch that has ended, as its requesters' answers report them: a queued
 * request may start the next epoch before those answers are sent. */
struct snapc_epoch_summary {
    uint32_t epoch;
    uint64_t seq;
    int nranks;
    uint64_t bytes;
    uint32_t raises;
    uint32_t flags;  /* SNAPC_TOOL_TERM / STOP / SAVE_SHARED it was taken with: the requests that
                      * shared it (--wait) learn from it how the job was left */
    int64_t t_phase[SNAPC_PHASE_COUNT];
    int clients[SNAPC_MAX_CLIENTS]; /* the tools it answers: its phases are told to them alone,
                                     * not to the requests queued behind it, which the next
                                     * epoch's actions may have made current already (newuser47
                                     * L2: a queued --status printed this one's "Established") */
    int nclients;
};
#define SNAPC_DEFAULT_TIMEOUT_S 120
#define SNAPC_DEFAULT_CAPTURE_TIMEOUT_S 1800

struct snapc_proto {
    /* configuration (set before the first event) */
    uint32_t capture_timeout_s;    /* bound of QUIESCE..CAPTURE (default 1800) */
    uint32_t default_timeout_s;    /* convergence bound when a request says 0 (default 120) */
    int stage;                     /* node-local first: RESUME, then STAGE, then the commit */
    int self_stage;                /* the coordinator may stage a lost rank's image from its
                                    * own host's cache (its launcher ended every rank: Open MPI
                                    * after a node loss, newuser9 F5) */
    int files_always;              /* every epoch saves files (mpirun --ckpt-save-files) */

    int nranks;                    /* world size (from the first HELLO), 0 before */
    struct snapc_rank_rec *r;      /* nranks records */
    int nhello;
    int finalizing_rank;           /* a rank that entered MPI_Finalize, or -1 */
    int ended_rank;                /* a rank whose connection closed outside an epoch, or -1 */

    int phase;                     /* enum snapc_pphase */
    int job_phase;                 /* enum snapc_phase last reported */
    uint32_t epoch;                /* current (or last) epoch, from 1 */
    uint64_t seq;                  /* current (or last) epoch's sequence */
    uint64_t next_seq;             /* the coordinator sets it (filem's next free seq) */
    uint32_t flags;                /* SNAPC_TOOL_TERM/STOP/SAVE_SHARED of the epoch (never TERM
                                    * with STOP: of requests sharing it, --term wins) */
    uint32_t timeout_s;            /* convergence bound of the epoch */
    int64_t t_start, deadline;     /* ms */
    int64_t t_phase[SNAPC_PHASE_COUNT]; /* when each job phase was reached (this epoch) */
    int source;                    /* what started the epoch (enum snapc_src) */
    int resumed;                   /* RESUME already sent this epoch (before the commit) */
    char files[SNAPC_FILES_LIST_MAX]; /* the epoch's requested --save-files paths ("" none) */
    int files_state;               /* 0 not yet, 1 SAVE_FILES emitted, 2 FILES_SAVED (this epoch) */
    int held;                      /* 1 HELD emitted, HELD_DONE awaited; 2 HELD_DONE in (this epoch) */

    struct snapc_seq *targets;     /* sorted by cid */
    int ntargets, targets_cap;
    uint32_t version;              /* of targets, 1.. */
    uint32_t raises;               /* RAISEs this epoch */

    int clients[SNAPC_MAX_CLIENTS];     /* tools waiting for this epoch */
    int nclients;
    int next_clients[SNAPC_MAX_CLIENTS];/* tools queued for the next epoch (SNAPC_TOOL_WAIT) */
    uint32_t next_client_flags[SNAPC_MAX_CLIENTS]; /* each one's TERM/STOP/SAVE_SHARED, and */
    char *next_client_files[SNAPC_MAX_CLIENTS]; /* --save-files (malloc'd, NULL: none): a
                                         * withdrawn request's are taken out of next_flags and
                                         * next_files */
    int nnext;
    uint32_t next_flags, next_timeout_s;
    char next_files[SNAPC_FILES_LIST_MAX]; /* the queued requests' --save-files paths, merged */
    int next_wanted;                    /* another epoch is wanted after this one */
    int next_source;
    int rank_req;                       /* a rank's request is pending (world_seq below) */
    int rank_req_late;                  /* one rank: its request came after its capture, which
                                         * therefore holds no cut of it: the next epoch does */
    uint64_t rank_req_seq;

    struct snapc_epoch_summary ended; /* the last epoch that ended (committed or not) */
    char last_error[SNAPC_TEXT_MAX + 256]; /* why the last epoch ended without a snapshot */
    int last_status;               /* 0 committed, -errno */

    struct snapc_action *acts;     /* actions produced by the last event(s) */
    int nacts, acts_cap;
};

/* The requests' flags that make an epoch hold: each rank's application threads stay parked
 * where its capture parked them (not only at its gate into MPI) until the coordinator releases
 * the epoch (its RESUME, or an ABORT), so that a rank captured outside MPI runs no further than
 * its image: --term ends there, --stop stops there (the processes are stopped in the state their
 * images hold, as BLCR's and Open MPI's --stop promise). */
#define SNAPC_PROTO_HOLD_FLAGS (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP)

/* Whether a failed epoch's text says the job's normal end met it (a rank in or past
 * MPI_Finalize): no failure of the job, so the coordinator says it at info, not on the job's
 * stderr (a periodic checkpoint's tick at the end of a batch job printed "no checkpoint":
 * newuser7f F4). */
int snapc_proto_job_end_text(const char *text);

/* Whether the current epoch holds: its request's flags, or files to save (p->files,
 * p->files_always: the copy is made while every rank is held). On request only, not for every
 * epoch: a rank captured outside MPI computes on while the others are captured and the snapshot
 * is committed, which a hold would take from it (STATUS-hold37.md: the figures). */
int snapc_proto_holds(const struct snapc_proto *p);

/* 0 or -ENOMEM. */
int snapc_proto_init(struct snapc_proto *p);
void snapc_proto_fini(struct snapc_proto *p);

/* Feeds one event; appends actions to p->acts (the caller carries them out in
 * order, then sets p->nacts = 0). 0, or -ENOMEM. */
int snapc_proto_event(struct snapc_proto *p, const struct snapc_event *ev);

/* The next deadline (ms, same clock as now_ms), or -1 when none. */
int64_t snapc_proto_deadline(const struct snapc_proto *p);

/* The target of cid in the current table (0 when absent). */
uint64_t snapc_proto_target(const struct snapc_proto *p, uint64_t cid);

const char *snapc_pphase_name(int phase);
const char *snapc_ev_name(int ev);

/* What the current epoch waits for, for the coordinator's notes while a checkpoint takes long
 * (newuser49 L1: ckpt-mpirun was silent for its whole --timeout with a rank stopped): the ranks
 * that have not done the epoch's current step (their numbers into out, at most max; the count of
 * all of them returned), *step its name ("targets", "quiesce", "drain", "capture", "stage") and
 * *task what such a rank has not done, in words. 0 when the epoch waits for no rank (idle,
 * committing, the coordinator's own work while every rank is held). */
int snapc_proto_waiting(const struct snapc_proto *p, int *out, int max, const char **step,
                        const char **task);

/* The coordinator staged rank RANK's image itself (SNAPC_ACT_STAGE_SELF): verified on shared
 * storage; the commit follows when every image is. 0, or -ENOMEM. */
int snapc_proto_self_staged(struct snapc_proto *p, int rank);

#endif

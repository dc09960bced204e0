/* The rank agent's internals, shared by its files (agent.c, agent_epoch.c, agent_stage.c,
 * agent_cache.c, agent_mpix.c; the interface is agent.h): its one state, A, and the functions
 * one file calls in another. Hidden: the MPI layer that links the agent exports none of these
 * names into the application. */
#ifndef REVIVE_SNAPC_AGENT_INT_H
#define REVIVE_SNAPC_AGENT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "snapc/agent.h"
#include "snapc/wire.h"

#pragma GCC visibility push(hidden)

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

/* Everything the agent knows. The agent thread alone touches the epoch state; application
 * threads (raise, request, MPIX_Checkpoint's and MPI_Finalize's waits) take the lock for the
 * part marked shared. */
struct agent_state {
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
    /* the copy of this rank's image that revive-restart-rank --preload made in this node's
     * cache for this restart (SNAPC_ENV_PRELOADED), else "": removed at a normal end (newuser9
     * F4) */
    char preloaded[PATH_MAX + 32];
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
    int staged;                /* STAGE came this epoch: an ABORT now fails the staging of a
                                * sequence every rank captured (agent_cache_drop_failed) */
    int partner;               /* SNAPC_CKPT_PARTNER: partner copies this epoch */
    struct filem_partner_rx *prx; /* receiving other nodes' partner copies (after the capture
                                   * only: never running while an image is written) */
    char partner_addr[96];     /* where prx listens, told in INFO */
    char image[PATH_MAX + 32]; /* where this epoch's image was written */
    uint64_t image_sum;        /* its file's checksum (CAPTURED) */
    uint64_t image_bytes;      /* the size of this rank's last image written (CAPTURED) */
    int direct;                /* this epoch's image went straight into dir: the node's cache had
                                * no room even once its older copies were gone (newuser10 F4) */
    int full_tries;            /* this epoch's captures that found the cache full */
    char place[1024];          /* where it ran at its last capture (filem/place.h) */
    char stdin_note[256];      /* its standard input's unread bytes at that capture (INFO) */
    char shared_note[1536];    /* its writable shared file mappings left to their files at that
                                * capture: "shared_file.K BYTES PATH" lines (INFO) */
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
    int req_plain;             /* an MPIX_Checkpoint_request is among the pending ones */
    int req_held;              /* fault mpix-ask-late: held back until the epoch's end (agent.c) */
    int wait_held_wake;        /* fault mpix-wait-held: woken before a holding capture (agent_mpix.c) */
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
    /* The epochs that decide MPIX_Checkpoint calls (see decide(), agent_mpix.c): each ended
     * epoch whose cut on WORLD is above every earlier one's, oldest first (a ring of the
     * newest). */
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
};
extern struct agent_state A;

/* agent.c: the connection and the thread */
/* Sends one frame to the coordinator (one at a time: the partner copy's thread reports while
 * the agent thread stages). 0 or -errno (logged). */
int agent_send(uint16_t type, const void *p, uint32_t len, const void *tail, uint32_t tlen);
/* FAILED for this epoch's phase: err as -errno or errno, msg (strerror(err) when empty). */
void agent_send_failed(int err, int phase, const char *msg);
/* STATE, when the layer's state changed since the last one sent (force: always). */
void agent_report_state(int force);
/* INFO: what the metadata says about this rank (pid, exe, placement, the layer's counts). */
void agent_send_info(void);
/* The capture returned in a restarted process: connect to the new coordinator. */
void agent_after_restart(void);

/* agent_epoch.c: the coordinator's frames and the epoch they drive */
/* One complete frame in A.rd: 0, or -EPROTO (drop the connection). */
int agent_on_frame(void);
/* The epoch is over without a snapshot for this rank (ABORT, a new CKPT, a lost coordinator). */
void agent_abort_epoch(void);
/* 1 when the fault points of the rank fire in this epoch (REVIVE_FAULT_EPOCH). */
int agent_fault_epoch(void);

/* agent_stage.c: node-local first, the copies to shared storage and to the partner node */
/* STAGE (this rank's image) and STAGE_FOR (a lost rank's partner copy held here). */
void agent_on_stage(const struct snapc_hdr *h, const uint8_t *p);
void agent_on_stage_for(const uint8_t *p);
/* Ends the last epoch's receiver of partner copies (before a capture, at the commit). */
void agent_partner_rx_stop(void);
/* A full file system's message (-ENOSPC, -EDQUOT) names the option that moves the snapshots,
 * and IMAGE (when not NULL) with this host; whatever the error, FULL_CACHE (when not NULL: the
 * node's cache had no room, IMAGE is the snapshot directory's file written instead) too. */
void agent_full_advice(int e, char *msg, size_t len, int local, const char *image,
                       const char *full_cache);

/* agent_cache.c: what this node's cache keeps of this rank's sequences */
/* This epoch's sequence seq is committed (RESUME): the cache's upkeep after a commit. */
void agent_cache_committed(uint64_t seq);
/* In MPI_Finalize after the last commit: the cached sequence goes (a killed job keeps it). */
void agent_cache_drop_at_end(void);
/* This epoch ended without a snapshot before its staging (ABORT, "no checkpoint"): what this
 * rank put into the cache for it goes, and its directories when nothing else is left there. */
void agent_cache_drop_aborted(void);
/* This epoch's sequence's staging failed (RESUME not committed after the ranks ran on, or
 * ABORT once STAGE came): it can never be restarted, so it goes from the cache at once, whole
 * (every image and partner copy of this node), with the older uncommitted ones
 * (filem/local_bound.h) and the job's cache directory when nothing else is left there. */
void agent_cache_drop_failed(void);
/* This epoch's sequence is made in the cache and its image is to be written there: the older
 * sequences no restart needs from this node go first (filem/local_room.h). */
void agent_cache_room(void);
/* snapc_capture_result.full for an image written into the cache: the first time, every older
 * copy no restart needs goes and the capture is tried again there when that (or another rank
 * of the node) made room; else PATH becomes the shared sequence directory's rank image
 * (A.direct). 0 once the image was written there already: the failure stands. */
int agent_cache_full(char *path, size_t len, int err);

/* agent_mpix.c: epoch ends and staging outcomes, for MPIX_Checkpoint and MPI_Finalize */
/* An epoch ended (committed, restarted from, our request refused, ended at "recovered"
 * with its staging to follow): wakes the waiters. */
void agent_epoch_ended(int committed, int restarted, int refused, int staging);
/* No coordinator any more: every waiter returns. */
void agent_set_disconnected(void);
/* Agent thread, A.lock held: 1 when an epoch already answers MPIX_Checkpoint at world_seq
 * (ended, or this one with its cut known), so its request is not sent (agent.c). */
int agent_request_covered(uint64_t world_seq);
/* A waiting MPI_Finalize may go once no staging outcome is pending. */
void agent_fin_check(void);
/* How staging sequence seq ended; whether an outcome is still to come, and for which. */
void agent_outcome_record(uint64_t seq, int committed);
void agent_outcome_set(int pending, uint64_t seq);

#pragma GCC visibility pop

#endif

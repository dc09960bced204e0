/*
 * The rank agent: the rank side of the global-snapshot protocol, compiled into
 * Revive's MPI layer (revive-mpi-<flavor>.so) as libsnapc_agent.la. It never
 * includes mpi.h: it reaches MPI only through the table of functions below,
 * which the MPI layer (src/pml_hooks) implements and hands to
 * snapc_agent_start at MPI_Init.
 *
 * The agent runs one thread (created with pthread_create from the layer, so an
 * upper-half thread that is part of the rank's image). It owns a TCP
 * connection to the job's coordinator (REVIVE_COORD, REVIVE_JOB_SECRET,
 * REVIVE_JOB_ID in the environment) and an eventfd for snapc_agent_notify;
 * snapc_agent_fds lists both so the layer's capture filter leaves them out of
 * images. Per epoch it does, on the agent thread:
 *
 *   CKPT      -> ops->begin, ops->seqs, reply SEQS
 *   TARGETS   -> ops->targets (every version, in order)
 *   notify()  -> ops->state, reply STATE when it changed (also outside epochs)
 *   QUIESCE   -> ops->quiesce, reply QUIESCED, ops->drain, reply DRAINED,
 *                ops->capture(DIR/rank_<r>.img), reply CAPTURED or FAILED
 *   RESUME    -> ops->resume(action)
 *   ABORT     -> ops->abort (at any phase; also when the connection is lost
 *                during an epoch)
 *
 * capture returning 1 means this is a restarted process: the agent then
 * reconnects to the new coordinator (from the environment handed to the
 * restarted process, see snapc_agent_set_restart_env) and calls
 * ops->resume(SNAPC_RESUME_RESTARTED).
 *
 * All functions below are thread-safe. None blocks longer than stated.
 */
#ifndef REVIVE_SNAPC_AGENT_H
#define REVIVE_SNAPC_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct snapc_seq { uint64_t cid; uint64_t seq; };

struct snapc_rank_state {
    uint32_t at_target;   /* every target reached; parked at a collective entry or free of them */
    uint32_t in_cs;       /* a thread is inside a blocking collective */
    uint32_t finalizing;  /* MPI_Finalize was entered */
    char what[160];       /* where the rank waits: "MPI_Bcast on comm 3 (collective 57)" */
};

struct snapc_drain_stats {
    uint64_t sent, received, expected, drained_msgs, drained_bytes, pending_recvs, nbc_completed;
};

struct snapc_capture_result {
    uint64_t bytes, checksum;   /* image size; the image header's XXH3 */
    char err[512];              /* why, when capture returns < 0 */
    /* In: the epoch ends the job (--term): once the image is written the application's
     * threads stay parked (none runs past the snapshot: its output or file writes after that
     * point would come again from the restarted job) until resume(TERM) ends the process, or
     * resume/abort lets them run on (the epoch failed after the capture). */
    uint32_t hold;
    /* In: with hold, the epoch ends the job (--term): a rank's running children, taken along by
     * a tree capture, are stopped after it too and ended with the rank (without it they run on
     * until resume(STOP)'s stop_tree, or for ever) */
    uint32_t term;
    /* In (NULL: none): called once the image is taken (in fork mode: once its child is forked),
     * while every application thread is still parked where the image has it, before any runs
     * on; never in a restarted process. What the image leaves unread on standard input is
     * measured there (agent_epoch.c): before the capture an application thread outside MPI
     * could still read (stdin_unread's restart read 100 bytes twice). */
    void (*parked)(void);
    /* In: 1 saves the pages of the rank's writable shared file mappings too, written back into
     * the files at restart (SNAPC_CKPT_SAVE_SHARED: ckpt-mpirun --save-shared, mpirun
     * --ckpt-save-shared, REVIVE_SAVE_SHARED=1; crs_ckpt_opts.save_shared). */
    uint32_t save_shared;
    /* Out, on success: the writable shared file mappings whose pages the image left to their
     * files, "BYTES PATH" a line, "+N" for more (crs_ckpt_result.shared); "" when none. */
    char shared[1024];
    /* In (NULL: none): the image could not be written at PATH for want of room (ERR: -ENOSPC,
     * -EDQUOT; its temporary file is gone). Called on the agent thread, no image taken; it may
     * free room or put another place into PATH (LEN bytes). 1: the capture is tried again at
     * PATH (the application's threads ran meanwhile: the gate into MPI stays closed, so the
     * image is as consistent as the first); 0: the failure stands (newuser10 F4). */
    int (*full)(char *path, size_t len, int err);
};

/* Actions of ops->resume. */
#define SNAPC_RESUME_CONTINUE 0   /* the job runs on */
#define SNAPC_RESUME_STOP 1       /* the agent stops the rank (SIGSTOP) after resume() opened the
                                     gate, and says CONTINUED once it runs again */
/* The snapshot was taken with --term: the rank leaves. resume(TERM) readies the process for
 * a quiet end (the MPI layer finalizes its lower half, the application's threads stay
 * parked) and returns; the agent then ends the process with status 0, so that the launcher
 * sees the job finish normally (no "BAD TERMINATION" from Hydra, no "exited on signal" from
 * Open MPI). The application's buffered output is not flushed: it is in the snapshot and
 * comes out of the restarted job. The coordinator signals the launcher only if the job has
 * not ended within a bound. */
#define SNAPC_RESUME_TERM 2
#define SNAPC_RESUME_RESTARTED 3  /* this process was restarted from the image just written */

struct snapc_rank_ops {           /* implemented by the MPI layer, called by the agent thread */
    int  (*begin)(void *arg);                                   /* set ckpt_pending, fence */
    int  (*seqs)(void *arg, struct snapc_seq *out, int max);    /* consistent snapshot; n or -errno */
                                       /* (-ENOSPC: max too small, the agent asks again with more) */
    void (*targets)(void *arg, const struct snapc_seq *t, int n, uint32_t version);
                                       /* sorted by cid; a cid not in t has target 0 (a
                                          communicator created during the epoch) */
    void (*state)(void *arg, struct snapc_rank_state *st);
    int  (*quiesce)(void *arg, int timeout_ms);                 /* close gate, own the lower half */
    int  (*drain)(void *arg, struct snapc_drain_stats *st, char *err, size_t errlen);
    int  (*capture)(void *arg, const char *image_path, struct snapc_capture_result *r);
                                                                /* returns 1 in a restarted process */
    void (*resume)(void *arg, int action);                      /* open gate; SNAPC_RESUME_* */
    void (*abort)(void *arg);                                   /* release, no checkpoint */
    void *arg;
    /* Optional (NULL: nothing): "key value\n" lines about the rank for the
     * snapshot metadata (mpi_library PATH, mpi_version TEXT, mpi_build_id HEX,
     * thread_level N, thread_level_lower N, ...), at most len bytes, NUL-terminated.
     * Called on the agent thread right after the connection is made and again
     * after each capture (counts as of the capture: record_entries N,
     * pending_requests N...; the last call's lines go into snapshot.meta).
     * Returns the length or -errno. */
    int  (*describe)(void *arg, char *buf, size_t len);
    /* Optional (NULL: nothing): --stop (SNAPC_RESUME_STOP) of the processes under the rank
     * (its children and theirs, which its image takes with it). Called on the agent thread:
     * stop_tree(arg, 0) before resume() opens the gate, and the agent stops the rank then;
     * stop_tree(arg, 1) once the rank runs again continues those it stopped (not one that was
     * stopped already: the application's or a user's stop is theirs to end). */
    void (*stop_tree)(void *arg, int cont);
    /* Optional (NULL: nothing): after resume(STOP), once the rank runs again: the application's
     * threads, held since the capture (snapc_capture_result.hold), run on, and the gate opens.
     * resume(STOP) keeps them held and the gate closed, so that none runs between the RESUME and
     * the stop. */
    void (*unhold)(void *arg);
    /* Optional (NULL: never): called on the agent thread when a checkpoint request comes,
     * before begin. A rank no snapshot of which could ever be restarted (it holds an MPI window
     * in memory of the library's own that no restart can put back) returns 1 with the reason and
     * what to do in buf (at most len bytes, NUL-terminated): the epoch fails with it as a
     * refusal (FAILED, error ENOTRECOVERABLE), nothing begun, the job runs on; else 0. */
    int  (*refuse)(void *arg, char *buf, size_t len);
    /* Optional (NULL: the wait sleeps on the agent's condition, 1 s at most a look): one turn
     * of a thread waiting in MPIX_Checkpoint (snapc_agent_wait_epoch), between its looks, on
     * that thread, the agent's lock not held: the MPI library's progress, as a collective's
     * wait makes it natively (a peer's send that needs this rank's progress completes
     * meanwhile, so the peer reaches the snapshot's cut), then a pause; *turns counts the
     * turns of this wait (0 at its start), for the pause to grow. */
    void (*wait_turn)(void *arg, uint32_t *turns);
};

/*
 * Starts the agent (from MPI_Init, once, after the lower half is up). ops is
 * copied. Reads REVIVE_COORD/REVIVE_JOB_SECRET/REVIVE_JOB_ID; connects and
 * says HELLO (bounded: 10 s), then runs the agent thread.
 * Returns 0 when started; 1 when the environment names no coordinator (the
 * layer runs as before, nothing started); -errno when the coordinator cannot
 * be reached or refused the rank (a message was logged; nothing started).
 */
int  snapc_agent_start(const struct snapc_rank_ops *ops, int world_rank, int world_size);

/* The rank's state changed: the agent thread calls ops->state and reports
 * STATE if it differs from the last report. Cheap (one eventfd write),
 * async-signal-safe, never blocks; a no-op when the agent is not running. */
void snapc_agent_notify(void);

/* The rank must pass communicator cid up to `target` to reach its other
 * targets: sends RAISE through the agent thread and returns at once (the new
 * TARGETS come through ops->targets). 0, or -ENOTCONN (no agent). */
int  snapc_agent_raise(uint64_t cid, uint64_t target);

/* MPIX_Checkpoint (collective = 1, called by every rank) or
 * MPIX_Checkpoint_request (collective = 0, any rank): asks the coordinator
 * for a snapshot at the next safe point; returns at once. world_seq is the
 * rank's seq on MPI_COMM_WORLD when it asked (before MPIX_Checkpoint counts
 * itself): an epoch whose target on WORLD is >= world_seq covers the request;
 * a request during an epoch that does not cover it starts another one after
 * it. 0, or -ENOTCONN (no coordinator: not started under Revive's mpirun). */
int  snapc_agent_request(int collective, uint64_t world_seq);

/* MPIX_Checkpoint's wait: until an epoch covering world_seq has ended (see
 * snapc_agent_request) and, node-local first, until its snapshot is committed
 * (not with --ckpt-no-wait-stage, SNAPC_CKPT_NOWAIT_MPIX: then at "recovered").
 * 0 when its snapshot was committed (*restarted = 0 in the job that took it, 1
 * in a job restarted from it); -ECANCELED when the epoch ended without a
 * snapshot; -EIO when the snapshot was taken but its copy to the snapshot
 * directory failed (not committed; rank 0 said so); -EREMOTEIO (with
 * --ckpt-no-wait-stage) when this call's snapshot was taken but an earlier
 * one's copy failed after its call had returned (rank 0 said so); -ENOTCONN
 * when there is no coordinator or the connection was lost; -ETIMEDOUT after
 * 24 h. */
int  snapc_agent_wait_epoch(uint64_t world_seq, int *restarted);

/* After a restart: (re)connect to the new coordinator named by the restart
 * environment (snapc_agent_set_restart_env, else this process's getenv) and
 * say HELLO with "restarted from SEQ". The agent thread does this by itself
 * when ops->capture returns 1; the layer may call it earlier (any thread; it
 * only flags the agent thread and returns). 0, or -ENOTCONN (no agent). */
int  snapc_agent_restarted(void);

/* From MPI_Finalize, once the rank needs MPI no more: when the rank's last snapshot was
 * written node-local first and is still being copied to shared storage (the job ran on at
 * "recovered"), waits until the coordinator says how it ended, so that the copy is not cut
 * short by the rank's exit and, once committed, this node's cache of it is dropped (the job
 * ends normally). Bounded: REVIVE_FINALIZE_WAIT seconds, default 1900 (the coordinator's
 * own bound on staging is 1800 s); a warning says what stays when the bound is met. Returns
 * at once when nothing is pending. 0; -ETIMEDOUT; -ENOTCONN (the coordinator went while the
 * outcome was pending). */
int  snapc_agent_finalize_wait(void);

/* ---- additions for the layer's restart path and capture filter ---- */

/* Records the coordinator variables of the environment handed to a restarted
 * process (NULL-terminated "NAME=value" array; the restored process's own
 * environ is the application's old one). Copies what it needs, no allocation;
 * call it from the restart hook, before the agent thread runs again. */
void snapc_agent_set_restart_env(char *const *envp);

/* After a restart from an image the agent did not take (the layer's own capture,
 * pml_restart_capture, called by the program): the agent's descriptors were left
 * out of the image and their numbers may now be others' (the fresh MPI
 * library's). Forgets them (a new eventfd, no connection) without closing them;
 * the agent connects again only when snapc_agent_restarted is called. Call it
 * from the restart hook, before the agent thread runs again. */
void snapc_agent_forget_connection(void);

/* The agent's own descriptors (socket, eventfd), for the capture filter's
 * fd_exclude: writes up to max of them into fds and returns how many. No
 * allocation, async-signal-safe. */
int  snapc_agent_fds(int *fds, int max);

/* 1 if the calling thread is the agent thread. */
int  snapc_agent_is_agent_thread(void);

/* For ops->quiesce and ops->drain, which run on the agent thread and may wait
 * for the other ranks (the drain's exchanges on the private world): 1 when
 * the coordinator has aborted the epoch meanwhile (another rank failed or
 * died), so the op should give up at once (return -ECANCELED; the agent then
 * calls ops->abort). Reads the connection without blocking. 0 otherwise. The
 * MPI layer's drain exchanges tagged messages, not collectives, so that a rank
 * may leave it halfway (src/pml_hooks/drain_xchg.c). */
int  snapc_agent_poll_abort(void);
/* The current (or last) epoch's number, the coordinator's: the same on every rank. Agent
 * thread only. */
uint32_t snapc_agent_epoch(void);
/* 1 when another thread holds the agent's lock now, else 0. From the agent thread during a
 * capture, every other thread parked: one parked holding it (a thread of the application inside
 * MPIX_Checkpoint's wait) and held after the capture would keep the agent from ending the epoch
 * (agent_epoch_ended before the threads are let go): the rank would hang (diffrev37 R-L11). */
int snapc_agent_lock_busy(void);

/* Exported by the rank (Revive's MPI layer; tests/snapc/fake_rank) for libmpix_ckpt
 * (src/snapc/mpix.c), which finds it by name with dlsym: MPIX_Checkpoint (collective 1) or
 * MPIX_Checkpoint_request (0); *flag 0 when continuing, non-zero in a restarted job.
 * Returns 0 or -errno. */
int revive_mpix_checkpoint(int collective, int *flag);

#endif

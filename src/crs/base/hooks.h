/*
 * Checkpoint and restart hooks, and the restart hand-off blob: how a library
 * inside a checkpointable process (the MPI layer) takes part in its
 * checkpoints without crs knowing it. Exported by libcr.so.
 *
 * A hook runs in the checkpoint thread at three moments:
 *   CRS_HOOK_CHECKPOINT  before the other threads are parked (they still
 *                        run); a nonzero return (-errno) cancels the
 *                        checkpoint, and the hooks that ran before it get
 *                        CRS_HOOK_CONTINUE with that status;
 *   CRS_HOOK_CONTINUE    after the image, written (status 0) or failed
 *                        (-errno), before the other threads run on (in fork
 *                        mode: once the child that writes it is forked, with
 *                        status 0);
 *   CRS_HOOK_RESTART     in the restarted process, once every thread is back
 *                        and before any of them runs on (status 0); the
 *                        hand-off blob of the restart is readable here.
 * CHECKPOINT hooks run in registration order, CONTINUE and RESTART hooks in
 * reverse order (as BLCR's callbacks and DMTCP's plugins do); CONTINUE and
 * RESTART go to the hooks that were told of the checkpoint. During
 * CONTINUE and RESTART every other thread is parked wherever it was, maybe
 * inside malloc or holding a lock: a hook must not wait for them (no malloc
 * unless the caller knows no parked thread can hold its lock).
 */
#ifndef REVIVE_CRS_HOOKS_H
#define REVIVE_CRS_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

enum crs_hook_event {
    CRS_HOOK_CHECKPOINT = 1,
    CRS_HOOK_CONTINUE = 2,
    CRS_HOOK_RESTART = 3,
};

struct crs_hook {
    const char *owner;      /* for messages: "mpi" */
    /* Returns 0, or -errno (only CRS_HOOK_CHECKPOINT's answer counts). */
    int (*fn)(void *arg, enum crs_hook_event event, int status);
    void *arg;
};

#define CRS_MAX_HOOKS 32

/* Registers a hook (the struct is copied; owner must stay valid). Any thread,
 * any time (a checkpoint under way sees it from the next one on). Returns 0,
 * -EINVAL (no fn) or -ENOSPC (CRS_MAX_HOOKS already). */
int crs_hook_register(const struct crs_hook *h);

/* The hand-off blob the restarter passed (crs_restart_opts.handoff): valid
 * only inside a CRS_HOOK_RESTART hook; copy what you need. Returns 0 with
 * *p and *len set (len 0 when the restarter passed none), or -ENOENT outside
 * a restart hook. */
int crs_restart_handoff(const void **p, size_t *len);

/* In a CRS_HOOK_RESTART hook: the id now of the thread whose id was `old`
 * when the checkpoint was taken (the same when the restart brought the ids
 * back); `old` itself outside a restart hook or for an unknown thread. */
pid_t crs_restart_tid(pid_t old);

/* While a checkpoint's park waits for a thread that blocks every signal (no
 * signal can stop it, so only its own progress ends the wait): something a
 * CHECKPOINT hook took may be what that thread waits for. glibc ends a
 * detached thread (POSIX AIO helpers, SIGEV_THREAD timer threads, the
 * application's detached threads) with every signal blocked and then takes
 * ld.so's thread-stack lock, which the MPI layer's hook holds from before
 * the park until the image is written (pml_ldso_freeze): that thread could
 * neither end nor be parked, and the checkpoint failed after the park's
 * whole timeout. The function set here (one; NULL: none) is called in the
 * checkpoint thread with the thread's id as /proc/self/task names it, at
 * most every 100 ms of the wait; it may let the thread through (release
 * what it waits for until it has ended, then take it again) and returns 1
 * when it did, 0 when that thread is not waiting for anything of its own,
 * or -errno with a message in err, which ends the checkpoint. */
typedef int crs_blocked_fn(pid_t proc_tid, char *err, size_t errlen);
void crs_hooks_set_blocked(crs_blocked_fn *fn);

/* ---- for components ---- */

/* Calls the function crs_hooks_set_blocked set (0 when none, or when no
 * CHECKPOINT hook ran for the checkpoint under way). */
int crs_hooks_blocked(pid_t proc_tid, char *err, size_t errlen);

/* How the component maps old thread ids to the ones now (crs_restart_tid). */
void crs_hooks_set_tid_map(pid_t (*map)(pid_t old));

/* Runs the CHECKPOINT hooks. 0, or -errno with a message in err (the
 * CONTINUE hooks of those that ran were told). */
int crs_hooks_checkpoint(char *err, size_t errlen);
/* Runs the CONTINUE hooks with the checkpoint's status. */
void crs_hooks_continue(int status);
/* Runs the RESTART hooks with the hand-off blob readable. */
void crs_hooks_restart(const void *handoff, size_t len);

#endif

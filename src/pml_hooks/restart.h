/* The restart of an MPI rank from its image (restart.c): the MPI layer's side.
 *
 * A rank's image holds the application only; the MPI library (the lower half) is left out.
 * revive-restart-rank, run by the new job's launcher, restores the image in its own process
 * and hands over the new launcher's environment (handoff.h). Then, in the restored process:
 *   1. the restart hook (crs, while the other threads are still parked) copies the hand-off,
 *      makes ld.so forget the dead lower half (lower_reset.c) and drops the halves registry's
 *      lower entries;
 *   2. the checkpoint call that wrote the image returns "restarted" (in the agent thread, with
 *      the gate closed): pml_restart_complete loads a fresh lower half into a new namespace
 *      with the new environment, initialises it at the saved thread level, replays the record
 *      (replay.c), sets the saved attribute values again, checks every communicator and
 *      datatype against the values saved at the checkpoint, lets the rank side (re-posted
 *      receives, persistent requests, private communicators) do its part, and ends with a
 *      barrier of all ranks.
 * Every step either works or fails with a message naming what differs. */
#ifndef PML_HOOKS_RESTART_H
#define PML_HOOKS_RESTART_H

#include "common/fault.h"

#include <stddef.h>
#include <stdint.h>

/* From MPI_Init, once the lower half is up: learns ld.so's layout (a restart is refused later,
 * with the reason, if that fails) and registers the checkpoint/restart hooks with libcr. */
void pml_restart_setup(void);
/* The fork handler of the rank's children (once; pml_restart_setup calls it too): before the lower
 * half loads (MPI_Init, or a call that loads it earlier), so that a child an application thread
 * forks while MPI_Init runs gets /dev/null for the library's descriptors as later ones do
 * (pml_fd_lower_release; before, such a child held every descriptor the library had made so
 * far: lower_inner.sh). */
void pml_restart_fork_handler(void);

/* Around the checkpoint call that writes a rank's image (the rank side's capture, from the
 * agent thread, with the gate closed and the drain done; the caller owns the lower half):
 *   pml_restart_prepare  saves what a restart checks (communicators, datatypes, attribute
 *                        values) and arms the layer's crs hook for this checkpoint;
 *   pml_restart_done     disarms it; in the restarted process (restarted = 1) it runs
 *                        pml_restart_complete: MPI is back when it returns 0.
 * Both return 0 or -errno with a message in err. */
int pml_restart_prepare(char *err, size_t errlen);
int pml_restart_done(int restarted, char *err, size_t errlen);

/* The same for programs without a coordinator (tests): checkpoints this rank into `path` from the
 * calling thread, as the agent's capture does (pml_capture_self; written under a temporary name,
 * then renamed). 0: written, the process goes on; 1: this is the restarted process, MPI is back
 * (and then the program's seccomp filters); -errno with a message in err. */
int pml_restart_capture(const char *path, char *err, size_t errlen);
/* FN (or NULL) runs in libcr's CONTINUE hook of a capture that succeeded, while every other
 * thread is still parked (snapc_capture_result.parked). */
void pml_restart_on_parked(void (*fn)(void));

/* The restarted process, after the checkpoint call came back "restarted": a fresh lower half
 * and everything on it (see above). 0, or -errno with a message. When it fails in a job
 * restart-mpi started, pml_restart_done leaves the message for the coordinator
 * (REVIVE_RESTART_DIR/refused.<rank> or stopped.<rank> when refused, below, else
 * failed.<rank>: the snapshot is marked as failed with that reason). */
int pml_restart_complete(char *err, size_t errlen);

/* Whether fault point p (common/fault.h) is armed for this restart: named in REVIVE_FAULT of the
 * new launcher's environment (restart-mpi's; the rank's own environment is its image's). */
int pml_restart_fault(enum revive_fault_point p);

/* A variable of the new launcher's environment (the application keeps its own in environ);
 * NULL when unset or before the restart hook ran. */
const char *pml_restart_getenv(const char *name);

/* Called by a step of pml_restart_complete that refuses because of something outside the
 * snapshot (a file it had open changed or gone): the snapshot is fine and is not marked as
 * failed. by_other: another rank refused and says why. Leaves msg for the coordinator at once
 * (the caller then waits for the others to have done so before any rank exits: a launcher
 * ends the job when the first exits). */
void pml_restart_refused(int by_other, const char *msg);
/* After a failed pml_restart_done: 1 when the restart was refused and someone else says why
 * (another rank, or restart-mpi's coordinator, which has the message: one line for the user,
 * not one per rank); the rank then ends quietly. */
int pml_restart_refusal_said_elsewhere(void);

/* 1 when descriptor fd is the launcher's: open when the rank was executed (beside the standard
 * streams; not one a library's constructor opened before the layer's ran: common/exec_fds.h), or
 * kept open for the new launcher by revive-restart-rank. A rank's image must not
 * hold them (the capture filter leaves them out). No allocation, async-signal-safe. */
int pml_launcher_fd(int fd);
void pml_restart_note_launcher_fds(void); /* from the layer's constructor */

/* After a restart: the thread id an application thread has now, for the one it had when the
 * image was taken (0 when no thread of the application had it). */
int pml_restart_new_tid(int old_tid);

/* How many times this rank's process image has been restarted (0 in the original run). */
int pml_restart_generation(void);

/* MPI_Wtime goes on across a restart (wtime.c): checkpoint saves it with the wall clock (with
 * the lower half usable), restarted sets the offset once the fresh lower half is up. */
void pml_wtime_checkpoint(void);
void pml_wtime_restarted(void);

/* The rank side's state on the fresh lower half (restart_rank.c): private communicators,
 * re-posted receives and persistent requests. Called after the replay and the checks, before
 * the final barrier. 0 or -errno with a message. */
int pml_rank_restart(char *err, size_t errlen);

/* The layer's lower half (layer.c). */
int pml_lower_reload(char **envp, char *err, size_t errlen);
int pml_lower_thread_level(int *provided);
uintptr_t pml_lower_world(void);

/* While set, the program's attribute copy and delete callbacks and its error handlers
 * (eh_tramp.c: the error code is returned instead) do not run in this thread (the layer's
 * callbacks answer "not copied" and delete nothing): a restart setting attribute values again
 * (they ran before the snapshot), the layer making and freeing a window of its own
 * (win_ckpt.c), dup_attrs.c putting values on and taking them off, --term's give-back and
 * MPI_Finalize after the capture (rank_ops.c, term_finalize). Thread-local (layer.c). */
extern __thread int pml_attr_quiet;
/* Sets it; returns what it was, for pml_attr_quiet_end (so that quiet spans may nest). */
int pml_attr_quiet_begin(void);
void pml_attr_quiet_end(int was);

#endif

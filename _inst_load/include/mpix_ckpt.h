/*
 * mpix_ckpt.h — checkpoints of an MPI job from inside its own code (Revive).
 *
 *     #include <mpi.h>
 *     #include <mpix_ckpt.h>          cc ... $(pkg-config --cflags --libs mpix_ckpt)
 *                                     (or -lmpix_ckpt)
 *
 * The job must run under Revive (mpirun -am ft-enable-cr, or restart-mpi);
 * otherwise both calls return an error code, take no snapshot and never
 * abort the job (MPIX_Checkpoint still sets *flag to MPIX_CKPT_CONTINUE). This header does not need mpi.h and works with Open MPI and
 * MPICH programs alike (one libmpix_ckpt for both).
 */
#ifndef MPIX_CKPT_H
#define MPIX_CKPT_H

#ifdef __cplusplus
extern "C" {
#endif

/* *flag after MPIX_Checkpoint */
#define MPIX_CKPT_CONTINUE 0  /* this job took the snapshot and runs on */
#define MPIX_CKPT_RESTARTED 1 /* this is a job restarted from that snapshot */

/*
 * MPIX_Checkpoint: collective over MPI_COMM_WORLD (every rank calls it, like
 * a barrier). Takes a global snapshot of the job at this point and returns
 * once every rank's image is durable in its node's cache (node-local first,
 * the default: the copy to the snapshot directory and the commit follow while
 * the job runs on; ckpt-info shows when it is committed) or, with
 * --ckpt-local none, once it is committed (durable, listed by ckpt-info,
 * accepted by restart-mpi), with *flag set to MPIX_CKPT_CONTINUE; in a job restarted from
 * that snapshot the same call returns again, with *flag set to
 * MPIX_CKPT_RESTARTED. A checkpoint already running when it is called (from
 * ckpt-mpirun or the interval timer) is waited for and used when its cut is
 * at or after this call; otherwise another one is taken after it.
 *
 * Returns MPI_SUCCESS (0), or MPI_ERR_OTHER of the MPI library in use when:
 *   - the job does not run under Revive (started without -am ft-enable-cr);
 *   - MPI is not initialised, or already finalized;
 *   - the snapshot failed (a rank could not reach a safe point in time, a rank
 *     died, the disk is full...): the job goes on, earlier snapshots are
 *     intact; the reason is printed on standard error ("revive: ...").
 * flag may be NULL.
 */
int MPIX_Checkpoint(int *flag);

/*
 * MPIX_Checkpoint_request: any rank, not collective: asks for a global
 * snapshot at the next point where every rank can be captured, and returns
 * at once (MPI_SUCCESS) without waiting for it. Requests made while a
 * checkpoint runs are folded into it. Returns MPI_ERR_OTHER of the library in
 * use when the job does not run under Revive or MPI is not initialised.
 */
int MPIX_Checkpoint_request(void);

#ifdef __cplusplus
}
#endif

#endif

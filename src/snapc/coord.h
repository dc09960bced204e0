/*
 * The job's coordinator (revive-coord): the process the user's `mpirun -am
 * ft-enable-cr` becomes. It runs the real launcher as its child (signals
 * forwarded, exit status passed on), listens for the ranks' agents on TCP
 * (every rank proves the per-job secret) and for the tools on a private Unix
 * socket, drives the protocol state machine (proto.h) and writes the
 * snapshots (filem.h).
 */
#ifndef REVIVE_SNAPC_COORD_H
#define REVIVE_SNAPC_COORD_H

#include <stdint.h>

#define SNAPC_COORD_MAX_PROGS 64

struct snapc_coord_cfg {
    const char *flavor;        /* "ompi", "mpich", "fake" (metadata, restart) */
    const char *launcher;      /* the real launcher's path (metadata, restart) */
    char **user_args;          /* the user's launcher arguments (without -am ft-enable-cr) */
    int nuser_args;
    int progs[SNAPC_COORD_MAX_PROGS]; /* indices of the programs in user_args */
    int nprogs;
    char **cmd;                /* the command to run (NULL-terminated) */
    int interval_s;            /* 0: no periodic checkpoints */
    int keep;                  /* 0: keep every committed sequence */
    const char *dir;           /* base snapshot directory (NULL: cwd) */
    const char *restart_of;    /* restart mode: the sequence directory restarted from */
    uint32_t timeout_s;        /* default convergence bound (0: 120) */
    const char *local_dir;     /* node-local first (issue 9): each node's cache, the same path
                                * on every host (REVIVE_LOCAL_DIR); "": each node's default
                                * (filem_local_default); NULL: images go straight into the
                                * shared sequence directory */
    uint64_t stage_bw;         /* staging: bytes per second per rank at most, 0 no limit */
    int partner;               /* --ckpt-partner: partner copies (with local_dir) */
    int mpix_nowait;           /* --ckpt-no-wait-stage: MPIX_Checkpoint returns at "recovered"
                                * (with local_dir), not at the commit */
};

/* Runs the job; returns the exit status for the coordinator's own exit
 * (the launcher's, or 128+signal), after printing a message on failure. */
int snapc_coord_run(const struct snapc_coord_cfg *cfg);

#endif

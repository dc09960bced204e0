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

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPC_COORD_MAX_PROGS 64

struct filem_meta;
struct snapc_coord_cfg;

/* What the coordinator's fetch of images from other hosts' caches is given (newuser9b N6): a
 * sequence stages, a rank whose image nobody is left to stage and whose copies are in no cache
 * of the coordinator's host (Open MPI's mpirun ends every rank when a node goes). Run in a
 * child process of the coordinator (its own signals, children and environment). */
struct snapc_fetch_req {
    const char *seqdir;            /* the shared sequence directory the images go into */
    uint64_t seq;
    const struct filem_meta *m;    /* ckpt.local, and for each rank wanted rank.<r>.host,
                                    * rank.<r>.partner.host, rank.<r>.checksum */
    const int *ranks;
    int n;
    const sigset_t *mask;          /* the signal mask the fetch's own children get */
    /* told of each image fetched and verified (the host it came from, the sender's path) */
    void (*got)(void *arg, int rank, const char *host, const char *path);
    void *got_arg;
};

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
    int dir_given;             /* dir came from --dir (restart-mpi --ckpt-dir): a restart's
                                * snapshots go there, not beside the old ones */
    uint32_t timeout_s;        /* default convergence bound (0: 120) */
    const char *local_dir;     /* node-local first (issue 9): each node's cache, the same path
                                * on every host (REVIVE_LOCAL_DIR); "": each node's default
                                * (filem_local_default); NULL: images go straight into the
                                * shared sequence directory */
    uint64_t stage_bw;         /* staging: bytes per second per rank at most, 0 no limit */
    int partner;               /* --ckpt-partner: partner copies (with local_dir) */
    int save_shared;           /* --ckpt-save-shared (REVIVE_SAVE_SHARED=1): every snapshot saves the
                                * ranks' writable shared file mappings (SNAPC_CKPT_SAVE_SHARED) */
    const char *save_files;    /* --ckpt-save-files PATH[,PATH...] (REVIVE_SAVE_FILES): every
                                * snapshot saves these (the job's working directory's), NULL none */
    int mpix_nowait;           /* --ckpt-no-wait-stage: MPIX_Checkpoint returns at "recovered"
                                * (with local_dir), not at the commit */
    /* Fetches REQ's images from the hosts' caches through the job's launcher (revive-coord
     * gives tools/snapc/restart_fetch.c; src/snapc does not link tools/); NULL: no fetch.
     * 0 when every one is in REQ->seqdir, verified; else -errno with ERR naming each rank
     * still missing and what each host it could be on answered. */
    int (*fetch_images)(const struct snapc_coord_cfg *cfg, const struct snapc_fetch_req *req,
                        char *err, size_t errlen);
};

/* Runs the job; returns the exit status for the coordinator's own exit
 * (the launcher's, or 128+signal), after printing a message on failure. */
int snapc_coord_run(const struct snapc_coord_cfg *cfg);

#endif

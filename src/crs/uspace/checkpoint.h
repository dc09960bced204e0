/* Taking an image of the calling process (from its checkpoint thread). */
#ifndef REVIVE_CRS_CHECKPOINT_H
#define REVIVE_CRS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

struct crs_ckpt_opts {
    int fd;              /* where the image goes (a regular file), written from its offset */
    int fork_mode;       /* a child writes the image; the process stalls only for the fork */
    int zstd_level;      /* 0: no compression */
    int ignore_fds;      /* unrestorable descriptors are recorded as closed */
    int timeout_ms;      /* for parking the threads */
    int skip_fds[8];     /* Revive's own descriptors, never saved */
    int nskip_fds;
    /* Called once the image is written (status 0) or failed (-errno, message),
     * while the threads are still parked in place mode: it may reply to the
     * requester and wait for its word before the process runs on. */
    void (*after_write)(void *arg, int status, const char *msg);
    void *arg;
};

struct crs_ckpt_result {
    int restarted;       /* 1: we are the restarted process */
    int status;          /* 0 or -errno */
    uint64_t image_bytes;
    double stall_ms;     /* how long the other threads were parked */
    char err[512];
};

/* Initialises the capture machinery (park signal, scratch). 0 or -errno. */
int crs_checkpoint_init(int park_sig);

/* Takes the image. Returns like res->status; in a restarted process it
 * returns 0 with res->restarted = 1. */
int crs_checkpoint_self(const struct crs_ckpt_opts *o, struct crs_ckpt_result *res);

/* Old and new pid of the last restart (equal when ids were restored). */
void crs_restart_ids(int *old_pid, int *new_pid);

#endif

/*
 * restart-mpi's fetch of rank images from other hosts' caches (issue 9): a committed
 * sequence whose image of a rank is not in the shared snapshot directory (its staging did not
 * reach it, or the shared copy was lost) can still have that image in the node-local cache of
 * the host the rank ran on (snapshot.meta: rank.<r>.host) or, with --ckpt-partner, in its
 * partner's (rank.<r>.partner.host). Before the launch restart-mpi listens for copies and runs,
 * through the job's own launcher (its recorded options: remote shell, networks), one
 * `revive-restart-rank --fetch-to ADDR --ranks LIST SEQDIR` on such a host (src/filem/fetch.h),
 * which sends the good copies it holds. Both ends prove a secret made for this fetch (given to
 * the sender through the launcher's environment, never on a command line), so restart-mpi
 * keeps only what the process it started sent, and the sender sends only to restart-mpi; every
 * copy is checked chunk by chunk against the checksum in snapshot.meta before it gets its
 * name (rank_<r>.img) in the snapshot directory. Every host that may hold a copy is asked at
 * once (a lost host never answers: waiting for each in turn cost REVIVE_FETCH_TIMEOUT per lost
 * host); the first good copy of each rank is kept, and once every image is there the launches
 * still running are ended. A launch ends at REVIVE_FETCH_TIMEOUT seconds (default 120). A
 * host is asked first whether it is up (host_probe.h) and a host down gets no launch: a
 * launcher does not always notice one (Hydra waited for its proxy until the bound). A host
 * whose remote shell's port answers but whose launch hangs (its sender never says
 * FILEM_FETCH_STARTED) is ended after REVIVE_FETCH_START_TIMEOUT seconds (default 30, at most
 * REVIVE_FETCH_TIMEOUT): a sender that started keeps the whole transfer bound. The
 * receiver takes the copies of several hosts at once.
 */
#ifndef REVIVE_TOOLS_RESTART_FETCH_H
#define REVIVE_TOOLS_RESTART_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "filem/filem.h"

struct restart_fetch {
    const char *seqdir;            /* the shared sequence directory */
    uint64_t seq;
    const struct filem_meta *m;    /* its snapshot.meta */
    const char *launcher, *flavor; /* as recorded ("ompi", "mpich") */
    /* the job's launcher arguments as the restart runs it (restart-mpi: --hostfile's, those
     * given after --, the saved ones not replaced): the fetch's launch takes them without the
     * options that place ranks (hosts, hostfile, counts), and its address the network they name */
    char *const *user;
    int prog0;                     /* where the first program is among them */
    const char *rrank;             /* revive-restart-rank */
    const char *hostfile;          /* the restart's hosts (named first in messages), or NULL */
    /* ranks among MISSING whose shared image is there but damaged (newuser9 F8), each with
     * the check's words: restart-mpi moved it aside; said as such when a good copy replaces it
     * or when none is found */
    const int *damaged;
    char *const *damaged_why;
    int ndamaged;
    /* the coordinator's fetch while a sequence stages (revive-coord, newuser9b N6): no
     * snapshot.meta exists yet, so each sender is given the checksums of the ranks it is asked
     * for (`--sums`); WHO names the fetcher in messages (NULL: "restart-mpi"); GOT (may be
     * NULL) is told of each image fetched: the host that sent it and the sender's path */
    int send_sums;
    const char *who;
    void (*got)(void *arg, int rank, const char *host, const char *path);
    void *got_arg;
    /* DOWN (may be NULL) is told of each host the fetch found down (host_probe.h), WHY its
     * words: restart-mpi then names no other sequence whose copies are only there */
    void (*down)(const char *host, const char *why);
};

/* Fetches the images of the N ranks in MISSING (absent from the snapshot directory, or moved
 * aside there as damaged: f->damaged) into the snapshot directory. 0 when every one
 * is there and verified (each said on stderr: from which host's copy); else -ENOENT with ERR
 * naming each rank still missing and what each host it could be on answered. */
int restart_fetch_images(const struct restart_fetch *f, const int *missing, int n, char *err,
                         size_t errlen);

/* --showme: what restart_fetch_images would do for the N ranks of MISSING, without doing it
 * (no host probed, nothing launched or received): as shell comment lines on OUT, each host
 * that would be asked with the ranks it may hold (its node's cache, a partner copy) and the
 * sender's command there (the receiver's address as ADDR). 0, or -ENOENT when a rank has no
 * copy anywhere (said). */
int restart_fetch_plan(const struct restart_fetch *f, const int *missing, int n, FILE *out);

#endif

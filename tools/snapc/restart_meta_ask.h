/*
 * A restart from the node-local caches when the host restart-mpi runs on holds no copy of the
 * snapshot's metadata (issue 9): the snapshot directory lost, and this host's cache lost with
 * it (a node whose disk was replaced) or never there (a host the job did not run on). Every
 * cached sequence holds the committed snapshot.meta (src/filem/local_meta.h), so another host
 * the job ran on still knows the snapshot. Without the metadata the job's launcher and its
 * options are unknown, so the other host is asked through the remote shell the launchers use
 * (REVIVE_RSH, a command and its options split at blanks; default `ssh -o BatchMode=yes`):
 * `RSH HOST 'revive-restart-rank --send-meta [--local DIR] JOBDIR'` (src/filem/fetch.h), after
 * its remote shell's port answered (host_probe.h: a host down is said at once, not waited
 * for), bounded by REVIVE_FETCH_TIMEOUT seconds (default 120). What it sends is written into a
 * private temporary folder laid out as a cache (DIR/<job>/<seq>/snapshot.meta), which
 * restart_cache.c then reads and checks as it reads this host's own cache: the copies are
 * taken only after those checks (checksum line, reference, committed). The folder is removed
 * by restart_meta_ask_clean (restart-mpi calls it before it becomes the coordinator, at
 * every exit and when SIGINT, SIGTERM or SIGHUP ends it: restart_signal.h).
 */
#ifndef REVIVE_TOOLS_RESTART_META_ASK_H
#define REVIVE_TOOLS_RESTART_META_ASK_H

#include <stddef.h>

/* Asks HOST for its cached metadata of JOBDIR's job (LOCAL: the caches' directory as given
 * to restart-mpi, NULL for each host's default; RRANK: revive-restart-rank's path, the same
 * on every host). 0 with DIR (a cache-like folder holding what HOST sent, possibly nothing)
 * filled, or -errno with WHY saying in a few words what HOST answered ("down: ...", "its
 * remote shell: status 255: ..."). */
int restart_meta_ask(const char *host, const char *local, const char *jobdir, const char *rrank,
                     char *dir, size_t dlen, char *why, size_t wlen);

/* What one host answered (restart_meta_ask_all). */
struct restart_meta_answer {
    int rc;             /* 0: DIR holds what it sent (possibly nothing); -errno: WHY */
    char dir[4096];
    char why[1024];
};

/* Asks every host of HOSTS (N, at most 64) at once, as restart_meta_ask asks one; ANS[i] is
 * what HOSTS[i] answered. The remote shells run side by side, bounded together by
 * REVIVE_FETCH_TIMEOUT from the start (a host whose shell hangs costs that bound once). */
void restart_meta_ask_all(char *const *hosts, int n, const char *local, const char *jobdir,
                          const char *rrank, struct restart_meta_answer *ans);

/* The same when this host's cache holds the metadata and the other holders are asked only
 * for their failed-restart records: those are advice (a record no host gave is not known),
 * not worth the fetch's bounds. Bounded together by REVIVE_MARKS_TIMEOUT seconds (default 5,
 * at most REVIVE_FETCH_TIMEOUT), the probe of each host within it: a holder down or whose
 * shell hangs costs that bound once (it was 10 s for a host down and up to
 * REVIVE_FETCH_TIMEOUT, 120 s, for a hung shell). */
void restart_meta_ask_marks(char *const *hosts, int n, const char *local, const char *jobdir,
                            const char *rrank, struct restart_meta_answer *ans);

/* The hosts to ask, in order: those of HOSTFILE (the restart's hosts; may be NULL), then
 * those of LIST (restart-mpi --meta-from H1,H2; may be NULL), each once, into H (at most MAX):
 * how many. */
int restart_meta_hosts(const char *hostfile, const char *list, char (*h)[256], int max);

/* Removes every folder restart_meta_ask made. */
void restart_meta_ask_clean(void);

#endif

/* The coordinator in restart mode (restart-mpi runs revive-coord with
 * --restart-of SEQDIR): where the new job's snapshots go, when the restarted job
 * is back (Recovered), and what a restart that failed leaves in the old index. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"

/* Where a restarted job's snapshots go: beside the old ones (the parent job's
 * directory's parent), and a shared lock on the sequence restarted from, so that
 * retention never removes it while the ranks read their images. */
int coord_restart_setup(void)
{
    char err[512];
    char ref[PATH_MAX];
    int64_t seq;
    if (filem_resolve_ref(coord.cfg->restart_of, ref, sizeof ref, &seq, err, sizeof err) < 0 || seq < 0) {
        fprintf(stderr, "revive-coord: %s\n", err[0] ? err : "bad --restart-of");
        return -1;
    }
    snprintf(coord.parent_jobdir, sizeof coord.parent_jobdir, "%s", ref);
    coord.parent_seq = seq;
    char *slash = strrchr(ref, '/');
    if (slash)
        *slash = 0;
    snprintf(coord.base, sizeof coord.base, "%s", slash ? (ref[0] ? ref : "/") : ".");
    coord.restart_lock = filem_seq_lock_shared(coord.parent_jobdir, (uint64_t)seq);
    return 0;
}

/* Every rank of the restarted job said HELLO: it is Recovered, and its images
 * may go (the lock is released). */
void coord_restart_hello(void)
{
    if (coord.cfg->restart_of && !coord.recovered && coord.p.nhello == coord.p.nranks) {
        coord.recovered = 1;
        revive_log_info("every rank of the restarted job is back (Recovered)");
        if (coord.restart_lock >= 0) {
            close(coord.restart_lock);
            coord.restart_lock = -1;
        }
    }
}

/* The launcher ended before every rank was back: the restart failed, and the
 * sequence is marked in its index, so that a default restart-mpi takes an earlier one. */
void coord_restart_job_ended(void)
{
    if (coord.cfg->restart_of && !coord.recovered && coord.parent_seq >= 0) {
        char e2[512], why[160];
        snapc_fmt(why, sizeof why, "the restarted job ended (status %d) before every rank was back",
                 coord_exit_status());
        revive_log_error("the restart from %s/%lld failed: %s; recorded in its index (a "
                         "restart-mpi of %s takes an earlier sequence by default)",
                         coord.parent_jobdir, (long long)coord.parent_seq, why, coord.parent_jobdir);
        if (filem_index_mark_failed(coord.parent_jobdir, (uint64_t)coord.parent_seq, why, e2, sizeof e2) < 0)
            revive_log_warn("cannot record the failed restart: %s", e2);
        coord.recovered = 1;
    }
}

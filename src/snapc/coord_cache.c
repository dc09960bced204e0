/* This host's node-local cache at the start and the end of a job: what a job ended during a
 * checkpoint left there that no restart can use goes (filem_local_gc_dead). SIGTERM or kill -9
 * of mpirun while the ranks wrote their images left each rank's partial image
 * (.rank_N.img.tmp.PID, 370-430 MB each here) until another job's first commit collected them
 * (review11 #4). At the end: this job's own cache, once its ranks here are gone. At the start:
 * the caches of jobs that do not run (a job whose coordinator was killed cannot clean up after
 * itself). A running job's cache, a writer still there and a committed copy are never touched.
 * Other hosts' caches are collected by their ranks' agents at their first commit
 * (agent_cache.c). At the end the job's sequences in shared storage lose their partial images
 * too (filem_sweep_temps, the same rule without the pid: their writers ran on any host). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "filem/filem.h"
#include "filem/local_gc.h"
#include "filem/stage.h"
#include "snapc/coord_int.h"

/* This host's cache directory: --ckpt-local's, else (also with none: an earlier job's cache
 * may be there) the default one, when it exists and is private. 0 or -errno. */
static int local_dir(char *out, size_t len)
{
    const char *l = coord.cfg->local_dir;
    if (l && *l) {
        if ((size_t)snprintf(out, len, "%s", l) >= len)
            return -ENAMETOOLONG;
        return 0;
    }
    char err[PATH_MAX + 256];
    return filem_local_default(out, len, 0, err, sizeof err);
}

static void say(const char *what, const struct filem_local_gc_stats *s)
{
    if (s->tmp || s->removed)
        revive_log_info("node-local cache: removed %d partial image%s and %d uncommitted "
                        "sequence%s %s (%llu MB)",
                        s->tmp, s->tmp == 1 ? "" : "s", s->removed, s->removed == 1 ? "" : "s",
                        what, s->bytes >> 20);
}

void coord_cache_sweep_start(void)
{
    char local[PATH_MAX];
    struct filem_local_gc_stats s;
    if (local_dir(local, sizeof local) == 0 && filem_local_gc_dead(local, NULL, &s) == 0)
        say("of jobs that ended during a checkpoint", &s);
}

/* The job's sequences in shared storage: a partial image whose writer ended during its copy (its
 * host lost, the rank killed: review9 F2, up to 15 MB of a 37 MB snapshot each time) would hold
 * the space for good once the job is over; a writer still copying holds its lock and stays. */
static void sweep_shared_end(void)
{
    uint64_t *v;
    int n;
    char err[256];
    if (!coord.jobdir_ok || filem_list_seqs(coord.jobdir, &v, &n, err, sizeof err) < 0)
        return;
    struct filem_local_gc_stats s = {0};
    for (int i = 0; i < n; i++) {
        char sd[PATH_MAX];
        if (filem_seq_path(sd, sizeof sd, coord.jobdir, v[i]) == 0)
            filem_sweep_temps(sd, 0, &s);
    }
    free(v);
    if (s.tmp)
        revive_log_info("removed %d partial image%s (%llu MB) that ranks ended during a copy "
                        "left in %s",
                        s.tmp, s.tmp == 1 ? "" : "s", s.bytes >> 20, coord.jobdir);
}

void coord_cache_sweep_end(void)
{
    sweep_shared_end();
    char local[PATH_MAX];
    struct filem_local_gc_stats s;
    const char *job = strrchr(coord.jobdir, '/');
    job = job ? job + 1 : coord.jobdir;
    if (coord.jobdir_ok && local_dir(local, sizeof local) == 0 &&
        filem_local_gc_dead(local, job, &s) == 0)
        say("of this job, ended during a checkpoint", &s);
}

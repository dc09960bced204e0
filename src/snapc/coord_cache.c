/* This host's node-local cache at the start and the end of a job: what a job ended during a
 * checkpoint left there that no restart can use goes (filem_local_gc_dead). SIGTERM or kill -9
 * of mpirun while the ranks wrote their images left each rank's partial image
 * (.rank_N.img.tmp.PID, 370-430 MB each here) until another job's first commit collected them
 * (review11 #4). At the end: this job's own cache, once its ranks here are gone. At the start:
 * the caches of jobs that do not run (a job whose coordinator was killed cannot clean up after
 * itself). A running job's cache, a writer still there and a committed copy are never touched.
 * Other hosts' caches are collected by their ranks' agents at their first commit
 * (agent_cache.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
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

void coord_cache_sweep_end(void)
{
    char local[PATH_MAX];
    struct filem_local_gc_stats s;
    const char *job = strrchr(coord.jobdir, '/');
    job = job ? job + 1 : coord.jobdir;
    if (coord.jobdir_ok && local_dir(local, sizeof local) == 0 &&
        filem_local_gc_dead(local, job, &s) == 0)
        say("of this job, ended during a checkpoint", &s);
}

/* The coordinator stages a lost rank's image itself (newuser9 F5): with node-local first, a
 * launcher that ends the whole job when a node goes (Open MPI's mpirun, about 2 s after the
 * node's remote shell dies) leaves no rank alive to stage the images still in the caches, nor
 * the partner copies of the lost node's ranks, although the coordinator's host (where mpirun
 * runs, most often the job's first node) may hold a verified copy of each. The coordinator
 * outlives the launcher: it copies such a copy from its own host's cache into the shared
 * sequence directory through the ranks' own staging copy (filem_stage_file: temporary name,
 * flush, every chunk and the file's checksum against the one the rank reported, rename), so
 * that the sequence commits when every image got there. Synchronous: the job has ended or is
 * ending, and the copy is bounded by the file's size (no bandwidth limit: nobody runs). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "snapc/coord_int.h"

#define MAX_SELF 4096

static uint32_t from_epoch;
static char *from[MAX_SELF];

const char *coord_self_staged_from(int r)
{
    return r >= 0 && r < MAX_SELF && from_epoch == coord.p.epoch ? from[r] : NULL;
}

static void note_from(int r, const char *text)
{
    if (from_epoch != coord.p.epoch) {
        for (int i = 0; i < MAX_SELF; i++) {
            free(from[i]);
            from[i] = NULL;
        }
        from_epoch = coord.p.epoch;
    }
    if (r >= 0 && r < MAX_SELF) {
        free(from[r]);
        from[r] = strdup(text);
    }
}

void coord_self_stage(int r, const char *why)
{
    char host[256] = "", local[PATH_MAX], dir[PATH_MAX], err[PATH_MAX * 2 + 256] = "";
    char tried[SNAPC_TEXT_MAX] = "";
    size_t tl = 0;
    gethostname(host, sizeof host - 1);
    revive_log_warn("checkpoint %llu: %s: the coordinator stages the copy of rank %d its host "
                    "%s's cache holds, if any", (unsigned long long)coord.p.seq, why, r, host);
    int e = coord_cache_dir(local, sizeof local);
    if (e < 0)
        snprintf(tried, sizeof tried, "this host's cache: %s", strerror(-e));
    else if (!coord.seqdir[0])
        snprintf(tried, sizeof tried, "no sequence directory");
    else if ((e = filem_local_seq_dir(local, coord.seqdir, 0, dir, sizeof dir, err, sizeof err)) < 0)
        snprintf(tried, sizeof tried, "%s", err);
    else {
        for (int partner = 0; partner < 2; partner++) {
            char src[PATH_MAX + 64], name[64];
            snprintf(src, sizeof src, "%s/%s%d.img", dir, partner ? FILEM_PARTNER_PREFIX : "rank_", r);
            snprintf(name, sizeof name, "rank_%d.img", r);
            if (access(src, F_OK) < 0) {
                tl += (size_t)snprintf(tried + tl, tl < sizeof tried ? sizeof tried - tl : 0,
                                       "%sno %s", tl ? "; " : "", src);
                continue;
            }
            struct filem_stage_stats st;
            e = filem_stage_file(src, coord.seqdir, name, coord.p.r[r].checksum, 0, &st, err,
                                 sizeof err);
            if (e == 0) {
                char text[PATH_MAX + 300];
                snprintf(text, sizeof text, "the %s in the coordinator's host %s's cache",
                         partner ? "partner copy" : "rank's own copy", host);
                note_from(r, text);
                revive_log_info("rank %d: image staged by the coordinator from %s on %s (%llu "
                                "bytes, copy %lld ms, verify %lld ms)",
                                r, src, host, (unsigned long long)st.bytes,
                                (long long)(st.copy_ns / 1000000),
                                (long long)(st.verify_ns / 1000000));
                if (snapc_proto_self_staged(&coord.p, r) < 0)
                    revive_log_error("out of memory in the coordinator");
                return; /* its actions (the commit) run in the loop that ran this one */
            }
            tl += (size_t)snprintf(tried + tl, tl < sizeof tried ? sizeof tried - tl : 0,
                                   "%s%s", tl ? "; " : "", err);
        }
    }
    coord_local_fail(-ESRCH, "%s; no rank left holds a copy of rank %d's image to stage, and "
                             "the coordinator's host %s has no good one (%s)",
                     why, r, host, tried);
}

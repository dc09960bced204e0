/* The images a check found missing from the snapshot directory or damaged in it (restart_mpi.h
 * struct missing, restart_note_missing), and the damaged ones moved aside for the fetch and put
 * back where no good copy came (restart_damaged_aside), also after a restart-mpi killed during
 * its fetch (restart_aside_left). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "common/fault.h"
#include "common/relocate_arg.h"
#include "common/text.h"
#include "common/size_arg.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "restart_mpi.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

/* Damaged shared images moved aside for the fetch (restart_damaged_aside below): the first
 * aside_moved of aside_rank[] in aside_dir. Put back by whatever ends restart-mpi before the
 * fetch is over (a signal, restart_die), so that no rank_R.img.damaged is left: the store does not know
 * that name (retention could never remove the sequence) and the image would then read as
 * missing, not damaged (diffrev31 R-M2). */
static const char *aside_dir;
static const int *aside_rank;
static int aside_moved;

/* Each image moved aside goes back under its name unless a good copy came there (fetched and
 * verified: the damaged one is removed then). Returns how many went back. */
int restart_aside_restore(void)
{
    int back = 0;
    for (int i = 0; i < aside_moved; i++) {
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", aside_dir, aside_rank[i]);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (access(img, F_OK) < 0)
            back += rename(aside, img) == 0;
        else
            (void)unlink(aside);
    }
    if (aside_moved)
        revive_fsync_dir(aside_dir);
    aside_moved = 0;
    return back;
}

static void add_rank(int **v, int *n, int rank)
{
    int *r = realloc(*v, (size_t)(*n + 1) * sizeof *r);
    if (!r)
        restart_die("out of memory");
    *v = r;
    r[(*n)++] = rank;
}

void restart_note_missing(void *arg, int rank, int status, const char *msg)
{
    struct missing *mi = arg;
    if (status == 0)
        return;
    if (status != -ENOENT) {
        mi->other++;
        if (filem_image_replaceable(mi->m, mi->seqdir, rank, status, 1)) {
            char **w = realloc(mi->dam_why, (size_t)(mi->ndam + 1) * sizeof *w);
            if (!w)
                restart_die("out of memory");
            mi->dam_why = w;
            if (!(w[mi->ndam] = strdup(msg ? msg : "it fails its check")))
                restart_die("out of memory");
            add_rank(&mi->dam, &mi->ndam, rank);
        }
        return;
    }
    add_rank(&mi->ranks, &mi->n, rank);
}

/* STEP -1: the damaged shared images moved aside (rank_R.img -> rank_R.img.damaged) so that
 * the fetch puts a good copy under the name (its receiver keeps a copy already there); after
 * the fetch, STEP 1 puts them back where no good copy came (the snapshot as it was), STEP 0
 * removes those a good copy replaced. A rename that fails puts back those already moved (restart_die);
 * a signal during the fetch puts them back too (ended_by_signal). Killed outright (SIGKILL) in
 * between, the next restart-mpi puts them back (restart_aside_left). */
void restart_damaged_aside(const struct missing *mi, int step)
{
    if (step >= 0) {
        if (step)
            restart_aside_restore();
        else {
            for (int i = 0; i < aside_moved; i++) {
                char aside[PATH_MAX + 48];
                snprintf(aside, sizeof aside, "%s/rank_%d.img.damaged", aside_dir, aside_rank[i]);
                (void)unlink(aside);
            }
            revive_fsync_dir(aside_dir);
            aside_moved = 0;
        }
        return;
    }
    aside_dir = mi->seqdir;
    aside_rank = mi->dam;
    aside_moved = 0;
    for (int i = 0; i < mi->ndam; i++) {
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", mi->seqdir, mi->dam[i]);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (rename(img, aside) < 0)
            restart_die("cannot move the damaged image %s aside to fetch a good copy: %s (nothing was "
                "started; the images moved before it are back)", img, strerror(errno));
        aside_moved = i + 1;
    }
    revive_fsync_dir(mi->seqdir);
}

/* Images a restart-mpi killed outright (SIGKILL: nothing of it ran) left aside during its
 * fetch: each put back under its name (where none came since), under the restart lock (a
 * restart that runs now may have moved it), so that it reads as damaged again and its good
 * copy is fetched as before, said. */
void restart_aside_left(const char *jobdir, const char *seqdir)
{
    DIR *d = opendir(seqdir);
    if (!d)
        return;
    struct dirent *de;
    int locked = 0;
    char err[PATH_MAX + 256];
    while ((de = readdir(d))) {
        int r, len = 0;
        if (sscanf(de->d_name, "rank_%d.img.damaged%n", &r, &len) != 1 || de->d_name[len] ||
            r < 0)
            continue;
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", seqdir, r);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (access(img, F_OK) == 0)
            continue; /* a good copy came since: the restart that will use it removes the other */
        if (!locked && snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
            restart_die("%s", err);
        locked = 1;
        if (rename(aside, img) < 0)
            restart_die("cannot put back %s (left aside by a restart-mpi that was killed during its "
                "fetch) as %s: %s", aside, img, strerror(errno));
        fprintf(stderr, "%s: rank %d's damaged image was left aside as %s by a restart-mpi "
                        "killed during its fetch: put back under its name\n", restart_me, r, aside);
    }
    closedir(d);
    if (locked)
        revive_fsync_dir(seqdir);
}

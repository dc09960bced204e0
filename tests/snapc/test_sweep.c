/* Unit test of the sweep of superseded jobs' node-local caches (filem_local_retain after a
 * commit, src/filem/local_retain.h): the agent that removes such a cache says so (swept), also
 * when another agent of the node removes the emptied job directory first, and one that removed
 * nothing of it does not. Every rank's agent of a node sweeps at the same commit and its cache
 * collection (local_gc.h) follows its sweep: in CI (make -j2) the agent that removed the
 * sequence lost the last rmdir to the other, and no rank said it had removed the cache. The
 * other agent is played by this program's rmdir (below), which the library's calls reach. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "filem/local_gc.h"
#include "filem/local_retain.h"
#include "snapc_test.h"

/* When set, the rmdir that would remove this directory finds it removed by another agent just
 * before (it is removed, and the call fails with ENOENT). */
static const char *lose_rmdir_of;

int rmdir(const char *path)
{
    int r = (int)syscall(SYS_rmdir, path);
    if (r == 0 && lose_rmdir_of && !strcmp(path, lose_rmdir_of)) {
        lose_rmdir_of = NULL;
        errno = ENOENT;
        return -1;
    }
    return r;
}

static char shared[PATH_MAX], local[PATH_MAX];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Job a, restarted elsewhere and superseded, its sequence 0 cached on this node; job c's
 * sequence 0 (committed, cached) whose commit sweeps. Returns job a's cache directory. */
static const char *setup(void)
{
    static char ja[PATH_MAX + 64];
    char p[6 * PATH_MAX + 256];
    snprintf(p, sizeof p, "rm -rf %s %s && mkdir -p %s/revive_global_snapshot_1.ckpt/0 "
             "%s/revive_global_snapshot_2.ckpt/0 %s/revive_global_snapshot_1.ckpt/0 "
             "%s/revive_global_snapshot_2.ckpt/0", shared, local, shared, shared, local, local);
    CHECK_EQ(system(p), 0);
    snprintf(p, sizeof p, "%s/revive_global_snapshot_1.ckpt/0/snapshot.meta", shared);
    put(p, "committed\n");
    snprintf(p, sizeof p, "%s/revive_global_snapshot_1.ckpt/%s", shared, FILEM_SUPERSEDED_NAME);
    put(p, "superseded.by elsewhere\nstale.caches h2\n");
    snprintf(p, sizeof p, "%s/revive_global_snapshot_1.ckpt", shared);
    CHECK_EQ(filem_superseded_index_add(p), 0); /* listed with the mark, as filem_mark_superseded does */
    snprintf(p, sizeof p, "%s/revive_global_snapshot_2.ckpt/0/snapshot.meta", shared);
    put(p, "committed\n");
    snprintf(ja, sizeof ja, "%s/revive_global_snapshot_1.ckpt", local);
    snprintf(p, sizeof p, "%s/0/rank_2.img", ja);
    put(p, "image");
    snprintf(p, sizeof p, "%s/%s", ja, FILEM_LOCAL_JOBDIR_NAME);
    char note[PATH_MAX + 64];
    snprintf(note, sizeof note, "%s/revive_global_snapshot_1.ckpt\n", shared);
    put(p, note);
    snprintf(p, sizeof p, "%s/revive_global_snapshot_2.ckpt/0/rank_0.img", local);
    put(p, "image");
    return ja;
}

static int sweep(struct filem_local_retain_stats *rs)
{
    char l[PATH_MAX + 64], s[PATH_MAX + 64];
    snprintf(l, sizeof l, "%s/revive_global_snapshot_2.ckpt/0", local);
    snprintf(s, sizeof s, "%s/revive_global_snapshot_2.ckpt/0", shared);
    memset(rs, 0, sizeof *rs);
    return filem_local_retain(l, s, 1, rs);
}

int main(void)
{
    char dir[] = "/tmp/revive-test-sweep.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(shared, sizeof shared, "%s/shared", dir);
    snprintf(local, sizeof local, "%s/local", dir);
    struct filem_local_retain_stats rs;
    struct stat st;

    /* alone: the cache goes, said */
    const char *ja = setup();
    CHECK_EQ(sweep(&rs), 0);
    CHECK_EQ(rs.swept, 1);
    CHECK_EQ(rs.removed, 1);
    CHECK(stat(ja, &st) != 0 && errno == ENOENT);

    /* the other agent removes the emptied directory just before this one's rmdir: still said
     * by the agent that removed its sequence (before: swept 0, and no rank said it) */
    ja = setup();
    lose_rmdir_of = ja;
    CHECK_EQ(sweep(&rs), 0);
    CHECK(lose_rmdir_of == NULL); /* the race was played */
    CHECK_EQ(rs.swept, 1);
    CHECK(stat(ja, &st) != 0 && errno == ENOENT);

    /* the other agent holds the sequence (removing it): this one removed nothing, says
     * nothing, and leaves what it holds */
    ja = setup();
    char seq[PATH_MAX + 64];
    snprintf(seq, sizeof seq, "%s/0", ja);
    int fd = open(seq, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK_EQ(sweep(&rs), 0);
    CHECK_EQ(rs.swept, 0);
    CHECK_EQ(rs.busy, 1);
    CHECK_EQ(stat(seq, &st), 0);
    close(fd);
    /* ... and once it has gone, a later sweep finds nothing to say */
    char rm[PATH_MAX + 80];
    snprintf(rm, sizeof rm, "rm -rf %s", ja);
    CHECK_EQ(system(rm), 0);
    CHECK_EQ(sweep(&rs), 0);
    CHECK_EQ(rs.swept, 0);

    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK_EQ(system(rm), 0);
    return test_summary("test_sweep");
}

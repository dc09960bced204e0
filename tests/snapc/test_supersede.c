/* Unit test of the marks a restarted job's commit leaves on the jobs it came from
 * (filem_mark_superseded, src/filem/local_retain.h): every job up the chain gets its
 * `superseded` mark and an entry in its snapshot directory's index of the calling user
 * (BASE/.superseded-UID, 0700), also when that index cannot be written: the walk goes on and the
 * failure is said once (diffrev50 R-M1: a failed listing ended the walk, the jobs above kept no
 * mark, and one shared index folder, 0700, made by whichever user marked first, refused every
 * other user of a shared snapshot directory). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/local_retain.h"
#include "snapc_test.h"

static char base[PATH_MAX];

/* job NAME's sequence 0, restarted from PARENT's sequence 0 (NULL: an original job) */
static void job(const char *name, const char *parent)
{
    char seq[PATH_MAX + 64], err[512];
    snprintf(seq, sizeof seq, "%s/%s", base, name);
    CHECK_EQ(mkdir(seq, 0700), 0);
    strcat(seq, "/0");
    CHECK_EQ(mkdir(seq, 0700), 0);
    struct filem_meta m;
    filem_meta_init(&m);
    CHECK_EQ(filem_meta_set(&m, "hosts", "%s", "h1"), 0);
    if (parent) {
        CHECK_EQ(filem_meta_set(&m, "parent.jobdir", "%s/%s", base, parent), 0);
        CHECK_EQ(filem_meta_set(&m, "parent.seq", "%s", "0"), 0);
    }
    err[0] = 0;
    CHECK_EQ(filem_meta_write(seq, &m, err, sizeof err), 0);
    filem_meta_free(&m);
}

static int exists(const char *dir, const char *name)
{
    char p[2 * PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void chain(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s/*", base);
    CHECK_EQ(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s/.super*", base);
    CHECK_EQ(system(cmd), 0);
    job("revive_global_snapshot_1.ckpt", NULL);
    job("revive_global_snapshot_2.ckpt", "revive_global_snapshot_1.ckpt");
    job("revive_global_snapshot_3.ckpt", "revive_global_snapshot_2.ckpt");
}

int main(void)
{
    char dir[] = "/tmp/revive-test-supersede.XXXXXX", index[PATH_MAX + 64], seq[PATH_MAX + 64];
    char j1[PATH_MAX + 64], j2[PATH_MAX + 64], err[1024];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(base, sizeof base, "%s", dir);
    CHECK_EQ(filem_superseded_index_path(base, index, sizeof index), 0);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/.superseded-%u", base, (unsigned)geteuid());
    CHECK_STR_CONTAINS(index, want);
    snprintf(seq, sizeof seq, "%s/revive_global_snapshot_3.ckpt/0", base);
    snprintf(j1, sizeof j1, "%s/revive_global_snapshot_1.ckpt", base);
    snprintf(j2, sizeof j2, "%s/revive_global_snapshot_2.ckpt", base);

    /* job 3 (restarted from 2, itself from 1) commits: both marked and listed, index private */
    chain();
    err[0] = 0;
    CHECK_EQ(filem_mark_superseded(seq, err, sizeof err), 0);
    CHECK(exists(j2, FILEM_SUPERSEDED_NAME));
    CHECK(exists(j1, FILEM_SUPERSEDED_NAME));
    CHECK(exists(index, "revive_global_snapshot_2.ckpt"));
    CHECK(exists(index, "revive_global_snapshot_1.ckpt"));
    struct stat st;
    CHECK(stat(index, &st) == 0 && (st.st_mode & 07777) == 0700);

    /* the index cannot be made (a file in its place; as another user's folder would refuse):
     * both jobs still marked, the failure said once, naming the index */
    chain();
    FILE *f = fopen(index, "we");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    err[0] = 0;
    CHECK(filem_mark_superseded(seq, err, sizeof err) < 0);
    CHECK(exists(j2, FILEM_SUPERSEDED_NAME));
    CHECK(exists(j1, FILEM_SUPERSEDED_NAME)); /* before: the walk ended at job 2 */
    CHECK_STR_CONTAINS(err, "cannot be listed");
    CHECK_STR_CONTAINS(err, ".superseded-");

    /* another user's index beside it (the old shared name, or another uid's) is not this one's */
    chain();
    snprintf(want, sizeof want, "%s/.superseded", base);
    CHECK_EQ(mkdir(want, 0700), 0);
    snprintf(want, sizeof want, "%s/.superseded-%u", base, (unsigned)geteuid() + 1);
    CHECK_EQ(mkdir(want, 0700), 0);
    CHECK_EQ(filem_mark_superseded(seq, err, sizeof err), 0);
    CHECK(exists(index, "revive_global_snapshot_1.ckpt"));
    CHECK(!exists(want, "revive_global_snapshot_1.ckpt"));

    char rm[PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK_EQ(system(rm), 0);
    return test_summary("test_supersede");
}

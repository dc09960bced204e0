/* Unit tests of the snapshot store (src/filem): snapshot.meta round trip,
 * every flipped byte and every truncation refused, bounds, private
 * directories, sequence creation and removal, references, the index and
 * failed restarts, retention (newest kept, one being read kept; a reader that waited for the
 * lock while retention removed the sequence holds nothing), verify, the staging.failed
 * mark written over the room kept for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "filem/file_sum.h"
#include "filem/filem.h"
#include "crs/base/image_format.h"
#include "crs/base/tree.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc_test.h"
#include "tiny_image.h"

static char base[PATH_MAX];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[PATH_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    CHECK_EQ(system(cmd), 0);
}

static void test_meta_roundtrip(void)
{
    struct filem_meta m;
    filem_meta_init(&m);
    CHECK_EQ(filem_meta_set(&m, "seq", "%d", 42), 0);
    CHECK_EQ(filem_meta_set(&m, "launcher.arg.0", "a b\\c\nd\te\x01 \xc3\xa9"), 0);
    CHECK_EQ(filem_meta_set(&m, "rank.0.checksum", "0x%016" PRIx64, (uint64_t)0xdeadbeefULL), 0);
    CHECK_EQ(filem_meta_set(&m, "Bad Key", "x"), -EINVAL);
    CHECK_EQ(filem_meta_set(&m, "", "x"), -EINVAL);
    CHECK_EQ(filem_meta_set(&m, "seq", "%d", 43), 0); /* replaces */
    char *b;
    size_t len;
    CHECK_EQ(filem_meta_serialize(&m, FILEM_META_MAGIC, &b, &len), 0);
    CHECK_EQ(strncmp(b, "REVIVE-SNAPSHOT 1\n", 18), 0);
    CHECK(strstr(b, "\nchecksum xxh3 ") != NULL);
    struct filem_meta r;
    char err[256];
    CHECK_EQ(filem_meta_parse(b, len, FILEM_META_MAGIC, &r, err, sizeof err), 0);
    CHECK_EQ(r.n, 3);
    CHECK_STR_CONTAINS(filem_meta_get(&r, "launcher.arg.0"), "a b\\c\nd\te\x01 \xc3\xa9");
    uint64_t v;
    CHECK_EQ(filem_meta_get_u64(&r, "seq", &v), 0);
    CHECK_EQ(v, 43);
    CHECK_EQ(filem_meta_get_u64(&r, "rank.0.checksum", &v), 0);
    CHECK_EQ(v, 0xdeadbeefULL);
    CHECK_EQ(filem_meta_get_u64(&r, "launcher.arg.0", &v), -EINVAL);
    CHECK_EQ(filem_meta_get_u64(&r, "nope", &v), -ENOENT);
    filem_meta_free(&r);
    /* every flipped byte is refused */
    int accepted = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (char)(1 << bit);
            if (filem_meta_parse(b, len, FILEM_META_MAGIC, &r, err, sizeof err) == 0) {
                accepted++;
                filem_meta_free(&r);
            }
            b[i] ^= (char)(1 << bit);
        }
    }
    CHECK_EQ(accepted, 0);
    /* every truncation is refused, with "truncated" or "damaged" */
    for (size_t l = 0; l < len; l++) {
        int e = filem_meta_parse(b, l, FILEM_META_MAGIC, &r, err, sizeof err);
        CHECK_EQ(e, -EBADMSG);
        if (e == 0)
            filem_meta_free(&r);
    }
    CHECK_EQ(filem_meta_parse(b, 10, FILEM_META_MAGIC, &r, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "does not start with");
    CHECK_EQ(filem_meta_parse(b, len - 5, FILEM_META_MAGIC, &r, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "truncated");
    free(b);
    /* a line longer than the bound */
    char *big = malloc(FILEM_LINE_MAX + 10);
    memset(big, 'x', FILEM_LINE_MAX + 9);
    big[FILEM_LINE_MAX + 9] = 0;
    CHECK_EQ(filem_meta_set(&m, "big", "%s", big), 0);
    CHECK_EQ(filem_meta_serialize(&m, FILEM_META_MAGIC, &b, &len), -E2BIG);
    free(big);
    filem_meta_free(&m);
    /* a repeated key, with a right checksum, is refused */
    const char *dup = "REVIVE-SNAPSHOT 1\na 1\na 2\n";
    struct filem_meta d;
    filem_meta_init(&d);
    filem_meta_set(&d, "a", "1");
    filem_meta_set(&d, "b", "2");
    CHECK_EQ(filem_meta_serialize(&d, FILEM_META_MAGIC, &b, &len), 0);
    char *p = strstr(b, "\nb 2");
    p[1] = 'a'; /* "a 2": a duplicate, checksum now wrong */
    CHECK_EQ(filem_meta_parse(b, len, FILEM_META_MAGIC, &r, err, sizeof err), -EBADMSG);
    free(b);
    filem_meta_free(&d);
    (void)dup;
}

static void test_private_dirs(void)
{
    char p[PATH_MAX], err[512];
    filem_fmt(p, sizeof p, "%s/priv", base);
    CHECK_EQ(filem_private_dir(p, 0, err, sizeof err), -ENOENT);
    CHECK_EQ(filem_private_dir(p, 1, err, sizeof err), 0);
    struct stat st;
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0700);
    CHECK_EQ(chmod(p, 0755), 0);
    CHECK_EQ(filem_private_dir(p, 1, err, sizeof err), -EPERM);
    CHECK_STR_CONTAINS(err, "not private (mode 0755)");
    char l[PATH_MAX];
    filem_fmt(l, sizeof l, "%s/link", base);
    CHECK_EQ(symlink(p, l), 0);
    CHECK_EQ(filem_private_dir(l, 0, err, sizeof err), -ELOOP);
    CHECK_STR_CONTAINS(err, "symbolic link");
    filem_fmt(l, sizeof l, "%s/file", base);
    int fd = open(l, O_CREAT | O_WRONLY, 0600);
    close(fd);
    CHECK_EQ(filem_private_dir(l, 0, err, sizeof err), -ENOTDIR);
}

/* A committed sequence of `ranks` tiny images under jobdir. */
static void make_seq(const char *jobdir, uint64_t seq, int ranks, int commit)
{
    char err[512], dir[PATH_MAX];
    CHECK_EQ(filem_seq_create(jobdir, seq, err, sizeof err), 0);
    filem_seq_path(dir, sizeof dir, jobdir, seq);
    struct filem_meta m;
    filem_meta_init(&m);
    filem_meta_set(&m, "seq", "%llu", (unsigned long long)seq);
    filem_meta_set(&m, "ranks", "%d", ranks);
    filem_meta_set(&m, "time.established", "1700000000.5");
    uint64_t total = 0;
    for (int r = 0; r < ranks; r++) {
        char path[PATH_MAX], text[64], k[64];
        filem_image_path(path, sizeof path, jobdir, seq, r);
        snprintf(text, sizeof text, "rank %d of seq %llu\n", r, (unsigned long long)seq);
        CHECK_EQ(tiny_image_write(path, text, err, sizeof err), 0);
        uint64_t sum, size;
        CHECK_EQ(filem_image_checksum(path, &sum, &size, err, sizeof err), 0);
        snprintf(k, sizeof k, "rank.%d.image", r);
        filem_meta_set(&m, k, "rank_%d.img", r);
        snprintf(k, sizeof k, "rank.%d.size", r);
        filem_meta_set(&m, k, "%llu", (unsigned long long)size);
        snprintf(k, sizeof k, "rank.%d.checksum", r);
        filem_meta_set(&m, k, "0x%016" PRIx64, sum);
        total += size;
    }
    filem_meta_set(&m, "bytes", "%llu", (unsigned long long)total);
    if (commit)
        CHECK_EQ(filem_meta_write(dir, &m, err, sizeof err), 0);
    filem_meta_free(&m);
}

static void new_jobdir(char *jobdir, size_t len, long pid)
{
    char err[512];
    filem_job_path(jobdir, len, base, pid);
    CHECK_EQ(filem_private_dir(jobdir, 1, err, sizeof err), 0);
}

static int exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exists(const char *fmt, ...)
{
    char p[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    return access(p, F_OK) == 0;
}

static void test_sequences(void)
{
    char job[PATH_MAX], err[512];
    new_jobdir(job, sizeof job, 100);
    uint64_t next;
    CHECK_EQ(filem_next_seq(job, &next, err, sizeof err), 0);
    CHECK_EQ(next, 0);
    make_seq(job, 0, 2, 1);
    make_seq(job, 1, 2, 0);
    CHECK_EQ(filem_next_seq(job, &next, err, sizeof err), 0);
    CHECK_EQ(next, 2);
    struct stat st;
    char p[PATH_MAX];
    filem_fmt(p, sizeof p, "%s/0/%s", job, FILEM_META_NAME);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    filem_fmt(p, sizeof p, "%s/0/rank_1.img", job);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    /* a committed sequence is never discarded nor re-created */
    CHECK_EQ(filem_seq_discard(job, 0, err, sizeof err), -EEXIST);
    CHECK_EQ(filem_seq_create(job, 0, err, sizeof err), -EEXIST);
    CHECK(exists("%s/0/rank_0.img", job));
    /* an uncommitted one is, also a leftover re-created */
    CHECK_EQ(filem_seq_create(job, 1, err, sizeof err), 0);
    CHECK(!exists("%s/1/rank_0.img", job));
    make_seq(job, 2, 1, 0);
    CHECK_EQ(filem_seq_discard(job, 2, err, sizeof err), 0);
    CHECK(!exists("%s/2", job));
    /* a rank of the failed attempt still writing (its directory open): the number is free at
     * once, the late file keeps a hidden directory until filem_trash_clean */
    make_seq(job, 4, 1, 0);
    filem_fmt(p, sizeof p, "%s/4", job);
    int late = open(p, O_RDONLY | O_DIRECTORY);
    CHECK(late >= 0);
    CHECK_EQ(filem_seq_discard(job, 4, err, sizeof err), 0);
    CHECK(!exists("%s/4", job));
    int lf = openat(late, ".rank_1.img.tmp.77", O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(lf < 0); /* the directory is gone: the late writer cannot add to it */
    CHECK_EQ(filem_next_seq(job, &next, err, sizeof err), 0);
    CHECK_EQ(next, 2); /* 0 and 1 are there; the hidden one is no sequence */
    /* a late file that came between the emptying and the rmdir kept the hidden directory */
    sh("mkdir -m 700 %s/.discarded.4.1.0 && touch %s/.discarded.4.1.0/rank_0.img", job, job);
    CHECK_EQ(filem_trash_clean(job), 0);
    CHECK(!exists("%s/.discarded.4.1.0", job));
    sh("mkdir -m 700 %s/.discarded.5.1.0 && touch %s/.discarded.5.1.0/notes.txt", job, job);
    CHECK_EQ(filem_trash_clean(job), 1); /* a file Revive did not write stays */
    sh("rm -r %s/.discarded.5.1.0", job);
    close(late);
    /* a file Revive did not write stays, and is named */
    make_seq(job, 3, 1, 0);
    sh("echo mine > %s/3/notes.txt", job);
    CHECK_EQ(filem_seq_discard(job, 3, err, sizeof err), -ENOTEMPTY);
    CHECK_STR_CONTAINS(err, "did not write");
    CHECK(exists("%s/3/notes.txt", job));
    CHECK(!exists("%s/3/rank_0.img", job));
    /* reading the metadata */
    struct filem_meta m;
    filem_fmt(p, sizeof p, "%s/1", job);
    CHECK_EQ(filem_meta_read(p, &m, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, "not committed");
    filem_fmt(p, sizeof p, "%s/0", job);
    CHECK_EQ(filem_meta_read(p, &m, err, sizeof err), 0);
    filem_meta_free(&m);
    sh("chmod 644 %s/0/%s", job, FILEM_META_NAME);
    CHECK_EQ(filem_meta_read(p, &m, err, sizeof err), -EPERM);
    CHECK_STR_CONTAINS(err, "not private");
    sh("chmod 600 %s/0/%s", job, FILEM_META_NAME);
    /* references */
    char jd[PATH_MAX];
    int64_t s;
    CHECK_EQ(filem_resolve_ref(job, jd, sizeof jd, &s, err, sizeof err), 0);
    CHECK_EQ(s, -1);
    filem_fmt(p, sizeof p, "%s/0/", job);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), 0);
    CHECK_EQ(s, 0);
    CHECK_EQ(strcmp(jd, job), 0);
    filem_fmt(p, sizeof p, "%s/9", job);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    /* a sequence the job directory does not hold: the committed ones named (newuser9b N3) */
    CHECK_STR_CONTAINS(err, "/9 does not exist: ");
    CHECK_STR_CONTAINS(err, " holds committed sequence 0, not 9 (not taken yet, or it failed); restart one of "
                            "those, or ");
    /* older than the oldest committed one, no --ckpt-keep recorded: no retention named (diffrev32 R-L2) */
    sh("mkdir -p -m 700 %s/" FILEM_JOB_PREFIX "201" FILEM_JOB_SUFFIX "/5 && cp -p %s/0/%s %s/" FILEM_JOB_PREFIX
       "201" FILEM_JOB_SUFFIX "/5/", base, job, FILEM_META_NAME, base);
    filem_fmt(p, sizeof p, "%s/" FILEM_JOB_PREFIX "201" FILEM_JOB_SUFFIX "/3", base);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, " holds committed sequence 5, not 3 (it failed, or was removed)");
    CHECK(strstr(err, "--ckpt-keep") == NULL);
    sh("rm -rf %s/" FILEM_JOB_PREFIX "201" FILEM_JOB_SUFFIX, base);
    /* the snapshot directory gone (issue 9): said so, naming the highest missing folder */
    filem_fmt(p, sizeof p, "%s/gone/deeper/" FILEM_JOB_PREFIX "77" FILEM_JOB_SUFFIX "/3", base);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, "does not exist: ");
    char gone[PATH_MAX + 16];
    filem_fmt(gone, sizeof gone, ": %s/gone is not there (mistyped, removed, or its file system", base);
    CHECK_STR_CONTAINS(err, gone);
    /* the node-local caches named only when this host's cache holds the job (newuser7b F4,
     * ed11ee0): a private cache folder without it, then with it */
    char cache[PATH_MAX];
    filem_fmt(cache, sizeof cache, "%s/cache", base);
    sh("mkdir -p -m 700 %s", cache);
    const char *old_local = getenv("REVIVE_LOCAL_DIR");
    char *keep_local = old_local ? strdup(old_local) : NULL;
    setenv("REVIVE_LOCAL_DIR", cache, 1);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, "this host's node-local cache holds no copy of it either");
    CHECK(strstr(err, "the images and the snapshot's metadata") == NULL);
    sh("mkdir -p -m 700 %s/" FILEM_JOB_PREFIX "77" FILEM_JOB_SUFFIX, cache);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, "the images and the snapshot's metadata (" FILEM_META_NAME "; this host's cache");
    if (keep_local)
        setenv("REVIVE_LOCAL_DIR", keep_local, 1);
    else
        unsetenv("REVIVE_LOCAL_DIR");
    free(keep_local);
    sh("rm -rf %s", cache);
    /* only the snapshot directory missing from a folder that is there: no word of a file system
     * not mounted (review LOW-2: a mistyped reference was told so) */
    filem_fmt(p, sizeof p, "%s/" FILEM_JOB_PREFIX "78" FILEM_JOB_SUFFIX, base);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -ENOENT);
    filem_fmt(gone, sizeof gone, "does not exist: there is no " FILEM_JOB_PREFIX "78" FILEM_JOB_SUFFIX
              " in %s (mistyped, or removed)", base);
    CHECK_STR_CONTAINS(err, gone);
    CHECK(strstr(err, "file system is not mounted") == NULL);
    /* a relative one: relative to which directory */
    {
        char here[PATH_MAX];
        CHECK(getcwd(here, sizeof here) != NULL);
        CHECK_EQ(chdir(base), 0);
        CHECK_EQ(filem_resolve_ref(FILEM_JOB_PREFIX "79" FILEM_JOB_SUFFIX "/2", jd, sizeof jd, &s, err,
                                   sizeof err), -ENOENT);
        filem_fmt(gone, sizeof gone, FILEM_JOB_PREFIX "79" FILEM_JOB_SUFFIX "/2 does not exist relative "
                  "to the current directory (%s): there is no " FILEM_JOB_PREFIX "79" FILEM_JOB_SUFFIX
                  " in %s (mistyped, or removed)", base, base);
        CHECK_STR_CONTAINS(err, gone);
        CHECK(strstr(err, "file system is not mounted") == NULL);
        CHECK_EQ(chdir(here), 0);
    }
    /* the folder of one job directory (mpirun's --ckpt-dir) stands for it, with a note */
    CHECK_EQ(filem_resolve_ref(base, jd, sizeof jd, &s, err, sizeof err), 0);
    CHECK_EQ(s, -1);
    CHECK_EQ(strcmp(jd, job), 0);
    CHECK_STR_CONTAINS(err, "holds one snapshot directory: using ");
    filem_fmt(p, sizeof p, "%s/plain", base);
    sh("mkdir -m 700 %s", p);
    CHECK_EQ(filem_resolve_ref(p, jd, sizeof jd, &s, err, sizeof err), -EINVAL);
    CHECK_STR_CONTAINS(err, "not a snapshot reference");
    sh("rmdir %s", p);
}

/* The index's failure reason whole for a message naming a path near PATH_MAX (it was cut at
 * 255 bytes, without a mark); one longer than the index's line is cut, "..." at its end after a
 * whole character, and the index stays readable. */
static void test_index_reason(const char *job)
{
    static char why[3 * PATH_MAX], path[PATH_MAX];
    char err[512];
    memset(path, 'p', PATH_MAX - 64);
    path[0] = '/';
    path[PATH_MAX - 64] = 0;
    snprintf(why, sizeof why, "rank 1: %s/rank_1.img: chunk 3 is corrupt; restart from an "
             "earlier sequence", path);
    CHECK_EQ(filem_index_mark_failed(job, 3, why, err, sizeof err), 0);
    struct filem_seq_info *v;
    int n;
    CHECK_EQ(filem_scan(job, &v, &n, err, sizeof err), 0);
    CHECK(n > 3 && v[3].seq == 3);
    CHECK_EQ(strcmp(v[3].failed_reason, why), 0);
    free(v);
    /* twice the path, with two-byte characters at the cut: cut with a mark, the index kept */
    memset(path + 1, 0, sizeof path - 1);
    for (size_t i = 1; i + 2 < PATH_MAX - 64; i += 2)
        memcpy(path + i, "\xc3\xa9", 2);
    snprintf(why, sizeof why, "rank 1: %s: %s: chunk 3 is corrupt", path, path);
    CHECK_EQ(filem_index_mark_failed(job, 3, why, err, sizeof err), 0);
    CHECK_EQ(filem_scan(job, &v, &n, err, sizeof err), 0);
    size_t l = strlen(v[3].failed_reason);
    CHECK(l > PATH_MAX && l < strlen(why));
    CHECK_EQ(strcmp(v[3].failed_reason + l - 3, "..."), 0);
    CHECK_EQ(strncmp(v[3].failed_reason, why, l - 3), 0);
    CHECK(((unsigned char)v[3].failed_reason[l - 4] & 0xC0) == 0x80 ||
          (unsigned char)v[3].failed_reason[l - 4] < 0x80); /* a whole character before the dots */
    CHECK(((unsigned char)v[3].failed_reason[l - 4]) != 0xc3);
    CHECK_EQ(v[3].failed_restarts, 2);
    free(v);
    CHECK_EQ(filem_index_clear_failed(job, 3, err, sizeof err), 1); /* there was a mark */
    CHECK_EQ(filem_index_clear_failed(job, 3, err, sizeof err), 0); /* none left */
}

static void test_index_retention(void)
{
    char job[PATH_MAX], err[512];
    new_jobdir(job, sizeof job, 200);
    for (uint64_t s = 0; s < 5; s++)
        make_seq(job, s, 2, 1);
    make_seq(job, 5, 2, 0);  /* being written */
    /* a damaged one */
    make_seq(job, 6, 1, 1);
    sh("printf x >> %s/6/%s", job, FILEM_META_NAME);
    struct filem_seq_info *v;
    int n;
    CHECK_EQ(filem_scan(job, &v, &n, err, sizeof err), 0);
    CHECK_EQ(n, 7);
    CHECK_EQ(v[0].state, FILEM_SEQ_COMMITTED);
    CHECK_EQ(v[0].ranks, 2);
    CHECK_EQ(v[0].committed_at, 1700000000);
    CHECK_EQ(v[5].state, FILEM_SEQ_UNCOMMITTED);
    CHECK_EQ(v[6].state, FILEM_SEQ_CORRUPT);
    CHECK_STR_CONTAINS(v[6].err, "truncated");
    free(v);
    CHECK_EQ(filem_index_update(job, err, sizeof err), 0);
    CHECK(exists("%s/index", job));
    uint64_t seq;
    int all_failed;
    CHECK_EQ(filem_default_seq(job, &seq, &all_failed, err, sizeof err), 0);
    CHECK_EQ(seq, 4);
    CHECK_EQ(all_failed, 0);
    CHECK_EQ(filem_index_mark_failed(job, 4, "rank 2 did not come back", err, sizeof err), 0);
    CHECK_EQ(filem_default_seq(job, &seq, &all_failed, err, sizeof err), 0);
    CHECK_EQ(seq, 3);
    test_index_reason(job);
    /* retention: keep 2; the sequence being written and the damaged one stay */
    int removed, skipped;
    CHECK_EQ(filem_retain(job, 2, 5, &removed, &skipped, err, sizeof err), 0);
    CHECK_EQ(removed, 3);
    CHECK_EQ(skipped, 0);
    CHECK(!exists("%s/0", job) && !exists("%s/1", job) && !exists("%s/2", job));
    CHECK(exists("%s/3/%s", job, FILEM_META_NAME) && exists("%s/4/%s", job, FILEM_META_NAME));
    CHECK(exists("%s/5", job) && exists("%s/6", job));
    /* one being read is kept; the newest is never removed, even with keep 0 */
    int lock = filem_seq_lock_shared(job, 3);
    CHECK(lock >= 0);
    CHECK_EQ(filem_retain(job, 0, -1, &removed, &skipped, err, sizeof err), 0);
    CHECK_EQ(skipped, 1);
    CHECK(exists("%s/3/%s", job, FILEM_META_NAME));
    CHECK(exists("%s/4/%s", job, FILEM_META_NAME));
    close(lock);
    CHECK_EQ(filem_retain(job, 1, -1, &removed, &skipped, err, sizeof err), 0);
    CHECK(!exists("%s/3", job));
    CHECK(exists("%s/4/%s", job, FILEM_META_NAME));
    /* the failed-restart mark of seq 4 survived the index rewrites */
    CHECK_EQ(filem_index_update(job, err, sizeof err), 0);
    CHECK_EQ(filem_default_seq(job, &seq, &all_failed, err, sizeof err), 0);
    CHECK_EQ(seq, 4);
    CHECK_EQ(all_failed, 1);
    /* a damaged index is rebuilt from the sequences */
    sh("echo garbage > %s/index", job);
    CHECK_EQ(filem_default_seq(job, &seq, &all_failed, err, sizeof err), 0);
    CHECK_EQ(seq, 4);
    /* no committed sequence */
    char job2[PATH_MAX];
    new_jobdir(job2, sizeof job2, 300);
    make_seq(job2, 0, 1, 0);
    CHECK_EQ(filem_default_seq(job2, &seq, &all_failed, err, sizeof err), -ENOENT);
    CHECK_STR_CONTAINS(err, "no committed snapshot");
}

/* 1 once /proc/locks shows process pid waiting for a flock ("-> FLOCK ... pid"). */
static int flock_waiter(pid_t pid)
{
    FILE *f = fopen("/proc/locks", "r");
    char line[256], tag[32];
    int found = 0;
    snprintf(tag, sizeof tag, " %d ", (int)pid);
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "-> FLOCK") && strstr(line, tag);
    if (f)
        fclose(f);
    return found;
}

/* A reader that opened a sequence and waited for its shared lock while retention (holding the
 * exclusive one) removed it gets -ENOENT, not a lock on a removed directory (it then read a
 * sequence without snapshot.meta; tests/snapc/retention.sh's reader in CI). */
static void test_lock_after_removal(void)
{
    char job[PATH_MAX], dir[PATH_MAX], err[512];
    new_jobdir(job, sizeof job, 400);
    make_seq(job, 0, 1, 1);
    make_seq(job, 1, 1, 1);
    filem_seq_path(dir, sizeof dir, job, 0);
    int ex = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(ex >= 0 && flock(ex, LOCK_EX) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(ex);   /* its copy would keep the exclusive lock after the parent's close */
        int fd = filem_seq_lock_shared(job, 0);
        _exit(fd == -ENOENT ? 0 : fd >= 0 ? 1 : 2);
    }
    CHECK(pid > 0);
    for (int i = 0; i < 60000 && !flock_waiter(pid); i++)   /* the reader waits for the lock */
        usleep(1000);
    CHECK(flock_waiter(pid));
    CHECK_EQ(filem_seq_remove(job, 0, err, sizeof err), 0);
    close(ex);
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);   /* 1: it held the removed directory */
    int fd = filem_seq_lock_shared(job, 1);   /* one that is there is held */
    CHECK(fd >= 0);
    close(fd);
}

static int reports;
static void count(void *arg, int rank, int status, const char *msg)
{
    (void)arg;
    (void)rank;
    (void)status;
    (void)msg;
    reports++;
}

static void test_verify(void)
{
    char job[PATH_MAX], err[512], dir[PATH_MAX];
    new_jobdir(job, sizeof job, 400);
    make_seq(job, 0, 3, 1);
    filem_seq_path(dir, sizeof dir, job, 0);
    struct filem_meta m;
    CHECK_EQ(filem_meta_read(dir, &m, err, sizeof err), 0);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 1, count, NULL, NULL, NULL, err, sizeof err), 0);
    CHECK_EQ(reports, 3);
    /* a page byte changed: the header is intact, the chunk checksum is not */
    char img[PATH_MAX];
    filem_image_path(img, sizeof img, job, 0, 1);
    sh("printf Z | dd of=%s bs=1 seek=4100 conv=notrunc status=none", img);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 0, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    CHECK(filem_verify_seq(job, 0, &m, 1, NULL, NULL, NULL, NULL, err, sizeof err) < 0);
    CHECK_STR_CONTAINS(err, "rank 1");
    /* a damaged image a cached copy may replace (restart-mpi and ckpt-info alike): described by
     * the metadata, a regular file; with own_private, ours and 0600; never one refused as others
     * could change it, nor a rank the metadata does not describe, nor a link */
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EBADMSG, 1), 1);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EBADMSG, 0), 1);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EPERM, 0), 0);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -ENOENT, 0), 0);
    CHECK_EQ(filem_image_replaceable(&m, dir, 7, -EBADMSG, 0), 0);
    CHECK_EQ(chmod(img, 0644), 0);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EBADMSG, 1), 0);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EBADMSG, 0), 1);
    CHECK_EQ(chmod(img, 0600), 0);
    char moved[PATH_MAX + 8];
    snprintf(moved, sizeof moved, "%s.real", img);
    CHECK_EQ(rename(img, moved), 0);
    CHECK_EQ(symlink(moved, img), 0);
    CHECK_EQ(filem_image_replaceable(&m, dir, 1, -EBADMSG, 0), 0);
    CHECK_EQ(unlink(img), 0);
    CHECK_EQ(rename(moved, img), 0);
    /* truncated */
    filem_image_path(img, sizeof img, job, 0, 2);
    sh("truncate -s 5000 %s", img);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 0, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "truncated or replaced");
    /* missing */
    filem_image_path(img, sizeof img, job, 0, 0);
    unlink(img);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 0, NULL, NULL, NULL, NULL, err, sizeof err), -ENOENT);
    filem_meta_free(&m);
}

/* The stamps restart-mpi hands to the ranks (verified.h): each verified rank's found again in
 * the text, the others not; a damaged text trusted for no rank; a job too large for the text
 * hands on nothing; a file whose stamp moved while it was read, or that changed in the last
 * second, is not handed on; filem_verify_seq stamps a deep check's images only, and not while
 * they are that recent. */
static void test_verified(void)
{
    struct crs_file_stamp st[4] = {
        {.dev = 2049, .ino = 11, .size = 4096, .ctime_sec = 1700000000, .ctime_nsec = 5},
        {0},
        {.dev = 2049, .ino = 13, .size = 1 << 24, .ctime_sec = 1700000001, .ctime_nsec = 999999999},
        {.dev = 0, .ino = 0, .size = 1, .ctime_sec = 0, .ctime_nsec = 0}}, got;
    char text[512];
    CHECK_EQ(filem_verified_format(st, 4, text, sizeof text), 3);
    CHECK_EQ(filem_verified_find(text, 0, &got), 0);
    CHECK(crs_file_stamp_same(&got, &st[0]));
    CHECK_EQ(filem_verified_find(text, 1, &got), -ENOENT);
    CHECK_EQ(filem_verified_find(text, 2, &got), 0);
    CHECK(crs_file_stamp_same(&got, &st[2]));
    CHECK_EQ(filem_verified_find(text, 3, &got), 0);
    CHECK(crs_file_stamp_same(&got, &st[3]));
    CHECK_EQ(filem_verified_find(text, 4, &got), -ENOENT);
    CHECK_EQ(filem_verified_find(NULL, 0, &got), -ENOENT);
    CHECK_EQ(filem_verified_find("", 0, &got), -ENOENT);
    CHECK_EQ(filem_verified_find("0:1:2:3:4", 0, &got), -EINVAL);       /* a field short */
    CHECK_EQ(filem_verified_find("0:1:2:3:4:5x", 0, &got), -EINVAL);
    CHECK_EQ(filem_verified_find("0:1:2:0:4:5", 0, &got), -EINVAL);     /* no size */
    CHECK_EQ(filem_verified_find("0:1:2:3:4:1000000000", 0, &got), -EINVAL);
    CHECK_EQ(filem_verified_find("1:1:2:3:4:5,junk", 0, &got), -EINVAL); /* damaged further on */
    CHECK_EQ(filem_verified_find("0:-1:2:3:4:5", 0, &got), -EINVAL);
    CHECK_EQ(filem_verified_format(st, 4, text, 40), -ENOSPC);
    CHECK_EQ(text[0], 0);
    /* read while it held, and old enough */
    struct crs_file_stamp later = st[2];
    CHECK(filem_verified_usable(&st[2], &st[2], 1700000003));
    CHECK(!filem_verified_usable(&st[2], &st[2], 1700000002));   /* changed within the second */
    later.ctime_nsec = 0;
    later.ctime_sec++;
    CHECK(!filem_verified_usable(&st[2], &later, 1700000010));   /* changed while read */
    later = st[2];
    later.ino++;
    CHECK(!filem_verified_usable(&st[2], &later, 1700000010));   /* another file */
    CHECK(!filem_verified_usable(&st[1], &st[1], 1700000010));   /* nothing stamped */
    /* filem_verify_seq: the images just written are too recent to be handed on; without the
     * deep check nothing is stamped either */
    char job[PATH_MAX], err[512], dir[PATH_MAX];
    new_jobdir(job, sizeof job, 410);
    make_seq(job, 0, 2, 1);
    filem_seq_path(dir, sizeof dir, job, 0);
    struct filem_meta m;
    CHECK_EQ(filem_meta_read(dir, &m, err, sizeof err), 0);
    struct crs_file_stamp vs[2] = {{.size = 7}, {.size = 7}};
    CHECK_EQ(filem_verify_seq(job, 0, &m, 1, NULL, NULL, NULL, vs, err, sizeof err), 0);
    CHECK_EQ(vs[0].size, 0);
    CHECK_EQ(vs[1].size, 0);
    /* two seconds later they are (the deep check only), with their files' own stamps */
    sleep(2);
    vs[0].size = vs[1].size = 7;
    CHECK_EQ(filem_verify_seq(job, 0, &m, 0, NULL, NULL, NULL, vs, err, sizeof err), 0);
    CHECK_EQ(vs[0].size, 0);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 1, NULL, NULL, NULL, vs, err, sizeof err), 0);
    for (int r = 0; r < 2; r++) {
        char img[PATH_MAX];
        filem_image_path(img, sizeof img, job, 0, r);
        int fd = open(img, O_RDONLY);
        CHECK(fd >= 0);
        CHECK_EQ(crs_file_stamp_of(fd, &got), 0);
        close(fd);
        CHECK(crs_file_stamp_same(&got, &vs[r]));
    }
    /* a damaged image is not stamped (rank 1's page byte), the other is */
    char img[PATH_MAX];
    filem_image_path(img, sizeof img, job, 0, 1);
    sh("printf Z | dd of=%s bs=1 seek=4100 conv=notrunc status=none", img);
    vs[0].size = vs[1].size = 7;
    CHECK(filem_verify_seq(job, 0, &m, 1, NULL, NULL, NULL, vs, err, sizeof err) < 0);
    CHECK(vs[0].size != 0);
    CHECK_EQ(vs[1].size, 0);
    filem_meta_free(&m);
}

/* A tree file at path whose process members are the images at imgs[0..n) (as a rank with
 * running children writes one: member 0 the rank), each at a 4096-byte boundary. */
static void write_tree(const char *path, const char *const *imgs, int n)
{
    struct crs_tree_header h = {0};
    struct crs_tree_member mb[4] = {{0}};
    CHECK(n <= 4);
    memcpy(h.magic, CRS_TREE_MAGIC, 8);
    h.version = 1;
    h.scope = CRS_TREE_SCOPE_TREE;
    h.id = 100;
    h.nmembers = (uint32_t)n;
    h.strings_offset = h.data_offset = h.table_length = sizeof h + (uint64_t)n * sizeof mb[0];
    uint64_t at = 4096;
    char *bytes[4];
    for (int i = 0; i < n; i++) {
        int fd = open(imgs[i], O_RDONLY);
        struct stat st;
        CHECK(fd >= 0 && fstat(fd, &st) == 0);
        bytes[i] = malloc((size_t)st.st_size);
        CHECK_EQ(read(fd, bytes[i], (size_t)st.st_size), (ssize_t)st.st_size);
        close(fd);
        mb[i].pid = mb[i].pgid = mb[i].sid = 100 + i;
        mb[i].ppid = i ? 100 : 1;
        mb[i].kind = CRS_TREE_PROCESS;
        mb[i].image_offset = at;
        mb[i].image_length = (uint64_t)st.st_size;
        at = (at + (uint64_t)st.st_size + 4095) & ~4095ull;
    }
    unsigned char table[sizeof h + sizeof mb];
    memcpy(table, &h, sizeof h);
    memcpy(table + sizeof h, mb, (size_t)n * sizeof mb[0]);
    h.checksum = XXH3_64bits(table, (size_t)h.table_length);
    memcpy(table, &h, sizeof h);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, table, (size_t)h.table_length, 0), (ssize_t)h.table_length);
    for (int i = 0; i < n; i++) {
        CHECK_EQ(pwrite(fd, bytes[i], (size_t)mb[i].image_length, (off_t)mb[i].image_offset),
                 (ssize_t)mb[i].image_length);
        free(bytes[i]);
    }
    close(fd);
}

static uint64_t header_sum(const char *img)
{
    struct crs_image_header h;
    int fd = open(img, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    return h.header_checksum;
}

/* The checksum a snapshot records for a rank's file (crs_image_file_sum, filem/file_sum.h, session
 * 31): a plain image's is its header checksum (snapshots of plain images unchanged); a tree file's
 * covers every member: a member replaced by another whole image changes it, though member 0's
 * header checksum (what was recorded before) stays; a snapshot of an older Revive, which recorded
 * member 0's, is still accepted; a member's damaged header is refused. */
static void test_file_sum(void)
{
    char a[PATH_MAX + 32], b[PATH_MAX + 32], c[PATH_MAX + 32], t[PATH_MAX + 32], t2[PATH_MAX + 32], err[1024];
    snprintf(a, sizeof a, "%s/sum_a.img", base);
    snprintf(b, sizeof b, "%s/sum_b.img", base);
    snprintf(c, sizeof c, "%s/sum_c.img", base);
    snprintf(t, sizeof t, "%s/sum_tree.img", base);
    snprintf(t2, sizeof t2, "%s/sum_tree2.img", base);
    CHECK_EQ(tiny_image_write(a, "the rank", err, sizeof err), 0);
    CHECK_EQ(tiny_image_write(b, "its child", err, sizeof err), 0);
    CHECK_EQ(tiny_image_write(c, "another child", err, sizeof err), 0);
    uint64_t sum, first;
    int tree = -1;
    CHECK_EQ(crs_image_file_sum(a, &sum, &first, &tree, err, sizeof err), 0);
    CHECK_EQ(sum, header_sum(a));
    CHECK_EQ(first, sum);
    CHECK_EQ(tree, 0);
    const char *ab[] = {a, b}, *ac[] = {a, c};
    write_tree(t, ab, 2);
    write_tree(t2, ac, 2);
    uint64_t sum2, first2;
    CHECK_EQ(crs_image_file_sum(t, &sum, &first, &tree, err, sizeof err), 0);
    CHECK_EQ(tree, 1);
    CHECK_EQ(first, header_sum(a));
    CHECK(sum != first);
    CHECK_EQ(crs_image_file_sum(t2, &sum2, &first2, NULL, err, sizeof err), 0);
    CHECK_EQ(first2, first);   /* member 0 the same: the old checksum saw no difference */
    CHECK(sum2 != sum);        /* the whole file's does */
    CHECK_EQ(filem_file_sum_check(t, sum, "expected", NULL, err, sizeof err), 0);
    CHECK_EQ(filem_file_sum_check(t2, sum, "expected", NULL, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "has checksum");
    CHECK_EQ(filem_file_sum_check(t, first, "expected", NULL, err, sizeof err), 0); /* older snapshot */
    CHECK_EQ(filem_file_sum_check(a, sum, "expected", NULL, err, sizeof err), -EBADMSG);
    /* the coordinator's check at the commit reads the same checksum */
    uint64_t size;
    CHECK_EQ(filem_image_checksum(t, &sum2, &size, err, sizeof err), 0);
    CHECK_EQ(sum2, sum);
    /* a byte of member 1's header changed: refused, naming it */
    struct crs_tree_member m1;
    int fd = open(t, O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ(pread(fd, &m1, sizeof m1, sizeof(struct crs_tree_header) + sizeof m1), (ssize_t)sizeof m1);
    char x;
    CHECK_EQ(pread(fd, &x, 1, (off_t)m1.image_offset + 40), 1);
    x ^= 1;
    CHECK_EQ(pwrite(fd, &x, 1, (off_t)m1.image_offset + 40), 1);
    close(fd);
    CHECK_EQ(crs_image_file_sum(t, &sum2, NULL, NULL, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "the tree's process 1");
    /* the same file as rank 0's of a committed sequence (the metadata holding the intact file's
     * checksum): ckpt-info --verify and restart-mpi's check name the damaged header, without
     * " (replaced)" (not another file: its own checksum fails) and without the one-process advice
     * (the store's callers give their own) (diffrev31 R-L1: both were there) */
    char job[PATH_MAX], dir[PATH_MAX], img[PATH_MAX];
    new_jobdir(job, sizeof job, 31);
    make_seq(job, 0, 1, 0);
    filem_image_path(img, sizeof img, job, 0, 0);
    sh("cp %s %s", t, img);
    struct stat st;
    CHECK_EQ(stat(img, &st), 0);
    filem_seq_path(dir, sizeof dir, job, 0);
    struct filem_meta m;
    filem_meta_init(&m);
    filem_meta_set(&m, "seq", "0");
    filem_meta_set(&m, "ranks", "1");
    filem_meta_set(&m, "time.established", "1700000000.5");
    filem_meta_set(&m, "rank.0.image", "rank_0.img");
    filem_meta_set(&m, "rank.0.size", "%llu", (unsigned long long)st.st_size);
    filem_meta_set(&m, "rank.0.checksum", "0x%016" PRIx64, sum);
    filem_meta_set(&m, "bytes", "%llu", (unsigned long long)st.st_size);
    CHECK_EQ(filem_meta_write(dir, &m, err, sizeof err), 0);
    for (int deep = 0; deep <= 1; deep++) {
        CHECK_EQ(filem_verify_seq(job, 0, &m, deep, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
        CHECK_STR_CONTAINS(err, "the tree's process 1");
        CHECK(strstr(err, "(replaced)") == NULL);
        CHECK(strstr(err, "use an earlier checkpoint") == NULL);
        if (strstr(err, "(replaced)") || strstr(err, "use an earlier checkpoint"))
            fprintf(stderr, "test_filem: deep %d: %s\n", deep, err);
    }
    filem_meta_free(&m);
    /* another whole file of the same size in its place (member 1 another child): "(replaced)" */
    sh("cp %s %s", t2, img);
    CHECK_EQ(stat(img, &st), 0);
    filem_meta_init(&m);
    filem_meta_set(&m, "seq", "0");
    filem_meta_set(&m, "ranks", "1");
    filem_meta_set(&m, "rank.0.image", "rank_0.img");
    filem_meta_set(&m, "rank.0.size", "%llu", (unsigned long long)st.st_size);
    filem_meta_set(&m, "rank.0.checksum", "0x%016" PRIx64, sum);
    CHECK_EQ(filem_verify_seq(job, 0, &m, 0, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    CHECK_STR_CONTAINS(err, "has checksum");
    CHECK_STR_CONTAINS(err, "(replaced)");
    filem_meta_free(&m);
}

/* The staging.failed mark written over the room kept for it: the reservation becomes the mark
 * (so a full disk still gets one), a long reason is cut to one line, without a reservation a
 * new file is written; the reason reads back. */
static void test_stage_mark(void)
{
    char job[PATH_MAX], err[512], why[512];
    new_jobdir(job, sizeof job, 7);
    CHECK_EQ(filem_seq_create(job, 0, err, sizeof err), 0);
    CHECK_EQ(filem_seq_create(job, 1, err, sizeof err), 0);
    CHECK_EQ(filem_stage_reserve(job, err, sizeof err), 0);
    struct stat st;
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", job, FILEM_STAGE_RESERVE_NAME);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_size, FILEM_STAGE_RESERVE_SIZE);
    CHECK_EQ(st.st_mode & 0777, 0600);
    ino_t ino = st.st_ino;
    CHECK_EQ(filem_stage_reserve(job, err, sizeof err), 0); /* there already: kept */
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_ino, ino);
    CHECK_EQ(filem_stage_failed_reason(job, 0, why, sizeof why), 0);
    CHECK_EQ(filem_stage_mark_failed(job, 0, "rank 1 could not copy: No space left on device", err,
                                     sizeof err), 0);
    CHECK(!exists("%s/%s", job, FILEM_STAGE_RESERVE_NAME));
    snprintf(p, sizeof p, "%s/0/staging.failed", job);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_ino, ino); /* the reservation's own blocks */
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(filem_stage_failed_reason(job, 0, why, sizeof why), 1);
    CHECK_STR_CONTAINS(why, "rank 1 could not copy: No space left on device");
    CHECK_EQ((size_t)st.st_size, strlen(why) + 1);
    /* no reservation now: a new file; a reason longer than the room is cut to one line */
    char big[3 * FILEM_STAGE_RESERVE_SIZE];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ(filem_stage_mark_failed(job, 1, big, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/1/staging.failed", job);
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(st.st_size, FILEM_STAGE_RESERVE_SIZE - 1);
    CHECK_EQ(filem_stage_failed_reason(job, 1, why, sizeof why), 1);
    CHECK_EQ(why[0], 'x');
    /* the job's end takes the reservation away */
    CHECK_EQ(filem_stage_reserve(job, err, sizeof err), 0);
    filem_stage_unreserve(job);
    CHECK(!exists("%s/%s", job, FILEM_STAGE_RESERVE_NAME));
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/revive-test_filem.XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 99;
    }
    test_meta_roundtrip();
    test_private_dirs();
    test_sequences();
    test_index_retention();
    test_lock_after_removal();
    test_verify();
    test_verified();
    test_file_sum();
    test_stage_mark();
    sh("rm -rf %s", base);
    return test_summary("test_filem");
}

/* Failed-restart marks beside the cached copies (local_failed.h). */
#define _GNU_SOURCE
#include "filem/local_failed.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "filem/filem.h"
#include "filem/local_meta.h"
#include "filem/stage.h"

/* This host's cached copy of SEQDIR: 0 with OUT, else -errno (none here). */
static int cached_dir(const char *seqdir, char *out, size_t len)
{
    const char *local = getenv("REVIVE_LOCAL_DIR");
    char ldef[PATH_MAX], err[512];
    if (local && !strcmp(local, FILEM_LOCAL_NONE))
        return -ENOENT;
    if (!local || !*local) {
        if (filem_local_default(ldef, sizeof ldef, 0, err, sizeof err) < 0)
            return -ENOENT;
        local = ldef;
    }
    int e = filem_local_seq_dir(local, seqdir, 0, out, len, err, sizeof err);
    if (e < 0)
        return e;
    return access(out, F_OK) == 0 ? 0 : -ENOENT;
}

unsigned filem_local_failed_read(const char *cached, char *reason, size_t rlen, int64_t *at_ms)
{
    if (at_ms)
        *at_ms = 0;
    char path[PATH_MAX + 64], err[512];
    char *b = NULL;
    size_t len = 0;
    if (reason && rlen)
        reason[0] = 0;
    filem_fmt(path, sizeof path, "%s/%s", cached, FILEM_LOCAL_FAILED_NAME);
    if (access(path, F_OK) != 0 ||
        filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, err, sizeof err) < 0)
        return 0;
    struct filem_meta m;
    int e = filem_meta_parse(b, len, FILEM_LOCAL_FAILED_MAGIC, &m, err, sizeof err);
    free(b);
    if (e < 0)
        return 0;
    uint64_t n = 0;
    if (filem_meta_get_u64(&m, "failed_restarts", &n) < 0 || n > 1000000)
        n = 0;
    uint64_t at = 0;
    if (at_ms && filem_meta_get_u64(&m, "at_ms", &at) == 0 && at < (uint64_t)INT64_MAX)
        *at_ms = (int64_t)at;
    const char *r = filem_meta_get(&m, "failed_reason");
    if (reason && rlen)
        filem_reason_copy(reason, rlen, r);
    filem_meta_free(&m);
    return (unsigned)n;
}

/* Writes the record N (failed restarts, 0 for a success) with REASON and the time into DIR. */
static int write_record(const char *seqdir, const char *dir, unsigned n, const char *reason,
                        char *err, size_t errlen)
{
    char path[PATH_MAX + 64];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct filem_meta m;
    filem_meta_init(&m);
    int e = filem_meta_set(&m, "reference", "%s", seqdir);
    e = e ?: filem_meta_set(&m, "failed_restarts", "%u", n);
    /* one line of the record: a reason longer than the format's line is cut ("..."), not lost
     * with the whole record (-E2BIG) */
    char *r = malloc(FILEM_REASON_MAX);
    if (r)
        filem_reason_copy(r, FILEM_REASON_MAX, reason);
    e = e ?: r ? filem_meta_set(&m, "failed_reason", "%s", r) : -ENOMEM;
    free(r);
    e = e ?: filem_meta_set(&m, "at_ms", "%lld",
                            (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    char *b = NULL;
    size_t len = 0;
    e = e ?: filem_meta_serialize(&m, FILEM_LOCAL_FAILED_MAGIC, &b, &len);
    filem_meta_free(&m);
    filem_fmt(path, sizeof path, "%s/%s", dir, FILEM_LOCAL_FAILED_NAME);
    if (e < 0) {
        filem_fmt(err, errlen, "cannot build %s: %s", path, strerror(-e));
        return e;
    }
    e = crs_durable_write_file(path, b, len, 0600, err, errlen);
    free(b);
    return e;
}

int filem_local_failed_mark(const char *seqdir, const char *reason, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (cached_dir(seqdir, dir, sizeof dir) < 0)
        return 0; /* nothing cached here: nothing to mark */
    return write_record(seqdir, dir, filem_local_failed_read(dir, NULL, 0, NULL) + 1, reason, err,
                        errlen);
}

void filem_local_failed_succeeded(const char *seqdir, int index_failed)
{
    char dir[PATH_MAX], err[512], path[PATH_MAX + 64];
    if (cached_dir(seqdir, dir, sizeof dir) < 0)
        return; /* nothing cached here: the index is the record */
    filem_fmt(path, sizeof path, "%s/%s", dir, FILEM_LOCAL_FAILED_NAME);
    if (!index_failed && access(path, F_OK) != 0)
        return; /* no failure to outweigh */
    write_record(seqdir, dir, 0, "", err, sizeof err); /* best effort, as the removal was */
}

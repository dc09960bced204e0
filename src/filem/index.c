/* The index of a job directory (committed sequences, failed restarts) and
 * retention (see filem.h). The index is a summary: every decision reads the
 * sequences' own snapshot.meta, so a lost or damaged index costs only the
 * failed-restart marks. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/filem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "crs/base/durable.h"

/* The index warned about: once per process and file (a command scans the directory several
 * times: ckpt-info printed it twice, restart-mpi up to five times: review9 F4), and once per
 * restart (restart-mpi hands it to the coordinator it becomes: filem_index_warned_set). */
static char warned[PATH_MAX];
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;

const char *filem_index_warned(void)
{
    return warned[0] ? warned : NULL;
}

void filem_index_warned_set(const char *path)
{
    pthread_mutex_lock(&warned_lock);
    filem_fmt(warned, sizeof warned, "%s", path ? path : "");
    pthread_mutex_unlock(&warned_lock);
}

static void read_marks(const char *jobdir, struct filem_seq_info *v, int n)
{
    char path[PATH_MAX], err[256];
    if ((size_t)filem_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_INDEX_NAME) >= sizeof path)
        return;
    char *b;
    size_t len;
    if (filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, err, sizeof err) < 0)
        return; /* no index yet, or unusable: no marks */
    struct filem_meta m;
    int e = filem_meta_parse(b, len, FILEM_INDEX_MAGIC, &m, err, sizeof err);
    free(b);
    if (e < 0) {
        pthread_mutex_lock(&warned_lock);
        int again = strcmp(warned, path) == 0;
        if (!again)
            filem_fmt(warned, sizeof warned, "%s", path);
        pthread_mutex_unlock(&warned_lock);
        if (again)
            revive_log_debug("%s %s (warned already)", path, err);
        else
            revive_log_warn("%s %s; it is ignored (the failed-restart marks it held are lost)", path, err);
        return;
    }
    for (int i = 0; i < n; i++) {
        char key[64];
        uint64_t x;
        filem_fmt(key, sizeof key, "seq.%llu.failed_restarts", (unsigned long long)v[i].seq);
        if (filem_meta_get_u64(&m, key, &x) == 0)
            v[i].failed_restarts = (uint32_t)x;
        filem_fmt(key, sizeof key, "seq.%llu.failed_reason", (unsigned long long)v[i].seq);
        const char *r = filem_meta_get(&m, key);
        if (r)
            filem_reason_copy(v[i].failed_reason, sizeof v[i].failed_reason, r);
    }
    filem_meta_free(&m);
}

int filem_scan(const char *jobdir, struct filem_seq_info **out, int *n, char *err, size_t errlen)
{
    uint64_t *seqs;
    int ns;
    *out = NULL;
    *n = 0;
    int e = filem_list_seqs(jobdir, &seqs, &ns, err, errlen);
    if (e < 0)
        return e;
    struct filem_seq_info *v = calloc((size_t)(ns ? ns : 1), sizeof *v);
    if (!v) {
        free(seqs);
        filem_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < ns; i++) {
        char dir[PATH_MAX];
        v[i].seq = seqs[i];
        filem_seq_path(dir, sizeof dir, jobdir, seqs[i]);
        struct filem_meta m;
        e = filem_meta_read(dir, &m, v[i].err, sizeof v[i].err);
        if (e == -ENOENT) {
            v[i].state = FILEM_SEQ_UNCOMMITTED;
            continue;
        }
        if (e < 0) {
            v[i].state = FILEM_SEQ_CORRUPT;
            continue;
        }
        v[i].state = FILEM_SEQ_COMMITTED;
        uint64_t x;
        if (filem_meta_get_u64(&m, "ranks", &x) == 0)
            v[i].ranks = (uint32_t)x;
        if (filem_meta_get_u64(&m, "bytes", &x) == 0)
            v[i].bytes = x;
        const char *t = filem_meta_get(&m, "time.established");
        if (t)
            v[i].committed_at = strtoll(t, NULL, 10);
        filem_meta_free(&m);
    }
    free(seqs);
    read_marks(jobdir, v, ns);
    *out = v;
    *n = ns;
    return 0;
}

static const char *state_name(int s)
{
    return s == FILEM_SEQ_COMMITTED ? "committed" : s == FILEM_SEQ_CORRUPT ? "corrupt" : "uncommitted";
}

static int write_index(const char *jobdir, const struct filem_seq_info *v, int n, char *err,
                       size_t errlen)
{
    struct filem_meta m;
    filem_meta_init(&m);
    int e = 0;
    int64_t current = -1;
    for (int i = 0; i < n && e == 0; i++) {
        char k[64];
        unsigned long long s = (unsigned long long)v[i].seq;
        filem_fmt(k, sizeof k, "seq.%llu.state", s);
        e = filem_meta_set(&m, k, "%s", state_name(v[i].state));
        if (v[i].state == FILEM_SEQ_COMMITTED) {
            current = (int64_t)v[i].seq;
            filem_fmt(k, sizeof k, "seq.%llu.committed_at", s);
            e = e ?: filem_meta_set(&m, k, "%lld", (long long)v[i].committed_at);
            filem_fmt(k, sizeof k, "seq.%llu.ranks", s);
            e = e ?: filem_meta_set(&m, k, "%u", v[i].ranks);
            filem_fmt(k, sizeof k, "seq.%llu.bytes", s);
            e = e ?: filem_meta_set(&m, k, "%llu", (unsigned long long)v[i].bytes);
        }
        if (v[i].failed_restarts) {
            filem_fmt(k, sizeof k, "seq.%llu.failed_restarts", s);
            e = e ?: filem_meta_set(&m, k, "%u", v[i].failed_restarts);
            filem_fmt(k, sizeof k, "seq.%llu.failed_reason", s);
            e = e ?: filem_meta_set(&m, k, "%s", v[i].failed_reason);
        }
    }
    if (e == 0 && current >= 0)
        e = filem_meta_set(&m, "current", "%lld", (long long)current);
    char *b = NULL;
    size_t len = 0;
    if (e == 0)
        e = filem_meta_serialize(&m, FILEM_INDEX_MAGIC, &b, &len);
    filem_meta_free(&m);
    char path[PATH_MAX];
    filem_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_INDEX_NAME);
    if (e < 0) {
        filem_fmt(err, errlen, "cannot build %s: %s", path, strerror(-e));
        return e;
    }
    if (filem_fault(REVIVE_FAULT_snapc_index)) {
        free(b);
        filem_fmt(err, errlen, "cannot write %s: %s (fault point snapc-index)", path, strerror(EIO));
        return -EIO;
    }
    e = crs_durable_write_file(path, b, len, 0600, err, errlen);
    free(b);
    return e;
}

int filem_index_update(const char *jobdir, char *err, size_t errlen)
{
    struct filem_seq_info *v;
    int n;
    int e = filem_scan(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    e = write_index(jobdir, v, n, err, errlen);
    free(v);
    return e;
}

int filem_index_mark_failed(const char *jobdir, uint64_t seq, const char *reason, char *err,
                            size_t errlen)
{
    struct filem_seq_info *v;
    int n;
    int e = filem_scan(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    for (int i = 0; i < n; i++)
        if (v[i].seq == seq) {
            v[i].failed_restarts++;
            filem_reason_copy(v[i].failed_reason, sizeof v[i].failed_reason, reason);
        }
    e = write_index(jobdir, v, n, err, errlen);
    free(v);
    return e;
}

int filem_index_clear_failed(const char *jobdir, uint64_t seq, char *err, size_t errlen)
{
    struct filem_seq_info *v;
    int n;
    int e = filem_scan(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    int marked = 0;
    for (int i = 0; i < n; i++)
        if (v[i].seq == seq && v[i].failed_restarts) {
            v[i].failed_restarts = 0;
            v[i].failed_reason[0] = 0;
            marked = 1;
        }
    e = marked ? write_index(jobdir, v, n, err, errlen) : 0;
    free(v);
    return e < 0 ? e : marked;
}

int filem_default_seq(const char *jobdir, uint64_t *seq, int *all_failed, char *err, size_t errlen)
{
    struct filem_seq_info *v;
    int n;
    int e = filem_scan(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    int newest = -1, good = -1;
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_COMMITTED) {
            newest = i;
            if (!v[i].failed_restarts)
                good = i;
        }
    if (newest < 0) {
        int corrupt = 0;
        for (int i = 0; i < n; i++)
            corrupt += v[i].state == FILEM_SEQ_CORRUPT;
        if (corrupt)
            filem_fmt(err, errlen, "%s holds no usable snapshot: %s", jobdir, v[n - 1].state == FILEM_SEQ_CORRUPT ? v[n - 1].err : "every sequence is damaged or unfinished");
        else
            filem_fmt(err, errlen,
                     "%s holds no committed snapshot (%d unfinished sequence%s); nothing to "
                     "restart",
                     jobdir, n, n == 1 ? "" : "s");
        free(v);
        return -ENOENT;
    }
    *all_failed = good < 0;
    *seq = v[good >= 0 ? good : newest].seq;
    free(v);
    return 0;
}

int filem_retain(const char *jobdir, int keep, int64_t busy_seq, int *removed, int *skipped,
                 char *err, size_t errlen)
{
    *removed = 0;
    *skipped = 0;
    if (keep < 1)
        keep = 1;
    struct filem_seq_info *v;
    int n;
    int e = filem_scan(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    int committed = 0, newest = -1;
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_COMMITTED) {
            committed++;
            newest = i;
        }
    int to_drop = committed - keep;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if ((int64_t)v[i].seq == busy_seq || i == newest)
            continue;
        int drop;
        if (v[i].state == FILEM_SEQ_COMMITTED)
            drop = to_drop-- > 0;
        else
            drop = v[i].state == FILEM_SEQ_UNCOMMITTED && newest >= 0 && i < newest;
        if (!drop)
            continue;
        char dir[PATH_MAX], e2[256];
        filem_seq_path(dir, sizeof dir, jobdir, v[i].seq);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            (*skipped)++;
            revive_log_info("retention: %s is being read; kept for now", dir);
            close(fd);
            continue;
        }
        int r = v[i].state == FILEM_SEQ_COMMITTED ? filem_seq_remove(jobdir, v[i].seq, e2, sizeof e2)
                                                   : filem_seq_discard(jobdir, v[i].seq, e2, sizeof e2);
        close(fd);
        if (r < 0) {
            revive_log_warn("retention: %s", e2);
            if (rc == 0) {
                rc = r;
                filem_fmt(err, errlen, "%s", e2);
            }
        } else {
            (*removed)++;
        }
    }
    free(v);
    return rc;
}

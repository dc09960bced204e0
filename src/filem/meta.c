/* snapshot.meta (and the index, same format): line-oriented, bounded,
 * escaped, checksummed; see filem.h. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/filem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/fault.h"
#include "common/log.h"
#include "crs/base/durable.h"

#define KEY_MAX 128

static int faults_on = 1;

void filem_faults_enable(int on)
{
    faults_on = on;
}

int filem_fault(enum revive_fault_point p)
{
    return faults_on && revive_fault(p);
}

int filem_fmt(char *dst, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, len, fmt, ap);
    va_end(ap);
    return n;
}

void filem_reason_copy(char *dst, size_t len, const char *reason)
{
    if (!len)
        return;
    const unsigned char *r = (const unsigned char *)(reason ? reason : "");
    size_t room = len - 1 < FILEM_REASON_MAX - 1 ? len - 1 : FILEM_REASON_MAX - 1;
    size_t n = 0, esc = 0, cut_n = 0;
    for (; r[n]; n++) {
        size_t w = r[n] == '\\' || r[n] == '\n' ? 2 : r[n] < 0x20 || r[n] == 0x7f ? 4 : 1;
        if (esc + w > room)
            break;
        esc += w;
        /* the last place "..." still fits after, on a character's start */
        if (esc + 3 <= room && (r[n + 1] & 0xC0) != 0x80)
            cut_n = n + 1;
    }
    if (!r[n]) {
        memcpy(dst, r, n + 1);
        return;
    }
    memcpy(dst, r, cut_n);
    memcpy(dst + cut_n, "...", 4);
}

void filem_meta_init(struct filem_meta *m)
{
    memset(m, 0, sizeof *m);
}

void filem_meta_free(struct filem_meta *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    memset(m, 0, sizeof *m);
}

static int key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int find(const struct filem_meta *m, const char *key)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return i;
    return -1;
}

static int put(struct filem_meta *m, const char *key, char *value)
{
    int i = find(m, key);
    if (i >= 0) {
        free(m->kv[i].value);
        m->kv[i].value = value;
        return 0;
    }
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        struct filem_kv *kv = realloc(m->kv, (size_t)cap * sizeof *kv);
        if (!kv)
            return -ENOMEM;
        m->kv = kv;
        m->cap = cap;
    }
    char *k = strdup(key);
    if (!k)
        return -ENOMEM;
    m->kv[m->n].key = k;
    m->kv[m->n].value = value;
    m->n++;
    return 0;
}

int filem_meta_set(struct filem_meta *m, const char *key, const char *fmt, ...)
{
    if (!key_ok(key))
        return -EINVAL;
    va_list ap;
    va_start(ap, fmt);
    char *v = NULL;
    int n = vasprintf(&v, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    int e = put(m, key, v);
    if (e < 0)
        free(v);
    return e;
}

const char *filem_meta_get(const struct filem_meta *m, const char *key)
{
    int i = find(m, key);
    return i >= 0 ? m->kv[i].value : NULL;
}

int filem_meta_get_u64(const struct filem_meta *m, const char *key, uint64_t *out)
{
    const char *v = filem_meta_get(m, key);
    if (!v)
        return -ENOENT;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v || *end || v[0] == '-')
        return -EINVAL;
    *out = x;
    return 0;
}

/* ---- writing ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static int grow(struct buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int add(struct buf *b, const char *s, size_t n)
{
    if (grow(b, n))
        return -ENOMEM;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static int add_escaped(struct buf *b, const char *v)
{
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        char e[5];
        size_t n;
        if (*c == '\\') {
            memcpy(e, "\\\\", 2);
            n = 2;
        } else if (*c == '\n') {
            memcpy(e, "\\n", 2);
            n = 2;
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(e, sizeof e, "\\x%02x", *c);
            n = 4;
        } else {
            e[0] = (char)*c;
            n = 1;
        }
        if (add(b, e, n))
            return -ENOMEM;
    }
    return 0;
}

int filem_meta_serialize(const struct filem_meta *m, const char *magic, char **out, size_t *len)
{
    struct buf b = {0};
    int e = add(&b, magic, strlen(magic));
    e = e ?: add(&b, "\n", 1);
    for (int i = 0; e == 0 && i < m->n; i++) {
        size_t start = b.len;
        e = add(&b, m->kv[i].key, strlen(m->kv[i].key));
        e = e ?: add(&b, " ", 1);
        e = e ?: add_escaped(&b, m->kv[i].value);
        e = e ?: add(&b, "\n", 1);
        if (e == 0 && b.len - start > FILEM_LINE_MAX)
            e = -E2BIG;
    }
    if (e == 0) {
        char line[64];
        snprintf(line, sizeof line, "checksum xxh3 %016" PRIx64 "\n", (uint64_t)XXH3_64bits(b.p, b.len));
        e = add(&b, line, strlen(line));
    }
    if (e == 0 && b.len > FILEM_FILE_MAX)
        e = -EFBIG;
    if (e < 0) {
        free(b.p);
        return e;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}

/* ---- reading ---- */

static int unescape(const char *s, size_t n, char **out)
{
    char *v = malloc(n + 1);
    if (!v)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            v[o++] = s[i];
            continue;
        }
        if (i + 1 >= n)
            goto bad;
        char c = s[++i];
        if (c == '\\')
            v[o++] = '\\';
        else if (c == 'n')
            v[o++] = '\n';
        else if (c == 'x' && i + 2 < n) {
            unsigned x;
            char h[3] = {s[i + 1], s[i + 2], 0};
            char *end;
            x = (unsigned)strtoul(h, &end, 16);
            if (*end || x == 0)
                goto bad;
            v[o++] = (char)x;
            i += 2;
        } else
            goto bad;
    }
    v[o] = 0;
    *out = v;
    return 0;
bad:
    free(v);
    return -EINVAL;
}

int filem_meta_parse(const char *buf, size_t len, const char *magic, struct filem_meta *m,
                     char *err, size_t errlen)
{
    filem_meta_init(m);
    if (len > FILEM_FILE_MAX) {
        filem_fmt(err, errlen, "larger than %u bytes", FILEM_FILE_MAX);
        return -EBADMSG;
    }
    if (memchr(buf, 0, len)) {
        filem_fmt(err, errlen, "holds a NUL byte");
        return -EBADMSG;
    }
    size_t ml = strlen(magic);
    if (len < ml + 1 || memcmp(buf, magic, ml) != 0 || buf[ml] != '\n') {
        filem_fmt(err, errlen, "does not start with '%s'", magic);
        return -EBADMSG;
    }
    if (len == 0 || buf[len - 1] != '\n') {
        filem_fmt(err, errlen, "is truncated (the last line is incomplete)");
        return -EBADMSG;
    }
    /* the last line is the checksum of everything before it */
    size_t last = len - 1;
    while (last > 0 && buf[last - 1] != '\n')
        last--;
    const char *cl = buf + last;
    uint64_t want;
    char tail;
    if (last <= ml || sscanf(cl, "checksum xxh3 %16" SCNx64 "%c", &want, &tail) != 2 ||
        tail != '\n' || len - last != strlen("checksum xxh3 ") + 17) {
        filem_fmt(err, errlen, "is truncated or damaged (no checksum line at its end)");
        return -EBADMSG;
    }
    uint64_t got = XXH3_64bits(buf, last);
    if (got != want) {
        filem_fmt(err, errlen, "is damaged (checksum %016" PRIx64 ", expected %016" PRIx64 ")", got,
                 want);
        return -EBADMSG;
    }
    int lineno = 1;
    for (size_t pos = ml + 1; pos < last;) {
        lineno++;
        const char *nl = memchr(buf + pos, '\n', last - pos);
        size_t ll = (size_t)(nl - (buf + pos));
        if (ll + 1 > FILEM_LINE_MAX) {
            filem_fmt(err, errlen, "line %d is longer than %d bytes", lineno, FILEM_LINE_MAX);
            goto bad;
        }
        const char *sp = memchr(buf + pos, ' ', ll);
        if (!sp || sp == buf + pos || (size_t)(sp - (buf + pos)) > KEY_MAX) {
            filem_fmt(err, errlen, "line %d is not 'key value'", lineno);
            goto bad;
        }
        char key[KEY_MAX + 1];
        size_t kl = (size_t)(sp - (buf + pos));
        memcpy(key, buf + pos, kl);
        key[kl] = 0;
        if (!key_ok(key)) {
            filem_fmt(err, errlen, "line %d has a bad key", lineno);
            goto bad;
        }
        if (find(m, key) >= 0) {
            filem_fmt(err, errlen, "line %d repeats the key '%s'", lineno, key);
            goto bad;
        }
        char *v;
        int e = unescape(sp + 1, ll - kl - 1, &v);
        if (e == -ENOMEM) {
            filem_meta_free(m);
            filem_fmt(err, errlen, "out of memory");
            return -ENOMEM;
        }
        if (e < 0) {
            filem_fmt(err, errlen, "line %d has a bad escape", lineno);
            goto bad;
        }
        if (put(m, key, v) < 0) {
            free(v);
            filem_meta_free(m);
            filem_fmt(err, errlen, "out of memory");
            return -ENOMEM;
        }
        pos += ll + 1;
    }
    return 0;
bad:
    filem_meta_free(m);
    return -EBADMSG;
}

int filem_read_private_file(const char *path, size_t max, char **out, size_t *len, char *err,
                            size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        filem_fmt(err, errlen, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        filem_fmt(err, errlen, "%s is not a regular file", path);
        return -EINVAL;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        close(fd);
        filem_fmt(err, errlen,
                 "%s is not private (owner uid %u, mode %04o): refused; snapshot files must be "
                 "yours and mode 0600",
                 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        filem_fmt(err, errlen, "%s is larger than %zu bytes", path, max);
        return -EFBIG;
    }
    char *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        close(fd);
        filem_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            free(b);
            close(fd);
            filem_fmt(err, errlen, "cannot read %s: %s", path, r < 0 ? strerror(e) : "file shrank");
            return -e;
        }
        got += (size_t)r;
    }
    close(fd);
    b[got] = 0;
    *out = b;
    *len = got;
    return 0;
}

int filem_meta_write(const char *seqdir, const struct filem_meta *m, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if ((size_t)filem_fmt(path, sizeof path, "%s/%s", seqdir, FILEM_META_NAME) >= sizeof path) {
        filem_fmt(err, errlen, "path too long: %s", seqdir);
        return -ENAMETOOLONG;
    }
    char *b;
    size_t len;
    int e = filem_meta_serialize(m, FILEM_META_MAGIC, &b, &len);
    if (e < 0) {
        filem_fmt(err, errlen, "cannot build %s: %s", path, strerror(-e));
        return e;
    }
    struct crs_durable d;
    e = crs_durable_open(&d, path, 0600);
    if (e < 0) {
        free(b);
        filem_fmt(err, errlen, "cannot create a temporary file in %s: %s", d.dir, strerror(-e));
        return e;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(d.fd, b + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? -errno : -EIO;
            free(b);
            crs_durable_abort(&d);
            filem_fmt(err, errlen, "cannot write %s: %s", d.tmp, strerror(-e));
            return e;
        }
        off += (size_t)w;
    }
    free(b);
    if (fsync(d.fd) < 0) {
        e = -errno;
        crs_durable_abort(&d);
        filem_fmt(err, errlen, "cannot flush %s: %s", d.tmp, strerror(-e));
        return e;
    }
    if (filem_fault(REVIVE_FAULT_snapc_coord_kill)) {
        revive_log_error("fault point snapc-coord-kill: killing the coordinator before the rename");
        raise(SIGKILL);
    }
    if (filem_fault(REVIVE_FAULT_snapc_meta_write)) {
        crs_durable_abort(&d);
        filem_fmt(err, errlen, "cannot write %s: %s (fault point snapc-meta-write)", path,
                 strerror(EIO));
        return -EIO;
    }
    e = crs_durable_commit(&d, err, errlen);
    if (e < 0) {
        crs_durable_abort(&d);
        return e;
    }
    crs_durable_close(&d);
    return 0;
}

int filem_parse_seq(const char *s, uint64_t *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 19)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

/* What to do with a sequence whose snapshot.meta is damaged: the newest other committed
 * sequence beside it, named with restart-mpi's --seq, or that there is none (a plain "use
 * another sequence" sent users looking for one that was not there: issue 7). seqdir that is no
 * JOBDIR/SEQ (a cache's staging copy) gets no hint. Reads the siblings' metadata itself: the
 * sequence scan (filem_scan) calls filem_meta_read, whose hint must not scan again. */
static void damaged_hint(const char *seqdir, char *out, size_t len)
{
    char jd[PATH_MAX];
    out[0] = 0;
    if ((size_t)filem_fmt(jd, sizeof jd, "%s", seqdir) >= sizeof jd)
        return;
    size_t n = strlen(jd);
    while (n > 1 && jd[n - 1] == '/')
        jd[--n] = 0;
    char *slash = strrchr(jd, '/');
    uint64_t self;
    if (filem_parse_seq(slash ? slash + 1 : jd, &self) < 0)
        return;
    if (!slash)
        snprintf(jd, sizeof jd, ".");
    else if (slash == jd)
        jd[1] = 0;
    else
        *slash = 0;
    DIR *d = opendir(jd);
    if (!d)
        return;
    int64_t best = -1;
    for (struct dirent *de; (de = readdir(d));) {
        uint64_t v;
        if (filem_parse_seq(de->d_name, &v) < 0 || v == self || v > INT64_MAX || (int64_t)v <= best)
            continue;
        char path[PATH_MAX], *b, e2[256];
        size_t blen;
        if ((size_t)filem_fmt(path, sizeof path, "%s/%s/%s", jd, de->d_name, FILEM_META_NAME) >= sizeof path ||
            filem_read_private_file(path, FILEM_FILE_MAX, &b, &blen, e2, sizeof e2) < 0)
            continue;
        struct filem_meta m;
        filem_meta_init(&m);
        if (filem_meta_parse(b, blen, FILEM_META_MAGIC, &m, e2, sizeof e2) == 0)
            best = (int64_t)v;
        filem_meta_free(&m);
        free(b);
    }
    closedir(d);
    if (best >= 0)
        filem_fmt(out, len, ": sequence %lld beside it is committed (restart-mpi --seq %lld %s)",
                  (long long)best, (long long)best, jd);
    else
        filem_fmt(out, len, ", and %s holds no other committed sequence", jd);
}

int filem_meta_read(const char *seqdir, struct filem_meta *m, char *err, size_t errlen)
{
    char path[PATH_MAX];
    filem_meta_init(m);
    if ((size_t)filem_fmt(path, sizeof path, "%s/%s", seqdir, FILEM_META_NAME) >= sizeof path) {
        filem_fmt(err, errlen, "path too long: %s", seqdir);
        return -ENAMETOOLONG;
    }
    char *b;
    size_t len;
    char e2[256];
    int e = filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, e2, sizeof e2);
    if (e == -ENOENT) {
        filem_fmt(err, errlen, "%s is not committed (no %s): it was never finished or it failed",
                 seqdir, FILEM_META_NAME);
        return -ENOENT;
    }
    char hint[PATH_MAX + 96];
    if (e == -EFBIG) {
        damaged_hint(seqdir, hint, sizeof hint);
        filem_fmt(err, errlen, "%s is damaged (larger than %u bytes); this snapshot cannot be used%s", path,
                 FILEM_FILE_MAX, hint);
        return -EBADMSG;
    }
    if (e < 0) {
        filem_fmt(err, errlen, "%s", e2);
        return e;
    }
    e = filem_meta_parse(b, len, FILEM_META_MAGIC, m, e2, sizeof e2);
    free(b);
    if (e < 0) {
        damaged_hint(seqdir, hint, sizeof hint);
        filem_fmt(err, errlen, "%s %s; this snapshot cannot be used%s", path, e2, hint);
        return e == -ENOMEM ? e : -EBADMSG;
    }
    return 0;
}

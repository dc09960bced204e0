/* File locks (image_format.h: LOCKS), from the "lock:" lines of
 * /proc/self/fdinfo/N, and the POSIX locks the capture must not drop: a
 * POSIX lock belongs to the process and goes when the process closes any
 * descriptor of its file, so capture never opens (and closes) such a file
 * itself (crs_capture_posix_locked). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOCKS_MAX 65536
#define POSIX_LOCKED_MAX 1024

/* One "N: TYPE MODE ACCESS PID MAJ:MIN:INO START END" after "lock:\t" or at
 * the start of a /proc/locks line. Returns 0 and moves *p to the next line. */
struct lock_line {
    char type[16];     /* POSIX, FLOCK, OFDLCK, LEASE, DELEG... */
    int write;
    int64_t pid;
    uint64_t dev, ino;
    int64_t start, end; /* end -1: EOF */
};

static const char *word(const char *p, char *out, size_t cap)
{
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
        if (n + 1 < cap)
            out[n++] = *p;
        p++;
    }
    out[n] = 0;
    return p;
}

static int parse_lock(const char *p, struct lock_line *l)
{
    char w[32];
    uint64_t maj, min;
    memset(l, 0, sizeof *l);
    p = word(p, w, sizeof w);   /* "1:" */
    p = word(p, l->type, sizeof l->type);
    if (!strcmp(l->type, "->"))
        return -EINVAL;         /* a blocked request, not a lock */
    p = word(p, w, sizeof w);   /* ADVISORY, MANDATORY, ACTIVE, BREAKING... */
    p = word(p, w, sizeof w);
    l->write = !strcmp(w, "WRITE");
    while (*p == ' ')
        p++;
    if (revive_parse_i64(&p, &l->pid))
        return -EINVAL;
    while (*p == ' ')
        p++;
    if (revive_parse_x64(&p, &maj) || *p++ != ':' || revive_parse_x64(&p, &min) || *p++ != ':' ||
        revive_parse_u64(&p, &l->ino))
        return -EINVAL;
    l->dev = makedev(maj, min);
    while (*p == ' ')
        p++;
    if (revive_parse_i64(&p, &l->start))
        return -EINVAL;
    while (*p == ' ')
        p++;
    if (!strncmp(p, "EOF", 3))
        l->end = -1;
    else if (revive_parse_i64(&p, &l->end))
        return -EINVAL;
    return 0;
}

/* The POSIX locks of this process, by file, from /proc/locks (read once per
 * capture: pids there are as /proc's namespace counts them). */
int crs_capture_posix_locked(struct crs_capture *c, uint64_t dev, uint64_t ino)
{
    if (!c->posix_locked_read) {
        c->posix_locked_read = 1;
        c->posix_locked = crs_scratch_alloc(c->scratch, POSIX_LOCKED_MAX * sizeof *c->posix_locked);
        size_t cap = 1u << 20;
        char *buf = crs_scratch_alloc(c->scratch, cap);
        pid_t me = revive_proc_self_pid();
        long len = buf ? revive_read_file("/proc/locks", buf, cap) : -ENOMEM;
        if (!c->posix_locked || (len < 0 && len != -ENOSPC))
            return 0;
        for (const char *p = buf; *p;) {
            struct lock_line l;
            if (!parse_lock(p, &l) && !strcmp(l.type, "POSIX") && l.pid == me &&
                c->nposix_locked < POSIX_LOCKED_MAX) {
                c->posix_locked[c->nposix_locked][0] = l.dev;
                c->posix_locked[c->nposix_locked++][1] = l.ino;
            }
            const char *nl = strchr(p, '\n');
            p = nl ? nl + 1 : p + strlen(p);
        }
    }
    for (size_t i = 0; i < c->nposix_locked; i++)
        if (c->posix_locked[i][0] == dev && c->posix_locked[i][1] == ino)
            return 1;
    return 0;
}

static int add_lock(struct crs_capture *c, const struct crs_rec_fd *f, const struct lock_line *l, const char *path)
{
    struct crs_rec_lock *r;
    uint32_t kind;
    if (!strcmp(l->type, "POSIX"))
        kind = CRS_LOCK_POSIX;
    else if (!strcmp(l->type, "OFDLCK"))
        kind = CRS_LOCK_OFD;
    else if (!strcmp(l->type, "FLOCK"))
        kind = CRS_LOCK_FLOCK;
    else {
        crs_capture_error(c, "file descriptor %d (%s) holds a %s (a lease or delegation: fcntl F_SETLEASE), "
                          "which Revive cannot take again at a restart; release it before the checkpoint",
                          f->fd, path, l->type);
        return -ENOTSUP;
    }
    if (c->nlocks == LOCKS_MAX) {
        crs_capture_error(c, "the process holds more than %d file locks", LOCKS_MAX);
        return -E2BIG;
    }
    r = &c->locks[c->nlocks++];
    memset(r, 0, sizeof *r);
    r->fd = f->fd;
    r->kind = kind;
    r->type = l->write ? F_WRLCK : F_RDLCK;
    if (kind != CRS_LOCK_FLOCK) {
        r->start = l->start;
        r->len = l->end < 0 ? 0 : l->end - l->start + 1;
    }
    return 0;
}

int crs_capture_locks(struct crs_capture *c)
{
    c->locks = crs_scratch_alloc(c->scratch, LOCKS_MAX * sizeof *c->locks);
    char *buf = crs_scratch_alloc(c->scratch, 1u << 20);
    if (!c->locks || !buf) {
        crs_capture_error(c, "out of scratch memory for file locks");
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nfds; i++) {
        const struct crs_rec_fd *f = &c->fds[i];
        /* descriptors sharing an open file show the same locks: the first one */
        if (f->dup_of >= 0 || f->kind == CRS_FD_CLOSED || f->kind == CRS_FD_INHERIT ||
            f->kind == CRS_FD_INHERITED || f->kind == CRS_FD_PIPE)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", f->fd);
        long len = revive_read_file(path, buf, 1u << 20);
        if (len < 0 && len != -ENOSPC)
            continue;   /* closed meanwhile */
        for (const char *p = buf; (p = strstr(p, "\nlock:\t")) != NULL;) {
            p += 7;
            struct lock_line l;
            if (parse_lock(p, &l))
                continue;
            int e = add_lock(c, f, &l, c->fd_paths[i]);
            if (e)
                return e;
        }
    }
    return 0;
}

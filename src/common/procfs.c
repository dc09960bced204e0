/* Allocation-free /proc readers (see procfs.h). */
#define _GNU_SOURCE
#include "common/procfs.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* ---- numbers ------------------------------------------------------------------------------- */

static int digit_value(char c, int base)
{
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
    return d < base ? d : -1;
}

static int parse_unsigned(const char **p, uint64_t *v, int base)
{
    const char *s = *p;
    uint64_t x = 0;
    int over = 0, d;
    if (digit_value(*s, base) < 0)
        return -EINVAL;
    for (; (d = digit_value(*s, base)) >= 0; s++) {
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            over = 1;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    *p = s;
    *v = over ? UINT64_MAX : x;
    return over ? -ERANGE : 0;
}

int revive_parse_u64(const char **p, uint64_t *v)
{
    return parse_unsigned(p, v, 10);
}

int revive_parse_x64(const char **p, uint64_t *v)
{
    return parse_unsigned(p, v, 16);
}

int revive_parse_i64(const char **p, int64_t *v)
{
    const char *s = *p;
    int neg = *s == '-';
    uint64_t u;
    if (neg)
        s++;
    int e = parse_unsigned(&s, &u, 10);
    if (e == -EINVAL)
        return e;
    *p = s;
    if (e || u > (uint64_t)INT64_MAX + neg) {
        *v = neg ? INT64_MIN : INT64_MAX;
        return -ERANGE;
    }
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

/* ---- files --------------------------------------------------------------------------------- */

/* Appends s to out at *len; 0, or -ENAMETOOLONG leaving out NUL-terminated. */
static int put_str(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap)
        return -ENAMETOOLONG;
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

static int put_dec(char *out, size_t cap, size_t *len, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp - 1;
    tmp[i] = 0;
    do
        tmp[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i > 0);
    return put_str(out, cap, len, tmp + i);
}

int revive_proc_path(char *out, size_t cap, pid_t pid, pid_t tid, const char *file)
{
    size_t len = 0;
    if (!cap)
        return -ENAMETOOLONG;
    out[0] = 0;
    int e = put_str(out, cap, &len, "/proc/");
    if (!e)
        e = pid > 0 ? put_dec(out, cap, &len, (uint64_t)pid) : put_str(out, cap, &len, "self");
    if (!e && tid > 0 && !(e = put_str(out, cap, &len, "/task/")))
        e = put_dec(out, cap, &len, (uint64_t)tid);
    if (!e && file && !(e = put_str(out, cap, &len, "/")))
        e = put_str(out, cap, &len, file);
    return e ? e : (int)len;
}

long revive_read_file(const char *path, char *buf, size_t cap)
{
    if (!cap)
        return -ENOSPC;
    revive_fd_enter(); /* no fork copies the descriptor (fd_guard.h) */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        revive_fd_leave();
        return -e;
    }
    size_t len = 0;
    long ret = 0;
    for (;;) {
        if (len + 1 >= cap) {
            /* full: the file fits only if nothing is left to read */
            char probe;
            ssize_t r = read(fd, &probe, 1);
            if (r < 0 && errno == EINTR)
                continue;
            ret = r == 0 ? 0 : r < 0 ? -errno : -ENOSPC;
            break;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    revive_fd_leave();
    buf[len] = 0;
    return ret ? ret : (long)len;
}

long revive_proc_read(pid_t pid, pid_t tid, const char *file, char *buf, size_t cap)
{
    char path[64];
    int e = revive_proc_path(path, sizeof path, pid, tid, file);
    if (e < 0)
        return e;
    return revive_read_file(path, buf, cap);
}

pid_t revive_proc_self_pid(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    if (n <= 0)
        return n < 0 ? -errno : -EINVAL;
    buf[n] = 0;
    const char *p = buf;
    uint64_t v;
    if (revive_parse_u64(&p, &v) || *p || v == 0 || v > INT32_MAX)
        return -EINVAL;
    return (pid_t)v;
}

/* The kernel's record for getdents64 (glibc declares none for the raw call). */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long revive_proc_for_each_number(const char *path, long (*fn)(long n, int dirfd, void *arg), void *arg)
{
    revive_fd_enter(); /* fn runs inside the section: see fd_guard.h for what it may not do */
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        revive_fd_leave();
        return -e;
    }
    if (!strcmp(path, "/proc/self/task"))
        revive_fd_window(); /* (a test's: the walk of a checkpoint's park, while threads run) */
    /* aligned for the records the kernel writes */
    union { char b[8192]; struct linux_dirent64 align; } buf;
    long ret = 0;
    while (!ret) {
        long n = syscall(SYS_getdents64, dfd, buf.b, sizeof buf.b);
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (n == 0)
            break;
        for (long off = 0; off < n && !ret;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf.b + off);
            off += d->d_reclen;
            const char *p = d->d_name;
            uint64_t v;
            if (revive_parse_u64(&p, &v) || *p || v > INT32_MAX)
                continue;
            ret = fn((long)v, dfd, arg);
        }
    }
    close(dfd);
    revive_fd_leave();
    return ret;
}

struct holder_search {
    const char *want;
    size_t wantlen;
    const pid_t *but;   /* the processes left out */
    size_t nbut;
    pid_t cur, pid;
    long fd;
};

static long holder_fd(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct holder_search *h = arg;
    /* a link as long as a path can be (a FIFO's deep in a tree): with a
     * shorter buffer, readlink cut it and no holder was ever found */
    char path[64], link[PATH_MAX + 1];
    int k = revive_proc_path(path, sizeof path, h->cur, 0, "fd/");
    size_t len = (size_t)k;
    if (k < 0 || put_dec(path, sizeof path, &len, (uint64_t)n) < 0)
        return 0;
    ssize_t l = readlink(path, link, sizeof link);
    if (l <= 0 || (size_t)l != h->wantlen)
        return 0;   /* cut short (l == sizeof link) is longer than any want */
    if (memcmp(link, h->want, (size_t)l))
        return 0;
    h->pid = h->cur;
    h->fd = n;
    return 1;
}

static long holder_proc(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct holder_search *h = arg;
    for (size_t i = 0; i < h->nbut; i++)
        if ((pid_t)n == h->but[i])
            return 0;
    char dir[48];
    if (revive_proc_path(dir, sizeof dir, (pid_t)n, 0, "fd") < 0)
        return 0;
    h->cur = (pid_t)n;
    return revive_proc_for_each_number(dir, holder_fd, h) == 1 ? 1 : 0;
}

int revive_proc_holds(pid_t pid, const char *link, long *fd)
{
    struct holder_search h = { .want = link, .wantlen = strlen(link), .cur = pid };
    char dir[48];
    if (revive_proc_path(dir, sizeof dir, pid, 0, "fd") < 0 || revive_proc_for_each_number(dir, holder_fd, &h) != 1)
        return 0;
    if (fd)
        *fd = h.fd;
    return 1;
}

pid_t revive_proc_find_holder(const char *link, pid_t self, long *fd)
{
    return revive_proc_find_holder_but(link, &self, 1, fd);
}

pid_t revive_proc_find_holder_but(const char *link, const pid_t *but, size_t nbut, long *fd)
{
    struct holder_search h = { .want = link, .wantlen = strlen(link), .but = but, .nbut = nbut };
    revive_proc_for_each_number("/proc", holder_proc, &h);
    if (fd && h.pid > 0)
        *fd = h.fd;
    return h.pid > 0 ? h.pid : 0;
}

/* ---- /proc/.../status ---------------------------------------------------------------------- */

const char *revive_status_find(const char *status, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = status; line && *line;) {
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            const char *v = line + klen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

int revive_status_u64(const char *status, const char *key, uint64_t *v)
{
    const char *p = revive_status_find(status, key);
    if (!p)
        return -ENOENT;
    return revive_parse_u64(&p, v);
}

int revive_status_x64(const char *status, const char *key, uint64_t *v)
{
    const char *p = revive_status_find(status, key);
    if (!p)
        return -ENOENT;
    return revive_parse_x64(&p, v);
}

int revive_status_ids(const char *status, const char *key, int64_t *ids, int max)
{
    const char *p = revive_status_find(status, key);
    if (!p)
        return -ENOENT;
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        int64_t v;
        if (revive_parse_i64(&p, &v))
            break;
        if (n < max)
            ids[n] = v;
        n++;
    }
    return n;
}

/* ---- /proc/.../stat ------------------------------------------------------------------------ */

/* Field 3 (the state) of a stat text: after the last ')' of the command name and a space. */
static const char *stat_field3(const char *stat)
{
    const char *p = strrchr(stat, ')');
    return p && p[1] == ' ' && p[2] && p[2] != ' ' && p[2] != '\n' ? p + 2 : NULL;
}

char revive_stat_state(const char *stat)
{
    const char *p = stat_field3(stat);
    return p ? *p : 0;
}

/* The state of thread tid of pid (tid 0: the process's, its main thread's) */
static char task_state(pid_t pid, pid_t tid)
{
    char buf[512];
    long n = revive_proc_read(pid, tid, "stat", buf, sizeof buf);
    /* -ENOSPC: buf holds the start of the line, where the state is */
    return n >= 0 || n == -ENOSPC ? revive_stat_state(buf) : 0;
}

char revive_proc_state(pid_t pid)
{
    return task_state(pid, 0);
}

#define HELD_MAX_TASKS 512

struct held_scan {
    pid_t pid;
    int n;
    pid_t tids[HELD_MAX_TASKS];
};

static long note_traced_task(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct held_scan *h = arg;
    if (h->n < HELD_MAX_TASKS && task_state(h->pid, (pid_t)n) == 't')
        h->tids[h->n++] = (pid_t)n;
    return 0;
}

char revive_proc_held_stopped(pid_t pid, int tracer_ms)
{
    if (revive_proc_state(pid) == 'T')
        return 'T';
    /* A tracer stops threads one at a time: the checkpoint thread alone held in t, the main
     * thread waiting for it (state S), hung cr_checkpoint for ever (crs_traced.sh, 7 of 8 runs
     * after a first checkpoint). Held: one thread in t at every look for tracer_ms. */
    struct held_scan h = { .pid = pid, .n = 0 };
    char path[48];
    if (revive_proc_path(path, sizeof path, pid, 0, "task") < 0 ||
        revive_proc_for_each_number(path, note_traced_task, &h) < 0 || !h.n)
        return 0;
    const struct timespec pause = {0, 2 * 1000 * 1000};
    for (int waited_ms = 0; h.n && waited_ms < tracer_ms; waited_ms += 2) {
        nanosleep(&pause, NULL);
        int k = 0;
        for (int i = 0; i < h.n; i++)
            if (task_state(pid, h.tids[i]) == 't')
                h.tids[k++] = h.tids[i];
        h.n = k;
    }
    if (!h.n)
        return 0;
    return revive_proc_state(pid) == 'T' ? 'T' : 't';
}

int revive_wait_stopped(pid_t pid, int timeout_ms)
{
    struct timespec pause = {0, 200 * 1000};   /* 0.2 ms, doubled up to 20 ms */
    for (long waited_us = 0;; waited_us += pause.tv_nsec / 1000) {
        char st = revive_proc_state(pid);
        if (st == 'T' || st == 't')
            return 0;
        if (!st || st == 'Z' || st == 'X')
            return -ESRCH;
        if (waited_us >= (long)timeout_ms * 1000)
            return -ETIMEDOUT;
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 20 * 1000 * 1000)
            pause.tv_nsec *= 2;
    }
}

int revive_stat_field(const char *stat, int field, uint64_t *v)
{
    const char *p = stat_field3(stat);
    if (!p || field < 4)
        return -EINVAL;
    for (int f = 3; f < field; f++) {
        while (*p && *p != ' ' && *p != '\n')
            p++;
        if (*p != ' ')
            return -EINVAL;
        p++;
    }
    /* unsigned fields may exceed INT64_MAX (kernel addresses); a few are signed */
    if (*p != '-')
        return revive_parse_u64(&p, v) ? -EINVAL : 0;
    int64_t x;
    if (revive_parse_i64(&p, &x))
        return -EINVAL;
    *v = (uint64_t)x;
    return 0;
}

/* ---- /proc/.../maps ------------------------------------------------------------------------ */

/* The kernel writes the fields and a space, pads a line that has a name with spaces to this
 * column (25 + 6 * sizeof(void *) - 1 on a 64-bit kernel, fs/proc/task_mmu.c), then writes
 * one more space: the name starts at max(fields + 1, this) + 1, which keeps the spaces that
 * a name may begin with (seen: column 73 on Linux 6.18). */
#define MAPS_NAME_PAD 72

int revive_maps_parse_line(const char *line, struct revive_maps_entry *e)
{
    const char *p = line;
    uint64_t maj, min;
    memset(e, 0, sizeof *e);
    if (revive_parse_x64(&p, &e->start) || *p++ != '-' || revive_parse_x64(&p, &e->end) || *p++ != ' ')
        return -EIO;
    for (int i = 0; i < 4; i++) {
        if (!p[i] || p[i] == ' ')
            return -EIO;
        e->perms[i] = p[i];
    }
    p += 4;
    if (*p++ != ' ' || revive_parse_x64(&p, &e->offset) || *p++ != ' ' || revive_parse_x64(&p, &maj) ||
        *p++ != ':' || revive_parse_x64(&p, &min) || *p++ != ' ' || revive_parse_u64(&p, &e->inode))
        return -EIO;
    e->dev = makedev((unsigned)maj, (unsigned)min);
    e->prot = (e->perms[0] == 'r' ? PROT_READ : 0) | (e->perms[1] == 'w' ? PROT_WRITE : 0) |
              (e->perms[2] == 'x' ? PROT_EXEC : 0);
    e->shared = e->perms[3] == 's';
    if (*p && *p != ' ')
        return -EIO;
    /* p is at the space after the inode (or the end of an anonymous line without one) */
    size_t col = (size_t)(p - line);
    size_t name_at = (col + 1 > MAPS_NAME_PAD ? col + 1 : MAPS_NAME_PAD) + 1;
    size_t len = col + strlen(p);
    int padded = name_at <= len;
    for (size_t i = col; padded && i < name_at; i++)
        padded = line[i] == ' ';
    if (padded) {
        e->name = line + name_at;
    } else {
        /* another layout than the kernel's of today: the name is what follows the blanks */
        while (*p == ' ')
            p++;
        e->name = p;
    }
    return 0;
}

static int maps_open(struct revive_maps_reader *r, pid_t pid, pid_t tid, const char *file, char *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (cap < REVIVE_MAPS_MIN_BUF)
        return -EINVAL;
    char path[64];
    int e = revive_proc_path(path, sizeof path, pid, tid, file);
    if (e < 0)
        return e;
    revive_fd_enter(); /* left at revive_maps_close */
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        e = errno;
        revive_fd_leave();
        return -e;
    }
    r->buf = buf;
    r->cap = cap;
    return 0;
}

int revive_maps_open(struct revive_maps_reader *r, pid_t pid, pid_t tid, char *buf, size_t cap)
{
    return maps_open(r, pid, tid, "maps", buf, cap);
}

int revive_smaps_open(struct revive_maps_reader *r, pid_t pid, pid_t tid, char *buf, size_t cap)
{
    return maps_open(r, pid, tid, "smaps", buf, cap);
}

/* PROCMAP_QUERY's argument (include/uapi/linux/fs.h, Linux 6.11), for headers older than it; the
 * fields this file reads, at their offsets in the kernel's layout, which `size` tells it. */
struct revive_procmap_query {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset,
        inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define REVIVE_PROCMAP_QUERY _IOWR('f', 17, struct revive_procmap_query) /* 0xc0686611 */
#define REVIVE_PROCMAP_VMA_SHARED 0x8

int revive_maps_query(uint64_t addr, uint64_t *start, uint64_t *end, int *shared)
{
    revive_fd_enter();
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        revive_fd_leave();
        return -e;
    }
    struct revive_procmap_query q;
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_addr = addr; /* query_flags 0: the mapping that covers addr, whatever its access */
    int rc = ioctl(fd, REVIVE_PROCMAP_QUERY, &q);
    int e = rc ? errno : 0;
    close(fd);
    revive_fd_leave();
    if (e)
        return -e;
    *start = q.vma_start;
    *end = q.vma_end;
    *shared = (q.vma_flags & REVIVE_PROCMAP_VMA_SHARED) != 0;
    return 0;
}

/* Reads more into the buffer after what is unread (moved to the front). 1 when bytes came,
 * 0 at the end of the file, -errno. */
static int fill(struct revive_maps_reader *r)
{
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->have - r->pos);
        r->have -= r->pos;
        r->pos = 0;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->have, r->cap - 1 - r->have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            r->eof = 1;
        r->have += (size_t)n;
        return n > 0;
    }
}

int revive_maps_next_line(struct revive_maps_reader *r, char **line, int *cut)
{
    if (r->fd < 0)
        return -EBADF;
    for (;;) {
        char *nl = memchr(r->buf + r->pos, '\n', r->have - r->pos);
        if (r->skip_line) {
            /* the rest of a line too long for the buffer: drop it */
            if (nl) {
                r->pos = (size_t)(nl + 1 - r->buf);
                r->skip_line = 0;
                continue;
            }
            r->pos = r->have;
        } else if (nl || (r->eof && r->pos < r->have)) {
            char *end = nl ? nl : r->buf + r->have;
            *line = r->buf + r->pos;
            *end = 0;
            *cut = 0;
            r->pos = nl ? (size_t)(nl + 1 - r->buf) : r->have;
            return 1;
        } else if (r->pos == 0 && r->have == r->cap - 1) {
            /* one line fills the buffer: give its beginning, skip the rest next time */
            r->buf[r->have] = 0;
            r->pos = r->have;
            r->skip_line = 1;
            *line = r->buf;
            *cut = 1;
            return 1;
        }
        if (r->eof)
            return 0;
        int f = fill(r);
        if (f < 0)
            return f;
    }
}

int revive_maps_next(struct revive_maps_reader *r, struct revive_maps_entry *e)
{
    char *line;
    int cut;
    int k = revive_maps_next_line(r, &line, &cut);
    if (k <= 0)
        return k;
    if (revive_maps_parse_line(line, e))
        return -EIO;
    e->name_cut = cut;
    return 1;
}

void revive_maps_close(struct revive_maps_reader *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        revive_fd_leave();
    }
    r->fd = -1;
}

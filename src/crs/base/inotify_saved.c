/* Unread inotify events a checkpoint took out of the kernel, given back
 * first (inotify_saved.h). No malloc: a capture runs while other threads,
 * which may hold malloc's locks, are parked; buffers are mmap'd. */
#define _GNU_SOURCE
#include "crs/base/inotify_saved.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

#define EV_HEAD ((size_t)sizeof(struct inotify_event))

struct saved {
    int used;
    int fds[CRS_INOTIFY_SAVED_FDS];   /* the program's numbers of this inotify */
    int nfds;
    char *buf;                        /* events [head, tail), the kernel's format */
    size_t cap, head, tail;
    uint64_t events;
    int priv_wd;                      /* > 0: our watch's events still wait in the kernel queue */
    int priv_bytes;                   /* their bytes there (for FIONREAD) */
    unsigned gen;                     /* the capture that drained it last */
};

int crs_inotify_saved_active;
uint64_t crs_inotify_saved_fdbits[CRS_INOTIFY_SAVED_BITS / 64];
static struct saved table[CRS_INOTIFY_SAVED_MAX];
static int lock_word;
static unsigned capture_gen;

/* ---- the table's lock: every signal blocked while held ---- */

static void lock(uint64_t *old)
{
    uint64_t all = ~0ull;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, 8);
    while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
        syscall(SYS_sched_yield);
}

static void unlock(const uint64_t *old)
{
    __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, 8);
}

/* ---- raw calls: libcr interposes the libc ones ---- */

static ssize_t sys_read(int fd, void *buf, size_t n)
{
    return syscall(SYS_read, fd, buf, n);
}

/* A read that cannot block while the table is held (another thread, in
 * libc's read outside the table, may take the bytes queued() counted):
 * O_NONBLOCK is set on the file for its length. A thread entering the
 * kernel's read in that moment gets EAGAIN; crs_inotify_saved_read tries
 * such a read again when the program's descriptor is blocking. Only that
 * bit is set and cleared again: another thread of the program may change
 * the file's other flags (O_ASYNC, O_APPEND, O_NOATIME) meanwhile, and
 * keeps what it set (review LOW: the flags read before were written back). */
static ssize_t nb_read(int fd, void *buf, size_t n)
{
    long fl = syscall(SYS_fcntl, fd, F_GETFL);
    if (fl < 0)
        return -1;
    if (!(fl & O_NONBLOCK) && syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    ssize_t r = sys_read(fd, buf, n);
    int e = errno;
    if (!(fl & O_NONBLOCK)) {
        long now = syscall(SYS_fcntl, fd, F_GETFL);
        syscall(SYS_fcntl, fd, F_SETFL, (now >= 0 ? now : fl) & ~(long)O_NONBLOCK);
    }
    errno = e;
    return r;
}

static int queued(int fd)
{
    int n = 0;
    return syscall(SYS_ioctl, fd, FIONREAD, &n) == 0 ? n : 0;
}

static struct saved *find(int fd)
{
    for (int i = 0; i < CRS_INOTIFY_SAVED_MAX; i++)
        for (int k = 0; table[i].used && k < table[i].nfds; k++)
            if (table[i].fds[k] == fd)
                return &table[i];
    return NULL;
}

/* The per-number bits the interposed calls test before taking the lock. */
static void mark_number(int fd, int on)
{
    if (fd < 0 || fd >= CRS_INOTIFY_SAVED_BITS)
        return;
    uint64_t bit = 1ull << (fd % 64);
    if (on)
        __atomic_fetch_or(&crs_inotify_saved_fdbits[fd / 64], bit, __ATOMIC_RELEASE);
    else
        __atomic_fetch_and(&crs_inotify_saved_fdbits[fd / 64], ~bit, __ATOMIC_RELEASE);
}

static void add_number(struct saved *s, int fd)
{
    if (s->nfds >= CRS_INOTIFY_SAVED_FDS)
        return;
    s->fds[s->nfds++] = fd;
    mark_number(fd, 1);
}

static size_t ev_size(const char *p)
{
    struct inotify_event e;
    memcpy(&e, p, EV_HEAD);
    return EV_HEAD + e.len;
}

static int ev_wd(const char *p, uint32_t *mask)
{
    struct inotify_event e;
    memcpy(&e, p, EV_HEAD);
    if (mask)
        *mask = e.mask;
    return e.wd;
}

/* ---- the buffer ---- */

static int reserve(struct saved *s, size_t more)
{
    if (s->head && s->head == s->tail)
        s->head = s->tail = 0;
    if (s->cap - s->tail >= more)
        return 0;
    if (s->head) {   /* move what is left to the front first */
        memmove(s->buf, s->buf + s->head, s->tail - s->head);
        s->tail -= s->head;
        s->head = 0;
        if (s->cap - s->tail >= more)
            return 0;
    }
    size_t cap = s->cap ? s->cap : 65536;
    while (cap - s->tail < more)
        cap *= 2;
    char *b = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        return -errno;
    if (s->buf) {
        memcpy(b, s->buf, s->tail);
        munmap(s->buf, s->cap);
    }
    s->buf = b;
    s->cap = cap;
    return 0;
}

/* Drops our watch's events from len bytes of events at p (in place);
 * returns the bytes left. Its IN_IGNORED is the last of them. */
static size_t filter(struct saved *s, char *p, size_t len)
{
    size_t out = 0;
    for (size_t off = 0; off + EV_HEAD <= len;) {
        size_t sz = ev_size(p + off);
        if (sz > len - off)
            break;
        uint32_t mask;
        if (s->priv_wd > 0 && ev_wd(p + off, &mask) == s->priv_wd) {
            s->priv_bytes -= (int)sz;
            if (mask & IN_IGNORED) {
                s->priv_wd = 0;
                s->priv_bytes = 0;
            }
        } else {
            if (out != off)
                memmove(p + out, p + off, sz);
            out += sz;
        }
        off += sz;
    }
    return out;
}

static int append(struct saved *s, const char *p, size_t len)
{
    int e = reserve(s, len);
    if (e)
        return e;
    memcpy(s->buf + s->tail, p, len);
    s->tail += len;
    for (size_t off = 0; off < len; off += ev_size(p + off))
        s->events++;
    return 0;
}

/* Whole saved events into buf, as the kernel gives them: -EINVAL when the
 * first does not fit. */
static ssize_t deliver(struct saved *s, char *buf, size_t n)
{
    size_t out = 0;
    while (s->head < s->tail) {
        size_t sz = ev_size(s->buf + s->head);
        if (sz > n - out)
            break;
        memcpy(buf + out, s->buf + s->head, sz);
        out += sz;
        s->head += sz;
        s->events--;
    }
    return out ? (ssize_t)out : -EINVAL;
}

/* Our watch: added on a file the program does not watch (IN_MASK_CREATE:
 * never one of its watches) and removed, which queues its IN_IGNORED. Its
 * mask names an event that file never has (a file has no entries to
 * delete; / is never removed): an event the kernel is delivering while the
 * watch goes may still be queued after the IN_IGNORED (an IN_OPEN of
 * /dev/null, which other processes open all the time, was: one restart of
 * crs_inotify's 28) and would reach the program. */
static int arm(struct saved *s, int fd)
{
    static const char *const paths[] = { "/dev/null", "/" };
    static const uint32_t masks[] = { IN_DELETE, IN_DELETE_SELF };
    int before = queued(fd), wd = -1, e = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] && wd < 0; i++) {
        wd = (int)syscall(SYS_inotify_add_watch, fd, paths[i], masks[i] | IN_MASK_CREATE);
        e = errno;
    }
    if (wd < 0)
        return -e;
    if (syscall(SYS_inotify_rm_watch, fd, wd) != 0)
        return -errno;
    s->priv_wd = wd;
    s->priv_bytes = queued(fd) - before;
    if (s->priv_bytes < (int)EV_HEAD)
        s->priv_bytes = (int)EV_HEAD;
    return 0;
}

static void drop(struct saved *s)
{
    for (int k = 0; k < s->nfds; k++)
        mark_number(s->fds[k], 0);
    if (s->buf)
        munmap(s->buf, s->cap);
    memset(s, 0, sizeof *s);
    __atomic_fetch_sub(&crs_inotify_saved_active, 1, __ATOMIC_RELEASE);
}

static void maybe_drop(struct saved *s)
{
    if (s->priv_wd <= 0 && s->head == s->tail)
        drop(s);
}

/* Once the saved events are out: our watch's events are read away one at a
 * time (16 bytes: nothing of a name follows them) while they are at the
 * head, so the descriptor is not readable for nothing. A nameless event of
 * the program's before them joins the saved ones (ours stay behind it, so
 * the descriptor stays readable); a named one (EINVAL) stays in the kernel. */
static void settle(struct saved *s, int fd)
{
    char ev[EV_HEAD];
    while (s->priv_wd > 0 && s->head == s->tail && queued(fd) > 0) {
        if (nb_read(fd, ev, sizeof ev) != (ssize_t)sizeof ev)
            return;
        if (filter(s, ev, sizeof ev))
            append(s, ev, sizeof ev);
    }
}

/* ---- capture and restart ---- */

struct scan {
    int (*skip)(int);
    char *err;
    size_t errlen;
};

static int is_inotify(int fd)
{
    char path[64], link[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = 0;
    return strcmp(link, "anon_inode:inotify") == 0;
}

static int same_file(int a, int b)
{
    pid_t me = (pid_t)syscall(SYS_getpid);
    return syscall(SYS_kcmp, me, me, 0 /* KCMP_FILE */, a, b) == 0;
}

static long drain_locked(struct scan *sc, int fd);

/* The table is taken per descriptor: the listing's own close() is libcr's
 * (crs_inotify_saved_closed takes it too). */
static long drain_one(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct scan *sc = arg;
    int fd = (int)n;
    if (!is_inotify(fd) || (sc->skip && sc->skip(fd)))
        return 0;
    uint64_t old;
    lock(&old);
    long r = drain_locked(sc, fd);
    unlock(&old);
    return r;
}

static long drain_locked(struct scan *sc, int fd)
{
    struct saved *s = find(fd), *fresh = NULL;
    for (int i = 0; i < CRS_INOTIFY_SAVED_MAX && !s; i++)   /* another number of one we have */
        if (table[i].used && same_file(table[i].fds[0], fd)) {
            s = &table[i];
            add_number(s, fd);
        }
    if (s && s->gen == capture_gen)
        return 0;   /* read through another of its numbers already */
    if (s && s->priv_wd > 0 && queued(fd) == s->priv_bytes) {
        s->gen = capture_gen;   /* nothing new behind our events: they stay (no number used up) */
        return 0;
    }
    if (!s && queued(fd) <= 0)
        return 0;
    if (!s) {
        for (int i = 0; i < CRS_INOTIFY_SAVED_MAX && !s; i++)
            if (!table[i].used)
                s = fresh = &table[i];
        if (!s) {
            snprintf(sc->err, sc->errlen, "more than %d inotify descriptors hold unread events",
                     CRS_INOTIFY_SAVED_MAX);
            return -E2BIG;
        }
        memset(s, 0, sizeof *s);
        s->used = 1;
        add_number(s, fd);
        __atomic_fetch_add(&crs_inotify_saved_active, 1, __ATOMIC_RELEASE);
    }
    s->gen = capture_gen;
    int e = 0;
    for (int rounds = 0, q; !e && rounds < 64 && (q = queued(fd)) > 0; rounds++) {
        if ((e = reserve(s, (size_t)q + 4096)))
            break;
        ssize_t r = nb_read(fd, s->buf + s->tail, s->cap - s->tail);
        if (r <= 0)
            break;
        size_t kept = filter(s, s->buf + s->tail, (size_t)r);
        for (size_t off = 0; off < kept; off += ev_size(s->buf + s->tail + off))
            s->events++;
        s->tail += kept;
    }
    if (!e && s->head < s->tail && s->priv_wd <= 0)
        e = arm(s, fd);
    if (e) {
        snprintf(sc->err, sc->errlen, "cannot keep the unread events of inotify descriptor %d: %s", fd, strerror(-e));
        if (fresh && s->head == s->tail)
            drop(s);
        return e;
    }
    maybe_drop(s);
    return 0;
}

int crs_inotify_saved_capture(int (*skip)(int fd), char *err, size_t errlen)
{
    struct scan sc = { skip, err, errlen };
    __atomic_fetch_add(&capture_gen, 1, __ATOMIC_RELAXED);   /* the other threads are parked */
    long r = revive_proc_for_each_number("/proc/self/fd", drain_one, &sc);
    if (r < 0 && !err[0])
        snprintf(err, errlen, "cannot list the descriptors of the process: %s", strerror((int)-r));
    return (int)r;
}

void crs_inotify_saved_count(int fd, uint64_t *events, uint64_t *bytes)
{
    uint64_t old;
    lock(&old);
    struct saved *s = find(fd);
    *events = s ? s->events : 0;
    *bytes = s ? s->tail - s->head : 0;
    unlock(&old);
}

int crs_inotify_saved_restarted(char *err, size_t errlen)
{
    int ret = 0;
    uint64_t old;
    lock(&old);
    for (int i = 0; i < CRS_INOTIFY_SAVED_MAX; i++) {
        struct saved *s = &table[i];
        if (!s->used)
            continue;
        s->priv_wd = 0;   /* that was the old kernel queue */
        s->priv_bytes = 0;
        if (s->head == s->tail || !is_inotify(s->fds[0])) {
            drop(s);
            continue;
        }
        int e = arm(s, s->fds[0]);
        if (e && !ret) {
            snprintf(err, errlen, "inotify descriptor %d: its %llu unread events cannot wake poll or epoll: %s",
                     s->fds[0], (unsigned long long)s->events, strerror(-e));
            ret = e;
        }
    }
    unlock(&old);
    return ret;
}

/* ---- the program's reads ---- */

/* r bytes the kernel gave into buf: without our watch's events; behind the
 * saved ones when the read came after a capture (it holds our events);
 * returns what the program gets (0: nothing, read again), or -errno. */
static ssize_t after_kernel(struct saved *s, int fd, char *buf, size_t n, size_t r)
{
    int had = s->priv_wd;
    size_t len = filter(s, buf, r);
    ssize_t out = (ssize_t)len;
    if (s->head < s->tail && (len < r || !had)) {
        /* came after the capture: the saved events go first */
        if (append(s, buf, len) == 0) {
            out = deliver(s, buf, n);
            if (s->head < s->tail && s->priv_wd <= 0)
                arm(s, fd);   /* ours were read with them: readable again */
        }
    }
    if (s->head == s->tail)
        settle(s, fd);
    maybe_drop(s);
    return out;
}

ssize_t crs_inotify_saved_read(int fd, void *buf, size_t n, ssize_t (*real_read)(int, void *, size_t))
{
    uint64_t old;
    for (;;) {
        lock(&old);
        struct saved *s = find(fd);
        if (!s) {
            unlock(&old);
            return real_read(fd, buf, n);
        }
        if (s->head < s->tail) {
            ssize_t r = deliver(s, buf, n);
            if (r > 0 && s->head == s->tail) {
                settle(s, fd);
                /* room left: what the kernel queued since, as one read of
                 * it would have gone on (a named event that does not fit
                 * fails the read: it stays queued) */
                if (s->head == s->tail && (size_t)r < n && queued(fd) > 0) {
                    ssize_t k = nb_read(fd, (char *)buf + r, n - (size_t)r);
                    if (k > 0)
                        r += (ssize_t)filter(s, (char *)buf + r, (size_t)k);
                    if (s->head == s->tail)
                        settle(s, fd);
                }
            }
            maybe_drop(s);
            unlock(&old);
            if (r < 0) {
                errno = (int)-r;
                return -1;
            }
            return r;
        }
        long fl = syscall(SYS_fcntl, fd, F_GETFL);   /* the program's: nothing of ours set while held */
        unlock(&old);
        /* only our events may be ahead in the kernel: read it (it may block) */
        ssize_t r = real_read(fd, buf, n);
        if (r < 0 && errno == EAGAIN && fl >= 0 && !(fl & O_NONBLOCK))
            continue;   /* nb_read's moment in another thread */
        if (r <= 0)
            return r;
        lock(&old);
        s = find(fd);
        ssize_t got = s ? after_kernel(s, fd, buf, n, (size_t)r) : r;
        unlock(&old);
        if (got < 0) {
            errno = (int)-got;
            return -1;
        }
        if (got > 0)
            return got;
        if (fl >= 0 && (fl & O_NONBLOCK)) {
            errno = EAGAIN;
            return -1;
        }
    }
}

ssize_t crs_inotify_saved_after_read(int fd, void *buf, size_t n, ssize_t r,
                                     ssize_t (*real_read)(int, void *, size_t))
{
    uint64_t old;
    lock(&old);
    struct saved *s = find(fd);
    ssize_t got = s ? after_kernel(s, fd, buf, n, (size_t)r) : r;
    unlock(&old);
    if (got < 0) {
        errno = (int)-got;
        return -1;
    }
    return got ? got : crs_inotify_saved_read(fd, buf, n, real_read);
}

/* As the kernel's readv of a file without read_iter: a read per buffer,
 * until one is not filled. */
ssize_t crs_inotify_saved_readv(int fd, const struct iovec *iov, int iovcnt,
                                ssize_t (*real_read)(int, void *, size_t))
{
    ssize_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        ssize_t r = crs_inotify_saved_read(fd, iov[i].iov_base, iov[i].iov_len, real_read);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((size_t)r != iov[i].iov_len)
            break;
    }
    return total;
}

int crs_inotify_saved_fionread(int fd, int *bytes)
{
    uint64_t old;
    lock(&old);
    struct saved *s = find(fd);
    if (s) {
        int k = queued(fd) - (s->priv_wd > 0 ? s->priv_bytes : 0);
        *bytes = (int)(s->tail - s->head) + (k > 0 ? k : 0);
    }
    unlock(&old);
    return s != NULL;
}

void crs_inotify_saved_closed_range(unsigned first, unsigned last)
{
    uint64_t old;
    lock(&old);
    for (int i = 0; i < CRS_INOTIFY_SAVED_MAX; i++) {
        struct saved *s = &table[i];
        for (int k = 0; s->used && k < s->nfds; k++)
            if ((unsigned)s->fds[k] >= first && (unsigned)s->fds[k] <= last) {
                mark_number(s->fds[k], 0);
                s->fds[k--] = s->fds[--s->nfds];
            }
        if (s->used && !s->nfds)
            drop(s);
    }
    unlock(&old);
}

void crs_inotify_saved_closed(int fd)
{
    if (fd >= 0)
        crs_inotify_saved_closed_range((unsigned)fd, (unsigned)fd);
}

void crs_inotify_saved_dup(int oldfd, int newfd)
{
    if (oldfd < 0 || newfd < 0 || oldfd == newfd)
        return;
    uint64_t old;
    lock(&old);
    struct saved *s = find(oldfd);
    if (s && find(newfd) != s)
        add_number(s, newfd);
    unlock(&old);
}

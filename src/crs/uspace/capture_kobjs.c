/* Kernel objects a system call makes (image_format.h: KFDS, EPOLLTGTS,
 * INWATCHES): eventfd, timerfd, signalfd, epoll, inotify. Their state is in
 * /proc/self/fdinfo; an inotify watch's path is what libcr noted when it was
 * added (capture_filter.h: crs_inotify_path). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/capture_filter.h"
#include "crs/base/inotify_saved.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define KFDS_MAX 65536
#define TGTS_MAX 65536
#define VIAS_MAX 4096
#define WATCHES_MAX 65536

int crs_capture_kobj_init(struct crs_capture *c)
{
    c->kfds = crs_scratch_alloc(c->scratch, KFDS_MAX * sizeof *c->kfds);
    c->epoll_tgts = crs_scratch_alloc(c->scratch, TGTS_MAX * sizeof *c->epoll_tgts);
    c->epoll_vias = crs_scratch_alloc(c->scratch, VIAS_MAX * sizeof *c->epoll_vias);
    c->inwatches = crs_scratch_alloc(c->scratch, WATCHES_MAX * sizeof *c->inwatches);
    c->inwatch_paths = crs_scratch_alloc(c->scratch, WATCHES_MAX * sizeof *c->inwatch_paths);
    c->fdinfo = crs_scratch_alloc(c->scratch, 1u << 20);
    if (!c->kfds || !c->epoll_tgts || !c->epoll_vias || !c->inwatches || !c->inwatch_paths || !c->fdinfo) {
        crs_capture_error(c, "out of scratch memory for kernel objects");
        return -ENOMEM;
    }
    return 0;
}

/* The value after `key` in the fdinfo text, or NULL. */
static const char *after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int num(const char *text, const char *key, int hex, int64_t *v)
{
    const char *p = after(text, key);
    uint64_t u;
    if (!p)
        return -1;
    if (hex) {
        if (revive_parse_x64(&p, &u))
            return -1;
        *v = (int64_t)u;
        return 0;
    }
    return revive_parse_i64(&p, v) ? -1 : 0;
}

/* "(sec, nsec)" after key, in ns. */
static int pair_ns(const char *text, const char *key, int64_t *ns)
{
    const char *p = after(text, key);
    int64_t s, n;
    if (!p || *p++ != '(' || revive_parse_i64(&p, &s) || *p++ != ',')
        return -1;
    while (*p == ' ')
        p++;
    if (revive_parse_i64(&p, &n))
        return -1;
    *ns = s * 1000000000 + n;
    return 0;
}

/* The kernel's own device encoding in fdinfo (12 bits major, 20 minor). */
static uint64_t kdev(uint64_t v)
{
    return makedev((unsigned)(v >> 20), (unsigned)(v & 0xfffff));
}

/* Whether epoll epfd's watch of number tfd is on the file descriptor
 * `cand` holds (kcmp KCMP_EPOLL_TFD: the same open file). */
static int watches_fd(int epfd, int tfd, int cand)
{
    struct {
        uint32_t efd, tfd, toff;
    } slot = { (uint32_t)epfd, (uint32_t)tfd, 0 };
    pid_t me = (pid_t)syscall(SYS_getpid);
    return syscall(SYS_kcmp, me, me, 7 /* KCMP_EPOLL_TFD */, cand, (unsigned long)&slot) == 0;
}

struct via_scan {
    int epfd, tfd, found;
    ino_t ino;
    dev_t dev;
};

static long via_one(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct via_scan *v = arg;
    struct stat st;
    if (n == v->tfd || n == v->epfd || fstat((int)n, &st) != 0 || st.st_ino != v->ino || st.st_dev != v->dev)
        return 0;
    if (!watches_fd(v->epfd, v->tfd, (int)n))
        return 0;
    v->found = (int)n;
    return 1;
}

/* A descriptor of ours that holds the file epfd watches under the number
 * tfd, which no longer holds it; -1 when none does. */
static int holder_of_watch(struct crs_capture *c, int epfd, int tfd, ino_t ino, dev_t dev)
{
    (void)c;
    struct via_scan v = { epfd, tfd, -1, ino, dev };
    revive_proc_for_each_number("/proc/self/fd", via_one, &v);
    return v.found;
}

static int epoll_targets(struct crs_capture *c, int fd, const char *info, struct crs_rec_kfd *k)
{
    k->first = (uint32_t)c->nepoll_tgts;
    for (const char *p = info; (p = strstr(p, "tfd:")) != NULL;) {
        int64_t tfd, events, data, ino, sdev;
        p += 4;
        if (num(p, "", 0, &tfd) || num(p, "events:", 1, &events) || num(p, "data:", 1, &data) ||
            num(p, "ino:", 1, &ino) || num(p, "sdev:", 1, &sdev)) {
            crs_capture_error(c, "cannot parse what epoll descriptor %d watches (/proc/self/fdinfo/%d)", fd, fd);
            return -EIO;
        }
        struct stat st;
        int via = -1;
        if (fstat((int)tfd, &st) != 0 || st.st_ino != (ino_t)ino || st.st_dev != (dev_t)kdev((uint64_t)sdev)) {
            /* the number was closed (or reused) since: the kernel still
             * watches the file under it while another descriptor holds it */
            via = holder_of_watch(c, fd, (int)tfd, (ino_t)ino, (dev_t)kdev((uint64_t)sdev));
            if (via < 0) {
                /* a tree member's capture sees the watches other members added to an epoll they
                 * share (fork): those cannot be restored yet (the epoll is filled from one
                 * member's image), so the message names that case too (issue 10) */
                crs_capture_error(c, "epoll descriptor %d watches descriptor %lld, which is not this process's: "
                                  "closed since, or another process's that shares the epoll (a child that added "
                                  "the watch after fork: not supported yet), and no descriptor of this process "
                                  "holds its file (it may be in flight in a Unix socket message); remove the watch "
                                  "(EPOLL_CTL_DEL) before closing the descriptor or before the checkpoint",
                                  fd, (long long)tfd);
                return -ENOTSUP;
            }
            if (c->nepoll_vias == VIAS_MAX) {
                crs_capture_error(c, "more than %d epoll watches of closed descriptors", VIAS_MAX);
                return -E2BIG;
            }
            c->epoll_vias[c->nepoll_vias++] = (struct crs_rec_epoll_via){ (uint32_t)c->nepoll_tgts, via };
        }
        if (c->nepoll_tgts == TGTS_MAX) {
            crs_capture_error(c, "more than %d epoll watches", TGTS_MAX);
            return -E2BIG;
        }
        struct crs_rec_epoll_tgt *t = &c->epoll_tgts[c->nepoll_tgts++];
        memset(t, 0, sizeof *t);
        t->tfd = (int32_t)tfd;
        t->events = (uint32_t)events;
        t->data = (uint64_t)data;
    }
    k->count = (uint32_t)(c->nepoll_tgts - k->first);
    return 0;
}

static int inotify_watches(struct crs_capture *c, int fd, const char *info, struct crs_rec_kfd *k)
{
    /* its unread events are in the process's memory now (inotify_saved.h) */
    uint64_t events, bytes;
    crs_inotify_saved_count(fd, &events, &bytes);
    k->a = (int64_t)events;
    k->b = (int64_t)bytes;
    k->first = (uint32_t)c->ninwatches;
    for (const char *p = info; (p = strstr(p, "inotify wd:")) != NULL;) {
        int64_t wd, ino, sdev, mask;
        p += 11;
        if (num(p, "", 0, &wd) || num(p, "ino:", 1, &ino) || num(p, "sdev:", 1, &sdev) || num(p, "mask:", 1, &mask)) {
            crs_capture_error(c, "cannot parse the watches of inotify descriptor %d", fd);
            return -EIO;
        }
        const char *path = crs_inotify_path(fd, (int)wd, kdev((uint64_t)sdev), (uint64_t)ino);
        if (!path) {
            crs_capture_error(c, "inotify descriptor %d has watch %lld (inode %llu), whose path Revive did not "
                              "see added (before libcr was loaded?); it cannot be restored", fd, (long long)wd,
                              (unsigned long long)ino);
            return -ENOTSUP;
        }
        if (c->ninwatches == WATCHES_MAX) {
            crs_capture_error(c, "more than %d inotify watches", WATCHES_MAX);
            return -E2BIG;
        }
        struct crs_rec_inwatch *w = &c->inwatches[c->ninwatches];
        memset(w, 0, sizeof *w);
        w->wd = (int32_t)wd;
        w->mask = (uint32_t)mask;
        c->inwatch_paths[c->ninwatches++] = path;
    }
    k->count = (uint32_t)(c->ninwatches - k->first);
    /* ascending watch numbers (the kernel lists them newest first) */
    struct crs_rec_inwatch *w = &c->inwatches[k->first];
    const char **wp = &c->inwatch_paths[k->first];
    for (uint32_t i = 1; i < k->count; i++)
        for (uint32_t j = i; j > 0 && w[j - 1].wd > w[j].wd; j--) {
            struct crs_rec_inwatch t = w[j];
            const char *tp = wp[j];
            w[j] = w[j - 1];
            wp[j] = wp[j - 1];
            w[j - 1] = t;
            wp[j - 1] = tp;
        }
    return 0;
}

int crs_capture_kobj(struct crs_capture *c, struct crs_rec_fd *r, const char *link)
{
    uint32_t kind;
    if (!strcmp(link, "anon_inode:[eventfd]"))
        kind = CRS_FD_EVENTFD;
    else if (!strcmp(link, "anon_inode:[timerfd]"))
        kind = CRS_FD_TIMERFD;
    else if (!strcmp(link, "anon_inode:[signalfd]"))
        kind = CRS_FD_SIGNALFD;
    else if (!strcmp(link, "anon_inode:[eventpoll]"))
        kind = CRS_FD_EPOLL;
    else if (!strcmp(link, "anon_inode:inotify"))
        kind = CRS_FD_INOTIFY;
    else
        return 1;   /* not one of them */
    /* A dup of one recorded already (kcmp: the same open file) shares its
     * record: a record of its own named no descriptor (cr_info's "fd -1"
     * line) and was made again for nothing at restart. */
    pid_t self = getpid();
    for (size_t j = 0; j < c->nfds; j++)
        if (c->fds[j].kind == kind && c->fds[j].memfd >= 0 &&
            syscall(SYS_kcmp, self, self, 0 /* KCMP_FILE */, c->fds[j].fd, r->fd) == 0) {
            r->kind = kind;
            r->memfd = c->fds[j].memfd;
            return 0;
        }
    if (c->nkfds == KFDS_MAX) {
        crs_capture_error(c, "more than %d eventfd, timerfd, signalfd, epoll and inotify descriptors", KFDS_MAX);
        return -E2BIG;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", r->fd);
    long len = revive_read_file(path, c->fdinfo, 1u << 20);
    if (len < 0) {
        crs_capture_error(c, "cannot read %s: %s", path, strerror((int)-len));
        return (int)len;
    }
    const char *info = c->fdinfo;
    struct crs_rec_kfd *k = &c->kfds[c->nkfds];
    memset(k, 0, sizeof *k);
    k->kind = kind;
    int e = 0;
    int64_t v = 0;
    switch (kind) {
    case CRS_FD_EVENTFD:
        e = num(info, "eventfd-count:", 1, &k->a);
        if (!e && num(info, "eventfd-semaphore:", 0, &v) == 0 && v)
            k->flags = 1;
        break;
    case CRS_FD_TIMERFD:
        e = num(info, "clockid:", 0, &k->a) || num(info, "ticks:", 0, &k->d) ||
            pair_ns(info, "it_value:", &k->b) || pair_ns(info, "it_interval:", &k->c);
        if (!e && num(info, "settime flags:", 0, &v) == 0)   /* octal, but only TFD_TIMER_ABSTIME (01) matters */
            k->flags = (uint32_t)(v & 1);
        break;
    case CRS_FD_SIGNALFD:
        e = num(info, "sigmask:", 1, &k->a);
        break;
    case CRS_FD_EPOLL:
        if ((e = epoll_targets(c, r->fd, info, k)))
            return e;
        break;
    case CRS_FD_INOTIFY:
        if ((e = inotify_watches(c, r->fd, info, k)))
            return e;
        break;
    }
    if (e) {
        crs_capture_error(c, "cannot parse /proc/self/fdinfo/%d (%s)", r->fd, link);
        return -EIO;
    }
    r->kind = kind;
    r->memfd = (int32_t)c->nkfds++;
    return 0;
}

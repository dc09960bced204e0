/* Which edge-triggered epoll watches had their edge consumed (image_format.h:
 * EPOLLEDGE). fdinfo shows what an epoll watches but not its ready list: an
 * EPOLLET watch whose file is readable may have its edge waiting (not yet
 * returned by epoll_wait) or consumed (returned, and the program did not
 * drain the file, as edge-triggered programs may). A restart's EPOLL_CTL_ADD
 * queues every ready watch, so without telling them apart a consumed edge
 * comes again after the restart, and the program handles its event twice.
 *
 * Three steps, inside the process while its threads are parked:
 *  1. crs_capture_epoll_probe, first of all (before libcr's inotify capture
 *     reads the unread events out and queues its filler event, which wakes
 *     the epolls watching the inotify: base/inotify_saved.h): each epoll's
 *     watches from its fdinfo, then epoll_wait(timeout 0) on it returns
 *     exactly its ready list (a level-triggered watch puts itself back; an
 *     edge-triggered or one-shot one is taken off, or disarmed), and each
 *     edge-triggered or one-shot watch it returned is armed again at once
 *     (epoll_settle.h): the file is ready, so the kernel queues it again and
 *     the running original sees its edge as before. An edge-triggered watch
 *     it did not return whose file is ready (poll) had its edge consumed; one
 *     whose file is not ready has no edge at all (a restart must not read off
 *     an edge that comes while it restores). A ready signalfd's edge is taken
 *     as consumed unless it came ahead of the marker (libcr's park signal woke
 *     it: see probe_one and capture_epoll_mark.c). Epolls are probed outermost
 *     first: arming an inner epoll's watches again wakes the epolls that
 *     watch it, which must have been read before.
 *  2. crs_capture_epoll_edges, after crs_capture_fds: the consumed ones are
 *     recorded against the image's watches.
 *  3. crs_capture_epoll_settle, last (after the signals the capture takes
 *     off their queues are queued again): the wake-ups since (the inotify
 *     filler, inner epolls armed again, those signals) queued consumed
 *     watches again; each epoll is settled, innermost first, so the
 *     original's ready lists are as they were (epoll_settle.h). Not undone:
 *     a signal sent with kill(2) or by the kernel, pending at the
 *     checkpoint, which the main thread queues again (with its sender) as
 *     it leaves its park, when the program runs again: it wakes a signalfd
 *     once more in the original (the restarted process is settled after
 *     every signal is back).
 *
 * Not probed (their watches are restored as before, any ready one queued):
 * an epoll one of whose edge-triggered watches is of a number closed since
 * (arming it again would need that number, whose close would drop the
 * process's POSIX locks on its file). Watches that share one epoll_data
 * value are told apart by the events: the watch whose file is ready now with
 * the returned bits, else one whose interest mask holds them
 * (epoll_settle.c); two alike (same bits, both ready) by order, which cannot
 * matter but for an edge one consumed and one waiting; it is logged. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/capture.h"
#include "crs/uspace/epoll_settle.h"
#include "crs/base/capture_filter.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define EPOLLS_MAX 4096
#define WATCHES_MAX 65536
#define FDINFO_MAX (1u << 20)

/* One epoll of the process (its lowest number), its watches in
 * epoll_probe.w[first, first + count) in fdinfo's order. */
struct epoll_group {
    int epfd;
    uint32_t first, count;
    int probed;
    int order;   /* probe order: outermost first */
    int marked;  /* it holds the marker (capture_epoll_mark.c), not among its watches */
};

struct crs_epoll_probe {
    struct epoll_group *g;
    size_t ng;
    struct crs_epoll_settle_watch *w;
    size_t nw;
    void *got;   /* room for the largest epoll's events */
    size_t most;
};

/* ---- step 1 ---- */

struct epoll_list {
    int *fds;
    size_t n;
};

int crs_fd_link_is(int fd, const char *what)
{
    char path[64], link[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = 0;
    return strcmp(link, what) == 0;
}

static int is_epoll(int fd)
{
    return crs_fd_link_is(fd, "anon_inode:[eventpoll]");
}

static int same_file(int a, int b)
{
    pid_t me = (pid_t)syscall(SYS_getpid);
    return syscall(SYS_kcmp, me, me, 0 /* KCMP_FILE */, a, b) == 0;
}

static long list_one(long n, int dirfd, void *arg)
{
    struct epoll_list *l = arg;
    int fd = (int)n;
    if (fd == dirfd || crs_capture_filter_fd(fd) || !is_epoll(fd))
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (same_file(l->fds[i], fd))
            return 0;   /* a dup: the lowest number stands for it (as in crs_capture_fds) */
    if (l->n == EPOLLS_MAX)
        return -E2BIG;
    l->fds[l->n++] = fd;
    return 0;
}

static uint64_t kdev(uint64_t v)
{
    return makedev((unsigned)(v >> 20), (unsigned)(v & 0xfffff));
}

static int field(const char **p, const char *key, int hex, uint64_t *v)
{
    const char *q = strstr(*p, key);
    if (!q)
        return -1;
    q += strlen(key);
    while (*q == ' ' || *q == '\t')
        q++;
    int64_t s;
    int bad = hex ? revive_parse_x64(&q, v) : revive_parse_i64(&q, &s);
    if (!hex && !bad)
        *v = (uint64_t)s;
    *p = q;
    return bad ? -1 : 0;
}

/* The watches of epoll fd from its fdinfo into pr->w. */
static int read_watches(struct crs_capture *c, struct crs_epoll_probe *pr, struct epoll_group *g, char *info)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", g->epfd);
    long len = revive_read_file(path, info, FDINFO_MAX);
    if (len < 0) {
        crs_capture_error(c, "cannot read %s: %s", path, strerror((int)-len));
        return (int)len;
    }
    g->first = (uint32_t)pr->nw;
    for (const char *p = info; (p = strstr(p, "tfd:")) != NULL;) {
        uint64_t tfd, events, data, ino, sdev;
        if (field(&p, "tfd:", 0, &tfd) || field(&p, "events:", 1, &events) || field(&p, "data:", 1, &data) ||
            field(&p, "ino:", 1, &ino) || field(&p, "sdev:", 1, &sdev)) {
            crs_capture_error(c, "cannot parse what epoll descriptor %d watches (%s)", g->epfd, path);
            return -EIO;
        }
        if (crs_capture_epoll_mark_is((int)tfd, ino)) {
            g->marked = 1;
            continue;
        }
        if (pr->nw == WATCHES_MAX) {
            crs_capture_error(c, "more than %d epoll watches", WATCHES_MAX);
            return -E2BIG;
        }
        struct crs_epoll_settle_watch *w = &pr->w[pr->nw++];
        *w = (struct crs_epoll_settle_watch){ g->epfd, (int32_t)tfd, (uint32_t)events, 0, data };
        struct stat st;
        if (fstat((int)tfd, &st) != 0 || st.st_ino != (ino_t)ino || st.st_dev != (dev_t)kdev(sdev))
            w->flags |= CRS_EPS_VIA;   /* the number was closed (or reused) since */
    }
    g->count = (uint32_t)(pr->nw - g->first);
    if (g->count > pr->most)
        pr->most = g->count;
    return 0;
}

/* The group of epoll number fd, or NULL. */
static struct epoll_group *group_of(struct crs_epoll_probe *pr, int fd)
{
    for (size_t i = 0; i < pr->ng; i++)
        if (pr->g[i].epfd == fd)
            return &pr->g[i];
    for (size_t i = 0; i < pr->ng; i++)   /* a dup's number */
        if (same_file(pr->g[i].epfd, fd))
            return &pr->g[i];
    return NULL;
}

/* Whether epoll a watches epoll b (through any number of b). */
static int watches_epoll(struct crs_epoll_probe *pr, const struct epoll_group *a, const struct epoll_group *b)
{
    for (uint32_t i = 0; i < a->count; i++) {
        const struct crs_epoll_settle_watch *w = &pr->w[a->first + i];
        if (!(w->flags & CRS_EPS_VIA) && is_epoll(w->tfd) && group_of(pr, w->tfd) == b)
            return 1;
    }
    return 0;
}

/* Orders the epolls outermost first: an epoll gets its place once every
 * epoll watching it has one (the kernel allows no loops). */
static void order_groups(struct crs_epoll_probe *pr)
{
    for (size_t i = 0; i < pr->ng; i++)
        pr->g[i].order = -1;
    int next = 0, progress = 1;
    while (progress) {
        progress = 0;
        for (size_t i = 0; i < pr->ng; i++) {
            if (pr->g[i].order >= 0)
                continue;
            int free_ = 1;
            for (size_t j = 0; j < pr->ng && free_; j++)
                free_ = j == i || pr->g[j].order >= 0 || !watches_epoll(pr, &pr->g[j], &pr->g[i]);
            if (free_) {
                pr->g[i].order = next++;
                progress = 1;
            }
        }
    }
    for (size_t i = 0; i < pr->ng; i++)   /* (a loop: cannot be) */
        if (pr->g[i].order < 0)
            pr->g[i].order = next++;
}

static short poll_bits(uint32_t events)
{
    return (short)(events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM |
                             EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP));
}

/* Whether the file of watch w is ready for the events it watches. */
static int target_ready(const struct crs_epoll_settle_watch *w)
{
    struct pollfd p = { w->tfd, poll_bits(w->events), 0 };
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n > 0 && (p.revents & (p.events | POLLERR | POLLHUP));
}

static int probe_one(struct crs_capture *c, struct crs_epoll_probe *pr, struct epoll_group *g)
{
    struct crs_epoll_settle_watch *w = &pr->w[g->first];
    int edges = 0, closed = 0;
    for (uint32_t i = 0; i < g->count; i++) {
        edges |= crs_epoll_edge_watch(w[i].events);
        closed |= crs_epoll_edge_watch(w[i].events) && (w[i].flags & CRS_EPS_VIA);
    }
    if (!edges)
        return 0;
    if (closed) {
        revive_log_info("epoll descriptor %d: not probed for consumed edges (an edge-triggered watch of a number "
                        "closed since); a ready edge-triggered watch of it reports its edge after a restart",
                        g->epfd);
        return 0;
    }
    /* the marker tells a signalfd's waiting edge from a consumed one, unless one of the epoll's own
     * watches has its data value */
    int marked = g->marked, mark_seen = 0;
    for (uint32_t i = 0; i < g->count && marked; i++)
        marked = w[i].data != CRS_EPOLL_MARK_DATA;
    if ((marked ? crs_epoll_take_ready_marked(w, g->count, pr->got, CRS_EPOLL_MARK_DATA, &mark_seen)
                : crs_epoll_take_ready(w, g->count, pr->got)) < 0) {
        crs_capture_error(c, "cannot read the ready list of epoll descriptor %d: %s", g->epfd, strerror(errno));
        return -EIO;
    }
    g->probed = 1;
    int guessed = 0;
    for (uint32_t i = 0; i < g->count; i++) {
        if (!(w[i].flags & CRS_EPS_MATCHED))
            continue;
        w[i].flags |= CRS_EPS_REPORTED;
        for (uint32_t j = 0; j < g->count; j++)
            guessed |= j != i && w[j].data == w[i].data;
        if (crs_epoll_edge_watch(w[i].events) && crs_epoll_arm_again(&w[i]) != 0) {
            crs_capture_error(c, "cannot arm the watch of descriptor %d by epoll descriptor %d again after reading "
                              "its ready list: %s; the program may miss its event", w[i].tfd, g->epfd,
                              strerror(errno));
            return -EIO;
        }
    }
    if (guessed)
        revive_log_info("epoll descriptor %d: watches that share one epoll_data value were told apart by the "
                        "events their files report; where those are alike, an edge-triggered one among them may "
                        "report its edge once more after a restart", g->epfd);
    /* consumed: edge-triggered (not one-shot), not returned, its file ready.
     * A signalfd is woken by every signal sent to the process, in its mask
     * or not, so libcr's park signal queued every ready one again before
     * the probe: one returned ahead of the marker was on the ready list
     * before the park, its edge waiting (issue 10: it was taken as
     * consumed, and the restarted program never saw its signal); one
     * returned behind it was put there by the park. Without the marker
     * (capture_epoll_mark.c: no signal free for it, or too many epolls) a
     * ready signalfd is taken as consumed. */
    if (g->marked && !mark_seen)
        revive_log_info("epoll descriptor %d: its marker did not come; a ready edge-triggered signalfd watch of it "
                        "is taken as consumed", g->epfd);
    for (uint32_t i = 0; i < g->count; i++) {
        if ((w[i].events & (EPOLLET | EPOLLONESHOT)) != EPOLLET || !crs_epoll_edge_watch(w[i].events) ||
            (w[i].flags & CRS_EPS_VIA))
            continue;
        int sfd = crs_fd_link_is(w[i].tfd, "anon_inode:[signalfd]");
        int waited = (w[i].flags & CRS_EPS_REPORTED) && (!sfd || (mark_seen && (w[i].flags & CRS_EPS_EARLY)));
        if (!waited && target_ready(&w[i]))
            w[i].flags |= CRS_EPS_READY | CRS_EPS_CONSUMED;
    }
    return 0;
}

static int probe_all(struct crs_capture *c)
{
    struct epoll_list l = { crs_scratch_alloc(c->scratch, EPOLLS_MAX * sizeof(int)), 0 };
    if (!l.fds) {
        crs_capture_error(c, "out of scratch memory for the epoll descriptors");
        return -ENOMEM;
    }
    long r = revive_proc_for_each_number("/proc/self/fd", list_one, &l);
    if (r == -E2BIG) {
        crs_capture_error(c, "more than %d epoll descriptors", EPOLLS_MAX);
        return -E2BIG;
    }
    if (r < 0) {
        crs_capture_error(c, "cannot list the descriptors of the process: %s", strerror((int)-r));
        return (int)r;
    }
    if (!l.n)
        return 0;
    struct crs_epoll_probe *pr = crs_scratch_alloc(c->scratch, sizeof *pr);
    char *info = crs_scratch_alloc(c->scratch, FDINFO_MAX);
    if (pr) {
        memset(pr, 0, sizeof *pr);
        pr->g = crs_scratch_alloc(c->scratch, l.n * sizeof *pr->g);
        pr->w = crs_scratch_alloc(c->scratch, WATCHES_MAX * sizeof *pr->w);
    }
    if (!pr || !info || !pr->g || !pr->w) {
        crs_capture_error(c, "out of scratch memory for %zu epoll descriptors", l.n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct epoll_group *g = &pr->g[pr->ng++];
        memset(g, 0, sizeof *g);
        g->epfd = l.fds[i];
        int e = read_watches(c, pr, g, info);
        if (e)
            return e;
    }
    pr->got = crs_scratch_alloc(c->scratch, (pr->most + 1) * sizeof(struct epoll_event));   /* + the marker */
    if (!pr->got) {
        crs_capture_error(c, "out of scratch memory for %zu epoll events", pr->most);
        return -ENOMEM;
    }
    order_groups(pr);
    c->epoll_probe = pr;
    crs_capture_epoll_mark_raise();
    for (int o = 0; o < (int)pr->ng; o++)
        for (size_t i = 0; i < pr->ng; i++) {
            if (pr->g[i].order != o)
                continue;
            int e = probe_one(c, pr, &pr->g[i]);
            if (e)
                return e;
        }
    return 0;
}

int crs_capture_epoll_probe(struct crs_capture *c)
{
    int e = probe_all(c);
    crs_capture_epoll_unmark();   /* before any descriptor is captured */
    return e;
}

/* ---- step 2 ---- */

static int add_consumed(struct crs_capture *c, size_t target)
{
    if (c->nepoll_edges == c->epoll_edges_cap) {
        crs_capture_error(c, "more than %zu consumed epoll edges", c->epoll_edges_cap);
        return -E2BIG;
    }
    c->epoll_edges[c->nepoll_edges++] = (struct crs_rec_epoll_edge){ (uint32_t)target, CRS_EPOLL_EDGE_CONSUMED };
    return 0;
}

int crs_capture_epoll_edges(struct crs_capture *c)
{
    struct crs_epoll_probe *pr = c->epoll_probe;
    if (!c->nepoll_tgts || !pr)
        return 0;
    c->epoll_edges_cap = c->nepoll_tgts;
    c->epoll_edges = crs_scratch_alloc(c->scratch, c->nepoll_tgts * sizeof *c->epoll_edges);
    if (!c->epoll_edges) {
        crs_capture_error(c, "out of scratch memory for %zu epoll watches", c->nepoll_tgts);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nfds; i++) {
        const struct crs_rec_fd *r = &c->fds[i];
        if (r->kind != CRS_FD_EPOLL || r->dup_of >= 0)
            continue;
        struct epoll_group *g = group_of(pr, r->fd);
        if (!g || !g->probed)
            continue;
        const struct crs_rec_kfd *k = &c->kfds[r->memfd];
        for (uint32_t t = 0; t < k->count; t++) {
            const struct crs_rec_epoll_tgt *tg = &c->epoll_tgts[k->first + t];
            /* the same fdinfo read twice with the threads parked: the same watches in the same order */
            const struct crs_epoll_settle_watch *w = t < g->count ? &pr->w[g->first + t] : NULL;
            if (!w || w->tfd != tg->tfd || w->data != tg->data)
                continue;
            int e;
            if ((w->flags & CRS_EPS_CONSUMED) && (e = add_consumed(c, k->first + t)))
                return e;
        }
    }
    return 0;
}

/* ---- step 3 ---- */

int crs_capture_epoll_settle(struct crs_capture *c, char *err, size_t errlen)
{
    struct crs_epoll_probe *pr = c->epoll_probe;
    if (!pr)
        return 0;
    for (int o = (int)pr->ng - 1; o >= 0; o--)
        for (size_t i = 0; i < pr->ng; i++) {
            struct epoll_group *g = &pr->g[i];
            if (g->order != o || !g->probed)
                continue;
            int e = crs_epoll_settle(&pr->w[g->first], g->count, pr->got, err, errlen);
            if (e)
                return e;
        }
    return 0;
}

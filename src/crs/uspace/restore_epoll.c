/* What every epoll watches, made again once every descriptor is back
 * (image_format.h: EPOLLTGTS, EPOLLVIA, EPOLLEDGE). EPOLL_CTL_ADD queues a
 * watch whose file is ready, so the order matters:
 *   1. the edge-triggered watches whose edge the program had consumed
 *      (EPOLLEDGE) are added first and their edges read off again with
 *      epoll_wait(timeout 0), so that they are not reported a second time;
 *   2. a fired one-shot (its events without event bits) is added armed for
 *      every event and, when it fires at once, read off: disarmed as it was
 *      (EPOLL_CTL_ADD arms any watch for EPOLLERR and EPOLLHUP); when its
 *      file is not ready for anything (or its number was closed since) it
 *      is left armed for those two only;
 *   3. then the others (level-triggered, edge-triggered with their edge
 *      waiting, armed one-shots): each queued when its file is ready, as it
 *      was on the original's ready list.
 * An epoll that others watch is made before them (its queued watches then
 * make it ready when the outer one adds its watch of it, as the original
 * was). pidfds' watches come later (restore_pidfd.c).
 * What the restart does afterwards wakes files again: the signals it
 * queues wake a signalfd, libcr's filler event an inotify whose unread
 * events wait in memory, and each wake-up queues a consumed watch again.
 * So the watches of every epoll with a consumed edge go to the restored
 * process (r->epoll_settle, inner epolls first), which settles them once
 * all that is done (epoll_settle.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/image.h"
#include "crs/uspace/restore.h"
#include "crs/uspace/epoll_settle.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* the event bits a watch reports (a fired one-shot keeps none of them) */
#define EVENT_BITS (~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE))
#define ALL_EVENTS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | \
                    EPOLLMSG | EPOLLRDHUP)

static const struct crs_rec_epoll_via *via_of(const struct crs_image *img, size_t target)
{
    for (size_t i = 0; i < img->nepoll_vias; i++)
        if (img->epoll_vias[i].target == target)
            return &img->epoll_vias[i];
    return NULL;
}

static int edge_consumed(const struct crs_image *img, size_t target)
{
    for (size_t i = 0; i < img->nepoll_edges; i++)
        if (img->epoll_edges[i].target == target)
            return 1;
    return 0;
}

static int fired_oneshot(const struct crs_rec_epoll_tgt *t)
{
    return (t->events & EPOLLONESHOT) && !(t->events & EVENT_BITS);
}

/* A watch of number t->tfd, closed since while descriptor `via` holds the
 * file: the file is put at that number for the EPOLL_CTL_ADD (so the watch
 * is the one the kernel had: EPOLL_CTL_ADD of `via` stays a new watch), then
 * the number gets back what the image has there, or is closed. */
static int watch_via(struct crs_restore *r, int epfd, const struct crs_rec_epoll_tgt *t, int via, struct epoll_event *ev)
{
    int flags = fcntl(t->tfd, F_GETFD), saved = -1;
    if (flags >= 0 && (saved = fcntl(t->tfd, F_DUPFD_CLOEXEC, 3)) < 0) {
        crs_restore_error(r, "cannot move descriptor %d aside to watch its old number: %s", t->tfd, strerror(errno));
        return -1;
    }
    int ok = dup2(via, t->tfd) >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, t->tfd, ev) == 0;
    int e = errno;
    if (saved >= 0) {
        dup3(saved, t->tfd, (flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
        close(saved);
    } else {
        close(t->tfd);
    }
    if (!ok) {
        crs_restore_error(r, "cannot make epoll descriptor %d watch the file of descriptor %d under its old number %d "
                          "again: %s", epfd, via, t->tfd, strerror(e));
        return -1;
    }
    return 0;
}

int crs_restore_epoll_watch_next(const struct crs_image *img, struct crs_epoll_watch *w)
{
    for (; w->next_fd < img->nfds; w->next_fd++, w->next_w = 0) {
        const struct crs_rec_fd *f = &img->fds[w->next_fd];
        if (f->kind != CRS_FD_EPOLL || f->dup_of >= 0)
            continue;   /* a dup shares its epoll's watches */
        const struct crs_rec_kfd *k = &img->kfds[f->memfd];
        if (w->next_w < k->count) {
            w->ep = f;
            w->index = k->first + w->next_w++;
            w->t = &img->epoll_tgts[w->index];
            w->target = crs_restore_fd_record(img, w->t->tfd);
            return 1;
        }
    }
    return 0;
}

/* Adds watch `index` of epoll f with `events`: 1 added, 0 left out (its
 * descriptor is not back: an inherited one cr_restart had no match for, or a
 * pidfd), -1 failed with the message set. */
static int add_watch(struct crs_restore *r, const struct crs_rec_fd *f, size_t index, uint32_t events)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[index];
    const struct crs_rec_fd *target = crs_restore_fd_record(img, t->tfd);
    const struct crs_rec_epoll_via *via = via_of(img, index);
    if (!via && target && target->kind == CRS_FD_PIDFD)
        return 0;   /* not open yet: crs_restore_pidfds */
    struct epoll_event ev = { .events = events, .data.u64 = t->data };
    if (via)
        return watch_via(r, f->fd, t, via->fd, &ev) ? -1 : 1;
    if (epoll_ctl(f->fd, EPOLL_CTL_ADD, t->tfd, &ev) == 0)
        return 1;
    if (errno == EBADF) {   /* an inherited descriptor cr_restart had no match for */
        revive_log_info("epoll descriptor %d watched descriptor %d, which the restarted process does not "
                        "have: not watched", f->fd, t->tfd);
        return 0;
    }
    crs_restore_error(r, "cannot make epoll descriptor %d watch descriptor %d again (events 0x%x): %s",
                      f->fd, t->tfd, events, strerror(errno));
    return -1;
}

/* Reads epoll ep's ready list to the end (only watches that do not queue
 * themselves again are on it); how many events it held, or -1. */
static int drain(struct crs_restore *r, int ep)
{
    struct epoll_event got[64];
    int n, total = 0;
    do {
        while ((n = epoll_wait(ep, got, 64, 0)) < 0 && errno == EINTR)
            ;
        if (n < 0) {
            crs_restore_error(r, "cannot read the ready list of the restored epoll descriptor %d: %s", ep,
                              strerror(errno));
            return -1;
        }
        total += n;
    } while (n > 0);
    return total;
}

/* The watches of epoll f for the restored process to settle, when one of
 * them had its edge consumed; an epoll with an edge-triggered watch of a
 * number closed since was not probed (capture_epoll_edges.c), nor is it
 * settled (it cannot arm that watch again). */
static void note_settle(struct crs_restore *r, const struct crs_rec_fd *f)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_kfd *k = &img->kfds[f->memfd];
    int consumed = 0;
    for (uint32_t w = 0; w < k->count; w++) {
        size_t i = k->first + w;
        if (via_of(img, i) && crs_epoll_edge_watch(img->epoll_tgts[i].events))
            return;
        consumed |= edge_consumed(img, i);
    }
    if (!consumed || !r->epoll_settle)
        return;
    for (uint32_t w = 0; w < k->count; w++) {
        size_t i = k->first + w;
        const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[i];
        r->epoll_settle[r->nepoll_settle++] = (struct crs_epoll_settle_watch){
            f->fd, t->tfd, t->events,
            (edge_consumed(img, i) ? CRS_EPS_CONSUMED : 0) | (via_of(img, i) ? CRS_EPS_VIA : 0), t->data
        };
    }
}

static int restore_one(struct crs_restore *r, const struct crs_rec_fd *f)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_kfd *k = &img->kfds[f->memfd];
    int added = 0;
    /* 1. consumed edges, read off again */
    for (uint32_t w = 0; w < k->count; w++) {
        size_t i = k->first + w;
        if (!edge_consumed(img, i))
            continue;
        int a = add_watch(r, f, i, img->epoll_tgts[i].events);
        if (a < 0)
            return -EIO;
        added += a;
    }
    if (added && drain(r, f->fd) < 0)
        return -EIO;
    /* 2. fired one-shots, fired again one at a time (the ready list is empty) */
    for (uint32_t w = 0; w < k->count; w++) {
        size_t i = k->first + w;
        const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[i];
        if (!fired_oneshot(t))
            continue;
        /* (a number closed since cannot be disarmed again below: only EPOLLERR, EPOLLHUP) */
        const struct crs_rec_epoll_via *via = via_of(img, i);
        int a = add_watch(r, f, i, via ? t->events : t->events | ALL_EVENTS);
        if (a < 0)
            return -EIO;
        int fired = a ? drain(r, f->fd) : 0;
        if (fired < 0)
            return -EIO;
        struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
        if (a && !fired && !via && epoll_ctl(f->fd, EPOLL_CTL_MOD, t->tfd, &ev) != 0) {
            crs_restore_error(r, "cannot disarm the one-shot watch of descriptor %d by epoll descriptor %d: %s",
                              t->tfd, f->fd, strerror(errno));
            return -EIO;
        }
        if (a && !fired)
            revive_log_info("epoll descriptor %d: the one-shot watch of descriptor %d had fired; its file is not "
                            "ready, so it stays armed for EPOLLERR and EPOLLHUP", f->fd, t->tfd);
    }
    /* 3. the others, queued when ready */
    for (uint32_t w = 0; w < k->count; w++) {
        size_t i = k->first + w;
        const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[i];
        if (edge_consumed(img, i) || fired_oneshot(t))
            continue;
        if (add_watch(r, f, i, t->events) < 0)
            return -EIO;
    }
    return 0;
}

/* The epoll record (never a dup's) that watch `index` of an epoll watches,
 * if it watches an epoll. */
static const struct crs_rec_fd *watched_epoll(const struct crs_image *img, size_t index)
{
    const struct crs_rec_epoll_via *via = via_of(img, index);
    const struct crs_rec_fd *t = crs_restore_fd_record(img, via ? via->fd : img->epoll_tgts[index].tfd);
    if (t && t->kind == CRS_FD_EPOLL && t->dup_of >= 0)
        t = crs_restore_fd_record(img, t->dup_of);
    return t && t->kind == CRS_FD_EPOLL ? t : NULL;
}

int crs_restore_epolls(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    if (!img->nepoll_tgts)
        return 0;
    uint8_t *done = calloc(img->nfds ? img->nfds : 1, 1);
    r->nepoll_settle = 0;
    if (img->nepoll_edges && !r->epoll_settle)
        r->epoll_settle = calloc(img->nepoll_tgts, sizeof *r->epoll_settle);
    if (!done || (img->nepoll_edges && !r->epoll_settle)) {
        free(done);
        crs_restore_error(r, "out of memory for the epoll descriptors");
        return -ENOMEM;
    }
    /* inner epolls first: an epoll is made once every epoll it watches is (the kernel
     * allows no loops, so each round makes one at least) */
    int e = 0, progress = 1;
    while (!e && progress) {
        progress = 0;
        for (size_t i = 0; !e && i < img->nfds; i++) {
            const struct crs_rec_fd *f = &img->fds[i];
            if (f->kind != CRS_FD_EPOLL || f->dup_of >= 0 || done[i])
                continue;
            if (crs_restore_filled_elsewhere(r, f->fd)) {
                /* one epoll of the tree, made once: its watches are the
                 * descriptors of the process whose image made it */
                done[i] = 1;
                progress = 1;
                continue;
            }
            const struct crs_rec_kfd *k = &img->kfds[f->memfd];
            int ready = 1;
            for (uint32_t w = 0; ready && w < k->count; w++) {
                const struct crs_rec_fd *in = watched_epoll(img, k->first + w);
                ready = !in || in == f || done[in - img->fds];
            }
            if (!ready)
                continue;
            e = restore_one(r, f);
            if (!e)
                note_settle(r, f);
            done[i] = 1;
            progress = 1;
        }
    }
    for (size_t i = 0; !e && i < img->nfds; i++)
        if (img->fds[i].kind == CRS_FD_EPOLL && img->fds[i].dup_of < 0 && !done[i]) {
            crs_restore_error(r, "epoll descriptor %d watches epolls in a loop: the image is corrupt"
                              CRS_IMAGE_ADVICE, img->fds[i].fd);
            e = -EINVAL;
        }
    free(done);
    return e;
}

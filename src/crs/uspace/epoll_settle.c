/* Epolls' ready lists put back after Revive's own wake-ups (epoll_settle.h).
 * No malloc: it runs while the program's threads are parked (they may hold
 * its locks); the caller gives the room. */
#define _GNU_SOURCE
#include "crs/uspace/epoll_settle.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#define EDGE_WATCH (EPOLLET | EPOLLONESHOT)
/* the event bits a watch reports (a fired one-shot keeps none of them) */
#define EVENT_BITS (~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE))

int crs_epoll_edge_watch(uint32_t events)
{
    return (events & EDGE_WATCH) && (events & EVENT_BITS);
}

int crs_epoll_arm_again(const struct crs_epoll_settle_watch *w)
{
    struct epoll_event ev = { .events = w->events, .data.u64 = w->data };
    if (!(w->events & EPOLLEXCLUSIVE))
        return epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->tfd, &ev);
    if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->tfd, NULL) != 0)
        return -1;
    return epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev);
}

/* How well watch w explains an event with bits `got` (higher is better; 0: it cannot). Watches
 * that share one epoll_data value (two files registered with one data.ptr) are told apart by what
 * the event reports (issue 10): the watch whose file is ready now with exactly those bits among
 * the ones it watches (poll, as epoll asks the file) is the one; else one whose interest mask
 * holds the bits; the edge-triggered before the level-triggered, as the kernel takes those off. */
static int explains(const struct crs_epoll_settle_watch *w, uint32_t got)
{
    uint32_t bits = got & ~(uint32_t)(EPOLLERR | EPOLLHUP);
    uint32_t want = w->events & EVENT_BITS;
    int score = 1;
    if ((bits & ~want) == 0)
        score += 2;
    if (!(w->flags & CRS_EPS_VIA)) {
        struct pollfd p = { w->tfd, (short)(want & 0xffff), 0 };
        int n;
        while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
            ;
        if (n > 0 && (uint32_t)(unsigned short)p.revents == got)
            score += 4;
    }
    return 2 * score + (crs_epoll_edge_watch(w->events) ? 1 : 0);
}

static int take_ready(struct crs_epoll_settle_watch *w, size_t n, void *room, const uint64_t *mark, int *mark_seen)
{
    struct epoll_event *got = room;
    int k, seen = 0;
    for (size_t i = 0; i < n; i++)
        w[i].flags &= ~(CRS_EPS_MATCHED | CRS_EPS_EARLY);
    if (mark_seen)
        *mark_seen = 0;
    if (!n)
        return 0;
    /* every watch is on the ready list once at most: one call returns them all */
    do
        k = epoll_wait(w[0].epfd, got, (int)n + (mark ? 1 : 0), 0);
    while (k < 0 && errno == EINTR);
    for (int i = 0; i < k; i++) {
        if (mark && got[i].data.u64 == *mark) {
            seen = 1;
            continue;
        }
        size_t pick = n, alike = 0;
        int best = 0;
        for (size_t j = 0; j < n; j++)
            alike += w[j].data == got[i].data.u64 && !(w[j].flags & CRS_EPS_MATCHED);
        for (size_t j = 0; j < n; j++) {
            if (w[j].data != got[i].data.u64 || (w[j].flags & CRS_EPS_MATCHED))
                continue;
            /* the only one with this data: no need to ask its file */
            int sc = alike > 1 ? explains(&w[j], got[i].events) : 1;
            if (sc > best) {
                best = sc;
                pick = j;
            }
        }
        if (pick < n)
            w[pick].flags |= CRS_EPS_MATCHED | (mark && !seen ? CRS_EPS_EARLY : 0);
    }
    if (mark_seen)
        *mark_seen = seen;
    return k;
}

int crs_epoll_take_ready(struct crs_epoll_settle_watch *w, size_t n, void *room)
{
    return take_ready(w, n, room, NULL, NULL);
}

int crs_epoll_take_ready_marked(struct crs_epoll_settle_watch *w, size_t n, void *room, uint64_t mark, int *mark_seen)
{
    return take_ready(w, n, room, &mark, mark_seen);
}

int crs_epoll_settle(struct crs_epoll_settle_watch *w, size_t n, void *got, char *err, size_t errlen)
{
    for (size_t i = 0; i < n;) {
        size_t m = 1;
        while (i + m < n && w[i + m].epfd == w[i].epfd)
            m++;
        if (crs_epoll_take_ready(w + i, m, got) < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot read the ready list of epoll descriptor %d: %s", w[i].epfd, strerror(e));
            return -e;
        }
        for (size_t j = i; j < i + m; j++) {
            if (!(w[j].flags & CRS_EPS_MATCHED) || (w[j].flags & CRS_EPS_CONSUMED) ||
                !crs_epoll_edge_watch(w[j].events))
                continue;   /* not taken, left off on purpose, or level-triggered (it stays) */
            if (crs_epoll_arm_again(&w[j]) != 0) {
                int e = errno;
                snprintf(err, errlen, "cannot arm the watch of descriptor %d by epoll descriptor %d again: %s; the "
                         "program may miss its event", w[j].tfd, w[j].epfd, strerror(e));
                return -e;
            }
        }
        i += m;
    }
    return 0;
}

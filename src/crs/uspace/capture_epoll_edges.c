/* Which edge-triggered epoll watches had their edge consumed (image_format.h:
 * EPOLLEDGE). fdinfo shows what an epoll watches but not its ready list: an
 * EPOLLET watch whose file is readable may have its edge waiting (not yet
 * returned by epoll_wait) or consumed (returned, and the program did not
 * drain the file, as edge-triggered programs may). A restart's EPOLL_CTL_ADD
 * queues every ready watch, so without telling them apart a consumed edge
 * comes again after the restart, and the program handles its event twice.
 *
 * The probe runs inside the process while its threads are parked:
 * epoll_wait(timeout 0) on the program's epoll returns exactly the watches
 * on its ready list (a level-triggered one puts itself back; an
 * edge-triggered or one-shot one is taken off, or disarmed), and each
 * edge-triggered or one-shot watch it returned is armed again at once with
 * EPOLL_CTL_MOD (EPOLL_CTL_DEL and ADD for EPOLLEXCLUSIVE, which MOD
 * refuses): the file is ready, so the kernel queues it again and the
 * running original sees its edge as before. The edge-triggered watches it
 * did not return are recorded as consumed.
 *
 * Not probed (their watches are restored as before, any ready one queued):
 * an epoll that another epoll watches edge-triggered or one-shot (arming
 * its watches again wakes the outer epoll: a new edge there), and an epoll
 * one of whose edge-triggered watches is of a number closed since (arming it
 * again would need that number, whose close would drop the process's POSIX
 * locks on its file). Watches that share one epoll_data value are told apart
 * by order, which is a guess; it is logged. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/capture.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EDGE_WATCH (EPOLLET | EPOLLONESHOT)
/* the event bits a watch reports (a fired one-shot keeps none of them) */
#define EVENT_BITS (~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE))

/* An armed edge-triggered or one-shot watch: the ones epoll_wait takes off
 * the ready list. */
static int edge_watch(const struct crs_rec_epoll_tgt *t)
{
    return (t->events & EDGE_WATCH) && (t->events & EVENT_BITS);
}

static const struct crs_rec_fd *fd_record(const struct crs_capture *c, int fd)
{
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i].fd == fd)
            return &c->fds[i];
    return NULL;
}

static int via_of(const struct crs_capture *c, size_t target)
{
    for (size_t i = 0; i < c->nepoll_vias; i++)
        if (c->epoll_vias[i].target == target)
            return c->epoll_vias[i].fd;
    return -1;
}

/* Whether an edge-triggered or one-shot watch of some epoll is on epoll
 * descriptor `ep` (or a dup of it). */
static int watched_edgewise(const struct crs_capture *c, int ep)
{
    for (size_t i = 0; i < c->nepoll_tgts; i++) {
        if (!edge_watch(&c->epoll_tgts[i]))
            continue;
        int via = via_of(c, i);
        const struct crs_rec_fd *f = fd_record(c, via >= 0 ? via : c->epoll_tgts[i].tfd);
        if (f && f->kind == CRS_FD_EPOLL && (f->fd == ep || f->dup_of == ep))
            return 1;
    }
    return 0;
}

/* Arms watch t of epoll ep again (its file is ready: the kernel queues it). */
static int arm_again(int ep, const struct crs_rec_epoll_tgt *t)
{
    struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
    if (!(t->events & EPOLLEXCLUSIVE))
        return epoll_ctl(ep, EPOLL_CTL_MOD, t->tfd, &ev);
    if (epoll_ctl(ep, EPOLL_CTL_DEL, t->tfd, NULL) != 0)
        return -1;
    return epoll_ctl(ep, EPOLL_CTL_ADD, t->tfd, &ev);
}

static int add_consumed(struct crs_capture *c, size_t target)
{
    if (c->nepoll_edges == c->epoll_edges_cap) {
        crs_capture_error(c, "more than %zu consumed epoll edges", c->epoll_edges_cap);
        return -E2BIG;
    }
    c->epoll_edges[c->nepoll_edges++] = (struct crs_rec_epoll_edge){ (uint32_t)target, CRS_EPOLL_EDGE_CONSUMED };
    return 0;
}

static int probe(struct crs_capture *c, int ep, const struct crs_rec_kfd *k, struct epoll_event *got,
                 uint8_t *reported)
{
    int n;
    do
        n = epoll_wait(ep, got, (int)k->count, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        crs_capture_error(c, "cannot read the ready list of epoll descriptor %d: %s", ep, strerror(errno));
        return -errno;
    }
    memset(reported, 0, k->count);
    int guessed = 0;
    for (int i = 0; i < n; i++) {
        /* the first watch not matched yet with this data, edge-triggered ones first (a
         * level-triggered one stays queued: which one it was does not matter) */
        uint32_t pick = k->count, shared = 0;
        for (int pass = 0; pass < 2 && pick == k->count; pass++)
            for (uint32_t w = 0; w < k->count; w++) {
                const struct crs_rec_epoll_tgt *t = &c->epoll_tgts[k->first + w];
                if (t->data != got[i].data.u64 || reported[w])
                    continue;
                shared++;
                if (pick == k->count && (pass || edge_watch(t)))
                    pick = w;
            }
        if (pick == k->count)
            continue;   /* a watch added since fdinfo was read: none is, the threads are parked */
        guessed |= shared > 1;
        reported[pick] = 1;
        const struct crs_rec_epoll_tgt *t = &c->epoll_tgts[k->first + pick];
        if (edge_watch(t) && arm_again(ep, t) != 0) {
            crs_capture_error(c, "cannot arm the watch of descriptor %d by epoll descriptor %d again after "
                              "reading its ready list: %s; the program may miss its event", t->tfd, ep,
                              strerror(errno));
            return -EIO;
        }
    }
    if (guessed)
        revive_log_info("epoll descriptor %d: watches that share one epoll_data value were told apart by order; "
                        "an edge-triggered one among them may report its edge once more after a restart", ep);
    for (uint32_t w = 0; w < k->count; w++) {
        const struct crs_rec_epoll_tgt *t = &c->epoll_tgts[k->first + w];
        int e;
        if (!reported[w] && (t->events & EDGE_WATCH) == EPOLLET && (e = add_consumed(c, k->first + w)))
            return e;
    }
    return 0;
}

int crs_capture_epoll_edges(struct crs_capture *c)
{
    if (!c->nepoll_tgts)
        return 0;
    c->epoll_edges_cap = c->nepoll_tgts;
    c->epoll_edges = crs_scratch_alloc(c->scratch, c->nepoll_tgts * sizeof *c->epoll_edges);
    struct epoll_event *got = crs_scratch_alloc(c->scratch, c->nepoll_tgts * sizeof *got);
    uint8_t *reported = crs_scratch_alloc(c->scratch, c->nepoll_tgts);
    if (!c->epoll_edges || !got || !reported) {
        crs_capture_error(c, "out of scratch memory for %zu epoll watches", c->nepoll_tgts);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nfds; i++) {
        const struct crs_rec_fd *r = &c->fds[i];
        if (r->kind != CRS_FD_EPOLL || r->dup_of >= 0)
            continue;
        const struct crs_rec_kfd *k = &c->kfds[r->memfd];
        int edges = 0, closed = 0;
        for (uint32_t w = 0; w < k->count; w++) {
            const struct crs_rec_epoll_tgt *t = &c->epoll_tgts[k->first + w];
            edges |= edge_watch(t);
            closed |= edge_watch(t) && via_of(c, k->first + w) >= 0;
        }
        if (!edges)
            continue;
        if (closed || watched_edgewise(c, r->fd)) {
            revive_log_info("epoll descriptor %d: not probed for consumed edges (%s); a ready edge-triggered "
                            "watch of it reports its edge after a restart", r->fd,
                            closed ? "an edge-triggered watch of a number closed since"
                                   : "another epoll watches it edge-triggered or one-shot");
            continue;
        }
        int e = probe(c, r->fd, k, got, reported);
        if (e)
            return e;
    }
    return 0;
}

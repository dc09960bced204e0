/* Puts epolls' ready lists back as a checkpoint found them, after steps of
 * Revive's own woke their files (epoll_settle.c). An edge-triggered watch
 * whose edge the program had consumed (its file still ready) is queued
 * again by any wake-up of its file, whether or not the file changed: a
 * signal sent to the process (libcr's park signal, the signals a restart
 * queues again) for a signalfd, libcr's filler event for an inotify whose
 * unread events wait in memory (base/inotify_saved.h), an inner epoll's
 * watch armed again for the epoll that watches it. A settle reads each
 * such epoll's ready list and arms every edge-triggered or one-shot watch
 * it took off again, except the consumed ones: the running original
 * (capture) and the restarted process (after_restart) see their edges as
 * before, and no edge the program already handled. */
#ifndef REVIVE_CRS_EPOLL_SETTLE_H
#define REVIVE_CRS_EPOLL_SETTLE_H

#include <stddef.h>
#include <stdint.h>

/* One watch of an epoll. A settle takes an array of them, each epoll's
 * watches together, epolls in the order to settle them: an epoll before
 * any epoll that watches it (arming its watches again wakes those). */
struct crs_epoll_settle_watch {
    int32_t epfd, tfd;
    uint32_t events;          /* as EPOLL_CTL_ADD had them */
    uint32_t flags;           /* CRS_EPS_* */
    uint64_t data;
};

#define CRS_EPS_CONSUMED 1u   /* edge consumed: left off the ready list */
#define CRS_EPS_REPORTED 2u   /* (capture) on the ready list at the probe */
#define CRS_EPS_READY 4u      /* (capture) its file ready at the probe */
#define CRS_EPS_VIA 8u        /* its number was closed since: cannot be armed again */
#define CRS_EPS_MATCHED 16u   /* (during a settle) taken for a returned event */
#define CRS_EPS_EARLY 32u     /* (capture) returned ahead of the marker (crs_epoll_take_ready_marked) */

/* Whether a watch is an armed edge-triggered or one-shot one: epoll_wait
 * takes those off the ready list (a fired one-shot keeps no event bits). */
int crs_epoll_edge_watch(uint32_t events);

/* Arms watch w of its epoll again (its file is ready: the kernel queues
 * it): EPOLL_CTL_MOD, or DEL and ADD for EPOLLEXCLUSIVE, which MOD refuses.
 * 0 or -1 with errno. */
int crs_epoll_arm_again(const struct crs_epoll_settle_watch *w);

/* Reads the ready list of the epoll whose n watches are w[0..n) and marks
 * the watch of each event it returned (CRS_EPS_MATCHED; watches sharing an
 * epoll_data value are told apart by the event's bits: the one whose file
 * is ready with them now, else one that watches them, edge-triggered ones
 * first, then by order);
 * `got` has room for n events. How many events it returned, or -1 with
 * errno. */
int crs_epoll_take_ready(struct crs_epoll_settle_watch *w, size_t n, void *got);

/* crs_epoll_take_ready, the epoll also holding a watch of data `mark` not
 * among w (capture_epoll_mark.c): `got` has room for n + 1 events; marks
 * CRS_EPS_EARLY every watch taken for an event returned ahead of the
 * marker's; *mark_seen: whether the marker's event came. */
int crs_epoll_take_ready_marked(struct crs_epoll_settle_watch *w, size_t n, void *got, uint64_t mark, int *mark_seen);

/* Settles every epoll of w[0..n) (see above); `got` has room for as many
 * events as the largest epoll has watches. 0, or -errno with a message in
 * err (the epoll and watch named). */
int crs_epoll_settle(struct crs_epoll_settle_watch *w, size_t n, void *got, char *err, size_t errlen);

#endif

/* What cr_restart hands to the restored process (every resumed thread gets a
 * pointer to it as the return value of its crs_ctx_save). */
#ifndef REVIVE_CRS_RESTART_INFO_H
#define REVIVE_CRS_RESTART_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRS_RESTART_MAGIC 0x5245564956455253ULL /* "SREVIVER" */
#define CRS_RESTART_MAX_UNMAP 64

struct crs_restart_info {
    uint64_t magic;
    int32_t old_pid, new_pid;
    uint32_t ids_changed;     /* 1 when the process runs under new pid/tids */
    uint32_t nunmap;
    /* cr_restart's own leftovers, to unmap once every thread has left them */
    struct { uint64_t start, len; } unmap[CRS_RESTART_MAX_UNMAP];
    /* the restarter's hand-off blob, inside one of the ranges above */
    uint64_t handoff, handoff_len;
    /* the image's POSIX timers (struct crs_rec_timer), likewise: the
     * checkpoint thread recreates them once every thread is back */
    uint64_t timers, ntimers;
    /* the pid the outside world (cr_checkpoint) knows the process by, when
     * its /proc is of its own pid namespace and cannot tell; else 0 */
    int32_t outer_pid;
    uint32_t pad;
    /* pidfds of the process's own threads (struct crs_restart_tpidfd),
     * likewise: opened once the threads are back */
    uint64_t tpidfds, ntpidfds;
    /* caps 1: every thread takes these capability sets as it is reinstated
     * (the image's CRS_PROC_F_CAPSET); keepcaps 1: the restart set
     * PR_SET_KEEPCAPS to take on the image's uids with them, which each
     * thread clears again */
    uint32_t caps, keepcaps;
    uint64_t cap_eff, cap_prm, cap_inh, cap_amb, cap_bnd;
    /* with caps: the threads whose sets differ (struct crs_rec_thread_caps,
     * by their tid in the image), likewise inside the ranges above */
    uint64_t tcaps, ntcaps;
    /* descriptors' I/O signal owners (struct crs_rec_fdown), likewise:
     * given again once the threads are back */
    uint64_t fdowns, nfdowns;
    /* the watches of the epolls with consumed edges (struct
     * crs_epoll_settle_watch), likewise: settled once every signal is
     * queued again and the inotify fillers made (epoll_settle.h), room for
     * as many struct epoll_event right behind them */
    uint64_t epsettle, nepsettle;
};

/* A pidfd of one of the process's own threads (PIDFD_THREAD): a thread
 * exists only once the restored process runs, so the restore leaves a
 * stand-in at the number and the checkpoint thread opens it then; or a dup
 * of one (dup_of >= 0); or an epoll's watch of one (epfd >= 0). */
struct crs_restart_tpidfd {
    int32_t fd;
    int32_t old_tid;          /* the thread it names, by its id in the image */
    int32_t dup_of;           /* -1, or the number it is a dup of */
    int32_t epfd;             /* -1, or an epoll that watches fd with events, data */
    uint32_t flags;           /* pidfd_open's: PIDFD_THREAD, O_NONBLOCK */
    uint32_t fd_flags;        /* FD_CLOEXEC */
    uint32_t events, pad;
    uint64_t data;
};

/* In the restored process, from its checkpoint thread while the others are
 * still parked (restore_pidfd.c): opens each over its stand-in, tid_now
 * giving a thread's id now. 0, or -errno with a message in err. */
int crs_thread_pidfds_open(const struct crs_restart_tpidfd *t, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                           size_t errlen);

struct crs_rec_fdown;
/* In the restored process, from its checkpoint thread once every thread is
 * back (restore_fdowners.c): each descriptor's owner (its own pid, a
 * thread's id now through tid_now, its process group now) and signal. 0,
 * or -errno with a message in err. */
int crs_fd_owners_restore(const struct crs_rec_fdown *o, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                          size_t errlen);

#endif

/* Unread inotify events a checkpoint took out of the kernel (issue 10, item
 * 6). An inotify's queue cannot be read without emptying it nor filled
 * again by hand, so a capture reads it out, keeps the events here (in the
 * process's memory, so the image holds them too) and libcr's interposed
 * read, readv, __read_chk and ioctl(FIONREAD) give them back first, in the
 * kernel's format, before anything the kernel queued since.
 *
 * While saved events wait, the descriptor must stay readable for poll,
 * select and epoll: a watch of ours (on /dev/null, for an event it never
 * has) is added and removed, which queues its IN_IGNORED in the kernel
 * behind everything the capture read. Events of
 * that number are never given to the program; while saved events remain
 * they are not read from the kernel, and once the saved ones are given out
 * they are read away. Its number is used up: a watch the program adds
 * afterwards gets one more than it would have (the kernel never hands
 * numbers out twice soon).
 *
 * Any thread. Each call blocks every signal while it holds the table, so
 * no thread is parked holding it, and never blocks in the kernel while it
 * holds it (a read there sets O_NONBLOCK on the file for its length). */
#ifndef REVIVE_CRS_INOTIFY_SAVED_H
#define REVIVE_CRS_INOTIFY_SAVED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Inotify descriptors with saved events at once, and the numbers (dups) of
 * one of them that read it. */
#define CRS_INOTIFY_SAVED_MAX 64
#define CRS_INOTIFY_SAVED_FDS 8

/* Non-zero while any descriptor has saved events or our watch's events
 * wait in its kernel queue. */
extern int crs_inotify_saved_active;

/* One bit per descriptor number below CRS_INOTIFY_SAVED_BITS that reads
 * such an inotify, so the interposed calls of every other descriptor stay
 * on the fast path (one or two loads) while one inotify keeps saved
 * events, even if the program never reads it again. */
#define CRS_INOTIFY_SAVED_BITS 4096
extern uint64_t crs_inotify_saved_fdbits[CRS_INOTIFY_SAVED_BITS / 64];

/* Non-zero when fd may read saved events: the interposed calls take the
 * slow path only then (numbers past the bits always do while any is
 * active). */
static inline int crs_inotify_saved_maybe(int fd)
{
    if (!__atomic_load_n(&crs_inotify_saved_active, __ATOMIC_ACQUIRE) || fd < 0)
        return 0;
    if (fd >= CRS_INOTIFY_SAVED_BITS)
        return 1;
    return (int)((__atomic_load_n(&crs_inotify_saved_fdbits[fd / 64], __ATOMIC_ACQUIRE) >> (fd % 64)) & 1);
}

/* Capture (other threads parked): reads the queue of every inotify
 * descriptor of the process (except those `skip` says no to) into saved
 * events and keeps each readable as above. Must run before the memory map
 * is read, so the buffers are in the image. Returns 0, or -errno with a
 * message in err. */
int crs_inotify_saved_capture(int (*skip)(int fd), char *err, size_t errlen);

/* Saved events of descriptor fd: their number and bytes (0 when none). */
void crs_inotify_saved_count(int fd, uint64_t *events, uint64_t *bytes);

/* In the restarted process before its other threads run: the descriptors
 * are new inotifies with their watches and an empty queue (the restore's
 * fillers read away): each with saved events is made readable again.
 * Returns 0 or -errno with a message in err. */
int crs_inotify_saved_restarted(char *err, size_t errlen);

/* The interposed calls' slow path: `real_read` is libc's read. */
ssize_t crs_inotify_saved_read(int fd, void *buf, size_t n, ssize_t (*real_read)(int, void *, size_t));
ssize_t crs_inotify_saved_readv(int fd, const struct iovec *iov, int iovcnt,
                                ssize_t (*real_read)(int, void *, size_t));
/* After libc's read of fd returned r > 0 into buf (a thread was blocked in
 * it when a capture came): the same as a read through the slow path. */
ssize_t crs_inotify_saved_after_read(int fd, void *buf, size_t n, ssize_t r,
                                     ssize_t (*real_read)(int, void *, size_t));
/* FIONREAD of fd with saved events: 1 and *bytes set; 0 when fd has none. */
int crs_inotify_saved_fionread(int fd, int *bytes);

/* The program made newfd a copy of oldfd (dup, dup2, dup3, fcntl
 * F_DUPFD*): it reads the same saved events (up to CRS_INOTIFY_SAVED_FDS
 * numbers; a copy past them reads only the kernel's queue). */
void crs_inotify_saved_dup(int oldfd, int newfd);

/* The program closed descriptor fd (close, dup2/dup3 onto it, close_range):
 * its saved events go with it once no number of that inotify is left. */
void crs_inotify_saved_closed(int fd);
void crs_inotify_saved_closed_range(unsigned first, unsigned last);

#endif

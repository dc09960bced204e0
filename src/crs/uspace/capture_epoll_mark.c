/* The marker that tells a signalfd's waiting edge-triggered edge from a
 * consumed one (capture.h: crs_capture_epoll_mark; capture_epoll_edges.c).
 *
 * Every signal sent to the process wakes every signalfd, whatever its mask
 * (the kernel's signalfd_notify), so libcr's park signal queues every
 * edge-triggered signalfd watch onto its epoll's ready list (ep_poll_callback
 * appends a watch not on the list yet at the list's tail, and leaves one on
 * it where it is). Read after the park, a ready list holds the signalfd
 * whose edge waited (on the list before) and the one whose edge the program
 * consumed (put back by the park signal) alike. Their order tells them apart:
 * before parking, each epoll with such a watch gets one more watch, of a
 * signalfd of ours (the marker) whose mask holds one signal, `mark_sig`, that
 * no signalfd of the process has and that only the checkpoint thread, which
 * blocks it, ever has pending. The kernel wakes the waiters of a signalfd
 * newest first (add_wait_queue puts a waiter at the head), so at the first
 * signal after the marker's EPOLL_CTL_ADD the marker goes on each ready list
 * before every signalfd watch that signal puts on it: a signalfd watch ahead
 * of the marker was on the list already, its edge waiting. The probe (in the
 * checkpoint thread, threads parked) raises mark_sig on its own thread, which
 * makes the marker ready for its epoll_wait only (a signalfd reports the
 * reader's own pending signals): the program's threads never see it, and their
 * epoll_wait drops it off a ready list as a watch not ready, together with
 * every edge it takes; the raise puts it back, behind the watches already
 * there. Not told apart: a signal in a program's signalfd mask that came
 * between the marker's EPOLL_CTL_ADD and the park (a moment), which is taken
 * as consumed as before. The marker is closed (which takes it off every
 * epoll), and mark_sig taken off the thread, before any descriptor is
 * captured.
 *
 * A fork between the marker's making and the park (the program's threads
 * still run) would give the child a copy of the marker: the file would
 * outlive the checkpoint thread's close, stay a watch in the program's
 * epolls (shared with the child) and be captured as one of the program's,
 * and the child would hold a descriptor it does not know (diffrev24 G-L1).
 * A child handler of pthread_atfork closes it in the child (O_CLOEXEC acts
 * on exec only). Left: a fork by the raw system call (no handlers), and the
 * moment between a fork and its child's handler, in which the parent's
 * capture may still see the watch; a signalfd's inode is the anonymous
 * inode all of them share, so the watch cannot be told by it afterwards. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"
#include "crs/base/capture_filter.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MARK_EPOLLS 256

static int mark_fd = -1, mark_sig;
static ino_t mark_ino;
static sigset_t saved_mask;

struct mark_scan {
    uint64_t masks;   /* the signals of every signalfd of the process */
    int epfds[MARK_EPOLLS];
    size_t n;
    char info[65536];
};

static struct mark_scan scan;

static long read_info(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    return revive_read_file(path, scan.info, sizeof scan.info);
}

/* Whether epoll fd (its fdinfo in scan.info) watches a signalfd edge-triggered (not one-shot). */
static int watches_signalfd_et(void)
{
    for (const char *p = scan.info; (p = strstr(p, "tfd:")) != NULL;) {
        char *end;
        long tfd = strtol(p + 4, &end, 10);
        const char *ev = strstr(end, "events:");
        if (!ev)
            return 0;
        unsigned long events = strtoul(ev + 7, &end, 16);
        p = end;
        if ((events & (EPOLLET | EPOLLONESHOT)) == EPOLLET && crs_fd_link_is((int)tfd, "anon_inode:[signalfd]"))
            return 1;
    }
    return 0;
}

static long scan_one(long n, int dirfd, void *arg)
{
    (void)arg;
    int fd = (int)n;
    if (fd == dirfd || crs_capture_filter_fd(fd))
        return 0;
    if (crs_fd_link_is(fd, "anon_inode:[signalfd]")) {
        const char *p;
        uint64_t m;
        if (read_info(fd) > 0 && (p = strstr(scan.info, "sigmask:")) != NULL) {
            p += 8;
            while (*p == ' ' || *p == '\t')
                p++;
            if (revive_parse_x64(&p, &m) == 0)
                scan.masks |= m;
        }
    } else if (crs_fd_link_is(fd, "anon_inode:[eventpoll]") && scan.n < MARK_EPOLLS && read_info(fd) > 0 &&
               watches_signalfd_et()) {
        scan.epfds[scan.n++] = fd;
    }
    return 0;
}

/* In a child forked while the marker is open: not its descriptor (its
 * threads' masks are the forking thread's, which never blocked mark_sig). */
static void mark_forked_child(void)
{
    if (mark_fd >= 0)
        close(mark_fd);
    mark_fd = -1;
    mark_sig = 0;
}

static void register_forked_child(void)
{
    pthread_atfork(NULL, NULL, mark_forked_child);
}

void crs_capture_epoll_mark(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    crs_capture_epoll_unmark();
    scan.masks = 0;
    scan.n = 0;
    if (revive_proc_for_each_number("/proc/self/fd", scan_one, NULL) < 0 || !scan.n)
        return;
    sigset_t pend;
    sigpending(&pend);
    int park = crs_park_signal();
    for (int s = 64; s > 34 && !mark_sig; s--)   /* a real-time signal glibc does not keep for itself */
        if (!(scan.masks & (1ull << (s - 1))) && s != park && !sigismember(&pend, s))
            mark_sig = s;
    if (!mark_sig)
        return;
    pthread_once(&once, register_forked_child);   /* the program's threads still run: no lock is held parked */
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, mark_sig);
    struct stat st;
    if (pthread_sigmask(SIG_BLOCK, &m, &saved_mask) != 0) {
        mark_sig = 0;
        return;
    }
    mark_fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    if (mark_fd < 0 || fstat(mark_fd, &st) != 0) {
        revive_log_info("no marker for the epolls' signalfd watches (%s): a ready edge-triggered signalfd watch is "
                        "taken as consumed", strerror(errno));
        crs_capture_epoll_unmark();
        return;
    }
    mark_ino = st.st_ino;
    for (size_t i = 0; i < scan.n; i++) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = CRS_EPOLL_MARK_DATA };
        epoll_ctl(scan.epfds[i], EPOLL_CTL_ADD, mark_fd, &ev);   /* EEXIST: a dup of one marked */
    }
    if (revive_fault(REVIVE_FAULT_capture_mark_late)) {
        /* the window the program's threads run in with the marker open, made wide (crs_markfork.sh) */
        struct timespec ts = { 1, 0 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

int crs_capture_epoll_mark_is(int tfd, uint64_t ino)
{
    return mark_fd >= 0 && tfd == mark_fd && (ino_t)ino == mark_ino;
}

void crs_capture_epoll_mark_raise(void)
{
    if (mark_fd >= 0)
        syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), (pid_t)syscall(SYS_gettid), mark_sig);
}

void crs_capture_epoll_unmark(void)
{
    if (!mark_sig)
        return;
    if (mark_fd >= 0)
        close(mark_fd);   /* off every epoll with it */
    mark_fd = -1;
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, mark_sig);
    const struct timespec zero = { 0, 0 };
    while (sigtimedwait(&m, NULL, &zero) == mark_sig)
        ;
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    mark_sig = 0;
}

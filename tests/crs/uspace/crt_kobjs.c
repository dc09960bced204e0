/*
 * State test: kernel objects made by a system call (issue 10, point 6):
 *   efd   eventfd, semaphore, count 5
 *   big   eventfd, non-blocking, count 2^40 + 3 (more than eventfd() takes)
 *   tfd   timerfd every 50 ms, one expiration unread at each point
 *   idle  timerfd never armed
 *   sfd   signalfd for SIGUSR1 (blocked), with one SIGUSR1 pending
 *   ep    epoll watching efd (edge-triggered, data 0x1234), a pipe's read
 *         end (data = its fd), sfd, and inner, another epoll that watches
 *         the pipe too; a one-shot watch of big that fired already; with
 *         a dup of it (ep_dup: the same open file after the restart too)
 *   cep   epoll watching two eventfds under numbers closed since (their
 *         files kept under other numbers; one number taken by /dev/null)
 *   ino   inotify watching two folders of its own (watch 1 and 3: watch 2
 *         was removed); a file made there must give an event with the
 *         watch's number
 * After each point every count, time, mask, watch and their data must be as
 * before. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int efd, big, tfd, idle, sfd, ep, ep_dup, inner, ino, pfd[2], wd1, wd3;
static const uint64_t big_count = (1ull << 40) + 3;
static int round_no;

static void setup(void)
{
    efd = eventfd(5, EFD_SEMAPHORE);
    big = eventfd(0, EFD_NONBLOCK);
    tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    idle = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, NULL);
    sfd = signalfd(-1, &m, SFD_NONBLOCK);
    ep = epoll_create1(EPOLL_CLOEXEC);
    ep_dup = dup(ep);
    inner = epoll_create1(0);
    ino = inotify_init1(IN_NONBLOCK);
    if (efd < 0 || big < 0 || tfd < 0 || idle < 0 || sfd < 0 || ep < 0 || ep_dup < 0 || inner < 0 || ino < 0 || pipe(pfd))
        crt_die("making the objects: %s", strerror(errno));
    if (write(big, &big_count, 8) != 8)
        crt_die("eventfd write: %s", strerror(errno));
    struct itimerspec its = { { 0, 50000000 }, { 0, 50000000 } };
    timerfd_settime(tfd, 0, &its, NULL);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0x1234 };
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = pfd[0] };
    epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
    epoll_ctl(inner, EPOLL_CTL_ADD, pfd[0], &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x5f };
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x1e };
    epoll_ctl(ep, EPOLL_CTL_ADD, inner, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0xb1 };
    epoll_ctl(ep, EPOLL_CTL_ADD, big, &ev);
    struct epoll_event got[8];
    epoll_wait(ep, got, 8, 0);   /* the one-shot fires (so do the others: efd's edge is used up) */
    mkdir("watched1", 0700);
    mkdir("watched2", 0700);
    mkdir("watched3", 0700);
    wd1 = inotify_add_watch(ino, "watched1", IN_CREATE);
    int wd2 = inotify_add_watch(ino, "watched2", IN_CREATE);
    wd3 = inotify_add_watch(ino, "watched3", IN_CREATE | IN_DELETE);
    inotify_rm_watch(ino, wd2);
    char buf[4096];
    while (read(ino, buf, sizeof buf) > 0)   /* IN_IGNORED of watch 2 */
        ;
}

/* Reads epoll's ready list: a bit per data value seen. */
static unsigned ready(int timeout_ms)
{
    struct epoll_event got[8];
    int n = epoll_wait(ep, got, 8, timeout_ms);
    unsigned seen = 0;
    for (int i = 0; i < n; i++) {
        uint64_t d = got[i].data.u64;
        seen |= d == 0x1234 ? 1 : d == (uint64_t)pfd[0] ? 2 : d == 0x5f ? 4 : d == 0x1e ? 8 : d == 0xb1 ? 16 : 32;
    }
    return seen;
}

static void check(const char *when)
{
    char name[128];
    uint64_t v = 0;
#define CHECK(what, cond, ...)                             \
    do {                                                   \
        snprintf(name, sizeof name, "%s %s", what, when); \
        crt_check(name, cond, __VA_ARGS__);                \
    } while (0)

    pid_t me = getpid();
    long same = syscall(SYS_kcmp, me, me, 0 /* KCMP_FILE */, ep, ep_dup);
    CHECK("epoll: its dup is the same open file", same == 0, "kcmp gave %ld", same);
    /* before anything is read: the pipe gets a byte, SIGUSR1 is pending */
    unsigned seen = ready(0);
    /* efd is readable: a restart registers it anew, which may report its edge once more */
    CHECK("epoll: nothing ready (the one-shot fired, the pipe empty)", (seen & ~1u) == 0, "seen 0x%x", seen);
    if (write(pfd[1], "x", 1) != 1)
        crt_die("write: %s", strerror(errno));
    kill(getpid(), SIGUSR1);
    seen = ready(1000);
    CHECK("epoll: the pipe (data = its fd), the signalfd (0x5f) and the inner epoll (0x1e) ready",
          seen == (2 | 4 | 8), "seen 0x%x", seen);
    char c;
    if (read(pfd[0], &c, 1) != 1)
        crt_die("read: %s", strerror(errno));
    uint64_t one = 1;
    if (write(efd, &one, 8) != 8)
        crt_die("write efd: %s", strerror(errno));
    seen = ready(1000);
    CHECK("epoll: efd edge-triggered with data 0x1234", (seen & 1) != 0, "seen 0x%x", seen);

    /* counts: the semaphore gives 1 per read, 5 + 1 of them */
    int n = 0;
    while (n < 10 && read(efd, &v, 8) == 8 && v == 1) {
        n++;
        if (n == 6)
            break;
    }
    CHECK("eventfd (semaphore): 6 reads of 1 (5 and the 1 just added)", n == 6, "%d", n);
    for (int i = 0; i < 5; i++)   /* back to 5 */
        if (write(efd, &one, 8) != 8)
            crt_die("write efd");
    v = 0;
    CHECK("eventfd (non-blocking): count 2^40 + 3", read(big, &v, 8) == 8 && v == big_count, "%llu",
          (unsigned long long)v);
    if (write(big, &big_count, 8) != 8)
        crt_die("write big");

    struct itimerspec its;
    timerfd_gettime(tfd, &its);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec) {
        /* at an expiry whose timer interrupt has not run yet the kernel says 0 left (timerfd's
         * remaining time, never negative): an armed timer says more a moment later (kern31: the
         * original of the cont flavour failed so once under load) */
        crt_sleep_ms(2);
        timerfd_gettime(tfd, &its);
    }
    CHECK("timerfd: armed every 50 ms", its.it_interval.tv_nsec == 50000000 && its.it_interval.tv_sec == 0 &&
          (its.it_value.tv_sec || its.it_value.tv_nsec), "%ld.%09ld", (long)its.it_interval.tv_sec, its.it_interval.tv_nsec);
    v = 0;
    CHECK("timerfd: expirations to read", read(tfd, &v, 8) == 8 && v >= 1, "%llu", (unsigned long long)v);
    timerfd_gettime(idle, &its);
    CHECK("timerfd never armed: disarmed, non-blocking",
          !its.it_value.tv_sec && !its.it_value.tv_nsec && read(idle, &v, 8) < 0 && errno == EAGAIN, "no");

    struct signalfd_siginfo si;
    ssize_t r = read(sfd, &si, sizeof si);
    CHECK("signalfd: SIGUSR1 read from it", r == sizeof si && si.ssi_signo == SIGUSR1, "read %zd", r);
    sigset_t pend;
    sigpending(&pend);
    CHECK("signalfd: nothing else pending", !sigismember(&pend, SIGUSR1), "SIGUSR1 still pending");

    char f[64], buf[4096];
    snprintf(f, sizeof f, "watched3/f%d", round_no);
    unlink(f);   /* a second restart of one image runs in the same folder */
    int t = open(f, O_CREAT | O_WRONLY, 0600);
    if (t >= 0)
        close(t);
    snprintf(f, sizeof f, "watched1/f%d", round_no++);
    unlink(f);
    t = open(f, O_CREAT | O_WRONLY, 0600);
    if (t >= 0)
        close(t);
    crt_sleep_ms(50);
    int got3 = 0, got1 = 0;
    ssize_t len = read(ino, buf, sizeof buf);
    for (ssize_t off = 0; off < len;) {
        const struct inotify_event *e = (const struct inotify_event *)(buf + off);
        got3 += e->wd == wd3 && (e->mask & IN_CREATE);
        got1 += e->wd == wd1 && (e->mask & IN_CREATE);
        off += (ssize_t)sizeof *e + e->len;
    }
    CHECK("inotify: watches 1 and 3 (2 removed) report a new file each", wd1 == 1 && wd3 == 3 && got1 == 1 && got3 == 1,
          "wd %d and %d; events %d and %d", wd1, wd3, got1, got3);
    /* the one-shot stays fired; efd's edge used up again */
    ready(0);
#undef CHECK
}

/* cep: an epoll whose watches outlived their descriptor numbers: eventfd
 * A was watched (data 0xa), kept under another number (dup) and its
 * number closed and taken again by /dev/null; eventfd B likewise (data
 * 0xb), its number left free. The kernel watches each file under its old
 * number: events come, the numbers stay as they are, and EPOLL_CTL_ADD of
 * the kept number is a new watch. */
static int cep, keep_a, keep_b, num_a, num_b;

static void setup_closed(void)
{
    cep = epoll_create1(EPOLL_CLOEXEC);
    num_a = eventfd(0, EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xa };
    if (cep < 0 || num_a < 0 || epoll_ctl(cep, EPOLL_CTL_ADD, num_a, &ev))
        crt_die("epoll of A: %s", strerror(errno));
    keep_a = dup(num_a);
    close(num_a);
    if (open("/dev/null", O_RDONLY) != num_a)
        crt_die("/dev/null did not take number %d", num_a);
    num_b = eventfd(0, EFD_NONBLOCK);
    ev.data.u64 = 0xb;
    if (num_b < 0 || epoll_ctl(cep, EPOLL_CTL_ADD, num_b, &ev))
        crt_die("epoll of B: %s", strerror(errno));
    keep_b = fcntl(num_b, F_DUPFD, 100);
    close(num_b);
}

static void check_closed(const char *when)
{
    char name[160];
    uint64_t one = 1, v;
    for (int k = 0; k < 2; k++) {
        int fd = k ? keep_b : keep_a;
        struct epoll_event got[4];
        int n = write(fd, &one, 8) == 8 ? epoll_wait(cep, got, 4, 1000) : -1;
        snprintf(name, sizeof name, "epoll watch of closed number %d (%c) %s: its event comes", k ? num_b : num_a,
                 k ? 'B' : 'A', when);
        crt_check(name, n == 1 && got[0].data.u64 == (k ? 0xbu : 0xau), "epoll_wait %d, data 0x%llx", n,
                  n > 0 ? (unsigned long long)got[0].data.u64 : 0ull);
        if (read(fd, &v, 8) != 8)
            crt_die("read: %s", strerror(errno));
    }
    struct stat st;
    snprintf(name, sizeof name, "number %d is still /dev/null %s", num_a, when);
    crt_check(name, fstat(num_a, &st) == 0 && S_ISCHR(st.st_mode), "fstat: %s", strerror(errno));
    snprintf(name, sizeof name, "number %d is still closed %s", num_b, when);
    crt_check(name, fcntl(num_b, F_GETFD) < 0 && errno == EBADF, "F_GETFD: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xbb };
    int added = epoll_ctl(cep, EPOLL_CTL_ADD, keep_b, &ev);
    snprintf(name, sizeof name, "EPOLL_CTL_ADD of the kept number %s is a new watch", when);
    crt_check(name, added == 0, "%s", strerror(errno));
    if (added == 0)
        epoll_ctl(cep, EPOLL_CTL_DEL, keep_b, NULL);
}

static void check_all(const char *when)
{
    check(when);
    check_closed(when);
}

int main(void)
{
    setup();
    setup_closed();
    crt_say("eventfds, timerfds, a signalfd, three epolls and an inotify made");
    crt_check_around_points(check_all);
}

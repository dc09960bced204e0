/*
 * State test: edge-triggered and one-shot epoll watches keep what the
 * program consumed (review HIGH-5: a restart re-added every watch, so a
 * consumed edge was reported again and a fired one-shot fired again).
 * One epoll, ep, watches:
 *   A  a Unix stream socket, EPOLLET: two bytes came, epoll_wait reported
 *      them, the program read one (an ET server keeping its own "readable"
 *      flag): its edge is consumed, a byte stays queued, more each round
 *   B  a pipe, EPOLLET, a byte written and not yet waited for: edge waiting
 *   C  a pipe, EPOLLONESHOT, fired and never armed again, data queued
 *   D  a pipe, EPOLLONESHOT, armed with a byte waiting: it fires
 *   E  a pipe, level-triggered, a byte in it: reported every time
 *   F  an eventfd, EPOLLET | EPOLLEXCLUSIVE, edge waiting (MOD is refused
 *      for EPOLLEXCLUSIVE)
 *   in2  another epoll (level-triggered), which watches H, a pipe, EPOLLET
 *      with its edge consumed and a byte queued: in2 is not ready
 *   I  a signalfd (SIGUSR2, SIGWINCH), EPOLLET, edge consumed with SIGWINCH
 *      pending (review HIGH-C: the restart's queued signals, and any signal
 *      sent to the process, woke it: the edge came again)
 *   J  an inotify (IN_CREATE of a folder), EPOLLET, edge consumed with its
 *      events unread (review HIGH-C: libcr's filler event, which keeps an
 *      inotify readable while its events wait in memory, made a new edge,
 *      in the original after --cont too)
 *   N  a pipe, EPOLLET, never written: not ready, so its edge is not
 *      "consumed" (crs_epollet.sh checks cr_info; review LOW)
 * and a second epoll, out, watches two inner epolls edge-triggered (review
 * HIGH-1: the consumed edges of nested epolls came again):
 *   K  in3, edge consumed; in3 is ready through a level-triggered pipe (K3)
 *      and watches a pipe EPOLLET with its edge consumed (K2)
 *   L  in4, its edge waiting: in4 watches a pipe level-triggered (L2)
 * and two epolls, sd1 and sd2, each watching two pipes with one data value (issue 10: such
 * watches were told apart by order): SW, a pipe's write end, EPOLLOUT | EPOLLET, its edge
 * consumed (the pipe stays writable), and SR, another pipe's read end, EPOLLIN | EPOLLET, its
 * edge waiting; sd1 registered SW first, sd2 SR first. The probe's event (EPOLLIN) was taken
 * for SW in sd1: SR's edge was recorded consumed, SW armed again, and the original and the
 * restart reported EPOLLOUT. Each must report exactly one event, EPOLLIN, then nothing.
 * and an epoll ew watching W, a signalfd (SIGUSR1), EPOLLET, its edge
 * waiting: SIGUSR1 came after every epoll_wait on ew (issue 10: the park
 * signal put every ready signalfd on its ready list, so each was taken as
 * consumed, and the restarted program never saw its signal); ew must report
 * W once, then nothing.
 * At each check ep must report exactly B, D, E and F, then only E; out
 * exactly L, in3 only K3, in4 L2; a new byte for A, C and H, a new signal
 * for I, a new file for J, a byte for K2's pipe make A, E, in2, I and J ready
 * (not C), in2 reports H, out K (in3's new edge) and in3 K2 and K3; then the
 * edges are made to wait again as before. Contract: crt_common.h.
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
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { A = 1, B = 2, C = 4, D = 8, E = 16, F = 32, IN2 = 64, H = 128, I = 0x200, J = 0x400, N = 0x800 };
enum { K = 0x1000, L = 0x2000, K2 = 0x4000, K3 = 0x8000, L2 = 0x10000 };
enum { SHARED = 0x20000, W = 0x40000 };

#define DIR "epollet.dir"

static int ep, in2, sa[2], pb[2], pc[2], pd[2], pe[2], ph[2], pn[2], efd, sfd, ino;
static int out, in3, in4, pk[2], pk3[2], pl[2];
static int sd[2], psw[2][2], psr[2][2];
static int ew, sfw;
static int files;
/* 0 with the argument "noinotify": no inotify (J), for the flavour busy,
 * where the original and the restart would see each other's files */
static int with_inotify = 1;
/* 0 with the argument "nosignalfd": no signalfd (I), for the flavour stop,
 * whose SIGSTOP and SIGCONT wake every signalfd (a new edge, as they would
 * in a run never checkpointed) */
static int with_signalfd = 1;

/* A new IN_CREATE for ino; the folder is left as it was (a restart of one
 * image twice sees the same). */
static void new_file(void)
{
    if (!with_inotify)
        return;
    char f[64];
    snprintf(f, sizeof f, DIR "/f%d", files++);
    int t = open(f, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (t < 0 || close(t) || unlink(f))
        crt_die("making %s: %s", f, strerror(errno));
}

static void put(int fd)
{
    if (write(fd, "x", 1) != 1)
        crt_die("write: %s", strerror(errno));
}

static void watch(int epfd, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = { .events = events, .data.u64 = data };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        crt_die("epoll_ctl ADD %d: %s", fd, strerror(errno));
}

/* The watches an epoll reports now: their data bits, or'ed (a bit twice: 0x100). */
static unsigned ready(int epfd)
{
    struct epoll_event got[16];
    int n;
    while ((n = epoll_wait(epfd, got, 16, 0)) < 0 && errno == EINTR)
        ;
    unsigned seen = 0;
    for (int i = 0; i < n; i++) {
        if (seen & got[i].data.u32)
            seen |= 0x100;
        seen |= got[i].data.u32;
    }
    return seen;
}

/* The events epfd reports now, or'ed; 0x80000000 with more than one event. */
static unsigned events_now(int epfd)
{
    struct epoll_event got[4];
    int n;
    while ((n = epoll_wait(epfd, got, 4, 0)) < 0 && errno == EINTR)
        ;
    unsigned seen = n > 1 ? 0x80000000u : 0;
    for (int i = 0; i < n; i++)
        seen |= got[i].events | (got[i].data.u64 == SHARED ? 0 : 0x40000000u);
    return seen;
}

/* sd1 and sd2: one data value for two watches, in both orders (issue 10) */
static void setup_shared(void)
{
    for (int k = 0; k < 2; k++) {
        if ((sd[k] = epoll_create1(0)) < 0 || pipe(psw[k]) || pipe(psr[k]))
            crt_die("making the epolls of shared data: %s", strerror(errno));
        for (int o = 0; o < 2; o++) {
            if (o == k)
                watch(sd[k], psw[k][1], EPOLLOUT | EPOLLET, SHARED);
            else
                watch(sd[k], psr[k][0], EPOLLIN | EPOLLET, SHARED);
        }
        unsigned seen = events_now(sd[k]);
        if (seen != EPOLLOUT)
            crt_die("setup: epoll sd%d reported events 0x%x, expected EPOLLOUT", k + 1, seen);
        put(psr[k][1]);   /* SR's edge waits */
    }
}

/* out, in3, in4 (HIGH-1) */
static void setup_nested(void)
{
    out = epoll_create1(0);
    in3 = epoll_create1(0);
    in4 = epoll_create1(0);
    if (out < 0 || in3 < 0 || in4 < 0 || pipe(pk) || pipe(pk3) || pipe(pl))
        crt_die("making the nested epolls: %s", strerror(errno));
    watch(in3, pk[0], EPOLLIN | EPOLLET, K2);
    watch(in3, pk3[0], EPOLLIN, K3);
    watch(in4, pl[0], EPOLLIN, L2);
    watch(out, in3, EPOLLIN | EPOLLET, K);
    watch(out, in4, EPOLLIN | EPOLLET, L);
    put(pk[1]);
    put(pk3[1]);
    unsigned seen = ready(in3), seen_out = ready(out);
    if (seen != (K2 | K3) || seen_out != K)
        crt_die("setup: in3 reported 0x%x, out 0x%x", seen, seen_out);
    put(pl[1]);   /* in4's edge waits */
}

static void setup(void)
{
    if (mkdir(DIR, 0700) != 0 && errno != EEXIST)
        crt_die("mkdir %s: %s", DIR, strerror(errno));
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    sigaddset(&m, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &m, NULL) != 0 || (with_signalfd && (sfd = signalfd(-1, &m, SFD_NONBLOCK)) < 0) ||
        (with_inotify && ((ino = inotify_init1(IN_NONBLOCK)) < 0 || inotify_add_watch(ino, DIR, IN_CREATE) < 0)))
        crt_die("making the signalfd and the inotify: %s", strerror(errno));
    if (with_signalfd) {
        sigset_t m1;
        sigemptyset(&m1);
        sigaddset(&m1, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &m1, NULL) != 0 || (sfw = signalfd(-1, &m1, SFD_NONBLOCK)) < 0 ||
            (ew = epoll_create1(0)) < 0)
            crt_die("making the signalfd W and its epoll: %s", strerror(errno));
        watch(ew, sfw, EPOLLIN | EPOLLET, W);
    }
    ep = epoll_create1(0);
    in2 = epoll_create1(EPOLL_CLOEXEC);
    efd = eventfd(0, EFD_NONBLOCK);
    if (ep < 0 || in2 < 0 || efd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sa) || pipe(pb) || pipe(pc) ||
        pipe(pd) || pipe(pe) || pipe(ph) || pipe(pn))
        crt_die("making the objects: %s", strerror(errno));
    watch(ep, sa[0], EPOLLIN | EPOLLET, A);
    watch(ep, pc[0], EPOLLIN | EPOLLONESHOT, C);
    watch(in2, ph[0], EPOLLIN | EPOLLET, H);
    watch(ep, in2, EPOLLIN, IN2);
    if (with_signalfd)
        watch(ep, sfd, EPOLLIN | EPOLLET, I);
    if (with_inotify)
        watch(ep, ino, EPOLLIN | EPOLLET, J);
    watch(ep, pn[0], EPOLLIN | EPOLLET, N);
    if (write(sa[1], "xy", 2) != 2)
        crt_die("write: %s", strerror(errno));
    put(pc[1]);
    put(ph[1]);
    /* queued with sigqueue (SI_QUEUE): one sent with kill(2) is queued
     * again by the main thread as it leaves its park after a checkpoint
     * that lets the process go on, which wakes the signalfd once more
     * (capture_epoll_edges.c) */
    if (sigqueue(getpid(), SIGWINCH, (union sigval){ .sival_int = 7 }) != 0 ||
        (with_signalfd && sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 8 }) != 0))
        crt_die("sigqueue: %s", strerror(errno));   /* SIGUSR1: W's edge waits, never waited for */
    new_file();
    unsigned seen = ready(ep);
    if (seen != (A | C | IN2 | (with_signalfd ? I : 0) | (with_inotify ? J : 0)) || ready(in2) != H)
        crt_die("setup: epoll reported 0x%x", seen);
    char c;
    if (read(sa[0], &c, 1) != 1)   /* one of the two: the other stays queued */
        crt_die("read: %s", strerror(errno));
    watch(ep, pb[0], EPOLLIN | EPOLLET, B);
    watch(ep, pd[0], EPOLLIN | EPOLLONESHOT, D);
    watch(ep, pe[0], EPOLLIN, E);
    watch(ep, efd, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, F);
    put(pb[1]);
    put(pd[1]);
    put(pe[1]);
    uint64_t one = 1;
    if (write(efd, &one, 8) != 8)
        crt_die("eventfd write: %s", strerror(errno));
    setup_nested();
    setup_shared();
}

static void check(const char *when)
{
    static int round;
    char name[320];
    round++;
#define CHECK_SEEN(what, got, want)                                              \
    do {                                                                         \
        unsigned g_ = (got);                                                     \
        snprintf(name, sizeof name, "%s %s", what, when);                        \
        crt_check(name, g_ == (unsigned)(want), "seen 0x%x, expected 0x%x", g_, \
                  (unsigned)(want));                                             \
    } while (0)

    CHECK_SEEN("epoll: the waiting edges (B, F), the armed one-shot (D) and the level-triggered pipe (E); "
               "not the consumed edges (A, the signalfd I, the inotify J) nor the fired one-shot (C)",
               ready(ep), B | D | E | F);
    CHECK_SEEN("inner epoll: its consumed edge (H) not reported", ready(in2), 0);
    CHECK_SEEN("epoll read again: only the level-triggered pipe", ready(ep), E);
    CHECK_SEEN("outer epoll: in4's waiting edge (L), not in3's consumed one (K)", ready(out), L);
    CHECK_SEEN("nested epoll in3: its level-triggered pipe (K3), not its consumed edge (K2)", ready(in3), K3);
    CHECK_SEEN("nested epoll in4: its level-triggered pipe (L2)", ready(in4), L2);
    CHECK_SEEN("outer epoll read again: nothing", ready(out), 0);
    CHECK_SEEN("epoll sd1 (data shared, the consumed EPOLLOUT watch first): one event, EPOLLIN, the waiting "
               "edge", events_now(sd[0]), EPOLLIN);
    CHECK_SEEN("epoll sd2 (data shared, the waiting EPOLLIN watch first): one event, EPOLLIN", events_now(sd[1]),
               EPOLLIN);
    CHECK_SEEN("epolls sd1 and sd2 read again: nothing", events_now(sd[0]) | events_now(sd[1]), 0);
    if (with_signalfd) {
        CHECK_SEEN("epoll ew: the signalfd W's waiting edge (SIGUSR1 came after the last epoll_wait), once",
                   ready(ew), W);
        CHECK_SEEN("epoll ew read again: nothing", ready(ew), 0);
        struct signalfd_siginfo wi;
        ssize_t wr = read(sfw, &wi, sizeof wi);
        snprintf(name, sizeof name, "signalfd W: SIGUSR1 read %s", when);
        crt_check(name, wr == (ssize_t)sizeof wi && wi.ssi_signo == SIGUSR1, "read %zd, signal %d", wr,
                  wr == (ssize_t)sizeof wi ? (int)wi.ssi_signo : 0);
        /* W's edge waits again for the next check (before SIGUSR2 below, whose wake-up of I
         * the epoll_wait after it consumes) */
        if (sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 8 }) != 0)
            crt_die("sigqueue: %s", strerror(errno));
    }
    int unread = -1;
    if (with_inotify)
        ioctl(ino, FIONREAD, &unread);
    else
        unread = 0;
    snprintf(name, sizeof name, "inotify: its events stay unread (32 bytes each) %s", when);
    CRT_CHECK_U64(name, unread, 32 * files);
    put(sa[1]);
    put(pc[1]);
    put(ph[1]);
    kill(getpid(), SIGUSR2);
    new_file();
    put(pk[1]);
    CHECK_SEEN("a byte more for A, C and H, a signal for I, a file for J: their new edges, the pipe, the inner "
               "epoll (not the fired one-shot)", ready(ep), A | E | IN2 | (with_signalfd ? I : 0) | (with_inotify ? J : 0));
    CHECK_SEEN("inner epoll: H's new edge", ready(in2), H);
    CHECK_SEEN("and once more: only the level-triggered pipe", ready(ep), E);
    CHECK_SEEN("a byte more for K2: in3's new edge (K)", ready(out), K);
    CHECK_SEEN("nested epoll in3: K2's new edge and its level-triggered pipe", ready(in3), K2 | K3);
    struct signalfd_siginfo si;
    ssize_t r = sizeof si;
    si.ssi_signo = SIGUSR2;
    if (with_signalfd)
        r = read(sfd, &si, sizeof si);
    else
        sigwaitinfo(&(sigset_t){ { 1ul << (SIGUSR2 - 1) } }, NULL);
    snprintf(name, sizeof name, "signalfd: SIGUSR2 read, SIGWINCH left pending %s", when);
    crt_check(name, r == (ssize_t)sizeof si && si.ssi_signo == SIGUSR2, "read %zd, signal %d", r,
              r == (ssize_t)sizeof si ? (int)si.ssi_signo : 0);
    int queued = -1;
    ioctl(sa[0], FIONREAD, &queued);
    snprintf(name, sizeof name, "A's bytes stay queued (the program drains nothing) %s", when);
    CRT_CHECK_U64(name, queued, round + 1);
    /* the edges wait again for the next check: B's and F's, D armed with its byte */
    put(pb[1]);
    uint64_t one = 1;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = D };
    if (write(efd, &one, 8) != 8 || epoll_ctl(ep, EPOLL_CTL_MOD, pd[0], &ev) != 0)
        crt_die("making the edges wait again: %s", strerror(errno));
    put(pl[1]);   /* in4's edge, for out */
    put(psr[0][1]);   /* SR's edges */
    put(psr[1][1]);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        with_inotify &= strcmp(argv[i], "noinotify") != 0;
        with_signalfd &= strcmp(argv[i], "nosignalfd") != 0;
    }
    setup();
    crt_check_around_points(check);
}

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
 * At each check ep must report exactly B, D, E and F, then only E; a new
 * byte for A, C and H makes A, E and in2 ready (not C), in2 reports H; then
 * the edges are made to wait again as before. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { A = 1, B = 2, C = 4, D = 8, E = 16, F = 32, IN2 = 64, H = 128 };

static int ep, in2, sa[2], pb[2], pc[2], pd[2], pe[2], ph[2], efd;

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

static void setup(void)
{
    ep = epoll_create1(0);
    in2 = epoll_create1(EPOLL_CLOEXEC);
    efd = eventfd(0, EFD_NONBLOCK);
    if (ep < 0 || in2 < 0 || efd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sa) || pipe(pb) || pipe(pc) ||
        pipe(pd) || pipe(pe) || pipe(ph))
        crt_die("making the objects: %s", strerror(errno));
    watch(ep, sa[0], EPOLLIN | EPOLLET, A);
    watch(ep, pc[0], EPOLLIN | EPOLLONESHOT, C);
    watch(in2, ph[0], EPOLLIN | EPOLLET, H);
    watch(ep, in2, EPOLLIN, IN2);
    if (write(sa[1], "xy", 2) != 2)
        crt_die("write: %s", strerror(errno));
    put(pc[1]);
    put(ph[1]);
    unsigned seen = ready(ep);
    if (seen != (A | C | IN2) || ready(in2) != H)
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
}

static void check(const char *when)
{
    static int round;
    char name[160];
    round++;
#define CHECK_SEEN(what, got, want)                                              \
    do {                                                                         \
        unsigned g_ = (got);                                                     \
        snprintf(name, sizeof name, "%s %s", what, when);                        \
        crt_check(name, g_ == (unsigned)(want), "seen 0x%x, expected 0x%x", g_, \
                  (unsigned)(want));                                             \
    } while (0)

    CHECK_SEEN("epoll: the waiting edges (B, F), the armed one-shot (D) and the level-triggered pipe (E); "
               "not the consumed edge (A) nor the fired one-shot (C)", ready(ep), B | D | E | F);
    CHECK_SEEN("inner epoll: its consumed edge (H) not reported", ready(in2), 0);
    CHECK_SEEN("epoll read again: only the level-triggered pipe", ready(ep), E);
    put(sa[1]);
    put(pc[1]);
    put(ph[1]);
    CHECK_SEEN("a byte more for A, C and H: A's new edge, the pipe, the inner epoll (not the fired one-shot)",
               ready(ep), A | E | IN2);
    CHECK_SEEN("inner epoll: H's new edge", ready(in2), H);
    CHECK_SEEN("and once more: only the level-triggered pipe", ready(ep), E);
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
}

int main(void)
{
    setup();
    crt_check_around_points(check);
}

/*
 * State test: options set on sockets (review HIGH-6 of issue 10). Before
 * this test's fix none of those below came back after a restart: a recv
 * that timed out before the checkpoint blocked for ever after it.
 *   sp    a Unix stream socketpair: SO_RCVTIMEO 100 ms and SO_SNDBUF on
 *         sp[0], SO_SNDTIMEO and SO_RCVLOWAT on sp[1]
 *   tl    a TCP listener on 127.0.0.1 (a port below the ephemeral range):
 *         TCP_DEFER_ACCEPT (set after the accept), SO_RCVBUF (set before listen)
 *   tcli  its client, connected: SO_RCVTIMEO 120 ms, SO_KEEPALIVE with
 *         TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_USER_TIMEOUT, SO_LINGER,
 *         SO_OOBINLINE, SO_PRIORITY, IP_TOS, IP_TTL, SO_RCVBUF, SO_SNDBUF
 *         (set before connect)
 *   tacc  the accepted end: TCP_CORK, TCP_NOTSENT_LOWAT, TCP_LINGER2
 *   u     an unbound UDP socket: SO_BROADCAST, IP_MULTICAST_TTL/LOOP/IF,
 *         IP_PKTINFO, IP_RECVTOS, SO_TIMESTAMP, SO_RCVTIMEO 80 ms
 *   u6    an unbound UDP6 socket (when the host has IPv6): IPV6_UNICAST_HOPS,
 *         IPV6_TCLASS, IPV6_MULTICAST_HOPS
 *   root  as root also SO_MARK on tcli
 * At each check every value is read back with getsockopt, and recv on sp[0],
 * tcli and u (nothing queued) must time out with EAGAIN after their timeout
 * (a missing timeout is reported, never waited for; the timeouts are short
 * because every run waits them at each check). Every flavour but busy
 * (the copy cannot bind the addresses the original holds, as crt_sockets).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int sp[2], tl, tcli, tacc, u, u6 = -1;

struct want {
    int *fd;
    const char *sock;
    int level, name;
    const char *label;
    int value;          /* for ints */
    long usec;          /* for timeouts (SO_RCVTIMEO, SO_SNDTIMEO) as kept, -1 otherwise */
};

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static void set_int(int fd, int level, int name, int v, const char *what)
{
    must(setsockopt(fd, level, name, &v, sizeof v) == 0, what);
}

static void set_tv(int fd, int name, long usec, const char *what)
{
    struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };
    must(setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv) == 0, what);
}

/* The values as they are once set (buffer sizes: what the kernel keeps) */
static struct want wants[40];
static int nwants;
static int mark_set, have_v6;

static void want_int(int *fd, const char *sock, int level, int name, const char *label)
{
    int v = 0;
    socklen_t l = sizeof v;
    must(getsockopt(*fd, level, name, &v, &l) == 0, label);
    wants[nwants++] = (struct want){ fd, sock, level, name, label, v, -1 };
}

/* A timeout as the kernel keeps it (rounded to its clock tick) */
static long read_tv(int fd, int name)
{
    struct timeval tv = { 0, 0 };
    socklen_t l = sizeof tv;
    getsockopt(fd, SOL_SOCKET, name, &tv, &l);
    return tv.tv_sec * 1000000 + tv.tv_usec;
}

static void want_tv(int *fd, const char *sock, int name, const char *label)
{
    wants[nwants++] = (struct want){ fd, sock, SOL_SOCKET, name, label, 0, read_tv(*fd, name) };
}

/* The SO_RCVTIMEO kept for fd at setup */
static long kept_rcvtimeo(int fd)
{
    for (int i = 0; i < nwants; i++)
        if (*wants[i].fd == fd && wants[i].name == SO_RCVTIMEO)
            return wants[i].usec;
    return -1;
}

static void setup(void)
{
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
    set_tv(sp[0], SO_RCVTIMEO, 100000, "sp SO_RCVTIMEO");
    set_int(sp[0], SOL_SOCKET, SO_SNDBUF, 20000, "sp SO_SNDBUF");
    set_tv(sp[1], SO_SNDTIMEO, 1500000, "sp SO_SNDTIMEO");
    set_int(sp[1], SOL_SOCKET, SO_RCVLOWAT, 3, "sp SO_RCVLOWAT");

    struct sockaddr_in la, ca;
    tl = socket(AF_INET, SOCK_STREAM, 0);
    set_int(tl, SOL_SOCKET, SO_REUSEADDR, 1, "tl SO_REUSEADDR");
    set_int(tl, SOL_SOCKET, SO_RCVBUF, 70000, "tl SO_RCVBUF");
    crt_bind_low_port(tl, &la, 13u, "tcp listener");
    must(listen(tl, 4) == 0, "listen");
    tcli = socket(AF_INET, SOCK_STREAM, 0);
    set_int(tcli, SOL_SOCKET, SO_RCVBUF, 50000, "tcli SO_RCVBUF");
    set_int(tcli, SOL_SOCKET, SO_SNDBUF, 40000, "tcli SO_SNDBUF");
    crt_bind_low_port(tcli, &ca, 13u, "tcp client");
    must(connect(tcli, (struct sockaddr *)&la, sizeof la) == 0, "connect");
    tacc = accept(tl, NULL, NULL);
    must(tacc >= 0, "accept");
    /* after the accept: set before it, the accept waited ~7 s for data the client never sends
     * (the defer's timeout), in every run of every flavour */
    set_int(tl, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5, "tl TCP_DEFER_ACCEPT");
    set_tv(tcli, SO_RCVTIMEO, 120000, "tcli SO_RCVTIMEO");
    set_int(tcli, SOL_SOCKET, SO_KEEPALIVE, 1, "tcli SO_KEEPALIVE");
    set_int(tcli, IPPROTO_TCP, TCP_KEEPIDLE, 77, "tcli TCP_KEEPIDLE");
    set_int(tcli, IPPROTO_TCP, TCP_KEEPINTVL, 11, "tcli TCP_KEEPINTVL");
    set_int(tcli, IPPROTO_TCP, TCP_KEEPCNT, 4, "tcli TCP_KEEPCNT");
    set_int(tcli, IPPROTO_TCP, TCP_USER_TIMEOUT, 12345, "tcli TCP_USER_TIMEOUT");
    struct linger lg = { .l_onoff = 1, .l_linger = 7 };
    must(setsockopt(tcli, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0, "tcli SO_LINGER");
    set_int(tcli, SOL_SOCKET, SO_OOBINLINE, 1, "tcli SO_OOBINLINE");
    set_int(tcli, SOL_SOCKET, SO_PRIORITY, 5, "tcli SO_PRIORITY");
    set_int(tcli, IPPROTO_IP, IP_TOS, 0x10, "tcli IP_TOS");
    set_int(tcli, IPPROTO_IP, IP_TTL, 33, "tcli IP_TTL");
    if (geteuid() == 0)
        mark_set = setsockopt(tcli, SOL_SOCKET, SO_MARK, &(int){ 42 }, sizeof(int)) == 0;
    set_int(tacc, IPPROTO_TCP, TCP_CORK, 1, "tacc TCP_CORK");
    set_int(tacc, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 65536, "tacc TCP_NOTSENT_LOWAT");
    set_int(tacc, IPPROTO_TCP, TCP_LINGER2, 9, "tacc TCP_LINGER2");

    u = socket(AF_INET, SOCK_DGRAM, 0);
    set_int(u, SOL_SOCKET, SO_BROADCAST, 1, "u SO_BROADCAST");
    set_int(u, IPPROTO_IP, IP_MULTICAST_TTL, 5, "u IP_MULTICAST_TTL");
    set_int(u, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "u IP_MULTICAST_LOOP");
    struct in_addr lo = { htonl(INADDR_LOOPBACK) };
    must(setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo) == 0, "u IP_MULTICAST_IF");
    set_int(u, IPPROTO_IP, IP_PKTINFO, 1, "u IP_PKTINFO");
    set_int(u, IPPROTO_IP, IP_RECVTOS, 1, "u IP_RECVTOS");
    set_int(u, SOL_SOCKET, SO_TIMESTAMP, 1, "u SO_TIMESTAMP");
    set_tv(u, SO_RCVTIMEO, 80000, "u SO_RCVTIMEO");

    u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    have_v6 = u6 >= 0;
    if (have_v6) {
        set_int(u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 17, "u6 IPV6_UNICAST_HOPS");
        set_int(u6, IPPROTO_IPV6, IPV6_TCLASS, 0x20, "u6 IPV6_TCLASS");
        set_int(u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 3, "u6 IPV6_MULTICAST_HOPS");
    }

#define WI(fd, s, lv, nm) want_int(&fd, s, lv, nm, #nm)
    want_tv(&sp[0], "sp[0]", SO_RCVTIMEO, "SO_RCVTIMEO");
    WI(sp[0], "sp[0]", SOL_SOCKET, SO_SNDBUF);
    want_tv(&sp[1], "sp[1]", SO_SNDTIMEO, "SO_SNDTIMEO");
    WI(sp[1], "sp[1]", SOL_SOCKET, SO_RCVLOWAT);
    WI(tl, "tl", SOL_SOCKET, SO_RCVBUF);
    WI(tl, "tl", IPPROTO_TCP, TCP_DEFER_ACCEPT);
    want_tv(&tcli, "tcli", SO_RCVTIMEO, "SO_RCVTIMEO");
    WI(tcli, "tcli", SOL_SOCKET, SO_KEEPALIVE);
    WI(tcli, "tcli", IPPROTO_TCP, TCP_KEEPIDLE);
    WI(tcli, "tcli", IPPROTO_TCP, TCP_KEEPINTVL);
    WI(tcli, "tcli", IPPROTO_TCP, TCP_KEEPCNT);
    WI(tcli, "tcli", IPPROTO_TCP, TCP_USER_TIMEOUT);
    WI(tcli, "tcli", SOL_SOCKET, SO_OOBINLINE);
    WI(tcli, "tcli", SOL_SOCKET, SO_PRIORITY);
    WI(tcli, "tcli", IPPROTO_IP, IP_TOS);
    WI(tcli, "tcli", IPPROTO_IP, IP_TTL);
    WI(tcli, "tcli", SOL_SOCKET, SO_RCVBUF);
    WI(tcli, "tcli", SOL_SOCKET, SO_SNDBUF);
    if (mark_set)
        WI(tcli, "tcli", SOL_SOCKET, SO_MARK);
    WI(tacc, "tacc", IPPROTO_TCP, TCP_CORK);
    WI(tacc, "tacc", IPPROTO_TCP, TCP_NOTSENT_LOWAT);
    WI(tacc, "tacc", IPPROTO_TCP, TCP_LINGER2);
    WI(u, "u", SOL_SOCKET, SO_BROADCAST);
    WI(u, "u", IPPROTO_IP, IP_MULTICAST_TTL);
    WI(u, "u", IPPROTO_IP, IP_MULTICAST_LOOP);
    WI(u, "u", IPPROTO_IP, IP_MULTICAST_IF);
    WI(u, "u", IPPROTO_IP, IP_PKTINFO);
    WI(u, "u", IPPROTO_IP, IP_RECVTOS);
    WI(u, "u", SOL_SOCKET, SO_TIMESTAMP);
    want_tv(&u, "u", SO_RCVTIMEO, "SO_RCVTIMEO");
    if (have_v6) {
        WI(u6, "u6", IPPROTO_IPV6, IPV6_UNICAST_HOPS);
        WI(u6, "u6", IPPROTO_IPV6, IPV6_TCLASS);
        WI(u6, "u6", IPPROTO_IPV6, IPV6_MULTICAST_HOPS);
    }
}

/* A recv with nothing queued ends with EAGAIN after the socket's timeout:
 * how long it took, in ms bands that do not depend on load (>= the
 * timeout, < 10 s). Only when SO_RCVTIMEO is as set: without it the recv
 * would wait for ever. */
static void timed_recv(int fd, const char *sock, long usec)
{
    char name[96], b[8];
    snprintf(name, sizeof name, "recv on %s times out after %ld ms", sock, usec / 1000);
    if (read_tv(fd, SO_RCVTIMEO) != kept_rcvtimeo(fd)) {
        crt_fail(name, "not tried: SO_RCVTIMEO is not set (the recv would block for ever)");
        return;
    }
    int64_t t0 = crt_mono_ns_syscall();
    ssize_t n;
    do
        n = recv(fd, b, sizeof b, 0);
    while (n < 0 && errno == EINTR && crt_mono_ns_syscall() - t0 < (int64_t)usec * 1000);
    long ms = (long)((crt_mono_ns_syscall() - t0) / 1000000);
    crt_check(name, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ms >= usec / 1000 - 20 && ms < 10000,
              "recv gave %zd (%s) after %ld ms", n, n < 0 ? strerror(errno) : "data", ms);
}

static void check(const char *when)
{
    char name[128];
    for (int i = 0; i < nwants; i++) {
        const struct want *w = &wants[i];
        snprintf(name, sizeof name, "%s %s %s", w->sock, w->label, when);
        if (w->usec >= 0) {
            CRT_CHECK_U64(name, read_tv(*w->fd, w->name), w->usec);
        } else {
            int v = -1;
            socklen_t l = sizeof v;
            getsockopt(*w->fd, w->level, w->name, &v, &l);
            CRT_CHECK_U64(name, (uint32_t)v, (uint32_t)w->value);
        }
    }
    timed_recv(sp[0], "sp[0]", 100000);
    timed_recv(tcli, "tcli", 120000);
    timed_recv(u, "u", 80000);
    /* the connection still carries data both ways (TCP_CORK holds tacc's
     * bytes until it is uncorked) */
    set_int(tacc, IPPROTO_TCP, TCP_CORK, 0, "uncork");
    char b[4] = "", c[4] = "";
    ssize_t n1 = send(tacc, "abc", 3, 0), n2 = send(tcli, "xyz", 3, 0);
    ssize_t r1 = recv(tcli, b, 3, MSG_WAITALL), r2 = recv(tacc, c, 3, MSG_WAITALL);
    snprintf(name, sizeof name, "the connection carries data both ways %s", when);
    crt_check(name, n1 == 3 && n2 == 3 && r1 == 3 && r2 == 3 && !memcmp(b, "abc", 3) && !memcmp(c, "xyz", 3),
              "sent %zd %zd, received %zd %zd", n1, n2, r1, r2);
    set_int(tacc, IPPROTO_TCP, TCP_CORK, 1, "cork again");
}

int main(void)
{
    setup();
    crt_say("%d socket options set%s%s", nwants, have_v6 ? ", IPv6 ones too" : ", no IPv6 on this host",
            mark_set ? ", SO_MARK as root" : "");
    crt_check_around_points(check);
}

/*
 * State test: sockets whose both ends the process holds, and listening and
 * bound ones (issue 10, point 6):
 *   us    a Unix stream socketpair, "ping" queued one way, 100 KB the other
 *   ud    a Unix datagram socketpair, three datagrams queued
 *   usp   a Unix seqpacket socketpair, two records queued
 *   ul    a Unix stream listener on ./sock.path, with an accepted connection
 *         (acc, cli: 5 bytes queued for acc) and one still waiting (pend)
 *   ua    a listener on an abstract address
 *   tl    a TCP listener on 127.0.0.1 (ports below the kernel's ephemeral range),
 *         with an accepted connection (tacc, tcli, TCP_NODELAY), data queued
 *         both ways
 *   tl2   a TCP listener WITHOUT SO_REUSEADDR (as most servers are made), with an
 *         accepted connection (tacc2, tcli2) that carries no data: at the
 *         original's end its client end, closed first, is left in TIME-WAIT
 *         on its port, which the restart must bind again (as root: repair mode)
 *   tl3   a TCP listener with a connection waiting to be accepted (tpend, its
 *         client end bound to a low port), accepted after each point: from
 *         tpend's address, data flows; then a new one waits for the next
 *         point (review MEDIUM-2: the checkpoint was refused)
 *   ub    a UDP socket bound to 127.0.0.1, uc a UDP socket connected to it;
 *         two datagrams from uc queued on ub (both ends in the process:
 *         sent again through uc at restart, in order)
 *   fresh an unbound TCP socket
 * After each point: the queued bytes and messages come out in order,
 * addresses are as before, data flows both ways, the listeners accept new
 * connections (and the waiting one), UDP works. Every flavour but busy (the
 * copy cannot bind the addresses the original holds: sockets_busy.sh).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int us[2], ud[2], usp[2], ul, acc, cli, pend, ua, tl, tacc, tcli, tl2, tcli2, tacc2, tl3, tpend, ub, uc, fresh;
static struct sockaddr_in tl_addr, tl2_addr, ub_addr, uc_addr;
static struct sockaddr_un ul_addr, ua_addr;
static socklen_t ua_len;
static unsigned char big[100000];
static char cwd_path[200];

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static struct sockaddr_in tl3_addr, tpend_addr;

/* A new connection to tl3, left waiting to be accepted. */
static void tcp_pending(void)
{
    tpend = socket(AF_INET, SOCK_STREAM, 0);
    crt_bind_low_port(tpend, &tpend_addr, 7u, "tcp client waiting");
    must(connect(tpend, (struct sockaddr *)&tl3_addr, sizeof tl3_addr) == 0, "tcp connect waiting");
}

static void setup(void)
{
    crt_fill(big, sizeof big, 99);
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, us) == 0, "socketpair stream");
    must(socketpair(AF_UNIX, SOCK_DGRAM, 0, ud) == 0, "socketpair dgram");
    must(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, usp) == 0, "socketpair seqpacket");

    must(getcwd(cwd_path, sizeof cwd_path) != NULL, "getcwd");
    ul = socket(AF_UNIX, SOCK_STREAM, 0);
    ul_addr.sun_family = AF_UNIX;
    snprintf(ul_addr.sun_path, sizeof ul_addr.sun_path, "sock.path");
    unlink("sock.path");
    must(bind(ul, (struct sockaddr *)&ul_addr, sizeof ul_addr) == 0 && listen(ul, 4) == 0, "unix listener");
    cli = socket(AF_UNIX, SOCK_STREAM, 0);
    must(connect(cli, (struct sockaddr *)&ul_addr, sizeof ul_addr) == 0, "connect cli");
    acc = accept(ul, NULL, NULL);
    must(acc >= 0, "accept");
    pend = socket(AF_UNIX, SOCK_STREAM, 0);
    must(connect(pend, (struct sockaddr *)&ul_addr, sizeof ul_addr) == 0, "connect pend");

    ua = socket(AF_UNIX, SOCK_STREAM, 0);
    ua_addr.sun_family = AF_UNIX;
    int n = snprintf(ua_addr.sun_path + 1, sizeof ua_addr.sun_path - 1, "crt_sockets.%d", (int)getpid());
    ua_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    must(bind(ua, (struct sockaddr *)&ua_addr, ua_len) == 0 && listen(ua, 2) == 0, "abstract listener");

    tl = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(tl, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    crt_bind_low_port(tl, &tl_addr, 7u, "tcp listener");
    socklen_t l = sizeof tl_addr;
    must(listen(tl, 8) == 0 && getsockname(tl, (struct sockaddr *)&tl_addr, &l) == 0, "tcp listener");
    tcli = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(tcli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in cl_addr;
    crt_bind_low_port(tcli, &cl_addr, 7u, "tcp client");
    must(connect(tcli, (struct sockaddr *)&tl_addr, sizeof tl_addr) == 0, "tcp connect");
    tacc = accept(tl, NULL, NULL);
    must(tacc >= 0, "tcp accept");

    tl2 = socket(AF_INET, SOCK_STREAM, 0);
    crt_bind_low_port(tl2, &tl2_addr, 7u, "tcp listener without SO_REUSEADDR");
    l = sizeof tl2_addr;
    must(listen(tl2, 4) == 0 && getsockname(tl2, (struct sockaddr *)&tl2_addr, &l) == 0, "tcp listener 2");
    tcli2 = socket(AF_INET, SOCK_STREAM, 0);   /* a lower descriptor than tacc2: closed first at exit */
    struct sockaddr_in cl2_addr;
    crt_bind_low_port(tcli2, &cl2_addr, 7u, "tcp client 2");
    must(connect(tcli2, (struct sockaddr *)&tl2_addr, sizeof tl2_addr) == 0, "tcp connect 2");
    tl3 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(tl3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    crt_bind_low_port(tl3, &tl3_addr, 7u, "tcp listener 3");
    must(listen(tl3, 4) == 0, "tcp listener 3");
    tcp_pending();
    tacc2 = accept(tl2, NULL, NULL);
    must(tacc2 >= 0, "tcp accept 2");

    ub = socket(AF_INET, SOCK_DGRAM, 0);
    crt_bind_low_port(ub, &ub_addr, 7u, "udp bind");
    l = sizeof ub_addr;
    must(getsockname(ub, (struct sockaddr *)&ub_addr, &l) == 0, "udp bind");
    uc = socket(AF_INET, SOCK_DGRAM, 0);
    crt_bind_low_port(uc, &uc_addr, 7u, "udp client bind");
    must(connect(uc, (struct sockaddr *)&ub_addr, sizeof ub_addr) == 0, "udp connect");
    fresh = socket(AF_INET, SOCK_STREAM, 0);
    must(fresh >= 0, "socket");
    /* CRT_SOCKETS_OUTSIDE=PORT: also a TCP connection to another process
     * listening on 127.0.0.1:PORT, which no checkpoint can take
     * (sockets_busy.sh expects the refusal) */
    long port = crt_env_long("CRT_SOCKETS_OUTSIDE", 0);
    if (port > 0) {
        struct sockaddr_in o = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int out = socket(AF_INET, SOCK_STREAM, 0);
        must(connect(out, (struct sockaddr *)&o, sizeof o) == 0, "connect outside");
    }
    /* CRT_SOCKETS_ACCEPT_OUTSIDE=FILE: tl2's port written to FILE, one connection from another
     * process accepted on tl2 and closed by this end first: that end stays the kernel's timewait
     * socket on tl2's address (FIN-WAIT-2 until the other end closes, then TIME-WAIT), which the
     * image does not hold (sockets_busy.sh: the restart says no restart ends it) */
    const char *tw_file = getenv("CRT_SOCKETS_ACCEPT_OUTSIDE");
    if (tw_file && *tw_file) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s.tmp", tw_file);
        FILE *f = fopen(tmp, "w");
        must(f && fprintf(f, "%u\n", (unsigned)ntohs(tl2_addr.sin_port)) > 0 && fclose(f) == 0 &&
                 rename(tmp, tw_file) == 0,
             "write tl2's port");
        int in = accept(tl2, NULL, NULL);
        must(in >= 0 && close(in) == 0, "accept outside");
    }
    /* CRT_SOCKETS_PENDING_OUTSIDE=FILE: tl3's port written to FILE; another process connects to
     * it, not accepted, and makes FILE.done (sockets_busy.sh: refused naming tl3) */
    const char *po = getenv("CRT_SOCKETS_PENDING_OUTSIDE");
    if (po && *po) {
        char tmp[512], done[512];
        snprintf(tmp, sizeof tmp, "%s.tmp", po);
        snprintf(done, sizeof done, "%s.done", po);
        FILE *f = fopen(tmp, "w");
        must(f && fprintf(f, "%u\n", (unsigned)ntohs(tl3_addr.sin_port)) > 0 && fclose(f) == 0 && rename(tmp, po) == 0,
             "write tl3's port");
        for (int i = 0; i < 3000 && access(done, F_OK) != 0; i++)
            usleep(20000);
        must(access(done, F_OK) == 0, "the connection from another process to tl3");
    }
    /* CRT_SOCKETS_OUTSIDE_UNIX=PATH: a Unix stream connection to another
     * process listening at PATH (refused naming that process) */
    const char *upath = getenv("CRT_SOCKETS_OUTSIDE_UNIX");
    if (upath && *upath) {
        struct sockaddr_un o = { .sun_family = AF_UNIX };
        snprintf(o.sun_path, sizeof o.sun_path, "%s", upath);
        int out = socket(AF_UNIX, SOCK_STREAM, 0);
        must(connect(out, (struct sockaddr *)&o, sizeof o) == 0, "connect outside (Unix)");
    }
}

static void queue_data(void)
{
    must(send(us[0], "ping", 4, 0) == 4 && send(us[1], big, sizeof big, 0) == (ssize_t)sizeof big, "stream data");
    must(send(ud[0], "one", 3, 0) == 3 && send(ud[0], "two!", 4, 0) == 4 && send(ud[1], "three", 5, 0) == 5,
         "dgram data");
    must(send(usp[0], "record-a", 8, 0) == 8 && send(usp[0], "record-bb", 9, 0) == 9, "seqpacket data");
    must(send(cli, "hello", 5, 0) == 5, "cli data");
    must(send(tcli, "tcp->", 5, 0) == 5 && send(tacc, big, 4000, 0) == 4000, "tcp data");
    must(send(uc, "u1", 2, 0) == 2 && send(uc, "u-two", 5, 0) == 5, "udp data");
}

static int same_sockname(int fd, const void *want, socklen_t wlen)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    return getsockname(fd, (struct sockaddr *)&a, &l) == 0 && l == wlen && !memcmp(&a, want, wlen);
}

static void check(const char *when)
{
    char name[128], buf[256];
    static unsigned char got[sizeof big];
#define CHECK(what, cond, ...)                             \
    do {                                                   \
        snprintf(name, sizeof name, "%s %s", what, when); \
        crt_check(name, cond, __VA_ARGS__);                \
    } while (0)

    ssize_t n = crt_read_all(us[1], buf, 4), m = crt_read_all(us[0], got, sizeof big);
    CHECK("stream socketpair: 'ping' one way, 100 KB the other, in order",
          n == 4 && !memcmp(buf, "ping", 4) && m == (ssize_t)sizeof big && !memcmp(got, big, sizeof big),
          "%zd and %zd bytes", n, m);
    char a[8] = "", b[8] = "", c[8] = "";
    ssize_t na = recv(ud[1], a, sizeof a, MSG_DONTWAIT), nb = recv(ud[1], b, sizeof b, MSG_DONTWAIT),
            nc = recv(ud[0], c, sizeof c, MSG_DONTWAIT);
    CHECK("datagram socketpair: 'one', 'two!' one way, 'three' the other, as datagrams",
          na == 3 && !memcmp(a, "one", 3) && nb == 4 && !memcmp(b, "two!", 4) && nc == 5 && !memcmp(c, "three", 5),
          "%zd %zd %zd", na, nb, nc);
    na = recv(usp[1], a, 8, MSG_DONTWAIT);
    nb = recv(usp[1], buf, sizeof buf, MSG_DONTWAIT);
    CHECK("seqpacket socketpair: two records", na == 8 && !memcmp(a, "record-a", 8) && nb == 9, "%zd %zd", na, nb);
    n = crt_read_all(acc, buf, 5);
    CHECK("unix accepted connection: 'hello' queued for the server end", n == 5 && !memcmp(buf, "hello", 5), "%zd", n);
    must(send(acc, "back", 4, 0) == 4, "send back");
    n = crt_read_all(cli, buf, 4);
    CHECK("unix accepted connection: data flows back", n == 4 && !memcmp(buf, "back", 4), "%zd", n);
    struct sockaddr_un sun;
    socklen_t l = sizeof sun;
    CHECK("unix accepted connection: the server end is named sock.path",
          getsockname(acc, (struct sockaddr *)&sun, &l) == 0 && !strcmp(sun.sun_path, "sock.path"), "%s",
          sun.sun_path);
    int p2 = accept(ul, NULL, NULL);
    CHECK("unix listener: the connection that waited is accepted now, and works",
          p2 >= 0 && send(pend, "w", 1, 0) == 1 && crt_read_all(p2, buf, 1) == 1 && buf[0] == 'w', "accept %d", p2);
    close(p2);
    pend = socket(AF_UNIX, SOCK_STREAM, 0);   /* one waiting again for the next point */
    must(connect(pend, (struct sockaddr *)&ul_addr, sizeof ul_addr) == 0, "connect pend");
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    int ok = connect(x, (struct sockaddr *)&ua_addr, ua_len) == 0;
    int y = ok ? accept(ua, NULL, NULL) : -1;
    CHECK("abstract listener: accepts a new connection", ok && y >= 0, "connect %d accept %d", ok, y);
    close(x);
    close(y);

    n = crt_read_all(tacc, buf, 5);
    m = crt_read_all(tcli, got, 4000);
    CHECK("TCP connection: bytes queued both ways come out in order",
          n == 5 && !memcmp(buf, "tcp->", 5) && m == 4000 && !memcmp(got, big, 4000), "%zd and %zd", n, m);
    struct sockaddr_in pa;
    l = sizeof pa;
    CHECK("TCP connection: the server end has the listener's address, the client is connected to it",
          same_sockname(tacc, &tl_addr, sizeof tl_addr) && getpeername(tcli, (struct sockaddr *)&pa, &l) == 0 &&
              pa.sin_port == tl_addr.sin_port,
          "port %u", ntohs(pa.sin_port));
    int nd = 0;
    l = sizeof nd;
    getsockopt(tcli, IPPROTO_TCP, TCP_NODELAY, &nd, &l);
    CHECK("TCP connection: TCP_NODELAY kept", nd == 1, "%d", nd);
    x = socket(AF_INET, SOCK_STREAM, 0);
    ok = connect(x, (struct sockaddr *)&tl_addr, sizeof tl_addr) == 0;
    y = ok ? accept(tl, NULL, NULL) : -1;
    CHECK("TCP listener: same port, accepts a new connection", ok && y >= 0 && same_sockname(tl, &tl_addr, sizeof tl_addr),
          "connect %d accept %d", ok, y);
    close(x);
    close(y);
    int ra = -1;
    l = sizeof ra;
    getsockopt(tl2, SOL_SOCKET, SO_REUSEADDR, &ra, &l);
    x = socket(AF_INET, SOCK_STREAM, 0);
    ok = connect(x, (struct sockaddr *)&tl2_addr, sizeof tl2_addr) == 0;
    y = ok ? accept(tl2, NULL, NULL) : -1;
    CHECK("TCP listener without SO_REUSEADDR: same port, still without it, accepts a new connection",
          ok && y >= 0 && ra == 0 && same_sockname(tl2, &tl2_addr, sizeof tl2_addr), "connect %d accept %d reuse %d",
          ok, y, ra);
    close(x);
    close(y);
    /* a byte each way, read at once: the pair stays empty, so its client end ends in TIME-WAIT */
    n = send(tcli2, "c", 1, 0) == 1 && crt_read_all(tacc2, buf, 1) == 1 && buf[0] == 'c' &&
        send(tacc2, "s", 1, 0) == 1 && crt_read_all(tcli2, buf, 1) == 1 && buf[0] == 's';
    CHECK("TCP connection of that listener: data flows both ways", n == 1, "%zd", n);
    struct sockaddr_in from;
    socklen_t lf = sizeof from;
    int p3;
    /* (one from another process, CRT_SOCKETS_PENDING_OUTSIDE, is passed over) */
    while ((p3 = accept(tl3, (struct sockaddr *)&from, &lf)) >= 0 && from.sin_port != tpend_addr.sin_port) {
        close(p3);
        lf = sizeof from;
    }
    n = p3 >= 0 && send(tpend, "t", 1, 0) == 1 && crt_read_all(p3, buf, 1) == 1 && buf[0] == 't' &&
        send(p3, "u", 1, 0) == 1 && crt_read_all(tpend, buf, 1) == 1 && buf[0] == 'u';
    CHECK("TCP listener: the connection that waited is accepted now, from its client's address, and works",
          n == 1 && from.sin_port == tpend_addr.sin_port && from.sin_addr.s_addr == tpend_addr.sin_addr.s_addr,
          "accept %d, data %zd, from port %u (the client's: %u)", p3, n, ntohs(from.sin_port),
          ntohs(tpend_addr.sin_port));
    close(p3);
    close(tpend);
    tcp_pending();   /* one waiting again for the next point */
    struct sockaddr_in f1, f2;
    socklen_t l1 = sizeof f1, l2 = sizeof f2;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    na = recvfrom(ub, a, sizeof a, MSG_DONTWAIT, (struct sockaddr *)&f1, &l1);
    nb = recvfrom(ub, b, sizeof b, MSG_DONTWAIT, (struct sockaddr *)&f2, &l2);
    CHECK("UDP: 'u1', 'u-two' queued from the connected socket come out in order, from its address",
          na == 2 && !memcmp(a, "u1", 2) && nb == 5 && !memcmp(b, "u-two", 5) && f1.sin_port == uc_addr.sin_port &&
              f2.sin_port == uc_addr.sin_port && f1.sin_addr.s_addr == uc_addr.sin_addr.s_addr,
          "%zd %zd", na, nb);
    must(send(uc, "udp", 3, 0) == 3, "udp send");
    n = recv(ub, buf, sizeof buf, 0);
    CHECK("UDP: the connected socket reaches the bound one at its port", n == 3 && same_sockname(ub, &ub_addr, sizeof ub_addr),
          "%zd", n);
    int t = 0;
    l = sizeof t;
    CHECK("unbound TCP socket: still a stream socket", getsockopt(fresh, SOL_SOCKET, SO_TYPE, &t, &l) == 0 && t == SOCK_STREAM,
          "%d", t);
#undef CHECK
}

int main(void)
{
    setup();
    crt_say("socketpairs, Unix and TCP listeners with connections, UDP, an unbound socket made");
    queue_data();
    crt_checkpoint_point(1);
    check("after point 1");
    queue_data();
    crt_checkpoint_point(2);
    check("after point 2");
    unlink("sock.path");
    crt_finish();
}

/*
 * State test: UDP sockets and multicast groups (issue 10: a restart lost
 * every membership without a word, and the restarted program never received
 * another datagram sent to its groups). Run inside a network namespace of
 * its own whose lo carries multicast (crs_mcast.sh). Receivers, each on a
 * port of its own (a socket bound to the wildcard address gets a group's
 * datagrams to its port only when it joined the group itself):
 *   ra  IP_ADD_MEMBERSHIP of 239.7.7.7 on lo (any source)
 *   rs  IP_ADD_SOURCE_MEMBERSHIP of 232.7.7.7 from 127.0.0.1 on lo
 *   rx  MCAST_JOIN_GROUP of 239.7.7.9 on lo, MCAST_BLOCK_SOURCE 127.0.0.2
 *   rl  joined 239.7.7.10 and dropped it again
 *   r6  (argument "all": the host has the veth v0, crs_mcast.sh) an IPv6
 *       socket, IPV6_JOIN_GROUP of ff15::7777 on v0
 * At each check a sender s (from 127.0.0.1) and s2 (from 127.0.0.2) send:
 * s2 first where it must not be heard (rs, rx: the filter), then s; rl gets
 * one datagram to the group it left, then one to its own address; r6 gets
 * one from a sender made for the check, then one from s6k, a sender kept
 * across the points whose IPV6_MULTICAST_IF is v0 (issue 10: kept by index,
 * a restart where v0 has another index was refused; now by name); r4v, an
 * IPv4 member of 239.7.7.11 on v0, gets one from s4i, a sender kept across
 * the points whose IP_MULTICAST_IF is v0 given by index alone (struct
 * ip_mreqn; issue 10: getsockopt gives the index back to nobody, the restart
 * lost it and s4i sent through lo, where r4v hears nothing). Then r4v gets one
 * from each of two IPv6 senders kept across the points that send to the
 * IPv4-mapped group ::ffff:239.7.7.11 through the IPv4 IP_MULTICAST_IF they
 * were given on v0: s6i by index alone, s6a by v0's address (issue 10: an
 * IPv6 socket's IPPROTO_IP multicast options were lost at restart).
 * Each receiver must receive exactly the datagram meant for it, in order.
 * Argument "all4": without r6 (no veth). Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PORT 20977

static int ra, rs, rx, rl, r6 = -1, s, s2, s6k = -1, r4v = -1, s4i = -1, s6i = -1, s6a = -1;

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static struct sockaddr_in in4(const char *addr, int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, addr, &a.sin_addr);
    return a;
}

static int receiver(int family, int port)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    must(fd >= 0, "socket");
    struct timeval tv = { 5, 0 };
    must(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
    if (family == AF_INET6) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
        must(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    } else {
        struct sockaddr_in a = in4("0.0.0.0", port);
        must(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    }
    return fd;
}

static void group_req4(struct sockaddr_storage *ss, const char *addr)
{
    struct sockaddr_in a = in4(addr, 0);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &a, sizeof a);
}

static void setup(int with6)
{
    unsigned lo = if_nametoindex("lo");
    must(lo != 0, "if_nametoindex lo");
    struct in_addr loaddr = { htonl(INADDR_LOOPBACK) };

    ra = receiver(AF_INET, PORT);
    struct ip_mreqn m = { .imr_ifindex = (int)lo };
    inet_pton(AF_INET, "239.7.7.7", &m.imr_multiaddr);
    must(setsockopt(ra, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0, "IP_ADD_MEMBERSHIP");

    rs = receiver(AF_INET, PORT + 1);
    struct ip_mreq_source ms = { .imr_interface = loaddr, .imr_sourceaddr = loaddr };
    inet_pton(AF_INET, "232.7.7.7", &ms.imr_multiaddr);
    must(setsockopt(rs, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms) == 0, "IP_ADD_SOURCE_MEMBERSHIP");

    rx = receiver(AF_INET, PORT + 2);
    struct group_req gr = { .gr_interface = lo };
    group_req4(&gr.gr_group, "239.7.7.9");
    must(setsockopt(rx, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr) == 0, "MCAST_JOIN_GROUP");
    struct group_source_req gs = { .gsr_interface = lo };
    group_req4(&gs.gsr_group, "239.7.7.9");
    group_req4(&gs.gsr_source, "127.0.0.2");
    must(setsockopt(rx, IPPROTO_IP, MCAST_BLOCK_SOURCE, &gs, sizeof gs) == 0, "MCAST_BLOCK_SOURCE");

    rl = receiver(AF_INET, PORT + 3);
    inet_pton(AF_INET, "239.7.7.10", &m.imr_multiaddr);
    must(setsockopt(rl, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0, "IP_ADD_MEMBERSHIP rl");
    must(setsockopt(rl, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m) == 0, "IP_DROP_MEMBERSHIP rl");

    must((s = socket(AF_INET, SOCK_DGRAM, 0)) >= 0 && (s2 = socket(AF_INET, SOCK_DGRAM, 0)) >= 0, "socket");
    struct sockaddr_in from2 = in4("127.0.0.2", 0);
    must(bind(s2, (struct sockaddr *)&from2, sizeof from2) == 0, "bind 127.0.0.2");
    must(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &loaddr, sizeof loaddr) == 0, "IP_MULTICAST_IF");
    must(setsockopt(s2, IPPROTO_IP, IP_MULTICAST_IF, &loaddr, sizeof loaddr) == 0, "IP_MULTICAST_IF 2");

    if (!with6)
        return;
    unsigned v0 = if_nametoindex("v0");
    must(v0 != 0, "if_nametoindex v0");
    r6 = receiver(AF_INET6, PORT + 4);
    struct ipv6_mreq m6 = { .ipv6mr_interface = v0 };
    inet_pton(AF_INET6, "ff15::7777", &m6.ipv6mr_multiaddr);
    must(setsockopt(r6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6) == 0, "IPV6_JOIN_GROUP");

    s6k = socket(AF_INET6, SOCK_DGRAM, 0);
    must(s6k >= 0 && setsockopt(s6k, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v0, sizeof v0) == 0, "s6k on v0");
    r4v = receiver(AF_INET, PORT + 5);
    struct ip_mreqn mv = { .imr_ifindex = (int)v0 };
    inet_pton(AF_INET, "239.7.7.11", &mv.imr_multiaddr);
    must(setsockopt(r4v, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mv, sizeof mv) == 0, "IP_ADD_MEMBERSHIP r4v on v0");
    s4i = socket(AF_INET, SOCK_DGRAM, 0);
    struct ip_mreqn out = { .imr_ifindex = (int)v0 };   /* by index alone */
    must(s4i >= 0 && setsockopt(s4i, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) == 0, "s4i on v0");
    /* IPv6 sockets (IPV6_V6ONLY off, the default) with the IPv4 option */
    s6i = socket(AF_INET6, SOCK_DGRAM, 0);
    must(s6i >= 0 && setsockopt(s6i, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) == 0, "s6i on v0");
    struct in_addr v0addr;
    inet_pton(AF_INET, "10.77.0.1", &v0addr);
    s6a = socket(AF_INET6, SOCK_DGRAM, 0);
    must(s6a >= 0 && setsockopt(s6a, IPPROTO_IP, IP_MULTICAST_IF, &v0addr, sizeof v0addr) == 0, "s6a on v0");
}

static void send4(int fd, const char *addr, int port, const char *msg)
{
    struct sockaddr_in a = in4(addr, port);
    must(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)strlen(msg), "sendto");
}

static void expect(int fd, const char *who, const char *msg, const char *when)
{
    char got[64] = "", name[160];
    ssize_t n = recv(fd, got, sizeof got - 1, 0);
    if (n > 0)
        got[n] = 0;
    snprintf(name, sizeof name, "%s gets the datagram meant for it %s", who, when);
    crt_check(name, n > 0 && strcmp(got, msg) == 0, "got %zd bytes '%s' (%s), expected '%s'", n, got,
              n < 0 ? strerror(errno) : "", msg);
}

static void check(const char *when)
{
    static int round;
    char msg[48], no[48];
    round++;
    snprintf(msg, sizeof msg, "ra %d", round);
    send4(s, "239.7.7.7", PORT, msg);
    expect(ra, "ra (any-source member of 239.7.7.7)", msg, when);

    snprintf(no, sizeof no, "rs %d from 127.0.0.2", round);
    snprintf(msg, sizeof msg, "rs %d", round);
    send4(s2, "232.7.7.7", PORT + 1, no);
    send4(s, "232.7.7.7", PORT + 1, msg);
    expect(rs, "rs (member of 232.7.7.7 for 127.0.0.1 only)", msg, when);

    snprintf(no, sizeof no, "rx %d from 127.0.0.2", round);
    snprintf(msg, sizeof msg, "rx %d", round);
    send4(s2, "239.7.7.9", PORT + 2, no);
    send4(s, "239.7.7.9", PORT + 2, msg);
    expect(rx, "rx (member of 239.7.7.9 blocking 127.0.0.2)", msg, when);

    snprintf(no, sizeof no, "rl %d to the group", round);
    snprintf(msg, sizeof msg, "rl %d", round);
    send4(s, "239.7.7.10", PORT + 3, no);
    send4(s, "127.0.0.1", PORT + 3, msg);
    expect(rl, "rl (left 239.7.7.10)", msg, when);

    if (r6 < 0)
        return;
    unsigned v0 = if_nametoindex("v0");
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    must(s6 >= 0 && v0 && setsockopt(s6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v0, sizeof v0) == 0,
         "IPv6 sender on v0");
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(PORT + 4) };
    inet_pton(AF_INET6, "ff15::7777", &a.sin6_addr);
    snprintf(msg, sizeof msg, "r6 %d", round);
    must(sendto(s6, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)strlen(msg), "sendto ff15::7777");
    close(s6);
    expect(r6, "r6 (member of ff15::7777 on v0)", msg, when);

    snprintf(msg, sizeof msg, "r6 %d from s6k", round);
    must(sendto(s6k, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)strlen(msg), "sendto s6k");
    expect(r6, "r6 (from s6k, whose IPV6_MULTICAST_IF is v0)", msg, when);

    snprintf(msg, sizeof msg, "r4v %d", round);
    send4(s4i, "239.7.7.11", PORT + 5, msg);
    expect(r4v, "r4v (member of 239.7.7.11 on v0; from s4i, whose IP_MULTICAST_IF is v0 by index)", msg, when);

    struct sockaddr_in6 m4 = { .sin6_family = AF_INET6, .sin6_port = htons(PORT + 5) };
    inet_pton(AF_INET6, "::ffff:239.7.7.11", &m4.sin6_addr);
    snprintf(msg, sizeof msg, "r4v %d from s6i", round);
    must(sendto(s6i, msg, strlen(msg), 0, (struct sockaddr *)&m4, sizeof m4) == (ssize_t)strlen(msg), "sendto s6i");
    expect(r4v, "r4v (from IPv6 s6i, whose IPv4 IP_MULTICAST_IF is v0 by index)", msg, when);
    snprintf(msg, sizeof msg, "r4v %d from s6a", round);
    must(sendto(s6a, msg, strlen(msg), 0, (struct sockaddr *)&m4, sizeof m4) == (ssize_t)strlen(msg), "sendto s6a");
    expect(r4v, "r4v (from IPv6 s6a, whose IPv4 IP_MULTICAST_IF is v0's address)", msg, when);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all4";
    setup(strcmp(mode, "all") == 0);
    crt_check_around_points(check);
}

/*
 * State test: raw IP sockets and ICMP "ping" sockets (issue 10: refused at
 * checkpoint as "a family or type Revive does not restore"). Run inside a
 * network namespace of its own, as root or with CAP_NET_RAW there, whose lo
 * is up and whose net.ipv4.ping_group_range lets the program's group make
 * ping sockets (crs_raw.sh). Sockets kept across the points:
 *   p4   an IPv4 ping socket (SOCK_DGRAM, IPPROTO_ICMP)
 *   p6   an IPv6 ping socket (SOCK_DGRAM, IPPROTO_ICMPV6)
 *   ri   a raw ICMP socket bound to 127.0.0.1 whose ICMP_FILTER lets only
 *        echo replies through (lo carries each echo request too)
 *   rh   a raw socket of protocol 254 with IP_HDRINCL: it sends whole IPv4
 *        packets of protocol 253 it builds, from 127.0.0.2 or 127.0.0.1 (not
 *        of its own protocol: it would hear them itself, and never reads)
 *   rc   a raw socket of protocol 253 connect(2)ed to 127.0.0.1: it hears
 *        only packets from there
 *   r6   a raw IPv6 socket of protocol 253 with IPV6_CHECKSUM at offset 0
 * At each check: p4 and p6 ping the loopback address and get their replies
 * (with their own identifiers); ri gets p4's reply and not its request; rh
 * sends a packet from 127.0.0.2 (which rc must not hear), then one from
 * 127.0.0.1, which rc must get byte for byte (without IP_HDRINCL the
 * kernel would put its own header, of protocol 254, before the one rh
 * built, and rc would hear nothing); r6 sends to ::1
 * and hears itself, its checksum filled in at offset 0 by the kernel.
 * CRT_RAW_DROP=UID: the program becomes user UID once the sockets are made (below).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PROTO 253
#define SENDER_PROTO 254

static int p4, p6, ri, rh, rc, r6;

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static void timeout(int fd)
{
    struct timeval tv = { 5, 0 };
    must(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
}

static struct sockaddr_in in4(const char *addr)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    inet_pton(AF_INET, addr, &a.sin_addr);
    return a;
}

static void setup(void)
{
    must((p4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)) >= 0, "ping socket (net.ipv4.ping_group_range)");
    must((p6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)) >= 0, "ping6 socket");
    must((ri = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) >= 0, "raw ICMP socket (CAP_NET_RAW)");
    struct sockaddr_in lo = in4("127.0.0.1");
    must(bind(ri, (struct sockaddr *)&lo, sizeof lo) == 0, "bind ri");
    struct icmp_filter f = { .data = ~(1u << ICMP_ECHOREPLY) };
    must(setsockopt(ri, SOL_RAW, ICMP_FILTER, &f, sizeof f) == 0, "ICMP_FILTER");
    must((rh = socket(AF_INET, SOCK_RAW, SENDER_PROTO)) >= 0, "raw socket rh");
    int one = 1;
    must(setsockopt(rh, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) == 0, "IP_HDRINCL");
    must((rc = socket(AF_INET, SOCK_RAW, PROTO)) >= 0, "raw socket rc");
    must(connect(rc, (struct sockaddr *)&lo, sizeof lo) == 0, "connect rc");
    must((r6 = socket(AF_INET6, SOCK_RAW, PROTO)) >= 0, "raw IPv6 socket r6");
    int off = 0;
    must(setsockopt(r6, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof off) == 0, "IPV6_CHECKSUM");
    int fds[] = { p4, p6, ri, rc, r6 };
    for (size_t k = 0; k < sizeof fds / sizeof *fds; k++)
        timeout(fds[k]);
}

static void ping(int fd, int family, int round, const char *who, const char *when)
{
    unsigned char req[64], got[256];
    struct icmphdr *h = (struct icmphdr *)req;   /* type, code, checksum, id, sequence: alike for v6 */
    memset(req, 0, sizeof req);
    h->type = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    h->un.echo.sequence = htons((uint16_t)round);
    snprintf((char *)req + 8, sizeof req - 8, "%s %d", who, round);
    size_t len = 8 + strlen((char *)req + 8);
    struct sockaddr_storage to;
    socklen_t tl;
    memset(&to, 0, sizeof to);
    if (family == AF_INET) {
        struct sockaddr_in a = in4("127.0.0.1");
        memcpy(&to, &a, sizeof a);
        tl = sizeof a;
    } else {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        memcpy(&to, &a, sizeof a);
        tl = sizeof a;
    }
    must(sendto(fd, req, len, 0, (struct sockaddr *)&to, tl) == (ssize_t)len, "sendto ping");
    ssize_t n = recv(fd, got, sizeof got, 0);
    const struct icmphdr *r = (const struct icmphdr *)got;
    char name[96];
    snprintf(name, sizeof name, "%s gets its echo reply %s", who, when);
    crt_check(name, n == (ssize_t)len && r->type == (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) &&
                    ntohs(r->un.echo.sequence) == round && !memcmp(got + 8, req + 8, len - 8),
              "got %zd bytes (%s), type %d, sequence %d", n, n < 0 ? strerror(errno) : "", n > 0 ? r->type : -1,
              n >= 8 ? ntohs(r->un.echo.sequence) : -1);
}

/* An IPv4 packet of protocol PROTO from `from` to 127.0.0.1 holding msg, built whole. */
static size_t packet(unsigned char *buf, const char *from, const char *msg)
{
    struct iphdr *ip = (struct iphdr *)buf;
    size_t len = sizeof *ip + strlen(msg);
    memset(ip, 0, sizeof *ip);
    ip->version = 4;
    ip->ihl = 5;
    ip->ttl = 9;
    ip->protocol = PROTO;
    ip->tot_len = htons((uint16_t)len);
    inet_pton(AF_INET, from, &ip->saddr);
    inet_pton(AF_INET, "127.0.0.1", &ip->daddr);
    memcpy(buf + sizeof *ip, msg, strlen(msg));
    return len;
}

static void check(const char *when)
{
    static int round;
    char msg[64], name[128];
    unsigned char pkt[128], got[256];
    round++;
    ping(p4, AF_INET, round, "p4", when);
    ping(p6, AF_INET6, round, "p6", when);

    /* ri: p4's request and reply both went through lo; its filter lets the reply alone by */
    ssize_t n = recv(ri, got, sizeof got, 0);
    const struct icmphdr *h = n > 20 ? (const struct icmphdr *)(got + 20) : NULL;
    snprintf(name, sizeof name, "ri (ICMP_FILTER: echo replies only) gets p4's reply %s", when);
    crt_check(name, h && h->type == ICMP_ECHOREPLY && ntohs(h->un.echo.sequence) == round,
              "got %zd bytes (%s), ICMP type %d", n, n < 0 ? strerror(errno) : "", h ? h->type : -1);

    struct sockaddr_in lo = in4("127.0.0.1");
    snprintf(msg, sizeof msg, "from 127.0.0.2 %d", round);
    size_t len = packet(pkt, "127.0.0.2", msg);
    must(sendto(rh, pkt, len, 0, (struct sockaddr *)&lo, sizeof lo) == (ssize_t)len, "sendto rh 127.0.0.2");
    snprintf(msg, sizeof msg, "rh %d", round);
    len = packet(pkt, "127.0.0.1", msg);
    must(sendto(rh, pkt, len, 0, (struct sockaddr *)&lo, sizeof lo) == (ssize_t)len, "sendto rh");
    n = recv(rc, got, sizeof got, 0);
    snprintf(name, sizeof name, "rc (connected to 127.0.0.1) gets rh's packet (IP_HDRINCL) whole %s", when);
    crt_check(name, n == (ssize_t)len && !memcmp(got + 20, pkt + 20, len - 20) && got[9] == PROTO,
              "got %zd bytes (%s) '%.*s', expected %zu '%s'", n, n < 0 ? strerror(errno) : "",
              n > 20 ? (int)(n - 20) : 0, n > 20 ? (char *)got + 20 : "", len, msg);

    struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    unsigned char m6[32];
    memset(m6, 0, sizeof m6);
    snprintf((char *)m6 + 2, sizeof m6 - 2, "r6 %d", round);
    size_t l6 = 2 + strlen((char *)m6 + 2);
    must(sendto(r6, m6, l6, 0, (struct sockaddr *)&lo6, sizeof lo6) == (ssize_t)l6, "sendto r6");
    n = recv(r6, got, sizeof got, 0);
    snprintf(name, sizeof name, "r6 (IPV6_CHECKSUM at 0) hears itself, the checksum filled in %s", when);
    crt_check(name, n == (ssize_t)l6 && !memcmp(got + 2, m6 + 2, l6 - 2) && (got[0] || got[1]),
              "got %zd bytes (%s), checksum %02x%02x", n, n < 0 ? strerror(errno) : "", n > 1 ? got[0] : 0,
              n > 1 ? got[1] : 0);
}

/* CRT_RAW_DROP=UID: once its sockets are made the program (run as root) becomes user UID (its
 * group too, no supplementary groups), as a privilege-dropping daemon does: every thread (glibc
 * changes all) loses CAP_NET_RAW, libcr's too, and no raw socket can be made any more; those it
 * has go on working (diffrev27 K-M1: the checkpoint was refused, unable to make a socket like
 * them to read the defaults of their options). A capability dropped in one thread only
 * (capset) is not that case: libcr's thread, made before, keeps it. */
static void drop_to(const char *uid)
{
    uid_t u = (uid_t)strtoul(uid, NULL, 10);
    if (setgroups(0, NULL) != 0 || setresgid(u, u, u) != 0 || setresuid(u, u, u) != 0)
        crt_die("becoming user %s: %s", uid, strerror(errno));
    /* the change of user made it undumpable: its /proc/self/mem closed to itself, which a
     * checkpoint reads (a daemon that wants core dumps or checkpoints says so again) */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        crt_die("PR_SET_DUMPABLE: %s", strerror(errno));
    if (socket(AF_INET, SOCK_RAW, 253) >= 0 || errno != EPERM)
        crt_die("a raw socket can still be made as user %s", uid);
}

int main(void)
{
    setup();
    const char *drop = getenv("CRT_RAW_DROP");
    if (drop && *drop)
        drop_to(drop);
    crt_check_around_points(check);
}

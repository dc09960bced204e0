/*
 * State test: a UDP socket and multicast groups (issue 10). Run inside a
 * network namespace of its own whose lo carries multicast (crs_mcast.sh).
 * The argument says what the receiver r did before the checkpoint points:
 *   join4  IP_ADD_MEMBERSHIP of 239.7.7.7 on lo
 *   ssm4   IP_ADD_SOURCE_MEMBERSHIP of 232.7.7.7 from 127.0.0.1 on lo
 *   join6  IPV6_JOIN_GROUP of ff15::7777 on lo (an IPv6 socket)
 *   left   joined 239.7.7.7 and dropped it again
 * A checkpoint of a member must be refused naming the group (the restart
 * would not be one: crs_mcast.sh); the program itself must go on. At each
 * check a sender s sends a datagram to the group (a member) or to r's
 * address (left), and r must receive exactly it. Contract: crt_common.h.
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

static const char *mode = "join4";
static int r, s, v6;
static struct sockaddr_storage to;
static socklen_t tolen;

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static void setup(void)
{
    v6 = strcmp(mode, "join6") == 0;
    int fam = v6 ? AF_INET6 : AF_INET;
    must((r = socket(fam, SOCK_DGRAM, 0)) >= 0 && (s = socket(fam, SOCK_DGRAM, 0)) >= 0, "socket");
    struct timeval tv = { 5, 0 };
    must(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
    unsigned lo = if_nametoindex("lo");
    must(lo != 0, "if_nametoindex lo");
    if (v6) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(20977) };
        must(bind(r, (struct sockaddr *)&a, sizeof a) == 0, "bind r");
        struct ipv6_mreq m = { .ipv6mr_interface = lo };
        inet_pton(AF_INET6, "ff15::7777", &m.ipv6mr_multiaddr);
        must(setsockopt(r, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) == 0, "IPV6_JOIN_GROUP");
        must(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &lo, sizeof lo) == 0, "IPV6_MULTICAST_IF");
        a.sin6_addr = m.ipv6mr_multiaddr;
        memcpy(&to, &a, sizeof a);
        tolen = sizeof a;
        return;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(20977) };
    must(bind(r, (struct sockaddr *)&a, sizeof a) == 0, "bind r");
    struct in_addr loaddr = { htonl(INADDR_LOOPBACK) };
    must(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &loaddr, sizeof loaddr) == 0, "IP_MULTICAST_IF");
    if (strcmp(mode, "ssm4") == 0) {
        struct ip_mreq_source m = { .imr_interface = loaddr, .imr_sourceaddr = loaddr };
        inet_pton(AF_INET, "232.7.7.7", &m.imr_multiaddr);
        must(setsockopt(r, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &m, sizeof m) == 0, "IP_ADD_SOURCE_MEMBERSHIP");
        a.sin_addr = m.imr_multiaddr;
    } else {
        struct ip_mreqn m = { .imr_ifindex = (int)lo };
        inet_pton(AF_INET, "239.7.7.7", &m.imr_multiaddr);
        must(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0, "IP_ADD_MEMBERSHIP");
        a.sin_addr = m.imr_multiaddr;
        if (strcmp(mode, "left") == 0) {
            must(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m) == 0, "IP_DROP_MEMBERSHIP");
            a.sin_addr = loaddr;   /* r's own address */
        }
    }
    memcpy(&to, &a, sizeof a);
    tolen = sizeof a;
}

static void check(const char *when)
{
    static int round;
    char msg[32], got[64] = "", name[160];
    snprintf(msg, sizeof msg, "datagram %d", ++round);
    must(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, tolen) == (ssize_t)strlen(msg), "sendto");
    ssize_t n = recv(r, got, sizeof got - 1, 0);
    if (n > 0)
        got[n] = 0;
    snprintf(name, sizeof name, "%s: the receiver gets the datagram sent to %s %s", mode,
             strcmp(mode, "left") == 0 ? "its address" : "the group", when);
    crt_check(name, n > 0 && strcmp(got, msg) == 0, "got %zd bytes '%s' (%s), expected '%s'", n, got,
              n < 0 ? strerror(errno) : "", msg);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        mode = argv[1];
    setup();
    crt_check_around_points(check);
}

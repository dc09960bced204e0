/* The socket options an image records: the table (sockopts.h). What is not
 * here, and why: TCP_QUICKACK (the kernel turns quick acknowledgements on
 * and off by itself, so the value read is a moment's state, not a setting),
 * TCP_MAXSEG and TCP_WINDOW_CLAMP (a connection reads what it negotiated),
 * multicast group memberships (IP_ADD_MEMBERSHIP, IPV6_JOIN_GROUP: no
 * getsockopt lists a socket's groups, and a group with its interface and
 * sources does not fit a record: the MCAST section keeps them,
 * uspace/capture_mcast.c, uspace/restore_mcast.c). SO_REUSEADDR,
 * SO_REUSEPORT, SO_KEEPALIVE, SO_PASSCRED, TCP_NODELAY and IPV6_V6ONLY are
 * flags of the socket's own record (CRS_SOCK_F_*). */
#define _GNU_SOURCE
#include "crs/base/sockopts.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define IP4 CRS_SOCKOPT_INET
#define IP6 CRS_SOCKOPT_INET6
#define IPANY (CRS_SOCKOPT_INET | CRS_SOCKOPT_INET6)
#define TCP (IPANY | CRS_SOCKOPT_TCP)
/* IPv4 multicast options of IPv4 and IPv6 datagram sockets alike: an IPv6
 * socket sends to IPv4-mapped groups (::ffff:239.x) with its IPPROTO_IP
 * multicast interface, TTL and loop (issue 10: an IPv6 socket's were lost) */
#define MC4 (IPANY | CRS_SOCKOPT_DGRAM)
#define MC6 (IP6 | CRS_SOCKOPT_DGRAM)
#define RAW4 (IP4 | CRS_SOCKOPT_RAW)
#define RAW6 (IP6 | CRS_SOCKOPT_RAW)
#ifndef ICMP_FILTER
#define ICMP_FILTER 1        /* linux/icmp.h: a raw ICMP socket's filter of types (struct icmp_filter) */
#endif
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36      /* linux/in6.h */
#endif
#define ROW(level, name, applies, how) { level, name, #name, applies, how }

const struct crs_sockopt_desc crs_sockopts[] = {
    ROW(SOL_SOCKET, SO_RCVTIMEO, CRS_SOCKOPT_ANY, CRS_SOCKOPT_TIMEVAL),
    ROW(SOL_SOCKET, SO_SNDTIMEO, CRS_SOCKOPT_ANY, CRS_SOCKOPT_TIMEVAL),
    ROW(SOL_SOCKET, SO_RCVBUF, CRS_SOCKOPT_ANY, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_BUF),
    ROW(SOL_SOCKET, SO_SNDBUF, CRS_SOCKOPT_ANY, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_BUF),
    ROW(SOL_SOCKET, SO_RCVLOWAT, CRS_SOCKOPT_ANY, 0),
    ROW(SOL_SOCKET, SO_LINGER, CRS_SOCKOPT_ANY, CRS_SOCKOPT_LINGER),
    ROW(SOL_SOCKET, SO_TIMESTAMP, CRS_SOCKOPT_ANY, 0),
    ROW(SOL_SOCKET, SO_TIMESTAMPNS, CRS_SOCKOPT_ANY, 0),
    ROW(SOL_SOCKET, SO_RXQ_OVFL, CRS_SOCKOPT_ANY, 0),
    ROW(SOL_SOCKET, SO_BROADCAST, IPANY, 0),
    ROW(SOL_SOCKET, SO_DONTROUTE, IPANY, 0),
    ROW(SOL_SOCKET, SO_MARK, IPANY, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_PRIV),
    ROW(SOL_SOCKET, SO_BINDTODEVICE, IPANY, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_STR | CRS_SOCKOPT_PRIV),
    ROW(SOL_SOCKET, SO_OOBINLINE, TCP, 0),
    ROW(IPPROTO_TCP, TCP_KEEPIDLE, TCP, 0),
    ROW(IPPROTO_TCP, TCP_KEEPINTVL, TCP, 0),
    ROW(IPPROTO_TCP, TCP_KEEPCNT, TCP, 0),
    ROW(IPPROTO_TCP, TCP_USER_TIMEOUT, TCP, 0),
    ROW(IPPROTO_TCP, TCP_CORK, TCP, 0),
    ROW(IPPROTO_TCP, TCP_NOTSENT_LOWAT, TCP, 0),
    ROW(IPPROTO_TCP, TCP_LINGER2, TCP, 0),
    ROW(IPPROTO_TCP, TCP_DEFER_ACCEPT, TCP, 0),
    ROW(IPPROTO_TCP, TCP_SYNCNT, TCP, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_TCP, TCP_CONGESTION, TCP, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_STR | CRS_SOCKOPT_PRIV),
    ROW(IPPROTO_IP, IP_TOS, IP4, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IP, IP_TTL, IP4, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IP, IP_MTU_DISCOVER, IP4, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IP, IP_FREEBIND, IP4, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IP, IP_TRANSPARENT, IP4, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_PRIV),
    ROW(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, IP4, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IP, IP_MULTICAST_IF, MC4, CRS_SOCKOPT_ADDR4),
    ROW(IPPROTO_IP, IP_MULTICAST_TTL, MC4, 0),
    ROW(IPPROTO_IP, IP_MULTICAST_LOOP, MC4, 0),
    ROW(IPPROTO_IP, IP_MULTICAST_ALL, MC4, 0),
    ROW(IPPROTO_IP, IP_RECVERR, IP4, 0),
    ROW(IPPROTO_IP, IP_PKTINFO, IP4, 0),
    ROW(IPPROTO_IP, IP_RECVTOS, IP4, 0),
    ROW(IPPROTO_IP, IP_RECVTTL, IP4, 0),
    ROW(IPPROTO_IP, IP_HDRINCL, RAW4, 0),
    ROW(SOL_RAW, ICMP_FILTER, RAW4, 0),
    ROW(IPPROTO_IPV6, IPV6_UNICAST_HOPS, IP6, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IPV6, IPV6_TCLASS, IP6, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP6, CRS_SOCKOPT_EARLY),
    ROW(IPPROTO_IPV6, IPV6_MULTICAST_IF, MC6, 0),
    ROW(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, MC6, 0),
    ROW(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, MC6, 0),
    ROW(IPPROTO_IPV6, IPV6_RECVERR, IP6, 0),
    ROW(IPPROTO_IPV6, IPV6_RECVPKTINFO, IP6, 0),
    ROW(IPPROTO_IPV6, IPV6_RECVTCLASS, IP6, 0),
    ROW(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, IP6, 0),
    ROW(IPPROTO_IPV6, IPV6_CHECKSUM, RAW6, 0),
    ROW(IPPROTO_IPV6, IPV6_HDRINCL, RAW6, 0),
    /* after IP_TOS and IPV6_TCLASS, which set it too: a restart sets options in this order */
    ROW(SOL_SOCKET, SO_PRIORITY, CRS_SOCKOPT_ANY, CRS_SOCKOPT_EARLY | CRS_SOCKOPT_PRIV),
};
const size_t crs_nsockopts = sizeof crs_sockopts / sizeof crs_sockopts[0];

const struct crs_sockopt_desc *crs_sockopt_find(int level, int name)
{
    for (size_t i = 0; i < crs_nsockopts; i++)
        if (crs_sockopts[i].level == level && crs_sockopts[i].name == name)
            return &crs_sockopts[i];
    return NULL;
}

int crs_sockopt_applies(const struct crs_sockopt_desc *d, int family, int type)
{
    unsigned fam = family == AF_UNIX ? CRS_SOCKOPT_UNIX : family == AF_INET ? CRS_SOCKOPT_INET
                 : family == AF_INET6 ? CRS_SOCKOPT_INET6 : 0;
    if (!(d->applies & fam))
        return 0;
    if ((d->applies & CRS_SOCKOPT_DGRAM) && type == SOCK_STREAM)
        return 0;
    if ((d->applies & CRS_SOCKOPT_RAW) && type != SOCK_RAW)
        return 0;
    return !(d->applies & CRS_SOCKOPT_TCP) || type == SOCK_STREAM;
}

void crs_sockopt_value_text(const struct crs_rec_sockopt *o, char *out, size_t cap)
{
    const struct crs_sockopt_desc *d = crs_sockopt_find(o->level, o->name);
    unsigned how = d ? d->how : 0;
    size_t len = o->len < sizeof o->value ? o->len : sizeof o->value;
    if ((how & CRS_SOCKOPT_TIMEVAL) && len == sizeof(struct timeval)) {
        struct timeval tv;
        memcpy(&tv, o->value, sizeof tv);
        snprintf(out, cap, "%lld.%06ld s", (long long)tv.tv_sec, (long)tv.tv_usec);
    } else if ((how & CRS_SOCKOPT_LINGER) && len == sizeof(struct linger)) {
        struct linger l;
        memcpy(&l, o->value, sizeof l);
        snprintf(out, cap, "%s, %d s", l.l_onoff ? "on" : "off", l.l_linger);
    } else if (how & CRS_SOCKOPT_STR) {
        snprintf(out, cap, "%.*s", (int)strnlen((const char *)o->value, len), (const char *)o->value);
    } else if ((how & CRS_SOCKOPT_ADDR4) && len == 4) {
        char a[INET_ADDRSTRLEN];
        snprintf(out, cap, "%s", inet_ntop(AF_INET, o->value, a, sizeof a) ? a : "?");
    } else if (len == sizeof(int)) {
        int v;
        memcpy(&v, o->value, sizeof v);
        snprintf(out, cap, "%d%s", v, how & CRS_SOCKOPT_BUF ? " bytes" : "");
    } else {
        size_t n = 0;
        out[0] = 0;
        for (size_t k = 0; k < len && n + 3 < cap; k++)
            n += (size_t)snprintf(out + n, cap - n, "%02x", o->value[k]);
    }
}

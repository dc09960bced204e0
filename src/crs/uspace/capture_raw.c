/* Raw IP sockets (SOCK_RAW of AF_INET and AF_INET6, any protocol) and ICMP
 * "ping" sockets (SOCK_DGRAM with IPPROTO_ICMP or IPPROTO_ICMPV6), issue 10:
 * refused before as "a family or type Revive does not restore". Such a
 * socket is made again at restart with its family, type and protocol
 * (SOCK_RAW needs CAP_NET_RAW then: restore_raw.c refuses without it, naming
 * the descriptor), bound to its address (a raw socket's "port" is its
 * protocol, a ping socket's its ICMP identifier) and connected again to its
 * peer; its options are SOCKOPTS (IP_HDRINCL, ICMP_FILTER, ICMP6_FILTER,
 * IPV6_CHECKSUM... crs/base/sockopts.c). The peer is read from
 * /proc/self/net/{raw,raw6,icmp,icmp6}: getpeername fails on such a socket
 * connected with port 0 (ENOTCONN), as it always is. Packets waiting unread
 * came from outside the process (a raw socket gets a copy of every packet
 * of its protocol, a ping socket its echo replies): no socket of the process
 * can send them again, so such a checkpoint is refused as a passing state
 * (c->passing: the program reads them within moments and the checkpoint is
 * tried again). No stdio or malloc here: scratch. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/procfs.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        if (b[k])
            return 0;
    return 1;
}

int crs_capture_is_raw(const struct crs_rec_socket *s)
{
    if (s->family != AF_INET && s->family != AF_INET6)
        return 0;
    return s->type == SOCK_RAW ||
           (s->type == SOCK_DGRAM && (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6));
}

/* The /proc/self/net file that lists socket s. */
static const char *net_file(const struct crs_rec_socket *s)
{
    if (s->type == SOCK_RAW)
        return s->family == AF_INET ? "/proc/self/net/raw" : "/proc/self/net/raw6";
    return s->family == AF_INET ? "/proc/self/net/icmp" : "/proc/self/net/icmp6";
}

/* The hex address "0100007F:0000" or "...32 digits...:0000" as the kernel
 * prints it (each 32-bit word as a number) into a sockaddr of family; its
 * length, 0 when malformed. */
static uint32_t parse_addr(int family, const char *p, size_t len, uint8_t *out)
{
    size_t words = family == AF_INET ? 1 : 4;
    if (len != words * 8 + 5 || p[words * 8] != ':')
        return 0;
    uint32_t w[4];
    for (size_t k = 0; k < words; k++) {
        char hex[9];
        memcpy(hex, p + 8 * k, 8);
        hex[8] = 0;
        w[k] = (uint32_t)strtoul(hex, NULL, 16);
    }
    char ph[5];
    memcpy(ph, p + words * 8 + 1, 4);
    ph[4] = 0;
    uint16_t port = htons((uint16_t)strtoul(ph, NULL, 16));
    if (family == AF_INET) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = port };
        memcpy(&a.sin_addr, w, 4);
        memcpy(out, &a, sizeof a);
        return sizeof a;
    }
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = port };
    memcpy(&a.sin6_addr, w, 16);
    memcpy(out, &a, sizeof a);
    return sizeof a;
}

/* Socket i's peer from its /proc/self/net line (found by its inode): set in
 * s->remote when the kernel lists it connected (state 01). 0, or -errno
 * with the message. */
static int peer_of(struct crs_capture *c, size_t i, struct crs_rec_socket *s)
{
    const char *file = net_file(s);
    size_t cap = 1u << 16;
    char *buf = NULL;
    long len = -ENOSPC;
    for (int tries = 0; tries < 8 && len == -ENOSPC; tries++, cap *= 4)
        len = (buf = crs_scratch_alloc(c->scratch, cap)) ? revive_read_file(file, buf, cap) : -ENOMEM;
    if (len < 0) {
        crs_capture_error(c, "cannot read %s to tell where socket descriptor %d is connected: %s", file,
                          c->sock_fd[i], strerror((int)-len));
        return (int)len;
    }
    for (char *line = buf; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        const char *tok[10];
        size_t toklen[10], n = crs_capture_net_fields(line, tok, toklen, 10);
        uint64_t ino;
        const char *q = n == 10 ? tok[9] : NULL;
        if (q && !revive_parse_u64(&q, &ino) && ino == c->sock_ino[i]) {
            if (toklen[3] == 2 && !memcmp(tok[3], "01", 2))   /* TCP_ESTABLISHED: connect(2)ed */
                s->remote_len = parse_addr(s->family, tok[2], toklen[2], s->remote);
            return 0;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;   /* not listed (closed meanwhile): taken as not connected */
}

int crs_capture_raw(struct crs_capture *c, size_t i)
{
    struct crs_rec_socket *s = &c->sockets[i];
    int fd = c->sock_fd[i];
    /* bound again to its address: a wildcard one binds nothing more, a ping socket's identifier
     * (its "port") comes back with it */
    s->state = s->local_len ? CRS_SOCK_BOUND : CRS_SOCK_UNBOUND;
    s->remote_len = 0;
    int e = peer_of(c, i, s);
    if (e)
        return e;
    if (s->family == AF_INET6 && s->type == SOCK_RAW && s->protocol == IPPROTO_ICMPV6) {
        /* 32 bytes, more than a SOCKOPTS value holds: refused rather than lost */
        struct icmp6_filter f;
        socklen_t l = sizeof f;
        memset(&f, 0, sizeof f);
        if (getsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, &l) == 0 && !all_zero(&f, sizeof f)) {
            crs_capture_error(c, "socket descriptor %d is a raw ICMPv6 socket with an ICMP6_FILTER (the ICMPv6 "
                              "types it hears), which Revive does not keep yet; an unprivileged ping socket "
                              "(SOCK_DGRAM, IPPROTO_ICMPV6) or no filter is kept%s", fd, crs_capture_ignore_hint(c));
            return 1;
        }
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        crs_capture_error(c, "socket descriptor %d is a %s socket (protocol %d) holding packets not read yet, "
                          "which came from outside the process and cannot be sent to it again; a program "
                          "reads them within moments: checkpoint again%s", fd,
                          s->type == SOCK_RAW ? "raw" : "ping", s->protocol, crs_capture_ignore_hint(c));
        c->passing = 1;
        return 1;
    }
    return 0;
}

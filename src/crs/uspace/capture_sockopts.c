/* Socket options (image_format.h: SOCKOPTS): for each socket the restart
 * makes again, the options of crs/base/sockopts.c whose value differs from
 * a new socket's of the same family, type and protocol, as getsockopt(2)
 * gives them. A new socket answers for the defaults, whatever this kernel's
 * (sysctl) defaults are; the restart keeps its own for the rest. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/sockopts.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCKOPTS_MAX 65536

/* A buffer size of a TCP connection larger than an unprivileged program may
 * ask for (twice net.core.rmem_max / wmem_max) is the kernel's own tuning,
 * which a fixed value would stop: left to the restart's kernel. */
static int autotuned(const struct crs_rec_socket *s, int name, const uint8_t *value)
{
    if (s->family == AF_UNIX || s->type != SOCK_STREAM || s->state != CRS_SOCK_CONNECTED)
        return 0;
    char buf[32] = "";
    int fd = open(name == SO_RCVBUF ? "/proc/sys/net/core/rmem_max" : "/proc/sys/net/core/wmem_max",
                  O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long max = n > 0 ? atol(buf) : 0;
    int v;
    memcpy(&v, value, sizeof v);
    return max > 0 && (long)v > 2 * max;
}

/* Whether socket record i is restored (a descriptor of the process holds it
 * as a socket, not closed or inherited). */
static int restored(const struct crs_capture *c, size_t i)
{
    for (size_t k = 0; k < c->nfds; k++)
        if (c->fds[k].kind == CRS_FD_SOCKET && c->fds[k].memfd == (int32_t)i)
            return 1;
    return 0;
}

/* Why a socket is made inside the checkpointed process (review LOW): the
 * kernel tells a socket's defaults only by a socket, and they follow this
 * machine's sysctls (net.core.rmem_default, net.ipv4.tcp_*...) and the
 * process's network namespace, which the process alone sees as it is: a
 * table in Revive would be wrong on other kernels, a socket made by
 * cr_checkpoint may sit in another namespace, and recording every option
 * would fix at restart values the process never chose (a buffer size set
 * stops the kernel's autotuning). The socket is made while every other
 * thread is parked, so the program never sees its number; once per kind
 * (family, type, protocol) rather than per socket; and closed before the
 * threads run on. A process that may not make one (a seccomp filter, its
 * descriptor limit reached) is refused, saying so. */
struct fresh_kind {
    int family, type, protocol, fd, stand_in;
};

#ifndef ICMP_FILTER
#define ICMP_FILTER 1        /* linux/icmp.h */
#endif
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36      /* linux/in6.h */
#endif

static int raw_or_ping(const struct crs_rec_socket *s)
{
    return s->type == SOCK_RAW ||
           (s->type == SOCK_DGRAM && (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6));
}

/* A socket of s's kind, made to read the defaults of its options (cached in k). A raw or ping
 * socket the process may no longer make (the usual way to hold one: opened with CAP_NET_RAW, or
 * in net.ipv4.ping_group_range, then the capability or group dropped; diffrev27 K-M1) gets a UDP
 * socket of its family instead (*stand_in 1): the same defaults but for the options only raw
 * sockets have, whose defaults raw_default knows. */
static int fresh_socket(struct fresh_kind *k, size_t *nk, size_t cap, const struct crs_rec_socket *s, int *stand_in)
{
    for (size_t j = 0; j < *nk; j++)
        if (k[j].family == (int)s->family && k[j].type == (int)s->type && k[j].protocol == (int)s->protocol) {
            *stand_in = k[j].stand_in;
            return k[j].fd;
        }
    *stand_in = 0;
    int fd = socket(s->family, s->type | SOCK_CLOEXEC, s->protocol);
    if (fd < 0 && (errno == EPERM || errno == EACCES) && raw_or_ping(s)) {
        int e = errno;
        fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
        *stand_in = fd >= 0;
        if (fd < 0)
            errno = e;
    }
    if (fd >= 0 && *nk < cap)
        k[(*nk)++] = (struct fresh_kind){ (int)s->family, (int)s->type, (int)s->protocol, fd, *stand_in };
    return fd;
}

/* The default of option d on a new socket of s's kind, for the options a UDP stand-in does not
 * have (or has otherwise): 1 with it in v and *len, 0 when the stand-in's is the default. */
static int raw_default(const struct crs_sockopt_desc *d, const struct crs_rec_socket *s, uint8_t *v, socklen_t *len)
{
    int x;
    if ((d->level == IPPROTO_IP && d->name == IP_HDRINCL) || (d->level == IPPROTO_IPV6 && d->name == IPV6_HDRINCL))
        x = s->type == SOCK_RAW && s->protocol == IPPROTO_RAW;   /* raw(7): IPPROTO_RAW implies it */
    else if (d->level == IPPROTO_IPV6 && d->name == IPV6_CHECKSUM)
        x = s->type == SOCK_RAW && s->protocol == IPPROTO_ICMPV6 ? 2 : -1;   /* raw(7) of IPv6: ICMPv6 at 2 */
    else if (d->level == SOL_RAW && d->name == ICMP_FILTER)
        x = 0;   /* struct icmp_filter: nothing filtered */
    else
        return 0;
    memcpy(v, &x, sizeof x);
    *len = sizeof x;
    return 1;
}

static void close_fresh(struct fresh_kind *k, size_t nk)
{
    for (size_t j = 0; j < nk; j++)
        close(k[j].fd);
}

static int sockopts_of(struct crs_capture *c, struct fresh_kind *kinds, size_t *nkinds, size_t cap)
{
    for (size_t i = 0; i < c->nsockets; i++) {
        const struct crs_rec_socket *s = &c->sockets[i];
        if (!restored(c, i))
            continue;
        int stand_in;
        int fresh = fresh_socket(kinds, nkinds, cap, s, &stand_in);
        if (fresh < 0) {
            int err = errno;
            crs_capture_error(c, "cannot make a socket like descriptor %d's to tell its options from the "
                              "defaults: %s (the process may not make sockets now: a seccomp filter, or its "
                              "descriptor limit, RLIMIT_NOFILE, reached)", c->sock_fd[i], strerror(err));
            return -err;
        }
        int cached = 0;   /* closed with the others at the end; else here */
        for (size_t j = 0; j < *nkinds; j++)
            cached |= kinds[j].fd == fresh;
        for (size_t k = 0; k < crs_nsockopts; k++) {
            const struct crs_sockopt_desc *d = &crs_sockopts[k];
            if (!crs_sockopt_applies(d, s->family, s->type))
                continue;
            uint8_t v[CRS_SOCKOPT_VALUE_MAX] = { 0 }, dv[CRS_SOCKOPT_VALUE_MAX] = { 0 };
            socklen_t l = sizeof v, dl = sizeof dv;
            if (getsockopt(c->sock_fd[i], d->level, d->name, v, &l) != 0)
                continue;   /* not an option of this kernel or of this socket */
            if (l == 0 || l > sizeof v)
                continue;
            int known = stand_in && raw_default(d, s, dv, &dl);
            if ((known || getsockopt(fresh, d->level, d->name, dv, &dl) == 0) && dl == l && !memcmp(v, dv, l))
                continue;   /* the default */
            char ifname[CRS_MCAST_IFNAME_MAX];
            if (d->level == IPPROTO_IPV6 && d->name == IPV6_MULTICAST_IF && crs_capture_mcast_if6(c->sock_fd[i], ifname))
                continue;   /* kept by the interface's name: capture_mcast.c */
            if ((d->how & CRS_SOCKOPT_BUF) && l == sizeof(int) && autotuned(s, d->name, v))
                continue;
            if (c->nsockopts == SOCKOPTS_MAX) {
                if (!cached)
                    close(fresh);
                crs_capture_error(c, "the process's sockets have more than %d options set", SOCKOPTS_MAX);
                return -E2BIG;
            }
            if (!c->sockopts && !(c->sockopts = crs_scratch_alloc(c->scratch, SOCKOPTS_MAX * sizeof *c->sockopts))) {
                if (!cached)
                    close(fresh);
                crs_capture_error(c, "out of scratch memory for socket options");
                return -ENOMEM;
            }
            struct crs_rec_sockopt *o = &c->sockopts[c->nsockopts++];
            memset(o, 0, sizeof *o);
            o->socket = (uint32_t)i;
            o->level = d->level;
            o->name = d->name;
            o->len = l;
            memcpy(o->value, v, l);
        }
        if (!cached)
            close(fresh);
    }
    return 0;
}

int crs_capture_sockopts(struct crs_capture *c)
{
    struct fresh_kind kinds[16];
    size_t nkinds = 0;
    int e = sockopts_of(c, kinds, &nkinds, sizeof kinds / sizeof kinds[0]);
    close_fresh(kinds, nkinds);
    return e;
}

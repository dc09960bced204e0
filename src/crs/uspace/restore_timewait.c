/* A TCP connection of the ended original left in TIME-WAIT holds the
 * addresses its restart must bind again: the end that closed first at the
 * original's exit (both ends, when they closed at once) keeps its 4-tuple for
 * up to 60 s, and a listener made without SO_REUSEADDR cannot even listen on
 * its port meanwhile. With CAP_NET_ADMIN the kernel ends such a socket on
 * request (sock_diag SOCK_DESTROY, as `ss -K` does); only the exact 4-tuples
 * of connections both of whose ends are in the image are asked for, so no
 * other process's connection is touched. When one cannot be ended (no
 * privilege, a kernel without CONFIG_INET_DIAG_DESTROY, a connection whose
 * other end was not in the image) the restart says what holds the address,
 * found by sock_diag too (crs_restore_time_wait_each; restore_sockets.c). */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request on the netlink socket fd and its first answer in ans: 0 or -errno. */
static int ask(int fd, const void *rq, void *ans, size_t cap)
{
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    const struct nlmsghdr *h = rq;
    if (sendto(fd, rq, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)h->nlmsg_len)
        return -errno;
    ssize_t n = recv(fd, ans, cap, 0);
    if (n < 0)
        return -errno;
    return n < (ssize_t)sizeof(struct nlmsghdr) ? -EPROTO : 0;
}

/* Whether the socket sock_diag describes in m is the kernel's timewait socket, the end that
 * closed first: its state is that socket's substate, TIME_WAIT, or FIN_WAIT2 while the other end
 * has not closed yet (a timewait socket all the same, holding its address as long); only a
 * timewait socket has the timewait timer (3). A full socket in FIN_WAIT2 (still open, or kept
 * when net.ipv4.tcp_fin_timeout exceeds 60 s) is not one. */
static int is_time_wait(const struct inet_diag_msg *m)
{
    return m->idiag_state == TCP_TIME_WAIT || (m->idiag_state == TCP_FIN_WAIT2 && m->idiag_timer == 3);
}

/* An address sock_diag gives (port, then 4 or 16 bytes) as a socket address of family. */
static void diag_addr(int family, uint16_t port, const uint32_t *a, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        in->sin_family = AF_INET;
        in->sin_port = port;
        memcpy(&in->sin_addr, a, 4);
    } else {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)out;
        in->sin6_family = AF_INET6;
        in->sin6_port = port;
        memcpy(&in->sin6_addr, a, 16);
    }
}

/* Every TCP socket in one of `states` (a mask of 1 << TCP_*) holding socket record s's local
 * address: seen(arg, its sock_diag message) for each, until it returns non-zero. That value, 0,
 * or -errno when sock_diag could not be asked. */
static int each_on_address(const struct crs_rec_socket *s, uint32_t states,
                           int (*seen)(void *arg, const struct inet_diag_msg *d), void *arg)
{
    if ((s->family != AF_INET && s->family != AF_INET6) || s->type != SOCK_STREAM)
        return 0;
    const struct sockaddr_in *l4 = (const struct sockaddr_in *)s->local;
    const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)s->local;
    const void *want = s->family == AF_INET ? (const void *)&l4->sin_addr : (const void *)&l6->sin6_addr;
    size_t alen = s->family == AF_INET ? 4 : 16;
    static const unsigned char any[16];
    int wildcard = !memcmp(want, any, alen);
    /* every TCP socket of the family on the port in either state a timewait socket reports; the
     * kernel compares the port itself, and so does the loop below */
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 rq;
    } m = { .nh = { .nlmsg_len = sizeof m, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
            .rq = { .sdiag_family = (uint8_t)s->family, .sdiag_protocol = IPPROTO_TCP,
                    .idiag_states = states } };
    m.rq.id.idiag_sport = s->family == AF_INET ? l4->sin_port : l6->sin6_port;
    m.rq.id.idiag_cookie[0] = m.rq.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    int e = 0, found = 0, done = 0;
    if (sendto(fd, &m, sizeof m, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof m)
        e = -errno;
    union {
        struct nlmsghdr nh;
        char buf[16384];
    } ans;
    while (!e && !done && !found) {
        ssize_t n = recv(fd, &ans, sizeof ans, 0);
        if (n < 0) {
            e = -errno;
            break;
        }
        if (n == 0) {
            e = -EPROTO;
            break;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *h = &ans.nh; !done && !found && NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
            } else if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = NLMSG_DATA(h);
                e = err->error ? err->error : -EPROTO;
                done = 1;
            } else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                const struct inet_diag_msg *d = NLMSG_DATA(h);
                if (d->id.idiag_sport != m.rq.id.idiag_sport || (!wildcard && memcmp(d->id.idiag_src, want, alen)))
                    continue;
                found = seen(arg, d);
            }
        }
    }
    close(fd);
    return e ? e : found;
}

struct tw_walk {
    int family;
    int (*cb)(void *arg, const struct sockaddr_storage *local, const struct sockaddr_storage *remote);
    void *arg;
};

static int tw_seen(void *arg, const struct inet_diag_msg *d)
{
    struct tw_walk *w = arg;
    if (!is_time_wait(d))
        return 0;
    struct sockaddr_storage local, remote;
    diag_addr(w->family, d->id.idiag_sport, d->id.idiag_src, &local);
    diag_addr(w->family, d->id.idiag_dport, d->id.idiag_dst, &remote);
    return w->cb(w->arg, &local, &remote);
}

int crs_restore_time_wait_each(const struct crs_rec_socket *s,
                               int (*cb)(void *arg, const struct sockaddr_storage *local,
                                         const struct sockaddr_storage *remote),
                               void *arg)
{
    struct tw_walk w = { s->family, cb, arg };
    return each_on_address(s, (1u << TCP_TIME_WAIT) | (1u << TCP_FIN_WAIT2), tw_seen, &w);
}

/* a socket that a process holds (an inode; a timewait socket has none) */
static int live_seen(void *arg, const struct inet_diag_msg *d)
{
    if (is_time_wait(d) || !d->idiag_inode)
        return 0;
    *(unsigned long *)arg = d->idiag_inode;
    return 1;
}

unsigned long crs_restore_live_socket_on(const struct crs_rec_socket *s)
{
    unsigned long inode = 0;
    uint32_t states = 0xfffu & ~(1u << TCP_TIME_WAIT);
    return each_on_address(s, states, live_seen, &inode) > 0 ? inode : 0;
}

int crs_restore_end_time_wait(const struct crs_rec_socket *s)
{
    if ((s->family != AF_INET && s->family != AF_INET6) || s->type != SOCK_STREAM)
        return -EAFNOSUPPORT;
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 rq;
    } m = { .nh = { .nlmsg_len = sizeof m, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST },
            .rq = { .sdiag_family = (uint8_t)s->family, .sdiag_protocol = IPPROTO_TCP,
                    .idiag_states = 1u << TCP_TIME_WAIT } };
    m.rq.id.idiag_cookie[0] = m.rq.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (s->family == AF_INET) {
        const struct sockaddr_in *l = (const struct sockaddr_in *)s->local, *p = (const struct sockaddr_in *)s->remote;
        m.rq.id.idiag_sport = l->sin_port;
        m.rq.id.idiag_dport = p->sin_port;
        memcpy(m.rq.id.idiag_src, &l->sin_addr, 4);
        memcpy(m.rq.id.idiag_dst, &p->sin_addr, 4);
    } else {
        const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)s->local, *p = (const struct sockaddr_in6 *)s->remote;
        m.rq.id.idiag_sport = l->sin6_port;
        m.rq.id.idiag_dport = p->sin6_port;
        memcpy(m.rq.id.idiag_src, &l->sin6_addr, 16);
        memcpy(m.rq.id.idiag_dst, &p->sin6_addr, 16);
    }
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -errno;
    /* The lookup by 4-tuple finds a socket in any state (a live original's
     * connection too): asked first, and ended only when in TIME-WAIT, by the
     * cookie of the very socket seen. */
    union {
        struct nlmsghdr nh;
        char buf[512];
    } ans;
    struct nlmsgerr *err = (struct nlmsgerr *)NLMSG_DATA(&ans.nh);
    const struct inet_diag_msg *seen = (const struct inet_diag_msg *)NLMSG_DATA(&ans.nh);
    int e = ask(fd, &m, &ans, sizeof ans);
    if (!e && ans.nh.nlmsg_type == NLMSG_ERROR)
        e = err->error ? err->error : -ENOENT;
    else if (!e && (ans.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY || ans.nh.nlmsg_len < NLMSG_LENGTH(sizeof *seen)))
        e = -EPROTO;
    else if (!e && !is_time_wait(seen))
        e = -EBUSY;
    if (!e) {
        memcpy(m.rq.id.idiag_cookie, seen->id.idiag_cookie, sizeof m.rq.id.idiag_cookie);
        m.nh.nlmsg_type = SOCK_DESTROY;
        m.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        e = ask(fd, &m, &ans, sizeof ans);
        if (!e)
            e = ans.nh.nlmsg_type == NLMSG_ERROR ? err->error : -EPROTO;
    }
    close(fd);
    return e;
}

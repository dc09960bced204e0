/* A TCP connection of the ended original left in TIME-WAIT holds the
 * addresses its restart must bind again: the end that closed first at the
 * original's exit (both ends, when they closed at once) keeps its 4-tuple for
 * up to 60 s, and a listener made without SO_REUSEADDR cannot even listen on
 * its port meanwhile. With CAP_NET_ADMIN the kernel ends such a socket on
 * request (sock_diag SOCK_DESTROY, as `ss -K` does); only the exact 4-tuples
 * of connections both of whose ends are in the image are asked for, so no
 * other process's connection is touched. Without the privilege the restart
 * says what holds the address (restore_sockets.c). */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
    else if (!e && seen->idiag_state != TCP_TIME_WAIT)
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

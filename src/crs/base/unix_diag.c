/* The sock_diag request for Unix sockets (unix_diag.h). */
#define _GNU_SOURCE
#include "crs/base/unix_diag.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int crs_unix_diag_request(uint64_t ino, uint32_t show)
{
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -errno;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req r;
    } req;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = sizeof req;
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | (ino ? 0 : NLM_F_DUMP);
    req.r.sdiag_family = AF_UNIX;
    req.r.udiag_states = ~0u;
    req.r.udiag_show = show;
    if (ino) {
        req.r.udiag_ino = (uint32_t)ino;
        req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u;   /* INET_DIAG_NOCOOKIE: by inode alone */
    }
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    ssize_t n = sendto(nl, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa);
    if (n != (ssize_t)sizeof req) {
        int e = n < 0 ? errno : EIO;
        close(nl);
        return -e;
    }
    return nl;
}

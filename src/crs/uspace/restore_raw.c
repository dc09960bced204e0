/* Raw IP sockets and ICMP "ping" sockets at restart (capture_raw.c says
 * what is kept). Before anything changes, each is made once to see that
 * cr_restart may: a raw socket needs CAP_NET_RAW (in the network namespace
 * cr_restart runs in), a ping socket a group within this host's
 * net.ipv4.ping_group_range (or CAP_NET_RAW for a raw one); without, the
 * restart is refused in one line naming the descriptor and what is
 * missing, instead of failing half-way. The sockets themselves are made
 * again with the others (restore_sockets.c). */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_raw(const struct crs_rec_socket *s)
{
    return (s->family == AF_INET || s->family == AF_INET6) &&
           (s->type == SOCK_RAW ||
            (s->type == SOCK_DGRAM && (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6)));
}

int crs_restore_check_raw(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nsockets; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (!is_raw(s))
            continue;
        int fd = socket(s->family, s->type | SOCK_CLOEXEC, s->protocol);
        if (fd >= 0) {
            close(fd);
            continue;
        }
        int e = errno;
        const char *fam = s->family == AF_INET ? "IPv4" : "IPv6";
        if (s->type == SOCK_RAW && (e == EPERM || e == EACCES)) {
            crs_restore_error(r, "the socket at descriptor %d is a raw %s socket (SOCK_RAW, protocol %d): making it "
                              "again needs CAP_NET_RAW, which cr_restart lacks (in its network namespace); restart "
                              "as root or with CAP_NET_RAW", crs_restore_sock_fd(r, i), fam, (int)s->protocol);
            return -EPERM;
        }
        if (s->type != SOCK_RAW && (e == EPERM || e == EACCES)) {
            crs_restore_error(r, "the socket at descriptor %d is an %s ping socket (SOCK_DGRAM, %s): this host lets "
                              "only the groups in net.ipv4.ping_group_range make one, and cr_restart's are not "
                              "among them; widen it (sysctl) or restart where they are", crs_restore_sock_fd(r, i),
                              fam, s->protocol == IPPROTO_ICMP ? "IPPROTO_ICMP" : "IPPROTO_ICMPV6");
            return -EPERM;
        }
        crs_restore_error(r, "cannot make the %s socket at descriptor %d again (%s, protocol %d): %s",
                          s->type == SOCK_RAW ? "raw" : "ping", crs_restore_sock_fd(r, i), fam, (int)s->protocol,
                          strerror(e));
        return -e;
    }
    return 0;
}

/* Multicast group memberships (issue 10): a UDP or raw socket that joined a
 * group (IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_GROUP,
 * MCAST_JOIN_SOURCE_GROUP, IPV6_JOIN_GROUP) would come back from a restart
 * without it, and never receive another datagram sent to the group. The
 * image has no place for memberships yet, so such a socket is refused,
 * naming the descriptor, the group and the interface.
 *
 * No getsockopt lists a socket's groups, but getsockopt(MCAST_MSFILTER)
 * answers for one (interface, group): the socket's filter when it joined
 * it, EADDRNOTAVAIL when not. The candidates are the groups joined on the
 * process's network namespace's interfaces (/proc/self/net/igmp, igmp6),
 * which hold every group some socket joined. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/procfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define GROUPS_MAX 256

struct mc_group {
    int family, ifindex;
    uint8_t addr[16];
    char dev[16];
};

struct mc_groups {
    struct mc_group g[GROUPS_MAX];
    size_t n;
    char text[65536];
};

static struct mc_groups groups;

static void add_group(int family, int ifindex, const char *dev, const uint8_t *addr, size_t len)
{
    if (groups.n == GROUPS_MAX)
        return;
    struct mc_group *g = &groups.g[groups.n++];
    memset(g, 0, sizeof *g);
    g->family = family;
    g->ifindex = ifindex;
    snprintf(g->dev, sizeof g->dev, "%s", dev);
    memcpy(g->addr, addr, len);
}

/* /proc/net/igmp: a line per interface ("1\tlo        :     1      V3"),
 * then a line per group ("\t\t\t\t010000E0 ...": the address as the
 * kernel's in-memory 32 bits, printed as a number). */
static void read_igmp(void)
{
    if (revive_read_file("/proc/self/net/igmp", groups.text, sizeof groups.text) <= 0)
        return;
    int ifindex = 0;
    char dev[16] = "";
    for (char *line = groups.text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (*line >= '0' && *line <= '9') {
            char *p;
            ifindex = (int)strtol(line, &p, 10);
            if (sscanf(p, " %15[^: ]", dev) != 1)
                dev[0] = 0;
        } else if (*line == '\t' && ifindex > 0) {
            uint32_t a = (uint32_t)strtoul(line, NULL, 16);
            add_group(AF_INET, ifindex, dev, (const uint8_t *)&a, 4);
        }
    }
}

/* /proc/net/igmp6: "1    lo              ff020000000000000000000000000001     1 0000000C 0" */
static void read_igmp6(void)
{
    if (revive_read_file("/proc/self/net/igmp6", groups.text, sizeof groups.text) <= 0)
        return;
    for (char *line = groups.text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        int ifindex;
        char dev[16], hex[33];
        if (sscanf(line, "%d %15s %32s", &ifindex, dev, hex) != 3 || strlen(hex) != 32)
            continue;
        uint8_t a[16];
        for (int i = 0; i < 16; i++) {
            char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
            a[i] = (uint8_t)strtoul(b, NULL, 16);
        }
        add_group(AF_INET6, ifindex, dev, a, 16);
    }
}

/* Whether socket fd joined group g: getsockopt(MCAST_MSFILTER) finds its filter. */
static int joined(int fd, const struct mc_group *g)
{
    union {
        struct group_filter gf;
        uint8_t room[GROUP_FILTER_SIZE(1)];
    } u;
    memset(&u, 0, sizeof u);
    u.gf.gf_interface = (uint32_t)g->ifindex;
    u.gf.gf_numsrc = 0;
    if (g->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&u.gf.gf_group;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, g->addr, 4);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&u.gf.gf_group;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, g->addr, 16);
    }
    socklen_t len = GROUP_FILTER_SIZE(0);
    return getsockopt(fd, g->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_MSFILTER, &u, &len) == 0;
}

/* Whether socket record i is restored (a descriptor holds it as a socket, not ignored). */
static int restored(const struct crs_capture *c, size_t i)
{
    for (size_t k = 0; k < c->nfds; k++)
        if (c->fds[k].kind == CRS_FD_SOCKET && c->fds[k].memfd == (int32_t)i)
            return 1;
    return 0;
}

int crs_capture_mcast(struct crs_capture *c)
{
    int inet = 0;
    for (size_t i = 0; i < c->nsockets; i++)
        inet |= (c->sockets[i].family == AF_INET || c->sockets[i].family == AF_INET6) &&
                c->sockets[i].type != SOCK_STREAM;
    if (!inet)
        return 0;
    groups.n = 0;
    read_igmp();
    read_igmp6();
    for (size_t i = 0; i < c->nsockets; i++) {
        const struct crs_rec_socket *s = &c->sockets[i];
        if ((s->family != AF_INET && s->family != AF_INET6) || s->type == SOCK_STREAM || c->sock_fd[i] < 0 ||
            !restored(c, i))
            continue;
        for (size_t k = 0; k < groups.n; k++) {
            const struct mc_group *g = &groups.g[k];
            /* an IPv6 socket may join IPv4 groups too (IPPROTO_IP) */
            if ((g->family == AF_INET6 && s->family != AF_INET6) || !joined(c->sock_fd[i], g))
                continue;
            char name[INET6_ADDRSTRLEN];
            inet_ntop(g->family, g->addr, name, sizeof name);
            crs_capture_error(c, "descriptor %d, a %s socket, is a member of multicast group %s on interface %s "
                              "(IP_ADD_MEMBERSHIP, MCAST_JOIN_GROUP or IPV6_JOIN_GROUP): Revive does not restore "
                              "multicast memberships, and the restarted socket would never receive the group's "
                              "datagrams; leave the group (IP_DROP_MEMBERSHIP, MCAST_LEAVE_GROUP) or close the "
                              "socket before the checkpoint, and join again after it",
                              c->sock_fd[i], s->type == SOCK_DGRAM ? (s->family == AF_INET ? "UDP" : "UDP6") : "raw",
                              name, g->dev[0] ? g->dev : "?");
            return -EOPNOTSUPP;
        }
    }
    return 0;
}

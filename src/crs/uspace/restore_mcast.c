/* Multicast groups joined again at restart (image_format.h: MCAST,
 * MCASTSRC; capture_mcast.c records them). Each membership is joined on
 * the interface of its recorded name (whose index may differ on this host
 * or namespace), with its source filter: an any-source join with
 * MCAST_JOIN_GROUP (and MCAST_BLOCK_SOURCE for each excluded source), a
 * source-specific one with MCAST_JOIN_SOURCE_GROUP for each source. That
 * happens while the sockets are made, before the program runs again, so
 * that every datagram sent to a group after the restart reaches it. A host
 * without the interface is refused before anything changes, naming the
 * descriptor, the group and the interface. A socket's outgoing interface
 * (CRS_MCAST_OUTIF: IP_MULTICAST_IF given by index, IPV6_MULTICAST_IF) is
 * set the same way, by its name, after its options (SOCKOPTS), before its
 * groups. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static void group_text(const struct crs_rec_mcast *m, char *out, size_t cap)
{
    if (!inet_ntop(m->family, m->group, out, (socklen_t)cap))
        snprintf(out, cap, "?");
}

static void put_addr(struct sockaddr_storage *ss, int family, const uint8_t *addr)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, addr, 16);
    }
}

int crs_restore_check_mcast(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t k = 0; k < img->nmcasts; k++) {
        const struct crs_rec_mcast *m = &img->mcasts[k];
        if (if_nametoindex(m->ifname))
            continue;
        if (m->fmode == CRS_MCAST_OUTIF) {
            crs_restore_error(r, "the socket at descriptor %d sent its multicast through interface %s (index %d, "
                              "%s), and this host has no interface %s (in cr_restart's network namespace): "
                              "restart where it has one, or make it (ip link)", crs_restore_sock_fd(r, m->socket),
                              m->ifname, (int)m->ifindex,
                              m->family == AF_INET ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF", m->ifname);
            return -ENODEV;
        }
        char g[INET6_ADDRSTRLEN];
        group_text(m, g, sizeof g);
        crs_restore_error(r, "the socket at descriptor %d was a member of multicast group %s on interface %s "
                          "(index %d), and this host has no interface %s (in cr_restart's network namespace): "
                          "restart where it has one, or make it (ip link), so that the group can be joined again",
                          crs_restore_sock_fd(r, m->socket), g, m->ifname, (int)m->ifindex, m->ifname);
        return -ENODEV;
    }
    return 0;
}

/* The index of the interface named m->ifname, asked through fd itself (no
 * descriptor of its own: the restored numbers are being placed); 0: none. */
static int ifindex_of(int fd, const struct crs_rec_mcast *m)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", m->ifname);
    return ioctl(fd, SIOCGIFINDEX, &ifr) == 0 ? ifr.ifr_ifindex : 0;
}

static int join(int fd, const struct crs_rec_mcast *m, const struct crs_rec_mcast_src *srcs, int ifindex,
                const char **how)
{
    int level = m->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    if (m->fmode == 0) {
        struct group_req gr;
        memset(&gr, 0, sizeof gr);
        gr.gr_interface = (uint32_t)ifindex;
        put_addr(&gr.gr_group, m->family, m->group);
        *how = "MCAST_JOIN_GROUP";
        if (setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof gr) != 0)
            return -errno;
    }
    for (uint32_t s = 0; s < m->nsrc; s++) {
        struct group_source_req gsr;
        memset(&gsr, 0, sizeof gsr);
        gsr.gsr_interface = (uint32_t)ifindex;
        put_addr(&gsr.gsr_group, m->family, m->group);
        put_addr(&gsr.gsr_source, m->family, srcs[s].addr);
        int name = m->fmode ? MCAST_JOIN_SOURCE_GROUP : MCAST_BLOCK_SOURCE;
        *how = m->fmode ? "MCAST_JOIN_SOURCE_GROUP" : "MCAST_BLOCK_SOURCE";
        if (setsockopt(fd, level, name, &gsr, sizeof gsr) != 0)
            return -errno;
    }
    return 0;
}

/* The outgoing interface m (CRS_MCAST_OUTIF) of socket fd, index ifindex
 * here. 0, or -errno with *how the call. */
static int set_outif(int fd, const struct crs_rec_mcast *m, int ifindex, const char **how)
{
    if (m->family == AF_INET6) {
        *how = "IPV6_MULTICAST_IF";
        return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) == 0 ? 0 : -errno;
    }
    struct ip_mreqn mr;
    memset(&mr, 0, sizeof mr);
    memcpy(&mr.imr_address, m->group, 4);
    mr.imr_ifindex = ifindex;
    *how = "IP_MULTICAST_IF";
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) == 0 ? 0 : -errno;
}

int crs_restore_mcast(struct crs_restore *r, size_t i, int fd)
{
    const struct crs_image *img = r->img;
    for (size_t k = 0; k < img->nmcasts; k++) {
        const struct crs_rec_mcast *m = &img->mcasts[k];
        if (m->socket != i)
            continue;
        char g[INET6_ADDRSTRLEN];
        group_text(m, g, sizeof g);
        int ifindex = ifindex_of(fd, m);
        if (m->fmode == CRS_MCAST_OUTIF) {
            const char *how = m->family == AF_INET ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF";
            int e = ifindex ? set_outif(fd, m, ifindex, &how) : -ENODEV;
            if (e) {
                crs_restore_error(r, "cannot send the multicast of the socket at descriptor %d through interface "
                                  "%s again (%s): %s", crs_restore_sock_fd(r, i), m->ifname, how, strerror(-e));
                return -EIO;
            }
            continue;
        }
        if (!ifindex) {
            crs_restore_error(r, "the socket at descriptor %d was a member of multicast group %s on interface %s, "
                              "and this host has no interface %s now: restart where it has one",
                              crs_restore_sock_fd(r, i), g, m->ifname, m->ifname);
            return -EIO;
        }
        const char *how = "";
        int e = join(fd, m, m->nsrc ? img->mcast_srcs + m->src_first : NULL, ifindex, &how);
        if (e) {
            crs_restore_error(r, "cannot join multicast group %s on interface %s again on the socket at "
                              "descriptor %d (%s): %s%s", g, m->ifname, crs_restore_sock_fd(r, i), how,
                              strerror(-e),
                              e == -ENOBUFS ? " (this host allows fewer groups or sources per socket: "
                                              "net.ipv4.igmp_max_memberships, igmp_max_msf)" : "");
            return -EIO;
        }
    }
    return 0;
}

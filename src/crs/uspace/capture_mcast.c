/* Multicast group memberships (issue 10; image_format.h: MCAST, MCASTSRC):
 * the groups a UDP or raw socket joined (IP_ADD_MEMBERSHIP,
 * IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP,
 * IPV6_JOIN_GROUP...), each with its interface and source filter, so that a
 * restart joins them again (restore_mcast.c) and the restarted socket goes
 * on receiving the groups' datagrams.
 *
 * No getsockopt lists a socket's groups, but getsockopt(MCAST_MSFILTER)
 * answers for one (interface, group): the socket's filter when it joined
 * it, EADDRNOTAVAIL when not. The candidates are the groups joined on the
 * process's network namespace's interfaces (/proc/self/net/igmp, igmp6),
 * which hold every group some socket joined. Those files are read whole,
 * however long (a host with many interfaces lists many groups): past
 * TEXT_MAX the checkpoint is refused saying so, never a group left out.
 * A socket's outgoing multicast interface is kept by name too (a
 * CRS_MCAST_OUTIF record before its groups): IPV6_MULTICAST_IF as
 * getsockopt gives it (an index), IP_MULTICAST_IF given by index as libcr
 * noted it (getsockopt gives back only the address: mcast_if_notes.h).
 * No stdio or malloc here (a parked thread may hold their locks): scratch. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/mcast_if_notes.h"
#include "common/procfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define TEXT_FIRST (64u << 10)
#define TEXT_MAX (64u << 20)

struct mc_group {
    int family, ifindex;
    uint8_t addr[16];
    char dev[CRS_MCAST_IFNAME_MAX];
};

struct mc_groups {
    struct mc_group *g;
    size_t n, cap;
};

/* The whole of file in scratch (*out; NULL when the file is not there: no
 * IPv6, no groups), or -errno with the message. */
static int read_text(struct crs_capture *c, const char *file, char **out)
{
    *out = NULL;
    long len = -ENOSPC;
    char *buf = NULL;
    for (size_t cap = TEXT_FIRST; cap <= TEXT_MAX && len == -ENOSPC; cap *= 4)
        len = (buf = crs_scratch_alloc(c->scratch, cap)) ? revive_read_file(file, buf, cap) : -ENOMEM;
    if (len == -ENOENT)
        return 0;
    if (len == -ENOSPC) {
        crs_capture_error(c, "cannot tell the multicast groups the process's sockets joined: %s is longer "
                          "than %u MiB (the groups joined on every interface of its network namespace); "
                          "checkpoint it where fewer groups are joined",
                          file, TEXT_MAX >> 20);
        return -E2BIG;
    }
    if (len < 0) {
        crs_capture_error(c, "cannot tell the multicast groups the process's sockets joined: cannot read %s: %s",
                          file, strerror((int)-len));
        return (int)len;
    }
    *out = buf;
    return 0;
}

/* Room for a group per line of text (an upper bound), or -ENOMEM. */
static int make_room(struct crs_capture *c, struct mc_groups *gs, const char *text)
{
    size_t lines = 1;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        lines++;
    struct mc_group *g = crs_scratch_alloc(c->scratch, (gs->n + lines) * sizeof *g);
    if (!g) {
        crs_capture_error(c, "out of scratch memory for %zu multicast groups", gs->n + lines);
        return -ENOMEM;
    }
    if (gs->n)
        memcpy(g, gs->g, gs->n * sizeof *g);
    gs->g = g;
    gs->cap = gs->n + lines;
    return 0;
}

static void add_group(struct mc_groups *gs, int family, int ifindex, const char *dev, const uint8_t *addr,
                      size_t len)
{
    if (gs->n == gs->cap)   /* cannot be: room for every line */
        return;
    struct mc_group *g = &gs->g[gs->n++];
    memset(g, 0, sizeof *g);
    g->family = family;
    g->ifindex = ifindex;
    snprintf(g->dev, sizeof g->dev, "%s", dev);
    memcpy(g->addr, addr, len);
}

/* /proc/net/igmp: a line per interface ("1\tlo        :     1      V3"),
 * then a line per group ("\t\t\t\t010000E0 ...": the address as the
 * kernel's in-memory 32 bits, printed as a number). */
static int read_igmp(struct crs_capture *c, struct mc_groups *gs)
{
    char *text;
    int e = read_text(c, "/proc/self/net/igmp", &text);
    if (e || !text || (e = make_room(c, gs, text)))
        return e;
    int ifindex = 0;
    char dev[CRS_MCAST_IFNAME_MAX] = "";
    for (char *line = text, *next; line && *line; line = next) {
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
            add_group(gs, AF_INET, ifindex, dev, (const uint8_t *)&a, 4);
        }
    }
    return 0;
}

/* /proc/net/igmp6: "1    lo              ff020000000000000000000000000001     1 0000000C 0" */
static int read_igmp6(struct crs_capture *c, struct mc_groups *gs)
{
    char *text;
    int e = read_text(c, "/proc/self/net/igmp6", &text);
    if (e || !text || (e = make_room(c, gs, text)))
        return e;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        int ifindex;
        char dev[CRS_MCAST_IFNAME_MAX], hex[33];
        if (sscanf(line, "%d %15s %32s", &ifindex, dev, hex) != 3 || strlen(hex) != 32)
            continue;
        uint8_t a[16];
        for (int i = 0; i < 16; i++) {
            char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
            a[i] = (uint8_t)strtoul(b, NULL, 16);
        }
        add_group(gs, AF_INET6, ifindex, dev, a, 16);
    }
    return 0;
}

/* Socket fd's filter for group g into gf (room for nsrc sources):
 * getsockopt(MCAST_MSFILTER) gives the mode and the number of sources (all
 * of them, those past nsrc not copied); -1 when fd did not join g. */
static int filter_of(int fd, const struct mc_group *g, struct group_filter *gf, uint32_t nsrc)
{
    memset(gf, 0, GROUP_FILTER_SIZE(nsrc));
    gf->gf_interface = (uint32_t)g->ifindex;
    gf->gf_numsrc = nsrc;
    if (g->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&gf->gf_group;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, g->addr, 4);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&gf->gf_group;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, g->addr, 16);
    }
    socklen_t len = (socklen_t)GROUP_FILTER_SIZE(nsrc);
    return getsockopt(fd, g->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_MSFILTER, gf, &len) == 0 ? 0 : -1;
}

/* Whether socket record i is restored (a descriptor holds it as a socket,
 * not closed under --ignore-fds nor inherited): only those are asked. */
static int restored(const struct crs_capture *c, size_t i)
{
    for (size_t k = 0; k < c->nfds; k++)
        if (c->fds[k].kind == CRS_FD_SOCKET && c->fds[k].memfd == (int32_t)i)
            return 1;
    return 0;
}

static int candidate(const struct crs_capture *c, size_t i)
{
    const struct crs_rec_socket *s = &c->sockets[i];
    return (s->family == AF_INET || s->family == AF_INET6) && s->type != SOCK_STREAM && c->sock_fd[i] >= 0 &&
           restored(c, i);
}

static int changed(struct crs_capture *c, size_t i, const struct mc_group *g)
{
    char name[INET6_ADDRSTRLEN] = "?";
    inet_ntop(g->family, g->addr, name, sizeof name);
    crs_capture_error(c, "the multicast filter of descriptor %d for group %s on interface %s changed while "
                      "the checkpoint read it (a socket shared with a process that runs on); try again",
                      c->sock_fd[i], name, g->dev);
    return -EAGAIN;
}

/* The name of the interface with index ifindex, asked through fd (no
 * descriptor of our own): 1, or 0 when there is none now. */
static int ifname_of(int fd, int ifindex, char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = ifindex;
    if (ifindex <= 0 || ioctl(fd, SIOCGIFNAME, &ifr) != 0 || !ifr.ifr_name[0])
        return 0;
    memset(name, 0, CRS_MCAST_IFNAME_MAX);
    memcpy(name, ifr.ifr_name, strnlen(ifr.ifr_name, CRS_MCAST_IFNAME_MAX - 1));
    return 1;
}

int crs_capture_mcast_if6(int fd, char *name)
{
    int idx = 0;
    socklen_t l = sizeof idx;
    if (getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, &l) != 0 || l != sizeof idx || idx <= 0)
        return 0;
    return ifname_of(fd, idx, name) ? idx : 0;
}

/* Socket i's outgoing interfaces (CRS_MCAST_OUTIF) into out[0..2): how many. */
static int outifs_of(struct crs_capture *c, size_t i, struct crs_rec_mcast *out)
{
    int fd = c->sock_fd[i], n = 0;
    char name[CRS_MCAST_IFNAME_MAX];
    memset(out, 0, 2 * sizeof *out);
    if (c->sockets[i].family == AF_INET6) {
        int idx = crs_capture_mcast_if6(fd, name);
        if (idx > 0) {
            out[n].family = AF_INET6;
            out[n].ifindex = idx;
            memcpy(out[n].ifname, name, sizeof name);
            n++;
        }
        /* and on to its IPv4 one: an IPv6 socket sends to IPv4-mapped groups (::ffff:239.x)
         * through the interface IP_MULTICAST_IF gave it (IPPROTO_IP options of an IPv6 UDP
         * socket are the IPv4 ones; issue 10: it was lost) */
    }
    struct stat st;
    int idx;
    uint32_t addr, now = 0;
    socklen_t l = sizeof now;
    /* noted by libcr, and still so: the address getsockopt gives is the one set with it (a
     * change libcr did not see, by the raw system call, keeps the address alone, as before) */
    if (fstat(fd, &st) == 0 && crs_mcast_if_find((uint64_t)st.st_ino, fd, &idx, &addr) &&
        getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &now, &l) == 0 && now == addr && ifname_of(fd, idx, name)) {
        out[n].family = AF_INET;
        out[n].ifindex = idx;
        memcpy(out[n].ifname, name, sizeof name);
        memcpy(out[n].group, &addr, 4);
        n++;
    }
    return n;
}

/* Every membership of every candidate socket: counted (fill 0: c->nmcasts,
 * c->nmcast_srcs), or recorded into the arrays sized by the count. */
static int scan(struct crs_capture *c, const struct mc_groups *gs, int fill)
{
    size_t nm = 0, ns = 0;
    union {
        struct group_filter gf;
        uint8_t room[GROUP_FILTER_SIZE(1)];
    } probe;
    for (size_t i = 0; i < c->nsockets; i++) {
        if (!candidate(c, i))
            continue;
        struct crs_rec_mcast outif[2];
        int nout = outifs_of(c, i, outif);
        for (int k = 0; k < nout; k++, nm++) {
            if (!fill)
                continue;
            if (nm == c->nmcasts) {
                crs_capture_error(c, "the outgoing multicast interface of descriptor %d changed while the "
                                  "checkpoint read it (a socket shared with a process that runs on); try again",
                                  c->sock_fd[i]);
                return -EAGAIN;
            }
            outif[k].socket = (uint32_t)i;
            outif[k].fmode = CRS_MCAST_OUTIF;
            outif[k].src_first = (uint32_t)ns;
            c->mcasts[nm] = outif[k];
        }
        for (size_t k = 0; k < gs->n; k++) {
            const struct mc_group *g = &gs->g[k];
            /* an IPv6 socket may join IPv4 groups too (IPPROTO_IP) */
            if ((g->family == AF_INET6 && c->sockets[i].family != AF_INET6) ||
                filter_of(c->sock_fd[i], g, &probe.gf, 0))
                continue;
            uint32_t nsrc = probe.gf.gf_numsrc;
            if (probe.gf.gf_fmode == MCAST_INCLUDE && !nsrc)
                continue;   /* no membership left: every source dropped */
            if (fill) {
                /* the socket may be shared with a process that is not parked: a group or source
                 * added since the count must not write past the arrays */
                struct group_filter *gf = NULL;
                if (nm == c->nmcasts || nsrc > c->nmcast_srcs - ns)
                    return changed(c, i, g);
                if (!(gf = crs_scratch_alloc(c->scratch, GROUP_FILTER_SIZE(nsrc)))) {
                    crs_capture_error(c, "out of scratch memory for a multicast filter of %u sources", nsrc);
                    return -ENOMEM;
                }
                if (filter_of(c->sock_fd[i], g, gf, nsrc) || gf->gf_numsrc != nsrc)
                    return changed(c, i, g);
                struct crs_rec_mcast *m = &c->mcasts[nm];
                memset(m, 0, sizeof *m);
                m->socket = (uint32_t)i;
                m->family = g->family;
                m->ifindex = g->ifindex;
                m->fmode = gf->gf_fmode == MCAST_INCLUDE ? 1 : 0;
                snprintf(m->ifname, sizeof m->ifname, "%s", g->dev);
                memcpy(m->group, g->addr, g->family == AF_INET ? 4 : 16);
                m->src_first = (uint32_t)ns;
                m->nsrc = nsrc;
                for (uint32_t s = 0; s < nsrc; s++) {
                    uint8_t *a = c->mcast_srcs[ns + s].addr;
                    memset(a, 0, 16);
                    if (g->family == AF_INET)
                        memcpy(a, &((const struct sockaddr_in *)&gf->gf_slist[s])->sin_addr, 4);
                    else
                        memcpy(a, &((const struct sockaddr_in6 *)&gf->gf_slist[s])->sin6_addr, 16);
                }
            }
            nm++;
            ns += nsrc;
        }
    }
    if (!fill) {
        c->nmcasts = nm;
        c->nmcast_srcs = ns;
    } else if (nm != c->nmcasts || ns != c->nmcast_srcs) {
        crs_capture_error(c, "the multicast groups of the process's sockets changed while the checkpoint "
                          "read them (%zu memberships, then %zu: a socket shared with a process that runs "
                          "on); try again", c->nmcasts, nm);
        return -EAGAIN;
    }
    return 0;
}

/* Whether a descriptor of the process holds the socket with inode ino
 * (mcast_if_notes' prune: a note of no such socket goes). Any socket, not
 * only those the image restores: one left out (--ignore-fds, inherited)
 * runs on in the process, and a later checkpoint needs its note (diffrev26
 * K-L2). */
static int keep_note(uint64_t ino, void *arg)
{
    struct crs_capture *c = arg;
    for (size_t i = 0; i < c->nsockets; i++) {
        struct stat st;
        if (c->sock_fd[i] >= 0 && fstat(c->sock_fd[i], &st) == 0 && (uint64_t)st.st_ino == ino)
            return 1;
    }
    return 0;
}

int crs_capture_mcast(struct crs_capture *c)
{
    crs_mcast_if_prune(keep_note, c);
    int inet = 0;
    for (size_t i = 0; i < c->nsockets; i++)
        inet |= candidate(c, i);
    if (!inet)
        return 0;
    struct mc_groups gs = { 0 };
    int e;
    if ((e = read_igmp(c, &gs)) || (e = read_igmp6(c, &gs)) || (e = scan(c, &gs, 0)))
        return e;
    if (!c->nmcasts)
        return 0;
    c->mcasts = crs_scratch_alloc(c->scratch, c->nmcasts * sizeof *c->mcasts);
    c->mcast_srcs = c->nmcast_srcs ? crs_scratch_alloc(c->scratch, c->nmcast_srcs * sizeof *c->mcast_srcs) : NULL;
    if (!c->mcasts || (c->nmcast_srcs && !c->mcast_srcs)) {
        crs_capture_error(c, "out of scratch memory for %zu multicast groups", c->nmcasts);
        c->nmcasts = c->nmcast_srcs = 0;
        return -ENOMEM;
    }
    return scan(c, &gs, 1);
}

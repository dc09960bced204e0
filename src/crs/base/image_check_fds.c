/*
 * The image reader's checks of the process's descriptors and what they hold
 * (image_sections.def's CHECK column; run in its order by image_reader.c):
 * kernel objects (eventfd, timerfd, signalfd, epoll, inotify), sockets, their
 * options and multicast memberships, I/O signal owners, locks, epoll watch
 * records, pipes, System V IPC objects, the descriptor table itself, and
 * extensions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "crs/base/image.h"
#include "crs/base/image_reader_int.h"

/* Kernel objects: a kind, and watches owned in order (epoll's in EPOLLTGTS,
 * inotify's in INWATCHES, ascending numbers with paths); timerfd times not
 * negative. */
int crs_ir_check_kfds(struct crs_image *img)
{
    uint64_t next_tgt = 0, next_watch = 0;
    for (size_t i = 0; i < img->nkfds; i++) {
        const struct crs_rec_kfd *k = &img->kfds[i];
        bool ok = k->kind >= CRS_FD_EVENTFD && k->kind <= CRS_FD_INOTIFY;
        if (ok && k->kind == CRS_FD_TIMERFD)
            ok = k->b >= 0 && k->c >= 0 && k->d >= 0;
        if (ok && k->kind == CRS_FD_EPOLL) {
            ok = k->first == next_tgt && k->count <= img->nepoll_tgts - next_tgt;
            next_tgt += ok ? k->count : 0;
        } else if (ok && k->kind == CRS_FD_INOTIFY) {
            ok = k->a >= 0 && k->b >= 0 && k->first == next_watch && k->count <= img->ninwatches - next_watch;
            for (uint32_t w = 0; ok && w < k->count; w++) {
                const struct crs_rec_inwatch *x = &img->inwatches[k->first + w];
                ok = x->wd > 0 && (w == 0 || x->wd > img->inwatches[k->first + w - 1].wd) && x->path.length &&
                     crs_ir_str_ok(img, x->path);
            }
            next_watch += ok ? k->count : 0;
        } else if (ok) {
            ok = k->count == 0;
        }
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "kernel object %zu is malformed or owns watches out of order: " CORRUPT, i);
    }
    if (next_tgt != img->nepoll_tgts || next_watch != img->ninwatches)
        return crs_ir_fail(img, EBADMSG, "epoll or inotify watches belong to no descriptor: " CORRUPT);
    return 0;
}

/* Sockets: a family and type Revive makes, a state, peers that point back,
 * listeners that listen, addresses that fit, queued bytes inside SOCKDATA
 * (messages: a length, then as many bytes, exactly filling it; an unconnected
 * datagram socket's begin with the socket of the process that sent it). */
int crs_ir_check_sockets(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsockets; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        bool ok = (s->family == AF_UNIX || s->family == AF_INET || s->family == AF_INET6) &&
                  (s->type == SOCK_STREAM || s->type == SOCK_DGRAM || s->type == SOCK_SEQPACKET ||
                   (s->type == SOCK_RAW && s->family != AF_UNIX && s->state <= CRS_SOCK_BOUND && !s->data_length)) &&
                  s->state >= CRS_SOCK_UNBOUND && s->state <= CRS_SOCK_CONNECTED && !(s->flags & ~CRS_SOCK__FLAGS) &&
                  s->local_len <= CRS_SOCKADDR_MAX && s->remote_len <= CRS_SOCKADDR_MAX &&
                  s->data_offset <= img->sockdata_len && s->data_length <= img->sockdata_len - s->data_offset;
        if (ok && s->state == CRS_SOCK_CONNECTED && !(s->flags & CRS_SOCK_F_PENDING))
            ok = s->peer >= 0 && (size_t)s->peer < img->nsockets && (size_t)s->peer != i &&
                 img->sockets[s->peer].state == CRS_SOCK_CONNECTED && img->sockets[s->peer].peer == (int32_t)i;
        else if (ok)
            ok = s->peer == -1;   /* a pending client's peer is made by its listener */
        if (ok && (s->flags & (CRS_SOCK_F_ACCEPTED | CRS_SOCK_F_PENDING)))
            ok = s->listener >= 0 && (size_t)s->listener < img->nsockets &&
                 img->sockets[s->listener].state == CRS_SOCK_LISTEN && s->state == CRS_SOCK_CONNECTED;
        else if (ok)
            ok = s->listener == -1;
        /* messages: lengths and bytes fill the queue exactly */
        uint64_t at = 0;
        for (uint32_t m = 0; ok && m < s->nmsgs; m++) {
            uint32_t len;
            ok = s->data_length - at >= 4;
            if (!ok)
                break;
            memcpy(&len, img->sockdata + s->data_offset + at, 4);
            ok = len <= s->data_length - at - 4;
            if (ok && (s->flags & CRS_SOCK_F_SENDERS)) {
                /* a datagram socket of the process (maybe this one) sent it */
                uint32_t from = 0;
                ok = len >= 4;
                if (ok)
                    memcpy(&from, img->sockdata + s->data_offset + at + 4, 4);
                ok = ok && from < img->nsockets && img->sockets[from].family == s->family &&
                     img->sockets[from].type == SOCK_DGRAM;
            }
            at += 4 + (uint64_t)len;
        }
        if (ok && s->nmsgs)
            ok = at == s->data_length;
        if (ok && (s->flags & CRS_SOCK_F_SENDERS))   /* (Unix datagram sockets too since session 31) */
            ok = s->type == SOCK_DGRAM && s->nmsgs && s->state != CRS_SOCK_CONNECTED;
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "socket %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Socket options: on a socket of the image, in its order, a value of 1 to
 * CRS_SOCKOPT_VALUE_MAX bytes with zeros after it. (After check_sockets.) */
int crs_ir_check_sockopts(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsockopts; i++) {
        const struct crs_rec_sockopt *o = &img->sockopts[i];
        bool ok = o->socket < img->nsockets && o->len >= 1 && o->len <= CRS_SOCKOPT_VALUE_MAX &&
                  (i == 0 || img->sockopts[i - 1].socket <= o->socket);
        for (uint32_t k = o->len; ok && k < CRS_SOCKOPT_VALUE_MAX; k++)
            ok = o->value[k] == 0;
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "socket option %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Multicast memberships: of an IPv4 or IPv6 datagram or raw socket of the
 * image, in its order, an IPv4 group (or an IPv6 one of an IPv6 socket), an
 * interface name, a filter mode with its sources inside MCASTSRC (at least
 * one for MCAST_INCLUDE); or a socket's outgoing interface (CRS_MCAST_OUTIF:
 * no sources, an IPv6 one with no address, before the socket's groups).
 * (After check_sockets; MCASTSRC is loaded.) */
int crs_ir_check_mcasts(struct crs_image *img)
{
    for (size_t i = 0; i < img->nmcasts; i++) {
        const struct crs_rec_mcast *m = &img->mcasts[i];
        const struct crs_rec_socket *s = m->socket < img->nsockets ? &img->sockets[m->socket] : NULL;
        bool ok = s && (s->family == AF_INET || s->family == AF_INET6) && s->type != SOCK_STREAM &&
                  (m->family == AF_INET || (m->family == AF_INET6 && s->family == AF_INET6)) &&
                  m->ifindex > 0 && m->ifname[0] && memchr(m->ifname, 0, sizeof m->ifname) &&
                  (m->fmode <= 1 || m->fmode == CRS_MCAST_OUTIF) && (m->fmode != 1 || m->nsrc > 0) &&
                  (m->fmode != CRS_MCAST_OUTIF || m->nsrc == 0) && !m->reserved &&
                  m->src_first <= img->nmcast_srcs && m->nsrc <= img->nmcast_srcs - m->src_first &&
                  (i == 0 || img->mcasts[i - 1].socket <= m->socket);
        size_t zero_from = m->family == AF_INET ? 4 : m->fmode == CRS_MCAST_OUTIF ? 0 : 16;
        for (size_t k = zero_from; ok && k < 16; k++)
            ok = m->group[k] == 0;
        /* an outgoing interface: one per family and socket, before the socket's groups */
        if (ok && m->fmode == CRS_MCAST_OUTIF && i > 0 && img->mcasts[i - 1].socket == m->socket)
            ok = img->mcasts[i - 1].fmode == CRS_MCAST_OUTIF && img->mcasts[i - 1].family != m->family;
        for (uint32_t k = 0; ok && m->family == AF_INET && k < m->nsrc; k++)
            for (size_t b = 4; ok && b < 16; b++)
                ok = img->mcast_srcs[m->src_first + k].addr[b] == 0;
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "multicast membership %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Descriptors' I/O signal owners: on descriptors of FDS, ascending, a known
 * type and kind of owner, a signal number. (After check_fds.) */
int crs_ir_check_fdowns(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfdowns; i++) {
        const struct crs_rec_fdown *o = &img->fdowns[i];
        bool found = false;
        for (size_t k = 0; k < img->nfds && !found; k++)
            found = img->fds[k].fd == o->fd;
        bool ok = found && o->type <= 2 && o->who <= CRS_FDOWN_OTHER && o->sig <= 64 && !o->reserved &&
                  (i == 0 || img->fdowns[i - 1].fd < o->fd) && (o->who == CRS_FDOWN_NONE) == (o->id == 0);
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "descriptor owner %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Locks: on a descriptor the image restores (not closed, not inherited),
 * a known kind and type, a range that fits in a file. (After check_fds.) */
int crs_ir_check_locks(struct crs_image *img)
{
    for (size_t i = 0; i < img->nlocks; i++) {
        const struct crs_rec_lock *l = &img->locks[i];
        size_t lo = 0, hi = img->nfds;   /* descriptors ascend (check_fds) */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (img->fds[mid].fd < l->fd)
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct crs_rec_fd *f = lo < img->nfds && img->fds[lo].fd == l->fd ? &img->fds[lo] : NULL;
        bool fd_ok = f && f->kind != CRS_FD_CLOSED && f->kind != CRS_FD_INHERITED && f->kind != CRS_FD_INHERIT;
        if (!fd_ok || l->kind < CRS_LOCK_POSIX || l->kind > CRS_LOCK_FLOCK ||
            (l->type != F_RDLCK && l->type != F_WRLCK) || l->start < 0 || l->len < 0 ||
            l->len > INT64_MAX - l->start || (l->kind == CRS_LOCK_FLOCK && (l->start || l->len)))
            return crs_ir_fail(img, EBADMSG, "lock %zu is malformed or on a descriptor the image does not "
                        "restore: " CORRUPT, i);
    }
    return 0;
}

/* Watches of closed descriptor numbers: each names a watch, once, in
 * ascending order, and a descriptor the image holds (not the watched
 * number). */
int crs_ir_check_epoll_vias(struct crs_image *img)
{
    for (size_t i = 0; i < img->nepoll_vias; i++) {
        const struct crs_rec_epoll_via *v = &img->epoll_vias[i];
        bool ok = v->target < img->nepoll_tgts && (i == 0 || v->target > img->epoll_vias[i - 1].target) &&
                  v->fd >= 0 && v->fd != img->epoll_tgts[v->target].tfd;
        bool held = false;
        for (size_t k = 0; ok && k < img->nfds && !held; k++)
            held = img->fds[k].fd == v->fd;
        if (!ok || !held)
            return crs_ir_fail(img, EBADMSG, "epoll watch record %zu names no watch or no descriptor: " CORRUPT, i);
    }
    return 0;
}

/* Consumed edges: each names an edge-triggered, not one-shot watch, once,
 * in ascending order, with no flag this Revive does not know. */
int crs_ir_check_epoll_edges(struct crs_image *img)
{
    for (size_t i = 0; i < img->nepoll_edges; i++) {
        const struct crs_rec_epoll_edge *g = &img->epoll_edges[i];
        bool ok = g->target < img->nepoll_tgts && (i == 0 || g->target > img->epoll_edges[i - 1].target) &&
                  g->flags == CRS_EPOLL_EDGE_CONSUMED &&
                  (img->epoll_tgts[g->target].events & (EPOLLET | EPOLLONESHOT)) == EPOLLET;
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "consumed epoll edge record %zu names no edge-triggered watch: " CORRUPT, i);
    }
    return 0;
}

int crs_ir_check_pipes(struct crs_image *img)
{
    for (size_t i = 0; i < img->npipes; i++) {
        const struct crs_rec_pipe *pp = &img->pipes[i];
        if (pp->data_offset > img->pipedata_len || pp->data_length > img->pipedata_len - pp->data_offset ||
            pp->data_length > pp->capacity)
            return crs_ir_fail(img, EBADMSG, "pipe %zu holds bytes outside PIPEDATA: " CORRUPT, i);
        if (pp->flags & ~(img->hdr.version >= 19 ? CRS_PIPE_F_FIFO : 0u))
            return crs_ir_fail(img, EBADMSG, "pipe %zu has unknown flags 0x%" PRIx32 ": " CORRUPT, i, pp->flags);
    }
    return 0;
}

/* System V semaphore sets and message queues: known kinds, their data
 * inside SYSVIPCDATA and of the shape image_format.h gives. */
static bool sysvipc_data_ok(const struct crs_image *img, const struct crs_rec_sysvipc *s)
{
    if (s->data % 8 || s->data_len % 8 || s->data > img->sysvipcdata_len ||
        s->data_len > img->sysvipcdata_len - s->data)
        return false;
    if (s->kind == CRS_SYSVIPC_SEM)
        return s->count >= 1 && s->count <= CRS_SYSVIPC_SEMS_MAX && !(s->flags & ~CRS_SYSVIPC_F_UNDO) &&
               s->data_len == ((uint64_t)s->count * ((s->flags & CRS_SYSVIPC_F_UNDO) ? 4 : 2) + 7) / 8 * 8;
    if (s->kind != CRS_SYSVIPC_MSG || s->flags)
        return false;
    const unsigned char *p = img->sysvipcdata + s->data;
    uint64_t at = 0;
    for (uint32_t k = 0; k < s->count; k++) {
        int64_t type;
        uint64_t len;
        if (s->data_len - at < 16)
            return false;
        memcpy(&type, p + at, 8);
        memcpy(&len, p + at + 8, 8);
        if (type <= 0 || len > CRS_SYSVIPC_MSG_MAX || (len + 7) / 8 * 8 > s->data_len - at - 16)
            return false;
        at += 16 + (len + 7) / 8 * 8;
    }
    return at == s->data_len;
}

int crs_ir_check_sysvipcs(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsysvipcs; i++)
        if (img->sysvipcs[i].id < 0 || !sysvipc_data_ok(img, &img->sysvipcs[i]))
            return crs_ir_fail(img, EBADMSG, "System V IPC object %zu is malformed: " CORRUPT, i);
    return 0;
}

int crs_ir_check_fds(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        uint32_t last = img->hdr.version >= 5   ? CRS_FD__LAST
                        : img->hdr.version >= 3 ? CRS_FD__LAST_V3
                                                : CRS_FD__LAST_V1;
        if (f->fd < 0 || (i && f->fd <= img->fds[i - 1].fd) || f->kind < CRS_FD_REGULAR ||
            f->kind > last || !crs_ir_str_ok(img, f->path))
            return crs_ir_fail(img, EBADMSG, "descriptor record %zu is out of order or malformed: " CORRUPT, i);
        bool kobj = f->kind >= CRS_FD_EVENTFD && f->kind <= CRS_FD_INOTIFY;
        bool idx_ok = f->kind == CRS_FD_MEMFD  ? f->memfd >= 0 && (size_t)f->memfd < img->nmemfds
                      : f->kind == CRS_FD_PIPE ? f->memfd >= 0 && (size_t)f->memfd < img->npipes
                      : f->kind == CRS_FD_FOBJ ? f->memfd >= 0 && (size_t)f->memfd < img->nfobjs
                      : kobj ? f->memfd >= 0 && (size_t)f->memfd < img->nkfds &&
                                   img->kfds[f->memfd].kind == f->kind
                      : f->kind == CRS_FD_SOCKET ? f->memfd >= 0 && (size_t)f->memfd < img->nsockets
                      : f->kind == CRS_FD_PIDFD  ? f->memfd > 0 || (f->memfd == 0 && img->hdr.version >= 6 &&
                                                                    f->offset >= -1 && f->offset <= 0xffff)
                                                 : f->memfd == -1;
        if (!idx_ok)
            return crs_ir_fail(img, EBADMSG, "descriptor %" PRId32 " refers to a missing memfd: " CORRUPT,
                        f->fd);
    }
    return 0;
}

/* Extensions: at most CRS_EXT_MAX, each at most CRS_EXT_BYTES_MAX bytes after
 * its head, whose owner is 1 to 15 characters 0x21..0x7e, then NULs. Sets owner. */
int crs_ir_check_exts(struct crs_image *img)
{
    if (img->nexts > CRS_EXT_MAX)
        return crs_ir_fail(img, EBADMSG, "%zu extensions, more than %u: " CORRUPT, img->nexts, CRS_EXT_MAX);
    for (size_t i = 0; i < img->nexts; i++) {
        struct crs_image_ext *x = &img->exts[i];
        if (x->len > CRS_EXT_BYTES_MAX)
            return crs_ir_fail(img, EBADMSG, "extension %zu is larger than an extension can be: " CORRUPT, i);
        const char *o = x->head->owner;
        size_t n = 0;
        while (n < sizeof(x->head->owner) && o[n] >= 0x21 && o[n] <= 0x7e)
            n++;
        bool pad_ok = n > 0 && n < sizeof(x->head->owner);
        for (size_t k = n; k < sizeof(x->head->owner) && pad_ok; k++)
            pad_ok = o[k] == '\0';
        if (!pad_ok)
            return crs_ir_fail(img, EBADMSG, "extension %zu has a malformed owner tag: " CORRUPT, i);
        x->owner = o;
    }
    return 0;
}

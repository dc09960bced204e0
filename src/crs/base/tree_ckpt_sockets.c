/* The checks of sockets between the members of a tree being checkpointed
 * (tree_ckpt.c calls them): each member's capture records its sockets as
 * its own, so a socket that joins two members, or a member and a process
 * outside the scope, is refused here, naming both ends. */
#define _GNU_SOURCE
#include "crs/base/tree_ckpt.h"
#include "crs/base/protocol.h"
#include "crs/base/unix_diag.h"
#include "common/procfs.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Records member s's socket at fd; for TCP its addresses too, read
 * through its descriptor when we may (pidfd_getfd), else it stays
 * unknown (the member's capture then refuses a connection it cannot
 * place, naming no process). */
long crs_tree_note_socket(const struct fd_scan *s, long fd, uint64_t ino)
{
    struct tree_ckpt *t = s->t;
    struct sock_entry *socks = grow_array(t->socks, t->nsocks, &t->capsocks, sizeof *socks, 64);
    if (!socks)
        return -ENOMEM;
    t->socks = socks;
    struct sock_entry *e = &t->socks[t->nsocks++];
    memset(e, 0, sizeof *e);
    e->member = s->member;
    e->fd = (int)fd;
    e->ino = ino;
    e->family = AF_UNIX;   /* until the descriptor says otherwise: sock_diag tells Unix peers */
    int dup = s->pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, s->pidfd, (int)fd, 0) : -1;
    if (dup < 0)
        return 0;
    socklen_t l = sizeof e->family;
    getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &e->family, &l);
    l = sizeof e->type;
    getsockopt(dup, SOL_SOCKET, SO_TYPE, &e->type, &l);
    if (e->family == AF_INET || e->family == AF_INET6) {
        e->local_len = sizeof e->local;
        if (getsockname(dup, (struct sockaddr *)&e->local, &e->local_len) != 0)
            e->local_len = 0;
        e->remote_len = sizeof e->remote;
        if (getpeername(dup, (struct sockaddr *)&e->remote, &e->remote_len) != 0)
            e->remote_len = 0;
    }
    close(dup);
    return 0;
}

/* The peer of the Unix socket with inode ino (sock_diag, no privilege
 * needed), 0 when it has none or cannot be asked. */
static uint64_t unix_peer(uint64_t ino)
{
    int nl = crs_unix_diag_request(ino, UDIAG_SHOW_PEER);
    if (nl < 0)
        return 0;
    uint64_t peer = 0;
    union {
        char buf[8192];
        struct nlmsghdr align;
    } u;
    ssize_t n = recv(nl, u.buf, sizeof u.buf, 0);
    for (struct nlmsghdr *h = (struct nlmsghdr *)u.buf; n > 0 && NLMSG_OK(h, (size_t)n) && !peer;
         h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
            break;
        const struct unix_diag_msg *m = NLMSG_DATA(h);
        int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
        for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
            if (a->rta_type == UNIX_DIAG_PEER)
                peer = *(const uint32_t *)RTA_DATA(a);
    }
    close(nl);
    return peer;
}

static const char *sock_kind(const struct sock_entry *e)
{
    if (e->family == AF_INET || e->family == AF_INET6)
        return e->type == SOCK_DGRAM ? "a UDP socket" : "a TCP connection";
    return e->type == SOCK_DGRAM ? "a Unix datagram socket" : e->type == SOCK_SEQPACKET ? "a Unix seqpacket socket"
                                                                                         : "a Unix socket";
}

static int same_sockaddr(const struct sockaddr_storage *a, socklen_t alen, const struct sockaddr_storage *b,
                         socklen_t blen)
{
    return alen && alen == blen && !memcmp(a, b, alen);
}

/* Sockets that join two members (one connected to a socket another member
 * holds, or one socket held by two members) cannot come back yet: each
 * member's capture records its sockets as its own, so the restart would
 * give each its own, connected to nothing of the other's. Refused here,
 * naming both members and descriptors (the member's capture alone could
 * only say "another process"); with --ignore-fds the members' captures
 * record them closed. A Unix socket connected to a process outside the
 * tree is named here too. 0, or -ENOTSUP with the message. */
int crs_tree_check_sockets(struct tree_ckpt *t)
{
    if (t->o->flags & CRS_REQ_F_IGNORE_FDS)
        return 0;
    const char *scope = crs_tree_scope_name(t->o->scope);
    const char *option = t->o->scope == CRS_TREE_SCOPE_TREE ? "tree" : t->o->scope == CRS_TREE_SCOPE_PGRP ? "pgid"
                                                                                                         : "sid";
    const char *advice = "close it before the checkpoint, or checkpoint with --ignore-fds to have it closed in the "
                         "restarted processes";
    char w1[64], w2[64];
    for (size_t i = 0; i < t->nsocks; i++) {
        const struct sock_entry *a = &t->socks[i];
        /* the same socket in two members (inherited across fork, kept by both) */
        for (size_t j = 0; j < i; j++) {
            const struct sock_entry *b = &t->socks[j];
            if (b->ino != a->ino || b->member == a->member)
                continue;
            fail(t, "%s (descriptor %d) and %s (descriptor %d), members of the %s, hold the same socket (%s): a "
                    "socket shared by members is not supported under --%s yet; %s", who(t, (size_t)b->member, w1,
                    sizeof w1), b->fd, who(t, (size_t)a->member, w2, sizeof w2), a->fd, scope, sock_kind(a),
                 option,
                 advice);
            return -ENOTSUP;
        }
        /* connected to another member's socket */
        const struct sock_entry *peer = NULL;
        uint64_t pino = 0;
        if (a->family == AF_UNIX) {
            pino = unix_peer(a->ino);
            for (size_t j = 0; pino && j < t->nsocks && !peer; j++)
                if (t->socks[j].ino == pino)
                    peer = &t->socks[j];
        } else if (a->remote_len) {
            for (size_t j = 0; j < t->nsocks && !peer; j++)
                if (same_sockaddr(&t->socks[j].local, t->socks[j].local_len, &a->remote, a->remote_len) &&
                    same_sockaddr(&t->socks[j].remote, t->socks[j].remote_len, &a->local, a->local_len))
                    peer = &t->socks[j];
        }
        if (peer && peer->member == a->member)
            continue;   /* both ends in one process: its capture restores the pair */
        if (peer) {
            fail(t, "%s, a member of the %s, holds %s (descriptor %d) connected to %s (its descriptor %d), "
                    "another member: a socket between two members is not supported under --%s yet (a restart "
                    "cannot connect them again); %s", who(t, (size_t)a->member, w1, sizeof w1), scope,
                 sock_kind(a), a->fd, who(t, (size_t)peer->member, w2, sizeof w2), peer->fd,
                 option,
                 advice);
            return -ENOTSUP;
        }
        if (!pino)
            continue;
        /* a Unix peer outside the tree: whose, when /proc shows it */
        char want[64];
        long hfd = 0;
        snprintf(want, sizeof want, "socket:[%llu]", (unsigned long long)pino);
        pid_t hpid = revive_proc_find_holder(want, getpid(), &hfd);
        if (hpid <= 0 || find_proc(t, hpid) < 0)
            continue;   /* held by no process we see: the member's capture says so */
        const struct proc_info *o = &t->all[find_proc(t, hpid)];
        fail(t, "%s, a member of the %s, holds %s (descriptor %d) connected to process %d '%s' (its descriptor "
                "%ld), which is not in the %s: Revive restores sockets whose both ends one process holds; %s",
             who(t, (size_t)a->member, w1, sizeof w1), scope, sock_kind(a), a->fd, (int)o->pid, o->comm, hfd,
             scope, advice);
        return -ENOTSUP;
    }
    return 0;
}

/* The checks of sockets between the members of a tree being checkpointed
 * (tree_ckpt.c calls them): each member's capture records its sockets as
 * its own, so a socket that joins two members, or a member and a process
 * outside the scope, is refused here, naming both ends; but a pair of
 * unnamed Unix sockets (socketpair, multiprocessing.Pipe) whose ends
 * members hold becomes two CRS_TREE_G_SOCK groups of the tree (tree.h),
 * made once at restart with what each end had to read; unless a process
 * outside the members holds one of its ends too, which is refused naming
 * that process (made for the members only, its end would be cut off). */
#define _GNU_SOURCE
#include "crs/base/tree_ckpt.h"
#include "crs/base/protocol.h"
#include "crs/base/unix_diag.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
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
    e->named = 1;          /* until its name says otherwise */
    e->group = -1;
    char ip[96], info[1024];
    snprintf(ip, sizeof ip, "/proc/%d/fdinfo/%ld", (int)s->pid, fd);
    long il = revive_read_file(ip, info, sizeof info);
    const char *fp = il > 0 || il == -ENOSPC ? strstr(info, "flags:") : NULL;
    e->flags = fp ? (uint32_t)strtoul(fp + 6, NULL, 8) : 0;
    int dup = s->pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, s->pidfd, (int)fd, 0) : -1;
    if (dup < 0)
        return 0;
    socklen_t l = sizeof e->family;
    getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &e->family, &l);
    l = sizeof e->type;
    getsockopt(dup, SOL_SOCKET, SO_TYPE, &e->type, &l);
    if (e->family == AF_UNIX) {
        struct sockaddr_storage name;
        socklen_t nl = sizeof name;
        e->named = getsockname(dup, (struct sockaddr *)&name, &nl) != 0 || nl > sizeof(sa_family_t);
    }
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

/* The pairs of unnamed Unix sockets, connected to each other (socketpair),
 * whose ends members hold, at least two members between them: each socket
 * of such a pair gets a group (the pair's two consecutive, its lower inode
 * first), counting on from *ngroups. A pair one member holds alone is its
 * capture's. A pair an outside process holds an end of too (dup'd, or
 * inherited by a process that left the tree) gets no group: made again at
 * restart for the members only, that process's end would be cut off from
 * them with no word (issue 10); its entries are marked with that process,
 * which crs_tree_check_sockets names. 0, -ENOMEM. */
static int find_pairs(struct tree_ckpt *t, size_t *ngroups)
{
    for (size_t i = 0; i < t->nsocks; i++) {
        struct sock_entry *a = &t->socks[i];
        if (a->family != AF_UNIX || a->named || !a->type || a->group >= 0)
            continue;
        uint64_t pino = unix_peer(a->ino);
        struct sock_entry *b = NULL;
        for (size_t j = 0; pino && j < t->nsocks && !b; j++)
            if (t->socks[j].ino == pino)
                b = &t->socks[j];
        if (!b || b->named || b->type != a->type || b->group >= 0 || unix_peer(pino) != a->ino)
            continue;
        int m0 = -1, two = 0;
        for (size_t j = 0; j < t->nsocks; j++)
            if (t->socks[j].ino == a->ino || t->socks[j].ino == pino) {
                if (m0 < 0)
                    m0 = t->socks[j].member;
                two |= t->socks[j].member != m0;
            }
        if (!two)
            continue;
        long ofd = -1;
        uint64_t oino = a->ino;
        long out = crs_tree_outside_socket(t, a->ino, &ofd);
        if (out == 0) {
            oino = pino;
            out = crs_tree_outside_socket(t, pino, &ofd);
        }
        if (out < 0)
            return (int)out;
        if (out > 0) {
            for (size_t j = 0; j < t->nsocks; j++)
                if (t->socks[j].ino == a->ino || t->socks[j].ino == pino) {
                    t->socks[j].outside = (pid_t)out;
                    t->socks[j].outside_fd = ofd;
                    t->socks[j].outside_ino = oino;
                }
            continue;
        }
        uint64_t lo = a->ino < pino ? a->ino : pino;
        for (size_t j = 0; j < t->nsocks; j++)
            if (t->socks[j].ino == a->ino || t->socks[j].ino == pino)
                t->socks[j].group = (int)*ngroups + (t->socks[j].ino != lo);
        *ngroups += 2;
    }
    return 0;
}

/* Room for what a peek may be given beside a message: the most descriptors one
 * SCM_RIGHTS carries (SCM_MAX_FD) and credentials. */
struct peek_ctl {
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(64)];
    };
};

/* Whether the message a peek returned in mh carries descriptors (or more
 * control than fits, which may hide some); the copies the peek installed in
 * this process are closed. */
static int peeked_rights(struct msghdr *mh)
{
    int rights = (mh->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            rights = 1;
            for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
                int got;
                memcpy(&got, CMSG_DATA(cm) + k * sizeof(int), sizeof got);
                close(got);
            }
        }
    return rights;
}

static int refuse_rights(struct tree_ckpt *t, const struct sock_entry *e)
{
    char w[64];
    fail(t, "%s's socket at descriptor %d (one end of a socket pair members share) holds a descriptor in "
            "flight (SCM_RIGHTS), which Revive does not restore; receive the message before the checkpoint",
         who(t, (size_t)e->member, w, sizeof w), e->fd);
    return -ENOTSUP;
}

/* What the socket member m holds at fd has to read, left as it was: MSG_PEEK
 * from a moving SO_PEEK_OFF (put back as it was after), through the
 * member's descriptor; a stream's bytes, or each message after its length
 * (32 bits), appended to *data. 0, or -errno with the message.
 * An empty message (a zero-length datagram, a real message) does not move
 * the offset: the kernel returns one once to a peek at an offset and skips
 * it after, marked peeked (net/core/datagram.c), so the walk goes on past
 * it to the end of the queue (issue 10: it stopped there, and what came
 * after was lost). One peeked before (by the program with MSG_PEEK, or by
 * an earlier checkpoint of this tree) is skipped from the start: the first
 * message is peeked once without an offset, which sees it; one in the
 * middle peeked by an earlier checkpoint of the running tree cannot be
 * seen (the kernel keeps no count of messages). */
static int peek_pair_end(struct tree_ckpt *t, const struct sock_entry *e, unsigned char **data, size_t *dlen,
                         uint64_t *len)
{
    char w[64];
    pid_t pid = t->all[t->members[e->member]].pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, e->fd, 0);
    int why = errno;
    if (pidfd >= 0)
        close(pidfd);
    if (fd < 0) {
        fail(t, "cannot read what %s's socket at descriptor %d (one end of a socket pair members share) holds: "
                "pidfd_getfd: %s (it needs ptrace permission over the member); run cr_checkpoint as root or as a "
                "user with that permission", who(t, (size_t)e->member, w, sizeof w), e->fd, strerror(why));
        return -EPERM;
    }
    int saved = -1, zero = 0;
    socklen_t sl = sizeof saved;
    getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &saved, &sl);
    if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) != 0) {
        fail(t, "cannot read the queue of %s's socket at descriptor %d without taking it (SO_PEEK_OFF): %s",
             who(t, (size_t)e->member, w, sizeof w), e->fd, strerror(errno));
        close(fd);
        return -ENOTSUP;
    }
    int stream = e->type == SOCK_STREAM, err = 0;
    size_t start = *dlen, cap = 4u << 20;   /* more than a Unix message can hold (wmem_max) */
    unsigned char *buf = crs_tmem_malloc(cap);
    int head_empty = 0;
    if (buf && !stream) {
        /* the first message, without an offset: an empty one is seen even if peeked before (and is
         * marked peeked now, so the walk below skips it). Its descriptors are checked here: the walk
         * never sees an empty head again (diffrev22 M2: an empty message carrying SCM_RIGHTS was
         * kept as a plain empty one, its descriptors lost). */
        struct peek_ctl ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
        int off = -1;
        setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
        ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero);
        head_empty = n == 0;
        if (n >= 0 && peeked_rights(&mh))
            err = refuse_rights(t, e);
    }
    if (head_empty && !err) {
        unsigned char *d = crs_tmem_realloc(*data, *dlen + 4);
        if (!d) {
            err = -ENOMEM;
        } else {
            memset(d + *dlen, 0, 4);
            *data = d;
            *dlen += 4;
        }
    }
    for (int rounds = 0; buf && !err; rounds++) {
        struct peek_ctl ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
        ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (stream ? 0 : MSG_TRUNC));
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                err = -errno;
            break;
        }
        if (peeked_rights(&mh)) {
            err = refuse_rights(t, e);
            break;
        }
        if (!stream && (size_t)n > cap) {
            fail(t, "%s's socket at descriptor %d holds a message of %zd bytes, more than Revive keeps (%zu)",
                 who(t, (size_t)e->member, w, sizeof w), e->fd, n, cap);
            err = -E2BIG;
            break;
        }
        if (n == 0 && stream)
            break;
        unsigned char *d = crs_tmem_realloc(*data, *dlen + (size_t)n + 4);
        if (!d) {
            err = -ENOMEM;
            break;
        }
        *data = d;
        if (!stream) {
            uint32_t l = (uint32_t)n;
            memcpy(d + *dlen, &l, 4);
            *dlen += 4;
        }
        memcpy(d + *dlen, buf, (size_t)n);
        *dlen += (size_t)n;
        if (rounds > (1 << 20)) {
            fail(t, "%s's socket at descriptor %d holds more than %d messages, more than Revive keeps",
                 who(t, (size_t)e->member, w, sizeof w), e->fd, 1 << 20);
            err = -E2BIG;
            break;
        }
    }
    if (!buf)
        err = -ENOMEM;
    crs_tmem_free(buf);
    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &saved, sizeof saved);
    close(fd);
    if (err == -ENOMEM)
        fail(t, "out of memory for the queue of %s's socket at descriptor %d", who(t, (size_t)e->member, w, sizeof w),
             e->fd);
    else if (err && !t->err[0])
        fail(t, "cannot read the queue of %s's socket at descriptor %d: %s", who(t, (size_t)e->member, w, sizeof w),
             e->fd, strerror(-err));
    *len = *dlen - start;
    return err;
}

int crs_tree_socket_groups(struct tree_ckpt *t, struct crs_tree_group *groups, size_t first, size_t n,
                           unsigned char **data, size_t *dlen)
{
    for (size_t k = 0; k < n; k++) {
        const struct sock_entry *e = NULL;
        for (size_t i = 0; i < t->nsocks && !e; i++)
            if (t->socks[i].group == (int)k)
                e = &t->socks[i];
        if (!e)
            return -EINVAL;
        uint64_t other = 0;
        for (size_t i = 0; i < t->nsocks && !other; i++)
            if (t->socks[i].group == (int)(k ^ 1))
                other = t->socks[i].ino;
        struct crs_tree_group *g = &groups[first + k];
        memset(g, 0, sizeof *g);
        g->kind = CRS_TREE_G_SOCK;
        g->open_flags = e->flags & ~(uint32_t)O_CLOEXEC;
        g->pipe_id = e->ino < other ? e->ino : other;
        g->offset = (int64_t)(k & 1);
        g->sock_type = (uint32_t)e->type;
        g->data_offset = *dlen;
        int err = peek_pair_end(t, e, data, dlen, &g->data_length);
        if (err)
            return err;
    }
    return 0;
}

/* Sockets that join two members (one connected to a socket another member
 * holds, or one socket held by two members) cannot come back yet: each
 * member's capture records its sockets as its own, so the restart would
 * give each its own, connected to nothing of the other's. Refused here,
 * naming both members and descriptors (the member's capture alone could
 * only say "another process"); with --ignore-fds the members' captures
 * record them closed. A Unix socket connected to a process outside the
 * tree is named here too. 0, or -ENOTSUP with the message. */
int crs_tree_check_sockets(struct tree_ckpt *t, size_t *ngroups)
{
    if (find_pairs(t, ngroups) < 0) {
        fail(t, "out of memory looking for the holders of the sockets members share");
        return -ENOMEM;
    }
    if (t->o->flags & CRS_REQ_F_IGNORE_FDS)
        return 0;
    const char *scope = crs_tree_scope_name(t->o->scope);
    /* an MPI rank (no_ignore_hint): no --tree, no --ignore-fds to offer; the remedy is the program's */
    int mpi = t->o->no_ignore_hint;
    const char *advice = mpi ? "close it before the checkpoint in the process that does not use it (a child that "
                               "inherited it: right after fork())"
                             : "close it before the checkpoint, or checkpoint with --ignore-fds to have it closed "
                               "in the restarted processes";
    const char *unsupported = mpi ? "in a snapshot" : t->o->scope == CRS_TREE_SCOPE_TREE ? "under --tree"
                              : t->o->scope == CRS_TREE_SCOPE_PGRP ? "under --pgid" : "under --sid";
    char w1[64], w2[64];
    /* a pair members share, an end of which an outside process holds too
     * (find_pairs): named first, before the "between two members" refusal
     * its ends would get below */
    for (size_t i = 0; i < t->nsocks; i++) {
        const struct sock_entry *a = &t->socks[i];
        if (!a->outside || a->ino != a->outside_ino)
            continue;
        char comm[20];
        crs_tree_outside_comm(t, a->outside, comm, sizeof comm);
        fail(t, "%s, a member of the %s, holds %s (descriptor %d, one end of a socket pair members share), "
                "held too by process %d%s%s%s (its descriptor %ld), which is not among the processes being "
                "checkpointed: the restart makes the pair again for the members only, cutting that process off "
                "from them; end process %d or have it close descriptor %ld%s",
             who(t, (size_t)a->member, w1, sizeof w1), scope, sock_kind(a), a->fd, (int)a->outside,
             comm[0] ? " '" : "", comm, comm[0] ? "'" : "", a->outside_fd, (int)a->outside, a->outside_fd,
             mpi ? "" : ", or checkpoint a scope that includes it, or checkpoint with --ignore-fds to have the pair "
                        "closed in the restarted processes");
        return -ENOTSUP;
    }
    for (size_t i = 0; i < t->nsocks; i++) {
        const struct sock_entry *a = &t->socks[i];
        if (a->group >= 0)
            continue;   /* one end of a pair members share: made once at restart */
        /* the same socket in two members (inherited across fork, kept by both); a process outside them
         * holding it too is named (issue 10: the user has that one to close as well) */
        for (size_t j = 0; j < i; j++) {
            const struct sock_entry *b = &t->socks[j];
            if (b->ino != a->ino || b->member == a->member)
                continue;
            long ofd = -1;
            long out = crs_tree_outside_socket(t, a->ino, &ofd);
            if (out < 0) {
                fail(t, "out of memory looking for the holders of the sockets members share");
                return (int)out;
            }
            char also[160] = "", comm[20];
            if (out > 0) {
                crs_tree_outside_comm(t, (pid_t)out, comm, sizeof comm);
                snprintf(also, sizeof also, ", held too by process %ld%s%s%s (its descriptor %ld), which is not "
                         "among the processes being checkpointed", out, comm[0] ? " '" : "", comm, comm[0] ? "'" : "",
                         ofd);
            }
            /* an MPI rank's child that kept what it inherited (the rank is member 0): which one to close */
            char mine[160] = "";
            if (mpi && b->member == 0)
                snprintf(mine, sizeof mine, "have the child close its copy (its descriptor %d) right after fork(), "
                         "or close it in the rank before it forks%s", a->fd, out > 0 ? ", and in that process too" : "");
            fail(t, "%s (descriptor %d) and %s (descriptor %d), members of the %s, hold the same socket (%s)%s: a "
                    "socket shared by members is not supported %s yet; %s", who(t, (size_t)b->member, w1,
                    sizeof w1), b->fd, who(t, (size_t)a->member, w2, sizeof w2), a->fd, scope, sock_kind(a), also,
                 unsupported,
                 mine[0] ? mine
                 : out > 0 && mpi ? "close it before the checkpoint in the processes that do not use it (in that "
                                    "process too)"
                 : out > 0 ? "close it before the checkpoint (in that process too), or checkpoint with --ignore-fds to "
                             "have it closed in the restarted processes" : advice);
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
                    "another member: a socket between two members is not supported %s yet (a restart "
                    "cannot connect them again); %s", who(t, (size_t)a->member, w1, sizeof w1), scope,
                 sock_kind(a), a->fd, who(t, (size_t)peer->member, w2, sizeof w2), peer->fd,
                 unsupported,
                 advice);
            return -ENOTSUP;
        }
        if (!pino)
            continue;
        /* a Unix peer outside the tree: whose, when /proc shows it */
        long hfd = 0;
        long hpid = crs_tree_outside_socket(t, pino, &hfd);
        if (hpid < 0) {
            fail(t, "out of memory looking for the holders of the sockets members share");
            return (int)hpid;
        }
        if (hpid == 0 || find_proc(t, (pid_t)hpid) < 0)
            continue;   /* held by no process we see: the member's capture says so */
        const struct proc_info *o = &t->all[find_proc(t, (pid_t)hpid)];
        fail(t, "%s, a member of the %s, holds %s (descriptor %d) connected to process %d '%s' (its descriptor "
                "%ld), which is not in the %s: Revive restores sockets whose both ends one process holds; %s",
             who(t, (size_t)a->member, w1, sizeof w1), scope, sock_kind(a), a->fd, (int)o->pid, o->comm, hfd,
             scope, advice);
        return -ENOTSUP;
    }
    return 0;
}

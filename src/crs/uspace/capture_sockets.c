/* Sockets (image_format.h: SOCKETS, SOCKDATA). What a socket is connected
 * to: for Unix sockets the kernel's sock_diag (peer and pending connections
 * by inode, names, queue lengths, shutdown), for TCP the addresses of both
 * ends. Receive queues are read with MSG_PEEK at a moving SO_PEEK_OFF, which
 * leaves them as they were; a UDP or unconnected Unix datagram socket's
 * datagrams only when sockets of the process sent them (kept with their
 * sender). Whatever needs another
 * process is refused, naming the descriptor. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/sockaddr_text.h"
#include "crs/base/unix_diag.h"
#include "common/procfs.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS_MAX 16384
#define SOCKDATA_MAX (64u << 20)
#define ICONS_MAX 65536

/* What sock_diag says of one of our Unix sockets. */
struct unix_info {
    uint64_t ino, peer;
    uint32_t state, shutdown;
    uint32_t rq, wq;           /* queue length; for a listener: waiting connections, backlog */
    uint32_t first_icon, nicons;
    int have;
};

struct sock_scan {
    struct crs_capture *c;
    struct unix_info *ui;      /* per socket record */
    uint64_t *icons;           /* pending connections of listeners */
    size_t nicons;
    /* embryos (pending connections' server ends) seen in the dump: their queues */
    uint64_t *embryo_ino;
    uint32_t *embryo_rq;
    size_t nembryos;
    uint32_t *tcp_waiting;     /* per socket record: a TCP listener's connections not accepted yet */
};

static int sock_of_ino(struct crs_capture *c, uint64_t ino)
{
    for (size_t i = 0; i < c->nsockets; i++)
        if (c->sock_ino[i] == ino)
            return (int)i;
    return -1;
}

int crs_capture_socket_index(struct crs_capture *c, const struct crs_rec_fd *r)
{
    int k = sock_of_ino(c, r->ino);
    if (k >= 0)
        return k;
    if (!c->sockets) {
        c->sockets = crs_scratch_alloc(c->scratch, SOCKETS_MAX * sizeof *c->sockets);
        c->sock_ino = crs_scratch_alloc(c->scratch, SOCKETS_MAX * sizeof *c->sock_ino);
        c->sock_fd = crs_scratch_alloc(c->scratch, SOCKETS_MAX * sizeof *c->sock_fd);
        if (!c->sockets || !c->sock_ino || !c->sock_fd)
            return -1;
    }
    if (c->nsockets == SOCKETS_MAX)
        return -1;
    memset(&c->sockets[c->nsockets], 0, sizeof c->sockets[0]);
    c->sock_ino[c->nsockets] = r->ino;
    c->sock_fd[c->nsockets] = r->fd;
    return (int)c->nsockets++;
}

/* Every Unix socket of the machine's namespace, from sock_diag: ours noted. */
static int unix_dump(struct sock_scan *sc)
{
    struct crs_capture *c = sc->c;
    int nl = crs_unix_diag_request(0, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
    if (nl < 0)
        return nl;
    size_t cap = 1u << 20;
    char *buf = crs_scratch_alloc(c->scratch, cap);
    int e = buf ? 0 : -ENOMEM, done = 0;
    while (!e && !done) {
        ssize_t n = recv(nl, buf, cap, 0);
        if (n < 0) {
            e = errno == EINTR ? 0 : -errno;
            continue;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                e = -EPROTO;
                break;
            }
            const struct unix_diag_msg *m = NLMSG_DATA(h);
            int k = sock_of_ino(c, m->udiag_ino);
            struct unix_info tmp, *u = k >= 0 ? &sc->ui[k] : &tmp;
            memset(u, 0, sizeof *u);
            u->ino = m->udiag_ino;
            u->state = m->udiag_state;
            u->have = 1;
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                switch (a->rta_type) {
                case UNIX_DIAG_PEER:
                    u->peer = *(uint32_t *)RTA_DATA(a);
                    break;
                case UNIX_DIAG_RQLEN: {
                    const struct unix_diag_rqlen *q = RTA_DATA(a);
                    u->rq = q->udiag_rqueue;
                    u->wq = q->udiag_wqueue;
                    break;
                }
                case UNIX_DIAG_SHUTDOWN:
                    u->shutdown = *(uint8_t *)RTA_DATA(a);
                    break;
                case UNIX_DIAG_ICONS: {
                    uint32_t cnt = (uint32_t)(RTA_PAYLOAD(a) / sizeof(uint32_t));
                    if (k < 0)
                        break;
                    u->first_icon = (uint32_t)sc->nicons;
                    for (uint32_t j = 0; j < cnt && sc->nicons < ICONS_MAX; j++)
                        sc->icons[sc->nicons++] = ((uint32_t *)RTA_DATA(a))[j];
                    u->nicons = (uint32_t)(sc->nicons - u->first_icon);
                    break;
                }
                }
            }
            if (k < 0 && sc->nembryos < ICONS_MAX) {   /* maybe an embryo of ours: its queue */
                sc->embryo_ino[sc->nembryos] = u->ino;
                sc->embryo_rq[sc->nembryos++] = u->rq;
            }
        }
    }
    close(nl);
    return e;
}

/* Whether a peeked message carried descriptors (SCM_RIGHTS). A peek gives
 * the process copies of them: closed here at once. A control buffer too
 * small for them (MSG_CTRUNC) counts as carrying them. */
static int rights_in(struct msghdr *mh)
{
    int found = (mh->msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        found = 1;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < n; k++) {
            int got;
            memcpy(&got, CMSG_DATA(cm) + k * sizeof(int), sizeof got);
            close(got);
        }
    }
    return found;
}

/* Saves fd's SO_PEEK_OFF in *saved and sets it to 0, so that each MSG_PEEK reads the next
 * message of the queue and takes none (the caller puts *saved back after the read). 0; -ENOTSUP
 * with the message when the socket has no peek offset. */
static int peek_from_start(struct crs_capture *c, int fd, int *saved)
{
    int zero = 0;
    socklen_t sl = sizeof *saved;
    *saved = -1;
    getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, saved, &sl);
    if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) != 0) {
        crs_capture_error(c, "cannot read the queue of socket descriptor %d without taking it (SO_PEEK_OFF): %s",
                          fd, strerror(errno));
        return -ENOTSUP;
    }
    return 0;
}

/* The message for e, a queue's read that failed (-E2BIG: the sockets' queues outgrew the room). */
static void peek_error(struct crs_capture *c, int fd, int e)
{
    if (e == -E2BIG)
        crs_capture_error(c, "the sockets' queues hold more than %u MiB", SOCKDATA_MAX >> 20);
    else if (e)
        crs_capture_error(c, "cannot read the queue of socket descriptor %d: %s", fd, strerror(-e));
}

/* The receive queue of fd, left as it was: MSG_PEEK from a moving
 * SO_PEEK_OFF (put back as it was after). Messages are stored each after
 * its length. 0; 1 with the refusal when a message carries descriptors
 * (SCM_RIGHTS: a descriptor in flight, which the restart could not send
 * again); -errno. */
static int peek_queue(struct crs_capture *c, int fd, int type, struct crs_rec_socket *s)
{
    int saved;
    if (peek_from_start(c, fd, &saved) != 0)
        return -ENOTSUP;
    int stream = type == SOCK_STREAM;
    s->data_offset = c->sockdata_len;
    int e = 0, rights = 0;
    for (;;) {
        size_t room = SOCKDATA_MAX - c->sockdata_len;
        if (room < 8) {
            e = -E2BIG;
            break;
        }
        unsigned char *at = c->sockdata + c->sockdata_len + (stream ? 0 : 4);
        size_t want = stream ? room : room - 4;
        /* room for the most descriptors one message carries (SCM_MAX_FD 253) and credentials */
        union { struct cmsghdr align; char buf[CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(64)]; } ctl;
        struct iovec iov = { .iov_base = at, .iov_len = want };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                             .msg_controllen = sizeof ctl.buf };
        ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (stream ? 0 : MSG_TRUNC));
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                e = -errno;
            break;
        }
        if (rights_in(&mh)) {
            rights = 1;
            break;
        }
        if (n == 0 && stream)
            break;   /* the peer shut down: nothing more */
        if ((size_t)n > want) {
            e = -E2BIG;
            break;
        }
        if (!stream) {
            uint32_t len = (uint32_t)n;
            memcpy(c->sockdata + c->sockdata_len, &len, 4);
            c->sockdata_len += 4;
            s->nmsgs++;
        }
        c->sockdata_len += (size_t)n;
        if (n == 0)
            break;   /* an empty datagram would repeat: it is the last we can tell */
    }
    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &saved, sizeof saved);
    if (rights) {   /* nothing of this queue kept */
        c->sockdata_len = s->data_offset;
        s->nmsgs = 0;
        s->data_length = 0;
        crs_capture_error(c, "socket descriptor %d holds a descriptor in flight: a message in its receive "
                          "queue carries descriptors (SCM_RIGHTS), which Revive does not restore; receive "
                          "the message before the checkpoint%s", fd, crs_capture_ignore_hint(c));
        return 1;
    }
    s->data_length = c->sockdata_len - s->data_offset;
    peek_error(c, fd, e);
    return e;
}

static int opt(int fd, int level, int name)
{
    int v = 0;
    socklen_t l = sizeof v;
    return getsockopt(fd, level, name, &v, &l) == 0 && v;
}

static int same_addr(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    return alen && alen == blen && !memcmp(a, b, alen);
}

static int refuse(struct crs_capture *c, int fd, const char *what)
{
    crs_capture_error(c, "socket descriptor %d %s; Revive restores sockets whose both ends the process holds, "
                      "listening and bound ones: close it first%s", fd, what, crs_capture_ignore_hint(c));
    return -ENOTSUP;
}

/* The UDP socket of the process (maybe the receiver itself) that has the
 * address `from` (one bound to the wildcard address answers for its port): its
 * index, or -1. */
static int udp_sender(struct crs_capture *c, const struct sockaddr_storage *from)
{
    for (size_t j = 0; j < c->nsockets; j++) {
        struct sockaddr_storage a;
        socklen_t l = sizeof a;
        int type = 0, proto = 0;
        socklen_t tl = sizeof type, pl = sizeof proto;
        if (getsockopt(c->sock_fd[j], SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM ||
            getsockopt(c->sock_fd[j], SOL_SOCKET, SO_PROTOCOL, &proto, &pl) != 0 ||
            proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ||   /* a ping socket sends no UDP */
            getsockname(c->sock_fd[j], (struct sockaddr *)&a, &l) != 0 || a.ss_family != from->ss_family)
            continue;
        if (a.ss_family == AF_INET) {
            const struct sockaddr_in *x = (const struct sockaddr_in *)&a, *f = (const struct sockaddr_in *)from;
            if (x->sin_port == f->sin_port &&
                (x->sin_addr.s_addr == f->sin_addr.s_addr || x->sin_addr.s_addr == htonl(INADDR_ANY)))
                return (int)j;
        } else if (a.ss_family == AF_INET6) {
            const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a, *f = (const struct sockaddr_in6 *)from;
            if (x->sin6_port == f->sin6_port &&
                (!memcmp(&x->sin6_addr, &f->sin6_addr, sizeof x->sin6_addr) ||
                 !memcmp(&x->sin6_addr, &in6addr_any, sizeof x->sin6_addr)))
                return (int)j;
        }
    }
    return -1;
}

/* Where the next datagram kept with its sender goes in the sockets' data (after its 8 bytes of
 * length and sender), with in *want the bytes it may take; NULL when fewer than 16 are left. */
static unsigned char *sender_slot(struct crs_capture *c, size_t *want)
{
    size_t room = SOCKDATA_MAX - c->sockdata_len;
    if (room < 16)
        return NULL;
    *want = room - 8;
    return c->sockdata + c->sockdata_len;
}

/* Keeps the datagram of n bytes peeked into at + 8 (sender_slot's at) as sent by socket j: its
 * length (counting the sender's 4 bytes) and j before it. */
static void sender_keep(struct crs_capture *c, struct crs_rec_socket *s, unsigned char *at, size_t n, int j)
{
    uint32_t len = (uint32_t)n + 4, who = (uint32_t)j;
    memcpy(at, &len, 4);
    memcpy(at + 4, &who, 4);
    c->sockdata_len += 8 + n;
    s->nmsgs++;
}

/* The end of a queue read with its senders (peek_udp, peek_unix): SO_PEEK_OFF put back as it was;
 * nothing of the queue kept when the read failed (e) or the queue is refused (drop), else the
 * datagrams kept; e's message. Returns e. */
static int senders_end(struct crs_capture *c, int fd, int saved, struct crs_rec_socket *s, int e, int drop)
{
    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &saved, sizeof saved);
    if (e || drop) {   /* nothing of this queue kept */
        c->sockdata_len = s->data_offset;
        s->nmsgs = 0;
        s->data_length = 0;
    } else {
        s->data_length = c->sockdata_len - s->data_offset;
        s->flags |= s->nmsgs ? CRS_SOCK_F_SENDERS : 0;
    }
    peek_error(c, fd, e);
    return e;
}

/* What peek_senders' judge says of a datagram: the index of the process's socket that sent it,
 * or one of these. */
#define PEEK_FOREIGN (-1) /* sent from elsewhere, or empty: it would hide those after it */
#define PEEK_RIGHTS (-2)  /* carries descriptors (SCM_RIGHTS) */

/* The datagrams queued on socket fd, left as they were (MSG_PEEK from a moving SO_PEEK_OFF, as
 * peek_queue), each stored as a message holding its sender's index, then its bytes, to be sent
 * again through that socket at restart (like a socketpair's queue through its peer). Each is
 * read into `from` (fromlen bytes) and `ctl` (ctllen, recvmsg flags `flags`) and judged (judge:
 * its sender's index, PEEK_FOREIGN or PEEK_RIGHTS; descriptors are refused before a datagram too
 * large, one from elsewhere after). 0, or -errno with its message; *refused: the judgement that
 * stopped the read (0: none), the queue then not kept (the caller words the refusal). */
static int peek_senders(struct crs_capture *c, int fd, struct crs_rec_socket *s, void *from, socklen_t fromlen,
                        void *ctl, size_t ctllen, int flags, int (*judge)(void *arg, struct msghdr *mh, ssize_t n),
                        void *arg, int *refused)
{
    int saved, e = 0;
    *refused = 0;
    if (peek_from_start(c, fd, &saved) != 0)
        return -ENOTSUP;
    s->data_offset = c->sockdata_len;
    for (;;) {
        size_t want;
        unsigned char *at = sender_slot(c, &want);
        if (!at) {
            e = -E2BIG;
            break;
        }
        struct iovec iov = { .iov_base = at + 8, .iov_len = want };
        struct msghdr mh = { .msg_name = from, .msg_namelen = fromlen, .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = ctl, .msg_controllen = ctllen };
        memset(from, 0, fromlen);
        ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | flags);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                e = -errno;
            break;
        }
        int j = judge(arg, &mh, n);
        if (j == PEEK_RIGHTS) {
            *refused = j;
            break;
        }
        if ((size_t)n > want) {
            e = -E2BIG;
            break;
        }
        if (j < 0) {
            *refused = j;
            break;
        }
        sender_keep(c, s, at, (size_t)n, j);
    }
    return senders_end(c, fd, saved, s, e, *refused != 0);
}

static int udp_judge(void *arg, struct msghdr *mh, ssize_t n)
{
    return n > 0 ? udp_sender(arg, mh->msg_name) : PEEK_FOREIGN;
}

/* The datagrams queued on UDP socket i, as peek_senders keeps them, when every one was sent by
 * another UDP socket of the process. 0; 1 with the refusal when one came from elsewhere (or is
 * empty: it would hide those after it); -errno. */
static int peek_udp(struct crs_capture *c, size_t i, struct crs_rec_socket *s)
{
    int fd = c->sock_fd[i], refused;
    struct sockaddr_storage from;
    int e = peek_senders(c, fd, s, &from, sizeof from, NULL, 0, 0, udp_judge, c, &refused);
    if (e || !refused)
        return e;
    return refuse(c, fd, "is a UDP socket holding datagrams from senders Revive cannot play again (a "
                         "socket outside the process, or an empty datagram: read them before the "
                         "checkpoint)"), 1;
}

/* The Unix datagram socket of the process that sent a datagram queued on socket i, from the
 * sender's address as recvmsg gives it: the one bound to that name (socket i itself when it sent
 * to its own address); for a sender without a name, a socket of the process connect(2)ed to i
 * (an unnamed sender has no address the receiver sees). Its index, or -1. */
static int unix_sender(struct sock_scan *sc, size_t i, const struct sockaddr_un *from, socklen_t fromlen)
{
    struct crs_capture *c = sc->c;
    int named = fromlen > offsetof(struct sockaddr_un, sun_path);
    for (size_t j = 0; j < c->nsockets; j++) {
        struct sockaddr_un a;
        socklen_t l = sizeof a;
        int type = 0;
        socklen_t tl = sizeof type;
        if (getsockopt(c->sock_fd[j], SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM ||
            getsockname(c->sock_fd[j], (struct sockaddr *)&a, &l) != 0 || a.sun_family != AF_UNIX)
            continue;
        if (named ? l == fromlen && !memcmp(&a, from, l)
                  : l <= offsetof(struct sockaddr_un, sun_path) && sc->ui[j].have && sc->ui[j].peer == c->sock_ino[i])
            return (int)j;
    }
    return -1;
}

struct unix_judge_arg {
    struct sock_scan *sc;
    size_t i;
};

/* A datagram on Unix socket i: descriptors refused, credentials (SO_PASSCRED) must be this
 * process's, its sender one of the process's sockets (unix_sender). */
static int unix_judge(void *arg, struct msghdr *mh, ssize_t n)
{
    const struct unix_judge_arg *u = arg;
    if (rights_in(mh))
        return PEEK_RIGHTS;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(cm), sizeof uc);
            if (uc.pid != getpid())
                return PEEK_FOREIGN;
        }
    return n > 0 ? unix_sender(u->sc, u->i, mh->msg_name, mh->msg_namelen) : PEEK_FOREIGN;
}

/* The datagrams queued on unconnected Unix datagram socket i (or on one connected one way to a
 * socket of the process), as peek_senders keeps them: each with the socket of the process that
 * sent it (unix_sender), to be sent again through it at restart (newuser10 F3: refused before).
 * Credentials a datagram carries (SO_PASSCRED) must be this process's. 0; 1 with the refusal when
 * one came from elsewhere, is empty or carries descriptors; -errno. */
static int peek_unix(struct sock_scan *sc, size_t i, struct crs_rec_socket *s)
{
    struct crs_capture *c = sc->c;
    int fd = c->sock_fd[i], refused;
    struct sockaddr_un from;
    union { struct cmsghdr align; char buf[CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))]; } ctl;
    struct unix_judge_arg u = { sc, i };
    int e = peek_senders(c, fd, s, &from, sizeof from, ctl.buf, sizeof ctl.buf, MSG_CMSG_CLOEXEC, unix_judge, &u,
                         &refused);
    if (e || !refused)
        return e;
    if (refused == PEEK_RIGHTS) {
        crs_capture_error(c, "socket descriptor %d holds a descriptor in flight: a message in its receive "
                          "queue carries descriptors (SCM_RIGHTS), which Revive does not restore; receive "
                          "the message before the checkpoint%s", fd, crs_capture_ignore_hint(c));
        return 1;
    }
    return refuse(c, fd, "is a Unix datagram socket holding datagrams from senders Revive cannot play "
                         "again (a socket outside the process, or an empty datagram: read them before "
                         "the checkpoint)"), 1;
}

/* Whether path, a daemon's socket name, is entry (a path, or a folder ending in '/' covering
 * every name under it) of a list separated by ':' ending at end. */
static int listed(const char *path, const char *v)
{
    while (v && *v) {
        const char *e = strchr(v, ':');
        size_t k = e ? (size_t)(e - v) : strlen(v);
        if (k && v[0] == '/' && !strncmp(path, v, k) && (v[k - 1] == '/' ? path[k] != 0 : !path[k]))
            return 1;
        v = e ? e + 1 : NULL;
    }
    return 0;
}

/* A client's connection to a system daemon (review 13 M4; narrowed to a list by diffrev19
 * MEDIUM-1): a Unix socket connected to one of the sockets below, held by a process outside
 * the checkpoint. Such clients are made by libc on the program's behalf and reconnect when the
 * connection fails: syslog's /dev/log and journald's datagram sockets in /run/systemd/journal
 * (glibc closes, reconnects and sends again when send fails), NSS's SSSD client
 * (/var/lib/sss/pipes/nss: a descriptor whose inode changed or that polls as hung up is
 * dropped and connected again), nscd's socket (connected per request). The daemon's side of
 * the connection cannot come back, so the socket is recorded as what the client finds after
 * the daemon restarted: a socket of the same family and type at the same number, not
 * connected, where the next send or receive fails (ENOTCONN, EINVAL; poll says hang-up) and
 * the client connects again. Only these: a D-Bus system bus, a database's or docker's socket
 * in /run keeps state per connection that a silent reset would lose, so it is refused by name;
 * a site adds its own daemons' sockets in REVIVE_SERVICE_SOCKETS (opts.service_sockets).
 * 1: such a client. 2: such a client with a reply waiting unread: a request in progress, whose
 * reply a reconnected client would never get; refused, but as a passing state (c->passing: the
 * program reads the reply within moments, so its caller tries again: a --term park at any moment
 * caught a rank between the reply's arrival and its recv, issue 7). 0: none. */
static int service_client(const struct crs_capture *c, const struct crs_rec_socket *s,
                          const struct unix_info *u, const char *path)
{
    static const struct { const char *name; int type; } known[] = {
        { "/dev/log", SOCK_DGRAM },                  /* syslog (journald's dev-log behind it) */
        { "/run/systemd/journal/", SOCK_DGRAM },     /* journald: socket, dev-log, syslog */
        { "/var/lib/sss/pipes/", SOCK_STREAM },      /* SSSD: nss, pam, private/... */
        { "/var/run/nscd/socket", SOCK_STREAM },     /* nscd */
        { "/run/nscd/socket", SOCK_STREAM },
    };
    if (s->family != AF_UNIX || s->type == SOCK_SEQPACKET || !path[0])
        return 0;   /* not a stream or datagram client, unnamed or abstract */
    int one = listed(path, c->opts.service_sockets);
    for (size_t i = 0; !one && i < sizeof known / sizeof *known; i++)
        one = s->type == known[i].type && listed(path, known[i].name);
    return !one ? 0 : u->rq ? 2 : 1;
}

/* The name of the socket a Unix socket is connected to (its peer's, as the kernel gives it),
 * into path ("" when unnamed or abstract). */
static void peer_name(const struct crs_rec_socket *s, char *path, size_t len)
{
    const struct sockaddr_un *a = (const struct sockaddr_un *)(const void *)s->remote;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    path[0] = 0;
    if (s->family != AF_UNIX || s->remote_len <= off || !a->sun_path[0])
        return;
    size_t n = s->remote_len - off < sizeof a->sun_path ? s->remote_len - off : sizeof a->sun_path;
    if (n >= len)
        n = len - 1;
    memcpy(path, a->sun_path, n);
    path[n] = 0;
}

/* What socket i is and how it comes back; 0, 1 when it cannot but may be
 * recorded as closed (--ignore-fds), or -errno. */
/* The TCP listener of the process, with connections waiting to be
 * accepted, whose address is `to` (one bound to the wildcard address
 * answers for its port): its index, or -1. */
static int tcp_listener_at(struct crs_capture *c, size_t self, const uint8_t *to, uint32_t to_len)
{
    const struct sockaddr *t = (const struct sockaddr *)to;
    for (size_t j = 0; j < c->nsockets; j++) {
        struct sockaddr_storage a;
        socklen_t l = sizeof a;
        int fd = c->sock_fd[j];
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (j == self || !opt(fd, SOL_SOCKET, SO_ACCEPTCONN) || getsockname(fd, (struct sockaddr *)&a, &l) != 0 ||
            a.ss_family != t->sa_family || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0 || !ti.tcpi_unacked)
            continue;
        if (a.ss_family == AF_INET && to_len >= sizeof(struct sockaddr_in)) {
            const struct sockaddr_in *x = (const struct sockaddr_in *)&a, *y = (const struct sockaddr_in *)to;
            if (x->sin_port == y->sin_port &&
                (x->sin_addr.s_addr == y->sin_addr.s_addr || x->sin_addr.s_addr == htonl(INADDR_ANY)))
                return (int)j;
        } else if (a.ss_family == AF_INET6 && to_len >= sizeof(struct sockaddr_in6)) {
            const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a, *y = (const struct sockaddr_in6 *)to;
            if (x->sin6_port == y->sin6_port && (IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) ||
                                                 IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr)))
                return (int)j;
        }
    }
    return -1;
}

size_t crs_capture_net_fields(const char *line, const char **tok, size_t *toklen, size_t max)
{
    size_t n = 0;
    for (const char *p = line; *p && n < max;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        tok[n] = p;
        while (*p && *p != ' ')
            p++;
        toklen[n] = (size_t)(p - tok[n]);
        n++;
    }
    return n;
}

/* The inode of the server end of the TCP connection from `local` to `remote` (the client's
 * addresses), from /proc/net/tcp or tcp6 (read, not asked of sock_diag: no socket made in the
 * process); 0 while it waits in a listener's queue (no file holds it), -1 when none is listed.
 * A file holds it once accepted: by another process, since none of ours is its peer. */
static long tcp_server_ino(struct crs_capture *c, const uint8_t *local, uint32_t local_len, const uint8_t *remote, uint32_t remote_len)
{
    char want_l[48], want_r[48];   /* as the kernel prints them: the server's local is our remote */
    const struct sockaddr *l = (const struct sockaddr *)local;
    const char *file;
    if (l->sa_family == AF_INET && local_len >= sizeof(struct sockaddr_in) && remote_len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)remote, *b = (const struct sockaddr_in *)local;
        snprintf(want_l, sizeof want_l, "%08X:%04X", a->sin_addr.s_addr, ntohs(a->sin_port));
        snprintf(want_r, sizeof want_r, "%08X:%04X", b->sin_addr.s_addr, ntohs(b->sin_port));
        file = "/proc/self/net/tcp";
    } else if (l->sa_family == AF_INET6 && local_len >= sizeof(struct sockaddr_in6) &&
               remote_len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)remote, *b = (const struct sockaddr_in6 *)local;
        uint32_t x[4], y[4];
        memcpy(x, &a->sin6_addr, sizeof x);
        memcpy(y, &b->sin6_addr, sizeof y);
        snprintf(want_l, sizeof want_l, "%08X%08X%08X%08X:%04X", x[0], x[1], x[2], x[3], ntohs(a->sin6_port));
        snprintf(want_r, sizeof want_r, "%08X%08X%08X%08X:%04X", y[0], y[1], y[2], y[3], ntohs(b->sin6_port));
        file = "/proc/self/net/tcp6";
    } else {
        return -1;
    }
    /* no stdio here (a parked thread may hold malloc's lock): the whole file into scratch */
    size_t cap = 1u << 20;
    char *buf = NULL;
    long len = -ENOSPC;
    for (int tries = 0; tries < 5 && len == -ENOSPC; tries++, cap *= 4)
        len = (buf = crs_scratch_alloc(c->scratch, cap)) ? revive_read_file(file, buf, cap) : -ENOMEM;
    if (len < 0)
        return -1;
    long found = -1;
    for (char *line = buf; found < 0 && line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        const char *tok[10];
        size_t toklen[10], n = crs_capture_net_fields(line, tok, toklen, 10);
        uint64_t ino;
        const char *q = n == 10 ? tok[9] : NULL;
        if (q && toklen[1] == strlen(want_l) && !memcmp(tok[1], want_l, toklen[1]) &&
            toklen[2] == strlen(want_r) && !memcmp(tok[2], want_r, toklen[2]) && !revive_parse_u64(&q, &ino))
            found = (long)ino;
        line = end ? end + 1 : NULL;
    }
    return found;
}

static int describe(struct sock_scan *sc, size_t i)
{
    struct crs_capture *c = sc->c;
    struct crs_rec_socket *s = &c->sockets[i];
    int fd = c->sock_fd[i];
    s->peer = s->listener = -1;
    socklen_t l = sizeof s->family;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &s->family, &l);
    l = sizeof s->type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &s->type, &l);
    l = sizeof s->protocol;
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &s->protocol, &l);
    if ((s->family != AF_UNIX && s->family != AF_INET && s->family != AF_INET6) ||
        (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET &&
         (s->type != SOCK_RAW || s->family == AF_UNIX)) ||
        (s->family != AF_UNIX && s->type == SOCK_SEQPACKET)) {
        refuse(c, fd, "is of a family or type Revive does not restore (netlink, packet...)");
        return 1;
    }
    l = CRS_SOCKADDR_MAX;
    if (getsockname(fd, (struct sockaddr *)s->local, &l) == 0 && l > sizeof(sa_family_t))
        s->local_len = l;
    l = CRS_SOCKADDR_MAX;
    if (getpeername(fd, (struct sockaddr *)s->remote, &l) == 0 && l >= sizeof(sa_family_t))
        s->remote_len = l;
    s->flags |= opt(fd, SOL_SOCKET, SO_REUSEADDR) ? CRS_SOCK_F_REUSEADDR : 0;
    s->flags |= opt(fd, SOL_SOCKET, SO_REUSEPORT) ? CRS_SOCK_F_REUSEPORT : 0;
    s->flags |= opt(fd, SOL_SOCKET, SO_KEEPALIVE) ? CRS_SOCK_F_KEEPALIVE : 0;
    if (s->family == AF_UNIX)
        s->flags |= opt(fd, SOL_SOCKET, SO_PASSCRED) ? CRS_SOCK_F_PASSCRED : 0;
    if (s->family == AF_INET6)
        s->flags |= opt(fd, IPPROTO_IPV6, IPV6_V6ONLY) ? CRS_SOCK_F_V6ONLY : 0;
    if (s->family != AF_UNIX && s->type == SOCK_STREAM)
        s->flags |= opt(fd, IPPROTO_TCP, TCP_NODELAY) ? CRS_SOCK_F_NODELAY : 0;
    int listening = opt(fd, SOL_SOCKET, SO_ACCEPTCONN);
    if (crs_capture_is_raw(s))   /* raw IP and ICMP ping sockets */
        return crs_capture_raw(c, i);

    if (s->family == AF_UNIX) {
        const struct unix_info *u = &sc->ui[i];
        if (!u->have)
            return refuse(c, fd, "is not known to the kernel's socket diagnostics"), 1;
        s->flags |= u->shutdown & 1 ? CRS_SOCK_F_SHUT_RD : 0;
        s->flags |= u->shutdown & 2 ? CRS_SOCK_F_SHUT_WR : 0;
        if (listening) {
            s->state = CRS_SOCK_LISTEN;
            s->backlog = (int32_t)u->wq;
            /* every connection waiting must be one of ours (the kernel lists
             * each by its client's inode), with nothing sent yet */
            for (uint32_t k = 0; k < u->nicons; k++) {
                int j = sock_of_ino(c, sc->icons[u->first_icon + k]);
                int outq = 0;
                if (j < 0)
                    return refuse(c, fd, "is listening with a connection from another process waiting to "
                                         "be accepted"), 1;
                if (ioctl(c->sock_fd[j], SIOCOUTQ, &outq) == 0 && outq > 0)
                    return refuse(c, fd, "is listening, and a connection waiting in its queue already "
                                         "sent data (accept it before the checkpoint)"), 1;
            }
            return 0;
        }
        /* waiting in one of our listeners' queue? (its peer, not accepted
         * yet, has no inode) */
        for (size_t j = 0; j < c->nsockets; j++)
            for (uint32_t k = 0; k < sc->ui[j].nicons; k++)
                if (sc->icons[sc->ui[j].first_icon + k] == c->sock_ino[i]) {
                    s->state = CRS_SOCK_CONNECTED;
                    s->flags |= CRS_SOCK_F_PENDING;
                    s->listener = (int32_t)j;
                    return 0;   /* it sent nothing (checked at its listener) and can have received nothing */
                }
        if (u->peer) {
            int p = sock_of_ino(c, u->peer);
            char path[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
            peer_name(s, path, sizeof path);
            int svc = p < 0 ? service_client(c, s, u, path) : 0;
            if (svc == 2) {
                /* not "another process ... close it first": the daemon is one whose clients are
                 * let through, the request ends by itself (issue 7) */
                crs_capture_error(c, "socket descriptor %d: a request to the service at %.200s is in "
                                  "progress (a reply is waiting unread, %u bytes): a client of a service "
                                  "comes back only between requests (unconnected, to connect again); let "
                                  "the program read the reply, then checkpoint again%s", fd, path,
                                  (unsigned)u->rq, crs_capture_ignore_hint(c));
                c->passing = 1;
                return 1;
            }
            if (svc == 1) {
                /* reconnectable: a socket of its kind, not connected (service_client) */
                s->state = CRS_SOCK_UNBOUND;
                s->local_len = s->remote_len = 0;
                s->flags &= ~(uint32_t)(CRS_SOCK_F_SHUT_RD | CRS_SOCK_F_SHUT_WR);
                return 0;
            }
            if (p < 0) {
                char want[40], comm[20], what[768], named[160];
                snprintf(want, sizeof want, "socket:[%llu]", (unsigned long long)u->peer);
                pid_t holder = crs_capture_holder(want, comm, sizeof comm);
                named[0] = 0;   /* a named one is a daemon's or a server's: say which */
                if (path[0])
                    snprintf(named, sizeof named, " %.150s,", path);
                int member = 0;   /* the holder is of the tree: its image leaves that end out */
                for (int k = 0; holder > 0 && c->opts.tree && k < c->opts.ntree_members; k++)
                    member |= (pid_t)c->opts.tree_members[k] == holder;
                if (member)
                    snprintf(what, sizeof what, "is connected to%s a socket of process %d '%s', a process of the "
                             "tree being checkpointed that leaves that socket out of its image (a library's own "
                             "connection, as an MPI library's in a rank): no restart can connect them again; "
                             "close it in this process before the checkpoint", named, (int)holder, comm);
                else if (holder > 0)
                    snprintf(what, sizeof what, "is connected to%s a socket of process %d '%s', %s", named,
                             (int)holder, comm,
                             c->opts.tree ? "which is not among the processes being checkpointed"
                             : c->opts.no_ignore_hint ? "another process"   /* an MPI rank: no --tree */
                                                      : "another process (checkpointing both with --tree "
                                                        "does not restore a socket between them yet)");
                else
                    snprintf(what, sizeof what, "is connected to%s a socket of another process (none Revive "
                                                "can see holds it: in flight in a Unix socket message, or "
                                                "another user's)", named);
                if (path[0])   /* how a daemon whose clients reconnect is let through */
                    snprintf(what + strlen(what), sizeof what - strlen(what), " (a system daemon's "
                             "socket whose clients connect again by themselves, as syslog's, may be named in "
                             "REVIVE_SERVICE_SOCKETS: revive(7))");
                return refuse(c, fd, what), 1;
            }
            if (sc->ui[p].peer != c->sock_ino[i]) {
                /* connected one way to a bound datagram socket of the process (a sender to its own
                 * receiver): connected again to that name at restart (restore_sockets.c); the
                 * datagrams it holds came from that socket, the only one it takes them from */
                struct sockaddr_un pa;
                socklen_t pl = sizeof pa;
                if (s->type != SOCK_DGRAM || getsockname(c->sock_fd[p], (struct sockaddr *)&pa, &pl) != 0 ||
                    pl <= offsetof(struct sockaddr_un, sun_path) || pl != s->remote_len ||
                    memcmp(&pa, s->remote, pl))
                    return refuse(c, fd, "is a datagram socket connected to a socket of the process that has "
                                         "no name"), 1;
                s->state = s->local_len > offsetof(struct sockaddr_un, sun_path) ? CRS_SOCK_BOUND : CRS_SOCK_UNBOUND;
                return u->rq ? peek_unix(sc, i, s) : 0;
            }
            s->state = CRS_SOCK_CONNECTED;
            s->peer = p;
            int q = peek_queue(c, fd, s->type, s);
            return q < 0 ? -EIO : q;
        }
        s->state = s->local_len ? CRS_SOCK_BOUND : CRS_SOCK_UNBOUND;
        if (u->rq && s->type == SOCK_DGRAM)
            return peek_unix(sc, i, s);
        if (u->rq && s->type != SOCK_STREAM)
            return refuse(c, fd, "is an unconnected socket holding messages from senders Revive cannot tell "
                                 "(read them before the checkpoint)"), 1;
        return 0;
    }

    /* TCP and UDP */
    if (s->type == SOCK_DGRAM) {
        int q = 0;
        s->state = s->local_len ? CRS_SOCK_BOUND : CRS_SOCK_UNBOUND;
        if (ioctl(fd, SIOCINQ, &q) == 0 && q > 0)
            return peek_udp(c, i, s);
        return 0;   /* a connected UDP socket connects again to its address */
    }
    struct tcp_info ti;
    memset(&ti, 0, sizeof ti);
    l = sizeof ti;
    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
    if (listening) {
        s->state = CRS_SOCK_LISTEN;
        s->backlog = (int32_t)ti.tcpi_sacked;
        /* connections waiting to be accepted: each must be one of ours
         * (tcp_waiting_ours, once every socket is described) */
        sc->tcp_waiting[i] = ti.tcpi_unacked;
        return 0;
    }
    if (ti.tcpi_state == 7 /* TCP_CLOSE */)
        s->state = s->local_len && ((struct sockaddr_in *)s->local)->sin_port ? CRS_SOCK_BOUND : CRS_SOCK_UNBOUND;
    else if (ti.tcpi_state != 1 /* TCP_ESTABLISHED */)
        return refuse(c, fd, "is a TCP connection that is being set up or closed (state not ESTABLISHED)"), 1;
    else
        s->state = CRS_SOCK_CONNECTED;
    if (s->state != CRS_SOCK_CONNECTED)
        return 0;
    for (size_t j = 0; j < c->nsockets; j++) {
        if (j == i)
            continue;
        const struct crs_rec_socket *o = &c->sockets[j];
        int ofd = c->sock_fd[j];
        uint8_t ol[CRS_SOCKADDR_MAX], orr[CRS_SOCKADDR_MAX];
        socklen_t oll = sizeof ol, orl = sizeof orr;
        (void)o;
        if (getsockname(ofd, (struct sockaddr *)ol, &oll) == 0 && getpeername(ofd, (struct sockaddr *)orr, &orl) == 0 &&
            same_addr(ol, oll, s->remote, s->remote_len) && same_addr(orr, orl, s->local, s->local_len)) {
            s->peer = (int32_t)j;
            break;
        }
    }
    if (s->peer < 0) {
        /* waiting in one of our listeners' queue? (its server end has no descriptor) */
        int L = tcp_listener_at(c, i, s->remote, s->remote_len);
        long server = L < 0 ? -1 : tcp_server_ino(c, s->local, s->local_len, s->remote, s->remote_len);
        if (server > 0) {
            /* accepted already, by a process that shares the listener (a child) or
             * listens on the same port: not one waiting in ours */
            char want[48], comm[20], what[200];
            snprintf(want, sizeof want, "socket:[%ld]", server);
            pid_t holder = crs_capture_holder(want, comm, sizeof comm);
            if (holder > 0)
                snprintf(what, sizeof what, "is a TCP connection to listening socket descriptor %d's port that "
                         "process %d '%s' accepted", c->sock_fd[L], (int)holder, comm);
            else
                snprintf(what, sizeof what, "is a TCP connection to listening socket descriptor %d's port that "
                         "another process accepted", c->sock_fd[L]);
            return refuse(c, fd, what), 1;
        }
        if (L < 0) {
            /* both addresses: a descriptor number alone did not tell the user which connection of
             * the program it is (newuser7b F5) */
            char la[160], ra[160], what[400];
            crs_sockaddr_text(s->local, s->local_len, la, sizeof la);
            crs_sockaddr_text(s->remote, s->remote_len, ra, sizeof ra);
            snprintf(what, sizeof what, "is a TCP connection to another process at %s (local address %s)", ra, la);
            return refuse(c, fd, what), 1;
        }
        if (ti.tcpi_bytes_sent || ti.tcpi_bytes_received) {
            /* the bytes sit in the server end's receive queue, which only accept()
             * reaches, and accepting it would take it from the program's queue */
            char what[400];
            snprintf(what, sizeof what, "is a TCP connection waiting in the queue of listening socket descriptor "
                     "%d, not accepted yet, that already sent %llu byte%s: they wait in the server end, which "
                     "Revive cannot read without accepting the connection itself (and taking it from the "
                     "program); let the program accept it before the checkpoint", c->sock_fd[L],
                     (unsigned long long)ti.tcpi_bytes_sent, ti.tcpi_bytes_sent == 1 ? "" : "s");
            return refuse(c, fd, what), 1;
        }
        s->flags |= CRS_SOCK_F_PENDING;
        s->listener = (int32_t)L;
        return 0;   /* connected again to its listener at restart, its queue empty */
    }
    /* bytes sent but not acknowledged would be lost: loopback acknowledges
     * at once, unless the receiver's buffer is full */
    int outq = 0;
    for (int tries = 0; tries < 20 && ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > 0; tries++) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    if (outq > 0)
        return refuse(c, fd, "is a TCP connection with bytes in flight that its peer has no room for"), 1;
    return peek_queue(c, fd, s->type, s) ? -EIO : 0;
}

/* Every connection waiting in a TCP listener's queue must be a client end
 * the process holds (made again at restart by connecting it to the listener
 * bound again): one from another process cannot come back, as no TCP
 * connection to another process can. */
static int tcp_waiting_ours(struct sock_scan *sc)
{
    struct crs_capture *c = sc->c;
    for (size_t L = 0; L < c->nsockets; L++) {
        if (!sc->tcp_waiting[L] || c->sockets[L].state != CRS_SOCK_LISTEN)
            continue;
        uint32_t ours = 0;
        for (size_t i = 0; i < c->nsockets; i++)
            ours += (c->sockets[i].flags & CRS_SOCK_F_PENDING) && c->sockets[i].listener == (int32_t)L &&
                    c->sockets[i].family != AF_UNIX;
        if (ours == sc->tcp_waiting[L])
            continue;
        char what[200];
        snprintf(what, sizeof what, "is listening with %u connection%s waiting to be accepted, of which the "
                 "process holds the client end of %u: one from another process cannot be brought back (accept "
                 "%s before the checkpoint)", sc->tcp_waiting[L], sc->tcp_waiting[L] == 1 ? "" : "s", ours,
                 sc->tcp_waiting[L] == 1 ? "it" : "them");
        c->err[0] = 0;
        refuse(c, c->sock_fd[L], what);
        if (crs_capture_sockets_unrestorable(c, L))
            return -ENOTSUP;
        c->err[0] = 0;
        /* closed (--ignore-fds): so are the clients waiting on it, which have no listener now */
        for (size_t i = 0; i < c->nsockets; i++)
            if ((c->sockets[i].flags & CRS_SOCK_F_PENDING) && c->sockets[i].listener == (int32_t)L) {
                snprintf(what, sizeof what, "waits to be accepted by listening socket descriptor %d, which is "
                         "left out", c->sock_fd[L]);
                refuse(c, c->sock_fd[i], what);
                if (crs_capture_sockets_unrestorable(c, i))
                    return -ENOTSUP;
                c->err[0] = 0;
            }
    }
    return 0;
}

int crs_capture_sockets(struct crs_capture *c)
{
    if (!c->nsockets)
        return crs_capture_mcast(c);   /* no socket: no note goes into the image (mcast_if_notes.h) */
    struct sock_scan sc = { .c = c };
    sc.ui = crs_scratch_alloc(c->scratch, c->nsockets * sizeof *sc.ui);
    sc.icons = crs_scratch_alloc(c->scratch, ICONS_MAX * sizeof *sc.icons);
    sc.embryo_ino = crs_scratch_alloc(c->scratch, ICONS_MAX * sizeof *sc.embryo_ino);
    sc.embryo_rq = crs_scratch_alloc(c->scratch, ICONS_MAX * sizeof *sc.embryo_rq);
    sc.tcp_waiting = crs_scratch_alloc(c->scratch, c->nsockets * sizeof *sc.tcp_waiting);
    c->sockdata = crs_scratch_alloc(c->scratch, SOCKDATA_MAX);
    if (!sc.ui || !sc.icons || !sc.embryo_ino || !sc.embryo_rq || !sc.tcp_waiting || !c->sockdata) {
        crs_capture_error(c, "out of scratch memory for sockets");
        return -ENOMEM;
    }
    memset(sc.ui, 0, c->nsockets * sizeof *sc.ui);
    memset(sc.tcp_waiting, 0, c->nsockets * sizeof *sc.tcp_waiting);
    int have_unix = 0;
    for (size_t i = 0; i < c->nsockets; i++) {
        int fam = 0;
        socklen_t l = sizeof fam;
        getsockopt(c->sock_fd[i], SOL_SOCKET, SO_DOMAIN, &fam, &l);
        have_unix |= fam == AF_UNIX;
    }
    int e = have_unix ? unix_dump(&sc) : 0;
    if (e) {
        crs_capture_error(c, "cannot ask the kernel about the process's Unix sockets (sock_diag): %s", strerror(-e));
        return e;
    }
    for (size_t i = 0; i < c->nsockets; i++) {
        c->err[0] = 0;
        c->passing = 0;
        e = describe(&sc, i);
        if (e < 0)
            return e;
        if (e == 1) {
            /* not restorable: inherited, --ignore-fds, or the refusal */
            if (crs_capture_sockets_unrestorable(c, i))
                return -ENOTSUP;
            c->err[0] = 0;
            c->passing = 0;
        }
    }
    if ((e = tcp_waiting_ours(&sc)))
        return e;
    /* a pending client's peer is made by its listener; the server ends of
     * accepted Unix connections are made by accept on their listener */
    for (size_t i = 0; i < c->nsockets; i++) {
        struct crs_rec_socket *s = &c->sockets[i];
        if (s->family != AF_UNIX || s->state != CRS_SOCK_CONNECTED || s->peer < 0 || (s->flags & CRS_SOCK_F_PENDING))
            continue;
        for (size_t j = 0; j < c->nsockets; j++) {
            const struct crs_rec_socket *L = &c->sockets[j];
            if (L->state == CRS_SOCK_LISTEN && L->family == AF_UNIX && L->type == s->type &&
                same_addr(L->local, L->local_len, s->local, s->local_len) &&
                same_addr(c->sockets[s->peer].remote, c->sockets[s->peer].remote_len, L->local, L->local_len)) {
                s->flags |= CRS_SOCK_F_ACCEPTED;
                s->listener = (int32_t)j;
                break;
            }
        }
    }
    for (size_t i = 0; i < c->nsockets; i++) {
        struct crs_rec_socket *s = &c->sockets[i];
        if (s->family == AF_UNIX && s->state == CRS_SOCK_CONNECTED && s->peer >= 0 &&
            !(s->flags & (CRS_SOCK_F_ACCEPTED | CRS_SOCK_F_PENDING)) &&
            !(c->sockets[s->peer].flags & (CRS_SOCK_F_ACCEPTED | CRS_SOCK_F_PENDING)))
            s->flags |= CRS_SOCK_F_PAIR;
    }
    if ((e = crs_capture_sockopts(c)))
        return e;
    return crs_capture_mcast(c);
}

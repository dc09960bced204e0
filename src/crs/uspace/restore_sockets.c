/* Sockets made again at restart (image_format.h: SOCKETS, SOCKDATA), at our
 * own descriptor numbers, before the process's descriptors are placed:
 *   1. TCP connections: through a listener of our own on the address of one
 *      end (the process's listener is not bound yet), both ends bound to
 *      their old addresses and kept SO_REUSEADDR until the end, since either
 *      may hold a listener's port (bind and listen of the listener check it);
 *   2. bound and listening sockets bound again (a Unix path left by the
 *      dead original is removed when nobody listens there; an address that
 *      another process holds fails the restart, naming it);
 *   3. Unix connections accepted from one of the process's listeners:
 *      connected to it and accepted, so both ends keep their names;
 *   4. socketpairs; 5. connections still waiting in a listener's queue
 *      (connected to it again: Unix from their names, TCP from their old
 *      addresses);
 *   6. unbound ones; then the receive queues, written through each peer
 *      (a UDP socket's through the sockets that sent them),
 *      options (restore_sockopts.c: some also as each socket is made),
 *      multicast groups (restore_mcast.c) and shutdowns. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"
#include "crs/base/sockaddr_text.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int sock_new(struct crs_restore *r, const struct crs_rec_socket *s)
{
    int fd = socket(s->family, s->type | SOCK_CLOEXEC, s->protocol);
    if (fd < 0)
        return -1;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    close(fd);
    int one = 1;
    if (moved >= 0 && s->family == AF_INET6 && (s->flags & CRS_SOCK_F_V6ONLY))
        setsockopt(moved, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (moved >= 0)   /* those that matter before bind, listen, connect; all again at the end */
        crs_restore_sockopts(r, (size_t)(s - r->img->sockets), moved, 1);
    return moved;
}

static int set_reuse(int fd, int on)
{
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
}

/* A Unix path where the dead original's socket file may still be: removed
 * when nobody answers there. */
static void clear_stale(const struct crs_rec_socket *s)
{
    const struct sockaddr_un *u = (const struct sockaddr_un *)s->local;
    if (s->family != AF_UNIX || s->local_len <= offsetof(struct sockaddr_un, sun_path) || !u->sun_path[0])
        return;
    struct stat st;
    if (stat(u->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    int probe = socket(AF_UNIX, s->type | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return;
    if (connect(probe, (const struct sockaddr *)s->local, s->local_len) != 0 && errno == ECONNREFUSED)
        unlink(u->sun_path);
    close(probe);
}

/* How a message names socket record i: by the descriptor the program knows
 * it as (a connection still queued on a listener has none). */
static const char *sock_what(const struct crs_restore *r, size_t i, char *buf, size_t cap)
{
    for (size_t k = 0; k < r->img->nfds; k++)
        if (r->img->fds[k].kind == CRS_FD_SOCKET && r->img->fds[k].memfd == (int32_t)i) {
            snprintf(buf, cap, "the socket at descriptor %d", (int)r->img->fds[k].fd);
            return buf;
        }
    snprintf(buf, cap, "a connection queued on a listening socket");
    return buf;
}

/* The holder in TIME-WAIT of an address that cannot be bound, as bind_fail names it: the first
 * one found, or better the first that is not a connection of the image (none ends that). */
struct tw_holder {
    const struct crs_restore *r;
    struct sockaddr_storage local, remote;
    int n;
    long rec;   /* the image's record of that end of the connection, -1: none */
};

static int same_inet(const uint8_t *rec, const struct sockaddr_storage *a)
{
    const struct sockaddr *sa = (const struct sockaddr *)rec;
    if (sa->sa_family != a->ss_family)
        return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)rec, *y = (const struct sockaddr_in *)a;
        return x->sin_port == y->sin_port && !memcmp(&x->sin_addr, &y->sin_addr, sizeof x->sin_addr);
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)rec, *y = (const struct sockaddr_in6 *)a;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
}

static int tw_holder_seen(void *arg, const struct sockaddr_storage *local, const struct sockaddr_storage *remote)
{
    struct tw_holder *h = arg;
    const struct crs_image *img = h->r->img;
    long rec = -1;
    for (size_t k = 0; k < img->nsockets && rec < 0; k++) {
        const struct crs_rec_socket *c = &img->sockets[k];
        if (c->family != AF_UNIX && c->type == SOCK_STREAM && c->state == CRS_SOCK_CONNECTED &&
            ((c->peer >= 0 && same_inet(c->local, local) && same_inet(c->remote, remote)) ||
             /* a connection still queued at the checkpoint that the original accepted after it
              * and closed first: the TIME-WAIT is its server end's (newuser10 M3) */
             ((c->flags & CRS_SOCK_F_PENDING) && same_inet(c->remote, local) && same_inet(c->local, remote))))
            rec = (long)k;
    }
    if (!h->n++ || rec < 0) {
        h->local = *local;
        h->remote = *remote;
        h->rec = rec;
    }
    return rec < 0;
}

/* Why no restart ended the TIME-WAIT bind_fail found: its connection is not one of the
 * image, or what ending it gave (tcp_pair) */
static void tw_advice(const struct crs_restore *r, const struct tw_holder *h, char *out, size_t cap)
{
    int e = h->rec < 0 ? 0 : r->sock_tw[h->rec];
    if (h->rec < 0)
        snprintf(out, cap, "it is not a connection of the image (its other end was not in the process), and a "
                           "restart ends only those: restart once it has gone");
    else if (e == -EPERM)
        snprintf(out, cap, "restart once it has gone, or as root (with CAP_NET_ADMIN a restart ends the TIME-WAIT "
                           "of a connection of the image)");
    else if (e == -EOPNOTSUPP)
        snprintf(out, cap, "this kernel cannot end it (sock_diag SOCK_DESTROY needs CONFIG_INET_DIAG_DESTROY): "
                           "restart once it has gone");
    else
        snprintf(out, cap, "ending it gave %s: restart once it has gone", e ? strerror(-e) : "no error");
}

/* Which process holds the socket of inode ino (sock_holder: its pid and descriptor), looked
 * for in the /proc that shows the live processes. A restart beside its running original runs
 * in a pid namespace with a /proc of its own, where the original cannot be seen: the refusal
 * said "another process holds that address" without naming it or its descriptor (newuser10
 * L1: the listener); the outer /proc shows it (r->outer_proc_fd, as restore_shm_busy.c). */
struct sock_holder {
    char want[48];   /* "socket:[INO]" */
    pid_t self, pid;
    long fd;
};

static long sock_holder_fd(long n, int dirfd, void *arg)
{
    struct sock_holder *h = arg;
    char name[24], link[48];
    snprintf(name, sizeof name, "%ld", n);
    ssize_t l = readlinkat(dirfd, name, link, sizeof link - 1);
    if (l <= 0)
        return 0;
    link[l] = 0;
    if (strcmp(link, h->want))
        return 0;
    h->fd = n;
    return 1;
}

static long sock_holder_proc(long n, int dirfd, void *arg)
{
    struct sock_holder *h = arg;
    if ((pid_t)n == h->self)
        return 0;
    char path[48];
    snprintf(path, sizeof path, "%ld/fd", n);
    int fds = openat(dirfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fds < 0)
        return 0;   /* gone, or not ours to read */
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds);
    long hit = revive_proc_for_each_number(path, sock_holder_fd, h);
    close(fds);
    if (hit != 1)
        return 0;
    h->pid = (pid_t)n;
    return 1;
}

static pid_t sock_holder(const struct crs_restore *r, unsigned long ino, long *fd)
{
    struct sock_holder h = { .pid = 0, .fd = -1 };
    snprintf(h.want, sizeof h.want, "socket:[%lu]", ino);
    int own = r->outer_proc_fd < 0;
    int procfd = own ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : r->outer_proc_fd;
    h.self = own ? revive_proc_self_pid() : r->outer_pid;
    if (procfd < 0)
        return 0;
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/self/fd/%d", procfd);
    revive_proc_for_each_number(dir, sock_holder_proc, &h);
    if (own)
        close(procfd);
    *fd = h.fd;
    return h.pid;
}

/* Which socket record already made again by this restart is the socket of inode ino: its index,
 * or -1 (the holder is not one of ours). */
static long own_socket(const struct crs_restore *r, unsigned long ino)
{
    struct stat st;
    for (size_t k = 0; ino && k < r->img->nsockets; k++)
        if (r->sock_fds[k] >= 0 && fstat(r->sock_fds[k], &st) == 0 && st.st_ino == ino)
            return (long)k;
    return -1;
}

static int bind_fail(struct crs_restore *r, size_t i, const struct crs_rec_socket *s, int e)
{
    char a[160], w[64];
    crs_sockaddr_text(s->local, s->local_len, a, sizeof a);
    struct tw_holder h = { .r = r, .rec = -1 };
    /* A live process holding the address (the original, beside which this restart runs: a
     * listener, a connection) comes first: TIME-WAIT sockets of the same port, there too, were
     * blamed before (review 13 MEDIUM-7). Not the image's fault: the image is fine. */
    unsigned long ino = e == EADDRINUSE ? crs_restore_live_socket_on(s) : 0;
    pid_t holder = 0;
    long hfd = -1, own = own_socket(r, ino);
    if (ino && own < 0)
        holder = sock_holder(r, ino, &hfd);
    if (own >= 0) {
        /* not another process: a socket this restart made first (newuser7b F3 said "another
         * process holds that address" of the process's own accepted connection) */
        char w2[64];
        crs_restore_error(r, "cannot bind %s to %s again: %s, already made again by this restart, holds "
                          "that address (the kernel refused the order of the restore: a fault of Revive, "
                          "not of the image; please report it)", sock_what(r, i, w, sizeof w), a,
                          sock_what(r, (size_t)own, w2, sizeof w2));
    } else if (holder) {
        char who[256];
        crs_restore_describe_holder(r, holder, who, sizeof who);
        if (r->refused_outside)
            *r->refused_outside = 1;
        crs_restore_error(r, "cannot bind %s to %s again: another process holds that address: %s still runs and "
                          "holds it (descriptor %ld); end it, then restart (the image is fine)",
                          sock_what(r, i, w, sizeof w), a, who, hfd);
    } else if (e == EADDRINUSE && (crs_restore_time_wait_each(s, tw_holder_seen, &h) > 0 || h.n)) {
        char peer[160], advice[200];
        crs_sockaddr_text((const uint8_t *)&h.remote, h.remote.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                            : sizeof(struct sockaddr_in6),
                  peer, sizeof peer);
        tw_advice(r, &h, advice, sizeof advice);
        crs_restore_error(r, "cannot bind %s to %s again: %s TCP connection on that address (to %s) is in "
                          "TIME-WAIT, which the kernel keeps up to 60 s after it closed (`ss -tano` shows it "
                          "with timer:(timewait,...)); %s", sock_what(r, i, w, sizeof w), a,
                          h.rec < 0 ? "a" : "the ended original's", peer, advice);
    } else if (e == EADDRINUSE) {
        crs_restore_error(r, "cannot bind %s to %s again: another process holds that address; restart "
                          "once it has let go", sock_what(r, i, w, sizeof w), a);
    } else {
        crs_restore_error(r, "cannot bind %s to %s again: %s%s", sock_what(r, i, w, sizeof w), a, strerror(e),
                          e == ENOENT ? "; if its folder moved, restart with --relocate OLD=NEW" : "");
    }
    return -EADDRINUSE;
}

static int do_bind(struct crs_restore *r, size_t i, const struct crs_rec_socket *s, int fd)
{
    clear_stale(s);
    /* Established connections already hold a TCP port (pass 1): SO_REUSEADDR stays on through
     * listen(2), which checks the port again; the program's own value comes back after it. */
    set_reuse(fd, 1);
    int rc = bind(fd, (const struct sockaddr *)s->local, s->local_len);
    return rc ? bind_fail(r, i, s, errno) : 0;
}

/* A new client end of a TCP connection, bound to its old address and connected to the server
 * end's. Its old port was one the kernel chose: once the original has gone, any process may be
 * given it (as its own ephemeral port), and the bind fails with EADDRINUSE, as in a CI run with
 * other tests beside (crs_sockets, session 12). A holder that is letting go (a process ending)
 * is waited for up to 3 s, with a new socket each try; *bind_err says the bind failed. */
static int tcp_client(struct crs_restore *r, const struct crs_rec_socket *c, const struct crs_rec_socket *srv,
                      int *bind_err)
{
    for (int tries = 0;; tries++) {
        int cl = sock_new(r, c);
        if (cl < 0)
            return -1;
        set_reuse(cl, 1);
        *bind_err = bind(cl, (const struct sockaddr *)c->local, c->local_len) != 0;
        if (!*bind_err && connect(cl, (const struct sockaddr *)srv->local, srv->local_len) == 0)
            return cl;
        int e = errno;
        close(cl);
        if ((e != EADDRINUSE && e != EADDRNOTAVAIL) || tries >= 150) {
            errno = e;
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
}

/* A TCP connection waiting in the queue of the process's listener (bound
 * again in pass 2): its client end, bound to its old address, connected to
 * the address it had connected to. */
static int tcp_pending(struct crs_restore *r, size_t i)
{
    const struct crs_rec_socket *c = &r->img->sockets[i];
    struct crs_rec_socket to = { 0 };
    memcpy(to.local, c->remote, sizeof to.local);
    to.local_len = c->remote_len;
    int bind_err = 0, cl = tcp_client(r, c, &to, &bind_err);
    if (cl < 0 && bind_err)
        return bind_fail(r, i, c, errno);
    if (cl < 0) {
        char a[160], w[64];
        crs_sockaddr_text(c->remote, c->remote_len, a, sizeof a);
        crs_restore_error(r, "cannot connect %s, not accepted yet, to %s again: %s", sock_what(r, i, w, sizeof w), a,
                          strerror(errno));
        return -EIO;
    }
    r->sock_fds[i] = cl;   /* SO_REUSEADDR: the program's value at the end, as tcp_pair's */
    return 0;
}

/* A TCP connection: a listener of our own on the server end's address. */
static int tcp_pair(struct crs_restore *r, size_t i, size_t j)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_socket *c = &img->sockets[i], *srv = &img->sockets[j];
    int l = sock_new(r, srv), cl = -1, acc = -1, bind_err = 0;
    if (l < 0)
        goto fail;
    set_reuse(l, 1);
    if (bind(l, (const struct sockaddr *)srv->local, srv->local_len) != 0) {
        int e = errno;
        close(l);
        return bind_fail(r, j, srv, e);
    }
    if (listen(l, 1) != 0)
        goto fail;
    if ((cl = tcp_client(r, c, srv, &bind_err)) < 0 && bind_err) {
        int e = errno;
        close(l);
        return bind_fail(r, i, c, e);
    }
    if (cl < 0 || (acc = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
        goto fail;
    close(l);
    r->sock_fds[i] = cl;
    r->sock_fds[j] = fcntl(acc, F_DUPFD_CLOEXEC, r->work_fd_min);
    close(acc);
    /* Both ends keep SO_REUSEADDR (acc has it from l) until every listener is bound and
     * listening (pass 2); the program's values come back at the end. The end made by connect
     * here may be the one accepted originally, bound to its listener's port (the record with the
     * lower descriptor number is i): without SO_REUSEADDR it kept the listener from being bound
     * again (newuser7b F3). */
    return 0;
fail:;
    int e = errno;
    char a[160], w[64], w2[64];
    crs_sockaddr_text(c->local, c->local_len, a, sizeof a);
    crs_restore_error(r, "cannot connect the TCP connection between %s and %s (from %s) again: %s",
                      sock_what(r, i, w, sizeof w), sock_what(r, j, w2, sizeof w2), a, strerror(e));
    if (l >= 0)
        close(l);
    if (cl >= 0)
        close(cl);
    return -EIO;
}

static int connect_to(struct crs_restore *r, size_t i, size_t L)
{
    const struct crs_rec_socket *s = &r->img->sockets[i], *ls = &r->img->sockets[L];
    int fd = sock_new(r, s);
    if (fd < 0 || (s->local_len > sizeof(sa_family_t) && s->family == AF_UNIX &&
                   bind(fd, (const struct sockaddr *)s->local, s->local_len) != 0) ||
        connect(fd, (const struct sockaddr *)ls->local, ls->local_len) != 0) {
        char a[160], w[64];
        crs_sockaddr_text(ls->local, ls->local_len, a, sizeof a);
        crs_restore_error(r, "cannot connect %s to %s again: %s", sock_what(r, i, w, sizeof w), a, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    r->sock_fds[i] = fd;
    return 0;
}

/* What socket i's receive queue held, sent again by its peer (a UDP
 * socket's datagrams: each by the socket of the process that sent it). */
static int refill(struct crs_restore *r, size_t i)
{
    const struct crs_rec_socket *s = &r->img->sockets[i];
    if (!s->data_length)
        return 0;
    int via = s->peer >= 0 ? r->sock_fds[s->peer] : -1;
    const unsigned char *d = r->img->sockdata + s->data_offset;
    int e = via < 0 && !(s->flags & CRS_SOCK_F_SENDERS) ? -ENOTCONN : 0;
    if (!e && !s->nmsgs) {
        for (uint64_t off = 0; off < s->data_length && !e;) {
            ssize_t n = send(via, d + off, s->data_length - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n <= 0)
                e = n < 0 ? -errno : -EIO;
            else
                off += (uint64_t)n;
        }
    }
    for (uint64_t off = 0, m = 0; !e && m < s->nmsgs; m++) {
        uint32_t len;
        memcpy(&len, d + off, 4);
        if (s->flags & CRS_SOCK_F_SENDERS) {
            /* a UDP or Unix datagram: sent again by the socket of the process that sent it, to this
             * one's address (the sender may be connected elsewhere, or not at all) */
            uint32_t from;
            memcpy(&from, d + off + 4, 4);
            via = r->sock_fds[from];
            if (via < 0 || sendto(via, d + off + 8, len - 4, MSG_DONTWAIT | MSG_NOSIGNAL,
                                  (const struct sockaddr *)s->local, s->local_len) != (ssize_t)(len - 4))
                e = via < 0 ? -ENOTCONN : -errno;
        } else if (send(via, d + off + 4, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
            e = -errno;
        }
        off += 4 + (uint64_t)len;
    }
    char w[64];
    if (e)
        crs_restore_error(r, "cannot put back the %llu bytes %s held: %s", (unsigned long long)s->data_length,
                          sock_what(r, i, w, sizeof w), strerror(-e));
    return e ? -EIO : 0;
}

/* A Unix socket path under a folder that moved (cr_restart --relocate):
 * the address rewritten in the record. */
static int relocate_unix(struct crs_restore *r, uint8_t *addr, uint32_t *len)
{
    struct sockaddr_un *u = (struct sockaddr_un *)addr;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (!r->nrelocate || *len <= off || !u->sun_path[0])
        return 0;
    char old[sizeof u->sun_path + 1];
    size_t n = strnlen(u->sun_path, *len - off);
    memcpy(old, u->sun_path, n);
    old[n] = 0;
    const char *now = crs_restore_path(r, old);
    if (now == old || !strcmp(now, old))
        return 0;
    if (strlen(now) >= sizeof u->sun_path) {
        crs_restore_error(r, "the Unix socket %s, moved by --relocate, would be %s: longer than a socket "
                          "address may be (%zu bytes)", old, now, sizeof u->sun_path - 1);
        return -ENAMETOOLONG;
    }
    memset(u->sun_path, 0, sizeof u->sun_path);
    memcpy(u->sun_path, now, strlen(now));
    *len = (uint32_t)(off + strlen(now) + 1);
    return 0;
}

/* Socket i made again (sock_new) and kept in r->sock_fds: its descriptor, or -EIO with the
 * message. */
static int sock_again(struct crs_restore *r, size_t i)
{
    char w[64];
    int fd = sock_new(r, &r->img->sockets[i]);
    if (fd < 0) {
        crs_restore_error(r, "cannot make %s again: %s", sock_what(r, i, w, sizeof w), strerror(errno));
        return -EIO;
    }
    r->sock_fds[i] = fd;
    return fd;
}

/* A UDP, raw or ping socket i that had a peer (connect(2)ed) is connected to it again on fd: 0,
 * or -EIO with the message. Other sockets: 0. */
static int udp_connect_again(struct crs_restore *r, size_t i, int fd)
{
    const struct crs_rec_socket *s = &r->img->sockets[i];
    char w[64];
    if (s->family != AF_UNIX && (s->type == SOCK_DGRAM || s->type == SOCK_RAW) &&
        s->remote_len > sizeof(sa_family_t) && connect(fd, (const struct sockaddr *)s->remote, s->remote_len) != 0) {
        crs_restore_error(r, "cannot connect the %s socket %s again: %s", s->type == SOCK_RAW ? "raw"
                          : s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6 ? "ping" : "UDP",
                          sock_what(r, i, w, sizeof w), strerror(errno));
        return -EIO;
    }
    return 0;
}

/* A restart that failed here: the TCP connections it made are reset, not closed,
 * so that none is left in TIME-WAIT on the program's addresses for the next try. */
static void abandon(struct crs_restore *r)
{
    struct linger now = { .l_onoff = 1, .l_linger = 0 };
    for (size_t i = 0; i < r->img->nsockets; i++) {
        const struct crs_rec_socket *s = &r->img->sockets[i];
        if (r->sock_fds[i] < 0)
            continue;
        if (s->family != AF_UNIX && s->type == SOCK_STREAM)
            setsockopt(r->sock_fds[i], SOL_SOCKET, SO_LINGER, &now, sizeof now);
        close(r->sock_fds[i]);
        r->sock_fds[i] = -1;
    }
}

int crs_restore_sockets(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    char w[64];   /* names a socket in a message */
    size_t n = img->nsockets;
    for (size_t i = 0; i < n; i++) {
        struct crs_rec_socket *s = &img->sockets[i];
        int e;
        if (s->family == AF_UNIX && ((e = relocate_unix(r, s->local, &s->local_len)) ||
                                     (e = relocate_unix(r, s->remote, &s->remote_len))))
            return e;
    }
    r->sock_fds = malloc((n ? n : 1) * sizeof(int));
    if (!r->sock_fds)
        return -ENOMEM;
    r->sock_tw = malloc((n ? n : 1) * sizeof(int));
    if (!r->sock_tw)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        r->sock_fds[i] = -1, r->sock_tw[i] = 1;
    int e = 0;
    /* 0. the original's ends of the TCP connections of the image in TIME-WAIT, ended (as root)
     * before any address is bound: any of them may hold the address of another's server end */
    for (size_t i = 0; i < n; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (s->family != AF_UNIX && s->state == CRS_SOCK_CONNECTED && s->type == SOCK_STREAM &&
            (s->peer >= 0 || (s->flags & CRS_SOCK_F_PENDING))) {
            r->sock_tw[i] = crs_restore_end_time_wait(s);
            if (s->flags & CRS_SOCK_F_PENDING) {
                /* not accepted at the checkpoint, the original may have accepted it since and
                 * closed its server end first: that end's TIME-WAIT holds the listener's address
                 * (newuser10 M3); the record's addresses the other way round name it */
                struct crs_rec_socket server = *s;
                memcpy(server.local, s->remote, sizeof server.local);
                memcpy(server.remote, s->local, sizeof server.remote);
                server.local_len = s->remote_len;
                server.remote_len = s->local_len;
                int e2 = crs_restore_end_time_wait(&server);
                if (e2 != -ENOENT && r->sock_tw[i] == -ENOENT)
                    r->sock_tw[i] = e2;
            }
        }
    }
    /* 1. TCP connections */
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (s->family != AF_UNIX && s->state == CRS_SOCK_CONNECTED && s->type == SOCK_STREAM &&
            r->sock_fds[i] < 0 && s->peer >= 0 && (size_t)s->peer > i)   /* (a waiting one: pass 5) */
            e = tcp_pair(r, i, (size_t)s->peer);
    }
    /* 2. bound and listening */
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (s->state != CRS_SOCK_BOUND && s->state != CRS_SOCK_LISTEN)
            continue;
        int fd = sock_again(r, i);
        if (fd < 0) {
            e = fd;
            break;
        }
        if ((e = do_bind(r, i, s, fd)))
            break;
        if (s->state == CRS_SOCK_LISTEN && listen(fd, s->backlog > 0 ? s->backlog : 128) != 0) {
            if (errno == EADDRINUSE) {
                e = bind_fail(r, i, s, errno);
            } else {
                crs_restore_error(r, "cannot listen on %s again: %s",  sock_what(r, i, w, sizeof w), strerror(errno));
                e = -EIO;
            }
        }
        set_reuse(fd, (s->flags & CRS_SOCK_F_REUSEADDR) != 0);
        if (!e)
            e = udp_connect_again(r, i, fd);
    }
    /* 3. Unix connections accepted from a listener; 4. socketpairs */
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (s->family != AF_UNIX || s->state != CRS_SOCK_CONNECTED || r->sock_fds[i] >= 0 || s->peer < 0)
            continue;
        size_t p = (size_t)s->peer;
        if (s->flags & CRS_SOCK_F_ACCEPTED) {
            if ((e = connect_to(r, p, (size_t)s->listener)))
                break;
            int acc = accept4(r->sock_fds[s->listener], NULL, NULL, SOCK_CLOEXEC);
            if (acc < 0) {
                crs_restore_error(r, "cannot accept %s from its listener again: %s",  sock_what(r, i, w, sizeof w), strerror(errno));
                e = -EIO;
                break;
            }
            r->sock_fds[i] = fcntl(acc, F_DUPFD_CLOEXEC, r->work_fd_min);
            close(acc);
        } else if (!(img->sockets[p].flags & CRS_SOCK_F_ACCEPTED)) {
            int sv[2];
            if (socketpair(AF_UNIX, s->type | SOCK_CLOEXEC, 0, sv) != 0) {
                crs_restore_error(r, "cannot make the socketpair of %s again: %s", sock_what(r, i, w, sizeof w), strerror(errno));
                e = -EIO;
                break;
            }
            r->sock_fds[i] = fcntl(sv[0], F_DUPFD_CLOEXEC, r->work_fd_min);
            r->sock_fds[p] = fcntl(sv[1], F_DUPFD_CLOEXEC, r->work_fd_min);
            close(sv[0]);
            close(sv[1]);
        }
    }
    /* 5. waiting in a listener's queue; 6. the rest: unbound, connected UDP */
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (r->sock_fds[i] >= 0)
            continue;
        if (s->flags & CRS_SOCK_F_PENDING) {
            e = s->family == AF_UNIX ? connect_to(r, i, (size_t)s->listener) : tcp_pending(r, i);
            continue;
        }
        int fd = sock_again(r, i);
        if (fd < 0) {
            e = fd;
            break;
        }
        e = udp_connect_again(r, i, fd);
    }
    /* 7. Unix datagram sockets connected one way to a bound socket of the process (a sender to
     * its own receiver, which is not connected back), once every name is bound */
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        if (s->family == AF_UNIX && s->type == SOCK_DGRAM && s->state != CRS_SOCK_CONNECTED &&
            s->remote_len > offsetof(struct sockaddr_un, sun_path) &&
            connect(r->sock_fds[i], (const struct sockaddr *)s->remote, s->remote_len) != 0) {
            crs_restore_error(r, "cannot connect %s to its receiver again: %s", sock_what(r, i, w, sizeof w),
                              strerror(errno));
            e = -EIO;
        }
    }
    /* queues, options, shutdowns; SO_PASSCRED first: a datagram sent again to a receiver that
     * passes credentials carries them only when the receiver asked for them before it came */
    for (size_t i = 0; i < n && !e; i++) {
        int one = 1;
        if (img->sockets[i].flags & CRS_SOCK_F_PASSCRED)
            setsockopt(r->sock_fds[i], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    }
    for (size_t i = 0; i < n && !e; i++)
        e = refill(r, i);
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        int fd = r->sock_fds[i], one = 1;
        if (s->family != AF_UNIX && s->type == SOCK_STREAM && s->state == CRS_SOCK_CONNECTED)
            set_reuse(fd, (s->flags & CRS_SOCK_F_REUSEADDR) != 0);   /* on since tcp_pair, tcp_pending */
        if (s->flags & CRS_SOCK_F_REUSEPORT)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (s->flags & CRS_SOCK_F_KEEPALIVE)
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (s->flags & CRS_SOCK_F_PASSCRED)
            setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        if (s->flags & CRS_SOCK_F_NODELAY)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if ((e = crs_restore_sockopts(r, i, fd, 0)) || (e = crs_restore_mcast(r, i, fd)))
            break;
        if ((s->flags & (CRS_SOCK_F_SHUT_RD | CRS_SOCK_F_SHUT_WR)) && s->peer >= 0) {
            /* the peer's shut-down writing is this one's shut-down reading */
            int how = (s->flags & CRS_SOCK_F_SHUT_RD) && (s->flags & CRS_SOCK_F_SHUT_WR) ? SHUT_RDWR
                    : (s->flags & CRS_SOCK_F_SHUT_WR) ? SHUT_WR : SHUT_RD;
            if (!((img->sockets[s->peer].flags & CRS_SOCK_F_SHUT_WR) && how == SHUT_RD))
                shutdown(fd, how);
        }
    }
    if (e)
        abandon(r);
    return e;
}

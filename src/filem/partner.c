/* Partner copies between the ranks' agents (partner.h): the authenticated transfer and the
 * receiver thread. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/partner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/dirsync.h"
#include "common/fd_guard.h"
#include "common/hostport.h"
#include "common/log.h"
#include "crs/base/durable.h"
#include "filem/local_retain.h"
#include "filem/stage.h"

#define SECRET_LEN 64
#define NONCE_LEN 16
#define PROOF_LEN 16
#define IO_TIMEOUT_S 120          /* a stalled peer: no byte for this long ends the transfer */
/* A peer whose host vanished (killed, its network gone: no reset comes) is found by its
 * kernel no longer acknowledging: data unacknowledged, or keepalive probes sent while this
 * end waits for the verification's answer, for this long ends the transfer. A live host's
 * kernel acknowledges even when its agent is slow (load, a long verification), so this can be
 * far shorter than IO_TIMEOUT_S (which delayed the commit by 120 s when a partner vanished). */
#define GONE_TIMEOUT_S 30
#define KEEPALIVE_IDLE_S 5
#define MAX_IMAGE (1ull << 40)
static const char MAGIC[8] = "RVPART1";

struct part_hdr {                 /* sender -> receiver, after both proofs */
    uint32_t rank, reserved;
    uint64_t seq, size, checksum;
};

struct part_reply {               /* receiver -> sender: + len bytes of text */
    int32_t status;
    uint32_t len;
};

/* Copies received at once: one thread each (several hosts send to restart-mpi's fetch, and a
 * node's partner copies come from one rank each); more wait in the listen backlog. */
#define MAX_CONN 32

struct filem_partner_rx {
    int lfd, stop[2];
    uint64_t seq;
    char dir[PATH_MAX];
    char prefix[16];              /* of the kept copies' names: partner_ or rank_ */
    int keep_first;               /* a copy already there is kept (restart-mpi's fetch, which
                                   * asks every host holding one at once) */
    int serial;                   /* REVIVE_COPY_RX_SERIAL=1: one copy at a time (the old way,
                                   * bench/stage's baseline) */
    char secret[SECRET_LEN];
    pthread_t th;
    pthread_mutex_t mu;           /* guards what follows */
    pthread_cond_t cv;            /* a connection's thread ended */
    int nconn;
    char used[MAX_CONN];          /* a thread has the slot */
    long busy[MAX_CONN + 1];      /* the rank each slot receives, -1 none; the last slot is
                                   * the accepting thread's own (one at a time, serial) */
    struct {                      /* keep_first: the last failed copy of each rank (a few), for
                                   * the caller's message (filem_partner_rx_why), not logged */
        long rank;
        char why[512];
    } failed[MAX_CONN];
    int nfailed;
    int fds[MAX_CONN + 1];        /* each slot's connection while it receives, -1 none */
    int quiesced;                 /* filem_partner_rx_quiesce ran */
    int listening;                /* rx_main runs (a copy it receives itself included) */
    int cut;                      /* the copies still coming at the quiesce's deadline are
                                   * ended (filem_partner_rx_quiesce_until) */
};

#define INLINE_SLOT MAX_CONN

struct rx_conn {
    struct filem_partner_rx *rx;
    int fd, slot;
    char peer[80];
};

/* Marks RANK as being received in SLOT, first waiting while another connection receives it
 * (keep_first: that copy may fail, and then this one is wanted; the caller looks whether the
 * rank's copy is there only after this). */
static void rx_claim(struct filem_partner_rx *rx, int slot, uint32_t rank)
{
    pthread_mutex_lock(&rx->mu);
    for (int i = 0; i <= MAX_CONN; i++)
        if (i != slot && rx->busy[i] == (long)rank) {
            pthread_cond_wait(&rx->cv, &rx->mu);
            i = -1; /* look again from the start */
        }
    rx->busy[slot] = rank;
    pthread_mutex_unlock(&rx->mu);
}

/* proof = XXH3-128(role, secret, first nonce, second nonce) */
static void proof(const char *role, const char *secret, const uint8_t *n1, const uint8_t *n2,
                  uint8_t out[PROOF_LEN])
{
    uint8_t b[8 + SECRET_LEN + 2 * NONCE_LEN];
    memset(b, 0, 8);
    memcpy(b, role, strlen(role) < 8 ? strlen(role) : 8);
    memcpy(b + 8, secret, SECRET_LEN);
    memcpy(b + 8 + SECRET_LEN, n1, NONCE_LEN);
    memcpy(b + 8 + SECRET_LEN + NONCE_LEN, n2, NONCE_LEN);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(b, sizeof b));
    memcpy(out, c.digest, PROOF_LEN);
    explicit_bzero(b, sizeof b);
}

static int same(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

/* Reads N bytes into P; *GOT counts those that came (a copy broken off says how many). */
static int rd_counted(int fd, void *p, size_t n, uint64_t *got)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        b += r;
        n -= (size_t)r;
        *got += (uint64_t)r;
    }
    return 0;
}

static int rd_all(int fd, void *p, size_t n)
{
    uint64_t got = 0;
    return rd_counted(fd, p, n, &got);
}

static int wr_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t r = send(fd, b, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void timeouts(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_IDLE_S;
    unsigned gone_ms = GONE_TIMEOUT_S * 1000u;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &gone_ms, sizeof gone_ms);
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* What a failed transfer says: a timeout names both ways it comes. */
static const char *io_error(int e)
{
    return e == -ETIMEDOUT ? "no answer (its host unreachable for " STR(GONE_TIMEOUT_S)
                             " s: lost?, or its agent silent for " STR(IO_TIMEOUT_S) " s)"
                           : strerror(-e);
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(out, len, "%s:%d", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(out, len, "[%s]:%d", ip, port);
    } else
        snprintf(out, len, "?");
}

static void reply(int fd, int status, const char *msg)
{
    struct part_reply r = {.status = status, .len = (uint32_t)strlen(msg)};
    if (wr_all(fd, &r, sizeof r) == 0)
        wr_all(fd, msg, r.len);
}

/* One sender: proofs, header, bytes into a temporary file, verification, rename. */
static void rx_one(struct filem_partner_rx *rx, int fd, int slot, const char *peer)
{
    uint8_t ns[NONCE_LEN], nc[NONCE_LEN], pc[PROOF_LEN], want[PROOF_LEN], ps[PROOF_LEN];
    uint8_t hello[sizeof MAGIC + NONCE_LEN];
    char msg[2 * PATH_MAX] = "";
    if (getrandom(ns, sizeof ns, 0) != (ssize_t)sizeof ns)
        return;
    memcpy(hello, MAGIC, sizeof MAGIC);
    memcpy(hello + sizeof MAGIC, ns, NONCE_LEN);
    if (wr_all(fd, hello, sizeof hello) < 0 || rd_all(fd, nc, sizeof nc) < 0 ||
        rd_all(fd, pc, sizeof pc) < 0)
        return;
    proof("sender", rx->secret, ns, nc, want);
    if (!same(pc, want, PROOF_LEN)) {
        revive_log_warn("partner copies: refused a connection from %s: it does not hold this "
                        "job's secret", peer);
        return;
    }
    proof("receiver", rx->secret, nc, ns, ps);
    struct part_hdr h;
    if (wr_all(fd, ps, sizeof ps) < 0 || rd_all(fd, &h, sizeof h) < 0)
        return;
    if (h.seq != rx->seq || h.rank >= (1u << 20) || h.size > MAX_IMAGE) {
        snprintf(msg, sizeof msg, "the receiver holds sequence %llu, not %llu (or a bad header)",
                 (unsigned long long)rx->seq, (unsigned long long)h.seq);
        reply(fd, -EPROTO, msg);
        return;
    }
    char fin[PATH_MAX + 64];
    snprintf(fin, sizeof fin, "%s/%s%u.img", rx->dir, rx->prefix, h.rank);
    if (rx->keep_first)
        rx_claim(rx, slot, h.rank);
    /* The sequence directory is held (shared) from before the copy is made until it is renamed:
     * the cache's retention, its bound and its collection (filem_local_remove_seq) and the
     * shared directory's retention take it exclusively without waiting and keep a held one, as
     * for a reader; a copy arriving after one of them removed the sequence is refused. */
    int held = filem_local_lock_shared(rx->dir);
    if (held < 0) {
        snprintf(msg, sizeof msg, "%s: %s (removed by retention, or never made on this host)",
                 rx->dir, strerror(-held));
        reply(fd, held, msg);
        revive_log_warn("copy of rank %u from %s: %s", h.rank, peer, msg);
        return;
    }
    if (rx->keep_first && access(fin, F_OK) == 0) {
        snprintf(msg, sizeof msg, "%s is already there (from another host)", fin);
        reply(fd, -EEXIST, msg);
        close(held);
        return;
    }
    /* as every image writer: a temporary name locked until the rename, so that the sweep of
     * partial images (local_gc.h) never takes a copy still being received for a dead one */
    struct crs_durable d;
    int e = crs_durable_open(&d, fin, 0600);
    if (e < 0)
        snprintf(msg, sizeof msg, "cannot create a copy in %s: %s", rx->dir, strerror(-e));
    size_t bl = 1 << 20;
    uint8_t *buf = e == 0 ? malloc(bl) : NULL;
    if (e == 0 && !buf)
        e = -ENOMEM;
    uint64_t got = 0;
    int broke = 0; /* the sender's bytes stopped coming (it died, its host went), not the disk */
    for (uint64_t left = h.size; e == 0 && left;) {
        size_t n = left < bl ? (size_t)left : bl;
        e = rd_counted(fd, buf, n, &got);
        broke = e < 0;
        for (size_t off = 0; e == 0 && off < n;) {
            ssize_t w = write(d.fd, buf + off, n - off);
            if (w < 0)
                e = errno == EINTR ? 0 : -errno;
            else
                off += (size_t)w;
        }
        left -= n;
    }
    free(buf);
    if (e == 0 && fsync(d.fd) < 0)
        e = -errno;
    pthread_mutex_lock(&rx->mu);
    int cut = rx->cut;
    pthread_mutex_unlock(&rx->mu);
    if (broke && cut)
        snprintf(msg, sizeof msg, "the copy was ended after %llu of %llu bytes, still coming at the "
                 "time bound; the part received was removed", (unsigned long long)got,
                 (unsigned long long)h.size);
    else if (broke)
        snprintf(msg, sizeof msg, "the copy broke off after %llu of %llu bytes (%s); the part received "
                 "was removed", (unsigned long long)got, (unsigned long long)h.size, io_error(e));
    else if (e < 0 && d.fd >= 0)
        snprintf(msg, sizeof msg, "cannot write %s: %s", d.tmp, strerror(-e));
    else if (e == 0 && (e = filem_stage_verify(d.tmp, h.checksum, msg, sizeof msg)) == 0) {
        /* renamed by hand, not crs_durable_commit: REVIVE_FAULT=image-commit is for the
         * rank's own image */
        if (renameat(d.dirfd, d.tmpname, d.dirfd, d.name) < 0) {
            e = -errno;
            snprintf(msg, sizeof msg, "cannot rename %s: %s", d.tmp, strerror(-e));
        } else {
            d.tmpname[0] = 0;
            revive_fsync_dir(rx->dir);
            snprintf(msg, sizeof msg, "%s verified", fin);
        }
    }
    if (d.fd >= 0)
        crs_durable_abort(&d); /* removes the temporary file unless renamed */
    close(held);
    if (e < 0 && rx->keep_first) {
        /* restart-mpi's fetch names it in its one line (the sender may be gone and say nothing) */
        pthread_mutex_lock(&rx->mu);
        int k = 0;
        while (k < rx->nfailed && rx->failed[k].rank != (long)h.rank)
            k++;
        if (k == rx->nfailed && k < MAX_CONN)
            rx->nfailed++;
        if (k < MAX_CONN) {
            rx->failed[k].rank = (long)h.rank;
            snprintf(rx->failed[k].why, sizeof rx->failed[k].why, "%s", msg);
        }
        pthread_mutex_unlock(&rx->mu);
    } else if (e < 0)
        revive_log_warn("copy of rank %u from %s: %s", h.rank, peer, msg);
    reply(fd, e, msg);
}

int filem_partner_rx_why(struct filem_partner_rx *rx, int rank, char *out, size_t len)
{
    int found = 0;
    pthread_mutex_lock(&rx->mu);
    for (int k = 0; k < rx->nfailed && !found; k++)
        if (rx->failed[k].rank == rank) {
            snprintf(out, len, "%s", rx->failed[k].why);
            found = 1;
        }
    pthread_mutex_unlock(&rx->mu);
    return found;
}

/* Receives on FD in SLOT, then frees the slot's rank. */
static void rx_run(struct filem_partner_rx *rx, int fd, int slot, const char *peer)
{
    pthread_mutex_lock(&rx->mu);
    rx->fds[slot] = fd; /* for filem_partner_rx_abort */
    if (rx->cut) /* accepted just before the deadline, registered just after */
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&rx->mu);
    rx_one(rx, fd, slot, peer);
    pthread_mutex_lock(&rx->mu);
    rx->fds[slot] = -1;
    pthread_mutex_unlock(&rx->mu);
    close(fd);
    pthread_mutex_lock(&rx->mu);
    rx->busy[slot] = -1;
    pthread_cond_broadcast(&rx->cv); /* a copy of the same rank may wait (rx_claim) */
    pthread_mutex_unlock(&rx->mu);
}

/* One connection's thread; its last touch of rx is the unlock after its slot is free. */
static void *rx_conn_main(void *arg)
{
    struct rx_conn *k = arg;
    struct filem_partner_rx *rx = k->rx;
    rx_run(rx, k->fd, k->slot, k->peer);
    pthread_mutex_lock(&rx->mu);
    rx->used[k->slot] = 0;
    rx->nconn--;
    free(k);
    pthread_cond_broadcast(&rx->cv);
    pthread_mutex_unlock(&rx->mu);
    return NULL;
}

/* Hands the accepted FD to a thread of its own (waiting while MAX_CONN copies are being
 * received); received by this thread when serial or when no thread can start. */
static void rx_dispatch(struct filem_partner_rx *rx, int fd, const char *peer)
{
    struct rx_conn *k = rx->serial ? NULL : malloc(sizeof *k);
    if (!k) {
        rx_run(rx, fd, INLINE_SLOT, peer);
        return;
    }
    *k = (struct rx_conn){.rx = rx, .fd = fd};
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    pthread_mutex_lock(&rx->mu);
    while (rx->nconn == MAX_CONN)
        pthread_cond_wait(&rx->cv, &rx->mu);
    while (rx->used[k->slot])
        k->slot++;
    rx->used[k->slot] = 1;
    rx->nconn++;
    pthread_mutex_unlock(&rx->mu);
    pthread_attr_t at;
    pthread_t t;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &at, rx_conn_main, k);
    pthread_attr_destroy(&at);
    if (e != 0) {
        pthread_mutex_lock(&rx->mu);
        rx->used[k->slot] = 0;
        rx->nconn--;
        pthread_mutex_unlock(&rx->mu);
        free(k);
        rx_run(rx, fd, INLINE_SLOT, peer);
    }
}

static void *rx_main(void *arg)
{
    struct filem_partner_rx *rx = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = rx->lfd, .events = POLLIN}, {.fd = rx->stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(rx->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char peer[80];
        addr_str(&ss, peer, sizeof peer);
        timeouts(fd);
        rx_dispatch(rx, fd, peer);
    }
    pthread_mutex_lock(&rx->mu);
    rx->listening = 0;
    pthread_cond_broadcast(&rx->cv);
    pthread_mutex_unlock(&rx->mu);
    return NULL;
}

/* The receiver listening on SS (port 0: chosen by the system). */
static int rx_listen(struct sockaddr_storage *ss, socklen_t sl, const char *dir,
                     const char *prefix, int keep_first, uint64_t seq, const char *secret,
                     char *addr, size_t addrlen, struct filem_partner_rx **out, char *err,
                     size_t errlen)
{
    struct filem_partner_rx *rx = calloc(1, sizeof *rx);
    if (!rx) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rx->seq = seq;
    snprintf(rx->dir, sizeof rx->dir, "%s", dir);
    snprintf(rx->prefix, sizeof rx->prefix, "%s", prefix);
    rx->keep_first = keep_first;
    const char *serial = getenv("REVIVE_COPY_RX_SERIAL");
    rx->serial = serial && atoi(serial) == 1;
    pthread_mutex_init(&rx->mu, NULL);
    /* quiesce_until's deadline is on the monotonic clock */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rx->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i <= MAX_CONN; i++)
        rx->busy[i] = rx->fds[i] = -1;
    memcpy(rx->secret, secret, SECRET_LEN);
    rx->stop[0] = rx->stop[1] = -1;
    /* non-blocking: rx_main accepts after poll (in a rank, inside a fork guard section the MPI
     * layer's accept4 opens for Revive's calls: it must not wait there) */
    rx->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int e = 0;
    if (rx->lfd < 0 || bind(rx->lfd, (struct sockaddr *)ss, sl) < 0 || listen(rx->lfd, 64) < 0 ||
        getsockname(rx->lfd, (struct sockaddr *)ss, &sl) < 0)
        e = -errno;
    if (e == 0) {
        /* Revive's in a rank while the application runs: closed in a child it forks (the layer's
         * close unnames them; common/fd_guard.h) */
        revive_fd_enter();
        if (pipe2(rx->stop, O_CLOEXEC) < 0)
            e = -errno;
        revive_fd_own(rx->stop[0]);
        revive_fd_own(rx->stop[1]);
        revive_fd_leave();
    }
    rx->listening = 1;
    if (e == 0)
        e = -pthread_create(&rx->th, NULL, rx_main, rx);
    if (e < 0) {
        snprintf(err, errlen, "cannot listen for copies: %s", strerror(-e));
        if (rx->lfd >= 0)
            close(rx->lfd);
        if (rx->stop[0] >= 0) {
            close(rx->stop[0]);
            close(rx->stop[1]);
        }
        explicit_bzero(rx->secret, sizeof rx->secret);
        pthread_mutex_destroy(&rx->mu);
        pthread_cond_destroy(&rx->cv);
        free(rx);
        return e;
    }
    addr_str(ss, addr, addrlen);
    *out = rx;
    return 0;
}

int filem_partner_rx_start(int like_fd, const char *local_seqdir, uint64_t seq,
                           const char *secret, char *addr, size_t addrlen,
                           struct filem_partner_rx **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!secret || strlen(secret) != SECRET_LEN) {
        snprintf(err, errlen, "partner copies need the job's secret (REVIVE_JOB_SECRET)");
        return -EINVAL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(like_fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(err, errlen, "partner copies: no address to listen on: %s", strerror(errno));
        return -errno;
    }
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = 0;
    else if (ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
    int e = rx_listen(&ss, sl, local_seqdir, FILEM_PARTNER_PREFIX, 0, seq, secret, addr,
                      addrlen, out, err, errlen);
    if (e < 0)
        snprintf(err, errlen, "partner copies: cannot listen for them: %s", strerror(-e));
    return e;
}

/* "ip" or "ip:port" / "[ip6]:port" (port when with_port) into ss. 0 or -EINVAL. Numeric
 * only (inet_pton, not getaddrinfo: revive-restart-rank, which sends, is linked statically). */
static int parse_addr(const char *addr, int with_port, struct sockaddr_storage *ss,
                      socklen_t *sl)
{
    char host[128];
    const char *p = NULL;
    if (revive_hostport_split(addr, host, sizeof host, with_port ? &p : NULL) < 0)
        return -EINVAL;
    long port = 0;
    if (with_port) {
        char *end;
        port = strtol(p, &end, 10);
        if (!*p || *end || port <= 0 || port > 65535)
            return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *a6;
    } else
        return -EINVAL;
    return 0;
}

int filem_partner_rx_start_at(const char *ip, const char *dir, const char *prefix, uint64_t seq,
                              const char *secret, char *addr, size_t addrlen,
                              struct filem_partner_rx **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!secret || strlen(secret) != SECRET_LEN) {
        snprintf(err, errlen, "a copy between hosts needs a secret of %d hex digits", SECRET_LEN);
        return -EINVAL;
    }
    if (parse_addr(ip, 0, &ss, &sl) < 0) {
        snprintf(err, errlen, "'%s' is not a numeric IP address to listen on", ip);
        return -EINVAL;
    }
    int e = rx_listen(&ss, sl, dir, prefix, 1, seq, secret, addr, addrlen, out, err, errlen);
    if (e < 0)
        snprintf(err, errlen, "cannot listen for copies on %s: %s", ip, strerror(-e));
    return e;
}

/* Shuts down every connection being received (its read fails: the part received is removed);
 * with rx->mu held. */
static void rx_shutdown_all(struct filem_partner_rx *rx)
{
    for (int i = 0; i <= MAX_CONN; i++)
        if (rx->fds[i] >= 0)
            shutdown(rx->fds[i], SHUT_RDWR);
}

void filem_partner_rx_quiesce_until(struct filem_partner_rx *rx, const struct timespec *deadline)
{
    if (!rx || rx->quiesced)
        return;
    rx->quiesced = 1;
    if (write(rx->stop[1], "x", 1) < 0) {
        /* the thread then stops at its next poll error; nothing else to do */
    }
    /* the copies being received (the accepting thread's own, serial, included) are finished,
     * or ended at the deadline */
    pthread_mutex_lock(&rx->mu);
    while ((rx->listening || rx->nconn > 0) && !rx->cut) {
        if (!deadline)
            pthread_cond_wait(&rx->cv, &rx->mu);
        else if (pthread_cond_timedwait(&rx->cv, &rx->mu, deadline) == ETIMEDOUT &&
                 (rx->listening || rx->nconn > 0)) {
            rx->cut = 1; /* rx_one says so; a connection registered later is cut by rx_run */
            rx_shutdown_all(rx);
        }
    }
    pthread_mutex_unlock(&rx->mu);
    pthread_join(rx->th, NULL);
    pthread_mutex_lock(&rx->mu);
    while (rx->nconn > 0)
        pthread_cond_wait(&rx->cv, &rx->mu);
    pthread_mutex_unlock(&rx->mu);
}

void filem_partner_rx_quiesce(struct filem_partner_rx *rx)
{
    filem_partner_rx_quiesce_until(rx, NULL);
}

void filem_partner_rx_abort(struct filem_partner_rx *rx)
{
    if (!rx)
        return;
    pthread_mutex_lock(&rx->mu);
    rx_shutdown_all(rx);
    pthread_mutex_unlock(&rx->mu);
}

void filem_partner_rx_stop(struct filem_partner_rx *rx)
{
    if (!rx)
        return;
    filem_partner_rx_quiesce(rx);
    close(rx->lfd);
    close(rx->stop[0]);
    close(rx->stop[1]);
    explicit_bzero(rx->secret, sizeof rx->secret);
    pthread_mutex_destroy(&rx->mu);
    pthread_cond_destroy(&rx->cv);
    free(rx);
}

/* "ip:port" or "[ip6]:port" -> a connected socket (10 s to connect). */
static int connect_to(const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (parse_addr(addr, 1, &ss, &sl) < 0) {
        snprintf(err, errlen, "partner address '%s' is not ip:port", addr);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int e = fd < 0 ? -errno : 0;
    if (e == 0 && connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        e = -errno;
        if (e == -EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, 10000);
            int so = 0;
            socklen_t ol = sizeof so;
            if (r == 0)
                e = -ETIMEDOUT;
            else if (r < 0)
                e = -errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &ol) < 0 || so)
                e = -(so ? so : errno);
            else
                e = 0;
        }
    }
    if (e < 0) {
        snprintf(err, errlen, "cannot reach the partner at %s: %s", addr, strerror(-e));
        if (fd >= 0)
            close(fd);
        return e;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeouts(fd);
    return fd;
}

int filem_partner_send(const char *addr, const char *secret, const char *image, int rank,
                       uint64_t seq, uint64_t checksum, char *err, size_t errlen)
{
    if (!secret || strlen(secret) != SECRET_LEN) {
        snprintf(err, errlen, "partner copies need the job's secret (REVIVE_JOB_SECRET)");
        return -EINVAL;
    }
    int in = revive_open_owned(image, O_RDONLY, 0); /* sent while a rank's threads run (common/fd_guard.h) */
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "partner copy: %s: %s", image, strerror(e));
        if (in >= 0)
            close(in);
        return -e;
    }
    int fd = connect_to(addr, err, errlen);
    if (fd < 0) {
        close(in);
        return fd;
    }
    uint8_t hello[sizeof MAGIC + NONCE_LEN], nc[NONCE_LEN], pc[PROOF_LEN], ps[PROOF_LEN],
        want[PROOF_LEN];
    int e = rd_all(fd, hello, sizeof hello);
    if (e == 0 && memcmp(hello, MAGIC, sizeof MAGIC) != 0)
        e = -EPROTO;
    if (e == 0 && getrandom(nc, sizeof nc, 0) != (ssize_t)sizeof nc)
        e = -EIO;
    if (e == 0) {
        proof("sender", secret, hello + sizeof MAGIC, nc, pc);
        e = wr_all(fd, nc, sizeof nc);
        if (e == 0)
            e = wr_all(fd, pc, sizeof pc);
        if (e == 0)
            e = rd_all(fd, ps, sizeof ps);
        if (e == -ECONNRESET) {
            snprintf(err, errlen, "the partner at %s refused this rank (another job's secret?)",
                     addr);
            goto out;
        }
    }
    if (e == 0) {
        proof("receiver", secret, nc, hello + sizeof MAGIC, want);
        if (!same(ps, want, PROOF_LEN)) {
            snprintf(err, errlen, "the peer at %s does not hold this job's secret: nothing sent "
                                  "to it", addr);
            e = -EACCES;
            goto out;
        }
    }
    if (e < 0) {
        snprintf(err, errlen, "partner at %s: %s", addr,
                 e == -EPROTO ? "not a Revive partner receiver" : io_error(e));
        goto out;
    }
    struct part_hdr h = {.rank = (uint32_t)rank, .seq = seq, .size = (uint64_t)st.st_size,
                         .checksum = checksum};
    e = wr_all(fd, &h, sizeof h);
    for (off_t off = 0; e == 0 && off < st.st_size;) {
        ssize_t n = sendfile(fd, in, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno != EINTR)
            e = errno == EAGAIN ? -ETIMEDOUT : -errno;
        else if (n == 0)
            e = -EIO;
    }
    struct part_reply r;
    if (e == 0)
        e = rd_all(fd, &r, sizeof r);
    if (e < 0) {
        snprintf(err, errlen, "partner copy to %s: %s", addr, io_error(e));
        goto out;
    }
    char msg[1024];
    size_t ml = r.len < sizeof msg - 1 ? r.len : sizeof msg - 1;
    if (rd_all(fd, msg, ml) < 0)
        ml = 0;
    msg[ml] = 0;
    e = r.status > 0 ? -r.status : r.status;
    if (e < 0)
        snprintf(err, errlen, "the partner at %s did not keep the copy: %s", addr, msg);
    else
        snprintf(err, errlen, "%s", msg);
out:
    close(fd);
    close(in);
    return e;
}

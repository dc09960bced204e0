/* The coordinator's connection table (coord_int.h): the ranks' TCP connections
 * (pending until HELLO proves the secret) and the tools' Unix connections;
 * frames read here are handed to coord_rank.c and coord_tool.c. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "snapc/coord_int.h"

/* COORD_HOST_SILENT_S, or REVIVE_HOST_SILENT_S (2-3600) */
static int host_silent_s(void)
{
    const char *v = getenv("REVIVE_HOST_SILENT_S");
    long s = v && *v ? strtol(v, NULL, 10) : 0;
    return s >= 2 && s <= 3600 ? (int)s : COORD_HOST_SILENT_S;
}

int coord_conn_new(int fd, int kind)
{
    int i;
    for (i = 0; i < coord.nc; i++)
        if (coord.c[i].kind == C_FREE)
            break;
    if (i == coord.nc) {
        if (coord.nc == COORD_MAX_CONNS)
            return -1;
        struct conn *nc = realloc(coord.c, (size_t)(coord.nc + 16) * sizeof *nc);
        if (!nc)
            return -1;
        coord.c = nc;
        memset(&coord.c[coord.nc], 0, 16 * sizeof *nc);
        coord.nc += 16;
    }
    struct conn *c = &coord.c[i];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->fd = fd;
    c->rank = -1;
    c->t_accept = revive_mono_ms();
    /* until a rank proved the secret, it may send a HELLO and nothing larger */
    snapc_reader_init(&c->rd, kind == C_TOOL ? COORD_TOOL_MAX_PAYLOAD : COORD_PENDING_MAX_PAYLOAD);
    return i;
}

void coord_conn_close(int i)
{
    coord_conn_close_why(i, NULL);
}

void coord_conn_close_why(int i, const char *why)
{
    struct conn *c = &coord.c[i];
    if (c->kind == C_FREE)
        return;
    if (c->kind == C_RANK && !why)
        coord_silent_check(i);
    if (c->kind == C_FREE)
        return;
    int kind = c->kind, rank = c->rank;
    int kept = 0;
    if (kind == C_RANK && rank >= 0 && rank < coord.nrank_conn && coord.rank_last) {
        struct rank_last *l = &coord.rank_last[rank];
        snapc_fmt(l->host, sizeof l->host, "%s", c->host);
        l->pid = c->pid;
        /* lost or ended: decided on evidence about its host (coord_lost.c), asked at the
         * commit, not by which host's end this loop read first (diffrev32 R-M1 residual) */
        kept = coord_lost_keep(rank, c->fd, &c->addr, c->addrlen, c->host, why);
        l->ended_there = c->ended_there;
    }
    if (!kept)
        close(c->fd);
    snapc_reader_free(&c->rd);
    if (kind == C_RANK && rank >= 0 && rank < coord.nrank_conn && coord.rank_last) {
        struct rank_last *l = &coord.rank_last[rank];
        free(l->info);
        l->info = c->info; /* the metadata's rank.N.* lines of a rank whose node is lost */
    } else
        free(c->info);
    c->info = NULL;
    c->kind = C_FREE;
    c->fd = -1;
    if (kind == C_RANK && rank >= 0 && rank < coord.nrank_conn && coord.rank_conn[rank] == i) {
        coord.rank_conn[rank] = -1;
        struct snapc_event ev = {.type = SNAPC_EV_GONE, .rank = rank};
        ev.u.gone.why = why;
        coord_feed(&ev);
    }
    if (kind == C_TOOL) {
        struct snapc_event ev = {.type = SNAPC_EV_CANCEL};
        ev.u.req.client = i;
        coord_feed(&ev);
    }
}

int coord_conn_send(int i, uint16_t type, const void *p, uint32_t len, const void *tail,
                     uint32_t tlen)
{
    struct conn *c = &coord.c[i];
    if (c->kind == C_FREE)
        return -EBADF;
    uint32_t epoch = coord.send_epoch ? coord.send_epoch : coord.p.epoch;
    int e = snapc_wire_send(c->fd, type, epoch, p, len, tail, tlen, COORD_SEND_TIMEOUT_MS);
    if (e < 0)
        revive_log_info("cannot send to %s: %s", c->peer, strerror(-e));
    return e;
}

/* To every live rank (or one). */
void coord_send_ranks(int rank, uint16_t type, const void *p, uint32_t len, const void *tail,
                       uint32_t tlen)
{
    for (int r = 0; r < coord.nrank_conn; r++) {
        if (rank >= 0 && r != rank)
            continue;
        int i = coord.rank_conn[r];
        if (i >= 0 && coord_conn_send(i, type, p, len, tail, tlen) < 0)
            coord_conn_close(i); /* GONE: the epoch aborts */
    }
}

int coord_live_rank_conns(void)
{
    int n = 0;
    for (int r = 0; r < coord.nrank_conn; r++)
        n += coord.rank_conn[r] >= 0;
    return n;
}

/* Fault point snapc-gone-hold: the end of a rank's connection is held while the file
 * REVIVE_GONE_HOLD is absent (no signal is read meanwhile: the launcher's end waits too), then
 * every held end is taken lowest rank first in one turn of the loop, before the launcher's end:
 * ends read at about the same time are taken in a known order (the order this loop reads
 * connections in must not decide which host is lost: stagelost.sh part c) */
static int gone_hold(void)
{
    const char *f = getenv("REVIVE_GONE_HOLD");
    return coord_fault(REVIVE_FAULT_snapc_gone_hold) && f && *f && access(f, F_OK) != 0;
}

int coord_gone_held(void)
{
    int n = 0;
    for (int i = 0; i < coord.nc; i++)
        n += coord.c[i].kind == C_RANK && coord.c[i].gone_held;
    return n;
}

void coord_gone_hold_tick(int64_t now)
{
    int64_t since = 0;
    for (int i = 0; i < coord.nc; i++)
        if (coord.c[i].kind == C_RANK && coord.c[i].gone_held && (!since || coord.c[i].gone_held < since))
            since = coord.c[i].gone_held;
    if (!since)
        return;
    const char *f = getenv("REVIVE_GONE_HOLD");
    if (f && *f && access(f, F_OK) != 0 && now - since < 600000)
        return;
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i >= 0 && coord.c[i].gone_held) {
            revive_log_info("rank %d's connection closed (its end held until now)", r);
            coord_conn_close(i);
        }
    }
}

void coord_conn_readable(int i)
{
    for (int rounds = 0; rounds < 64 && coord.c[i].kind != C_FREE; rounds++) {
        struct conn *c = &coord.c[i];
        int r = snapc_reader_feed(c->fd, &c->rd);
        if (r == 0)
            return;
        if (r < 0) {
            /* its end, read: sent by the peer's kernel (a FIN or a reset) */
            c->ended_there = r == -ECONNRESET;
            if (r == -EPROTO)
                revive_log_warn("%s%s sent a malformed frame (%s); closed",
                                c->kind == C_RANK ? "rank " : "connection from ",
                                c->kind == C_RANK ? "" : c->peer, c->rd.err);
            else if (c->kind == C_RANK && r == -ETIMEDOUT) {
                revive_log_warn("rank %d's connection closed: its host did not answer for %d s "
                                "(lost or cut off?)",
                                c->rank, host_silent_s());
                char why[160];
                snapc_fmt(why, sizeof why, "rank %d's host %s did not answer for %d s (lost or "
                          "cut off?)", c->rank, c->host[0] ? c->host : c->peer, host_silent_s());
                coord_conn_close_why(i, why);
                return;
            } else if (c->kind == C_RANK && gone_hold()) {
                c->gone_held = revive_mono_ms();
                revive_log_info("rank %d's connection closed (%s); its end is held until %s "
                                "exists (fault point snapc-gone-hold)",
                                c->rank, c->rd.err, getenv("REVIVE_GONE_HOLD"));
                return;
            } else if (c->kind == C_RANK && !coord.p.r[c->rank].finalizing &&
                     (!coord.child_done || coord.p.phase != SNAPC_P_IDLE))
                revive_log_info("rank %d's connection closed (%s)", c->rank, c->rd.err);
            coord_conn_close(i);
            return;
        }
        switch (c->kind) {
        case C_PENDING: coord_rank_hello(i); break;
        case C_RANK: coord_rank_frame(i); break;
        case C_TOOL: coord_tool_frame(i); break;
        }
        if (coord.c[i].kind != C_FREE)
            snapc_reader_next(&coord.c[i].rd);
    }
}

void coord_conn_keepalive(int fd)
{
    int one = 1, silent = host_silent_s(), idle = silent / 4 > 0 ? silent / 4 : 1, cnt = 4;
    unsigned user_ms = (unsigned)silent * 1000u;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof user_ms);
}

int coord_accept_tcp(void)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(coord.tfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return -1;
    int i = coord_conn_new(fd, C_PENDING);
    if (i < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* A host lost without a word (its link down, powered off) sends no FIN: without this its
     * ranks' connections stay open until the kernel gives up on unacknowledged data (about 15
     * minutes), and only the staging bound (REVIVE_CAPTURE_TIMEOUT, 30 minutes by default)
     * ends the wait. The kernel answers keepalive probes whatever its process does (parked,
     * stopped, busy), so only a host that is gone or cut off fails them: its ranks are then
     * gone after host_silent_s(), and a rank whose partner copy another node holds has it
     * staged at once, while the holder still runs (stagelost-mpich: MPICH ended the holder,
     * on a live host, ~31 s after its peers' host was lost, before the 45 s bound had it
     * stage their copies, and the sequence failed). */
    coord_conn_keepalive(fd);
    char host[64] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snapc_fmt(coord.c[i].peer, sizeof coord.c[i].peer, "%s:%d", host, port);
    memcpy(&coord.c[i].addr, &ss, sl < sizeof ss ? sl : sizeof ss);
    coord.c[i].addrlen = sl < sizeof ss ? sl : sizeof ss;
    return 0;
}

int coord_accept_unix(void)
{
    int fd = accept4(coord.ufd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return -1;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    int foreign = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
                  (cr.uid != geteuid() && cr.uid != 0);
    int i = coord_conn_new(fd, C_TOOL);
    if (i < 0) {
        close(fd);
        return -1;
    }
    snapc_fmt(coord.c[i].peer, sizeof coord.c[i].peer, "tool pid %d", (int)cr.pid);
    if (foreign) {
        /* refused once its request is read: closing with a request unread would reset the
         * connection, and the tool would not get the answer */
        coord.c[i].foreign_uid = cr.uid + 1;
        revive_log_warn("refused a tool connection from uid %u (pid %d): this job belongs to uid %u",
                        (unsigned)cr.uid, (int)cr.pid, (unsigned)geteuid());
    }
    return i;
}

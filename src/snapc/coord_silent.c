/* Which host went silent, asked when a rank's connection closes while its sequence stages
 * (coord_int.h, newuser9 F3). When a node is lost, Open MPI's mpirun ends the whole job at
 * once: the ranks on the live hosts end first (their connections close at once) while the
 * lost host's ranks are only silent (no FIN from a host whose link is down). The staging's
 * failure then named a rank of a live host ("rank 0 ended during the checkpoint"), and the user
 * could not tell which node to drain. Here the other ranks' hosts are asked before that end is
 * taken: their connections' keepalive is made 1 s (the kernel of a live host answers a probe
 * whatever its process does), and a host with two probes (or retransmissions) unanswered
 * within 2.5 s is silent: its ranks' connections are closed first, their GONE saying so, and the
 * failure names that host and its ranks. Their keepalive timing is restored afterwards.
 * The wait ends as soon as every host asked has either answered or is silent: an ACK came in
 * after the keepalive was shortened (a probe goes out at once on a connection idle for 1 s,
 * answered within a round trip; within 1 s on one that carried data just before). A rank that
 * ended on a live host (killed, or the user's ^C while the job stages) no longer stops the
 * coordinator's only loop for the whole 2.5 s (diffrev31 R-L9). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "snapc/coord_int.h"

#define PROBE_WAIT_MS 2500

/* Two keepalive probes unanswered, or data retransmitted twice: nobody answers there
 * (coord_tcp.c's rule, as coord_lost.c's). */
static int unanswered(int fd)
{
    struct coord_tcp_seen t;
    return coord_tcp_seen(fd, &t) == 0 && coord_tcp_silent(&t);
}

/* How long ago (ms) the last ACK came in on FD, or -1 when its state cannot be read. */
static int64_t last_ack(int fd)
{
    struct coord_tcp_seen t;
    return coord_tcp_seen(fd, &t) == 0 ? t.ack_age : -1;
}

/* The host answered since the wait began, ELAPSED ms ago, when the last ACK on FD was BEFORE
 * ms old: an ACK came in since (coord_tcp_acked_since), or its end closed the connection (a FIN
 * or a reset: its kernel runs). A connection whose state cannot be read counts as answered (it
 * is not taken for silent either). */
static int answered(int fd, int64_t elapsed, int64_t before)
{
    struct coord_tcp_seen t;
    if (coord_tcp_seen(fd, &t) < 0 || before < 0 || t.state != TCP_ESTABLISHED)
        return 1;
    return coord_tcp_acked_since(&t, before, elapsed);
}

void coord_silent_check(int closing)
{
    static int busy;
    if (busy || !coord.p.stage || coord.p.phase != SNAPC_P_STAGE)
        return;
    int cr = coord.c[closing].rank;
    if (cr < 0 || cr >= coord.p.nranks || coord.p.r[cr].finalizing)
        return;
    int n = 0, *v = malloc((size_t)(coord.nrank_conn > 0 ? coord.nrank_conn : 1) * sizeof *v);
    if (!v)
        return;
    int64_t *before = malloc((size_t)(coord.nrank_conn > 0 ? coord.nrank_conn : 1) * sizeof *before);
    if (!before) {
        free(v);
        return;
    }
    int64_t t0 = revive_mono_ms();
    for (int r = 0; r < coord.nrank_conn && r < coord.p.nranks; r++) {
        int i = coord.rank_conn[r];
        if (i < 0 || i == closing || coord.p.r[r].staged || coord.p.r[r].proxied)
            continue;
        before[n] = last_ack(coord.c[i].fd);
        coord_tcp_ask(coord.c[i].fd);
        v[n++] = r;
    }
    if (n == 0) {
        free(before);
        free(v);
        return;
    }
    busy = 1;
    int64_t waited;
    int live, silent;
    for (;;) {
        waited = revive_mono_ms() - t0;
        silent = live = 0;
        for (int k = 0; k < n; k++) {
            int fd = coord.c[coord.rank_conn[v[k]]].fd;
            if (unanswered(fd))
                silent++;
            else if (answered(fd, waited, before[k]))
                live++;
        }
        if (silent + live == n || waited >= PROBE_WAIT_MS)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    revive_log_info("checkpoint %llu: rank %d's connection closed while staging: of the %d "
                    "other unstaged ranks' connections %d answered, %d silent, after %lld ms",
                    (unsigned long long)coord.p.seq, cr, n, live, silent, (long long)waited);
    /* what each was, before any is closed (a close feeds the protocol, whose actions may
     * close others) */
    int *lost = calloc((size_t)n, sizeof *lost);
    char(*hosts)[sizeof coord.c[0].host] = calloc((size_t)n, sizeof *hosts);
    for (int k = 0; k < n; k++) {
        const struct conn *c = &coord.c[coord.rank_conn[v[k]]];
        if (lost && hosts) {
            lost[k] = unanswered(c->fd);
            memcpy(hosts[k], c->host, sizeof hosts[k]);
        }
        coord_conn_keepalive(c->fd);
    }
    /* each silent host once, its ranks named together */
    for (int k = 0; lost && hosts && k < n; k++) {
        if (lost[k] != 1)
            continue;
        const char *host = hosts[k];
        char list[256] = "";
        int m = 0;
        for (int j = k; j < n; j++)
            if (lost[j] == 1 && !strcmp(hosts[j], host)) {
                lost[j] = 2;
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%d", m++ ? "," : "", v[j]);
            }
        char why[384];
        snapc_fmt(why, sizeof why, "host %s (rank%s %s) stopped answering (lost or cut off?)",
                  host[0] ? host : "?", m == 1 ? "" : "s", list);
        revive_log_warn("%s: rank %d's connection closed meanwhile; %s's ranks are taken as gone",
                        why, cr, host[0] ? host : "?");
        for (int j = k; j < n; j++)
            if (lost[j] == 2) {
                lost[j] = 3;
                int i = coord.rank_conn[v[j]];
                if (i >= 0)
                    coord_conn_close_why(i, why);
            }
    }
    free(hosts);
    free(lost);
    free(before);
    free(v);
    busy = 0;
}

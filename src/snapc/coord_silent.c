/* Which host went silent, asked when a rank's connection closes while its sequence stages
 * (coord_int.h, newuser9 F3). When a node is lost, Open MPI's mpirun ends the whole job at
 * once: the ranks on the live hosts end first (their connections close at once) while the
 * lost host's ranks are only silent (no FIN from a host whose link is down). The staging's
 * failure then named a rank of a live host ("rank 0 ended during the checkpoint"), and the user
 * could not tell which node to drain. Here the other ranks' hosts are asked before that end is
 * taken: their connections' keepalive is made 1 s (the kernel of a live host answers a probe
 * whatever its process does), and a host with two probes (or retransmissions) unanswered
 * within 2.5 s is silent: its ranks' connections are closed first, their GONE saying so, and the
 * failure names that host and its ranks. Their keepalive timing is restored afterwards. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "snapc/coord_int.h"

#define PROBE_WAIT_MS 2500

/* Two keepalive probes unanswered, or data retransmitted twice: nobody answers there. */
static int unanswered(int fd)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
        return 0;
    return ti.tcpi_probes >= 2 || ti.tcpi_backoff >= 2;
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
    int one = 1;
    for (int r = 0; r < coord.nrank_conn && r < coord.p.nranks; r++) {
        int i = coord.rank_conn[r];
        if (i < 0 || i == closing || coord.p.r[r].staged || coord.p.r[r].proxied)
            continue;
        setsockopt(coord.c[i].fd, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof one);
        setsockopt(coord.c[i].fd, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof one);
        v[n++] = r;
    }
    if (n == 0) {
        free(v);
        return;
    }
    busy = 1;
    int64_t t0 = revive_mono_ms();
    for (;;) {
        int silent = 0;
        for (int k = 0; k < n; k++)
            silent += unanswered(coord.c[coord.rank_conn[v[k]]].fd);
        if (silent == n || revive_mono_ms() - t0 >= PROBE_WAIT_MS)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
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
    free(v);
    busy = 0;
}

/* Partner copies (mpirun --ckpt-partner, issue 9 point 4; src/filem/partner.h): which node's
 * cache keeps a copy of which rank's image, the STAGE messages that say where each rank sends
 * its copy, the answers, and what the metadata records of them. The scheme is SCR's PARTNER:
 * the job's hosts in the order they first appear among the ranks, node i's images copied to
 * node (i+1) mod N; the k-th rank of node i sends to the (k mod n)-th rank of its partner node
 * (n: that node's ranks), whose agent listens for it. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "snapc/coord_int.h"

static struct {
    int n;           /* ranks of the epoch's table */
    int *st;         /* per rank: 0 pending, 1 verified, -errno */
    char (*host)[64];/* per rank: the host that keeps its partner copy, "" none */
    int *holder;     /* per rank: the rank whose agent receives its partner copy, -1 none */
    char why[512];   /* the first reason a copy is missing */
} P;

static const char *rank_host(int r)
{
    int i = r < coord.nrank_conn ? coord.rank_conn[r] : -1;
    return i >= 0 ? coord.c[i].host : NULL;
}

/* the "partner_listen" line of rank r's INFO, or NULL */
static int rank_listen(int r, char *out, size_t len)
{
    int i = r < coord.nrank_conn ? coord.rank_conn[r] : -1;
    const char *s = i >= 0 && coord.c[i].info ? strstr(coord.c[i].info, "partner_listen ") : NULL;
    if (!s)
        return -1;
    s += strlen("partner_listen ");
    size_t l = strcspn(s, "\n");
    if (l == 0 || l >= len)
        return -1;
    memcpy(out, s, l);
    out[l] = 0;
    return 0;
}

static void why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void why(const char *fmt, ...)
{
    if (P.why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P.why, sizeof P.why, fmt, ap);
    va_end(ap);
}

void coord_partner_stage(const struct snapc_stage *sg)
{
    int n = coord.p.nranks;
    P.why[0] = 0;
    if (n != P.n) {
        free(P.st);
        free(P.host);
        free(P.holder);
        P.st = calloc((size_t)n, sizeof *P.st);
        P.host = calloc((size_t)n, sizeof *P.host);
        P.holder = calloc((size_t)n, sizeof *P.holder);
        P.n = P.st && P.host && P.holder ? n : 0;
    }
    int partner = coord.cfg->partner && coord.cfg->local_dir && P.n == n;
    if (!partner) {
        coord_send_ranks(-1, SNAPC_MSG_STAGE, sg, sizeof *sg, NULL, 0);
        return;
    }
    memset(P.st, 0, (size_t)n * sizeof *P.st);
    memset(P.host, 0, (size_t)n * sizeof *P.host);
    for (int r = 0; r < n; r++)
        P.holder[r] = -1;
    /* node of each rank: index of its host among the hosts in order of first appearance */
    int *node = calloc((size_t)n, sizeof *node), *first = calloc((size_t)n, sizeof *first);
    int nodes = 0;
    for (int r = 0; node && first && r < n; r++) {
        const char *h = rank_host(r);
        node[r] = -1;
        if (!h)
            continue;
        for (int j = 0; j < nodes && node[r] < 0; j++)
            if (!strcmp(rank_host(first[j]), h))
                node[r] = j;
        if (node[r] < 0) {
            first[nodes] = r;
            node[r] = nodes++;
        }
    }
    if (nodes < 2) {
        const char *h0 = nodes ? rank_host(first[0]) : NULL;
        why("every rank runs on one host (%s): no other node to keep a copy", h0 ? h0 : "?");
    }
    for (int r = 0; r < n; r++) {
        char to[128] = "";
        if (!node || !first || node[r] < 0 || nodes < 2) {
            P.st[r] = -ENODEV;
        } else {
            int j = (node[r] + 1) % nodes, k = 0, m = 0, q = -1;
            for (int s = 0; s < r; s++)
                k += node[s] == node[r];
            for (int s = 0; s < n; s++)
                m += node[s] == j;
            for (int s = 0, c = 0; s < n && q < 0; s++)
                if (node[s] == j && c++ == k % m)
                    q = s;
            snprintf(P.host[r], sizeof P.host[r], "%s", rank_host(q));
            P.holder[r] = q;
            if (rank_listen(q, to, sizeof to) < 0) {
                P.st[r] = -ENOTCONN;
                why("rank %d on %s does not listen for partner copies", q, P.host[r]);
                to[0] = 0;
            }
        }
        coord_send_ranks(r, SNAPC_MSG_STAGE, sg, sizeof *sg, to, (uint32_t)strlen(to));
    }
    free(node);
    free(first);
}

void coord_partner_staged(int rank, int status, const char *msg)
{
    if (rank < 0 || rank >= P.n || P.st[rank] != 0)
        return;
    P.st[rank] = status;
    if (status < 0)
        why("rank %d: %s", rank, msg && *msg ? msg : strerror(-status));
}

int coord_partner_holder(int rank)
{
    return rank >= 0 && rank < P.n && P.st[rank] == 1 ? P.holder[rank] : -1;
}

const char *coord_partner_host(int rank)
{
    return rank >= 0 && rank < P.n && P.st[rank] == 1 && P.host[rank][0] ? P.host[rank] : NULL;
}

void coord_partner_meta(struct filem_meta *m)
{
    if (!coord.cfg->partner || !coord.cfg->local_dir)
        return;
    int all = P.n == coord.p.nranks && P.n > 0;
    for (int r = 0; r < P.n; r++) {
        char k[64];
        /* the coordinator's own staging (coord_self_stage_meta) said where it came from */
        const char *self = coord_self_staged_from(r);
        if (P.st[r] == 1) {
            snprintf(k, sizeof k, "rank.%d.partner.host", r);
            filem_meta_set(m, k, "%s", P.host[r]);
            if (r < coord.p.nranks && coord.p.r[r].proxied && !self) {
                /* its node was lost while it staged: what is on shared storage came from here */
                snprintf(k, sizeof k, "rank.%d.staged.from", r);
                filem_meta_set(m, k, "the partner copy on %s", P.host[r]);
            }
        } else {
            all = 0;
            if (P.st[r] == 0)
                why("rank %d: no answer about its partner copy", r);
        }
    }
    filem_meta_set(m, "partner.scheme", "node i's cached images also in node (i+1) mod N's");
    filem_meta_set(m, "partner.state", "%s", all ? "protected" : "unprotected");
    if (!all) {
        filem_meta_set(m, "partner.why", "%s", P.why[0] ? P.why : "not every copy verified");
        revive_log_warn("sequence %llu is not protected by partner copies: %s",
                        (unsigned long long)coord.p.seq, P.why[0] ? P.why : "?");
    }
}

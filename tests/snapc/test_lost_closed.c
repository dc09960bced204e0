/* A rank connection the coordinator closes itself while its host is asked is not the host's
 * answer (src/snapc/coord_lost.c ask_pass; diffrev34 R-L15). The coordinator's state made by
 * hand: rank 0 still connected (a loopback TCP connection: its peer end stays open, so the close
 * below is this side's), rank 1 ended, on another host, so that the commit asks rank 0's host on
 * its open connection. While it is asked the coordinator closes rank 0's connection itself, as
 * coord_send_ranks does after a failed send (coord_conn_close). That close says nothing of the
 * host: its host is to be asked with a connect to where the rank was (an address nothing
 * answers: 192.0.2.1 in a network namespace of the test's own, with only its loopback up;
 * REVIVE_FETCH_PROBE_PORT=0), and found silent. Before: "answered (the
 * rank's connection ended while it was asked)", its host called up (a cut-off host, and with it
 * every rank of it). A connection its peer ends (EOF read by the loop) is still an answer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "snapc/coord_int.h"
#include "snapc_test.h"

/* A network namespace of our own with its loopback up: 127.0.0.1 answers, nothing else is
 * routed (this machine's own network may answer any address). 0, or -1 (not root). */
static int own_net(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        return -1;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int e = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0;
    ifr.ifr_flags |= IFF_UP;
    e = e || ioctl(s, SIOCSIFFLAGS, &ifr) != 0;
    if (s >= 0)
        close(s);
    return e ? -1 : 0;
}

/* A connected loopback pair: *mine (the coordinator's end), *theirs (the rank's). */
static int pair(int *mine, int *theirs)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return -1;
    *theirs = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*theirs < 0 || connect(*theirs, (struct sockaddr *)&a, sizeof a))
        return -1;
    *mine = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    close(l);
    return *mine < 0 ? -1 : 0;
}

/* The coordinator with ranks 0 (on host h-zero, connected at FD) and 1 (ended, on h-one). */
static int setup(int fd)
{
    /* the protocol idle (its phase does not enter the rule; nothing else of the coordinator
     * runs here); the asking is started below as a commit starts it */
    snapc_proto_init(&coord.p);
    coord.p.nranks = 2;
    coord.p.r = calloc(2, sizeof *coord.p.r);
    coord.nrank_conn = 2;
    coord.rank_conn = malloc(2 * sizeof *coord.rank_conn);
    coord.rank_last = calloc(2, sizeof *coord.rank_last);
    if (!coord.rank_conn || !coord.rank_last || !coord.p.r)
        return -1;
    coord.rank_last[0].fd = coord.rank_last[1].fd = -1;
    coord.rank_conn[1] = -1;
    snprintf(coord.rank_last[1].host, sizeof coord.rank_last[1].host, "h-one");
    int i = coord_conn_new(fd, C_RANK);
    if (i < 0)
        return -1;
    coord.c[i].rank = 0;
    snprintf(coord.c[i].host, sizeof coord.c[i].host, "h-zero");
    /* where the rank was: an address that answers nothing (TEST-NET-1, RFC 5737) */
    struct sockaddr_in where = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "192.0.2.1", &where.sin_addr);
    memcpy(&coord.c[i].addr, &where, sizeof where);
    coord.c[i].addrlen = sizeof where;
    coord.rank_conn[0] = i;
    return i;
}

static void ask_until_done(void)
{
    for (int k = 0; k < 1000 && coord_lost_asking(); k++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        coord_lost_tick();
    }
}

int main(void)
{
    setenv("REVIVE_FETCH_PROBE_PORT", "0", 1);
    if (own_net() != 0) {
        printf("SKIP: test_lost_closed needs a network namespace of its own (root)\n");
        return 77;
    }
    int mine = -1, theirs = -1;
    CHECK_EQ(pair(&mine, &theirs), 0);
    int i = setup(mine);
    CHECK(i >= 0);
    if (i < 0)
        return test_summary("test_lost_closed");
    /* the commit asks: rank 0's host on its open connection */
    CHECK_EQ(coord_lost_settle(LOST_FOR_COMMIT), 1);
    CHECK_EQ(coord.rank_last[0].verdict, LOST_ASK);
    /* closed from this side while asked (a send that failed) */
    coord_conn_close(i);
    CHECK_EQ(coord.rank_conn[0], -1);
    ask_until_done();
    const struct rank_last *l = &coord.rank_last[0];
    fprintf(stderr, "rank 0's host: verdict %d lost %d heard %d: %s\n", l->verdict, l->lost, l->heard, l->answer);
    CHECK_EQ(l->heard, 0);
    CHECK_EQ(l->lost, 1);
    CHECK_STR_CONTAINS(l->answer, "h-zero did not answer a connect to where the rank was");
    close(theirs);

    /* the same rank connected again, asked again, and this time its peer ends the connection
     * (EOF, read by the loop): that is its host's answer, as before */
    coord_lost_forget(0);
    CHECK_EQ(pair(&mine, &theirs), 0);
    i = coord_conn_new(mine, C_RANK);
    CHECK(i >= 0);
    if (i < 0)
        return test_summary("test_lost_closed");
    coord.c[i].rank = 0;
    snprintf(coord.c[i].host, sizeof coord.c[i].host, "h-zero");
    coord.rank_conn[0] = i;
    CHECK_EQ(coord_lost_settle(LOST_FOR_COMMIT), 1);
    close(theirs);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    coord_conn_readable(i);
    CHECK_EQ(coord.rank_conn[0], -1);
    ask_until_done();
    fprintf(stderr, "again: verdict %d lost %d heard %d: %s\n", l->verdict, l->lost, l->heard, l->answer);
    CHECK_EQ(l->heard, 1);
    CHECK_EQ(l->lost, 0);
    CHECK_STR_CONTAINS(l->answer, "h-zero answered (the rank's connection ended while it was asked)");
    return test_summary("test_lost_closed");
}

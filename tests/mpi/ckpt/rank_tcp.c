/* rank_tcp STEPS PACEFILE MS CLOSEFILE: ranks in pairs (2k, 2k+1; an even number of ranks) hold a
 * TCP connection of their own over loopback (the even rank listens, sends its port to the odd
 * one with MPI_Send, accepts; the listener is closed) and exchange one number per step on it.
 * Once CLOSEFILE exists (rank 0 looks, MPI_Bcast tells the others) both close the connection and
 * go on exchanging with MPI_Sendrecv: the results do not depend on when that happens. Rank 0
 * prints every step's sum over all ranks and "done: SUM" (rank_tcp.sh). A snapshot cannot
 * restore a connection between two processes: while it is open a snapshot must be refused,
 * naming it, never committed with it recorded as closed (review13 HIGH-1). */
#include "rst_pace.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static void die(const char *what)
{
    perror(what);
    MPI_Abort(MPI_COMM_WORLD, 3);
}

static int tcp_pair(int me, int peer)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int port, fd;
    if (me % 2 == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        socklen_t n = sizeof a;
        if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
            getsockname(l, (struct sockaddr *)&a, &n))
            die("rank_tcp: listen");
        port = ntohs(a.sin_port);
        MPI_Send(&port, 1, MPI_INT, peer, 7, MPI_COMM_WORLD);
        fd = accept(l, NULL, NULL);
        close(l);
    } else {
        MPI_Recv(&port, 1, MPI_INT, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        a.sin_port = htons((uint16_t)port);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a))
            die("rank_tcp: connect");
    }
    if (fd < 0)
        die("rank_tcp: socket");
    return fd;
}

static void full(int fd, void *buf, size_t len, int out)
{
    char *p = buf;
    while (len) {
        ssize_t k = out ? write(fd, p, len) : read(fd, p, len);
        if (k <= 0)
            die(out ? "rank_tcp: write" : "rank_tcp: read");
        p += k;
        len -= (size_t)k;
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: rank_tcp STEPS PACEFILE MS CLOSEFILE\n");
        return 2;
    }
    struct rst_run r = rst_begin(&argc, &argv, "rank_tcp");
    if (r.np % 2)
        die("rank_tcp: an even number of ranks");
    int peer = r.me ^ 1;
    int fd = tcp_pair(r.me, peer);
    long long acc = 0;
    for (int s = 0; s < r.steps; s++) {
        int closing = fd >= 0 && r.me == 0 && access(argv[4], F_OK) == 0;
        MPI_Bcast(&closing, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (closing && fd >= 0) {
            close(fd);
            fd = -1;
            fprintf(stderr, "rank %d: closed its TCP connection before step %d\n", r.me, s);
        }
        long long mine = (long long)(r.me + 1) * (s + 3), theirs = 0;
        if (fd >= 0) {
            /* the even rank writes first: neither blocks on a full buffer */
            full(fd, r.me % 2 ? &theirs : &mine, sizeof mine, r.me % 2 == 0);
            full(fd, r.me % 2 ? &mine : &theirs, sizeof mine, r.me % 2 != 0);
        } else {
            MPI_Sendrecv(&mine, 1, MPI_LONG_LONG, peer, 8, &theirs, 1, MPI_LONG_LONG, peer, 8,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        acc += theirs * (s + 1) + mine;
        rst_step_sum(&r, s, acc);
    }
    rst_done_sum(&r, acc);
    if (fd >= 0)
        close(fd);
    MPI_Finalize();
    return 0;
}

/*
 * A TCP listener and a connection accepted from it whose accepted end has a LOWER descriptor
 * number than the listener and the client end (newuser7b F3): a file opened first and closed
 * between connect and accept leaves its number to accept. The restore made the connection
 * with the lower-numbered record as its connecting end, bound to the listener's port without
 * SO_REUSEADDR, and the listener could then never be bound again ("another process holds
 * that address", the process's own socket). After each point: bytes both ways, the addresses
 * of all three ends, each end's SO_REUSEADDR as the program left it, and a new connection
 * accepted by the listener. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int lfd, cfd, afd;
static struct sockaddr_in laddr, caddr;
static unsigned rounds;

static int port_of(int fd, int peer)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if ((peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l)) != 0)
        return -1;
    return ntohs(a.sin_port);
}

static int reuse_of(int fd)
{
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &l);
    return v != 0;
}

static void check(const char *when)
{
    char name[96];
    uint64_t sum = 0, want = 0;
    for (unsigned k = 0; k < 16; k++, rounds++) {
        unsigned char c = (unsigned char)(rounds * 7u + 1u), b = 0, d = 0;
        want += c + (unsigned char)(c ^ 0x5a);
        if (write(cfd, &c, 1) != 1 || crt_read_all(afd, &b, 1) != 1)
            crt_fail(when, "client to accepted: %s", strerror(errno));
        b ^= 0x5a;
        if (write(afd, &b, 1) != 1 || crt_read_all(cfd, &d, 1) != 1)
            crt_fail(when, "accepted to client: %s", strerror(errno));
        sum += c + d;
    }
    snprintf(name, sizeof name, "bytes both ways %s", when);
    CRT_CHECK_U64(name, sum, want);
    snprintf(name, sizeof name, "the accepted end on the listener's port %s", when);
    CRT_CHECK_U64(name, (uint64_t)port_of(afd, 0), ntohs(laddr.sin_port));
    snprintf(name, sizeof name, "the accepted end's peer is the client %s", when);
    CRT_CHECK_U64(name, (uint64_t)port_of(afd, 1), ntohs(caddr.sin_port));
    snprintf(name, sizeof name, "the client end on its own port %s", when);
    CRT_CHECK_U64(name, (uint64_t)port_of(cfd, 0), ntohs(caddr.sin_port));
    snprintf(name, sizeof name, "SO_REUSEADDR listener/client/accepted %s", when);
    CRT_CHECK_U64(name, (uint64_t)(reuse_of(lfd) * 100 + reuse_of(cfd) * 10 + reuse_of(afd)), 0);
    /* the listener listens on its port: a new connection is accepted, then both closed */
    int n = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = n >= 0 && connect(n, (struct sockaddr *)&laddr, sizeof laddr) == 0;
    int a = ok ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
    snprintf(name, sizeof name, "the listener accepts a new connection %s", when);
    CRT_CHECK_U64(name, ok && a >= 0, 1);
    if (n >= 0)
        close(n);   /* the connecting end first: its TIME-WAIT is on an ephemeral port */
    if (a >= 0)
        close(a);
}

int main(void)
{
    int file = open("/dev/null", O_RDONLY);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (file < 0 || lfd < 0)
        crt_die("open, socket: %s", strerror(errno));
    crt_bind_low_port(lfd, &laddr, 33u, "tcp listener");
    socklen_t l = sizeof laddr;
    if (listen(lfd, 4) != 0 || getsockname(lfd, (struct sockaddr *)&laddr, &l) != 0)
        crt_die("listen: %s", strerror(errno));
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (cfd < 0)
        crt_die("socket: %s", strerror(errno));
    crt_bind_low_port(cfd, &caddr, 34u, "tcp client");
    if (connect(cfd, (struct sockaddr *)&laddr, sizeof laddr) != 0)
        crt_die("connect: %s", strerror(errno));
    close(file);
    afd = accept(lfd, NULL, NULL);
    if (afd < 0)
        crt_die("accept: %s", strerror(errno));
    if (!(afd < lfd && lfd < cfd))
        crt_die("descriptors not in the order the test needs: accepted %d listener %d client %d", afd, lfd, cfd);
    crt_say("accepted end below the listener and the client");
    crt_check_around_points(check);
}

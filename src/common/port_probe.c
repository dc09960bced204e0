/* Is a host up? Its port and the connect that asks (port_probe.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "common"
#include "common/port_probe.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

int revive_probe_port(void)
{
    static int warned;
    const char *v = getenv("REVIVE_FETCH_PROBE_PORT");
    if (!v || !*v)
        return 22;
    char *end;
    errno = 0;
    long port = *v >= '0' && *v <= '9' ? strtol(v, &end, 10) : -1;
    if (port >= 0 && port <= 65535 && !errno && !*end)
        return (int)port;
    if (!warned++)
        revive_log_warn("REVIVE_FETCH_PROBE_PORT=%s is no port (a number 0 to 65535; 0: no probe): no host is "
                        "asked on it whether it is up", v);
    return 0;
}

int revive_connect_start(const struct sockaddr *addr, socklen_t len, int *res)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *res = errno;
        return -1;
    }
    if (connect(fd, addr, len) == 0) {
        *res = 0;
        close(fd);
        return -1;
    }
    if (errno != EINPROGRESS) {
        *res = errno;
        close(fd);
        return -1;
    }
    *res = -1;
    return fd;
}

int revive_connect_outcome(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, 0) <= 0)
        return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    return err;
}

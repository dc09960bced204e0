/* Socket options (image_format.h: SOCKOPTS): for each socket the restart
 * makes again, the options of crs/base/sockopts.c whose value differs from
 * a new socket's of the same family, type and protocol, as getsockopt(2)
 * gives them. A new socket answers for the defaults, whatever this kernel's
 * (sysctl) defaults are; the restart keeps its own for the rest. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/sockopts.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCKOPTS_MAX 65536

/* A buffer size of a TCP connection larger than an unprivileged program may
 * ask for (twice net.core.rmem_max / wmem_max) is the kernel's own tuning,
 * which a fixed value would stop: left to the restart's kernel. */
static int autotuned(const struct crs_rec_socket *s, int name, const uint8_t *value)
{
    if (s->family == AF_UNIX || s->type != SOCK_STREAM || s->state != CRS_SOCK_CONNECTED)
        return 0;
    char buf[32] = "";
    int fd = open(name == SO_RCVBUF ? "/proc/sys/net/core/rmem_max" : "/proc/sys/net/core/wmem_max",
                  O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    long max = n > 0 ? atol(buf) : 0;
    int v;
    memcpy(&v, value, sizeof v);
    return max > 0 && (long)v > 2 * max;
}

/* Whether socket record i is restored (a descriptor of the process holds it
 * as a socket, not closed or inherited). */
static int restored(const struct crs_capture *c, size_t i)
{
    for (size_t k = 0; k < c->nfds; k++)
        if (c->fds[k].kind == CRS_FD_SOCKET && c->fds[k].memfd == (int32_t)i)
            return 1;
    return 0;
}

int crs_capture_sockopts(struct crs_capture *c)
{
    for (size_t i = 0; i < c->nsockets; i++) {
        const struct crs_rec_socket *s = &c->sockets[i];
        if (!restored(c, i))
            continue;
        int fresh = socket(s->family, s->type | SOCK_CLOEXEC, s->protocol);
        if (fresh < 0) {
            crs_capture_error(c, "cannot make a socket like descriptor %d's to tell its options from the "
                              "defaults: %s", c->sock_fd[i], strerror(errno));
            return -errno;
        }
        for (size_t k = 0; k < crs_nsockopts; k++) {
            const struct crs_sockopt_desc *d = &crs_sockopts[k];
            if (!crs_sockopt_applies(d, s->family, s->type))
                continue;
            uint8_t v[CRS_SOCKOPT_VALUE_MAX] = { 0 }, dv[CRS_SOCKOPT_VALUE_MAX] = { 0 };
            socklen_t l = sizeof v, dl = sizeof dv;
            if (getsockopt(c->sock_fd[i], d->level, d->name, v, &l) != 0)
                continue;   /* not an option of this kernel or of this socket */
            if (l == 0 || l > sizeof v)
                continue;
            if (getsockopt(fresh, d->level, d->name, dv, &dl) == 0 && dl == l && !memcmp(v, dv, l))
                continue;   /* the default */
            if ((d->how & CRS_SOCKOPT_BUF) && l == sizeof(int) && autotuned(s, d->name, v))
                continue;
            if (c->nsockopts == SOCKOPTS_MAX) {
                close(fresh);
                crs_capture_error(c, "the process's sockets have more than %d options set", SOCKOPTS_MAX);
                return -E2BIG;
            }
            if (!c->sockopts && !(c->sockopts = crs_scratch_alloc(c->scratch, SOCKOPTS_MAX * sizeof *c->sockopts))) {
                close(fresh);
                crs_capture_error(c, "out of scratch memory for socket options");
                return -ENOMEM;
            }
            struct crs_rec_sockopt *o = &c->sockopts[c->nsockopts++];
            memset(o, 0, sizeof *o);
            o->socket = (uint32_t)i;
            o->level = d->level;
            o->name = d->name;
            o->len = l;
            memcpy(o->value, v, l);
        }
        close(fresh);
    }
    return 0;
}

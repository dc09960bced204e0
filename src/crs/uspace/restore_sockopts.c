/* Socket options set again at restart (image_format.h: SOCKOPTS): the
 * options that matter before bind, listen or connect on each socket as it
 * is made (best effort: a socket made by accept or socketpair has none
 * then), and all of them once every socket is made, connected and refilled
 * (TCP_CORK only then, so that a refill is not held back), where a refusal
 * fails the restart naming the descriptor and the option. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "crs/base/sockopts.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A buffer size: half what the kernel kept (it doubles what is asked); as
 * root, past net.core.rmem_max / wmem_max with the FORCE variant. A host
 * whose limit is lower gets what it allows, with a warning: the program
 * runs the same, only with less buffered. */
static int set_buf(int fd, const struct crs_rec_sockopt *o, int *got)
{
    int want, half;
    memcpy(&want, o->value, sizeof want);
    half = want / 2;
    if (setsockopt(fd, o->level, o->name, &half, sizeof half) != 0)
        return -errno;
    socklen_t l = sizeof *got;
    if (getsockopt(fd, o->level, o->name, got, &l) == 0 && *got < want) {
        int force = o->name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
        if (setsockopt(fd, SOL_SOCKET, force, &half, sizeof half) == 0)
            getsockopt(fd, o->level, o->name, got, &l);
    }
    return 0;
}

int crs_restore_sock_fd(const struct crs_restore *r, size_t i)
{
    for (size_t k = 0; k < r->img->nfds; k++)
        if (r->img->fds[k].kind == CRS_FD_SOCKET && r->img->fds[k].memfd == (int32_t)i)
            return r->img->fds[k].fd;
    return -1;
}

int crs_restore_sockopts(struct crs_restore *r, size_t i, int fd, int early)
{
    const struct crs_image *img = r->img;
    for (size_t k = 0; k < img->nsockopts; k++) {
        const struct crs_rec_sockopt *o = &img->sockopts[k];
        if (o->socket != i)
            continue;
        const struct crs_sockopt_desc *d = crs_sockopt_find(o->level, o->name);
        unsigned how = d ? d->how : 0;
        char name[64], v[64];
        if (d)
            snprintf(name, sizeof name, "%s", d->label);
        else
            snprintf(name, sizeof name, "option %d of level %d", (int)o->name, (int)o->level);
        if (early && !(how & CRS_SOCKOPT_EARLY))
            continue;
        int e = 0, got = 0;
        if ((how & CRS_SOCKOPT_BUF) && o->len == sizeof(int)) {
            e = set_buf(fd, o, &got);
            int want;
            memcpy(&want, o->value, sizeof want);
            if (!e && !early && got < want)
                revive_log_warn("the socket at descriptor %d had %s %d when checkpointed; this host allows %d "
                                "(net.core.%s; as root a restart passes it)", crs_restore_sock_fd(r, i), name, want, got,
                                o->name == SO_RCVBUF ? "rmem_max" : "wmem_max");
        } else if (setsockopt(fd, o->level, o->name, o->value, o->len) != 0) {
            e = -errno;
        }
        if (!e || early)
            continue;
        crs_sockopt_value_text(o, v, sizeof v);
        crs_restore_error(r, "cannot set %s to %s again on the socket at descriptor %d: %s%s", name, v,
                          crs_restore_sock_fd(r, i), strerror(-e),
                          e == -EPERM && (how & CRS_SOCKOPT_PRIV)
                              ? "; setting it needs privileges (CAP_NET_ADMIN or CAP_NET_RAW): restart as root"
                              : "");
        return -EIO;
    }
    return 0;
}

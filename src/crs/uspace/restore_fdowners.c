/* The owners and signals of descriptors (image_format.h: FDOWNERS) given
 * again in the restored process, once its threads are back (a thread's id
 * may be new: tid_now maps it), from its checkpoint thread. */
#define _GNU_SOURCE
#include "crs/uspace/restart_info.h"
#include "crs/base/image_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int crs_fd_owners_restore(const struct crs_rec_fdown *o, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        struct f_owner_ex ow = { .type = (int)o[i].type, .pid = o[i].id };
        switch (o[i].who) {
        case CRS_FDOWN_SELF:
            ow.pid = getpid();
            break;
        case CRS_FDOWN_THREAD:
            ow.pid = tid_now(o[i].id);
            break;
        case CRS_FDOWN_PGRP:
            ow.pid = getpgrp();
            break;
        case CRS_FDOWN_NONE:
            ow.pid = 0;
            break;
        default:
            break;   /* a member of the tree, under its number */
        }
        if ((ow.pid && fcntl(o[i].fd, F_SETOWN_EX, &ow) != 0) ||
            (o[i].sig && fcntl(o[i].fd, F_SETSIG, (int)o[i].sig) != 0)) {
            snprintf(err, errlen, "cannot give descriptor %d its I/O signal's owner (%d, once %d) and signal %u "
                     "again: %s", (int)o[i].fd, (int)ow.pid, (int)o[i].id, o[i].sig, strerror(errno));
            return -errno;
        }
    }
    return 0;
}

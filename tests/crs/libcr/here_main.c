/* crs_runtime_checkpoint_here (src/crs/libcr/runtime.h) called from the main thread: refused at
 * once with -EINVAL, res->status -EINVAL and a message saying to call it from a thread of its
 * own (the image records the main thread parked, first). o.fd is -1: a checkpoint the old code
 * ran anyway fails otherwise (EBADF), never writes anywhere. Exit 0 when refused so. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crs/libcr/runtime.h"

int main(void)
{
    struct crs_ckpt_opts o;
    struct crs_ckpt_result res;
    memset(&o, 0, sizeof o);
    memset(&res, 0, sizeof res);
    o.fd = -1;
    int rc = crs_runtime_checkpoint_here(&o, &res);
    printf("main thread: rc %d, status %d: %s\n", rc, res.status, res.err);
    return rc == -EINVAL && res.status == -EINVAL && strstr(res.err, "from a thread of its own") ? 0 : 1;
}

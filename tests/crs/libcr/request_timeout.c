/*
 * request_timeout IMAGE PID SECONDS: cr_request_checkpoint of process PID (scope
 * CR_SCOPE_PROC) into IMAGE (created, truncated) with cr_timeout SECONDS, then
 * cr_poll_checkpoint until it ends; prints "poll: R ERRNO-NAME" (a request that runs out:
 * CR_POLL_CHKPT_ERR_POST, ETIMEDOUT) and exits 0; IMAGE stays open until then. For
 * cs_timeout.sh (the target sits in a critical section longer than SECONDS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: request_timeout IMAGE PID SECONDS\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cr_init() < 0)
        return 2;
    cr_checkpoint_args_t a;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_target = atoi(argv[2]);
    a.cr_timeout = (unsigned)atoi(argv[3]);
    a.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (a.cr_fd < 0)
        return 2;
    int r = cr_request_checkpoint(&a, &h);
    if (r == 0)
        do
            r = cr_poll_checkpoint(&h, NULL);
        while (r < 0 && errno == EINTR);
    printf("poll: %d %s\n", r, r >= 0 ? "ok" : errno == ETIMEDOUT ? "ETIMEDOUT" : strerror(errno));
    close(a.cr_fd);
    return 0;
}

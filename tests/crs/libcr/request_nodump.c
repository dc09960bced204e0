/* cr_request_checkpoint of itself by a process that changed its user: started
 * as root (linked with -lcr, libcr's thread already running), it becomes
 * user UID in every thread, which makes the kernel mark it not dumpable, and
 * requests its own checkpoint into a file it opened before. The poll must fail
 * with EACCES (libcr.h), libcr saying why on stderr; before, EIO and "cannot
 * open /proc/self/pagemap or /proc/self/mem" (issue 10). Then, made dumpable
 * again (prctl PR_SET_DUMPABLE 1), the same request succeeds.
 * usage: request_nodump UID IMAGE; prints "nodump: R ERRNO" and "dumpable: R". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "libcr.h"

/* one request of the process itself into fd; the poll's result (errno as set) */
static int request_self(int fd)
{
    cr_checkpoint_args_t a;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_fd = fd;
    a.cr_timeout = 30;
    int r = cr_request_checkpoint(&a, &h);
    if (r != 0)
        return r;
    do
        r = cr_poll_checkpoint(&h, NULL);
    while (r < 0 && errno == EINTR);
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 3 || cr_init() < 0)
        return 2;
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uid_t u = (uid_t)strtoul(argv[1], NULL, 10);
    if (fd < 0 || setgroups(0, NULL) != 0 || setresgid(u, u, u) != 0 || setresuid(u, u, u) != 0) {
        fprintf(stderr, "request_nodump: setup: %s\n", strerror(errno));
        return 2;
    }
    int r = request_self(fd);
    printf("nodump: %d %s\n", r, r == CR_POLL_CHKPT_ERR_POST && errno == EACCES ? "EACCES" : strerror(errno));
    fflush(stdout);
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 || ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return 2;
    r = request_self(fd);
    printf("dumpable: %d\n", r);
    return 0;
}

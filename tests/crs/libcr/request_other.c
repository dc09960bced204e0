/* cr_request_checkpoint of another process: target PID, cr_fd, cr_signal
 * (sent once the image is written), cr_timeout; and the errors for a process
 * that does not exist or does not run under Revive. First, the target
 * stopped (SIGSTOP), a request without cr_signal: it fails
 * (CR_POLL_CHKPT_ERR_POST, EAGAIN) and libcr says why on stderr (before, the
 * reason was dropped: only the errno came back); then SIGCONT.
 * usage: request_other IMAGE PID [NON_REVIVE_PID] */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"
#include "common/procfs.h"

/* Whether process pid shows state T (stopped) in /proc (src/common's /proc readers). */
static int stopped(pid_t pid)
{
    char buf[2048]; /* more than a stat line holds: 52 fields */
    return revive_proc_read(pid, 0, "stat", buf, sizeof buf) > 0 && revive_stat_state(buf) == 'T';
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    if (cr_init() < 0)
        return 2;
    cr_checkpoint_args_t a;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_target = atoi(argv[2]);
    a.cr_timeout = 30;
    a.cr_fd = open("scratch.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (a.cr_fd < 0 || kill(a.cr_target, SIGSTOP) != 0)
        return 2;
    for (int i = 0; i < 3000 && !stopped(a.cr_target); i++)
        usleep(10000);
    int r = cr_request_checkpoint(&a, &h);
    if (r == 0)
        do
            r = cr_poll_checkpoint(&h, NULL);
        while (r < 0 && errno == EINTR);
    printf("stopped: %d %s\n", r, r == CR_POLL_CHKPT_ERR_POST && errno == EAGAIN ? "EAGAIN" : strerror(errno));
    fflush(stdout);
    kill(a.cr_target, SIGCONT);
    close(a.cr_fd);

    a.cr_signal = SIGKILL;
    a.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (a.cr_fd < 0)
        return 2;
    r = cr_request_checkpoint(&a, &h);
    printf("request: %d\n", r);
    do
        r = cr_poll_checkpoint(&h, NULL);
    while (r < 0 && errno == EINTR);
    printf("poll: %d%s%s\n", r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
    close(a.cr_fd);

    a.cr_fd = open("scratch.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    a.cr_target = 999999999;
    r = cr_request_checkpoint(&a, &h);
    printf("no such process: %d %s\n", r, r < 0 && errno == ESRCH ? "ESRCH" : strerror(errno));
    a.cr_fd = open(argv[1], O_RDONLY);
    a.cr_target = atoi(argv[2]);
    r = cr_request_checkpoint(&a, &h);
    printf("descriptor not writable: %d %s\n", r, r < 0 && errno == EINVAL ? "EINVAL" : strerror(errno));
    if (argc > 3) {
        a.cr_fd = open("scratch.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        a.cr_target = atoi(argv[3]);
        r = cr_request_checkpoint(&a, &h);
        printf("not under Revive: %d %s\n", r, r < 0 && errno == ENOSYS ? "ENOSYS" : strerror(errno));
    }
    return 0;
}

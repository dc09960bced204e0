/* The second pattern of the reference mail: cr_request_checkpoint() to a
 * descriptor of an older, longer file, and the cr_poll_checkpoint() loop that
 * takes EINVAL as "restarting". Also checks the poll timeout while another
 * thread holds a critical section, and cr_tryenter_cs. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"

static cr_client_id_t cr;
static volatile int holder_in, holder_release;

static void *holder(void *arg)
{
    (void)arg;
    cr_enter_cs(cr);
    holder_in = 1;
    while (!holder_release)
        usleep(1000);
    cr_leave_cs(cr);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *img = argc > 1 ? argv[1] : "poll.img";
    setvbuf(stdout, NULL, _IOLBF, 0);
    cr = cr_init();
    if (cr < 0) {
        perror("cr_init");
        return 2;
    }
    /* an older, longer file at the image's name */
    int junk = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[65536];
    memset(buf, 0xA5, sizeof buf);
    for (int i = 0; i < 1600; i++)   /* 100 MiB, longer than the image */
        if (write(junk, buf, sizeof buf) != (ssize_t)sizeof buf)
            return 2;
    close(junk);

    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    while (!holder_in)
        usleep(1000);

    cr_checkpoint_args_t cr_args;
    cr_checkpoint_handle_t cr_handle;
    cr_initialize_checkpoint_args_t(&cr_args);
    cr_args.cr_scope = CR_SCOPE_PROC;
    cr_args.cr_target = 0;
    cr_args.cr_fd = open(img, O_WRONLY | O_CREAT | O_LARGEFILE, 0400);
    if (cr_args.cr_fd < 0) {
        perror("open");
        return 2;
    }
    int x = 12345;
    printf("before x=%d\n", x);
    if (cr_request_checkpoint(&cr_args, &cr_handle) < 0) {
        perror("cr_request_checkpoint");
        return 2;
    }
    /* the holder is in a critical section: nothing can complete yet */
    struct timeval tv = { 0, 200000 };
    int r = cr_poll_checkpoint(&cr_handle, &tv);
    printf("poll with timeout while held: %d\n", r);
    int te = cr_tryenter_cs(cr);
    printf("tryenter while pending: %d %s\n", te, te < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    holder_release = 1;
    int err;
    int restarted = 0;
    do {
        err = cr_poll_checkpoint(&cr_handle, NULL);
        if (err < 0) {
            if (errno == EINVAL) {       /* restarting -- not an error */
                err = 0;
                restarted = 1;
            } else if (errno == EINTR) {
                /* retry */
            } else {
                printf("checkpoint failed: %s\n", strerror(errno));
                return 3;
            }
        }
    } while (err < 0);
    close(cr_args.cr_fd);
    pthread_join(t, NULL);
    x += 1;
    printf("%s x=%d\n", restarted ? "restarted" : "continuing", x);
    printf("poll of a reaped handle: %d\n", cr_poll_checkpoint(&cr_handle, NULL));
    return restarted ? 5 : 4;
}

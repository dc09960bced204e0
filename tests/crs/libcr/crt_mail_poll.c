/*
 * The second pattern of the BLCR mail (reference/, Paul Hargrove, 2007-12-17),
 * as the mail wrote it: cr_initialize_checkpoint_args_t, scope PROC, target 0
 * (self), cr_fd opened O_WRONLY|O_CREAT|O_LARGEFILE, 0400 (no O_TRUNC: the
 * file named by argv[1] already holds 16 MiB of older bytes, so the image is
 * written over an older, longer file), cr_request_checkpoint, then
 * cr_poll_checkpoint in a loop where EINVAL means "restarting -- not an
 * error" and EINTR means "retry".
 *
 * Around it: a second thread holds a critical section when the request is
 * made, so the checkpoint cannot begin yet: cr_poll_checkpoint with a 200 ms
 * timeout must return 0 (not done) and cr_tryenter_cs must fail with EAGAIN
 * (a checkpoint is pending); then the holder leaves and the mail's loop runs.
 * After it, polling the reaped handle again fails (-1), in the original and
 * in the restarted process.
 *
 * Prints "-- place1 --" just before the holder leaves (the checkpoint cannot
 * have begun earlier), then "NN place2: original" or "NN place2: restarted"
 * (the only line in which a restart differs), checks its state and ends with
 * "RESULT ok", status 42. mail_poll.sh restarts the image and compares.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <libcr.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef O_LARGEFILE
#define O_LARGEFILE 0
#endif

static uint64_t state[8192];
static cr_client_id_t cr;
static volatile int holder_in, holder_release;

/* Holds a critical section until told to leave. */
static void *holder(void *arg)
{
    (void)arg;
    cr_enter_cs(cr);
    holder_in = 1;
    while (!holder_release)
        crt_sleep_ms(1);
    cr_leave_cs(cr);
    return NULL;
}

int main(int argc, char **argv)
{
    cr_checkpoint_args_t cr_args;
    cr_checkpoint_handle_t cr_handle;
    const char *some_filename = argc > 1 ? argv[1] : "ctx.poll";
    int err, restarted = 0, polls = 0, r;
    struct timeval tv = {0, 200000};
    pthread_t t;
    uint64_t h;

    /* an older, longer file under the name */
    {
        static char junk[1 << 20];
        int fd = open(some_filename, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        memset(junk, 'J', sizeof(junk));
        for (int i = 0; fd >= 0 && i < 16; i++)
            if (write(fd, junk, sizeof(junk)) != (ssize_t)sizeof(junk))
                crt_die("cannot write %s", some_filename);
        if (fd < 0)
            crt_die("cannot create %s: %s", some_filename, strerror(errno));
        close(fd);
    }
    for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++)
        state[i] = crt_mix(i + 7);
    h = crt_hash(state, sizeof(state), 0);
    crt_say("state %016llx", (unsigned long long)h);

    cr = cr_init();
    crt_check("cr_init", cr >= 0, "returned %d", cr);
    if (pthread_create(&t, NULL, holder, NULL) != 0)
        crt_die("pthread_create failed");
    while (!holder_in)
        crt_sleep_ms(1);

    cr_initialize_checkpoint_args_t(&cr_args); /* start with defaults */
    cr_args.cr_scope = CR_SCOPE_PROC;          /* checkpoint a process */
    cr_args.cr_target = 0;                     /* process = self */
    cr_args.cr_fd = open(some_filename, O_WRONLY | O_CREAT | O_LARGEFILE, 0400);
    if (cr_args.cr_fd < 0)
        crt_die("open %s: %s", some_filename, strerror(errno));
    err = cr_request_checkpoint(&cr_args, &cr_handle);
    if (err < 0)
        crt_die("cr_request_checkpoint: %s", strerror(errno));

    /* the holder is in a critical section: nothing can complete yet */
    r = cr_poll_checkpoint(&cr_handle, &tv);
    crt_check("poll with a 200 ms timeout while a critical section is held: 0 (not done)", r == 0,
              "returned %d (%s)", r, r < 0 ? strerror(errno) : "done");
    r = cr_tryenter_cs(cr);
    crt_check("cr_tryenter_cs while the checkpoint is pending: -1 EAGAIN", r < 0 && errno == EAGAIN,
              "returned %d (%s)", r, r < 0 ? strerror(errno) : "entered");
    if (r == 0)
        cr_leave_cs(cr);

    printf("-- place1 --\n");
    fflush(stdout);
    holder_release = 1; /* the checkpoint begins once the holder has left */
    do { /* Wait for checkpoint to complete */
        polls++;
        err = cr_poll_checkpoint(&cr_handle, NULL);
        if (err < 0) {
            if (errno == EINVAL) {
                /* expect this value when restarting -- not an error */
                restarted = 1;
                err = 0;
            } else if (errno == EINTR) {
                /* poll was interrupted by a signal -- while loop retries */
            } else {
                crt_die("cr_poll_checkpoint: %s", strerror(errno));
            }
        }
    } while (err < 0 && polls < 100000);
    close(cr_args.cr_fd);
    pthread_join(t, NULL);

    /* place2 */
    crt_say("place2: %s", restarted ? "restarted" : "original");
    crt_check("poll gave 1 in the original, EINVAL in the restart",
              restarted ? err == 0 : err == 1, "err %d restarted %d", err, restarted);
    crt_check_u64("state intact at place2", crt_hash(state, sizeof(state), 0), h);
    r = cr_poll_checkpoint(&cr_handle, NULL);
    crt_check("poll of the reaped handle: -1", r == -1, "returned %d", r);
    crt_finish();
}

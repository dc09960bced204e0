/*
 * State test: a server waiting for its first client on a FIFO (named pipe;
 * review MEDIUM-B). fifo.wait is opened O_RDONLY|O_NONBLOCK and no writer
 * has opened it yet at point 1: nobody holds the other end, and the capture
 * used to refuse it as held by a process it could not see. The restart
 * opens the FIFO again with the reader's flags: the program sees what it saw
 * before (read gives end of file, poll no event: no hang-up, since no writer
 * came and went), and a client that opens the path then reaches it. At point
 * 2 that client is still open, with "again!" written: both ends in the
 * process. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The events poll reports for fd now (0: none), -1 on error. */
static int events_now(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n < 0 ? -1 : n == 0 ? 0 : p.revents;
}

/* The server's view with no writer: flags kept, no event, read gives end of file. */
static void waiting(int rd, const char *when)
{
    char what[128], t[8];
    int fl = fcntl(rd, F_GETFL);
    snprintf(what, sizeof what, "%s: the reader is O_RDONLY|O_NONBLOCK", when);
    crt_check(what, fl >= 0 && (fl & O_ACCMODE) == O_RDONLY && (fl & O_NONBLOCK), "flags 0%o", fl);
    int ev = events_now(rd);
    snprintf(what, sizeof what, "%s: poll reports nothing (no client yet, no hang-up)", when);
    crt_check(what, ev == 0, "revents 0x%x", (unsigned)ev);
    ssize_t n;
    while ((n = read(rd, t, sizeof t)) < 0 && errno == EINTR)
        ;
    snprintf(what, sizeof what, "%s: read gives end of file (no writer)", when);
    crt_check(what, n == 0, "read gave %zd (%s)", n, n < 0 ? strerror(errno) : "bytes");
}

static void takes(int rd, const char *word, const char *when)
{
    char what[128], t[16] = "";
    int ev = events_now(rd);
    ssize_t n;
    while ((n = read(rd, t, sizeof t)) < 0 && errno == EINTR)
        ;
    snprintf(what, sizeof what, "%s: the reader is readable and gives '%s'", when, word);
    crt_check(what, (ev & POLLIN) && n == (ssize_t)strlen(word) && !memcmp(t, word, strlen(word)),
              "revents 0x%x, read %zd '%.*s'", (unsigned)ev, n, (int)(n > 0 ? n : 0), t);
}

int main(void)
{
    if (mkfifo("fifo.wait", 0600) != 0 && errno != EEXIST)
        crt_die("mkfifo fifo.wait: %s", strerror(errno));
    int rd = open("fifo.wait", O_RDONLY | O_NONBLOCK);
    if (rd < 0)
        crt_die("opening fifo.wait: %s", strerror(errno));
    waiting(rd, "at start");

    crt_checkpoint_point(1);

    waiting(rd, "after point 1");
    /* the first client: it finds the server at the FIFO's path */
    int wr = open("fifo.wait", O_WRONLY | O_NONBLOCK);
    crt_check("a client opening the path finds the reader", wr >= 0, "open: %s", strerror(errno));
    if (wr < 0 || write(wr, "hello", 5) != 5)
        crt_die("the client cannot write: %s", strerror(errno));
    takes(rd, "hello", "after point 1");
    if (write(wr, "again!", 6) != 6)
        crt_die("the client cannot write again: %s", strerror(errno));

    crt_checkpoint_point(2);

    takes(rd, "again!", "after point 2");
    close(wr);
    int ev = events_now(rd);
    crt_check("the client gone, the reader sees the hang-up", (ev & POLLHUP) != 0, "revents 0x%x", (unsigned)ev);
    crt_finish();
}

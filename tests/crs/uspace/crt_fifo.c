/*
 * State test: FIFOs (named pipes) whose both ends the process holds (review
 * MEDIUM-5): fifo.rw opened once O_RDWR, holding 1500 bytes at point 1;
 * fifo.two opened twice, a non-blocking reader (with a dup) and a writer,
 * holding 2000 bytes. After point 1 the bytes come back in order, each
 * descriptor keeps its access and flags, and the FIFOs are still the ones
 * at their paths: a reader or writer opened by path now meets the restored
 * descriptors' pipe. At point 2 fifo.rw holds 3000 bytes and fifo.two
 * "second". Every flavour but busy (the original still holds the FIFOs, the
 * copy would share them: fifo_busy.sh checks that refusal).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char one[1500], two[2000], three[3000], got[4000];

static void make_fifo(const char *name)
{
    if (mkfifo(name, 0600) != 0 && errno != EEXIST)
        crt_die("mkfifo %s: %s", name, strerror(errno));
}

/* A descriptor opened on the FIFO's path now reaches the pipe of the held ones. */
static void meets(const char *name, int held, int held_reads, const char *when)
{
    char what[128], t[16] = "";
    int fd = open(name, (held_reads ? O_WRONLY : O_RDONLY) | O_NONBLOCK);
    ssize_t w = -1, n = -1;
    if (fd >= 0) {
        w = write(held_reads ? fd : held, when, 6);
        n = read(held_reads ? held : fd, t, sizeof t);
        close(fd);
    }
    snprintf(what, sizeof what, "%s: a %s opened by its path meets the held descriptors (%s)", name,
             held_reads ? "writer" : "reader", when);
    crt_check(what, fd >= 0 && w == 6 && n == 6 && !memcmp(t, when, 6), "open %d (%s), write %zd, read %zd '%.*s'",
              fd, fd < 0 ? strerror(errno) : "ok", w, n, (int)(n > 0 ? n : 0), t);
}

int main(void)
{
    make_fifo("fifo.rw");
    make_fifo("fifo.two");
    int rw = open("fifo.rw", O_RDWR);
    int rd = open("fifo.two", O_RDONLY | O_NONBLOCK);
    int wr = open("fifo.two", O_WRONLY);
    int rd_dup = dup(rd);
    if (rw < 0 || rd < 0 || wr < 0 || rd_dup < 0)
        crt_die("opening the FIFOs: %s", strerror(errno));
    crt_fill(one, sizeof one, 3);
    crt_fill(two, sizeof two, 5);
    crt_fill(three, sizeof three, 9);
    if (write(rw, one, sizeof one) != (ssize_t)sizeof one || write(wr, two, sizeof two) != (ssize_t)sizeof two)
        crt_die("filling the FIFOs: %s", strerror(errno));
    crt_say("fifo.rw holds %zu bytes, fifo.two %zu", sizeof one, sizeof two);

    crt_checkpoint_point(1);

    int fl = fcntl(rw, F_GETFL);
    crt_check("fifo.rw: still open read-write, blocking", (fl & O_ACCMODE) == O_RDWR && !(fl & O_NONBLOCK),
              "flags 0%o", fl);
    ssize_t n = crt_read_all(rw, got, sizeof one);
    crt_check("fifo.rw: gives back its 1500 bytes, in order", n == (ssize_t)sizeof one && !memcmp(got, one, sizeof one),
              "read %zd bytes%s", n, n == (ssize_t)sizeof one ? ", different ones" : "");
    fl = fcntl(rd, F_GETFL);
    int wfl = fcntl(wr, F_GETFL);
    crt_check("fifo.two: a non-blocking reader and a blocking writer",
              (fl & O_ACCMODE) == O_RDONLY && (fl & O_NONBLOCK) && (wfl & O_ACCMODE) == O_WRONLY && !(wfl & O_NONBLOCK),
              "reader flags 0%o, writer flags 0%o", fl, wfl);
    ssize_t a = crt_read_all(rd_dup, got, 500);
    ssize_t b = crt_read_all(rd, got + 500, sizeof two - 500);
    crt_check("fifo.two: gives back its 2000 bytes, in order (through the dup, then the reader)",
              a == 500 && b == (ssize_t)sizeof two - 500 && !memcmp(got, two, sizeof two), "read %zd + %zd bytes",
              a, b);
    char t[8];
    n = read(rd, t, sizeof t);
    crt_check("fifo.two: empty now, its writer still open (EAGAIN, not end of file)", n < 0 && errno == EAGAIN,
              "read gave %zd (%s)", n, n < 0 ? strerror(errno) : "data or end of file");
    meets("fifo.rw", rw, 1, "point1");
    meets("fifo.rw", rw, 0, "pointR");
    meets("fifo.two", rd, 1, "point1");
    if (write(rw, three, sizeof three) != (ssize_t)sizeof three || write(wr, "second", 6) != 6)
        crt_die("filling the FIFOs again: %s", strerror(errno));
    crt_say("fifo.rw holds %zu bytes, fifo.two 6", sizeof three);

    crt_checkpoint_point(2);

    n = crt_read_all(rw, got, sizeof three);
    crt_check("fifo.rw: gives back its 3000 bytes", n == (ssize_t)sizeof three && !memcmp(got, three, sizeof three),
              "read %zd bytes", n);
    n = crt_read_all(rd, got, 6);
    crt_check("fifo.two: gives back 'second'", n == 6 && !memcmp(got, "second", 6), "read %zd bytes", n);
    meets("fifo.two", rd, 1, "point2");
    crt_finish();
}

/*
 * State test: pipes whose both ends the process holds. A self-pipe holds 3000
 * bytes at checkpoint point 1 (read back through a dup of its read end and
 * the read end itself), a non-blocking pipe holds "xyz". After point 1
 * everything that was in the pipes must come out, in order, the non-blocking
 * pipe must still be non-blocking and the self-pipe must still work. At point
 * 2 the self-pipe holds "again" plus a full 64 KiB pipe buffer's worth of
 * bytes less one page, read back after it. Pipes with one end only, the
 * other closed everywhere (the popen pattern once the child has ended): one
 * holding 2000 bytes at point 1, which come back then end of file (at point
 * 2 too); one whose readers are gone, whose writes fail with EPIPE.
 * Contract: crt_common.h (was tests/restore/pipes).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BIG (60 * 1024)

static char msg[3000], big[BIG], got[BIG + 16], tail[2000];

int main(void)
{
    int a[2], b[2], w[2], r[2], a_dup, fl;
    ssize_t n, m;
    char t[8] = "";

    if (pipe(a) || pipe2(b, O_NONBLOCK))
        crt_die("pipe: %s", strerror(errno));
    a_dup = dup(a[0]);
    if (a_dup < 0)
        crt_die("dup: %s", strerror(errno));
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    if (write(a[1], msg, sizeof msg) != (ssize_t)sizeof msg || write(b[1], "xyz", 3) != 3)
        crt_die("cannot fill the pipes: %s", strerror(errno));
    /* one end each: the other closed everywhere */
    signal(SIGPIPE, SIG_IGN);
    crt_fill(tail, sizeof tail, 11);
    if (pipe(w) || pipe(r) || write(w[1], tail, sizeof tail) != (ssize_t)sizeof tail)
        crt_die("cannot make the one-ended pipes: %s", strerror(errno));
    close(w[1]);
    close(r[0]);
    crt_say("pipes filled");

    crt_checkpoint_point(1);

    n = crt_read_all(a_dup, got, 1000);
    m = crt_read_all(a[0], got + 1000, sizeof msg - 1000);
    crt_check("self-pipe gives back 3000 bytes, in order",
              n + m == (ssize_t)sizeof msg && !memcmp(got, msg, sizeof msg),
              "%zd + %zd bytes, %s", n, m,
              n + m == (ssize_t)sizeof msg ? "different bytes" : "a different count");
    n = read(b[0], t, sizeof t);
    crt_check("non-blocking pipe gives back 'xyz'", n == 3 && !memcmp(t, "xyz", 3),
              "read gave %zd: '%.*s'", n, (int)(n > 0 ? n : 0), t);
    n = read(b[0], t, sizeof t);
    fl = fcntl(b[0], F_GETFL);
    crt_check("and is still non-blocking", n < 0 && errno == EAGAIN && (fl & O_NONBLOCK),
              "read gave %zd (%s), flags 0%o", n, n < 0 ? strerror(errno) : "data", fl);
    n = write(a[1], "again", 5);
    m = crt_read_all(a[0], t, 5);
    crt_check("self-pipe still works", n == 5 && m == 5 && !memcmp(t, "again", 5),
              "write %zd, read %zd", n, m);

    n = crt_read_all(w[0], got, sizeof tail + 10);
    m = read(w[0], t, sizeof t);
    crt_check("a pipe without writers gives its 2000 bytes, then end of file",
              n == (ssize_t)sizeof tail && !memcmp(got, tail, sizeof tail) && m == 0,
              "read %zd bytes (%s), then %zd", n, n == (ssize_t)sizeof tail ? "different" : "a different count", m);
    n = write(r[1], "x", 1);
    crt_check("a pipe without readers refuses a write (EPIPE)", n < 0 && errno == EPIPE, "write gave %zd (%s)", n,
              n < 0 ? strerror(errno) : "written");

    /* point 2: a nearly full pipe buffer */
    crt_fill(big, sizeof big, 7);
    if (write(a[1], "again", 5) != 5 || write(a[1], big, sizeof big) != (ssize_t)sizeof big)
        crt_die("cannot fill the self-pipe: %s", strerror(errno));
    crt_say("self-pipe holds %d bytes", (int)(5 + sizeof big));

    crt_checkpoint_point(2);

    m = crt_read_all(a_dup, got, 5 + sizeof big);
    crt_check("self-pipe gives back 'again' and 60 KiB, in order",
              m == (ssize_t)(5 + sizeof big) && !memcmp(got, "again", 5) &&
                  !memcmp(got + 5, big, sizeof big),
              "read %zd bytes", m);
    n = read(w[0], t, sizeof t);
    crt_check("the pipe without writers still gives end of file", n == 0, "read gave %zd", n);
    n = write(r[1], "x", 1);
    crt_check("the pipe without readers still refuses a write", n < 0 && errno == EPIPE, "write gave %zd", n);
    crt_finish();
}

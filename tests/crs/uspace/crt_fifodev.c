/*
 * State test: two FIFOs (named pipes) with one inode number on two file
 * systems (review LOW-G). crs_fifo_dev.sh mounts two small tmpfs, whose first
 * files have the same inode number, and makes a FIFO on each: $CRT_FIFO_A and
 * $CRT_FIFO_B. The program holds each open read-write (non-blocking), with
 * 700 bytes in A and 900 in B at point 1, then "second" and "third!" at
 * point 2. Each FIFO must come back with its own bytes, and still be the one
 * at its path. Matched by inode alone, the capture made the two one pipe:
 * B's descriptor came back on A's FIFO, without its bytes.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char a_bytes[700], b_bytes[900], got[1000];

static void gives_back(const char *name, int fd, const char *want, size_t len)
{
    char what[128];
    ssize_t n = crt_read_all(fd, got, sizeof got);
    snprintf(what, sizeof what, "%s: gives back its own %zu bytes, and no more", name, len);
    crt_check(what, n == (ssize_t)len && !memcmp(got, want, len), "read %zd bytes%s", n,
              n == (ssize_t)len ? ", different ones" : "");
}

/* A writer opened by the FIFO's path now reaches the held descriptor. */
static void meets(const char *name, const char *path, int held, const char *word)
{
    char what[128], t[16] = "";
    int fd = open(path, O_WRONLY | O_NONBLOCK);
    ssize_t w = -1, n = -1;
    if (fd >= 0) {
        w = write(fd, word, 6);
        n = read(held, t, sizeof t);
        close(fd);
    }
    snprintf(what, sizeof what, "%s: a writer opened by its path meets the held descriptor", name);
    crt_check(what, fd >= 0 && w == 6 && n == 6 && !memcmp(t, word, 6), "open %d (%s), write %zd, read %zd '%.*s'",
              fd, fd < 0 ? strerror(errno) : "ok", w, n, (int)(n > 0 ? n : 0), t);
}

int main(void)
{
    const char *pa = getenv("CRT_FIFO_A"), *pb = getenv("CRT_FIFO_B");
    if (!pa || !pb)
        crt_die("CRT_FIFO_A and CRT_FIFO_B name the two FIFOs (crs_fifo_dev.sh)");
    struct stat sa, sb;
    if (stat(pa, &sa) != 0 || stat(pb, &sb) != 0 || !S_ISFIFO(sa.st_mode) || !S_ISFIFO(sb.st_mode))
        crt_die("%s and %s must be FIFOs: %s", pa, pb, strerror(errno));
    crt_check("the two FIFOs have one inode number on two file systems",
              sa.st_ino == sb.st_ino && sa.st_dev != sb.st_dev, "inodes %llu and %llu, devices %llx and %llx",
              (unsigned long long)sa.st_ino, (unsigned long long)sb.st_ino, (unsigned long long)sa.st_dev,
              (unsigned long long)sb.st_dev);
    int a = open(pa, O_RDWR | O_NONBLOCK), b = open(pb, O_RDWR | O_NONBLOCK);
    if (a < 0 || b < 0)
        crt_die("opening the FIFOs: %s", strerror(errno));
    crt_fill(a_bytes, sizeof a_bytes, 3);
    crt_fill(b_bytes, sizeof b_bytes, 7);
    if (write(a, a_bytes, sizeof a_bytes) != (ssize_t)sizeof a_bytes ||
        write(b, b_bytes, sizeof b_bytes) != (ssize_t)sizeof b_bytes)
        crt_die("filling the FIFOs: %s", strerror(errno));
    crt_say("A holds %zu bytes, B %zu", sizeof a_bytes, sizeof b_bytes);

    crt_checkpoint_point(1);

    gives_back("A", a, a_bytes, sizeof a_bytes);
    gives_back("B", b, b_bytes, sizeof b_bytes);
    meets("A", pa, a, "pointA");
    meets("B", pb, b, "pointB");
    if (write(a, "second", 6) != 6 || write(b, "third!", 6) != 6)
        crt_die("filling the FIFOs again: %s", strerror(errno));

    crt_checkpoint_point(2);

    gives_back("A", a, "second", 6);
    gives_back("B", b, "third!", 6);
    crt_finish();
}

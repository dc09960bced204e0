/*
 * crt_stdcopy READY GO: a program on a terminal whose standard input and output are the same
 * file (stdcopy_tty.sh, review MEDIUM-1b). It copies its standard output (dup(1)) and opens
 * /dev/stdin for reading, writes its pid to READY, waits until GO exists (the checkpoint is
 * taken meanwhile), then writes "through the copy of stdout" through the copy and reads
 * through the other. A restart whose standard input and output are different files must give
 * each its own stream: the capture cannot tell a dup(1) from a dup(0) of one terminal, and the
 * restart made every such copy a copy of standard input, where the write failed (EBADF on a
 * read-only /dev/null). It also keeps a copy of its standard input as a shell does
 * (saved_in = dup(0)), O_RDWR like the terminal, and reads through it last: the capture cannot
 * tell it from a dup(1), so at such a restart it is a copy of standard output (review
 * MEDIUM-F) and the line "read through dup(0): " and the error or the byte count says what
 * it is now. Exit 0, else 3 with the reason on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: crt_stdcopy READY GO\n");
        return 2;
    }
    int out = dup(1), in = open("/dev/stdin", O_RDONLY), saved_in = dup(0);
    if (out < 0 || in < 0 || saved_in < 0) {
        fprintf(stderr, "crt_stdcopy: dup(1), open /dev/stdin, dup(0): %s\n", strerror(errno));
        return 3;
    }
    FILE *r = fopen(argv[1], "w");
    if (!r || fprintf(r, "%d\n", (int)getpid()) < 0 || fclose(r)) {
        fprintf(stderr, "crt_stdcopy: %s: %s\n", argv[1], strerror(errno));
        return 3;
    }
    struct stat st;
    struct timespec d = { 0, 20 * 1000 * 1000 };
    for (int i = 0; stat(argv[2], &st) != 0; i++) {
        if (i > 3000) {
            fprintf(stderr, "crt_stdcopy: %s never appeared\n", argv[2]);
            return 3;
        }
        nanosleep(&d, NULL);
    }
    static const char line[] = "through the copy of stdout\n";
    if (write(out, line, sizeof line - 1) != (ssize_t)sizeof line - 1) {
        fprintf(stderr, "crt_stdcopy: a write through the copy of standard output (%d): %s\n", out,
                strerror(errno));
        return 3;
    }
    char buf[64];
    ssize_t n = read(in, buf, sizeof buf - 1);
    if (n < 0) {
        fprintf(stderr, "crt_stdcopy: a read through /dev/stdin opened (%d): %s\n", in,
                strerror(errno));
        return 3;
    }
    buf[n] = 0;
    printf("read %zd bytes through /dev/stdin opened%s%s", n, n ? ": " : "\n", buf);
    fflush(stdout);
    n = read(saved_in, buf, sizeof buf - 1);
    if (n < 0)
        printf("read through dup(0): %s\n", strerror(errno));
    else
        printf("read through dup(0): %zd bytes\n", n);
    return 0;
}

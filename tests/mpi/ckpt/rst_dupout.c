/* A rank that, once restarted, makes copies of its standard streams and writes through them
 * (rst_dupout.sh, review 13 M1):
 *
 *   rst_dupout STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *
 * Every rank computes a number per step; rank 0 prints "step S: SUM" and finally "done: SUM".
 * In a job restarted from a snapshot (rst_checkpoint_step returned 1) every rank makes, once,
 * a copy of its standard output (dup(1)) and opens /dev/stderr, and from then on rank 0
 * writes its lines through the copy and every rank a line per step through /dev/stderr. Both
 * are the files the restart gave the rank (the new launcher's), which a capture before the fix
 * did not know as inherited: the next snapshot was refused ("opened by the program, cannot be
 * checkpointed"). The copies are kept across that snapshot and the second restart. The lines
 * equal an uninterrupted run's. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rst_step.h"

const char rst_name[] = "rst_dupout";

static int out = -1, err = -1;   /* the copies, made after the first restart */

static void say(int fd, const char *line)
{
    if (fd < 0) {   /* before the first restart, and in the uninterrupted run */
        fputs(line, stdout);
        return;
    }
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len)
        rst_die("a write through a copy of a standard stream");
}

int main(int argc, char **argv)
{
    int rank, size;
    struct rst_args a = rst_start(&argc, &argv, 1, "", &rank, &size);
    long acc = 0;
    char line[128];
    for (int s = 0; s < a.steps; s++) {
        acc += (long)(rank + 1) * (s + 7) + acc % 13;
        long sum = rst_total(acc);
        if (rank == 0) {
            snprintf(line, sizeof line, "step %d: %ld\n", s, sum);
            say(out, line);
        }
        if (err >= 0) {
            snprintf(line, sizeof line, "rank %d: step %d through /dev/stderr\n", rank, s);
            say(err, line);
        }
        if (a.dir && (s == a.ckpt || s == a.ckpt2) && rst_checkpoint_step(a.dir, s, a.exit_after) == 1) {
            fprintf(stderr, "rank %d restarted at step %d\n", rank, s);
            if (out < 0) {
                out = dup(1);
                err = open("/dev/stderr", O_WRONLY | O_APPEND);
                if (out < 0 || err < 0)
                    rst_die("a copy of standard output or /dev/stderr");
            }
        }
    }
    long sum = rst_total(acc);
    if (rank == 0) {
        snprintf(line, sizeof line, "done: %ld\n", sum);
        say(out, line);
    }
    MPI_Finalize();
    return 0;
}

/* rst_stdio STEPS DIR MS: the program's own stdio buffers across a snapshot. After MPI_Init
 * (MPICH's makes stdout unbuffered) rank 0 makes stdout fully buffered with a buffer of 128
 * bytes of its own (a buffer left to glibc would stay the one byte MPICH's setbuf gave it,
 * natively too), and every rank opens DIR/rank_R.txt ("w") fully buffered with one of 100 bytes.
 * Each step every rank adds to an MPI_Allreduce, then rank 0 prints about 85 bytes to stdout and
 * every rank about 55 to its file, neither with a newline nor a flush: the library writes a
 * buffer out when it is full (from the second step on, every 1-2 steps), so at a snapshot
 * after the second step each buffer holds text not yet written, and some was written. The
 * restarted job must write exactly what the interrupted one had not: stdout of both generations
 * together, and each file, byte for byte an uninterrupted run's (the test compares).
 *
 * After each step rank 0 writes the step's number to DIR/progress (its own descriptor, opened
 * and closed each time: the test's only way to see how far the job is, since stdout waits in
 * the buffer); then each rank sleeps MS ms while DIR/pace exists (the test's snapshot comes
 * there). */
#include <mpi.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out_buf[128], file_buf[100];

static void progress(const char *dir, int step)
{
    char path[4096], s[32];
    snprintf(path, sizeof path, "%s/progress", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int n = snprintf(s, sizeof s, "%d\n", step);
    if (write(fd, s, (size_t)n) != n)
        perror("rst_stdio: progress");
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rst_stdio STEPS DIR MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]);
    const char *dir = argv[2];
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    if (me == 0 && setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf) != 0) {
        perror("rst_stdio: setvbuf");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char path[4096], pace[4096];
    snprintf(path, sizeof path, "%s/rank_%d.txt", dir, me);
    snprintf(pace, sizeof pace, "%s/pace", dir);
    FILE *f = fopen(path, "w");
    if (!f || setvbuf(f, file_buf, _IOFBF, sizeof file_buf) != 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    long long acc = me + 1;
    for (int s = 1; s <= steps; s++) {
        long long v = acc * 31 + s, sum = 0;
        MPI_Allreduce(&v, &sum, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        acc = (acc + sum) % 1000003;
        if (me == 0)
            printf("[step %d of %d on %d ranks: sum %lld, acc %lld; no newline, no flush, full "
                   "buffering] ", s, steps, n, sum, acc);
        fprintf(f, "<step %d: rank %d, acc %lld, in the file's buffer> ", s, me, acc);
        if (me == 0)
            progress(dir, s);
        if (ms > 0 && access(pace, F_OK) == 0)
            usleep((useconds_t)ms * 1000);
    }
    if (me == 0)
        printf("done: %d steps\n", steps);
    fclose(f);
    MPI_Finalize();
    return 0;
}

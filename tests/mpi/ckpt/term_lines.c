/* term_lines STEPS DIR [PACEFILE MS]: every rank writes one line per piece of work into its own
 * file DIR/rank_R.out (opened for appending before MPI_Init, one write(2) per line) from outside
 * MPI. A step is an MPI_Allreduce that ties the ranks together, then ten pieces of work with a
 * line after each (with PACEFILE: each piece sleeps MS/10 milliseconds while the file exists, so
 * a test's snapshot finds the ranks there, outside MPI, whatever the machine's speed, and a rank
 * let run on after its capture writes within milliseconds). A snapshot with "ckpt-mpirun --term"
 * ends the job at the snapshot's point: after the restart each file must hold the lines of an
 * uninterrupted run, none twice and none missing (term_lines.sh). Files, not stdout: Open MPI's
 * launcher forwards the ranks' output in pieces that lines of other ranks may cut. */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int out = -1;

static void put(const char *b, int n)
{
    if (n <= 0 || write(out, b, (size_t)n) != n) {
        perror("term_lines: write");
        exit(4);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: term_lines STEPS DIR [PACEFILE MS]\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    int steps = atoi(argv[1]);
    const char *pace = argc > 3 ? argv[3] : NULL;
    long ms = argc > 3 ? atol(argv[4]) : 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/rank_%d.out", argv[2], me);
    out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    long sum = 0;
    for (int step = 1; step <= steps; step++) {
        long v = (long)me * 1000 + step, s = 0;
        if (MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            MPI_Abort(MPI_COMM_WORLD, 3);
        sum = sum * 31 + s;
        /* the work between collectives: ten pieces, a line after each */
        for (int piece = 1; piece <= 10; piece++) {
            if (pace && access(pace, F_OK) == 0) {
                struct timespec ts = { ms / 10000, (ms % 10000) / 10 * 1000000L };
                nanosleep(&ts, NULL);
            }
            sum = sum * 7 + piece;
            char b[128];
            put(b, snprintf(b, sizeof b, "rank %d step %d.%d: %ld\n", me, step, piece, sum));
        }
    }
    char b[128];
    put(b, snprintf(b, sizeof b, "rank %d done: %ld\n", me, sum));
    close(out);
    MPI_Finalize();
    return 0;
}

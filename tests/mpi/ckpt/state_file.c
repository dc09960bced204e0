/* state_file STEPS PACEFILE MS FILE: each rank keeps its state between steps in the file
 * FILE.<rank> only, as Quantum ESPRESSO's pw.x keeps its MD state in outdir/PREFIX.md (newuser7e
 * F2): at each step it opens the file, reads the state, advances it, rewrites the file whole and
 * closes it, so the file is open at no snapshot and its bytes are in no image. Then an Allreduce
 * of the states; rank 0 prints each step's sum ("step N: SUM") and at the end "done: STEPS SUM".
 * The loop's step counter is memory, the state is the file's: a restart that finds the file as a
 * later run left it (a snapshot of a job that ran on, a second restart of one snapshot) goes on
 * from the wrong state, and its sums differ from an uninterrupted run's (state_file.sh).
 * The file holds the step that wrote it too: a rank that reads a step other than the one its
 * memory is at says so on its standard error ("... is not the one of its snapshot"): a restart
 * whose state file is not its image's (a file a rank rewrote after its capture: hold37, --stop).
 * Paced as rst_pace.h's programs (PACEFILE, MS).
 * With STATE_FILE_CHILD set, each rank also forks a child at the start that counts in its memory
 * and rewrites the count to FILE.<rank>.child every 2 ms (in place, one fixed-size record), reading
 * the file first: a count there that is neither the last one it wrote nor the one it is writing
 * is a file written past the child's image (a rank's child that ran on after its capture:
 * diffrev37 R-M2). It says so on its standard error and ends with status 3 when the rank ends
 * it (SIGUSR1, at the last step), and the rank then says so on its own standard error, with the
 * same words as a rank's own file ("... is not the one of its snapshot"). The sums are the same
 * with and without it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static int rank;

static void put(const char *path, uint64_t v, int step)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%" PRIu64 " %d\n", v, step) < 0 || fclose(f) != 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

/* The state the file holds; STEP: the step the rank's memory is at (the last one it wrote) */
static uint64_t get(const char *path, int step)
{
    uint64_t v = 0;
    int at = -1;
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%" SCNu64 " %d", &v, &at) != 2) {
        fprintf(stderr, "state_file: cannot read the state in %s\n", path);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    fclose(f);
    if (at != step)
        fprintf(stderr, "state_file: rank %d: %s holds step %d, the rank's memory is at step %d: the "
                "file is not the one of its snapshot\n", rank, path, at, step);
    return v;
}

static volatile sig_atomic_t child_end;

static void on_usr1(int sig)
{
    (void)sig;
    child_end = 1;
}

/* The child's loop (see the top): ends at SIGUSR1, with status 3 if it ever found its file
 * written past what it wrote. One fixed-size record written in place (pwrite at 0): a child
 * captured with the file open finds it at its path at a restart (a file renamed over it would
 * leave the restarted child a descriptor of a name that is gone). */
static void __attribute__((noreturn)) writer(const char *path)
{
    uint64_t last = 0, pending = 0; /* pending: set before the write, last after it */
    int bad = 0;
    struct timespec d = {0, 2 * 1000 * 1000};
    for (int first = 1; !child_end; first = 0) {
        char rec[32];
        if (!first) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            ssize_t got = fd >= 0 ? pread(fd, rec, 21, 0) : -1;
            if (fd >= 0)
                close(fd);
            uint64_t v = 0;
            rec[got == 21 ? 21 : 0] = 0;
            if (got == 21 && sscanf(rec, "%" SCNu64, &v) == 1 && v != last && v != pending) {
                if (!bad)
                    fprintf(stderr, "state_file: rank %d's child: %s holds %" PRIu64 ", the child wrote %" PRIu64
                            " last: the file is not the one of its snapshot\n", rank, path, v, last);
                bad = 1;
                last = pending = v;
            }
        }
        pending = last + 1;
        snprintf(rec, sizeof rec, "%020" PRIu64 "\n", pending);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || pwrite(fd, rec, 21, 0) != 21 || close(fd) != 0) {
            perror(path);
            _exit(4);
        }
        last = pending;
        nanosleep(&d, NULL);
    }
    _exit(bad ? 3 : 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc != 5) {
        if (rank == 0)
            fprintf(stderr, "usage: state_file STEPS PACEFILE MS FILE\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", argv[4], rank);
    put(path, (uint64_t)rank + 1, 0);
    pid_t child = -1;
    if (getenv("STATE_FILE_CHILD")) {
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s.child", path);
        signal(SIGUSR1, on_usr1);
        child = fork();
        if (child == 0)
            writer(cpath);
        if (child < 0) {
            perror("fork");
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
    }
    uint64_t sum = 0;
    for (int i = 1; i <= steps; i++) {
        /* the state: read, advanced (a 64-bit LCG step, the step and the rank mixed in), rewritten */
        uint64_t v = get(path, i - 1) * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)i * 31 +
                     (uint64_t)rank;
        put(path, v, i);
        MPI_Allreduce(&v, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: %" PRIu64 "\n", i, sum);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - i);
    }
    if (child > 0) {
        int st = 0;
        kill(child, SIGUSR1);
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fprintf(stderr, "state_file: rank %d: its child ended with status 0x%x: %s.child is not the one "
                    "of its snapshot (or the child failed)\n", rank, (unsigned)st, path);
    }
    if (rank == 0) {
        printf("done: %d %" PRIu64 "\n", steps, sum);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}

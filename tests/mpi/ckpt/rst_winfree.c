/* rst_winfree DIR free|allocate: a snapshot in which a rank is parked at the entry of
 * MPI_Win_free (MPI_Win_allocate) of a window of one rank (MPI_COMM_SELF's MPI_Win_allocate: on
 * Open MPI its memory is what the lower half's root served from a shared mapping,
 * src/pml_hooks/lower_winmem.c; on MPICH the layer's), while the other ranks compute before
 * freeing theirs; restarted, it frees the fresh library's window (makes one in the fresh
 * library) and goes on making and freeing such windows.
 *
 * Every rank holds one window of one rank from the start to the end. The odd ranks meanwhile
 * make windows in rounds: make one and fill it, check the one made before (still open) and free
 * it, compute 20 ms, until DIR/end exists and at least 3 rounds ran; the computing comes right
 * before the MPI_Win_free (free) or the MPI_Win_allocate (allocate). The even ranks compute
 * (wait for DIR/end) before their free. A window of one rank is counted on no clock, so a
 * snapshot parks the caller at such a call only when it comes while the gate is closed: the test
 * runs the job with fault point mpi-park-late, which parks an odd rank's threads for the image
 * 1 s after the gate closed; an odd rank's next MPI call after its computing is the call tested.
 * The test creates DIR/end after the snapshot, before the restart: a call that began without it
 * and returned with it spanned the snapshot (said on stderr). DIR/looping is made once an odd
 * rank's rounds run (the test waits for it before the snapshot).
 *
 * The step lines (every free's result, the windows' contents checked) and the last line are
 * compared with a native run's. */
#include <mpi.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { N = 1024 }; /* ints per window */

static const char *dir;

static int exists(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int wrong(const int *b, int v0)
{
    int bad = 0;
    for (int k = 0; k < N; k++)
        bad += b[k] != v0 + k;
    return bad;
}

static void fill(int *b, int v0)
{
    for (int k = 0; k < N; k++)
        b[k] = v0 + k;
}

static MPI_Win self_window(int **base)
{
    MPI_Win w;
    MPI_Win_allocate(N * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_SELF, base, &w);
    return w;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "free") && strcmp(argv[2], "allocate"))) {
        fprintf(stderr, "usage: rst_winfree DIR free|allocate\n");
        return 2;
    }
    dir = argv[1];
    int at_free = !strcmp(argv[2], "free");
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    int *held;
    MPI_Win hw = self_window(&held);
    fill(held, 100000 * me);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("step 1: rank %d of %d started\n", me, n);
    fflush(stdout);
    int bad = 0, spanned = 0, rc = MPI_SUCCESS, nulled = 1;
    if (me % 2) {
        MPI_Win cur = MPI_WIN_NULL;
        int *cb = NULL, ci = 0;
        for (int i = 0; i < 3 || !exists("end"); i++) {
            int *nb, before = 0;
            if (!at_free) {
                usleep(20000); /* computing, outside MPI: the gate closes here */
                before = exists("end");
            }
            MPI_Win nw = self_window(&nb);
            spanned += !at_free && !before && exists("end");
            fill(nb, 1000 * i + me);
            if (at_free)
                usleep(20000); /* computing, outside MPI: the gate closes here */
            if (cur != MPI_WIN_NULL) {
                bad += wrong(cb, 1000 * ci + me);
                before = exists("end");
                rc |= MPI_Win_free(&cur);
                nulled &= cur == MPI_WIN_NULL;
                spanned += at_free && !before && exists("end");
            }
            cur = nw;
            cb = nb;
            ci = i;
            if (i == 1) {
                char path[4096];
                snprintf(path, sizeof path, "%s/looping", dir);
                int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
                if (fd >= 0)
                    close(fd);
            }
        }
        bad += wrong(cb, 1000 * ci + me);
        rc |= MPI_Win_free(&cur);
        nulled &= cur == MPI_WIN_NULL;
    } else {
        while (!exists("end"))
            usleep(20000); /* computing before its free */
    }
    bad += wrong(held, 100000 * me);
    rc |= MPI_Win_free(&hw);
    nulled &= hw == MPI_WIN_NULL;
    if (spanned)
        fprintf(stderr, "rank %d: an %s of a window of one rank began before the snapshot and "
                "returned after the restart\n", me, at_free ? "MPI_Win_free" : "MPI_Win_allocate");
    printf("step 2: rank %d freed its windows of one rank (%s; contents wrong: %d)\n", me,
           rc == MPI_SUCCESS && nulled ? "every free succeeded" : "a free failed", bad);
    fflush(stdout);
    rc = MPI_Finalize();
    printf("done: rank %d finalized (%d)\n", me, rc);
    return rc != MPI_SUCCESS;
}

/* An MPI program for the global-snapshot tests (tests/snapc/mpi_ckpt.sh): collectives on
 * MPI_COMM_WORLD and on a split communicator (Bcast roots rotating, so ranks run ahead),
 * point-to-point in a ring, and a result that depends on every step. With "mpix K" every rank
 * calls MPIX_Checkpoint at step K and prints what it returned. With "hold FILE" the ranks stop
 * advancing halfway until FILE exists (rank 0 looks, and tells the others by Bcast), running
 * collectives and point to point that change nothing meanwhile: the test takes its snapshots
 * while the job surely runs, whatever the load, then lets it finish with the same result; rank 0
 * makes FILE.held when it gets there (every rank is past its start by then).
 * "mpix K" may come up to 8 times. With "seen DIR" each MPIX_Checkpoint line also says how many
 * committed sequences (snapshot.meta) DIR/revive_global_snapshot_*.ckpt held when the call
 * returned (tests/snapc/mpix_stage.sh: the call returns after the commit).
 * With "scratch BYTES" every rank keeps a scratch file of BYTES bytes in $TMPDIR open after
 * deleting it (the image must hold its bytes: tests/snapc/mpi_scratch.sh) and checks its bytes
 * at the end ("scratch ok" or "scratch BAD" from each rank).
 * With "mpiscratch BYTES" the ranks open mpiscratch.tmp (in the working folder) on MPI_COMM_WORLD
 * with MPI_MODE_DELETE_ON_CLOSE and write BYTES bytes into it, BYTES more when they reach the hold
 * (halfway: a snapshot taken earlier, "mpix K", holds a smaller file than one taken at the hold),
 * check them at the end ("mpiscratch ok" or "mpiscratch BAD" from each rank) and close it.
 * With "child BYTES" rank 0 forks a child at the start that keeps a scratch file of BYTES bytes
 * open after deleting it and waits for the rank's end of a pipe to close (at the end), then checks
 * its bytes: rank 0's image is a tree file holding the child's ("child ok" or "child BAD").
 * Usage: mpi_loop ITERS [mpix K]... [hold FILE] [seen DIR] [scratch BYTES] [mpiscratch BYTES]
 *        [child BYTES] */
#include <glob.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpix_ckpt.h"

/* "child BYTES": the child's scratch file, then its wait for EOF on fd; 0 when its bytes are right */
static int child_main(long bytes, int fd)
{
    FILE *f = tmpfile();
    for (long k = 0; f && k < bytes; k++)
        fputc((int)((k * 11 + 3) & 0xff), f);
    if (!f || fflush(f) != 0)
        return 2;
    char c;
    while (read(fd, &c, 1) != 0)
        ;
    long bad = 0, k = 0;
    rewind(f);
    for (int ch; (ch = fgetc(f)) != EOF; k++)
        bad += ch != (int)((k * 11 + 3) & 0xff);
    return bad || k != bytes;
}

/* Part p of rank r of mpiscratch.tmp: written (write 1, then synced), or read and checked
 * (write 0: the number of wrong bytes, chunk + 1 when the read failed). */
static long mpiscratch_part(MPI_File f, char *buf, long chunk, int r, int n, int p, int write)
{
    MPI_Offset at = ((MPI_Offset)p * n + r) * chunk;
    if (write) {
        for (long k = 0; k < chunk; k++)
            buf[k] = (char)((k * 13 + r + p * 5) & 0xff);
        if (MPI_File_write_at(f, at, buf, (int)chunk, MPI_BYTE, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
            MPI_File_sync(f) != MPI_SUCCESS) {
            fprintf(stderr, "rank %d: cannot write mpiscratch.tmp\n", r);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        return 0;
    }
    if (MPI_File_read_at(f, at, buf, (int)chunk, MPI_BYTE, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return chunk + 1;
    long bad = 0;
    for (long k = 0; k < chunk; k++)
        bad += buf[k] != (char)((k * 13 + r + p * 5) & 0xff);
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int r, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    long iters = argc > 1 ? atol(argv[1]) : 10000;
    long mpix_at[8];
    int nmpix = 0;
    const char *hold = NULL, *seen = NULL;
    long scratch = 0, mpiscratch = 0, child = 0;
    for (int a = 2; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "mpix") == 0 && nmpix < 8)
            mpix_at[nmpix++] = atol(argv[a + 1]);
        else if (strcmp(argv[a], "hold") == 0)
            hold = argv[a + 1];
        else if (strcmp(argv[a], "seen") == 0)
            seen = argv[a + 1];
        else if (strcmp(argv[a], "scratch") == 0)
            scratch = atol(argv[a + 1]);
        else if (strcmp(argv[a], "mpiscratch") == 0)
            mpiscratch = atol(argv[a + 1]);
        else if (strcmp(argv[a], "child") == 0)
            child = atol(argv[a + 1]);
    }
    /* before any file is open: the child holds none of the rank's */
    pid_t kid = -1;
    int kfd = -1;
    if (child > 0 && r == 0) {
        int p[2];
        if (pipe(p) != 0 || (kid = fork()) < 0) {
            fprintf(stderr, "rank %d: cannot fork the child\n", r);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        if (kid == 0) {
            close(p[1]);
            _exit(child_main(child, p[0]));
        }
        close(p[0]);
        kfd = p[1];
    }
    FILE *sf = NULL;
    if (scratch > 0) {
        /* tmpfile(): created in $TMPDIR (or /tmp), deleted at once, open until the end */
        sf = tmpfile();
        for (long k = 0; sf && k < scratch; k++)
            fputc((int)((k * 7 + r) & 0xff), sf);
        if (!sf || fflush(sf) != 0) {
            fprintf(stderr, "rank %d: cannot write the scratch file\n", r);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    /* mpiscratch.tmp: part p of rank r at ((p * n) + r) * chunk */
    MPI_File mf = MPI_FILE_NULL;
    long chunk = mpiscratch / n;
    char *mbuf = mpiscratch > 0 ? malloc((size_t)chunk + 1) : NULL;
    if (mpiscratch > 0) {
        if (!mbuf || MPI_File_open(MPI_COMM_WORLD, "mpiscratch.tmp",
                                   MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                                   MPI_INFO_NULL, &mf) != MPI_SUCCESS) {
            fprintf(stderr, "rank %d: cannot open mpiscratch.tmp\n", r);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        mpiscratch_part(mf, mbuf, chunk, r, n, 0, 1);
    }
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, r % 2, r, &half);
    double acc = 0;
    int held = 0, grown = 0;
    for (long i = 0; i < iters; i++) {
        if (mf != MPI_FILE_NULL && i == iters / 2 && !grown++) {
            /* before FILE.held: a snapshot at the hold holds the grown file */
            mpiscratch_part(mf, mbuf, chunk, r, n, 1, 1);
            MPI_Barrier(MPI_COMM_WORLD);
        }
        if (hold && i == iters / 2 && r == 0 && !held++) {
            /* FILE.held: every rank is past its start (scratch file made) and holds */
            char path[4096];
            snprintf(path, sizeof path, "%s.held", hold);
            FILE *h = fopen(path, "w");
            if (h)
                fclose(h);
        }
        while (hold && i == iters / 2) {
            int go = r == 0 && access(hold, F_OK) == 0;
            MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (go)
                break;
            double x = r, y, z;
            MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, half);
            MPI_Sendrecv(&x, 1, MPI_DOUBLE, (r + 1) % n, 8, &z, 1, MPI_DOUBLE, (r + n - 1) % n, 8,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            usleep(1000);
        }
        for (int k = 0; k < nmpix; k++) {
            if (i != mpix_at[k])
                continue;
            int flag = -1;
            int rc = MPIX_Checkpoint(&flag);
            char committed[32] = "";
            if (seen) {
                char pat[4096];
                snprintf(pat, sizeof pat, "%s/revive_global_snapshot_*.ckpt/*/snapshot.meta", seen);
                glob_t g;
                size_t nm = glob(pat, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
                globfree(&g);
                snprintf(committed, sizeof committed, " committed %zu", nm);
            }
            printf("rank %d: MPIX_Checkpoint %s flag %d%s\n", r, rc == MPI_SUCCESS ? "ok" : "error",
                   flag, committed);
            fflush(stdout);
        }
        double v = r + i * 0.5, s = 0;
        MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double b = s;
        MPI_Bcast(&b, 1, MPI_DOUBLE, (int)(i % n), MPI_COMM_WORLD);
        double hs;
        MPI_Allreduce(&b, &hs, 1, MPI_DOUBLE, MPI_MAX, half);
        int to = (r + 1) % n, from = (r + n - 1) % n;
        double sv = hs + r, rv;
        MPI_Sendrecv(&sv, 1, MPI_DOUBLE, to, 7, &rv, 1, MPI_DOUBLE, from, 7, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        acc += rv * 1e-6;
        if (i % 500 == 0)
            usleep(2000);
    }
    if (sf) {
        long bad = 0, k = 0;
        rewind(sf);
        for (int c; (c = fgetc(sf)) != EOF; k++)
            bad += c != (int)((k * 7 + r) & 0xff);
        printf("rank %d: scratch %s\n", r, bad || k != scratch ? "BAD" : "ok");
        fclose(sf);
    }
    if (mf != MPI_FILE_NULL) {
        long bad = mpiscratch_part(mf, mbuf, chunk, r, n, 0, 0) + mpiscratch_part(mf, mbuf, chunk, r, n, 1, 0);
        printf("rank %d: mpiscratch %s\n", r, bad ? "BAD" : "ok");
        MPI_File_close(&mf);
    }
    free(mbuf);
    if (kid > 0) {
        int st = 0;
        close(kfd);
        printf("rank %d: child %s\n", r,
               waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "BAD");
    }
    double tot;
    MPI_Reduce(&acc, &tot, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (r == 0)
        printf("result %.6f\n", tot);
    MPI_Comm_free(&half);
    MPI_Finalize();
    return 0;
}

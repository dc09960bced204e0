/* rst_finalize DIR [win|file]: a snapshot in which rank 1 is parked at the entry of MPI_Finalize
 * (the snapshot's WORLD target makes it pass the second barrier rank 0 already waits in, and it
 * stops at the next counted collective, MPI_Finalize), restarted: rank 1 must finalize through
 * the fresh lower half, not the address of the dead one it had read before the gate
 * (campaign-failures.md #11: SIGSEGV on Open MPI, status 11 on MPICH).
 * With win (file), the next counted collective is MPI_Win_free (MPI_File_close) of an object
 * made before the snapshot: the restarted rank 1 must free the fresh library's object, not the
 * one of the dead library whose handle it had read before the entry (campaign-failures.md #28:
 * Open MPI called the dead half's window free function). Two are made and the first freed, so
 * that the live one's handle in the fresh library (the replay makes only it) differs from the
 * old one's (MPICH's handles are numbers given out in order).
 * MPI_COMM_WORLD carries an attribute whose keyval has copy and delete callbacks: the library's
 * own duplicate of WORLD for each window (file) gets it through the copy callback, and freeing
 * the window (closing the file) deletes it; the deletes are printed (campaign-failures.md #29:
 * a window remade at the restart had no attribute, so its free called no delete callback).
 * Rank 1 comes to the second barrier once DIR/go exists, rank 0 finalizes once DIR/end exists
 * (the test creates them): the moments are the test's, not the machine's speed. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void wait_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++)
        usleep(100000);
}

static int copies, deletes;

static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag)
{
    (void)c, (void)kv, (void)extra;
    copies++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

static int delete_fn(MPI_Comm c, int kv, void *val, void *extra)
{
    (void)c, (void)kv, (void)val, (void)extra;
    deletes++;
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *obj = argc == 3 ? argv[2] : "";
    if ((argc != 2 && argc != 3) || (*obj && strcmp(obj, "win") && strcmp(obj, "file"))) {
        fprintf(stderr, "usage: rst_finalize DIR [win|file]\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("step 1: rank %d of %d started\n", me, n);
    fflush(stdout);
    int kv;
    static int attr = 42;
    MPI_Comm_create_keyval(copy_fn, delete_fn, &kv, NULL);
    MPI_Comm_set_attr(MPI_COMM_WORLD, kv, &attr);
    MPI_Win win[2];
    MPI_File fh[2];
    int *base[2];
    for (int k = 0; k < 2; k++) { /* two, the first freed: the second's handle is the next */
        if (!strcmp(obj, "win")) {
            MPI_Win_allocate(64 * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &base[k],
                             &win[k]);
            base[k][0] = 10 * k + me;
        } else if (!strcmp(obj, "file")) {
            char path[4096];
            snprintf(path, sizeof path, "%s/rst_finalize.%d.dat", argv[1], k);
            MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL,
                          &fh[k]);
            MPI_File_write_at(fh[k], me * (MPI_Offset)sizeof me, &me, 1, MPI_INT, MPI_STATUS_IGNORE);
        }
    }
    if (!strcmp(obj, "win"))
        MPI_Win_free(&win[0]);
    else if (!strcmp(obj, "file"))
        MPI_File_close(&fh[0]);
    if (me == 1)
        wait_file(argv[1], "go");
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        wait_file(argv[1], "end");
    printf("step 2: rank %d finalizes\n", me);
    fflush(stdout);
    if (!strcmp(obj, "win")) {
        int v = base[1][0];
        int rc = MPI_Win_free(&win[1]);
        printf("step 3: rank %d freed its window (%d, value %d; attribute copies %d, deletes %d)\n",
               me, rc, v, copies, deletes);
    } else if (!strcmp(obj, "file")) {
        int rc = MPI_File_close(&fh[1]);
        printf("step 3: rank %d closed its file (%d; attribute copies %d, deletes %d)\n", me, rc,
               copies, deletes);
    }
    fflush(stdout);
    int rc = MPI_Finalize();
    printf("done: rank %d finalized (%d)\n", me, rc);
    return rc != MPI_SUCCESS;
}

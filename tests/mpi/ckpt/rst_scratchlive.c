/* A scratch file (MPI_MODE_DELETE_ON_CLOSE) unchanged since a snapshot, restarted while the
 * original job still runs (rst_scratchlive.sh; diffrev44 R-H1):
 *
 *   rst_scratchlive FILE POKE STOP
 *
 * Every rank writes its 8 bytes into FILE (opened on MPI_COMM_WORLD) once, then, every 50 ms,
 * syncs and reads offset 0, rank 0 printing each new value it reads (and a restarted rank 0 its
 * first), marked "original" or "restarted" (its process id is not the one it started with). When POKE appears, the
 * original's rank 0 writes 9999 at offset 0. When STOP appears, both jobs end at the same step.
 * The restart must get a file of its own: the restarted job never reads 9999 (538ffbb9 gave it
 * the original's very file, whose bytes were the snapshot's: each job read the other's writes). */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int me, np;

#define CHECK(call) do { int rc_ = (call); if (rc_ != MPI_SUCCESS) { \
    fprintf(stderr, "rank %d: %s failed: %d (%s:%d)\n", me, #call, rc_, __FILE__, __LINE__); \
    MPI_Abort(MPI_COMM_WORLD, 2); } } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (argc != 4) {
        if (me == 0)
            fprintf(stderr, "usage: rst_scratchlive FILE POKE STOP\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    /* the kernel's answer, not a cache: the restarted rank is another process */
    const long started_as = syscall(SYS_getpid);
    MPI_File fh;
    CHECK(MPI_File_open(MPI_COMM_WORLD, argv[1],
                        MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL,
                        &fh));
    long v = 1000 + me, last = -1;
    int said_restarted = 0; /* 0 in the image: a restarted rank 0 says its first read */
    CHECK(MPI_File_write_at(fh, (MPI_Offset)me * 8, &v, 1, MPI_LONG, MPI_STATUS_IGNORE));
    CHECK(MPI_File_sync(fh));
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(MPI_File_sync(fh));
    if (me == 0) {
        printf("ready\n");
        fflush(stdout);
    }
    for (int step = 0; step < 2400; step++) { /* 120 s at most */
        usleep(50000);
        const int restarted = syscall(SYS_getpid) != started_as;
        int flags[2] = {0, 0}; /* poke, stop */
        if (me == 0) {
            flags[0] = !restarted && access(argv[2], F_OK) == 0 && unlink(argv[2]) == 0;
            flags[1] = access(argv[3], F_OK) == 0;
        }
        CHECK(MPI_Bcast(flags, 2, MPI_INT, 0, MPI_COMM_WORLD));
        if (flags[0] && me == 0) {
            v = 9999;
            CHECK(MPI_File_write_at(fh, 0, &v, 1, MPI_LONG, MPI_STATUS_IGNORE));
            printf("original: wrote 9999\n");
            fflush(stdout);
        }
        CHECK(MPI_File_sync(fh));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_File_sync(fh));
        long r = 0;
        CHECK(MPI_File_read_at(fh, 0, &r, 1, MPI_LONG, MPI_STATUS_IGNORE));
        if (me == 0 && (r != last || restarted != said_restarted)) {
            printf("%s: reads %ld\n", restarted ? "restarted" : "original", r);
            fflush(stdout);
            last = r;
            said_restarted = restarted;
        }
        if (flags[1])
            break;
    }
    MPI_File_close(&fh); /* the second job's delete finds the path gone: not looked at */
    MPI_Finalize();
    return 0;
}

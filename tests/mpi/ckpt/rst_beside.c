/* rst_beside STEPS PACEFILE MS SHMNAME [listen]: a job whose ranks share a POSIX shared memory
 * object (shm_open SHMNAME by every rank, mmap MAP_SHARED) and count in it: each step every rank
 * adds its own number to its slot and 1 to a counter of the node's ranks, and rank 0 prints
 * "step S: SUM COUNT" after a barrier. SHMNAME "-": each rank counts in memory of its own and
 * rank 0 adds them up with MPI_Reduce (the same lines). With "listen" each rank also holds a TCP
 * listening socket on loopback (a port the kernel chose) from start to end, never accepting.
 * For rst_beside.sh: a restart-mpi beside the still running original must never share the
 * original's object (both counted each other's steps and printed wrong totals, exit 0: review 13
 * HIGH-13) nor blame TIME-WAIT for an address the original still holds (MEDIUM-7). The ranks of
 * one job share the object (one counter for all): their restart must share it again. While
 * PACEFILE.hold exists the ranks wait in MPI_Bcast before their next step, the object untouched.
 * Rank 0 removes the object once every rank is done. */
#define _GNU_SOURCE
#include "rst_pace.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define SLOTS 64

static void die(const char *what)
{
    perror(what);
    MPI_Abort(MPI_COMM_WORLD, 3);
}

static int listener(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4))
        die("rst_beside: listen");
    return l;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: rst_beside STEPS PACEFILE MS SHMNAME [listen]\n");
        return 2;
    }
    struct rst_run r = rst_begin(&argc, &argv, "rst_beside");
    if (r.np > SLOTS - 1)
        die("rst_beside: at most 63 ranks");
    const char *name = argv[4];
    int l = argc > 5 && !strcmp(argv[5], "listen") ? listener() : -1;
    int own = !strcmp(name, "-"), fd = -1;
    if (!own && r.me == 0 &&
        ((fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 || ftruncate(fd, SLOTS * sizeof(uint64_t)) != 0))
        die("rst_beside: shm_open (rank 0)");
    MPI_Barrier(MPI_COMM_WORLD);
    if (!own && r.me != 0 && (fd = shm_open(name, O_RDWR, 0)) < 0)
        die("rst_beside: shm_open");
    uint64_t *slot = mmap(NULL, SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                          own ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
    if (slot == MAP_FAILED)
        die("rst_beside: mmap");
    if (fd >= 0)
        close(fd);
    /* PACEFILE.hold: while it exists the ranks wait in MPI (safe points for a snapshot) and leave
     * the object alone, so a snapshot taken then holds the same object bytes in every rank's
     * image, whenever each image is written (the job runs on after a snapshot) */
    char hold[4096];
    snprintf(hold, sizeof hold, "%s.hold", r.pace);
    for (int s = 0; s < r.steps; s++) {
        for (;;) {
            int held = r.me == 0 && access(hold, F_OK) == 0;
            MPI_Bcast(&held, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (!held)
                break;
            usleep(50000);
        }
        __atomic_fetch_add(&slot[r.me], (uint64_t)(s + 1) * (uint64_t)(r.me + 1), __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&slot[SLOTS - 1], 1, __ATOMIC_SEQ_CST);
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t sum = 0, count = __atomic_load_n(&slot[SLOTS - 1], __ATOMIC_SEQ_CST);
        if (own) {
            uint64_t mine[2] = { slot[r.me], count }, all[2];
            MPI_Reduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
            sum = all[0];
            count = all[1];
        } else {
            for (int k = 0; k < r.np; k++)
                sum += __atomic_load_n(&slot[k], __ATOMIC_SEQ_CST);
        }
        if (r.me == 0) {
            printf("step %d: %llu %llu\n", s, (unsigned long long)sum, (unsigned long long)count);
            fflush(stdout);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        rst_pace(r.pace, r.ms, r.steps - s - 1);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (r.me == 0) {
        printf("done: %d steps\n", r.steps);
        if (!own)
            shm_unlink(name);
    }
    if (l >= 0)
        close(l);
    MPI_Finalize();
    return 0;
}

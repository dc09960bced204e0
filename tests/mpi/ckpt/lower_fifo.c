/* lower_fifo FIFO: rank 0's main thread opens FIFO (nobody writes to it yet) with MPI_File_open
 * on MPI_COMM_SELF, read only: the MPI library's open(2) waits inside its lower half until a
 * writer comes. Meanwhile another thread of rank 0 forks (outside MPI, the child ends at once)
 * one second after "ready" and says how long its fork took ("forked in S s"). lower_fifo.sh
 * checks that fork and checkpoints the job meanwhile, then writes to the FIFO. Every rank ends
 * with "rank R done, open ERR" (ERR: 0 when the open succeeded). diffrev33 R-L7: the library's
 * open ran inside a fork guard section (lower_root.c), which held every fork of the application
 * (and a checkpoint's park) until the writer came. */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *forker(void *arg)
{
    (void)arg;
    sleep(1); /* the main thread waits in the library's open by then */
    double t0 = now();
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    double t = now() - t0;
    if (p > 0)
        waitpid(p, NULL, 0);
    printf("forked in %.2f s\n", t);
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    int level, rank, err = -1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0 && argc > 1) {
        pthread_t t;
        pthread_create(&t, NULL, forker, NULL);
        printf("ready\n");
        fflush(stdout);
        MPI_File f;
        err = MPI_File_open(MPI_COMM_SELF, argv[1], MPI_MODE_RDONLY, MPI_INFO_NULL, &f);
        if (err == MPI_SUCCESS)
            MPI_File_close(&f);
        pthread_join(t, NULL);
    }
    MPI_Bcast(&err, 1, MPI_INT, 0, MPI_COMM_WORLD);
    printf("rank %d done, open %d\n", rank, err);
    MPI_Finalize();
    return 0;
}

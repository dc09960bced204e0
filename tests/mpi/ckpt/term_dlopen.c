/* term_dlopen STEPS [PACEFILE MS]: rank 0 prints "step I: SUM" after an Allreduce per step while a
 * second thread of every rank loads and unloads a library in a loop, so a snapshot very likely
 * finds it inside dlopen or dlclose, owning ld.so's lock (term_dlopen.sh). While PACEFILE exists
 * each step waits MS ms, so the job cannot end before its checkpoint however loaded the machine.
 * The step lines do not depend on the loader thread. */
#include <dlfcn.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;

static void *loader(void *arg)
{
    (void)arg;
    while (!stop) {
        void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
        if (h)
            dlclose(h);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int prov, me;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 60;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    pthread_t t;
    if (pthread_create(&t, NULL, loader, NULL) != 0) {
        fprintf(stderr, "term_dlopen: cannot start the loader thread\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int i = 0; i < steps; i++) {
        int x = i + me, s = 0;
        MPI_Allreduce(&x, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", i, s);
            fflush(stdout);
        }
        if (pace && ms > 0 && access(pace, F_OK) == 0) {
            struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&d, NULL);
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

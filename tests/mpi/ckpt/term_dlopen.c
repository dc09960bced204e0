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

#include "rst_pace.h"

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
    return rst_paced_thread_main(argc, argv, "term_dlopen", "the loader thread", loader, &stop,
                                 NULL);
}

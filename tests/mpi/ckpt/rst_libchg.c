/* rst_libchg LIB [STEPS [PACEFILE MS]]: every rank loads the library LIB (a copy the test owns)
 * and keeps it mapped, then runs the paced steps of rst_pace.h (rank 0: "step I: SUM"). The
 * test changes LIB after a snapshot, so that the restored ranks refuse it ("changed since the
 * checkpoint"): rst_libchg.sh. The lines do not depend on LIB. */
#include <dlfcn.h>
#include <fcntl.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static volatile int stop;

static void *idle(void *arg)
{
    (void)arg;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rst_libchg LIB [STEPS [PACEFILE MS]]\n");
        return 2;
    }
    if (!dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) {
        fprintf(stderr, "rst_libchg: %s\n", dlerror());
        return 2;
    }
    /* RST_LIBCHG_NOID: a second library, linked without a build id (code all the same) */
    const char *noid = getenv("RST_LIBCHG_NOID");
    if (noid && !dlopen(noid, RTLD_NOW | RTLD_LOCAL)) {
        fprintf(stderr, "rst_libchg: %s\n", dlerror());
        return 2;
    }
    /* RST_LIBCHG_DATA: a data file mapped read-only, as a job maps its input */
    const char *data = getenv("RST_LIBCHG_DATA");
    if (data) {
        int fd = open(data, O_RDONLY | O_CLOEXEC);
        const volatile char *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            fprintf(stderr, "rst_libchg: cannot map %s\n", data);
            return 2;
        }
        (void)m[0];
        close(fd);
    }
    argv[1] = argv[0]; /* the paced main takes STEPS PACEFILE MS */
    return rst_paced_thread_main(argc - 1, argv + 1, "rst_libchg", "its thread", idle, &stop, NULL);
}

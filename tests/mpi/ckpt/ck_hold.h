/* ck_hold(FILE): waits (outside MPI) until FILE exists, at most 10 minutes. cke2e.sh gives the
 * programs a FILE so that the job cannot reach MPI_Finalize before the test has taken its
 * snapshots (at low load the whole run can end between two requests); a rank waiting here has
 * done every collective of the program, so a checkpoint converges and is taken with the ranks
 * here. Without FILE (the native run, ckcompare.sh) nothing waits. Prints nothing: the output
 * stays comparable with the native run's. */
#ifndef TESTS_MPI_CKPT_CK_HOLD_H
#define TESTS_MPI_CKPT_CK_HOLD_H
#include <time.h>
#include <unistd.h>

static __attribute__((unused)) void ck_hold(const char *file)
{
    if (!file || !*file)
        return;
    struct timespec d = { 0, 20 * 1000 * 1000 };
    for (int i = 0; i < 30000 && access(file, F_OK) != 0; i++)
        nanosleep(&d, NULL);
}
#endif

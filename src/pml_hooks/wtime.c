/* MPI_Wtime across a restart. Open MPI 4.1's MPI_Wtime counts from an origin its MPI_Init
 * takes (CLOCK_MONOTONIC then), so a fresh lower half after a restart started again from 0: a
 * time measured across the restart came out negative (measured: 1.6 s before, 0.0 after; hpcc's
 * PTRANS then reported -1 for every result). MPI_Wtime is a clock that does not go back while
 * the process lives, and the restarted process is the same process to the application: the
 * layer keeps it going, as if the process had been stopped from the checkpoint to the restart.
 * At the checkpoint the application's MPI_Wtime and the wall clock are saved (in the image);
 * after the restart the offset makes MPI_Wtime the saved value plus the wall-clock time passed
 * since. MPICH's MPI_Wtime (CLOCK_MONOTONIC, no origin) gets an offset near 0 on the same host.
 * That is the default, REVIVE_WTIME=wall: MPI_Wtime is elapsed wall-clock time (MPI 4.0, 9.6),
 * and a code that checks a wall-clock budget must see the time the job was down (DMTCP and
 * MANA leave the clocks alone too: a restarted process's CLOCK_MONOTONIC and gettimeofday are
 * the host's). REVIVE_WTIME=continuous in restart-mpi's environment leaves the downtime out:
 * MPI_Wtime goes on from its value at the checkpoint, for a code that times its own steps
 * (newuser50 M4: the step across the restart took the downtime). restart-mpi refuses another
 * value before the launch. */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"
#include "pml_hooks/restart.h"

#include <string.h>
#include <time.h>

static double offset;          /* added to the lower half's MPI_Wtime */
static double ck_wtime, ck_wall; /* at the last checkpoint: MPI_Wtime as the application saw it, wall clock */

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void pml_wtime_checkpoint(void)
{
    ck_wtime = pml_L.MPI_Wtime() + offset;
    ck_wall = wall();
}

void pml_wtime_restarted(void)
{
    double passed = wall() - ck_wall;
    if (passed < 0)
        passed = 0; /* the wall clock was set back: no time passed, never backwards */
    const char *how = pml_restart_getenv("REVIVE_WTIME"); /* the restart's, not the image's */
    if (how && !strcmp(how, "continuous"))
        passed = 0;
    offset = ck_wtime + passed - pml_L.MPI_Wtime();
}

double MPI_Wtime(void)
{
    if (__builtin_expect(pml_L.MPI_Wtime == NULL, 0))
        return (double)pml_not_ready("MPI_Wtime");
    PML_GATE_ENTER(PML_FID_MPI_Wtime);
    double rv = pml_L.MPI_Wtime() + offset;
    PML_GATE_LEAVE();
    return rv;
}
double PMPI_Wtime(void) __attribute__((alias("pml_own_MPI_Wtime")));

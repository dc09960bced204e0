/* MPI_T across global snapshots and two restarts with a performance variable of a 300-byte name
 * that is not continuous (mpit_long.sh; the stand-in library mpit_shim.c has it):
 *
 *   mpit_long STEPS CKPT_STEP CKPT_STEP2
 *
 * The variable is found by its index (its name read whole, 512 bytes of room), a handle of it is
 * made in a session and started at step 0; every step reads it (1: started), and at step 5 it
 * is stopped (reads 0 from then on). Rank 0 prints one line per step. A restart must find the
 * variable again by its whole name (the layer cut names to 255 bytes: MPI_T_ERR_INVALID_HANDLE,
 * status 5) and start the started handle again (else it reads 0 after the restart). */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#include <string.h>

#define T(call)                                                                                   \
    do {                                                                                          \
        int rct_ = (call);                                                                        \
        if (rct_ != MPI_SUCCESS) {                                                                \
            fprintf(stderr, "rank %d: %s: error %d (line %d)\n", me, #call, rct_, __LINE__);     \
            exit(5);                                                                              \
        }                                                                                         \
    } while (0)

int main(int argc, char **argv)
{
    int provided, n, pi = -1, count;
    T(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    struct mpi4_run run = mpi4_start(&argc, &argv, "mpit_long");
    char name[512];
    int nl = 0;
    T(MPI_T_pvar_get_num(&n));
    for (int i = 0; i < n && pi < 0; i++) {
        int verb, cls, bind, ro, cont, at, dl = 0;
        MPI_Datatype dt;
        MPI_T_enum en;
        nl = sizeof name;
        if (MPI_T_pvar_get_info(i, name, &nl, &verb, &cls, &dt, &en, NULL, &dl, &bind, &ro,
                                &cont, &at) == MPI_SUCCESS &&
            !strncmp(name, "revive_test_long_pvar_", 22) && !cont)
            pi = i;
    }
    if (pi < 0) {
        fprintf(stderr, "rank %d: no test variable (the shim is not loaded)\n", me);
        exit(4);
    }
    MPI_T_pvar_session ses;
    MPI_T_pvar_handle h;
    T(MPI_T_pvar_session_create(&ses));
    T(MPI_T_pvar_handle_alloc(ses, pi, NULL, &h, &count));
    T(MPI_T_pvar_start(ses, h));
    for (int s = 0; s < run.steps; s++) {
        if (s == 5)
            T(MPI_T_pvar_stop(ses, h));
        mpi4_ckpt_step(&run, s);
        unsigned long long v = 99;
        T(MPI_T_pvar_read(ses, h, &v));
        long on = mpi4_sum(v == 1);
        if (me == 0)
            printf("step %d: variable of a %d-byte name reads started on %ld of %d ranks\n", s,
                   (int)strlen(name), on, np);
    }
    T(MPI_T_pvar_handle_free(ses, &h));
    T(MPI_T_pvar_session_free(&ses));
    T(MPI_T_finalize());
    if (me == 0)
        printf("done: %d steps\n", run.steps);
    MPI_Finalize();
    return 0;
}

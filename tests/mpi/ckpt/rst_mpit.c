/* MPI_T, the tool information interface, across global snapshots and two restarts (rst_mpi4.sh
 * FLAVOR rst_mpit, both MPIs):
 *
 *   rst_mpit STEPS CKPT_STEP CKPT_STEP2
 *
 * MPI_T initialised twice before MPI_Init; before MPI_Init a control variable W (one MPI_Init
 * does not use: Open MPI's compress_bzip_priority, MPICH's
 * MPIR_CVAR_GATHER_INTER_SHORT_MSG_SIZE) is written to its default + 17 through a handle the
 * program keeps; a pvar session is made at step 0 and kept open across every snapshot (with a
 * handle of a performance variable bound to MPI_COMM_WORLD, started, where the library has one:
 * Open MPI's pml_ob1_unexpected_msgq_length; MPICH 4.0 has no pvar), and MPI_T_PVAR_ALL_HANDLES
 * started then and stopped after the steps (MPICH's is a variable of the library, the layer's
 * translation of it is used only there); the enumeration of the first
 * control variable that has one is kept from before MPI_Init. Every step reads W through the
 * kept handle, asks the kept enumeration its name and size, reads the pvar, counts the cvars and
 * categories; step 3 writes W again (default + 3 + 17). Rank 0 prints one line per step, the
 * values of the calls that do not depend on timing. After the steps: the handle, session and
 * enumeration freed, MPI_T finalized once before MPI_Finalize and once after it (Open MPI 4.1
 * dies natively of SIGSEGV in an MPI_T_finalize after MPI_Finalize: there both come before it),
 * and a third MPI_T_finalize must say MPI_T is not initialised.
 *
 * Before mpit.c every MPI_T call stopped the job ("MPI_T_init_thread is not supported under
 * Revive yet": newuser12 F2). A restart that did not write W again would read the fresh
 * library's default; one that handed the program's old handles to the fresh library would crash
 * or fail the calls. */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#ifdef OPEN_MPI
#define W_NAME "compress_bzip_priority"
#define P_NAME "pml_ob1_unexpected_msgq_length"
/* a boolean (MPI_C_BOOL in Open MPI 4.1) written before MPI_Init: its write was not kept, and a
 * restart read the fresh library's default (diffrev43 R-H1) */
#define B_NAME "shmem_mmap_enable_nfs_warning"
#else
#define B_NAME NULL
#define W_NAME "MPIR_CVAR_GATHER_INTER_SHORT_MSG_SIZE"
#define P_NAME NULL
#endif

#define T(call)                                                                                   \
    do {                                                                                          \
        int rct_ = (call);                                                                        \
        if (rct_ != MPI_SUCCESS) {                                                                \
            fprintf(stderr, "rank %d: %s: error %d (line %d)\n", me, #call, rct_, __LINE__);     \
            exit(5);                                                                              \
        }                                                                                         \
    } while (0)

/* the first control variable with an enumeration, and that enumeration */
static MPI_T_enum first_enum(void)
{
    int n;
    T(MPI_T_cvar_get_num(&n));
    for (int i = 0; i < n; i++) {
        char name[256];
        int nl = sizeof name, verb, bind, scope, dl = 0;
        MPI_Datatype dt;
        MPI_T_enum en = MPI_T_ENUM_NULL;
        if (MPI_T_cvar_get_info(i, name, &nl, &verb, &dt, &en, NULL, &dl, &bind, &scope) ==
                MPI_SUCCESS && en != MPI_T_ENUM_NULL)
            return en;
    }
    return MPI_T_ENUM_NULL;
}

int main(int argc, char **argv)
{
    int provided, wi, count, w0 = 0, w;
    T(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    T(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)); /* nested */
    MPI_T_cvar_handle wh;
    T(MPI_T_cvar_get_index(W_NAME, &wi));
    {
        char name[256];
        int nl = sizeof name, verb, bind, scope, dl = 0;
        MPI_Datatype dt;
        MPI_T_enum en;
        T(MPI_T_cvar_get_info(wi, name, &nl, &verb, &dt, &en, NULL, &dl, &bind, &scope));
        if (dt != MPI_INT || bind != MPI_T_BIND_NO_OBJECT || strcmp(name, W_NAME)) {
            fprintf(stderr, "%s: not an int bound to no object (%s)\n", W_NAME, name);
            exit(5);
        }
    }
    T(MPI_T_cvar_handle_alloc(wi, NULL, &wh, &count));
    T(MPI_T_cvar_read(wh, &w0));
    w = w0 + 17;
    T(MPI_T_cvar_write(wh, &w));
    MPI_T_enum en = first_enum();
    /* an int buffer read as bool or int alike: the library stores one byte or a whole int */
    int b0 = 0, b = 0, bi;
    MPI_T_cvar_handle bh = MPI_T_CVAR_HANDLE_NULL;
    if (B_NAME) {
        T(MPI_T_cvar_get_index(B_NAME, &bi));
        T(MPI_T_cvar_handle_alloc(bi, NULL, &bh, &count));
        T(MPI_T_cvar_read(bh, &b0));
        b = !(b0 & 0xff);
        T(MPI_T_cvar_write(bh, &b));
    }

    struct mpi4_run run = mpi4_start(&argc, &argv, "rst_mpit");
    MPI_T_pvar_session ses;
    MPI_T_pvar_handle ph = MPI_T_PVAR_HANDLE_NULL;
    int ncvar0, ncat0, pi = -1;
    T(MPI_T_cvar_get_num(&ncvar0));
    T(MPI_T_category_get_num(&ncat0));
    T(MPI_T_pvar_session_create(&ses));
    if (P_NAME && MPI_T_pvar_get_index(P_NAME, MPI_T_PVAR_CLASS_SIZE, &pi) == MPI_SUCCESS) {
        MPI_Comm world = MPI_COMM_WORLD;
        T(MPI_T_pvar_handle_alloc(ses, pi, &world, &ph, &count));
    }
    /* continuous: started already; MPI_T_PVAR_ALL_HANDLES starts every other (MPICH: none) */
    int rc = MPI_T_pvar_start(ses, MPI_T_PVAR_ALL_HANDLES);
    if (rc != MPI_SUCCESS && rc != MPI_T_ERR_PVAR_NO_STARTSTOP) {
        fprintf(stderr, "rank %d: MPI_T_pvar_start(MPI_T_PVAR_ALL_HANDLES): error %d\n", me, rc);
        exit(5);
    }
    for (int s = 0; s < run.steps; s++) {
        if (s == 3) {
            w = w0 + 3 + 17;
            T(MPI_T_cvar_write(wh, &w));
        }
        mpi4_ckpt_step(&run, s);
        int got = -1, n, ncvar, ncat, num = -1;
        char ename[256] = "-";
        T(MPI_T_cvar_read(wh, &got));
        int bgot = 0;
        if (B_NAME)
            T(MPI_T_cvar_read(bh, &bgot));
        if (en != MPI_T_ENUM_NULL) {
            n = sizeof ename;
            T(MPI_T_enum_get_info(en, &num, ename, &n));
        }
        /* room to spare: Open MPI 4.1 writes more than an unsigned for this MPI_UNSIGNED variable */
        unsigned long long pv[8];
        if (ph != MPI_T_PVAR_HANDLE_NULL)
            T(MPI_T_pvar_read(ses, ph, pv));
        T(MPI_T_cvar_get_num(&ncvar));
        T(MPI_T_category_get_num(&ncat));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        long bok = mpi4_sum(!B_NAME || (bgot & 0xff) == b);
        long ok = mpi4_sum(got == w), same = mpi4_sum(ncvar == ncvar0 && ncat == ncat0);
        if (me == 0)
            printf("step %d: %s = default + %d on %ld of %d ranks; enumeration %s of %d; pvar %s; "
                   "cvar and category counts as at the start on %ld ranks; the boolean as "
                   "written on %ld\n",
                   s, W_NAME, got - w0, ok, np, ename, num, pi < 0 ? "none" : "read", same, bok);
    }
    rc = MPI_T_pvar_stop(ses, MPI_T_PVAR_ALL_HANDLES); /* a session made again after a restart */
    if (rc != MPI_SUCCESS && rc != MPI_T_ERR_PVAR_NO_STARTSTOP) {
        fprintf(stderr, "rank %d: MPI_T_pvar_stop(MPI_T_PVAR_ALL_HANDLES): error %d\n", me, rc);
        exit(5);
    }
    if (ph != MPI_T_PVAR_HANDLE_NULL)
        T(MPI_T_pvar_handle_free(ses, &ph));
    T(MPI_T_pvar_session_free(&ses));
    T(MPI_T_cvar_handle_free(&wh));
    if (B_NAME)
        T(MPI_T_cvar_handle_free(&bh));
    T(MPI_T_finalize());
#ifdef OPEN_MPI
    T(MPI_T_finalize());
    MPI_Finalize();
#else
    MPI_Finalize();
    T(MPI_T_finalize()); /* MPI_T may outlive MPI (MPI-3.1 14.3.4) */
#endif
    rc = MPI_T_finalize();
    if (me == 0)
        printf("done: %d steps; MPI_T_finalize once more: %s\n", run.steps,
               rc == MPI_T_ERR_NOT_INITIALIZED ? "not initialized" : "another answer");
    return 0;
}

/* The pace of the rank programs whose tests take a snapshot in the middle of their run
 * (term_threads, term_dlopen, rst_popen, rst_fresh, rst_heap, rst_comms: arguments ... PACEFILE
 * MS): each step ends in rst_pace, so that the steps are slow while the test's pace file exists
 * and run free once the test has removed it, as in the native run, which is given a file that
 * does not exist. Before its last step a rank waits for as long as the file exists: the job
 * cannot end before its snapshot, however loaded the machine (rst_fmany-mpich's paced job ended
 * before its test had found the coordinator in a CI run at three tests at once); its test removes
 * the file once the snapshot is taken or given up. */
#ifndef REVIVE_TESTS_RST_PACE_H
#define REVIVE_TESTS_RST_PACE_H

#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The end of a step with LEFT steps still to come: sleeps MS milliseconds when the file FILE
 * exists, and when LEFT is 1 (the last step comes next) then sleeps on in MS ms pieces until it
 * is gone (FILE NULL or MS <= 0: never). */
static inline void rst_pace(const char *file, long ms, int left)
{
    if (!file || ms <= 0)
        return;
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    if (access(file, F_OK) == 0)
        nanosleep(&d, NULL);
    while (left == 1 && access(file, F_OK) == 0)
        nanosleep(&d, NULL);
}

/* What the rank programs run by rst_pscw.sh (rst_pscw, rst_xlock, rst_slock, rst_lockwait,
 * rst_casmutex, rst_dynwin, rst_persist, rst_nbcnew) are given and where they stand: STEPS
 * PACEFILE MS, the rank in MPI_COMM_WORLD, its size and the two neighbours in the ring of ranks. */
struct rst_run {
    int steps;
    const char *pace;
    long ms;
    int me, np, right, left;
};

/* The start of those programs, called NAME STEPS PACEFILE MS: the arguments counted before any
 * is read ("usage: NAME STEPS PACEFILE MS" and status 2 when fewer), then MPI_Init. */
static inline struct rst_run rst_begin(int *argc, char ***argv, const char *name)
{
    if (*argc < 4) {
        fprintf(stderr, "usage: %s STEPS PACEFILE MS\n", name);
        exit(2);
    }
    struct rst_run r = { atoi((*argv)[1]), (*argv)[2], atol((*argv)[3]), 0, 0, 0, 0 };
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &r.me);
    MPI_Comm_size(MPI_COMM_WORLD, &r.np);
    r.right = (r.me + 1) % r.np;
    r.left = (r.me + r.np - 1) % r.np;
    return r;
}

/* The end of step S of a rank program whose state under test gives each rank a number ACC
 * (rank_tcp, rank_fdmade): rank 0 prints "step S: SUM" (the sum over the ranks), then the
 * step is paced. */
static inline void rst_step_sum(const struct rst_run *r, int s, long long acc)
{
    long long sum = 0;
    MPI_Reduce(&acc, &sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (r->me == 0) {
        printf("step %d: %lld\n", s, sum);
        fflush(stdout);
    }
    rst_pace(r->pace, r->ms, r->steps - s);
}

/* Their end: rank 0 prints "done: SUM" of the ranks' last ACC. */
static inline void rst_done_sum(const struct rst_run *r, long long acc)
{
    long long sum = 0;
    MPI_Reduce(&acc, &sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (r->me == 0)
        printf("done: %lld\n", sum);
}

/* The main of term_threads and term_dlopen, whose state under test is in a thread of their
 * own: arguments [STEPS [PACEFILE MS]] (60 steps by default); MPI_Init_thread
 * (MPI_THREAD_MULTIPLE), THREAD started in every rank ("NAME: cannot start WHAT" and status 2
 * if it cannot be), then STEPS steps of an Allreduce over MPI_COMM_WORLD of the step plus the
 * rank, rank 0 printing "step I: SUM", each begun with AT_STEP (or NULL) and paced; then *STOP
 * set, THREAD joined, rank 0 printing "done: STEPS steps", MPI_Finalize. The lines depend on
 * nothing the thread does. */
static inline int rst_paced_thread_main(int argc, char **argv, const char *name,
                                        const char *what, void *(*thread)(void *),
                                        volatile int *stop,
                                        void (*at_step)(int step, int steps, int rank))
{
    int prov, me;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 60;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    pthread_t t;
    if (pthread_create(&t, NULL, thread, NULL) != 0) {
        fprintf(stderr, "%s: cannot start %s\n", name, what);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int i = 0; i < steps; i++) {
        if (at_step)
            at_step(i, steps, me);
        int x = i + me, s = 0;
        MPI_Allreduce(&x, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", i, s);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - 1 - i);
    }
    *stop = 1;
    pthread_join(t, NULL);
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}

#endif

/* A rank that locks itself down after MPI_Init and changes its main thread's attributes:
 *   rst_seccomp STEPS PACEFILE MS
 * Once MPI is up every rank sets no_new_privs, installs a seccomp filter for all its threads
 * (SECCOMP_FILTER_FLAG_TSYNC, the MPI library's threads too): times fails with EXDEV; then it
 * raises the main thread's nice value to 5 and its timer slack to 250 us. Each step checks that
 * times still fails with EXDEV and that nice and slack are still those (a failed check spoils the
 * step's sum); rank 0 prints "step N: SUM" per step and "done: ACC". A restart must install the
 * filter again (after the fresh MPI library's MPI_Init: diffrev19 LOW-D) and give the main thread
 * its nice value and slack again (issue 10 MEDIUM-3, HIGH-8). While PACEFILE exists each step
 * also sleeps MS ms (rst_pace.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "rst_pace.h"
#include "../../seccomp_refuse.h"

#define NICE 5
#define SLACK_NS 250000ul

static void lock_down(void)
{
    if (seccomp_refuse(SYS_times, EXDEV, SECCOMP_FILTER_FLAG_TSYNC) != 0) {
        perror("rst_seccomp: the seccomp filter");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NICE) != 0 ||
        prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0) != 0) {
        perror("rst_seccomp: nice or timer slack");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
}

/* 0 when the filter and the attributes are in effect, else what is not (bits). */
static long lost(int me, int step)
{
    long bad = 0;
    struct tms t;
    errno = 0;   /* glibc's times() sets no errno: the system call itself */
    if (syscall(SYS_times, &t) != -1 || errno != EXDEV)
        bad |= 1;
    errno = 0;
    int n = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    if (n != NICE || errno)
        bad |= 2;
    if ((unsigned long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != SLACK_NS)
        bad |= 4;
    if (bad)
        fprintf(stderr, "rank %d step %d: %s%s%s\n", me, step, bad & 1 ? "times is allowed again; " : "",
                bad & 2 ? "nice is not 5; " : "", bad & 4 ? "the timer slack is not 250 us" : "");
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    lock_down();
    long acc = 0;
    for (int s = 1; s <= steps; s++) {
        long x = s + me - 1000 * lost(me, s), sum = 0;
        MPI_Allreduce(&x, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        acc = acc * 3 + sum;
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    if (me == 0)
        printf("done: %ld\n", acc);
    MPI_Finalize();
    return 0;
}

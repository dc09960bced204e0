/* Helpers for the MPI test programs: each program mixes the results of its calls into a
 * checksum per section; report() gathers every rank's checksum on rank 0, which prints one
 * line per section. The test scripts compare this output between a native run and a run
 * under Revive. */
#ifndef TESTS_MPI_MPITEST_H
#define TESTS_MPI_MPITEST_H
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t ck = 1469598103934665603ull;
static int me, np;

static inline void mix(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        ck ^= c[i];
        ck *= 1099511628211ull;
    }
}
static inline void mixi(long v) { mix(&v, sizeof v); }

#define CHECK(call) do { int rc_ = (call); if (rc_ != MPI_SUCCESS) { \
    fprintf(stderr, "rank %d: %s failed: %d (%s:%d)\n", me, #call, rc_, __FILE__, __LINE__); \
    MPI_Abort(MPI_COMM_WORLD, 2); } } while (0)

static __attribute__((unused)) void report(const char *section)
{
    uint64_t *all = malloc(sizeof *all * (size_t)np);
    MPI_Gather(&ck, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (me == 0) {
        printf("%-14s", section);
        for (int i = 0; i < np; i++)
            printf(" %016llx", (unsigned long long)all[i]);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    ck = 1469598103934665603ull;
}

/* Sections interleaved in one loop, each with a checksum of its own (up to 10): sections_start()
 * before the loop (each from the current checksum), section(k) to go on with section k's,
 * report_sections(names, n) at the end (one line per section, in order). */
static __attribute__((unused)) uint64_t sec_ck[10];
static __attribute__((unused)) int sec_cur;
static __attribute__((unused)) void sections_start(void)
{
    for (int i = 0; i < 10; i++)
        sec_ck[i] = ck;
    sec_cur = 0;
}
static __attribute__((unused)) void section(int k)
{
    sec_ck[sec_cur] = ck;
    sec_cur = k;
    ck = sec_ck[k];
}
static __attribute__((unused)) void report_sections(const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        ck = sec_ck[i];
        report(names[i]);
    }
}

/* Busy work of about n thousand steps (the checkpoint tests put ranks at different places). */
static __attribute__((unused)) void spin(int n)
{
    volatile double x = 0;
    for (int i = 0; i < n * 1000; i++)
        x += i * 0.5;
}

static void start(int *argc, char ***argv)
{
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
}
#endif

/* Shared by the campaign's corner-case programs (tests/mpi/ckpt/campaign): checksums per section
 * (tests/mpi/mpitest.h), self-checks counted in `errors` (each one says what it expected on
 * stderr, at most 20 per rank), and pacing that does not depend on the clock.
 *
 * Every program takes ROUNDS as its first argument, prints nothing before its end, and ends
 * with the checksum lines of rank 0 and one line "errors N" (N summed over the ranks): the output
 * of an interrupted, checkpointed or restarted run must be identical to an uninterrupted one. */
#ifndef TESTS_MPI_CKPT_CAMPAIGN_CC_H
#define TESTS_MPI_CKPT_CAMPAIGN_CC_H
#include "tests/mpi/mpitest.h"

static long cc_errors;

#define EXPECT(cond, ...) do { if (!(cond)) { \
    if (cc_errors++ < 20) { fprintf(stderr, "rank %d: %s:%d: ", me, __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } } while (0)

/* Work outside MPI (the compiler may not drop it): about n microseconds on this VM, idle. */
static __attribute__((unused)) void cc_spin(long n)
{
    volatile double x = 0;
    for (long i = 0; i < n * 300; i++)
        x += (double)i * 0.5;
}

/* 64-bit mixing of a few integers: deterministic data and partners. */
static __attribute__((unused)) uint64_t cc_hash(long a, long b, long c)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)a;
    h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull + (uint64_t)b;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull + (uint64_t)c;
    return h ^ (h >> 31);
}

/* The last lines: the errors of every rank, summed. */
static __attribute__((unused)) void cc_finish(void)
{
    long all = 0;
    MPI_Allreduce(&cc_errors, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0) {
        printf("errors %ld\n", all);
        fflush(stdout);
    }
}
#endif

/* Shared helpers of the Revive benchmark programs (bench/).
 *
 * The data pattern: 64-bit word i of a buffer seeded with `seed` is
 * splitmix64(seed + i * GOLDEN): counter based, so any slice can be generated
 * or verified on its own (in parallel), it has no zero pages and does not
 * compress (zstd/gzip gain nothing on it).
 *
 * The fingerprint of a buffer is the sum over its words of mix(w_i + i), mod
 * 2^64: position dependent, order of summation free, so threads can add their
 * slices. */
#ifndef REVIVE_BENCH_COMMON_H
#define REVIVE_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_GOLDEN 0x9E3779B97F4A7C15ULL

static inline uint64_t bench_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static inline uint64_t bench_word(uint64_t seed, uint64_t i)
{
	return bench_mix(seed + i * BENCH_GOLDEN);
}

/* Fill words [first, first+n) of buf (buf points at word 0). */
static inline void bench_fill(uint64_t *buf, uint64_t first, uint64_t n, uint64_t seed)
{
	for (uint64_t i = first; i < first + n; i++)
		buf[i] = bench_word(seed, i);
}

/* Fingerprint of words [first, first+n), and count of words that differ from
 * the pattern (*bad, first differing word index in *first_bad if any). */
static inline uint64_t bench_check(const uint64_t *buf, uint64_t first, uint64_t n,
				   uint64_t seed, uint64_t *bad, uint64_t *first_bad)
{
	uint64_t sum = 0, nbad = 0, fb = UINT64_MAX;
	for (uint64_t i = first; i < first + n; i++) {
		uint64_t w = buf[i];
		sum += bench_mix(w + i);
		if (w != bench_word(seed, i)) {
			if (!nbad)
				fb = i;
			nbad++;
		}
	}
	*bad = nbad;
	*first_bad = fb;
	return sum;
}

static inline int64_t bench_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif

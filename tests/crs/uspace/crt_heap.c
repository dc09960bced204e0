/*
 * State test: a large heap. One big malloc'd block (mmap'd by glibc) and
 * thousands of small ones (brk heap), filled with pseudo-random bytes, plus
 * allocated but never touched memory that must read back as zeros.
 *
 * Size: CRT_HEAP_MB (or argv[1]) MiB of touched memory, default 64; the suite
 * also runs it at 1024 (1 GiB). CRT_HEAP_AT=ADDR adds a block of CRT_HEAP_AT_MB
 * (default 16) MiB mapped at that address (noaslr.sh: where cr_restart's own
 * libraries lie without ASLR). CRT_HEAP_STACK_KB=N first uses N KiB of stack, so that the
 * image's stack region reaches that far down (noaslr.sh: below cr_restart's own stack).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <alloca.h>
#include <malloc.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSMALL 4096
#define ZERO_MB 64 /* allocated, never written */

static unsigned char *big;
static size_t big_len;
static unsigned char *zero_block;
static unsigned char *small[NSMALL];
static size_t small_len[NSMALL];
static uint64_t small_seed[NSMALL];
static unsigned char *pinned;
static size_t pinned_len;

/* CRT_HEAP_AT: the block at its address. This run's own layout may hold the address (its stack
 * lies anywhere in the top 16 GiB under ASLR): then the program runs itself again, once, under
 * another layout (same pid, nothing printed yet). */
static void pin_block(char **argv)
{
    const char *at = getenv("CRT_HEAP_AT");
    if (!at || !*at)
        return;
    pinned_len = (size_t)crt_env_long("CRT_HEAP_AT_MB", 16) << 20;
    void *want = (void *)(uintptr_t)strtoull(at, NULL, 0);
    void *p = mmap(want, pinned_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == want) {
        pinned = p;
        crt_fill(pinned, pinned_len, 3);
        return;
    }
    if (p != MAP_FAILED)
        munmap(p, pinned_len);
    if (!getenv("CRT_HEAP_AT_AGAIN")) {
        setenv("CRT_HEAP_AT_AGAIN", "1", 1);
        execv("/proc/self/exe", argv);
    }
    crt_die("cannot map %zu MiB at %s", pinned_len >> 20, at);
}

static uint64_t big_sum(void)
{
    /* per-MiB hashes folded, so a wrong page changes the result */
    uint64_t h = 0;
    for (size_t off = 0; off < big_len; off += 1 << 20) {
        size_t n = big_len - off < (1u << 20) ? big_len - off : (1u << 20);
        h = crt_mix(h ^ crt_hash(big + off, n, off));
    }
    return h;
}

static uint64_t small_sum(void)
{
    uint64_t h = 0;
    for (int i = 0; i < NSMALL; i++)
        if (small[i])
            h = crt_mix(h ^ crt_hash(small[i], small_len[i], (uint64_t)i));
    return h;
}

static void small_alloc(int i, uint64_t seed)
{
    small_len[i] = 16 + crt_mix(seed) % 8192;
    small[i] = malloc(small_len[i]);
    if (!small[i])
        crt_die("malloc(%zu) failed", small_len[i]);
    small_seed[i] = seed;
    crt_fill(small[i], small_len[i], seed);
}

/* Checks every small block against its seed (content survived, nothing overlapped). */
static int small_verify(void)
{
    int bad = 0;
    unsigned char tmp[8208];
    for (int i = 0; i < NSMALL; i++) {
        if (!small[i])
            continue;
        crt_fill(tmp, small_len[i], small_seed[i]);
        if (memcmp(tmp, small[i], small_len[i]) != 0)
            bad++;
    }
    return bad;
}

static int zero_verify(void)
{
    return crt_is_zero(zero_block, (size_t)ZERO_MB << 20);
}

/* Uses kb KiB of stack (its pages stay in the stack region after the return). */
static __attribute__((noinline)) void deep_stack(long kb)
{
    volatile char *p = alloca((size_t)kb << 10);
    for (long k = 4096; k <= kb << 10; k += 4096)
        p[(kb << 10) - k] = 1;
}

int main(int argc, char **argv)
{
    long mb = argc > 1 ? atol(argv[1]) : crt_env_long("CRT_HEAP_MB", 64);
    uint64_t big_expect, small_expect;
    void *brk0 = sbrk(0);
    int bad;

    if (crt_env_long("CRT_HEAP_STACK_KB", 0) > 0)
        deep_stack(crt_env_long("CRT_HEAP_STACK_KB", 0));
    pin_block(argv);
    if (mb < 16)
        mb = 16;
    /* Keep small blocks on the brk heap, the big ones in mmap. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);

    big_len = ((size_t)mb << 20) - ((size_t)16 << 20); /* the small blocks use ~16 MiB */
    big = malloc(big_len);
    zero_block = malloc((size_t)ZERO_MB << 20);
    if (!big || !zero_block)
        crt_die("cannot allocate %ld MiB", mb);
    crt_fill(big, big_len, 1);
    for (int i = 0; i < NSMALL; i++)
        small_alloc(i, 1000 + (uint64_t)i);

    crt_say("heap: %ld MiB touched, %d small blocks", mb, NSMALL);
    big_expect = big_sum();
    small_expect = small_sum();
    crt_say("big block checksum %016llx", (unsigned long long)big_expect);
    crt_say("small blocks checksum %016llx", (unsigned long long)small_expect);
    crt_check("brk heap grew", sbrk(0) > brk0, "sbrk(0) did not move");
    uint64_t pinned_expect = pinned ? crt_hash(pinned, pinned_len, 3) : 0;
    if (pinned)
        crt_say("pinned block: %zu MiB at %p", pinned_len >> 20, (void *)pinned);

    crt_checkpoint_point(1);

    if (pinned)
        crt_check_u64("pinned block intact", crt_hash(pinned, pinned_len, 3), pinned_expect);
    crt_check_u64("big block intact", big_sum(), big_expect);
    bad = small_verify();
    crt_check("small blocks intact", bad == 0, "%d of %d blocks differ", bad, NSMALL);
    crt_check_u64("small blocks checksum", small_sum(), small_expect);
    crt_check("untouched memory reads as zeros", zero_verify(), "non-zero bytes");

    /* Change the heap: free every third block, allocate anew, grow the big
     * block (realloc of an mmap'd chunk: mremap), write in the zero block. */
    for (int i = 0; i < NSMALL; i += 3) {
        free(small[i]);
        small[i] = NULL;
    }
    for (int i = 0; i < NSMALL; i += 3)
        small_alloc(i, 50000 + (uint64_t)i);
    big = realloc(big, big_len + ((size_t)8 << 20));
    if (!big)
        crt_die("realloc failed");
    crt_fill(big + big_len, (size_t)8 << 20, 2);
    big_len += (size_t)8 << 20;
    memset(zero_block + ((size_t)32 << 20), 0x5a, 4096);
    big_expect = big_sum();
    small_expect = small_sum();
    crt_say("big block checksum after realloc %016llx", (unsigned long long)big_expect);
    crt_say("small blocks checksum after churn %016llx", (unsigned long long)small_expect);

    crt_checkpoint_point(2);

    crt_check_u64("big block intact after 2nd point", big_sum(), big_expect);
    bad = small_verify();
    crt_check("small blocks intact after 2nd point", bad == 0, "%d of %d blocks differ", bad,
              NSMALL);
    crt_check("written page in zero block kept",
              zero_block[(32u << 20) + 4095] == 0x5a && zero_block[(32u << 20) + 4096] == 0,
              "got %02x %02x", zero_block[(32u << 20) + 4095], zero_block[(32u << 20) + 4096]);

    for (int i = 0; i < NSMALL; i++)
        free(small[i]);
    free(big);
    free(zero_block);
    crt_check("malloc works after free", (big = malloc(1 << 16)) != NULL, "malloc failed");
    free(big);
    crt_finish();
}

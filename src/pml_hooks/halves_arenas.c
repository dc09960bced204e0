/* Knowing the halves apart: glibc malloc's arenas. ld.so allocates with the application's
 * malloc for every namespace (link maps, and each thread's TLS blocks, also for the MPI
 * library's threads), so an arena of the application's libc can appear while MPI_Init runs (a
 * lower thread's first TLS access, measured with MPICH's UCX progress thread). Such a heap is
 * the application's: left out of an image, the application's malloc would follow a dangling
 * arena list after a restart (measured: a crash in reused_arena).
 *
 * An arena heap is a HEAP_MAX-aligned mapping (64 MiB) that starts with a heap_info whose first
 * word points at its arena (in the arena's first heap, right after the heap_info). Whose libc
 * owns it is read from the arena list: every arena is on a ring through its libc's main_arena,
 * which lies in that libc's writable data. Nothing here knows malloc_state's layout: the words
 * of each arena are searched for a pointer into one of the two libcs' data, or to another arena
 * to look at next. Reads go through process_vm_readv (never a fault), no allocation. */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEAP_MAX (64ull << 20)
#define ARENA_SCAN 4096 /* bytes of an arena searched (malloc_state is about 2.2 KiB) */
#define ARENA_HOPS 64

static uint64_t up_lo, up_hi, low_lo, low_hi; /* the two libcs' writable data */

void pml_arena_set_libcs(uint64_t upper_lo, uint64_t upper_hi, uint64_t lower_lo, uint64_t lower_hi)
{
    up_lo = upper_lo;
    up_hi = upper_hi;
    low_lo = lower_lo;
    low_hi = lower_hi;
}

static int peek(uint64_t addr, void *out, size_t n)
{
    struct iovec l = { out, n }, r = { (void *)(uintptr_t)addr, n };
    return syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* The arena an arena heap's heap_info names, or 0 when `heap` does not start one. */
static uint64_t heap_arena(uint64_t heap)
{
    uint64_t ar;
    if (heap & (HEAP_MAX - 1) || peek(heap, &ar, sizeof ar) || !ar || (ar & 7))
        return 0;
    uint64_t ah = ar & ~(HEAP_MAX - 1), back;
    if (ar - ah > 4096 || peek(ah, &back, sizeof back) || back != ar)
        return 0; /* the arena's own first heap must name it too */
    return ar;
}

int pml_arena_half(uint64_t start)
{
    if (!up_hi || !low_hi)
        return 0;
    uint64_t ar = heap_arena(start & ~(HEAP_MAX - 1));
    if (!ar)
        return 0;
    uint64_t off = ar & (HEAP_MAX - 1), seen[ARENA_HOPS], queue[ARENA_HOPS];
    int nseen = 0, head = 0, tail = 0;
    queue[tail++] = ar;
    seen[nseen++] = ar;
    while (head < tail) {
        uint64_t a = queue[head++], w[ARENA_SCAN / 8];
        if (peek(a, w, sizeof w))
            continue;
        for (size_t i = 0; i < ARENA_SCAN / 8; i++) {
            uint64_t v = w[i];
            if (v >= up_lo && v < up_hi)
                return PML_HALF_UPPER;
            if (v >= low_lo && v < low_hi)
                return PML_HALF_LOWER;
            if ((v & (HEAP_MAX - 1)) != off || v == a || heap_arena(v & ~(HEAP_MAX - 1)) != v)
                continue;
            int known = 0;
            for (int k = 0; k < nseen && !known; k++)
                known = seen[k] == v;
            if (!known && tail < ARENA_HOPS && nseen < ARENA_HOPS) {
                seen[nseen++] = v;
                queue[tail++] = v;
            }
        }
    }
    return 0;
}

/* ---- is an arena of the application's malloc locked? ------------------------------------------
 * A thread parked inside malloc or free keeps its arena locked; a thread the capture goes on
 * holding (--term's held threads, a restart's held threads) keeps it locked for as long, and the
 * agent's own allocations on that arena (staging after --term; ld.so loading the fresh MPI after
 * a restart) wait for ever (measured with MALLOC_ARENA_MAX=1: --term hung in the agent's
 * calloc). Here malloc_state's layout is glibc 2.34-2.36's (x86_64): the lock first, the top
 * chunk at 96, the bins from 112 (an empty bin's two words point 16 bytes below the first), the
 * ring of arenas at 2160. main_arena is found in the application's libc's data by its empty
 * bins, and the finding is checked (the ring must come back to it). */
#define MS_BINS 112
#define MS_NEXT 2160
#define MS_NBINS 126

static uint64_t main_arena; /* 0: not looked for, 1: not found */

static int arena_like(uint64_t a)
{
    uint64_t w[MS_NBINS * 2];
    if (peek(a + MS_BINS, w, sizeof w))
        return 0;
    int empty = 0;
    for (int i = 0; i < MS_NBINS; i++) {
        uint64_t self = a + MS_BINS + (uint64_t)i * 16 - 16;
        empty += w[2 * i] == self && w[2 * i + 1] == self;
    }
    return empty >= MS_NBINS / 2;
}

static uint64_t find_main_arena(void)
{
    if (main_arena)
        return main_arena > 1 ? main_arena : 0;
    main_arena = 1;
    if (!up_hi)
        return 0;
    for (uint64_t a = up_lo & ~7ull; a + MS_NEXT + 8 <= up_hi; a += 8) {
        /* quick: the last bin (the largest chunks) empty, as it is but in huge heaps; the
         * unsorted bin, first, is seldom empty in a busy process */
        uint64_t last[2], self = a + MS_BINS + (uint64_t)(MS_NBINS - 1) * 16 - 16;
        if (peek(self + 16, last, sizeof last) || last[0] != self || last[1] != self)
            continue;
        if (!arena_like(a))
            continue;
        /* the ring through every arena comes back here */
        uint64_t cur = a;
        int ok = 0;
        for (int hop = 0; hop < ARENA_HOPS; hop++) {
            uint64_t nx;
            if (peek(cur + MS_NEXT, &nx, sizeof nx) || !nx || (nx & 7))
                break;
            if (nx == a) {
                ok = 1;
                break;
            }
            cur = nx;
        }
        if (ok) {
            main_arena = a;
            return a;
        }
    }
    return 0;
}

int pml_arena_locked(void)
{
    uint64_t a = find_main_arena();
    if (!a)
        return -1;
    uint64_t cur = a;
    for (int hop = 0; hop < ARENA_HOPS; hop++) {
        int lock;
        uint64_t nx;
        if (peek(cur, &lock, sizeof lock) || peek(cur + MS_NEXT, &nx, sizeof nx))
            return -1;
        if (lock)
            return 1;
        if (nx == a)
            return 0;
        cur = nx;
    }
    return -1;
}

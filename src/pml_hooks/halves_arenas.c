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

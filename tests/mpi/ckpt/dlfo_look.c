/* lower_dlfo.c alone, no MPI: a whole look for ld.so's table of objects for the unwinder (made at
 * every MPI_Init and every restart of a rank) finds the very words a look word by word finds, in
 * few reads. The look word by word is the one lower_dlfo.c made before: each non-NULL word of
 * ld.so's writable data a read of the chain header it may point to, each entry of a chain a read
 * of its link map: ~750 process_vm_readv in every rank of a 4-rank Open MPI job at MPI_Init
 * (~3 us each here; strace). Steps: dlopen up to 8 objects (longer chains), a whole look
 * (pml_dlfo_find with nothing found before), the same look word by word (here, with the old
 * reads); the words holding the probe's entry must be the same, and the whole look must make
 * fewer than half the reads. Exit 77 when this glibc keeps no such table. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* every read lower_dlfo.c makes, counted (its only system calls are process_vm_readv) */
static unsigned long nreads;
static long counted_pvr(long nr, pid_t pid, const struct iovec *l, unsigned long nl,
                        const struct iovec *r, unsigned long nrem, unsigned long flags)
{
    nreads++;
    return syscall(nr, pid, l, nl, r, nrem, flags);
}
#define syscall(nr, pid, l, nl, r, nrem, fl) counted_pvr(nr, pid, l, nl, r, nrem, fl)
#include "pml_hooks/lower_dlfo.c" /* its static state and helpers */
#undef syscall

#define SKIP(...) do { printf("SKIP: "); printf(__VA_ARGS__); printf("\n"); exit(77); } while (0)
#define FAIL(...) do { printf("FAIL: "); printf(__VA_ARGS__); printf("\n"); exit(1); } while (0)

static const char *const names[] = {
    "libresolv.so.2", "libthread_db.so.1", "libBrokenLocale.so.1", "libanl.so.1", "libutil.so.1",
    "libnss_files.so.2", "libnss_dns.so.2", "libz.so.1", "libbz2.so.1.0", "liblzma.so.5",
};

/* the chain at seg holds want's entry, checked as lower_dlfo.c did before: a read a header, a
 * read per 16 entries, a read per open entry's link map */
static int old_chain_ok(uintptr_t seg, const void *want, uintptr_t want_start, int *found)
{
    for (int k = 0; seg; k++) {
        uintptr_t h[4];
        if (k == MAX_SEGS || peek(seg, h, sizeof h))
            return 0;
        uintptr_t size = h[2], alloc = h[3];
        if (size > alloc || alloc > MAX_ALLOC)
            return 0;
        if (!size)
            return 1;
        uintptr_t prev = 0, e[4 * 16];
        for (uintptr_t i = 0; i < size; i += 16) {
            uintptr_t n = size - i < 16 ? size - i : 16;
            if (peek(seg + SEG_HDR + i * ENTRY, e, n * ENTRY))
                return 0;
            for (uintptr_t j = 0; j < n; j++) {
                uintptr_t start = e[4 * j], end = e[4 * j + 1], map = e[4 * j + 2], lm[2];
                if (start < prev || end < start)
                    return 0;
                prev = start;
                if (!map) {
                    if (end != start)
                        return 0;
                    continue;
                }
                if (peek(map + D.lm_map_start, lm, sizeof lm) || lm[0] != start || lm[1] != end)
                    return 0;
                if ((const void *)map == want && start == want_start)
                    *found = 1;
            }
        }
        seg = h[0];
    }
    return 1;
}

/* the words whose chain holds the probe's entry, looked at word by word */
static int old_look(const void *probe, uintptr_t **with, int max)
{
    struct dl_find_object fo;
    if (_dl_find_object((void *)probe, &fo))
        FAIL("_dl_find_object does not know the probe");
    int n = 0;
    struct scan sc = {0};
    for (int r = 0; r < D.nranges; r++)
        for (uintptr_t a = D.lo[r]; a + 8 <= D.hi[r]; a += 8) {
            uintptr_t v;
            int found = 0;
            if (scan_word(&sc, a, D.hi[r], &v) || !v ||
                !old_chain_ok(v, fo.dlfo_link_map, (uintptr_t)fo.dlfo_map_start, &found) || !found)
                continue;
            if (n < max)
                with[n] = (uintptr_t *)a;
            n++;
        }
    return n;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU, not the wall: the machine is shared */
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static size_t map_start_offset(void *addr)
{
    struct dl_find_object fo;
    if (_dl_find_object(addr, &fo))
        SKIP("_dl_find_object does not know a dlopened object");
    const uintptr_t *w = (const uintptr_t *)fo.dlfo_link_map;
    for (size_t i = 0; i + 1 < 2048 / 8; i++)
        if (w[i] == (uintptr_t)fo.dlfo_map_start && w[i + 1] > w[i])
            return i * 8;
    SKIP("no l_map_start in the link map's first 2 KiB");
}

int main(void)
{
    void *first = NULL;
    int opened = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && opened < 8; i++) {
        void *h = dlopen(names[i], RTLD_NOW);
        if (!h)
            continue;
        opened++;
        if (!first)
            first = h;
    }
    if (!first)
        SKIP("none of glibc's own objects could be dlopened");
    struct link_map *lm;
    if (dlinfo(first, RTLD_DI_LINKMAP, &lm))
        FAIL("dlinfo: %s", dlerror());
    const void *probe = lm->l_ld;
    size_t off = map_start_offset((void *)probe);
    char err[512];
    nreads = 0;
    double t0 = now_us();
    int e = pml_dlfo_find(off, probe, err, sizeof err);
    double t1 = now_us();
    if (e == -ENOTSUP)
        SKIP("%s", err);
    if (e)
        FAIL("the whole look: %s", err);
    unsigned long whole = nreads;
    uintptr_t *with[MAX_SLOTS + 1];
    nreads = 0;
    double t2 = now_us();
    int n = old_look(probe, with, MAX_SLOTS + 1);
    double t3 = now_us();
    unsigned long old = nreads;
    printf("%d objects dlopened; a whole look: %d word(s) with the probe, %lu reads, %.0f us of CPU; word by"
           " word: %d word(s), %lu reads, %.0f us\n", opened, D.nwith, whole, t1 - t0, n, old, t3 - t2);
    if (n != D.nwith || memcmp(with, D.slot, sizeof with[0] * (size_t)(n < MAX_SLOTS ? n : MAX_SLOTS)))
        FAIL("the whole look found other words than the look word by word");
    if (whole * 2 > old)
        FAIL("the whole look made %lu reads, the look word by word %lu: not fewer than half",
             whole, old);
    printf("PASS\n");
    return 0;
}

/* The unwinder's table of objects in ld.so, after a restart (see lower_dlfo.h).
 *
 * glibc 2.35-2.36 (elf/dl-find_object.c): objects loaded at start-up are in tables that never
 * change; those dlopen loads are in `_dlfo_loaded_mappings[2]`, two static pointers of ld.so, each
 * to a chain of segments (a copy the next update rewrites, and the one readers use: the low bit
 * of a version counter says which). A segment, in the heap of the application's libc (ld.so
 * allocates with the main namespace's malloc), is
 *     { segment *previous; void *to_free; size_t size, allocated; entry objects[]; }
 * and an entry { uintptr_t map_start, map_end; struct link_map *map; void *eh_frame; } (x86_64
 * keeps no eh_dbase or eh_count), sorted by map_start; size 0 ends the chain. dlclose marks an
 * entry closed (map_end = map_start, map = NULL) in place, and the next update leaves closed
 * entries out. Nothing here is taken from headers or debug information: the pointers are found
 * by value in ld.so's writable data and every entry is checked against the link map it names. */
#define _GNU_SOURCE
#include "common/libc_dlsym.h"
#include "pml_hooks/lower_dlfo.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "lower_dlfo.c knows glibc's layout on x86_64 only"
#endif

#define SEG_HDR 32       /* previous, to_free, size, allocated */
#define ENTRY 32         /* map_start, map_end, map, eh_frame */
#define MAX_SEGS 64      /* segments double in size: 64 is far beyond any process */
#define MAX_ALLOC (1u << 22)
#define MAX_RANGES 8
#define MAX_SLOTS 4

typedef int dlfo_fn(void *, struct dl_find_object *);

static struct {
    int ready;                        /* ld.so's writable data found */
    dlfo_fn *find;                    /* ld.so's _dl_find_object; NULL before glibc 2.35 */
    uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
    int nranges;
    size_t lm_map_start;
    uintptr_t *slot[MAX_SLOTS];       /* the words of ld.so that point to a chain */
    int nslots;
    int nwith;                        /* slot[0..nwith-1] held the probe when found; the rest
                                       * are the neighbours of a lone one (NULL or a chain) */
} D;

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -e;
}

/* n bytes at p into out without faulting: 0, or -1 when any of it is not mapped */
static int peek(uintptr_t p, void *out, size_t n)
{
    if (p < 4096 || (p & 7))
        return -1;
    struct iovec local = { out, n }, remote = { (void *)p, n };
    return syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* ld.so's writable segments (its .data and .bss hold the two pointers) */
static int rtld_ranges(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_addr != *(const uintptr_t *)arg)
        return 0;
    for (int i = 0; i < info->dlpi_phnum && D.nranges < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        D.lo[D.nranges] = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)7;
        D.hi[D.nranges] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        D.nranges++;
    }
    return 1;
}

static int learn_rtld(char *err, size_t errlen)
{
    /* libc's _dl_find_object (what libgcc calls) forwards to ld.so's: the table is ld.so's */
    D.find = (dlfo_fn *)revive_dlsym(RTLD_DEFAULT, "_dl_find_object");
    if (!D.find) {
        D.ready = 1; /* no such table (glibc before 2.35) */
        return 0;
    }
    uintptr_t base = getauxval(AT_BASE); /* where the kernel loaded the program's interpreter */
    D.nranges = 0;
    if (base)
        dl_iterate_phdr(rtld_ranges, &base);
    if (!D.nranges)
        return fail(err, errlen, ENOTSUP, "ld.so (AT_BASE %#lx) has no writable segment among the"
                    " loaded objects", (unsigned long)base);
    D.ready = 1;
    return 0;
}

/* n pieces of len bytes each, at the addresses in at, into out (one after the other), in one
 * system call: the number of pieces read whole, from the first. The kernel never splits a piece
 * (process_vm_readv transfers whole iovec elements) and stops at the first it cannot read, so
 * piece k < n failed and pieces after it were not tried: what k calls of peek would have read. */
#define BATCH 32
static size_t peek_batch(const uintptr_t *at, size_t n, size_t len, void *out)
{
    struct iovec local, remote[BATCH];
    for (size_t i = 0; i < n; i++) {
        if (at[i] < 4096 || (at[i] & 7)) { /* what peek refuses */
            n = i;
            break;
        }
        remote[i].iov_base = (void *)at[i];
        remote[i].iov_len = len;
    }
    if (!n)
        return 0;
    local.iov_base = out;
    local.iov_len = n * len;
    ssize_t got = syscall(SYS_process_vm_readv, getpid(), &local, 1, remote, n, 0);
    return got > 0 ? (size_t)got / len : 0;
}

/* The chain of segments at seg, every entry checked: sorted, a closed entry empty, an open one
 * with the range its link map has. 1 when it is such a chain (found: set when an entry names
 * `want` with that range), 0 otherwise. head: the first segment's header when the caller read
 * it already (NULL: read here). The link maps of a piece of entries are read in one call
 * (peek_batch), not one each (an Open MPI rank's chain holds every component it dlopened). */
static int chain_ok_from(uintptr_t seg, const uintptr_t *head, const void *want, uintptr_t want_start,
                         int *found)
{
    for (int k = 0; seg; k++) {
        uintptr_t h[4];
        if (k == MAX_SEGS)
            return 0;
        if (k == 0 && head)
            memcpy(h, head, sizeof h);
        else if (peek(seg, h, sizeof h))
            return 0;
        uintptr_t size = h[2], alloc = h[3];
        if (size > alloc || alloc > MAX_ALLOC)
            return 0;
        if (!size)
            return 1;
        uintptr_t prev = 0, e[4 * BATCH];
        for (uintptr_t i = 0; i < size; i += BATCH) {
            uintptr_t n = size - i < BATCH ? size - i : BATCH, at[BATCH], lm[2 * BATCH];
            size_t nopen = 0;
            if (peek(seg + SEG_HDR + i * ENTRY, e, n * ENTRY))
                return 0;
            for (uintptr_t j = 0; j < n; j++) {
                uintptr_t start = e[4 * j], end = e[4 * j + 1], map = e[4 * j + 2];
                if (start < prev || end < start)
                    return 0;
                prev = start;
                if (!map) {
                    if (end != start)
                        return 0;
                    continue;
                }
                at[nopen++] = map + D.lm_map_start;
            }
            if (peek_batch(at, nopen, sizeof lm[0] * 2, lm) != nopen)
                return 0;
            nopen = 0;
            for (uintptr_t j = 0; j < n; j++) {
                uintptr_t start = e[4 * j], end = e[4 * j + 1], map = e[4 * j + 2];
                if (!map)
                    continue;
                if (lm[2 * nopen] != start || lm[2 * nopen + 1] != end)
                    return 0;
                nopen++;
                if ((const void *)map == want && start == want_start)
                    *found = 1;
            }
        }
        seg = h[0];
    }
    return 1;
}

static int chain_ok(uintptr_t seg, const void *want, uintptr_t want_start, int *found)
{
    return chain_ok_from(seg, NULL, want, want_start, found);
}

/* A word the full look adds beside a lone word holding the probe: readable, NULL or a chain. */
static int addable(const uintptr_t *w)
{
    uintptr_t v;
    int found = 0;
    return peek((uintptr_t)w, &v, sizeof v) == 0 && (!v || chain_ok(v, NULL, 0, &found));
}

/* The words a previous call found (static words of ld.so: they never move, only the chains they
 * point to do) still give what the whole look would find now: each NULL or a chain, exactly the
 * ones that held the probe still hold it and no other does, and, when one word alone held it, its
 * neighbours left out then (the pair's other copy, e.g. naming a link map dlclose freed and
 * malloc reused) are still neither NULL nor a chain: a dlopen since rewrites that copy from the
 * other and makes it the one readers use (diffrev33 R-M1), which a restart's pml_dlfo_close must
 * mark. What is assumed: no word of ld.so's data beyond the two pointers and their neighbours
 * comes to point to a chain holding the probe. 1: they do (D.slot kept); 0: look again. */
static int slots_hold(const struct dl_find_object *fo)
{
    for (int s = 0; s < D.nslots; s++) {
        uintptr_t v;
        int found = 0;
        if (peek((uintptr_t)D.slot[s], &v, sizeof v))
            return 0;
        if (v && !chain_ok(v, fo->dlfo_link_map, (uintptr_t)fo->dlfo_map_start, &found))
            return 0;
        if (found != (s < D.nwith))
            return 0;
    }
    if (D.nwith == 1)
        for (int d = -1; d <= 1; d += 2) {
            const uintptr_t *w = D.slot[0] + d;
            int cached = 0;
            for (int t = 1; t < D.nslots; t++)
                cached |= D.slot[t] == w;
            if (!cached && addable(w))
                return 0;
        }
    return D.nwith > 0;
}

/* The words of ld.so's writable data, read in one call per piece (a word at a time through
 * peek cost one system call each: ~1700 per checkpoint of an Open MPI rank, a third of the
 * layer's part of its capture's CPU); a piece that cannot be read whole is read a word at a
 * time. 0 with *v set, or -1 where the word is not mapped. */
#define SCAN_PIECE 512 /* words */
struct scan {
    uintptr_t from, to; /* the words read into w */
    uintptr_t w[SCAN_PIECE];
};

static int scan_word(struct scan *sc, uintptr_t a, uintptr_t hi, uintptr_t *v)
{
    if (a < sc->from || a >= sc->to) {
        size_t n = (hi - a) / 8 < SCAN_PIECE ? (hi - a) / 8 : SCAN_PIECE;
        sc->from = sc->to = 0;
        if (n && peek(a, sc->w, n * 8) == 0) {
            sc->from = a;
            sc->to = a + n * 8;
        } else
            return peek(a, v, sizeof *v);
    }
    *v = sc->w[(a - sc->from) / 8];
    return 0;
}

/* The whole look's candidates, a batch at a time: the words of ld.so's data (word) that are not
 * NULL (val). A chain's first header is read for a whole batch in one call (peek_batch) rather
 * than one call per word (a look at every MPI_Init and restart; with the link maps' reads
 * above, the ranks of a 4-rank Open MPI job made 433 process_vm_readv each at their start, 173
 * now). The batch stops at a value it cannot read (the kernel tries no piece after it): that
 * word is no chain, as its own peek found before, and the batch goes on after it. A value found
 * unreadable is not read again in this look (ld.so's data holds the same few non-pointers many
 * times: in an Open MPI rank, 46 values made ~120 failed reads), a chain holding the probe
 * being readable from before the look began. */
#define LOOK_BAD 64
struct look {
    const void *want;
    uintptr_t want_start;
    uintptr_t word[BATCH], val[BATCH];
    size_t n;
    uintptr_t bad[LOOK_BAD]; /* values that could not be read, the latest LOOK_BAD */
    unsigned nbad;
    uintptr_t *with[MAX_SLOTS];
    int nwith, toomany;
};

static int look_bad(const struct look *lk, uintptr_t v)
{
    unsigned n = lk->nbad < LOOK_BAD ? lk->nbad : LOOK_BAD;
    for (unsigned i = 0; i < n; i++)
        if (lk->bad[i] == v)
            return 1;
    return 0;
}

/* the candidates in lk, in order: the words whose chain holds the probe's entry go to with;
 * toomany set when there are more of those than MAX_SLOTS. lk->n is 0 after. */
static void look_flush(struct look *lk)
{
    uintptr_t h[4 * BATCH];
    size_t i = 0;
    while (i < lk->n) {
        size_t got = peek_batch(lk->val + i, lk->n - i, sizeof h[0] * 4, h);
        for (size_t j = 0; j < got; j++) {
            int found = 0;
            if (!chain_ok_from(lk->val[i + j], h + 4 * j, lk->want, lk->want_start, &found) || !found)
                continue;
            if (lk->nwith == MAX_SLOTS) {
                lk->toomany = 1;
                lk->n = 0;
                return;
            }
            lk->with[lk->nwith++] = (uintptr_t *)lk->word[i + j];
        }
        if (i + got < lk->n) /* the value the batch stopped at */
            lk->bad[lk->nbad++ % LOOK_BAD] = lk->val[i + got];
        i += got + 1;
    }
    lk->n = 0;
}

int pml_dlfo_find(size_t lm_map_start, const void *probe, char *err, size_t errlen)
{
    if (!D.ready) {
        int e = learn_rtld(err, errlen);
        if (e)
            return e;
    }
    if (!D.find) {
        D.nslots = 0;
        return 0;
    }
    struct dl_find_object fo;
    if (D.find((void *)probe, &fo) != 0 || !fo.dlfo_link_map) {
        D.nslots = 0;
        return fail(err, errlen, ENOTSUP, "_dl_find_object does not know the MPI library's object"
                    " at %p", probe);
    }
    /* at every checkpoint: the words found before, checked (the whole of ld.so's data is looked
     * at again only when they no longer hold the table) */
    if (D.nslots && D.lm_map_start == lm_map_start && slots_hold(&fo))
        return 0;
    D.nslots = D.nwith = 0;
    D.lm_map_start = lm_map_start;
    /* the words of ld.so whose chain holds the probe's entry: the table readers use (and the
     * copy, when it holds it too); then their neighbours that are NULL or a chain as well (the
     * other of the two pointers: the copy the next update rewrites) */
    struct look lk = { .want = fo.dlfo_link_map, .want_start = (uintptr_t)fo.dlfo_map_start };
    struct scan sc = {0};
    for (int r = 0; r < D.nranges && !lk.toomany; r++)
        for (uintptr_t a = D.lo[r]; a + 8 <= D.hi[r] && !lk.toomany; a += 8) {
            uintptr_t v;
            /* no user address reaches 2^56 (x86_64's largest, with 5-level page tables): the
             * kernel refuses such a read; many of these words are text or counters */
            if (scan_word(&sc, a, D.hi[r], &v) || !v || (v >> 56) || look_bad(&lk, v))
                continue;
            lk.word[lk.n] = a;
            lk.val[lk.n++] = v;
            if (lk.n == BATCH)
                look_flush(&lk);
        }
    if (!lk.toomany)
        look_flush(&lk);
    if (lk.toomany)
        return fail(err, errlen, ENOTSUP, "more than %d words of ld.so point to its table of"
                    " objects for the unwinder", MAX_SLOTS);
    uintptr_t **with = lk.with;
    int nwith = lk.nwith;
    if (!nwith || (nwith == 2 && with[1] != with[0] + 1) || nwith > 2)
        return fail(err, errlen, ENOTSUP, "ld.so's table of objects for the unwinder (_dl_find_object)"
                    " is not where glibc 2.35-2.36 keeps it (%d candidates)", nwith);
    for (int i = 0; i < nwith; i++)
        D.slot[D.nslots++] = with[i];
    D.nwith = nwith;
    if (nwith == 1)
        for (int d = -1; d <= 1; d += 2)
            if (addable(with[0] + d))
                D.slot[D.nslots++] = with[0] + d;
    return 0;
}

unsigned pml_dlfo_close(int (*dead)(const void *map))
{
    unsigned closed = 0;
    for (int s = 0; s < D.nslots; s++) {
        int found = 0;
        uintptr_t seg = *D.slot[s];
        /* checked again: a word that was NULL at the checkpoint may be something else now */
        if (!seg || !chain_ok(seg, NULL, 0, &found))
            continue;
        for (int k = 0; seg && k < MAX_SEGS; k++) {
            uintptr_t *h = (uintptr_t *)seg;
            if (!h[2])
                break;
            uintptr_t *e = h + SEG_HDR / 8;
            for (uintptr_t i = 0; i < h[2]; i++, e += ENTRY / 8)
                if (e[2] && dead((const void *)e[2])) {
                    /* as _dl_find_object_dlclose: no TM cycle needed, readers see an empty range */
                    __atomic_store_n(&e[1], e[0], __ATOMIC_RELAXED);
                    __atomic_store_n(&e[2], 0, __ATOMIC_RELAXED);
                    closed++;
                }
            seg = h[0];
        }
    }
    return closed;
}

/* lower_dlfo.c alone, no MPI: the words of ld.so found at an earlier pml_dlfo_find must give what
 * a whole look finds at a later one (diffrev33 R-M1). glibc keeps the unwinder's table in two
 * copies; dlclose marks its entries closed in the copy readers use only, so the other copy names
 * a link map that was freed, and once malloc reuses it that copy is no chain of valid entries: a
 * find then sees one word only. A dlopen since rewrites that copy and makes it the one readers
 * use: a later find must take it, or a restart's pml_dlfo_close leaves the dead objects in the
 * copy readers use (issue 7 finding A: SIGSEGV in the unwinder of a restarted rank).
 * Steps: dlopen P (the probe's object), X and Y; dlclose X; malloc and write over the freed memory;
 * find 1 (expects one word: the state to test); dlopen Z; find 2 (through the words of find 1
 * where they still hold); the same slots as a whole look; pml_dlfo_close of Y's link map; then
 * `_dl_find_object` of an address in Y must find nothing. Exit 77 when this glibc keeps no such
 * table, the objects are missing, or find 1 did not see the state to test. */
#define _GNU_SOURCE
#include "pml_hooks/lower_dlfo.c" /* its static state, to compare with a whole look */

#include <stdlib.h>

#define SKIP(...) do { printf("SKIP: "); printf(__VA_ARGS__); printf("\n"); exit(77); } while (0)
#define FAIL(...) do { printf("FAIL: "); printf(__VA_ARGS__); printf("\n"); exit(1); } while (0)

/* objects of glibc's own (and a few common ones) none of this program has loaded */
static const char *const names[] = {
    "libresolv.so.2", "libthread_db.so.1", "libBrokenLocale.so.1", "libanl.so.1", "libutil.so.1",
    "libnss_files.so.2", "libnss_dns.so.2", "libz.so.1", "libbz2.so.1.0", "liblzma.so.5",
};

static void *open_next(size_t *i, const char **name)
{
    for (; *i < sizeof names / sizeof names[0]; (*i)++) {
        void *h = dlopen(names[*i], RTLD_NOW | RTLD_NOLOAD);
        if (h) {
            dlclose(h);
            continue;
        }
        h = dlopen(names[*i], RTLD_NOW);
        if (h) {
            *name = names[(*i)++];
            return h;
        }
    }
    SKIP("fewer than 4 shared objects to dlopen among glibc's own and libz/libbz2/liblzma");
}

/* an address inside the object: its dynamic section */
static void *inside(void *h)
{
    struct link_map *lm;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm))
        FAIL("dlinfo: %s", dlerror());
    return lm->l_ld;
}

/* the offset of l_map_start in struct link_map: the word with the object's start, then its end */
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

static uintptr_t *slots[MAX_SLOTS];
static int nslots;

static void keep_slots(void)
{
    nslots = D.nslots;
    memcpy(slots, D.slot, sizeof slots);
}

/* how many of the words found hold a chain with the probe's entry */
static int with_probe(const void *probe)
{
    struct dl_find_object fo;
    int n = 0;
    if (_dl_find_object((void *)probe, &fo))
        return 0;
    for (int s = 0; s < D.nslots; s++) {
        int found = 0;
        uintptr_t v = *D.slot[s];
        if (v && chain_ok(v, fo.dlfo_link_map, (uintptr_t)fo.dlfo_map_start, &found) && found)
            n++;
    }
    return n;
}

static const void *dead_map;
static int dead(const void *map) { return map == dead_map; }

int main(void)
{
    char err[512];
    size_t next = 0;
    const char *np, *nx, *ny, *nz;
    void *p = open_next(&next, &np), *x = open_next(&next, &nx), *y = open_next(&next, &ny);
    void *probe = inside(p), *in_y = inside(y);
    size_t off = map_start_offset(probe);
    dlclose(x); /* marked closed in the copy readers use only */
    for (int i = 0; i < 4000; i++) { /* the freed link map reused and written over */
        size_t n = 16 + (size_t)(i % 200) * 16;
        memset(malloc(n), 0xaa, n);
    }
    int e = pml_dlfo_find(off, probe, err, sizeof err);
    if (e == -ENOTSUP)
        SKIP("find 1: %s", err);
    if (e)
        FAIL("find 1: %s", err);
    int w1 = with_probe(probe);
    if (w1 != 1)
        SKIP("find 1 saw %d words with the probe: the other copy of the pair was still a chain"
             " (the state this test needs did not come)", w1);
    printf("find 1: %d word(s), 1 with the probe (P %s, X %s closed, Y %s)\n", D.nslots, np, nx, ny);

    void *z = open_next(&next, &nz); /* ld.so rewrites the other copy and flips to it */
    (void)z;
    if ((e = pml_dlfo_find(off, probe, err, sizeof err)))
        FAIL("find 2: %s", err);
    keep_slots();
    D.nslots = 0; /* a whole look, as every find did before ac54fc1 */
    if ((e = pml_dlfo_find(off, probe, err, sizeof err)))
        FAIL("find 2 again, a whole look: %s", err);
    int same = nslots == D.nslots && !memcmp(slots, D.slot, sizeof slots[0] * (size_t)nslots);
    printf("find 2 (Z %s loaded since): %d word(s); a whole look: %d word(s), %d with the probe%s\n",
           nz, nslots, D.nslots, with_probe(probe), same ? "" : ": DIFFERENT");
    /* a restart: Y stands for the dead lower half's objects; closed with find 2's words */
    D.nslots = nslots;
    memcpy(D.slot, slots, sizeof slots);
    struct dl_find_object fo;
    if (_dl_find_object(in_y, &fo))
        FAIL("_dl_find_object does not know %s before the close", ny);
    dead_map = fo.dlfo_link_map;
    unsigned closed = pml_dlfo_close(dead);
    int r = _dl_find_object(in_y, &fo);
    printf("pml_dlfo_close closed %u entries; _dl_find_object(%p in %s) = %d\n", closed, in_y, ny, r);
    if (!same)
        FAIL("find 2 kept other words than a whole look finds");
    if (r == 0)
        FAIL("the closed object is still found: the unwinder would use its unwind data");
    printf("PASS\n");
    return 0;
}

/* Knowing the halves apart: the moments the owner of memory is certain, called by the layer
 * (layer.c) as MPI_Init proceeds:
 *   - at load (the layer's constructor) and again just before the lower half is loaded, every
 *     region then mapped is the application's (the kernel's exec set-up, the upper namespace's
 *     objects, the heap, whatever the program allocated before MPI_Init);
 *   - once the lower half is loaded: its namespace's objects (its link map, walked again after
 *     each dlopen/dlclose in it) are lower, and the interposition in the lower namespace
 *     (lower_root.c) and libucm start reporting to halves_hooks.c;
 *   - when MPI_Init returned, whatever appeared since "just before the lower half was loaded"
 *     and is not explained by the above (the lower libc's malloc arenas and thread stacks,
 *     MPI's segments) is lower; so is every descriptor that appeared meanwhile and that no
 *     wrapper marked (halves_query.c's rule for descriptors). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "common/log.h"
#include "pml_hooks/layer.h"
#include "pml_hooks/halves_internal.h"
#include "pml_hooks/lower_reset.h" /* pml_main_libc */

#include "common/fd_guard.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- snapshots of /proc/self/maps ----------------------------------------------------------- */
struct snap_q {
    int half, why;
};

/* ---- the application's malloc chunks that appeared while MPI_Init ran ----------------------
 * A thread of the application that allocates while MPI_Init runs (halves_ckpt, and the closing
 * note of session 31: memory of such a thread was left out of the image) gets a large block as a
 * mapping of glibc's own, made inside the application's libc (no mmap call of the layer sees it):
 * by the rule above it appeared during MPI_Init, the library's. But the lower half reports every
 * chunk its libc maps for itself (lower_root.c, before its callbacks are set too), so a mapping
 * that nothing explains and that is such a chunk (its size word: IS_MMAPPED, not NON_MAIN_ARENA,
 * its size the whole rest of a page-aligned mapping, prev_size 0) was mapped by the
 * application's libc: for a thread of the application, or for ld.so (which allocates with the
 * application's malloc for every namespace, as with its arenas: halves_arenas.c). Looked for at
 * each page of every unexplained piece of writable private anonymous memory, the words read
 * with process_vm_readv, many pages a call (hdr_next; /proc/self/mem only where that is
 * refused): a thread may unmap meanwhile, and a read then fails, no fault; at most
 * UCHUNK_SCAN_PAGES pages a piece (the rest stays the library's, as before).
 * A page whose two first words read as zeros then is a candidate (a chunk whose size word its
 * thread had not written yet: pml_halves_recheck_chunks); the others are the library's for good. */
#define UCHUNK_SCAN_PAGES 16384
struct gap_q {
    uint64_t lo[64], hi[64];
    int n;
};

static int recheck_mode; /* at a capture: the pieces the rule gave the library, not the gaps */
static unsigned app_objects_upper(void);

/* The candidates: runs of pages [lo, hi) of the library's pieces (PML_W_INIT) whose header words
 * read as zeros, in address order; at most CAND_MAX runs (a page past them stays the library's).
 * Made at MPI_Init's end, rebuilt at each capture (cand_next) from the pages still zero. Reading
 * every page of the library's pieces again at each capture (ebe4afb) took any live buffer of the
 * library whose bytes at a page start happened to look like a chunk's header for the
 * application's (diffrev32 R-L9): now a page is looked at only until it is first seen written,
 * and a chunk only taken whole inside one run. */
#define CAND_MAX 512
static struct cand_run {
    uint64_t lo, hi;
} cand[CAND_MAX], cand_next[CAND_MAX];
static int ncand, ncand_next;

static void cand_keep(uint64_t a, uint64_t b)
{
    struct cand_run *last = ncand_next ? &cand_next[ncand_next - 1] : NULL;
    if (last && last->hi == a)
        last->hi = b;
    else if (ncand_next < CAND_MAX)
        cand_next[ncand_next++] = (struct cand_run){ a, b };
}

/* The page at a holds a malloc mmapped chunk's header (prev_size 0; IS_MMAPPED, not
 * NON_MAIN_ARENA; a page-multiple size within `room`): its size, else 0. */
static uint64_t chunk_at(const uint64_t w[2], uint64_t room)
{
    uint64_t size = w[1] & ~(uint64_t)7;
    if (w[0] == 0 && (w[1] & 2) && !(w[1] & 4) && size >= 4096 && !(size & 4095) && size <= room)
        return size;
    return 0;
}

static void gap_piece(void *arg, uint64_t lo, uint64_t hi, int half, int why)
{
    struct gap_q *g = arg;
    int want = recheck_mode ? half == PML_HALF_LOWER && why == PML_W_INIT : !half;
    if (want && g->n < 64) {
        g->lo[g->n] = lo;
        g->hi[g->n] = hi;
        g->n++;
    }
}

/* /proc/self/mem, for hdr_next's fallback only: opened at the first read process_vm_readv
 * refuses (seccomp), not at every capture (diffrev34 R-L6), and closed by mem_done at the end of
 * the look, inside the fork guard section its caller holds. MEM_UNOPENED: not needed yet;
 * MEM_BROKEN: needed and it would not open (no word can be read: the look changes nothing). */
#define MEM_UNOPENED (-1)
#define MEM_BROKEN (-2)
static int mem_fd = MEM_UNOPENED;

static void mem_done(void)
{
    if (mem_fd >= 0)
        close(mem_fd);
    mem_fd = MEM_UNOPENED;
}
static void scan_gaps(const struct gap_q *g);

static void upper_chunks(uint64_t start, uint64_t end)
{
    struct gap_q g;
    /* the pieces 64 at a time: one mapping of the kernel's may hold many (adjacent anonymous
     * mappings are merged: the library's chunks and the application's side by side) */
    for (uint64_t pos = start; pos < end && mem_fd != MEM_BROKEN;) {
        g.n = 0;
        if (pml_reg_walk(pos, end, gap_piece, &g) != 0 || g.n == 0)
            return;
        scan_gaps(&g);
        if (g.n < 64)
            return;
        pos = g.hi[g.n - 1];
    }
}

/* The two first words of pages a, a + 4096, ... below stop, HDR_BATCH at a time, read with one
 * process_vm_readv (an iovec a page; the kernel stops at the first page it cannot read and never
 * splits an iovec): a capture looked at ~500 pages a rank with one pread of /proc/self/mem each
 * (issue 7, the capture's CPU). The words of pages past a chunk found in the batch are read for
 * nothing, harmlessly (a page never written reads as the zero page, which the image leaves out).
 * Where process_vm_readv is refused (seccomp: an error other than EFAULT), one pread of
 * /proc/self/mem a page as before. hdr_next gives a's words, NULL when they cannot be read (a
 * thread unmapped them meanwhile). */
#define HDR_BATCH 256
static struct {
    uint64_t base; /* the page of w[0] */
    int n;         /* pages read from base */
    uint64_t w[HDR_BATCH][2];
    struct iovec remote[HDR_BATCH];
} hb;

static const uint64_t *hdr_next(uint64_t a, uint64_t stop)
{
    if (hb.n && a >= hb.base && (a - hb.base) % 4096 == 0 && (a - hb.base) / 4096 < (uint64_t)hb.n)
        return hb.w[(a - hb.base) / 4096];
    int k = 0;
    for (uint64_t p = a; k < HDR_BATCH && p + 16 <= stop; p += 4096, k++)
        hb.remote[k] = (struct iovec){ (void *)(uintptr_t)p, 16 };
    hb.base = a;
    hb.n = 0;
    if (k == 0)
        return NULL;
    struct iovec local = { hb.w, (size_t)k * 16 };
    ssize_t got = syscall(SYS_process_vm_readv, getpid(), &local, 1UL, hb.remote, (unsigned long)k, 0UL);
    if (got < 0 && errno != EFAULT) {
        if (mem_fd == MEM_UNOPENED) {
            mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
            mem_fd = mem_fd >= 0 ? mem_fd : MEM_BROKEN;
        }
        got = mem_fd >= 0 && pread(mem_fd, hb.w[0], 16, (off_t)a) == 16 ? 16 : 0;
    }
    hb.n = got > 0 ? (int)(got / 16) : 0;
    return hb.n ? hb.w[0] : NULL;
}

/* MPI_Init's end: the pages of the pieces nothing explains */
static void scan_init(uint64_t a, uint64_t stop)
{
    hb.n = 0;
    for (int pages = 0; a + 16 <= stop && pages < UCHUNK_SCAN_PAGES; pages++) {
        const uint64_t *w = hdr_next(a, stop);
        uint64_t size;
        if (!w)
            break;
        if ((size = chunk_at(w, stop - a))) {
            pml_reg_fill(a, a + size, PML_HALF_UPPER, PML_W_UCHUNK);
            a += size;
            continue;
        }
        if (w[0] == 0 && w[1] == 0 && a + 4096 <= stop)
            cand_keep(a, a + 4096);
        a += 4096;
    }
    /* past the pages looked at (a large mapping): a run of zeros up to here goes on to the end */
    if (a < stop && ncand_next && cand_next[ncand_next - 1].hi == a)
        cand_keep(a, stop);
}

/* A capture: the candidate pages of a piece the rule gave the library; a page still zero stays a
 * candidate, one written otherwise than with a chunk's header is the library's for good. */
static void scan_recheck(uint64_t lo, uint64_t stop)
{
    for (int i = 0; i < ncand; i++) {
        uint64_t a = cand[i].lo > lo ? cand[i].lo : lo, end = cand[i].hi < stop ? cand[i].hi : stop;
        hb.n = 0;
        for (int pages = 0; a + 4096 <= end && pages < UCHUNK_SCAN_PAGES; pages++) {
            const uint64_t *w = hdr_next(a, end);
            uint64_t size;
            if (!w)
                break;
            if ((size = chunk_at(w, end - a))) {
                pml_reg_put(a, a + size, PML_HALF_UPPER, PML_W_UCHUNK);
                a += size;
                continue;
            }
            if (w[0] == 0 && w[1] == 0)
                cand_keep(a, a + 4096);
            a += 4096;
        }
        if (a < end && end - a >= 4096)
            cand_keep(a, end); /* not looked at this time (the page bound): still candidates */
    }
}

static void scan_gaps(const struct gap_q *g)
{
    for (int i = 0; i < g->n; i++) {
        if (recheck_mode)
            scan_recheck(g->lo[i], g->hi[i]);
        else
            scan_init(g->lo[i], g->hi[i]);
    }
}

/* At a capture, every other thread parked: the candidate pages of the pieces the rule gave the
 * library looked at again. A thread preempted between glibc's mmap of a chunk and its write of
 * the chunk's size word (under load: milliseconds) left a mapping that read as zeros when
 * MPI_Init ended (rank_initalloc-mpich lost a block 1 run in 3 at load ~10); once parked, every
 * chunk it made since has its size word, written before anything else in it. The capture's own
 * memory map (libcr reads /proc/self/maps once, after the park: the filter's regions_begin) says
 * which mappings to look in; reading the map here as well was a third read per capture. */
static int recheck_armed;

void pml_halves_recheck_chunks(void)
{
    recheck_armed = 1;
}

int pml_halves_recheck_map(const struct crs_filter_map *maps, size_t n)
{
    /* every other thread is parked: one may hold ld.so's locks (then the capture is tried again,
     * capture.c's produce, and this image is not kept) */
    if (pml_ldso_loader_free())
        app_objects_upper();
    if (!recheck_armed)
        return 0;
    recheck_armed = 0;
    if (!pml_lower_chunks_whole() || ncand == 0)
        return 0;
    revive_fd_enter(); /* (hdr_next may open /proc/self/mem) */
    recheck_mode = 1;
    ncand_next = 0;
    for (size_t i = 0; i < n && mem_fd != MEM_BROKEN; i++)
        if (!maps[i].path[0] && !maps[i].shared &&
            (maps[i].prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE))
            upper_chunks(maps[i].start, maps[i].end);
    if (mem_fd != MEM_BROKEN) { /* (no word read: the candidates stay as they were) */
        memcpy(cand, cand_next, (size_t)ncand_next * sizeof *cand);
        ncand = ncand_next;
    }
    recheck_mode = 0;
    mem_done();
    revive_fd_leave();
    return 0;
}

static int snap_line(const struct revive_maps_entry *m, void *arg)
{
    struct snap_q *q = arg;
    int w;
    if (q->half == PML_HALF_LOWER && pml_name_rule(m->name, &w) == PML_HALF_UPPER)
        return 0; /* the heap, the main stack and the kernel's regions grow or move but stay upper */
    if (q->half == PML_HALF_LOWER && !m->name[0] && pml_arena_half(m->start) == PML_HALF_UPPER) {
        pml_reg_fill(m->start, m->end, PML_HALF_UPPER, PML_W_ARENA);
        return 0; /* the application's malloc made it while MPI_Init ran (see halves_arenas.c) */
    }
    if (q->half == PML_HALF_LOWER && !m->name[0] && !m->shared &&
        (m->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE) && pml_lower_chunks_whole())
        upper_chunks(m->start, m->end);
    pml_reg_fill(m->start, m->end, q->half, q->why);
    return 0;
}

static void snapshot(int half, int why)
{
    struct snap_q q = { half, why };
    if (half == PML_HALF_LOWER) {
        /* (the application's threads run, and hdr_next may open /proc/self/mem: common/fd_guard.h) */
        revive_fd_enter();
        ncand_next = 0; /* (a restart's fresh library: the candidates of the last one are gone) */
    }
    pml_maps_each(snap_line, &q);
    if (half == PML_HALF_LOWER) {
        memcpy(cand, cand_next, (size_t)ncand_next * sizeof *cand);
        ncand = ncand_next;
        mem_done();
        revive_fd_leave();
    }
}

/* ---- the lower namespace's objects ---------------------------------------------------------- */
static int obj_extent(const void *fbase, uint64_t *lo, uint64_t *hi)
{
    struct pml_span q;
    if (pml_elf_span(fbase, &q) != 0)
        return -1;
    *lo = pml_page_down(q.lo);
    *hi = pml_page_up(q.hi);
    return 0;
}

static int upper_has_ld(const void *ld)
{
    for (struct link_map *m = _r_debug.r_map; m; m = m->l_next)
        if (m->l_ld == ld)
            return 1;
    return 0;
}

static int n_lower_objects;
#define LOBJ_MAX 1024
/* an object's extent, and what it was found by: its load bias, its dynamic section and a hash
 * of its name (the same file at the same place has the same extent) */
struct lobj {
    uint64_t lo, hi;
    uintptr_t addr;
    const void *ld;
    uint64_t name;
};
static struct lobj lobj[LOBJ_MAX], lobj_new[LOBJ_MAX];
static unsigned n_walks, n_looked_up; /* said once the lower half is ready (tests/mpi/halves.sh) */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* After the lower half loaded or closed objects: the extent of each object in its link map is
 * lower; the extent of an object that is gone (Open MPI closes the components it does not
 * select) is given up, since the application's libc may map something there next. An object
 * the last walk saw (same bias, dynamic section and name) keeps the extent found then: dladdr
 * scans the object's symbols, and Open MPI's MPI_Init opens and closes some 60 components, each
 * a walk over every object of the namespace (perf of 8 restored ranks: _dl_addr under this walk
 * was an eighth of their CPU after the restore, and a quarter of their main threads' at
 * MPI_Finalize); now only a new object is looked up. */
void pml_halves_walk_lower_objects(void)
{
    struct link_map *lm = NULL;
    if (!pml_lower_handle || dlinfo(pml_lower_handle, RTLD_DI_LINKMAP, &lm) || !lm)
        return;
    while (lm->l_prev)
        lm = lm->l_prev;
    n_walks++;
    int n = 0;
    for (; lm && n < LOBJ_MAX; lm = lm->l_next) {
        Dl_info di;
        uint64_t lo, hi, name = name_hash(lm->l_name);
        if (upper_has_ld(lm->l_ld)) /* ld.so: one copy shared by every namespace */
            continue;
        int seen = -1;
        for (int i = 0; i < n_lower_objects && seen < 0; i++)
            if (lobj[i].ld == lm->l_ld && lobj[i].addr == lm->l_addr && lobj[i].name == name)
                seen = i;
        if (seen >= 0) {
            lobj_new[n++] = lobj[seen];
            continue;
        }
        n_looked_up++;
        if (!dladdr(lm->l_ld, &di) || !di.dli_fbase || obj_extent(di.dli_fbase, &lo, &hi))
            continue;
        lobj_new[n] = (struct lobj){ lo, hi, lm->l_addr, lm->l_ld, name };
        n++;
    }
    for (int i = 0; i < n_lower_objects; i++) {
        int kept = 0;
        for (int j = 0; j < n && !kept; j++)
            kept = lobj[i].lo == lobj_new[j].lo && lobj[i].hi == lobj_new[j].hi;
        if (!kept)
            pml_reg_del(lobj[i].lo, lobj[i].hi);
    }
    for (int j = 0; j < n; j++)
        pml_reg_put(lobj_new[j].lo, lobj_new[j].hi, PML_HALF_LOWER, PML_W_LOBJ);
    memcpy(lobj, lobj_new, (size_t)n * sizeof *lobj);
    n_lower_objects = n;
}

void pml_halves_lower_gone(void)
{
    n_lower_objects = 0;
}

/* ---- the application's objects ---------------------------------------------------------------
 * ld.so maps what the program loads with mmap calls of its own, which no wrapper sees: the
 * registry knows such an object only by when it appeared. At a restart the application's threads
 * that are outside MPI run on while the fresh library loads (a Python program's main thread goes
 * on importing; h5py opens its extension modules), so an object they loaded then "appeared while
 * the MPI library was loaded and initialised" and was taken for the library's: left out of the
 * next image while ld.so still listed it, and so was an object loaded later where one of them had
 * been. The restart of that image died in its first dlopen (ld.so read the lost object's dynamic
 * section), dlsym or unwinder walk (newuser11 F3: 3 of 7 h5py chains; dl_chain.sh). Every object
 * on the application's list (the namespace of the layer: dl_iterate_phdr's) is the application's
 * whatever the registry says: what the registry gives the library of one, or leaves unknown,
 * becomes the application's just before the fresh library's snapshot of what appeared, and again
 * at each capture. Its extent is its segments' as ld.so mapped them (holes between them are kept
 * reserved by ld.so). */
#define UOBJ_PIECES 64
struct uobj_q {
    uint64_t lo[UOBJ_PIECES], hi[UOBJ_PIECES];
    int n;
};

static void not_upper_piece(void *arg, uint64_t lo, uint64_t hi, int half, int why)
{
    (void)why;
    struct uobj_q *q = arg;
    if (half != PML_HALF_UPPER && q->n < UOBJ_PIECES) {
        q->lo[q->n] = lo;
        q->hi[q->n] = hi;
        q->n++;
    }
}

static int app_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    unsigned *claimed = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !ph->p_memsz)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (hi <= lo)
        return 0;
    struct uobj_q q;
    q.n = 0;
    if (pml_reg_walk(pml_page_down(lo), pml_page_up(hi), not_upper_piece, &q) != 0)
        return 0;
    for (int i = 0; i < q.n; i++)
        pml_reg_put(q.lo[i], q.hi[i], PML_HALF_UPPER, PML_W_UOBJ);
    *claimed += (unsigned)q.n;
    return 0;
}

/* Takes ld.so's lock of its lists (dl_iterate_phdr): only while the other threads run, or with
 * them parked once pml_ldso_loader_free said none holds it. Allocates nothing. Returns how many
 * pieces the registry had not given the application. */
static unsigned app_objects_upper(void)
{
    unsigned claimed = 0;
    dl_iterate_phdr(app_object, &claimed);
    return claimed;
}

/* ---- the moments ------------------------------------------------------------------------------ */
static void ucm_register(void *scope, int half)
{
    int rc = pml_halves_ucm_register(scope, half);
    if (rc != 1)
        revive_log_info("halves: UCX memory events of the %s half %s", pml_half_name(half),
                rc == 0 ? "reported to the layer" : "could not be registered");
}

static int ucm_upper_done;

void pml_halves_init(void)
{
    snapshot(PML_HALF_UPPER, PML_W_START);
    int rc = crs_capture_filter_register(pml_halves_capture_filter());
    if (rc)
        revive_log_warn("halves: cannot register with libcr as the capture filter (%s): a checkpoint"
                        " of this rank would save the MPI library too", strerror(-rc));
}

void pml_halves_before_lower(void)
{
    pml_thr_learn(); /* before the MPI library starts threads (which the layer does not wrap) */
    snapshot(PML_HALF_UPPER, PML_W_PRE);
    pml_fd_lower_starting();
    if (!ucm_upper_done) {
        ucm_upper_done = 1;
        ucm_register(RTLD_DEFAULT, PML_HALF_UPPER);
    }
}

void pml_halves_lower_loaded(void *handle)
{
    pml_halves_set_lower_present();
    pml_lower_set_cb_fn *set = (pml_lower_set_cb_fn *)revive_dlsym(handle, PML_LOWER_SET_CB);
    if (set)
        set(&pml_halves_lower_cb);
    else
        revive_log_warn("the lower half's root has no %s: what it maps later is not tracked",
                        PML_LOWER_SET_CB);
    ucm_register(handle, PML_HALF_LOWER);
    pml_halves_walk_lower_objects();
}

/* The writable data (PT_LOAD with PF_W) of the ELF object loaded with bias `bias`. */
static void rw_extent(uintptr_t fbase, uint64_t *lo, uint64_t *hi)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)fbase;
    struct pml_span q;
    *lo = *hi = 0;
    if (pml_elf_span((const void *)fbase, &q) != 0)
        return;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(fbase + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W)) {
            uint64_t a = q.bias + ph[i].p_vaddr, b = a + ph[i].p_memsz;
            if (!*lo || a < *lo)
                *lo = a;
            if (b > *hi)
                *hi = b;
        }
}

static int libc_name(const char *n)
{
    const char *s = n ? strrchr(n, '/') : NULL;
    return s && !strcmp(s + 1, "libc.so.6");
}

/* Both libcs' data, for telling their malloc arenas apart (halves_arenas.c). Each libc is found
 * by name in its namespace's list of objects, never by the address of one of its functions: in a
 * program built without -fPIE (as Debian's /usr/bin/python3) that address is the program's own
 * PLT entry (the function's one address for the whole process), so dladdr(&malloc) named the
 * program, whose data holds no arena list: an arena the application's malloc made while a
 * restart loaded the fresh library (the load watcher's, load_watch.c) was then taken for the
 * library's, left out of the image, and the next restart followed libc's list of free arenas
 * into unmapped memory (newuser7f F5: every rank's first malloc in a new thread crashed). */
static void find_libcs(void)
{
    uint64_t ulo = 0, uhi = 0, llo = 0, lhi = 0;
    Dl_info di;
    struct link_map *m = pml_main_libc();
    if (m && dladdr(m->l_ld, &di) && di.dli_fbase)
        rw_extent((uintptr_t)di.dli_fbase, &ulo, &uhi);
    struct link_map *lm = NULL;
    if (pml_lower_handle && !dlinfo(pml_lower_handle, RTLD_DI_LINKMAP, &lm) && lm) {
        while (lm->l_prev)
            lm = lm->l_prev;
        for (; lm; lm = lm->l_next)
            if (libc_name(lm->l_name) && dladdr(lm->l_ld, &di) && di.dli_fbase)
                rw_extent((uintptr_t)di.dli_fbase, &llo, &lhi);
    }
    pml_arena_set_libcs(ulo, uhi, llo, lhi);
    revive_log_debug("halves: the application's libc's data %#lx-%#lx, the lower half's %#lx-%#lx",
            (unsigned long)ulo, (unsigned long)uhi, (unsigned long)llo, (unsigned long)lhi);
}

void pml_halves_lower_ready(void)
{
    find_libcs();
    pml_halves_walk_lower_objects();
    unsigned app = app_objects_upper();
    snapshot(PML_HALF_LOWER, PML_W_INIT);
    pml_fd_lower_started();
    revive_log_info("halves: %d lower objects (%u walks of them, %u looked up), %d registry entries;"
                    " %u pieces of the application's objects claimed before the snapshot",
                    n_lower_objects, n_walks, n_looked_up, pml_reg_entries(), app);
}

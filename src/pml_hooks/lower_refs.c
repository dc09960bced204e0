/* Pointers into a dead lower half that the restarted rank still holds (lower_refs.h).
 *
 * After a restart the old lower half's objects are gone; their address ranges stay reserved
 * PROT_NONE (lower_reset.c), so a stale pointer faults at once (campaign-failures.md #11, #28:
 * a call into the dead half). This file finds such pointers in the application's writable memory
 * (REVIVE_DEAD_SCAN=1, a diagnostic: every word of the upper half's writable mappings that
 * points into a dead object's code, named with where it sits and what it pointed at), so that
 * the holder can be found: #28's was a window handle of the dead library that MPI_Win_free had
 * read before the entry where the snapshot parked the thread (its module's free function was
 * called by the fresh library). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/lower_refs.h"
#include "pml_hooks/halves_internal.h"
#include "pml_hooks/lower_reset.h"
#include "common/log.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DEAD_MAX 256

struct scan {
    uint64_t range[DEAD_MAX][2]; /* the objects' code (PT_LOAD segments with PF_X) */
    const char *name[DEAD_MAX];
    uint64_t base[DEAD_MAX];     /* where each was loaded (its file's addresses + base) */
    int n, hits, shown, all;
    uint64_t lo, hi; /* the ranges' bounds, to skip most words fast */
    pml_refs_upper_fn *is_upper;
};

static int dead_index(const struct scan *s, uint64_t v)
{
    for (int i = 0; i < s->n; i++)
        if (v >= s->range[i][0] && v < s->range[i][1])
            return i;
    return -1;
}

static int scan_region(const struct revive_maps_entry *m, void *arg)
{
    struct scan *s = arg;
    if (!(m->prot & PROT_READ) || !(m->prot & PROT_WRITE) || !s->is_upper(m->start))
        return 0;
    uint64_t self_lo = (uint64_t)(uintptr_t)s, self_hi = self_lo + sizeof *s;
    for (uint64_t a = m->start; a + 8 <= m->end; a += 8) {
        if (a >= self_lo && a < self_hi)
            continue; /* the scan's own table of the dead ranges */
        uint64_t v = *(const uint64_t *)(uintptr_t)a;
        if (v < s->lo || v >= s->hi)
            continue;
        int k = dead_index(s, v);
        if (k < 0)
            continue;
        s->hits++;
        int heap = m->name && !strcmp(m->name, "[heap]");
        if ((heap && !s->all) || s->shown++ >= (s->all ? 20000 : 200))
            continue;
        Dl_info di;
        const char *where = m->name && m->name[0] ? m->name : "anonymous";
        const char *sym = "";
        uint64_t base = m->start;
        if (dladdr((const void *)(uintptr_t)a, &di) && di.dli_fname) {
            where = di.dli_fname;
            base = (uint64_t)(uintptr_t)di.dli_fbase;
            sym = di.dli_sname ? di.dli_sname : "";
        }
        revive_log_warn("dead lower-half pointer at %#llx (%s+%#llx %s) = %#llx (%s+%#llx)",
                        (unsigned long long)a, where, (unsigned long long)(a - base), sym,
                        (unsigned long long)v, s->name[k],
                        (unsigned long long)(v - s->base[k]));
    }
    return 0;
}

/* The executable segment of the object at [lo, hi) whose file is path: narrows the range to its
 * code, where a pointer is a function or a return address (the dead link maps in the heap hold
 * many pointers to the objects' other parts). Unchanged when the file cannot be read. */
static void code_range(const char *path, uint64_t *lo, uint64_t *hi, uint64_t *basep)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[32];
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && eh.e_phnum <= 32 &&
        eh.e_phentsize == sizeof(Elf64_Phdr) &&
        pread(fd, ph, eh.e_phnum * sizeof *ph, (off_t)eh.e_phoff) == (ssize_t)(eh.e_phnum * sizeof *ph)) {
        uint64_t first = UINT64_MAX;
        for (int i = 0; i < eh.e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
                first = ph[i].p_vaddr;
        for (int i = 0; i < eh.e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && first != UINT64_MAX) {
                uint64_t base = (*lo & ~4095ull) - (first & ~4095ull);
                *basep = base;
                *lo = base + ph[i].p_vaddr;
                *hi = base + ph[i].p_vaddr + ph[i].p_memsz;
                break;
            }
    }
    close(fd);
}

int pml_refs_scan(pml_refs_upper_fn *is_upper, const char *how)
{
    if (!how || (strcmp(how, "1") && strcmp(how, "2")))
        return 0;
    static struct scan s; /* large: not on the stack */
    memset(&s, 0, sizeof s);
    s.is_upper = is_upper;
    s.all = how[0] == '2'; /* with the heap's (where ld.so left the dead link maps) */
    s.n = pml_ldso_dead_objects(s.range, s.name, DEAD_MAX);
    if (s.n <= 0)
        return 0;
    s.lo = UINT64_MAX;
    for (int i = 0; i < s.n; i++) {
        s.base[i] = s.range[i][0];
        code_range(s.name[i], &s.range[i][0], &s.range[i][1], &s.base[i]);
        revive_log_warn("dead lower-half object %s at %#llx-%#llx", s.name[i],
                        (unsigned long long)s.range[i][0], (unsigned long long)s.range[i][1]);
        s.lo = s.range[i][0] < s.lo ? s.range[i][0] : s.lo;
        s.hi = s.range[i][1] > s.hi ? s.range[i][1] : s.hi;
    }
    pml_maps_each(scan_region, &s);
    revive_log_warn("dead lower-half pointers: %d in the application's writable memory", s.hits);
    return s.hits;
}

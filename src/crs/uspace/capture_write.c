/* Writing the captured process: page data first, then the metadata sections. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/capture_filter.h"
#include "crs/uspace/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PM_PRESENT CRS_PM_PRESENT
#define PM_SWAPPED CRS_PM_SWAPPED
#define PM_FILE CRS_PM_FILE
#define PAGEMAP_BATCH 65536
#define ZERO_AHEAD 8 /* pages */

struct page_walk {
    struct crs_capture *c;
    struct crs_image_writer *w;
    struct crs_pagemap pmap;   /* /proc/self/pagemap (pagemap.h) */
    int mem_fd;
    uint64_t *pm;           /* pagemap batch */
    uint64_t pm_base;       /* the address of pm[0]'s page */
    size_t pm_n;            /* pages pm holds from pm_base (0: none) */
    uint64_t reach;         /* the end of the run of adjacent regions the walked one starts */
    unsigned char *mc;      /* mincore batch */
    char *bounce;           /* for regions we cannot read directly */
    size_t page;
    size_t map_i;           /* c->maps' entry the last region looked up was in */
};

/* Whether a region's pages may go through the writer's direct writes (image.h, crs_iw_direct):
 * only a private mapping none of whose pages another process maps (smaps' Shared_Clean and
 * Shared_Dirty are 0); the others are written through the page cache. The rule is 02f315d's,
 * from when a direct write read the pages in place and pinned them: the kernel unshared a page
 * shared copy-on-write (with a child after a fork, or a parent) that it pinned, and the process
 * kept the copy (diffrev34 R-M1). Since session 36 the writer copies the pages into its buffer
 * first (no pin, the checksum taken from the copy), so the rule is no longer needed for that;
 * kept, as those pages were never measured direct. Without smaps, none. */
static int region_direct_ok(struct page_walk *pw, const struct crs_rec_region *r)
{
    const struct crs_capture *c = pw->c;
    if (!c->maps_more)
        return 0;
    size_t i = pw->map_i < c->nmaps && c->maps[pw->map_i].start <= r->start ? pw->map_i : 0;
    while (i < c->nmaps && c->maps[i].end <= r->start)
        i++;
    pw->map_i = i;
    if (i == c->nmaps || c->maps[i].start > r->start || c->maps[i].end < r->end)
        return 0;
    return !c->maps[i].shared && c->maps_more[i].shared_kb == 0;
}

static int page_is_zero(const void *p, size_t len)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < len / 8; i += 4)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
            return 0;
    return 1;
}

/* Emits [start, start+len) of a region: straight from memory when readable,
 * otherwise through /proc/self/mem, which ignores the protection. `copy`
 * (the writing thread's own stack, which changes under the writer) goes
 * through a copy so that the checksum matches the bytes written. */
static int emit(struct page_walk *pw, uint64_t start, size_t len, int readable, int copy)
{
    if (readable && !copy)
        return crs_iw_add_pages(pw->w, start, (const void *)start, len);
    while (len) {
        size_t n = len < CRS_CHUNK_MAX ? len : CRS_CHUNK_MAX;
        ssize_t r = n;
        if (readable)
            memcpy(pw->bounce, (const void *)start, n);
        else
            r = pread(pw->mem_fd, pw->bounce, n, (off_t)start);
        if (r != (ssize_t)n) {
            crs_capture_error(pw->c, "cannot read protected memory at 0x%llx: %s",
                              (unsigned long long)start, r < 0 ? strerror(errno) : "short read");
            return -EIO;
        }
        int e = crs_iw_add_pages(pw->w, start, pw->bounce, n);
        if (e)
            return e;
        start += n;
        len -= n;
    }
    return 0;
}

static int walk_region(struct page_walk *pw, const struct crs_rec_region *r, int mode)
{
    size_t page = pw->page;
    /* a saved shared file mapping is read through /proc/self/mem: a page past the end of a file
     * another process shortened meanwhile is an error there, not a SIGBUS that ends the process */
    int readable = (r->prot & PROT_READ) != 0 && mode != CRS_PAGES_FILE;
    int here;
    int copy = (uint64_t)&here >= r->start && (uint64_t)&here < r->end;
    pw->w->direct_skip = !(readable && !copy && region_direct_ok(pw, r));
    uint64_t run_start = 0;
    size_t run_len = 0;
    /* pages tested for zeros: a written page is told by its first words, so the test is a
     * cache miss a page (a TLB miss too), which the hardware does not foresee across pages:
     * the first line of the page ZERO_AHEAD further on is asked for in advance */
    int zero_test = mode != CRS_PAGES_COW && mode != CRS_PAGES_FILE && readable;
    for (uint64_t base = r->start; base < r->end; base += (uint64_t)PAGEMAP_BATCH * page) {
        const uint64_t *pm = pw->pm;
        size_t npages = (r->end - base) / page;
        if (npages > PAGEMAP_BATCH)
            npages = PAGEMAP_BATCH;
        if (mode == CRS_PAGES_RESIDENT) {
            if (mincore((void *)base, npages * page, pw->mc) != 0)
                memset(pw->mc, 1, npages);
        } else if (mode != CRS_PAGES_ALL && mode != CRS_PAGES_FILE) {
            /* One read for a run of adjacent regions (a library's segments, a thread's stack
             * and guard): a region each cost a pread (~210 a rank). Not for the stack the
             * capture runs on, whose pages it makes present meanwhile: read just before. */
            if (copy || !pw->pm_n || base < pw->pm_base || base + npages * page > pw->pm_base + pw->pm_n * page) {
                size_t n = npages;
                if (!copy && pw->reach > base + npages * page)
                    n = (pw->reach - base) / page;
                if (n > PAGEMAP_BATCH)
                    n = PAGEMAP_BATCH;
                int pe = crs_pagemap_get(&pw->pmap, pw->pm, base, n);
                if (pe) {
                    crs_capture_error(pw->c, "cannot read /proc/self/pagemap: %s", strerror(-pe));
                    return -EIO;
                }
                pw->pm_base = base;
                pw->pm_n = copy ? 0 : n;
            }
            pm = pw->pm + (base - pw->pm_base) / page;
        }
        for (size_t i = 0; i < npages; i++) {
            uint64_t addr = base + i * page;
            int take;
            if (zero_test && i + ZERO_AHEAD < npages &&
                (mode != CRS_PAGES_PRESENT || (pm[i + ZERO_AHEAD] & PM_PRESENT)))
                __builtin_prefetch((const void *)(addr + ZERO_AHEAD * page));
            switch (mode) {
            case CRS_PAGES_PRESENT: take = (pm[i] & (PM_PRESENT | PM_SWAPPED)) != 0; break;
            case CRS_PAGES_COW:
                take = (pm[i] & (PM_PRESENT | PM_SWAPPED)) && !(pm[i] & PM_FILE);
                break;
            case CRS_PAGES_RESIDENT: take = pw->mc[i] & 1; break;
            default: take = 1; break;
            }
            /* A written page of a private file mapping must be kept even when
             * zero: the file below it is not, nor is a saved shared file's (its
             * bytes may change after the checkpoint). Elsewhere zero is the default. */
            if (take && zero_test && page_is_zero((const void *)addr, page))
                take = 0;
            if (take && run_len && run_start + run_len == addr && run_len < CRS_CHUNK_MAX) {
                run_len += page;
                continue;
            }
            if (run_len) {
                int e = emit(pw, run_start, run_len, readable, copy);
                if (e)
                    return e;
                pw->c->pages_stored += run_len / page;
                run_len = 0;
            }
            if (take) {
                run_start = addr;
                run_len = page;
            }
        }
    }
    if (run_len) {
        int e = emit(pw, run_start, run_len, readable, copy);
        if (e)
            return e;
        pw->c->pages_stored += run_len / page;
    }
    return 0;
}

static int write_memory(struct crs_capture *c, struct crs_image_writer *w)
{
    struct page_walk pw = { .c = c, .w = w, .page = (size_t)sysconf(_SC_PAGESIZE) };
    pw.pm = crs_scratch_alloc(c->scratch, PAGEMAP_BATCH * sizeof(uint64_t));
    pw.mc = crs_scratch_alloc(c->scratch, PAGEMAP_BATCH);
    /* page-aligned, so that the writer's direct writes (crs_iw_direct) take copies too */
    pw.bounce = crs_scratch_alloc(c->scratch, CRS_CHUNK_MAX + pw.page);
    if (pw.bounce)
        pw.bounce = (char *)(((uintptr_t)pw.bounce + pw.page - 1) & ~(uintptr_t)(pw.page - 1));
    if (!pw.pm || !pw.mc || !pw.bounce) {
        crs_capture_error(c, "out of scratch memory for the page walk");
        return -ENOMEM;
    }
    pw.pmap.page = pw.page;
    pw.pmap.vec_len = 4096;
    pw.pmap.vec = crs_scratch_alloc(c->scratch, pw.pmap.vec_len * 3 * sizeof(uint64_t));
    if (!pw.pmap.vec) {
        crs_capture_error(c, "out of scratch memory for the page walk");
        return -ENOMEM;
    }
    pw.pmap.fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    pw.mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (pw.pmap.fd < 0 || pw.mem_fd < 0) {
        crs_capture_error(c, "cannot open /proc/self/pagemap or /proc/self/mem: %s", strerror(errno));
        if (pw.pmap.fd >= 0) close(pw.pmap.fd);
        if (pw.mem_fd >= 0) close(pw.mem_fd);
        return -EIO;
    }
    int e = 0;
    size_t j = 0; /* the last region of the run of adjacent ones region i is in */
    for (size_t i = 0; i < c->nregions && !e; i++) {
        if (i == 0 || j < i) {
            j = i;
            while (j + 1 < c->nregions && c->regions[j + 1].start == c->regions[j].end)
                j++;
            /* the file bit only for a run with a private file mapping's copied pages to tell:
             * the kernel looks up every present page to give it */
            pw.pmap.no_file = 1;
            for (size_t k = i; k <= j; k++)
                if (c->region_pages[k] == CRS_PAGES_COW)
                    pw.pmap.no_file = 0;
        }
        if (c->region_pages[i] == CRS_PAGES_NONE)
            continue;
        pw.reach = c->regions[j].end;
        if (c->region_pages[i] == CRS_PAGES_FILE) {
            /* a saved shared file mapping: its pages within the file's size (the last one whole) */
            struct crs_rec_region in = c->regions[i];
            uint64_t size = c->files[in.file].size, len = in.end - in.start;
            uint64_t within = size > in.pgoff ? size - in.pgoff : 0;
            within = (within + pw.page - 1) / pw.page * pw.page;
            if (within < len)
                in.end = in.start + within;
            if (in.end > in.start)
                e = walk_region(&pw, &in, CRS_PAGES_FILE);
            /* when its pages were read (copied out): of several ranks' copies of the file, the
             * one read last is written back at restart (image_format.h) */
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            c->regions[i].saved_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
            continue;
        }
        e = walk_region(&pw, &c->regions[i], c->region_pages[i]);
    }
    close(pw.pmap.fd);
    close(pw.mem_fd);
    w->direct_skip = 0;
    /* the page data written: the direct writes' buffer goes before anything else runs */
    int de = crs_iw_direct_end(w);
    if (!e && de) {
        crs_capture_error(c, "%s", w->err);
        e = de;
    }
    return e;
}

static int strref(struct crs_capture *c, struct crs_image_writer *w, const char *s, struct crs_strref *ref)
{
    int e = crs_iw_string(w, s ? s : "", ref);
    if (e)
        crs_capture_error(c, "%s", w->err);
    return e;
}

static int section(struct crs_capture *c, struct crs_image_writer *w, uint32_t type, const void *recs,
                   size_t size, size_t count)
{
    int e = crs_iw_section(w, type, recs, size, count);
    if (e)
        crs_capture_error(c, "%s", w->err);
    return e;
}

struct ext_ctx {
    struct crs_image_writer *w;
    int failed;           /* a write through the sink failed: w->err says why */
};

static int ext_append(void *ctx, const void *bytes, size_t len)
{
    struct ext_ctx *x = ctx;
    int e = crs_iw_extension_append(x->w, bytes, len);
    if (e)
        x->failed = 1;
    return e;
}

/* One extension section per registered producer (capture_filter.h). */
static int write_extensions(struct crs_capture *c, struct crs_image_writer *w)
{
    int n = crs_capture_extension_count();
    for (int i = 0; i < n; i++) {
        const char *owner;
        int (*produce)(void *, struct crs_ext_sink *);
        void *arg;
        if (crs_capture_extension_get(i, &owner, &produce, &arg) != 0)
            continue;
        int e = crs_iw_extension_begin(w, owner);
        if (e) {
            crs_capture_error(c, "%s", w->err);
            return e;
        }
        struct ext_ctx x = { w, 0 };
        struct crs_ext_sink sink = { ext_append, &x };
        e = produce(arg, &sink);
        if (e > 0)
            e = -e;
        if (!e)
            e = crs_iw_extension_end(w);
        else if (!x.failed)
            crs_capture_error(c, "the %s extension's producer failed: %s", owner, strerror(-e));
        if (e && (x.failed || !c->err[0]))
            crs_capture_error(c, "the %s extension could not be written: %s", owner, w->err);
        if (e)
            return e;
    }
    return 0;
}

/* The saved files' bytes (FDATA), read from their descriptors or, for
 * those without one, from their mappings through /proc/self/mem. */
static int write_fobjs(struct crs_capture *c, struct crs_image_writer *w)
{
    if (!c->nfobjs)
        return 0;
    char *bounce = crs_scratch_alloc(c->scratch, CRS_CHUNK_MAX);
    if (!bounce) {
        crs_capture_error(c, "out of scratch memory for the saved files");
        return -ENOMEM;
    }
    int mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    int e = crs_capture_fobj_write(c, w, bounce, mem_fd);
    if (mem_fd >= 0)
        close(mem_fd);
    return e;
}

int crs_capture_write(struct crs_capture *c, struct crs_image_writer *w)
{
    int e = write_memory(c, w);
    if (!e)
        e = write_fobjs(c, w);
    if (e) {
        if (!c->err[0])
            crs_capture_error(c, "%s", w->err);
        return e;
    }
    /* smaps now (opts.smaps_late), while the disk writes the pages: what it adds (advice, huge
     * page sizes) goes into the records below, and nothing before needed it */
    if (c->opts.smaps_late) {
        crs_iw_start_writeback(w);
        if ((e = crs_capture_smaps_late(c)))
            return e;
    }
    if ((e = strref(c, w, c->exe, &c->proc.exe)) || (e = strref(c, w, c->cwd, &c->proc.cwd)) ||
        (e = strref(c, w, c->cmdline, &c->proc.cmdline)))
        return e;
    for (size_t i = 0; i < c->nregions; i++)
        if ((e = strref(c, w, c->region_names[i], &c->regions[i].name)))
            return e;
    for (size_t i = 0; i < c->nfiles; i++)
        if ((e = strref(c, w, c->file_paths[i], &c->files[i].path)))
            return e;
    for (size_t i = 0; i < c->nmemfds; i++)
        if ((e = strref(c, w, c->memfd_names[i], &c->memfds[i].name)))
            return e;
    for (size_t i = 0; i < c->nfds; i++)
        if ((e = strref(c, w, c->fd_paths[i], &c->fds[i].path)))
            return e;
    for (size_t i = 0; i < c->nfobjs; i++)
        if ((e = strref(c, w, c->fobj_paths[i], &c->fobjs[i].path)))
            return e;
    for (size_t i = 0; i < c->ninwatches; i++)
        if ((e = strref(c, w, c->inwatch_paths[i], &c->inwatches[i].path)))
            return e;
    for (size_t i = 0; i < c->nregions; i++)
        if (c->regions[i].flags & CRS_REGION_F_SAVED)
            crs_iw_require_version(w, 21);
        else if (c->regions[i].kind > CRS_REGION__LAST_V1 || c->regions[i].madvise || c->regions[i].page_shift)
            crs_iw_require_version(w, 3);
    if (c->proc.flags & ~CRS_PROC_F_RESTORE_PID)
        crs_iw_require_version(w, 3);
    for (size_t i = 0; i < c->nmemfds; i++)
        if (c->memfds[i].page_shift)
            crs_iw_require_version(w, 3);
    for (size_t i = 0; i < c->ntimers; i++)
        if (c->timers[i].pending)
            crs_iw_require_version(w, (c->timers[i].notify & SIGEV_THREAD_ID) ? 10 : 6);
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i].kind == CRS_FD_PIDFD && c->fds[i].memfd == 0)
            crs_iw_require_version(w, 6);
        else if (c->fds[i].kind > CRS_FD__LAST_V3)
            crs_iw_require_version(w, 5);
        else if (c->fds[i].kind > CRS_FD__LAST_V1)
            crs_iw_require_version(w, 3);
    for (size_t i = 0; i < c->npipes; i++)
        if (c->pipes[i].flags & CRS_PIPE_F_FIFO)
            crs_iw_require_version(w, 19);
    if (c->ncreds)
        crs_iw_require_version(w, 7);
    if (c->proc.flags & (CRS_PROC_F_SUBREAPER | CRS_PROC_F_CAPS))
        crs_iw_require_version(w, (c->proc.flags & CRS_PROC_F_CAPSET) ? 10 : 9);
    for (size_t i = 0; i < c->nthreads; i++)
        if (c->threads[i].flags & CRS_THREAD_F_SECUREBITS)
            crs_iw_require_version(w, 11);
        else if (c->threads[i].pdeathsig)
            crs_iw_require_version(w, 9);
    for (size_t i = 0; i < c->nfobjs; i++)
        if (c->fobjs[i].kind == CRS_FOBJ_SYSV)
            crs_iw_require_version(w, 11);
        else if (c->fobjs[i].flags)
            crs_iw_require_version(w, 9);
    if (c->nsysvipcs)
        crs_iw_require_version(w, 12);
    /* the threads' attributes, when the program changed some */
    size_t ntattrs = 0;
    for (size_t i = 0; c->tattrs && i < c->nthreads; i++)
        if (c->tattrs[i].flags || c->tattrs[i].seccomp)
            ntattrs = c->nthreads;
    if (ntattrs || (c->proc.flags & CRS_PROC_F_NODUMP))
        crs_iw_require_version(w, 16);
    c->proc.thread_count = (uint32_t)c->nthreads;
    if ((e = section(c, w, CRS_SEC_PROCESS, &c->proc, sizeof c->proc, 1)) ||
        (e = section(c, w, CRS_SEC_THREADS, c->threads, sizeof *c->threads, c->nthreads)) ||
        (c->ntcaps && (e = section(c, w, CRS_SEC_THREADCAPS, c->tcaps, sizeof *c->tcaps, c->ntcaps))) ||
        (ntattrs && (e = section(c, w, CRS_SEC_THREADATTR, c->tattrs, sizeof *c->tattrs, ntattrs))) ||
        (c->nseccomps && (e = section(c, w, CRS_SEC_SECCOMP, c->seccomps, sizeof *c->seccomps, c->nseccomps))) ||
        (c->nseccomps && (e = section(c, w, CRS_SEC_SECCOMPDATA, c->seccompdata, sizeof(uint64_t),
                                      c->nseccompdata))) ||
        (e = section(c, w, CRS_SEC_REGIONS, c->regions, sizeof *c->regions, c->nregions)) ||
        (e = section(c, w, CRS_SEC_FILES, c->files, sizeof *c->files, c->nfiles)) ||
        (e = section(c, w, CRS_SEC_MEMFDS, c->memfds, sizeof *c->memfds, c->nmemfds)) ||
        (e = section(c, w, CRS_SEC_FDS, c->fds, sizeof *c->fds, c->nfds)) ||
        (e = section(c, w, CRS_SEC_SIGNALS, c->sig, sizeof c->sig[0], 64)) ||
        (e = section(c, w, CRS_SEC_AUXV, c->auxv, sizeof(uint64_t), c->nauxv)) ||
        (c->nsockets && (e = section(c, w, CRS_SEC_SOCKETS, c->sockets, sizeof *c->sockets, c->nsockets))) ||
        (c->sockdata_len && (e = section(c, w, CRS_SEC_SOCKDATA, c->sockdata, 1, c->sockdata_len))) ||
        (c->nsockopts && (e = section(c, w, CRS_SEC_SOCKOPTS, c->sockopts, sizeof *c->sockopts, c->nsockopts))) ||
        (c->nmcasts && (e = section(c, w, CRS_SEC_MCAST, c->mcasts, sizeof *c->mcasts, c->nmcasts))) ||
        (c->nmcast_srcs && (e = section(c, w, CRS_SEC_MCASTSRC, c->mcast_srcs, sizeof *c->mcast_srcs,
                                        c->nmcast_srcs))) ||
        (c->nfdowns && (e = section(c, w, CRS_SEC_FDOWNERS, c->fdowns, sizeof *c->fdowns, c->nfdowns))) ||
        (c->nkfds && (e = section(c, w, CRS_SEC_KFDS, c->kfds, sizeof *c->kfds, c->nkfds))) ||
        (c->nepoll_tgts && (e = section(c, w, CRS_SEC_EPOLLTGTS, c->epoll_tgts, sizeof *c->epoll_tgts,
                                        c->nepoll_tgts))) ||
        (c->nepoll_vias && (e = section(c, w, CRS_SEC_EPOLLVIA, c->epoll_vias, sizeof *c->epoll_vias,
                                        c->nepoll_vias))) ||
        (c->nepoll_edges && (e = section(c, w, CRS_SEC_EPOLLEDGE, c->epoll_edges, sizeof *c->epoll_edges,
                                         c->nepoll_edges))) ||
        (c->ninwatches && (e = section(c, w, CRS_SEC_INWATCHES, c->inwatches, sizeof *c->inwatches,
                                       c->ninwatches))) ||
        (c->nlocks && (e = section(c, w, CRS_SEC_LOCKS, c->locks, sizeof *c->locks, c->nlocks))) ||
        (c->ntimers && (e = section(c, w, CRS_SEC_TIMERS, c->timers, sizeof *c->timers, c->ntimers))) ||
        (c->ncreds && (e = section(c, w, CRS_SEC_CREDS, c->creds, sizeof *c->creds, c->ncreds))) ||
        (c->nsiginfos && (e = section(c, w, CRS_SEC_SIGINFO, c->siginfos, sizeof *c->siginfos, c->nsiginfos))) ||
        (c->nfobjs && (e = section(c, w, CRS_SEC_FOBJS, c->fobjs, sizeof *c->fobjs, c->nfobjs))) ||
        (c->nfobjs && (e = section(c, w, CRS_SEC_FEXTENTS, c->fext_out, sizeof *c->fext_out, c->nfext_out))) ||
        (c->nsysvipcs && (e = section(c, w, CRS_SEC_SYSVIPC, c->sysvipcs, sizeof *c->sysvipcs, c->nsysvipcs))) ||
        (c->sysvipcdata_len && (e = section(c, w, CRS_SEC_SYSVIPCDATA, c->sysvipcdata, 1, c->sysvipcdata_len))) ||
        (c->npipes && (e = section(c, w, CRS_SEC_PIPES, c->pipes, sizeof *c->pipes, c->npipes))) ||
        (c->pipedata_len && (e = section(c, w, CRS_SEC_PIPEDATA, c->pipedata, 1, c->pipedata_len))))
        return e;
    return write_extensions(c, w);
}

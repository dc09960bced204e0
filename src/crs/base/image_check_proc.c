/*
 * The image reader's checks of the process's own records (image_sections.def's
 * CHECK column; run in its order by image_reader.c): the process, its threads
 * and their capabilities, attributes and seccomp filters, memory regions and
 * chunks, mapped files, memfds, saved files, queued signals, credentials and
 * timers. Nothing in the file is trusted before it is checked: every index,
 * count and string reference is bounded here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "crs/base/image.h"
#include "crs/base/image_reader_int.h"

int crs_ir_check_process(struct crs_image *img)
{
    const struct crs_rec_process *p = img->process;
    if (!crs_ir_str_ok(img, p->exe) || !crs_ir_str_ok(img, p->cwd) || !crs_ir_str_ok(img, p->cmdline))
        return crs_ir_fail(img, EBADMSG, "process names point outside STRINGS: " CORRUPT);
    uint32_t known =
        CRS_PROC_F_RESTORE_PID | (img->hdr.version >= 3 ? CRS_PROC_F_THP_DISABLE | CRS_PROC_F_CTTY : 0) |
        (img->hdr.version >= 9 ? CRS_PROC_F_SUBREAPER | CRS_PROC_F_CAPS : 0) |
        (img->hdr.version >= 10 ? CRS_PROC_F_CAPSET : 0) | (img->hdr.version >= 16 ? CRS_PROC_F_NODUMP : 0);
    if (p->flags & ~known)
        return crs_ir_fail(img, EBADMSG, "process flags 0x%" PRIx32 " are unknown: " CORRUPT, p->flags);
    return 0;
}

int crs_ir_check_threads(struct crs_image *img)
{
    for (size_t i = 0; i < img->nthreads; i++) {
        const struct crs_rec_thread *t = &img->threads[i];
        uint32_t flags_ok = CRS_THREAD_F_MAIN | CRS_THREAD_F_MANAGER |
                            (img->hdr.version >= 11 ? CRS_THREAD_F_SECUREBITS : 0);
        if (t->tid <= 0 || (t->flags & ~flags_ok) || (!(t->flags & CRS_THREAD_F_SECUREBITS) && t->securebits))
            return crs_ir_fail(img, EBADMSG, "thread %zu has an impossible id or flags: " CORRUPT, i);
    }
    return 0;
}

/* After check_process and check_threads: each names a thread, in order, of
 * a process whose sets are recorded. */
int crs_ir_check_thread_caps(struct crs_image *img)
{
    size_t t = 0;
    for (size_t i = 0; i < img->nthread_caps; i++) {
        while (t < img->nthreads && img->threads[t].tid != img->thread_caps[i].tid)
            t++;
        if (t == img->nthreads || !(img->process->flags & CRS_PROC_F_CAPSET))
            return crs_ir_fail(img, EBADMSG, "thread capability record %zu names no thread of the image, or the "
                        "process's own sets are missing: " CORRUPT, i);
        t++;
    }
    return 0;
}

/* After check_threads: one per thread, in THREADS' order, with known flags
 * and values the kernel could have given. */
int crs_ir_check_thread_attrs(struct crs_image *img)
{
    if (img->nthread_attrs && img->nthread_attrs != img->nthreads)
        return crs_ir_fail(img, EBADMSG, "%zu thread attribute records for %zu threads: " CORRUPT, img->nthread_attrs,
                    img->nthreads);
    for (size_t i = 0; i < img->nthread_attrs; i++) {
        const struct crs_rec_thread_attr *a = &img->thread_attrs[i];
        if (a->tid != img->threads[i].tid || (a->flags & ~CRS_TATTR__FLAGS) || a->nice < -20 || a->nice > 19 ||
            a->priority > 99)
            return crs_ir_fail(img, EBADMSG, "thread attribute record %zu names another thread or holds impossible "
                        "values: " CORRUPT, i);
    }
    return 0;
}

/* After check_thread_attrs: programs inside SECCOMPDATA, threads under at
 * most all of them. */
int crs_ir_check_seccomps(struct crs_image *img)
{
    for (size_t i = 0; i < img->nseccomps; i++) {
        const struct crs_rec_seccomp *s = &img->seccomps[i];
        if (!s->len || s->len > CRS_SECCOMP_LEN_MAX || s->data > img->nseccompdata ||
            s->len > img->nseccompdata - s->data || s->inherited != img->seccomps[0].inherited)
            return crs_ir_fail(img, EBADMSG, "seccomp filter %zu lies outside its section: " CORRUPT, i);
    }
    for (size_t i = 0; i < img->nthread_attrs; i++)
        if (img->thread_attrs[i].seccomp > img->nseccomps)
            return crs_ir_fail(img, EBADMSG, "thread %zu ran under more seccomp filters than the image holds: " CORRUPT, i);
    return 0;
}

int crs_ir_check_regions(struct crs_image *img)
{
    uint64_t page = img->hdr.page_size, prev_end = 0;
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *r = &img->regions[i];
        if (r->start >= r->end || r->start % page || r->end % page || r->start < prev_end)
            return crs_ir_fail(img, EBADMSG, "region %zu has bad bounds or overlaps region %zu: " CORRUPT,
                        i, i ? i - 1 : 0);
        prev_end = r->end;
        uint32_t last = img->hdr.version >= 3 ? CRS_REGION__LAST : CRS_REGION__LAST_V1;
        uint32_t flags_ok = CRS_REGION_F_GROWSDOWN | CRS_REGION_F_HEAP | CRS_REGION_F_STACK |
                            (img->hdr.version >= 11 && r->kind == CRS_REGION_FOBJ ? CRS_REGION_F_SHM_RDONLY : 0) |
                            (img->hdr.version >= 21 && r->kind == CRS_REGION_FILE_SHARED && (r->prot & PROT_WRITE)
                                 ? CRS_REGION_F_SAVED : 0);
        if (r->prot & ~7u || r->kind < CRS_REGION_ANON || r->kind > last || (r->flags & ~flags_ok))
            return crs_ir_fail(img, EBADMSG, "region %zu has unknown protection, kind or flags: " CORRUPT, i);
        bool idx_ok;
        if (r->kind == CRS_REGION_FILE || r->kind == CRS_REGION_FILE_SHARED)
            idx_ok = r->file >= 0 && (size_t)r->file < img->nfiles && r->pgoff % page == 0;
        else if (r->kind == CRS_REGION_SHMEM)
            idx_ok = r->file >= 0 && (size_t)r->file < img->nmemfds && r->pgoff % page == 0;
        else if (r->kind == CRS_REGION_FOBJ)
            idx_ok = r->file >= 0 && (size_t)r->file < img->nfobjs && r->pgoff % page == 0;
        else
            idx_ok = r->file == -1;
        if (!idx_ok)
            return crs_ir_fail(img, EBADMSG, "region %zu refers to a missing file or memfd: " CORRUPT, i);
        if (!crs_ir_str_ok(img, r->name))
            return crs_ir_fail(img, EBADMSG, "region %zu name points outside STRINGS: " CORRUPT, i);
        bool v3 = img->hdr.version >= 3;
        if ((r->madvise & ~CRS_MADV__ALL) || (r->page_shift && r->page_shift != 21 && r->page_shift != 30) ||
            (!v3 && (r->madvise || r->page_shift)) ||
            (r->page_shift && ((r->start | r->end) & ((1ull << r->page_shift) - 1))))
            return crs_ir_fail(img, EBADMSG, "region %zu has unknown advice or page size: " CORRUPT, i);
    }
    return 0;
}

/* After check_regions: every stored page must land in a region. */
int crs_ir_check_chunks(struct crs_image *img)
{
    const struct crs_image_header *h = &img->hdr;
    bool any_zstd = false;
    uint64_t prev_end = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        const struct crs_rec_chunk *c = &img->chunks[i];
        if (c->length == 0 || c->length > CRS_CHUNK_MAX || c->length % h->page_size ||
            c->vaddr % h->page_size || c->vaddr > UINT64_MAX - c->length)
            return crs_ir_fail(img, EBADMSG, "chunk %zu has an impossible address or length: " CORRUPT, i);
        if (i && c->vaddr < prev_end)
            return crs_ir_fail(img, EBADMSG, "chunk %zu is out of order or overlaps chunk %zu: " CORRUPT,
                        i, i - 1);
        prev_end = c->vaddr + c->length;
        if (c->compression == 0) {
            if (c->stored_length != c->length)
                return crs_ir_fail(img, EBADMSG, "chunk %zu stored size differs from its length: " CORRUPT, i);
        } else if (c->compression == CRS_CHUNK_ZSTD) {
            if (c->stored_length == 0 || c->stored_length >= c->length)
                return crs_ir_fail(img, EBADMSG, "chunk %zu has an impossible compressed size: " CORRUPT, i);
            any_zstd = true;
        } else {
            return crs_ir_fail(img, EBADMSG, "chunk %zu uses unknown compression %" PRIu32 ": " CORRUPT,
                        i, c->compression);
        }
        if (c->data_offset > h->table_offset || c->stored_length > h->table_offset - c->data_offset)
            return crs_ir_fail(img, EBADMSG, "chunk %zu data lies outside the image: " CORRUPT, i);
    }
    if (any_zstd != !!(h->flags & CRS_IMAGE_F_COMPRESSED))
        return crs_ir_fail(img, EBADMSG, "compression flag disagrees with the chunks: " CORRUPT);
    /* Every stored page must land inside a region the restart recreates
     * (the vdso is the kernel's and never written). Both lists ascend. */
    size_t j = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        uint64_t a = img->chunks[i].vaddr, end = a + img->chunks[i].length;
        while (a < end) {
            while (j < img->nregions && img->regions[j].end <= a)
                j++;
            /* a shared file mapping's pages are the file's, but where the image saved them */
            if (j == img->nregions || img->regions[j].start > a ||
                img->regions[j].kind == CRS_REGION_VDSO || img->regions[j].kind == CRS_REGION_FOBJ ||
                (img->regions[j].kind == CRS_REGION_FILE_SHARED && !(img->regions[j].flags & CRS_REGION_F_SAVED)))
                return crs_ir_fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") is outside every "
                            "region: " CORRUPT, i, a);
            a = img->regions[j].end < end ? img->regions[j].end : end;
        }
    }
    return 0;
}

int crs_ir_check_files(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfiles; i++)
        if (!crs_ir_str_ok(img, img->files[i].path) || img->files[i].build_id_len > CRS_BUILD_ID_MAX)
            return crs_ir_fail(img, EBADMSG, "file %zu has a bad path or build id: " CORRUPT, i);
    return 0;
}

int crs_ir_check_memfds(struct crs_image *img)
{
    for (size_t i = 0; i < img->nmemfds; i++) {
        const struct crs_rec_memfd *m = &img->memfds[i];
        if (!crs_ir_str_ok(img, m->name))
            return crs_ir_fail(img, EBADMSG, "memfd %zu name points outside STRINGS: " CORRUPT, i);
        if ((m->page_shift && m->page_shift != 21 && m->page_shift != 30) ||
            (m->page_shift && img->hdr.version < 3) ||
            (m->page_shift && (m->size & ((1ull << m->page_shift) - 1))))
            return crs_ir_fail(img, EBADMSG, "memfd %zu has an unknown page size: " CORRUPT, i);
    }
    return 0;
}

/* Saved files: kind, path; their extents inside FEXTENTS, ascending, inside
 * the file, each non-empty and its bytes inside FDATA; every extent belongs
 * to one file, in order. */
int crs_ir_check_fobjs(struct crs_image *img)
{
    uint64_t next = 0;
    for (size_t i = 0; i < img->nfobjs; i++) {
        const struct crs_rec_fobj *f = &img->fobjs[i];
        bool v11 = img->hdr.version >= 11;
        if (!crs_ir_str_ok(img, f->path) ||
            (f->kind != CRS_FOBJ_DELETED && f->kind != CRS_FOBJ_SHM && f->kind != CRS_FOBJ_MEMFD &&
             !(v11 && f->kind == CRS_FOBJ_SYSV)))
            return crs_ir_fail(img, EBADMSG, "saved file %zu has a bad kind or path: " CORRUPT, i);
        if (f->kind != CRS_FOBJ_SYSV ? (f->sysv_key || f->sysv_mode || (f->flags & CRS_FOBJ_F_REMOVED))
                                     : (f->sysv_mode & ~0777u || f->ino > INT32_MAX || f->size == 0))
            return crs_ir_fail(img, EBADMSG, "saved file %zu has System V fields that do not fit its kind: " CORRUPT, i);
        if (f->first_extent != next || f->nextents > img->nfextents - next)
            return crs_ir_fail(img, EBADMSG, "saved file %zu refers to extents it does not own: " CORRUPT, i);
        uint64_t end = 0;
        for (uint32_t k = 0; k < f->nextents; k++) {
            const struct crs_rec_fextent *x = &img->fextents[next + k];
            if (x->length == 0 || x->length > CRS_CHUNK_MAX || x->offset < end || x->offset > f->size || x->length > f->size - x->offset ||
                x->data_offset > img->fdata_len || x->length > img->fdata_len - x->data_offset)
                return crs_ir_fail(img, EBADMSG, "saved file %zu has extent %u out of order or outside its "
                            "bytes: " CORRUPT, i, k);
            end = x->offset + x->length;
        }
        next += f->nextents;
    }
    if (next != img->nfextents)
        return crs_ir_fail(img, EBADMSG, "%zu saved-file extents belong to no file: " CORRUPT,
                    (size_t)(img->nfextents - next));
    return 0;
}

/* Queued signals: a signal number from 1 to 64, a thread id not negative. */
int crs_ir_check_siginfos(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsiginfos; i++) {
        int32_t signo;
        memcpy(&signo, img->siginfos[i].info, sizeof signo);
        if (signo < 1 || signo > 64 || img->siginfos[i].tid < 0)
            return crs_ir_fail(img, EBADMSG, "queued signal %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Credentials (none before version 7): the six ids, then at most
 * CRS_CREDS_GROUPS_MAX groups. */
int crs_ir_check_creds(struct crs_image *img)
{
    if ((img->ncreds && img->ncreds < CRS_CREDS_IDS) || img->ncreds > CRS_CREDS_IDS + CRS_CREDS_GROUPS_MAX)
        return crs_ir_fail(img, EBADMSG, "the credentials section is malformed: " CORRUPT);
    return 0;
}

/* Timers: ascending ids, a notification the kernel knows, a signal for those
 * that send one, times that are not negative. */
int crs_ir_check_timers(struct crs_image *img)
{
    for (size_t i = 0; i < img->ntimers; i++) {
        const struct crs_rec_timer *t = &img->timers[i];
        int n = t->notify;
        bool ok = t->id >= 0 && (i == 0 || t->id > img->timers[i - 1].id) && t->value_ns >= 0 &&
                  t->interval_ns >= 0 && t->signo >= 0 && t->signo <= 64 &&
                  (n == SIGEV_NONE || ((n == SIGEV_SIGNAL || n == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) && t->signo > 0)) &&
                  (n != (SIGEV_SIGNAL | SIGEV_THREAD_ID) || t->tid > 0) &&
                  (t->pending == 0 || (img->hdr.version >= 6 && t->pending <= 1ull << 31 &&
                                       (n == SIGEV_SIGNAL ||
                                        (img->hdr.version >= 10 && n == (SIGEV_SIGNAL | SIGEV_THREAD_ID)))));
        if (!ok)
            return crs_ir_fail(img, EBADMSG, "timer %zu is malformed or out of order: " CORRUPT, i);
    }
    return 0;
}

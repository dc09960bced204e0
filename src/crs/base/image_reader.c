/*
 * Reads and validates a process image (format: image_format.h, API: image.h).
 *
 * The file may be truncated, corrupted or hostile, so nothing in it is
 * trusted before it is checked: every size, count, offset, index and string
 * reference is bounded first, every checksum compared, and every byte of
 * padding must be zero. Together with the layout rule (see image_writer.c)
 * this means a single changed byte anywhere in an image is refused.
 *
 * Unlike the writer this code runs in a healthy process (cr_restart before
 * it replaces itself, cr_info), so it uses malloc and stdio freely.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "crs/base/image.h"
#include "crs/base/image_sections.h"

/* Scratch buffers of megabytes are mapped, not malloc'd: this reader also runs inside a live
 * program (each rank's agent verifies its staged copy, src/filem/stage.c), and freeing a
 * malloc'd block that large raises glibc's mmap threshold for the whole process: the program's
 * later blocks then stay in its heap, dirty, and its next images grow (bench/stage, 2 ranks x
 * 128 MiB: 271.2 MB of images at the first two checkpoints, 279.7 MB at the third). */
static void *scratch_get(size_t n)
{
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void scratch_put(void *p, size_t n)
{
    if (p)
        munmap(p, n ? n : 1);
}

#define SECTION_ALIGN 8u
#define CORRUPT "the file is corrupt" CRS_IMAGE_ADVICE

#ifdef CRS_IMAGE_FUZZING
/* The fuzz target ignores checksum mismatches so that mutated inputs reach
 * the structural checks behind them instead of all stopping at the first
 * checksum. Never defined in a real build. */
#define SUM_OK(a, b) ((void)(a), (void)(b), true)
#else
#define SUM_OK(a, b) ((a) == (b))
#endif

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

__attribute__((format(printf, 3, 4)))
static int fail(struct crs_image *img, int err, const char *fmt, ...)
{
    int n = snprintf(img->err, sizeof(img->err), "image %s: ", img->name ? img->name : "?");
    if (n < 0 || (size_t)n >= sizeof(img->err))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->err + n, sizeof(img->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return -err;
}

static int truncated(struct crs_image *img, uint64_t have, uint64_t want)
{
    return fail(img, EBADMSG,
                "truncated at byte %" PRIu64 " of %" PRIu64
                ": the file is incomplete" CRS_IMAGE_ADVICE, have, want);
}

/* Reads exactly len bytes at `off` from the image's start. */
static int get(struct crs_image *img, uint64_t off, void *buf, size_t len)
{
    char *p = buf;
    uint64_t want = off + len;
    while (len) {
        ssize_t n = pread(img->fd, p, len, (off_t)(img->base + off));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            return fail(img, e, "read failed at byte %" PRIu64 ": %s", off, strerror(e));
        }
        if (n == 0) /* the file shrank while we read it */
            return truncated(img, off, want);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Checks that [off, off+len) holds only zero bytes (padding). */
static int check_zero(struct crs_image *img, uint64_t off, size_t len, const char *where)
{
    char buf[CRS_IMAGE_ALIGN];
    while (len) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        int rc = get(img, off, buf, n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (buf[i])
                return fail(img, EBADMSG, "non-zero byte %" PRIu64 " in the padding %s: " CORRUPT,
                            off + i, where);
        off += n;
        len -= n;
    }
    return 0;
}

static bool str_ok(const struct crs_image *img, struct crs_strref r)
{
    if (r.offset == 0 && r.length == 0)
        return true;
    if ((uint64_t)r.offset + r.length >= img->strings_len)
        return false;
    /* NUL right at the end and nowhere before it: the length is exact */
    return img->strings[r.offset + r.length] == '\0' &&
           memchr(img->strings + r.offset, '\0', r.length) == NULL;
}

const char *crs_image_str(const struct crs_image *img, struct crs_strref ref)
{
    if (ref.length == 0 || !img->strings || !str_ok(img, ref))
        return "";
    return img->strings + ref.offset;
}

/* ---- header and table ---- */

static int check_header(struct crs_image *img)
{
    uint64_t avail = img->file_size > img->base ? img->file_size - img->base : 0;
    struct crs_image_header *h = &img->hdr;
    memset(h, 0, sizeof(*h));
    if (avail == 0)
        return fail(img, EBADMSG, "the file is empty: the checkpoint was never written"
                                  CRS_IMAGE_ADVICE);
    size_t n = avail < sizeof(*h) ? (size_t)avail : sizeof(*h);
    int rc = get(img, 0, h, n);
    if (rc)
        return rc;
    size_t m = n < sizeof(h->magic) ? n : sizeof(h->magic);
    if (memcmp(h->magic, CRS_IMAGE_MAGIC, m) != 0)
        return fail(img, EINVAL, "not a Revive image (no REVIVEIM magic at its start): it "
                                 "was not written by a Revive checkpoint, or was overwritten");
    if (n < sizeof(*h))
        return truncated(img, avail, CRS_IMAGE_ALIGN);
    if (h->version < CRS_IMAGE_VERSION_MIN || h->version > CRS_IMAGE_VERSION)
        return fail(img, EPROTONOSUPPORT, "format version %" PRIu32 ", but this Revive reads "
                    "versions %u to %u; use the Revive release that wrote it", h->version,
                    CRS_IMAGE_VERSION_MIN, CRS_IMAGE_VERSION);
    if (CRS_IMAGE_VERSION_UNUSED(h->version))
        return fail(img, EPROTONOSUPPORT, "format version %" PRIu32 ", which no Revive defines "
                    "(versions 17 and 18 are unused; this Revive reads the others from %u to %u): "
                    "written by a development build of another branch; restart it with the build "
                    "that wrote it", h->version, CRS_IMAGE_VERSION_MIN, CRS_IMAGE_VERSION);
    uint64_t sum = XXH3_64bits(h, offsetof(struct crs_image_header, header_checksum));
    if (h->header_size != sizeof(*h) || !SUM_OK(sum, h->header_checksum))
        return fail(img, EBADMSG, "header checksum mismatch: " CORRUPT);
    if (h->image_size > avail)
        return truncated(img, avail, h->image_size);
    if (h->page_size < 4096 || h->page_size > CRS_CHUNK_MAX || (h->page_size & (h->page_size - 1)))
        return fail(img, EBADMSG, "page size %" PRIu32 " is impossible: " CORRUPT, h->page_size);
    if (h->flags & ~CRS_IMAGE_F_COMPRESSED)
        return fail(img, EBADMSG, "unknown header flags 0x%" PRIx32 ": " CORRUPT, h->flags);
    if (!memchr(h->kernel_release, 0, sizeof(h->kernel_release)) ||
        !memchr(h->machine, 0, sizeof(h->machine)))
        return fail(img, EBADMSG, "unterminated host name fields: " CORRUPT);
    if (h->section_count > CRS_SECTIONS_MAX || h->table_offset < CRS_IMAGE_ALIGN ||
        h->table_offset > h->image_size ||
        h->image_size - h->table_offset != h->section_count * (uint64_t)sizeof(struct crs_section_entry))
        return fail(img, EBADMSG, "section table out of bounds: " CORRUPT);
    return check_zero(img, sizeof(*h), CRS_IMAGE_ALIGN - sizeof(*h), "after the header");
}

static int read_table(struct crs_image *img)
{
    const struct crs_image_header *h = &img->hdr;
    size_t len = h->section_count * sizeof(struct crs_section_entry);
    img->table = calloc(1, len ? len : 1);
    if (!img->table)
        return fail(img, ENOMEM, "out of memory");
    int rc = get(img, h->table_offset, img->table, len);
    if (rc)
        return rc;
    if (!SUM_OK(XXH3_64bits(img->table, len), h->table_checksum))
        return fail(img, EBADMSG, "section table checksum mismatch: " CORRUPT);
    bool seen[CRS_SEC__MAX] = { false };
    for (uint32_t i = 0; i < h->section_count; i++) {
        const struct crs_section_entry *e = &img->table[i];
        const struct crs_section_kind *k = crs_section_kind(e->type);
        if (!k)
            return fail(img, EBADMSG, "unknown section type %" PRIu32 ": " CORRUPT, e->type);
        if (k->since > h->version)
            return fail(img, EBADMSG, "section %s in a version %" PRIu32 " image: " CORRUPT,
                        k->name, h->version);
        if (seen[e->type] && !(k->flags & CRS_SECF_REPEAT))
            return fail(img, EBADMSG, "section %s appears twice: " CORRUPT, k->name);
        seen[e->type] = true;
        switch (crs_section_shape(k, e->record_size, e->size)) {
        case CRS_SHAPE_OK:
            break;
        case CRS_SHAPE_RECORD_SIZE:
            return fail(img, EBADMSG, "section %s has records of %" PRIu32 " bytes, "
                        "which this Revive does not read: " CORRUPT, k->name, e->record_size);
        case CRS_SHAPE_COUNT:
            return fail(img, EBADMSG, "%s section holds %" PRIu64 " records, not %" PRIu32 ": " CORRUPT,
                        k->name, e->size / e->record_size, k->count);
        case CRS_SHAPE_PAIRS:
            return fail(img, EBADMSG, "%s section holds an odd number of words: " CORRUPT, k->name);
        }
        if (e->offset < CRS_IMAGE_ALIGN || e->offset > h->table_offset ||
            e->size > h->table_offset - e->offset)
            return fail(img, EBADMSG, "section %s lies outside the image: " CORRUPT, k->name);
    }
    for (uint32_t type = 1; type < CRS_SEC__MAX; type++) {
        const struct crs_section_kind *k = crs_section_kind(type);
        if (k && (k->flags & CRS_SECF_REQUIRED) && !seen[type])
            return fail(img, EBADMSG, "the %s section is missing: " CORRUPT, k->name);
    }
    return 0;
}

/* Reads one section into a new buffer and checks its checksum. */
static int read_section(struct crs_image *img, const struct crs_section_entry *e, void **out)
{
    void *buf = malloc(e->size ? e->size : 1);
    if (!buf)
        return fail(img, ENOMEM, "out of memory for section %s (%" PRIu64 " bytes)",
                    crs_section_name(e->type), e->size);
    int rc = get(img, e->offset, buf, e->size);
    if (!rc && !SUM_OK(XXH3_64bits(buf, e->size), e->checksum))
        rc = fail(img, EBADMSG, "section %s checksum mismatch: " CORRUPT, crs_section_name(e->type));
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* Puts a section's records where struct crs_image shows them (not for a
 * CRS_SECF_REPEAT kind: add_ext). */
static void store(struct crs_image *img, uint32_t type, void *p, uint64_t size)
{
    switch (type) {
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
    case CRS_SEC_##ID:                                                                   \
        img->MEMBER = p;                                                                 \
        img->COUNT = (size_t)(size / sizeof(*img->MEMBER));                              \
        break;
#include "crs/base/image_sections.def"
#undef CRS_SECTION
    }
}

/* A section of the kind that repeats (EXT): one more extension, its owner
 * checked by check_exts. */
static int add_ext(struct crs_image *img, const struct crs_section_entry *e, void *p)
{
    int rc = 0;
    struct crs_image_ext *x = NULL;
    if (e->size < sizeof(struct crs_ext_head))
        rc = fail(img, EBADMSG, "extension %zu is shorter than its head: " CORRUPT, img->nexts);
    else if (!(x = realloc(img->exts, (img->nexts + 1) * sizeof(*x))))
        rc = fail(img, ENOMEM, "out of memory");
    if (rc) {
        free(p);
        return rc;
    }
    struct crs_ext_head *head = p;
    img->exts = x;
    x[img->nexts++] = (struct crs_image_ext){ .head = head, .data = head + 1,
                                              .len = e->size - sizeof(*head),
                                              .checksum = e->checksum };
    return 0;
}

static int read_sections(struct crs_image *img)
{
    for (uint32_t i = 0; i < img->hdr.section_count; i++) {
        const struct crs_section_entry *e = &img->table[i];
        if (crs_section_kind(e->type)->flags & CRS_SECF_BULK) {
            /* left on disk; its pieces are checked as they are read */
            if (e->type == CRS_SEC_FDATA) {
                img->fdata_offset = e->offset;
                img->fdata_len = (size_t)e->size;
            }
            continue;
        }
        void *p = NULL;
        int rc = read_section(img, e, &p);
        if (rc)
            return rc;
        if (crs_section_kind(e->type)->flags & CRS_SECF_REPEAT)
            rc = add_ext(img, e, p);
        else
            store(img, e->type, p, e->size);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- layout: every byte is a checksummed piece or zero padding ---- */

struct extent {
    uint64_t offset, size, align;
};

static int extent_cmp(const void *a, const void *b)
{
    const struct extent *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

static int check_layout(struct crs_image *img)
{
    size_t n = img->hdr.section_count + img->nchunks;
    struct extent *ex = malloc((n ? n : 1) * sizeof(*ex));
    if (!ex)
        return fail(img, ENOMEM, "out of memory");
    size_t k = 0;
    for (uint32_t i = 0; i < img->hdr.section_count; i++)
        ex[k++] = (struct extent){ img->table[i].offset, img->table[i].size, SECTION_ALIGN };
    for (size_t i = 0; i < img->nchunks; i++)
        ex[k++] = (struct extent){ img->chunks[i].data_offset, img->chunks[i].stored_length,
                                   CRS_IMAGE_ALIGN };
    qsort(ex, n, sizeof(*ex), extent_cmp);
    int rc = 0;
    uint64_t end = CRS_IMAGE_ALIGN; /* the header block */
    for (size_t i = 0; i <= n && !rc; i++) {
        /* the section table comes last */
        struct extent e = i < n ? ex[i] : (struct extent){ img->hdr.table_offset, 0, SECTION_ALIGN };
        if (e.offset != align_up(end, e.align)) {
            rc = fail(img, EBADMSG, "data at byte %" PRIu64 " overlaps or is misplaced "
                      "(expected byte %" PRIu64 "): " CORRUPT, e.offset, align_up(end, e.align));
            break;
        }
        rc = check_zero(img, end, (size_t)(e.offset - end), "between sections");
        end = e.offset + e.size;
    }
    free(ex);
    return rc;
}

/* ---- records: one check per section kind (the CHECK column of image_sections.def) ---- */

static int check_process(struct crs_image *img)
{
    const struct crs_rec_process *p = img->process;
    if (!str_ok(img, p->exe) || !str_ok(img, p->cwd) || !str_ok(img, p->cmdline))
        return fail(img, EBADMSG, "process names point outside STRINGS: " CORRUPT);
    uint32_t known =
        CRS_PROC_F_RESTORE_PID | (img->hdr.version >= 3 ? CRS_PROC_F_THP_DISABLE | CRS_PROC_F_CTTY : 0) |
        (img->hdr.version >= 9 ? CRS_PROC_F_SUBREAPER | CRS_PROC_F_CAPS : 0) |
        (img->hdr.version >= 10 ? CRS_PROC_F_CAPSET : 0) | (img->hdr.version >= 16 ? CRS_PROC_F_NODUMP : 0);
    if (p->flags & ~known)
        return fail(img, EBADMSG, "process flags 0x%" PRIx32 " are unknown: " CORRUPT, p->flags);
    return 0;
}

static int check_threads(struct crs_image *img)
{
    for (size_t i = 0; i < img->nthreads; i++) {
        const struct crs_rec_thread *t = &img->threads[i];
        uint32_t flags_ok = CRS_THREAD_F_MAIN | CRS_THREAD_F_MANAGER |
                            (img->hdr.version >= 11 ? CRS_THREAD_F_SECUREBITS : 0);
        if (t->tid <= 0 || (t->flags & ~flags_ok) || (!(t->flags & CRS_THREAD_F_SECUREBITS) && t->securebits))
            return fail(img, EBADMSG, "thread %zu has an impossible id or flags: " CORRUPT, i);
    }
    return 0;
}

/* After check_process and check_threads: each names a thread, in order, of
 * a process whose sets are recorded. */
static int check_thread_caps(struct crs_image *img)
{
    size_t t = 0;
    for (size_t i = 0; i < img->nthread_caps; i++) {
        while (t < img->nthreads && img->threads[t].tid != img->thread_caps[i].tid)
            t++;
        if (t == img->nthreads || !(img->process->flags & CRS_PROC_F_CAPSET))
            return fail(img, EBADMSG, "thread capability record %zu names no thread of the image, or the "
                        "process's own sets are missing: " CORRUPT, i);
        t++;
    }
    return 0;
}

/* After check_threads: one per thread, in THREADS' order, with known flags
 * and values the kernel could have given. */
static int check_thread_attrs(struct crs_image *img)
{
    if (img->nthread_attrs && img->nthread_attrs != img->nthreads)
        return fail(img, EBADMSG, "%zu thread attribute records for %zu threads: " CORRUPT, img->nthread_attrs,
                    img->nthreads);
    for (size_t i = 0; i < img->nthread_attrs; i++) {
        const struct crs_rec_thread_attr *a = &img->thread_attrs[i];
        if (a->tid != img->threads[i].tid || (a->flags & ~CRS_TATTR__FLAGS) || a->nice < -20 || a->nice > 19 ||
            a->priority > 99)
            return fail(img, EBADMSG, "thread attribute record %zu names another thread or holds impossible "
                        "values: " CORRUPT, i);
    }
    return 0;
}

/* After check_thread_attrs: programs inside SECCOMPDATA, threads under at
 * most all of them. */
static int check_seccomps(struct crs_image *img)
{
    for (size_t i = 0; i < img->nseccomps; i++) {
        const struct crs_rec_seccomp *s = &img->seccomps[i];
        if (!s->len || s->len > CRS_SECCOMP_LEN_MAX || s->data > img->nseccompdata ||
            s->len > img->nseccompdata - s->data || s->inherited != img->seccomps[0].inherited)
            return fail(img, EBADMSG, "seccomp filter %zu lies outside its section: " CORRUPT, i);
    }
    for (size_t i = 0; i < img->nthread_attrs; i++)
        if (img->thread_attrs[i].seccomp > img->nseccomps)
            return fail(img, EBADMSG, "thread %zu ran under more seccomp filters than the image holds: " CORRUPT, i);
    return 0;
}

static int check_regions(struct crs_image *img)
{
    uint64_t page = img->hdr.page_size, prev_end = 0;
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *r = &img->regions[i];
        if (r->start >= r->end || r->start % page || r->end % page || r->start < prev_end)
            return fail(img, EBADMSG, "region %zu has bad bounds or overlaps region %zu: " CORRUPT,
                        i, i ? i - 1 : 0);
        prev_end = r->end;
        uint32_t last = img->hdr.version >= 3 ? CRS_REGION__LAST : CRS_REGION__LAST_V1;
        uint32_t flags_ok = CRS_REGION_F_GROWSDOWN | CRS_REGION_F_HEAP | CRS_REGION_F_STACK |
                            (img->hdr.version >= 11 && r->kind == CRS_REGION_FOBJ ? CRS_REGION_F_SHM_RDONLY : 0);
        if (r->prot & ~7u || r->kind < CRS_REGION_ANON || r->kind > last || (r->flags & ~flags_ok))
            return fail(img, EBADMSG, "region %zu has unknown protection, kind or flags: " CORRUPT, i);
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
            return fail(img, EBADMSG, "region %zu refers to a missing file or memfd: " CORRUPT, i);
        if (!str_ok(img, r->name))
            return fail(img, EBADMSG, "region %zu name points outside STRINGS: " CORRUPT, i);
        bool v3 = img->hdr.version >= 3;
        if ((r->madvise & ~CRS_MADV__ALL) || (r->page_shift && r->page_shift != 21 && r->page_shift != 30) ||
            (!v3 && (r->madvise || r->page_shift)) ||
            (r->page_shift && ((r->start | r->end) & ((1ull << r->page_shift) - 1))))
            return fail(img, EBADMSG, "region %zu has unknown advice or page size: " CORRUPT, i);
    }
    return 0;
}

/* After check_regions: every stored page must land in a region. */
static int check_chunks(struct crs_image *img)
{
    const struct crs_image_header *h = &img->hdr;
    bool any_zstd = false;
    uint64_t prev_end = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        const struct crs_rec_chunk *c = &img->chunks[i];
        if (c->length == 0 || c->length > CRS_CHUNK_MAX || c->length % h->page_size ||
            c->vaddr % h->page_size || c->vaddr > UINT64_MAX - c->length)
            return fail(img, EBADMSG, "chunk %zu has an impossible address or length: " CORRUPT, i);
        if (i && c->vaddr < prev_end)
            return fail(img, EBADMSG, "chunk %zu is out of order or overlaps chunk %zu: " CORRUPT,
                        i, i - 1);
        prev_end = c->vaddr + c->length;
        if (c->compression == 0) {
            if (c->stored_length != c->length)
                return fail(img, EBADMSG, "chunk %zu stored size differs from its length: " CORRUPT, i);
        } else if (c->compression == CRS_CHUNK_ZSTD) {
            if (c->stored_length == 0 || c->stored_length >= c->length)
                return fail(img, EBADMSG, "chunk %zu has an impossible compressed size: " CORRUPT, i);
            any_zstd = true;
        } else {
            return fail(img, EBADMSG, "chunk %zu uses unknown compression %" PRIu32 ": " CORRUPT,
                        i, c->compression);
        }
        if (c->data_offset > h->table_offset || c->stored_length > h->table_offset - c->data_offset)
            return fail(img, EBADMSG, "chunk %zu data lies outside the image: " CORRUPT, i);
    }
    if (any_zstd != !!(h->flags & CRS_IMAGE_F_COMPRESSED))
        return fail(img, EBADMSG, "compression flag disagrees with the chunks: " CORRUPT);
    /* Every stored page must land inside a region the restart recreates
     * (the vdso is the kernel's and never written). Both lists ascend. */
    size_t j = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        uint64_t a = img->chunks[i].vaddr, end = a + img->chunks[i].length;
        while (a < end) {
            while (j < img->nregions && img->regions[j].end <= a)
                j++;
            if (j == img->nregions || img->regions[j].start > a ||
                img->regions[j].kind == CRS_REGION_VDSO || img->regions[j].kind == CRS_REGION_FOBJ)
                return fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") is outside every "
                            "region: " CORRUPT, i, a);
            a = img->regions[j].end < end ? img->regions[j].end : end;
        }
    }
    return 0;
}

static int check_files(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfiles; i++)
        if (!str_ok(img, img->files[i].path) || img->files[i].build_id_len > CRS_BUILD_ID_MAX)
            return fail(img, EBADMSG, "file %zu has a bad path or build id: " CORRUPT, i);
    return 0;
}

static int check_memfds(struct crs_image *img)
{
    for (size_t i = 0; i < img->nmemfds; i++) {
        const struct crs_rec_memfd *m = &img->memfds[i];
        if (!str_ok(img, m->name))
            return fail(img, EBADMSG, "memfd %zu name points outside STRINGS: " CORRUPT, i);
        if ((m->page_shift && m->page_shift != 21 && m->page_shift != 30) ||
            (m->page_shift && img->hdr.version < 3) ||
            (m->page_shift && (m->size & ((1ull << m->page_shift) - 1))))
            return fail(img, EBADMSG, "memfd %zu has an unknown page size: " CORRUPT, i);
    }
    return 0;
}

/* Saved files: kind, path; their extents inside FEXTENTS, ascending, inside
 * the file, each non-empty and its bytes inside FDATA; every extent belongs
 * to one file, in order. */
static int check_fobjs(struct crs_image *img)
{
    uint64_t next = 0;
    for (size_t i = 0; i < img->nfobjs; i++) {
        const struct crs_rec_fobj *f = &img->fobjs[i];
        bool v11 = img->hdr.version >= 11;
        if (!str_ok(img, f->path) ||
            (f->kind != CRS_FOBJ_DELETED && f->kind != CRS_FOBJ_SHM && f->kind != CRS_FOBJ_MEMFD &&
             !(v11 && f->kind == CRS_FOBJ_SYSV)))
            return fail(img, EBADMSG, "saved file %zu has a bad kind or path: " CORRUPT, i);
        if (f->kind != CRS_FOBJ_SYSV ? (f->sysv_key || f->sysv_mode || (f->flags & CRS_FOBJ_F_REMOVED))
                                     : (f->sysv_mode & ~0777u || f->ino > INT32_MAX || f->size == 0))
            return fail(img, EBADMSG, "saved file %zu has System V fields that do not fit its kind: " CORRUPT, i);
        if (f->first_extent != next || f->nextents > img->nfextents - next)
            return fail(img, EBADMSG, "saved file %zu refers to extents it does not own: " CORRUPT, i);
        uint64_t end = 0;
        for (uint32_t k = 0; k < f->nextents; k++) {
            const struct crs_rec_fextent *x = &img->fextents[next + k];
            if (x->length == 0 || x->length > CRS_CHUNK_MAX || x->offset < end || x->offset > f->size || x->length > f->size - x->offset ||
                x->data_offset > img->fdata_len || x->length > img->fdata_len - x->data_offset)
                return fail(img, EBADMSG, "saved file %zu has extent %u out of order or outside its "
                            "bytes: " CORRUPT, i, k);
            end = x->offset + x->length;
        }
        next += f->nextents;
    }
    if (next != img->nfextents)
        return fail(img, EBADMSG, "%zu saved-file extents belong to no file: " CORRUPT,
                    (size_t)(img->nfextents - next));
    return 0;
}

/* Kernel objects: a kind, and watches owned in order (epoll's in EPOLLTGTS,
 * inotify's in INWATCHES, ascending numbers with paths); timerfd times not
 * negative. */
static int check_kfds(struct crs_image *img)
{
    uint64_t next_tgt = 0, next_watch = 0;
    for (size_t i = 0; i < img->nkfds; i++) {
        const struct crs_rec_kfd *k = &img->kfds[i];
        bool ok = k->kind >= CRS_FD_EVENTFD && k->kind <= CRS_FD_INOTIFY;
        if (ok && k->kind == CRS_FD_TIMERFD)
            ok = k->b >= 0 && k->c >= 0 && k->d >= 0;
        if (ok && k->kind == CRS_FD_EPOLL) {
            ok = k->first == next_tgt && k->count <= img->nepoll_tgts - next_tgt;
            next_tgt += ok ? k->count : 0;
        } else if (ok && k->kind == CRS_FD_INOTIFY) {
            ok = k->a >= 0 && k->b >= 0 && k->first == next_watch && k->count <= img->ninwatches - next_watch;
            for (uint32_t w = 0; ok && w < k->count; w++) {
                const struct crs_rec_inwatch *x = &img->inwatches[k->first + w];
                ok = x->wd > 0 && (w == 0 || x->wd > img->inwatches[k->first + w - 1].wd) && x->path.length &&
                     str_ok(img, x->path);
            }
            next_watch += ok ? k->count : 0;
        } else if (ok) {
            ok = k->count == 0;
        }
        if (!ok)
            return fail(img, EBADMSG, "kernel object %zu is malformed or owns watches out of order: " CORRUPT, i);
    }
    if (next_tgt != img->nepoll_tgts || next_watch != img->ninwatches)
        return fail(img, EBADMSG, "epoll or inotify watches belong to no descriptor: " CORRUPT);
    return 0;
}

/* Sockets: a family and type Revive makes, a state, peers that point back,
 * listeners that listen, addresses that fit, queued bytes inside SOCKDATA
 * (messages: a length, then as many bytes, exactly filling it; a UDP
 * socket's begin with the socket of the process that sent it). */
static int check_sockets(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsockets; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        bool ok = (s->family == AF_UNIX || s->family == AF_INET || s->family == AF_INET6) &&
                  (s->type == SOCK_STREAM || s->type == SOCK_DGRAM || s->type == SOCK_SEQPACKET) &&
                  s->state >= CRS_SOCK_UNBOUND && s->state <= CRS_SOCK_CONNECTED && !(s->flags & ~CRS_SOCK__FLAGS) &&
                  s->local_len <= CRS_SOCKADDR_MAX && s->remote_len <= CRS_SOCKADDR_MAX &&
                  s->data_offset <= img->sockdata_len && s->data_length <= img->sockdata_len - s->data_offset;
        if (ok && s->state == CRS_SOCK_CONNECTED && !(s->flags & CRS_SOCK_F_PENDING))
            ok = s->peer >= 0 && (size_t)s->peer < img->nsockets && (size_t)s->peer != i &&
                 img->sockets[s->peer].state == CRS_SOCK_CONNECTED && img->sockets[s->peer].peer == (int32_t)i;
        else if (ok)
            ok = s->peer == -1;   /* a pending client's peer is made by its listener */
        if (ok && (s->flags & (CRS_SOCK_F_ACCEPTED | CRS_SOCK_F_PENDING)))
            ok = s->listener >= 0 && (size_t)s->listener < img->nsockets &&
                 img->sockets[s->listener].state == CRS_SOCK_LISTEN && s->state == CRS_SOCK_CONNECTED;
        else if (ok)
            ok = s->listener == -1;
        /* messages: lengths and bytes fill the queue exactly */
        uint64_t at = 0;
        for (uint32_t m = 0; ok && m < s->nmsgs; m++) {
            uint32_t len;
            ok = s->data_length - at >= 4;
            if (!ok)
                break;
            memcpy(&len, img->sockdata + s->data_offset + at, 4);
            ok = len <= s->data_length - at - 4;
            if (ok && (s->flags & CRS_SOCK_F_SENDERS)) {
                /* a UDP socket of the process (maybe this one) sent it */
                uint32_t from = 0;
                ok = len >= 4;
                if (ok)
                    memcpy(&from, img->sockdata + s->data_offset + at + 4, 4);
                ok = ok && from < img->nsockets && img->sockets[from].family == s->family &&
                     img->sockets[from].type == SOCK_DGRAM;
            }
            at += 4 + (uint64_t)len;
        }
        if (ok && s->nmsgs)
            ok = at == s->data_length;
        if (ok && (s->flags & CRS_SOCK_F_SENDERS))
            ok = s->family != AF_UNIX && s->type == SOCK_DGRAM && s->nmsgs;
        if (!ok)
            return fail(img, EBADMSG, "socket %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Socket options: on a socket of the image, in its order, a value of 1 to
 * CRS_SOCKOPT_VALUE_MAX bytes with zeros after it. (After check_sockets.) */
static int check_sockopts(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsockopts; i++) {
        const struct crs_rec_sockopt *o = &img->sockopts[i];
        bool ok = o->socket < img->nsockets && o->len >= 1 && o->len <= CRS_SOCKOPT_VALUE_MAX &&
                  (i == 0 || img->sockopts[i - 1].socket <= o->socket);
        for (uint32_t k = o->len; ok && k < CRS_SOCKOPT_VALUE_MAX; k++)
            ok = o->value[k] == 0;
        if (!ok)
            return fail(img, EBADMSG, "socket option %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Multicast memberships: of an IPv4 or IPv6 datagram or raw socket of the
 * image, in its order, an IPv4 group (or an IPv6 one of an IPv6 socket), an
 * interface name, a filter mode with its sources inside MCASTSRC (at least
 * one for MCAST_INCLUDE). (After check_sockets; MCASTSRC is loaded.) */
static int check_mcasts(struct crs_image *img)
{
    for (size_t i = 0; i < img->nmcasts; i++) {
        const struct crs_rec_mcast *m = &img->mcasts[i];
        const struct crs_rec_socket *s = m->socket < img->nsockets ? &img->sockets[m->socket] : NULL;
        bool ok = s && (s->family == AF_INET || s->family == AF_INET6) && s->type != SOCK_STREAM &&
                  (m->family == AF_INET || (m->family == AF_INET6 && s->family == AF_INET6)) &&
                  m->ifindex > 0 && m->ifname[0] && memchr(m->ifname, 0, sizeof m->ifname) &&
                  m->fmode <= 1 && (m->fmode == 0 || m->nsrc > 0) && !m->reserved &&
                  m->src_first <= img->nmcast_srcs && m->nsrc <= img->nmcast_srcs - m->src_first &&
                  (i == 0 || img->mcasts[i - 1].socket <= m->socket);
        for (size_t k = m->family == AF_INET ? 4 : 16; ok && k < 16; k++)
            ok = m->group[k] == 0;
        for (uint32_t k = 0; ok && m->family == AF_INET && k < m->nsrc; k++)
            for (size_t b = 4; ok && b < 16; b++)
                ok = img->mcast_srcs[m->src_first + k].addr[b] == 0;
        if (!ok)
            return fail(img, EBADMSG, "multicast membership %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Descriptors' I/O signal owners: on descriptors of FDS, ascending, a known
 * type and kind of owner, a signal number. (After check_fds.) */
static int check_fdowns(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfdowns; i++) {
        const struct crs_rec_fdown *o = &img->fdowns[i];
        bool found = false;
        for (size_t k = 0; k < img->nfds && !found; k++)
            found = img->fds[k].fd == o->fd;
        bool ok = found && o->type <= 2 && o->who <= CRS_FDOWN_OTHER && o->sig <= 64 && !o->reserved &&
                  (i == 0 || img->fdowns[i - 1].fd < o->fd) && (o->who == CRS_FDOWN_NONE) == (o->id == 0);
        if (!ok)
            return fail(img, EBADMSG, "descriptor owner %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Locks: on a descriptor the image restores (not closed, not inherited),
 * a known kind and type, a range that fits in a file. (After check_fds.) */
static int check_locks(struct crs_image *img)
{
    for (size_t i = 0; i < img->nlocks; i++) {
        const struct crs_rec_lock *l = &img->locks[i];
        size_t lo = 0, hi = img->nfds;   /* descriptors ascend (check_fds) */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (img->fds[mid].fd < l->fd)
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct crs_rec_fd *f = lo < img->nfds && img->fds[lo].fd == l->fd ? &img->fds[lo] : NULL;
        bool fd_ok = f && f->kind != CRS_FD_CLOSED && f->kind != CRS_FD_INHERITED && f->kind != CRS_FD_INHERIT;
        if (!fd_ok || l->kind < CRS_LOCK_POSIX || l->kind > CRS_LOCK_FLOCK ||
            (l->type != F_RDLCK && l->type != F_WRLCK) || l->start < 0 || l->len < 0 ||
            l->len > INT64_MAX - l->start || (l->kind == CRS_LOCK_FLOCK && (l->start || l->len)))
            return fail(img, EBADMSG, "lock %zu is malformed or on a descriptor the image does not "
                        "restore: " CORRUPT, i);
    }
    return 0;
}

/* Timers: ascending ids, a notification the kernel knows, a signal for those
 * that send one, times that are not negative. */
static int check_siginfos(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsiginfos; i++) {
        int32_t signo;
        memcpy(&signo, img->siginfos[i].info, sizeof signo);
        if (signo < 1 || signo > 64 || img->siginfos[i].tid < 0)
            return fail(img, EBADMSG, "queued signal %zu is malformed: " CORRUPT, i);
    }
    return 0;
}

/* Credentials (none before version 7): the six ids, then at most
 * CRS_CREDS_GROUPS_MAX groups. */
/* Watches of closed descriptor numbers: each names a watch, once, in
 * ascending order, and a descriptor the image holds (not the watched
 * number). */
static int check_epoll_vias(struct crs_image *img)
{
    for (size_t i = 0; i < img->nepoll_vias; i++) {
        const struct crs_rec_epoll_via *v = &img->epoll_vias[i];
        bool ok = v->target < img->nepoll_tgts && (i == 0 || v->target > img->epoll_vias[i - 1].target) &&
                  v->fd >= 0 && v->fd != img->epoll_tgts[v->target].tfd;
        bool held = false;
        for (size_t k = 0; ok && k < img->nfds && !held; k++)
            held = img->fds[k].fd == v->fd;
        if (!ok || !held)
            return fail(img, EBADMSG, "epoll watch record %zu names no watch or no descriptor: " CORRUPT, i);
    }
    return 0;
}

/* Consumed edges: each names an edge-triggered, not one-shot watch, once,
 * in ascending order, with no flag this Revive does not know. */
static int check_epoll_edges(struct crs_image *img)
{
    for (size_t i = 0; i < img->nepoll_edges; i++) {
        const struct crs_rec_epoll_edge *g = &img->epoll_edges[i];
        bool ok = g->target < img->nepoll_tgts && (i == 0 || g->target > img->epoll_edges[i - 1].target) &&
                  g->flags == CRS_EPOLL_EDGE_CONSUMED &&
                  (img->epoll_tgts[g->target].events & (EPOLLET | EPOLLONESHOT)) == EPOLLET;
        if (!ok)
            return fail(img, EBADMSG, "consumed epoll edge record %zu names no edge-triggered watch: " CORRUPT, i);
    }
    return 0;
}

static int check_creds(struct crs_image *img)
{
    if ((img->ncreds && img->ncreds < CRS_CREDS_IDS) || img->ncreds > CRS_CREDS_IDS + CRS_CREDS_GROUPS_MAX)
        return fail(img, EBADMSG, "the credentials section is malformed: " CORRUPT);
    return 0;
}

static int check_timers(struct crs_image *img)
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
            return fail(img, EBADMSG, "timer %zu is malformed or out of order: " CORRUPT, i);
    }
    return 0;
}

static int check_pipes(struct crs_image *img)
{
    for (size_t i = 0; i < img->npipes; i++) {
        const struct crs_rec_pipe *pp = &img->pipes[i];
        if (pp->data_offset > img->pipedata_len || pp->data_length > img->pipedata_len - pp->data_offset ||
            pp->data_length > pp->capacity)
            return fail(img, EBADMSG, "pipe %zu holds bytes outside PIPEDATA: " CORRUPT, i);
        if (pp->flags & ~(img->hdr.version >= 19 ? CRS_PIPE_F_FIFO : 0u))
            return fail(img, EBADMSG, "pipe %zu has unknown flags 0x%" PRIx32 ": " CORRUPT, i, pp->flags);
    }
    return 0;
}

/* System V semaphore sets and message queues: known kinds, their data
 * inside SYSVIPCDATA and of the shape image_format.h gives. */
static bool sysvipc_data_ok(const struct crs_image *img, const struct crs_rec_sysvipc *s)
{
    if (s->data % 8 || s->data_len % 8 || s->data > img->sysvipcdata_len ||
        s->data_len > img->sysvipcdata_len - s->data)
        return false;
    if (s->kind == CRS_SYSVIPC_SEM)
        return s->count >= 1 && s->count <= CRS_SYSVIPC_SEMS_MAX && !(s->flags & ~CRS_SYSVIPC_F_UNDO) &&
               s->data_len == ((uint64_t)s->count * ((s->flags & CRS_SYSVIPC_F_UNDO) ? 4 : 2) + 7) / 8 * 8;
    if (s->kind != CRS_SYSVIPC_MSG || s->flags)
        return false;
    const unsigned char *p = img->sysvipcdata + s->data;
    uint64_t at = 0;
    for (uint32_t k = 0; k < s->count; k++) {
        int64_t type;
        uint64_t len;
        if (s->data_len - at < 16)
            return false;
        memcpy(&type, p + at, 8);
        memcpy(&len, p + at + 8, 8);
        if (type <= 0 || len > CRS_SYSVIPC_MSG_MAX || (len + 7) / 8 * 8 > s->data_len - at - 16)
            return false;
        at += 16 + (len + 7) / 8 * 8;
    }
    return at == s->data_len;
}

static int check_sysvipcs(struct crs_image *img)
{
    for (size_t i = 0; i < img->nsysvipcs; i++)
        if (img->sysvipcs[i].id < 0 || !sysvipc_data_ok(img, &img->sysvipcs[i]))
            return fail(img, EBADMSG, "System V IPC object %zu is malformed: " CORRUPT, i);
    return 0;
}

static int check_fds(struct crs_image *img)
{
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        uint32_t last = img->hdr.version >= 5   ? CRS_FD__LAST
                        : img->hdr.version >= 3 ? CRS_FD__LAST_V3
                                                : CRS_FD__LAST_V1;
        if (f->fd < 0 || (i && f->fd <= img->fds[i - 1].fd) || f->kind < CRS_FD_REGULAR ||
            f->kind > last || !str_ok(img, f->path))
            return fail(img, EBADMSG, "descriptor record %zu is out of order or malformed: " CORRUPT, i);
        bool kobj = f->kind >= CRS_FD_EVENTFD && f->kind <= CRS_FD_INOTIFY;
        bool idx_ok = f->kind == CRS_FD_MEMFD  ? f->memfd >= 0 && (size_t)f->memfd < img->nmemfds
                      : f->kind == CRS_FD_PIPE ? f->memfd >= 0 && (size_t)f->memfd < img->npipes
                      : f->kind == CRS_FD_FOBJ ? f->memfd >= 0 && (size_t)f->memfd < img->nfobjs
                      : kobj ? f->memfd >= 0 && (size_t)f->memfd < img->nkfds &&
                                   img->kfds[f->memfd].kind == f->kind
                      : f->kind == CRS_FD_SOCKET ? f->memfd >= 0 && (size_t)f->memfd < img->nsockets
                      : f->kind == CRS_FD_PIDFD  ? f->memfd > 0 || (f->memfd == 0 && img->hdr.version >= 6 &&
                                                                    f->offset >= -1 && f->offset <= 0xffff)
                                                 : f->memfd == -1;
        if (!idx_ok)
            return fail(img, EBADMSG, "descriptor %" PRId32 " refers to a missing memfd: " CORRUPT,
                        f->fd);
    }
    return 0;
}

/* Extensions: at most CRS_EXT_MAX, each at most CRS_EXT_BYTES_MAX bytes after
 * its head, whose owner is 1 to 15 characters 0x21..0x7e, then NULs. Sets owner. */
static int check_exts(struct crs_image *img)
{
    if (img->nexts > CRS_EXT_MAX)
        return fail(img, EBADMSG, "%zu extensions, more than %u: " CORRUPT, img->nexts, CRS_EXT_MAX);
    for (size_t i = 0; i < img->nexts; i++) {
        struct crs_image_ext *x = &img->exts[i];
        if (x->len > CRS_EXT_BYTES_MAX)
            return fail(img, EBADMSG, "extension %zu is larger than an extension can be: " CORRUPT, i);
        const char *o = x->head->owner;
        size_t n = 0;
        while (n < sizeof(x->head->owner) && o[n] >= 0x21 && o[n] <= 0x7e)
            n++;
        bool pad_ok = n > 0 && n < sizeof(x->head->owner);
        for (size_t k = n; k < sizeof(x->head->owner) && pad_ok; k++)
            pad_ok = o[k] == '\0';
        if (!pad_ok)
            return fail(img, EBADMSG, "extension %zu has a malformed owner tag: " CORRUPT, i);
        x->owner = o;
    }
    return 0;
}

const struct crs_image_ext *crs_image_extension(const struct crs_image *img, const char *owner,
                                                const struct crs_image_ext *prev)
{
    for (size_t i = prev ? (size_t)(prev - img->exts) + 1 : 0; i < img->nexts; i++)
        if (img->exts[i].owner && !strcmp(img->exts[i].owner, owner))
            return &img->exts[i];
    return NULL;
}

/* Every kind's check, in the order of image_sections.def. */
static int check_records(struct crs_image *img)
{
    static int (*const checks[])(struct crs_image *) = {
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) CHECK,
#include "crs/base/image_sections.def"
#undef CRS_SECTION
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        int rc = checks[i] ? checks[i](img) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- open / close ---- */

int crs_image_open_fd(struct crs_image *img, int fd, const char *name)
{
    memset(img, 0, sizeof(*img));
    img->fd = fd;
    img->name = strdup(name ? name : "(descriptor)");
    int rc;
    if (!img->name) {
        rc = fail(img, ENOMEM, "out of memory");
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        rc = fail(img, e, "cannot stat: %s", strerror(e));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fail(img, EINVAL, "not a regular file; give the image file itself");
        goto out;
    }
    off_t base = lseek(fd, 0, SEEK_CUR);
    img->base = base > 0 ? (uint64_t)base : 0;
    img->file_size = (uint64_t)st.st_size;

    if ((rc = check_header(img)) || (rc = read_table(img)) || (rc = read_sections(img)) ||
        (rc = check_records(img)) || (rc = check_layout(img)))
        goto out;
    return 0;
out:;
    /* keep the message, drop everything else (including fd, as promised) */
    char err[sizeof(img->err)];
    memcpy(err, img->err, sizeof(err));
    crs_image_close(img);
    memcpy(img->err, err, sizeof(err));
    return rc;
}

int crs_image_open(struct crs_image *img, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        memset(img, 0, sizeof(*img));
        img->fd = -1;
        snprintf(img->err, sizeof(img->err), "image %s: cannot open: %s; check the path",
                 path, strerror(e));
        return -e;
    }
    return crs_image_open_fd(img, fd, path);
}

void crs_image_close(struct crs_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    free(img->table);
    for (size_t i = 0; i < img->nexts; i++)
        free(img->exts[i].head);
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
    free(img->MEMBER);
#include "crs/base/image_sections.def"
#undef CRS_SECTION
    free(img->name);
    memset(img, 0, sizeof(*img));
    img->fd = -1;
}

/* ---- chunk data ---- */

int crs_image_read_chunk(struct crs_image *img, size_t i, void *dst)
{
    if (i >= img->nchunks)
        return fail(img, EINVAL, "no chunk %zu (the image has %zu)", i, img->nchunks);
    const struct crs_rec_chunk *c = &img->chunks[i];
    int rc;
    if (c->compression == 0) {
        /* straight into place: the restart's fast path */
        if ((rc = get(img, c->data_offset, dst, c->length)))
            return rc;
        if (!SUM_OK(XXH3_64bits(dst, c->length), c->checksum))
            return fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") checksum mismatch: " CORRUPT,
                        i, c->vaddr);
        return 0;
    }
    void *buf = scratch_get(c->stored_length);
    if (!buf)
        return fail(img, ENOMEM, "out of memory reading chunk %zu", i);
    rc = get(img, c->data_offset, buf, c->stored_length);
    if (!rc && !SUM_OK(XXH3_64bits(buf, c->stored_length), c->checksum))
        rc = fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") checksum mismatch: " CORRUPT,
                  i, c->vaddr);
    if (!rc) {
        size_t n = ZSTD_decompress(dst, c->length, buf, c->stored_length);
        if (ZSTD_isError(n))
            rc = fail(img, EBADMSG, "chunk %zu does not decompress (%s): " CORRUPT, i,
                      ZSTD_getErrorName(n));
        else if (n != c->length)
            rc = fail(img, EBADMSG, "chunk %zu decompresses to %zu bytes, not %" PRIu64 ": " CORRUPT,
                      i, n, c->length);
    }
    scratch_put(buf, c->stored_length);
    return rc;
}

int crs_image_read_fextent(struct crs_image *img, size_t i, void *dst)
{
    if (i >= img->nfextents)
        return fail(img, EINVAL, "no saved-file extent %zu (the image has %zu)", i, img->nfextents);
    const struct crs_rec_fextent *x = &img->fextents[i];
    int rc = get(img, img->fdata_offset + x->data_offset, dst, x->length);
    if (!rc && !SUM_OK(XXH3_64bits(dst, x->length), x->checksum))
        rc = fail(img, EBADMSG, "saved-file extent %zu checksum mismatch: " CORRUPT, i);
    return rc;
}

/* FDATA as a whole, against its table entry, read in pieces. */
static int verify_bulk(struct crs_image *img, void *buf, size_t cap)
{
    for (uint32_t t = 0; t < img->hdr.section_count; t++) {
        const struct crs_section_entry *e = &img->table[t];
        if (!(crs_section_kind(e->type)->flags & CRS_SECF_BULK))
            continue;
        XXH3_state_t *st = XXH3_createState();
        if (!st)
            return fail(img, ENOMEM, "out of memory");
        XXH3_64bits_reset(st);
        int rc = 0;
        for (uint64_t off = 0; off < e->size && !rc; off += cap) {
            size_t n = e->size - off < cap ? (size_t)(e->size - off) : cap;
            if (!(rc = get(img, e->offset + off, buf, n)))
                XXH3_64bits_update(st, buf, n);
        }
        uint64_t sum = XXH3_64bits_digest(st);
        XXH3_freeState(st);
        if (rc)
            return rc;
        if (!SUM_OK(sum, e->checksum))
            return fail(img, EBADMSG, "section %s checksum mismatch: " CORRUPT, crs_section_name(e->type));
    }
    return 0;
}

int crs_image_verify_chunks(struct crs_image *img)
{
    void *buf = scratch_get(CRS_CHUNK_MAX);
    if (!buf)
        return fail(img, ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < img->nchunks && !rc; i++)
        rc = crs_image_read_chunk(img, i, buf);
    if (!rc)
        rc = verify_bulk(img, buf, CRS_CHUNK_MAX);
    for (size_t i = 0; i < img->nfextents && !rc; i++)
        rc = crs_image_read_fextent(img, i, buf);   /* at most CRS_CHUNK_MAX each */
    scratch_put(buf, CRS_CHUNK_MAX);
    return rc;
}

void crs_image_advise(char *msg, size_t len, const char *advice)
{
    size_t al = strlen(CRS_IMAGE_ADVICE), nl = strlen(advice);
    for (char *at = strstr(msg, CRS_IMAGE_ADVICE); at; at = strstr(at, CRS_IMAGE_ADVICE)) {
        size_t tail = strlen(at + al), keep = (size_t)(at - msg);
        size_t room = len - 1 - keep; /* for the advice and what follows it */
        size_t an = nl < room ? nl : room;
        size_t tn = tail < room - an ? tail : room - an;
        memmove(at + an, at + al, tn);
        memcpy(at, advice, an);
        at[an + tn] = 0;
        at += an;
    }
}

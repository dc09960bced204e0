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
 *
 * This file opens an image: the header, the section table, the sections
 * loaded where struct crs_image shows them, the record checks run in the
 * order of image_sections.def (image_check_proc.c, image_check_fds.c) and
 * the layout; and closes it. image_reader_io.c reads the bytes and words
 * the errors; image_reader_chunks.c reads the page data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "crs/base/image.h"
#include "crs/base/image_reader_int.h"
#include "crs/base/image_sections.h"

#define SECTION_ALIGN 8u

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* ---- header and table ---- */

static int check_header(struct crs_image *img)
{
    uint64_t avail = img->file_size > img->base ? img->file_size - img->base : 0;
    struct crs_image_header *h = &img->hdr;
    memset(h, 0, sizeof(*h));
    if (avail == 0)
        return crs_ir_fail(img, EBADMSG, "the file is empty: the checkpoint was never written"
                                  CRS_IMAGE_ADVICE);
    size_t n = avail < sizeof(*h) ? (size_t)avail : sizeof(*h);
    int rc = crs_ir_get(img, 0, h, n);
    if (rc)
        return rc;
    size_t m = n < sizeof(h->magic) ? n : sizeof(h->magic);
    if (memcmp(h->magic, CRS_IMAGE_MAGIC, m) != 0)
        return crs_ir_fail(img, EINVAL, "not a Revive image (no REVIVEIM magic at its start): it "
                                 "was not written by a Revive checkpoint, or was overwritten");
    if (n < sizeof(*h))
        return crs_ir_truncated(img, avail, CRS_IMAGE_ALIGN);
    uint64_t sum = XXH3_64bits(h, offsetof(struct crs_image_header, header_checksum));
    /* A version this Revive does not read, in a header whose checksum does not match: damaged (a
     * byte of its version field changed), not written by another release, when its size is this
     * Revive's or none a header can have (a later release's larger header, up to the padding's
     * end, is not ours to check). "Use the Revive release that wrote it" sent the user after a
     * release that never was (a damaged member of a tree file, whose other members are of this
     * version). */
    int size_ours = h->header_size == sizeof(*h), size_possible = h->header_size > sizeof(*h) &&
                                                                  h->header_size <= CRS_IMAGE_ALIGN;
    if ((h->version < CRS_IMAGE_VERSION_MIN || h->version > CRS_IMAGE_VERSION ||
         CRS_IMAGE_VERSION_UNUSED(h->version)) &&
        !size_possible && (!size_ours || !SUM_OK(sum, h->header_checksum)))
        return crs_ir_fail(img, EBADMSG, "header checksum mismatch (its format version reads %" PRIu32
                                         "): " CORRUPT, h->version);
    if (h->version < CRS_IMAGE_VERSION_MIN || h->version > CRS_IMAGE_VERSION)
        return crs_ir_fail(img, EPROTONOSUPPORT, "format version %" PRIu32 ", but this Revive reads "
                    "versions %u to %u; use the Revive release that wrote it", h->version,
                    CRS_IMAGE_VERSION_MIN, CRS_IMAGE_VERSION);
    if (CRS_IMAGE_VERSION_UNUSED(h->version))
        return crs_ir_fail(img, EPROTONOSUPPORT, "format version %" PRIu32 ", which no Revive defines "
                    "(versions 17 and 18 are unused; this Revive reads the others from %u to %u): "
                    "written by a development build of another branch; restart it with the build "
                    "that wrote it", h->version, CRS_IMAGE_VERSION_MIN, CRS_IMAGE_VERSION);
    if (h->header_size != sizeof(*h) || !SUM_OK(sum, h->header_checksum))
        return crs_ir_fail(img, EBADMSG, "header checksum mismatch: " CORRUPT);
    if (h->image_size > avail)
        return crs_ir_truncated(img, avail, h->image_size);
    if (h->page_size < 4096 || h->page_size > CRS_CHUNK_MAX || (h->page_size & (h->page_size - 1)))
        return crs_ir_fail(img, EBADMSG, "page size %" PRIu32 " is impossible: " CORRUPT, h->page_size);
    if (h->flags & ~CRS_IMAGE_F_COMPRESSED)
        return crs_ir_fail(img, EBADMSG, "unknown header flags 0x%" PRIx32 ": " CORRUPT, h->flags);
    if (!memchr(h->kernel_release, 0, sizeof(h->kernel_release)) ||
        !memchr(h->machine, 0, sizeof(h->machine)))
        return crs_ir_fail(img, EBADMSG, "unterminated host name fields: " CORRUPT);
    if (h->section_count > CRS_SECTIONS_MAX || h->table_offset < CRS_IMAGE_ALIGN ||
        h->table_offset > h->image_size ||
        h->image_size - h->table_offset != h->section_count * (uint64_t)sizeof(struct crs_section_entry))
        return crs_ir_fail(img, EBADMSG, "section table out of bounds: " CORRUPT);
    return crs_ir_check_zero(img, sizeof(*h), CRS_IMAGE_ALIGN - sizeof(*h), "after the header");
}

static int read_table(struct crs_image *img)
{
    const struct crs_image_header *h = &img->hdr;
    size_t len = h->section_count * sizeof(struct crs_section_entry);
    img->table = calloc(1, len ? len : 1);
    if (!img->table)
        return crs_ir_fail(img, ENOMEM, "out of memory");
    int rc = crs_ir_get(img, h->table_offset, img->table, len);
    if (rc)
        return rc;
    if (!SUM_OK(XXH3_64bits(img->table, len), h->table_checksum))
        return crs_ir_fail(img, EBADMSG, "section table checksum mismatch: " CORRUPT);
    bool seen[CRS_SEC__MAX] = { false };
    for (uint32_t i = 0; i < h->section_count; i++) {
        const struct crs_section_entry *e = &img->table[i];
        const struct crs_section_kind *k = crs_section_kind(e->type);
        if (!k)
            return crs_ir_fail(img, EBADMSG, "unknown section type %" PRIu32 ": " CORRUPT, e->type);
        if (k->since > h->version)
            return crs_ir_fail(img, EBADMSG, "section %s in a version %" PRIu32 " image: " CORRUPT,
                        k->name, h->version);
        if (seen[e->type] && !(k->flags & CRS_SECF_REPEAT))
            return crs_ir_fail(img, EBADMSG, "section %s appears twice: " CORRUPT, k->name);
        seen[e->type] = true;
        switch (crs_section_shape(k, e->record_size, e->size)) {
        case CRS_SHAPE_OK:
            break;
        case CRS_SHAPE_RECORD_SIZE:
            return crs_ir_fail(img, EBADMSG, "section %s has records of %" PRIu32 " bytes, "
                        "which this Revive does not read: " CORRUPT, k->name, e->record_size);
        case CRS_SHAPE_COUNT:
            return crs_ir_fail(img, EBADMSG, "%s section holds %" PRIu64 " records, not %" PRIu32 ": " CORRUPT,
                        k->name, e->size / e->record_size, k->count);
        case CRS_SHAPE_PAIRS:
            return crs_ir_fail(img, EBADMSG, "%s section holds an odd number of words: " CORRUPT, k->name);
        }
        if (e->offset < CRS_IMAGE_ALIGN || e->offset > h->table_offset ||
            e->size > h->table_offset - e->offset)
            return crs_ir_fail(img, EBADMSG, "section %s lies outside the image: " CORRUPT, k->name);
    }
    for (uint32_t type = 1; type < CRS_SEC__MAX; type++) {
        const struct crs_section_kind *k = crs_section_kind(type);
        if (k && (k->flags & CRS_SECF_REQUIRED) && !seen[type])
            return crs_ir_fail(img, EBADMSG, "the %s section is missing: " CORRUPT, k->name);
    }
    return 0;
}

/* Reads one section into a new buffer and checks its checksum. */
static int read_section(struct crs_image *img, const struct crs_section_entry *e, void **out)
{
    void *buf = malloc(e->size ? e->size : 1);
    if (!buf)
        return crs_ir_fail(img, ENOMEM, "out of memory for section %s (%" PRIu64 " bytes)",
                    crs_section_name(e->type), e->size);
    int rc = crs_ir_get(img, e->offset, buf, e->size);
    if (!rc && !SUM_OK(XXH3_64bits(buf, e->size), e->checksum))
        rc = crs_ir_fail(img, EBADMSG, "section %s checksum mismatch: " CORRUPT, crs_section_name(e->type));
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
        rc = crs_ir_fail(img, EBADMSG, "extension %zu is shorter than its head: " CORRUPT, img->nexts);
    else if (!(x = realloc(img->exts, (img->nexts + 1) * sizeof(*x))))
        rc = crs_ir_fail(img, ENOMEM, "out of memory");
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
        return crs_ir_fail(img, ENOMEM, "out of memory");
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
            rc = crs_ir_fail(img, EBADMSG, "data at byte %" PRIu64 " overlaps or is misplaced "
                      "(expected byte %" PRIu64 "): " CORRUPT, e.offset, align_up(end, e.align));
            break;
        }
        rc = crs_ir_check_zero(img, end, (size_t)(e.offset - end), "between sections");
        end = e.offset + e.size;
    }
    free(ex);
    return rc;
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
        rc = crs_ir_fail(img, ENOMEM, "out of memory");
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        rc = crs_ir_fail(img, e, "cannot stat: %s", strerror(e));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = crs_ir_fail(img, EINVAL, "not a regular file; give the image file itself");
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

const struct crs_image_ext *crs_image_extension(const struct crs_image *img, const char *owner,
                                                const struct crs_image_ext *prev)
{
    for (size_t i = prev ? (size_t)(prev - img->exts) + 1 : 0; i < img->nexts; i++)
        if (img->exts[i].owner && !strcmp(img->exts[i].owner, owner))
            return &img->exts[i];
    return NULL;
}

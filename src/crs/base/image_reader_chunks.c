/*
 * The image reader's page data: one chunk read and checked (decompressed when
 * it is zstd), one saved-file extent, and the whole image's data verified
 * (cr_info --verify, a rank's staged copy) in scratch buffers mapped, not
 * malloc'd (see scratch_get).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack: no malloc per chunk in a rank's agent */
#include <xxhash.h>
#include <zstd.h>

#include "crs/base/image.h"
#include "crs/base/image_reader_int.h"
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

int crs_image_read_chunk(struct crs_image *img, size_t i, void *dst)
{
    if (i >= img->nchunks)
        return crs_ir_fail(img, EINVAL, "no chunk %zu (the image has %zu)", i, img->nchunks);
    const struct crs_rec_chunk *c = &img->chunks[i];
    int rc;
    if (c->compression == 0) {
        /* straight into place: the restart's fast path */
        if ((rc = crs_ir_get(img, c->data_offset, dst, c->length)))
            return rc;
        if (!img->sums_checked && !SUM_OK(XXH3_64bits(dst, c->length), c->checksum))
            return crs_ir_fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") checksum mismatch: " CORRUPT,
                        i, c->vaddr);
        return 0;
    }
    void *buf = scratch_get(c->stored_length);
    if (!buf)
        return crs_ir_fail(img, ENOMEM, "out of memory reading chunk %zu", i);
    rc = crs_ir_get(img, c->data_offset, buf, c->stored_length);
    if (!rc && !img->sums_checked && !SUM_OK(XXH3_64bits(buf, c->stored_length), c->checksum))
        rc = crs_ir_fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") checksum mismatch: " CORRUPT,
                  i, c->vaddr);
    if (!rc) {
        size_t n = ZSTD_decompress(dst, c->length, buf, c->stored_length);
        if (ZSTD_isError(n))
            rc = crs_ir_fail(img, EBADMSG, "chunk %zu does not decompress (%s): " CORRUPT, i,
                      ZSTD_getErrorName(n));
        else if (n != c->length)
            rc = crs_ir_fail(img, EBADMSG, "chunk %zu decompresses to %zu bytes, not %" PRIu64 ": " CORRUPT,
                      i, n, c->length);
    }
    scratch_put(buf, c->stored_length);
    return rc;
}

int crs_image_stream_chunk(struct crs_image *img, size_t i, void *buf, size_t cap,
                           int (*put)(void *arg, uint64_t off, const void *piece, size_t len), void *arg)
{
    if (i >= img->nchunks)
        return crs_ir_fail(img, EINVAL, "no chunk %zu (the image has %zu)", i, img->nchunks);
    const struct crs_rec_chunk *c = &img->chunks[i];
    if (c->compression != 0 || !cap)
        return crs_ir_fail(img, EINVAL, "chunk %zu is compressed: it cannot be read in pieces", i);
    XXH3_state_t state;
    XXH3_state_t *st = &state;
    XXH3_64bits_reset(st);
    int rc = 0;
    for (uint64_t off = 0; off < c->length && !rc;) {
        size_t n = c->length - off < cap ? (size_t)(c->length - off) : cap;
        if ((rc = crs_ir_get(img, c->data_offset + off, buf, n)))
            break;
        if (!img->sums_checked)
            XXH3_64bits_update(st, buf, n);
        if (put)
            rc = put(arg, off, buf, n);
        off += n;
    }
    if (rc)
        return rc;
    if (!img->sums_checked && !SUM_OK(XXH3_64bits_digest(st), c->checksum))
        return crs_ir_fail(img, EBADMSG, "chunk %zu (address 0x%" PRIx64 ") checksum mismatch: " CORRUPT,
                           i, c->vaddr);
    return 0;
}

int crs_image_read_fextent(struct crs_image *img, size_t i, void *dst)
{
    if (i >= img->nfextents)
        return crs_ir_fail(img, EINVAL, "no saved-file extent %zu (the image has %zu)", i, img->nfextents);
    const struct crs_rec_fextent *x = &img->fextents[i];
    int rc = crs_ir_get(img, img->fdata_offset + x->data_offset, dst, x->length);
    if (!rc && !img->sums_checked && !SUM_OK(XXH3_64bits(dst, x->length), x->checksum))
        rc = crs_ir_fail(img, EBADMSG, "saved-file extent %zu checksum mismatch: " CORRUPT, i);
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
            return crs_ir_fail(img, ENOMEM, "out of memory");
        XXH3_64bits_reset(st);
        int rc = 0;
        for (uint64_t off = 0; off < e->size && !rc; off += cap) {
            size_t n = e->size - off < cap ? (size_t)(e->size - off) : cap;
            if (!(rc = crs_ir_get(img, e->offset + off, buf, n)))
                XXH3_64bits_update(st, buf, n);
        }
        uint64_t sum = XXH3_64bits_digest(st);
        XXH3_freeState(st);
        if (rc)
            return rc;
        if (!SUM_OK(sum, e->checksum))
            return crs_ir_fail(img, EBADMSG, "section %s checksum mismatch: " CORRUPT, crs_section_name(e->type));
    }
    return 0;
}

int crs_image_verify_chunks(struct crs_image *img)
{
    int was = img->sums_checked;
    img->sums_checked = 0; /* this is the check itself */
    /* Uncompressed chunks (the most) in pieces through a small buffer: restart-mpi checks every
     * image of a snapshot, and the first touch of each page of a 4 MiB buffer mapped for each
     * image was a third of its CPU (perf, 8 images of 18 MB); the chunk buffer is touched
     * only by a compressed chunk, bulk data or a saved file's extent. */
    char *buf = scratch_get(CRS_CHUNK_MAX);
    if (!buf) {
        img->sums_checked = was;
        return crs_ir_fail(img, ENOMEM, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < img->nchunks && !rc; i++)
        rc = img->chunks[i].compression == 0 ? crs_image_stream_chunk(img, i, buf, CRS_READ_PIECE, NULL, NULL)
                                             : crs_image_read_chunk(img, i, buf);
    if (!rc)
        rc = verify_bulk(img, buf, CRS_CHUNK_MAX);
    for (size_t i = 0; i < img->nfextents && !rc; i++)
        rc = crs_image_read_fextent(img, i, buf);   /* at most CRS_CHUNK_MAX each */
    scratch_put(buf, CRS_CHUNK_MAX);
    img->sums_checked = was;
    return rc;
}

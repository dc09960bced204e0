/*
 * Writing and reading process images (format: image_format.h).
 *
 * The writer runs inside the process being checkpointed, while its other
 * threads are stopped at arbitrary points (possibly holding malloc's locks),
 * so it never allocates: all its memory is the caller's scratch buffer.
 * The reader runs in cr_restart and cr_info, trusts nothing in the file and
 * reports every problem as a message in `err`.
 */
#ifndef REVIVE_CRS_IMAGE_H
#define REVIVE_CRS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "crs/base/image_format.h"

/* ---------------- writer ---------------- */

struct crs_image_writer {
    int fd;
    uint64_t base;          /* file offset of the header */
    uint64_t pos;           /* next write position, from base */
    int zstd_level;         /* 0: store chunks uncompressed */
    uint32_t flags;         /* CRS_IMAGE_F_* accumulated */
    /* scratch carved into: chunk records, strings, compression context+buffer */
    struct crs_rec_chunk *chunks;
    size_t nchunks, chunks_cap;
    char *strings;
    size_t strings_len, strings_cap;
    void *zctx;             /* ZSTD_CCtx placed in scratch, or NULL */
    void *zbuf;             /* compressed output buffer */
    size_t zbuf_cap;
    struct crs_section_entry table[CRS_SEC__MAX];
    uint32_t nsections;
    uint64_t bytes_raw, bytes_stored; /* statistics */
    uint64_t writeback_from;  /* offset up to which writeback to disk was started */
    char err[256];
};

/* How much scratch crs_iw_open wants for `max_chunks` chunks, `strings_cap`
 * bytes of strings and compression at `zstd_level` (0 = none). */
size_t crs_iw_scratch_size(size_t max_chunks, size_t strings_cap, int zstd_level);

/* Starts an image at fd's current offset (a regular file: the writer seeks).
 * Returns 0 or -errno (message in w->err). */
int crs_iw_open(struct crs_image_writer *w, int fd, void *scratch, size_t scratch_len,
                size_t max_chunks, size_t strings_cap, int zstd_level);

/* Appends `len` bytes (a multiple of the page size) of memory that belongs at
 * `vaddr`, read straight from `src`, split into chunks of at most CRS_CHUNK_MAX. */
int crs_iw_add_pages(struct crs_image_writer *w, uint64_t vaddr, const void *src, size_t len);

/* Adds a NUL-terminated string to STRINGS; returns its reference in *ref. */
int crs_iw_string(struct crs_image_writer *w, const char *s, struct crs_strref *ref);

/* Appends a metadata section of `count` records of `record_size` bytes. */
int crs_iw_section(struct crs_image_writer *w, uint32_t type, const void *records,
                   size_t record_size, size_t count);

/* Writes CHUNKS, STRINGS, the section table and the header (filled from
 * `hdr_template`: pid, created_ns, host facts; the writer sets the rest),
 * truncates a regular file at the image's end. Not durable: the caller fsyncs. */
int crs_iw_finish(struct crs_image_writer *w, const struct crs_image_header *hdr_template);

/* Fills kernel_release, machine, page_size, xfeatures, xsave_size of *h. */
void crs_host_facts(struct crs_image_header *h);

/* ---------------- reader ---------------- */

struct crs_image {
    int fd;
    uint64_t base;          /* file offset of the header (fd's offset at open) */
    uint64_t file_size;
    struct crs_image_header hdr;
    struct crs_section_entry *table;
    /* The sections' records (image_sections.def says which member holds which). */
    struct crs_rec_process *process;       size_t nprocess; /* exactly one */
    struct crs_rec_thread *threads;        size_t nthreads;
    struct crs_rec_region *regions;        size_t nregions;
    struct crs_rec_chunk *chunks;          size_t nchunks;
    struct crs_rec_file *files;            size_t nfiles;
    struct crs_rec_fd *fds;                size_t nfds;
    struct crs_rec_sigaction *sigactions;  size_t nsigactions;
    struct crs_rec_memfd *memfds;          size_t nmemfds;
    uint64_t *auxv;                        size_t nauxv; /* count of uint64_t words */
    struct crs_rec_pipe *pipes;            size_t npipes;
    unsigned char *pipedata;               size_t pipedata_len;
    char *strings;                         size_t strings_len;
    char *name;             /* for messages: "image NAME: ..." */
    char err[512];
};

/* Opens and validates an image: header, table, every metadata section and
 * cross-reference (string refs, file/memfd indexes, chunk bounds and order).
 * Chunk data is checked when read. Returns 0, or -errno with img->err set
 * ("image FILE: what is wrong"). */
int crs_image_open(struct crs_image *img, const char *path);

/* Same, on an open descriptor whose current offset is the image's start
 * (the reader takes ownership of fd, also on failure). */
int crs_image_open_fd(struct crs_image *img, int fd, const char *name);

/* A validated string; never NULL ("" for an empty reference). */
const char *crs_image_str(const struct crs_image *img, struct crs_strref ref);

/* Reads chunk `i` into dst (chunks[i].length bytes), verifying its checksum and
 * decompressing. Returns 0 or -errno with img->err set. */
int crs_image_read_chunk(struct crs_image *img, size_t i, void *dst);

/* Verifies every chunk's checksum without restoring (cr_info --verify). */
int crs_image_verify_chunks(struct crs_image *img);

void crs_image_close(struct crs_image *img);

#endif

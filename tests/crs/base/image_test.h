/* Shared helpers for the image tests: assertions that print both sides, a
 * sample image with every section, and a rewriter (read an image, write it
 * again) for round-trip checks. */
#ifndef REVIVE_TESTS_IMAGE_TEST_H
#define REVIVE_TESTS_IMAGE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs/base/image.h"

#include "../../unit_assert.h"

/* What the sample image holds besides every section of version 1. */
#define SAMPLE_SMALL 0x1 /* most page data left out (about 40 KiB with zstd), for
                          * byte-by-byte tests */
#define SAMPLE_EXT 0x2   /* extensions (so format version 2): see sample_exts */
#define SAMPLE_KOBJ 0x4  /* kernel objects of format version 3: an inherited descriptor, a saved
                          * file (FOBJS, FEXTENTS, FDATA) and its descriptor, two timers,
                          * three locks, an epoll, a timerfd and an inotify */

/* Writes the sample image to fd at its current offset with the given zstd
 * level (0: none) and SAMPLE_* flags. Returns 0, or -errno with the writer's
 * message in err (if not NULL; 256 bytes). */
int sample_image_write(int fd, int zstd_level, int flags, char *err);

/* The extensions of a SAMPLE_EXT image, in the order written. */
struct sample_ext {
    const char *owner;
    const unsigned char *data;
    size_t len;
};
const struct sample_ext *sample_exts(size_t *n);

/* Recomputes every checksum of the image in `path` (sections, table,
 * header) after a test changed bytes on purpose, so that the reader's
 * structural checks, not a checksum, have to find what is wrong. */
void image_reseal(const char *path);

/* If set, called with 1 before the sample's first writer call and 0 after
 * its last (the round-trip test forbids malloc in between). */
extern void (*sample_writer_guard)(int on);

/* Direct writes in sample_image_write (tests/crs/base/test_direct.c): when sample_direct is
 * set, crs_iw_direct(w, sample_direct_flags) is called after crs_iw_open; its return goes to
 * sample_direct_on and the bounce buffer's address to sample_direct_buf. The range of index
 * sample_direct_skip (-1: none) is added with w->direct_skip set. */
extern int sample_direct, sample_direct_on, sample_direct_skip;
extern unsigned sample_direct_flags;
extern void *sample_direct_buf;

/* The memory the sample image stores: `n` ranges of bytes at addresses. */
struct sample_range {
    uint64_t vaddr;
    const unsigned char *data;
    size_t len;
};
const struct sample_range *sample_ranges(int small, size_t *n);

/* Writes `img` again to fd (same chunks, strings in the same order, same
 * sections) with the given zstd level. Returns 0 or -errno (message on stderr). */
int image_rewrite(struct crs_image *img, int fd, int zstd_level);

/* Reads a whole file into a malloc'd buffer; exits on failure. */
unsigned char *slurp(const char *path, size_t *len);

/* A fresh temporary file path under $TMPDIR (malloc'd). */
char *temp_path(const char *tag);

#endif

/*
 * What the files of the image reader share (image_reader.c opens an image,
 * image_reader_io.c reads its bytes and words the errors, image_check_proc.c
 * and image_check_fds.c check its records, image_reader_chunks.c reads its
 * chunks): the error and byte helpers and the record checks that
 * image_sections.def names. Internal to src/crs/base, and hidden: libcr.so
 * links the reader and exports none of these names into the program.
 */
#ifndef REVIVE_CRS_BASE_IMAGE_READER_INT_H
#define REVIVE_CRS_BASE_IMAGE_READER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crs/base/image.h"

#pragma GCC visibility push(hidden)

#define CORRUPT "the file is corrupt" CRS_IMAGE_ADVICE

#ifdef CRS_IMAGE_FUZZING
/* The fuzz target ignores checksum mismatches so that mutated inputs reach
 * the structural checks behind them instead of all stopping at the first
 * checksum. Never defined in a real build. */
#define SUM_OK(a, b) ((void)(a), (void)(b), true)
#else
#define SUM_OK(a, b) ((a) == (b))
#endif

/* Sets img->err to "image NAME: " and the message; returns -err. */
__attribute__((format(printf, 3, 4)))
int crs_ir_fail(struct crs_image *img, int err, const char *fmt, ...);
/* The message for a file that ends at byte `have` of the `want` it needs; -EBADMSG. */
int crs_ir_truncated(struct crs_image *img, uint64_t have, uint64_t want);
/* Reads exactly len bytes at `off` from the image's start; 0 or -errno (img->err set). */
int crs_ir_get(struct crs_image *img, uint64_t off, void *buf, size_t len);
/* Checks that [off, off+len) holds only zero bytes (padding); 0 or -errno. */
int crs_ir_check_zero(struct crs_image *img, uint64_t off, size_t len, const char *where);
/* Whether a string reference lies inside STRINGS, NUL-terminated at its exact length. */
bool crs_ir_str_ok(const struct crs_image *img, struct crs_strref r);

/* The record checks, one per section kind (the CHECK column of
 * image_sections.def, run in its order by image_reader.c): 0 or -EBADMSG
 * with img->err set. image_check_proc.c: */
int crs_ir_check_process(struct crs_image *img);
int crs_ir_check_threads(struct crs_image *img);
int crs_ir_check_thread_caps(struct crs_image *img);
int crs_ir_check_thread_attrs(struct crs_image *img);
int crs_ir_check_seccomps(struct crs_image *img);
int crs_ir_check_regions(struct crs_image *img);
int crs_ir_check_chunks(struct crs_image *img);
int crs_ir_check_files(struct crs_image *img);
int crs_ir_check_memfds(struct crs_image *img);
int crs_ir_check_fobjs(struct crs_image *img);
int crs_ir_check_siginfos(struct crs_image *img);
int crs_ir_check_creds(struct crs_image *img);
int crs_ir_check_timers(struct crs_image *img);
/* image_check_fds.c: */
int crs_ir_check_kfds(struct crs_image *img);
int crs_ir_check_sockets(struct crs_image *img);
int crs_ir_check_sockopts(struct crs_image *img);
int crs_ir_check_mcasts(struct crs_image *img);
int crs_ir_check_fdowns(struct crs_image *img);
int crs_ir_check_locks(struct crs_image *img);
int crs_ir_check_epoll_vias(struct crs_image *img);
int crs_ir_check_epoll_edges(struct crs_image *img);
int crs_ir_check_pipes(struct crs_image *img);
int crs_ir_check_sysvipcs(struct crs_image *img);
int crs_ir_check_fds(struct crs_image *img);
int crs_ir_check_exts(struct crs_image *img);

#pragma GCC visibility pop

#endif

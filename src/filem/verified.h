/* What restart-mpi's check of a sequence verified, handed to the ranks it launches (issue 7,
 * restart time: each image read and hashed once, not again by its rank).
 *
 * restart-mpi reads every chunk of every rank image before the launch, so that a damaged image
 * is refused (or a good copy fetched) before any rank starts. For each image it verified whole,
 * it takes the file's stamp (crs/base/image.h: device, inode, size, change time) before and
 * after reading it; an image whose stamp did not hold while it was read, or that changed in
 * the last second (a write in the same tick of the file system's clock would not show), is
 * left out. The stamps go to the ranks in FILEM_VERIFIED_ENV; revive-restart-rank gives its
 * rank's to the restore (crs_restart_opts.verified), which copies the chunks of that very file,
 * unchanged, without hashing them again. Another copy (a node's cache on another file system),
 * a file changed or replaced since, `restart-mpi --no-verify`, or a job too large for the
 * variable (FILEM_VERIFIED_MAX): the rank checks every chunk as it reads it, as before. */
#ifndef REVIVE_FILEM_VERIFIED_H
#define REVIVE_FILEM_VERIFIED_H

#include <stddef.h>
#include <stdint.h>

#include "crs/base/image.h"

#define FILEM_VERIFIED_ENV "REVIVE_RESTART_VERIFIED"
/* the longest text handed on (an environment variable; Linux takes up to 128 KiB each):
 * about 1000 ranks */
#define FILEM_VERIFIED_MAX (64u << 10)

/* stamps[r] for r < n: rank r's image verified whole, or size 0 (not verified). Written as
 * "R:DEV:INO:SIZE:SEC:NSEC" per verified rank, comma-separated, into out (len bytes).
 * Returns the number of ranks written, or -ENOSPC when the text would not fit (out is then
 * ""). */
int filem_verified_format(const struct crs_file_stamp *stamps, uint64_t n, char *out, size_t len);

/* Rank r's stamp in such a text: 0; -ENOENT when the text names no stamp for r; -EINVAL when
 * it is not such a text (then nothing is trusted). */
int filem_verified_find(const char *text, int r, struct crs_file_stamp *s);

/* For the verifier: whether a file stamped BEFORE and AFTER reading it can be handed on (the
 * same stamp, and its change time at least a second before NOW_SEC). */
int filem_verified_usable(const struct crs_file_stamp *before, const struct crs_file_stamp *after,
                          int64_t now_sec);

#endif

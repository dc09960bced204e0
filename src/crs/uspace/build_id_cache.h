/* The build ids of the files a process maps, remembered from one capture to the next (issue 7,
 * the capture's CPU): an MPI rank maps ~50 libraries, each read again at every checkpoint
 * (an open, three preads and a close a file). */
#ifndef REVIVE_CRS_BUILD_ID_CACHE_H
#define REVIVE_CRS_BUILD_ID_CACHE_H

#include <stdint.h>
#include <sys/stat.h>

/* The build id of the file st describes, as an earlier crs_build_id_remember said it, into out
 * (CRS_BUILD_ID_MAX bytes). Returns its length (0: the file has none), or -1 when not
 * remembered. A file is the same only with the same stamp (crs/base/image.h crs_file_stamp:
 * device, inode, size and change time; any write or chmod changes the change time, which no
 * one can set back). */
int crs_build_id_recall(const struct stat *st, uint8_t *out);

/* Remembers the build id (len bytes, 0: none) of the file st describes; the oldest entry goes
 * when the table (256 files) is full. Not remembered when the file changed within the last
 * second (crs_file_stamp_settled: a rewrite within the same tick of its change time would not
 * show): each capture reads such a file's build id again until it is older. */
void crs_build_id_remember(const struct stat *st, const uint8_t *id, uint32_t len);

#endif

/* The files an image maps by reference, against the files there now: what cr_restart and each
 * restarted MPI rank refuse (crs/uspace/restore_check.c), and what restart-mpi checks once before
 * it launches anything (tools/snapc/restart_files.c). */
#ifndef REVIVE_CRS_IMAGE_FILES_H
#define REVIVE_CRS_IMAGE_FILES_H

#include <stddef.h>

#include "crs/base/image.h"

/* Which of img->files the process mapped privately (a region of kind FILE: code and data read
 * from the file, which must be the same at restart). A file mapped only shared holds live data,
 * not code: it is expected to change, and the mapping shows its current content. Returns a
 * calloc'd array of img->nfiles flags (free it), NULL when out of memory. */
char *crs_image_private_files(const struct crs_image *img);

/* How the file at `path` now differs from img->files[i]: NULL when it is the same file, else
 * what differs ("its size", "its modification time", "its build id", "its inode"). A file with
 * a build id is the same when its size and build id are (its time and inode may differ: a
 * copy put back; *touched, when not NULL, is then 1 if its modification time differs, for a
 * warning); one without is the same when its size, time and inode are. When it cannot be
 * looked at, NULL with *gone set to the errno of stat (else *gone is 0). */
const char *crs_image_file_changed(const struct crs_image *img, size_t i, const char *path,
                                   int *gone, int *touched);

#endif

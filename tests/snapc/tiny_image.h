/* A small but real process image (tests/snapc): one page of memory holding
 * `text` and an extension "fake" with the same text. */
#ifndef REVIVE_TESTS_TINY_IMAGE_H
#define REVIVE_TESTS_TINY_IMAGE_H

#include <stddef.h>

/* Writes the image durably (temporary name, fsync, rename) at path, 0600. 0 or -errno. */
int tiny_image_write(const char *path, const char *text, char *err, size_t errlen);
/* The same, with a page of the file `mapped` (NULL: none) mapped as a library is, recorded under
 * its real path (what /proc/PID/maps shows) with its size, time and build id: restart-mpi checks
 * it as a file the rank maps. */
int tiny_image_write_mapping(const char *path, const char *text, const char *mapped, char *err,
                             size_t errlen);

#endif

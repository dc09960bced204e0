/* A small but real process image (tests/snapc): one page of memory holding
 * `text` and an extension "fake" with the same text. */
#ifndef REVIVE_TESTS_TINY_IMAGE_H
#define REVIVE_TESTS_TINY_IMAGE_H

#include <stddef.h>

/* Writes the image durably (temporary name, fsync, rename) at path, 0600. 0 or -errno. */
int tiny_image_write(const char *path, const char *text, char *err, size_t errlen);

#endif

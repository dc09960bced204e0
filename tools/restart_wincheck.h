/* A rank image whose MPI windows no restart can bring back (restart_wincheck.c). */
#ifndef REVIVE_TOOLS_RESTART_WINCHECK_H
#define REVIVE_TOOLS_RESTART_WINCHECK_H

#include <stddef.h>

/* 1 with the reason and what to do in err when the rank image at path holds such a window;
 * 0 when not, or when the image cannot be read (the restore then says why). */
int restart_wincheck(const char *path, char *err, size_t errlen);
/* The same of an image open as img (path: its file, named in a warning), read as it is: the
 * check of a sequence (tools/snapc/seq_pick.c) looks at the image it opened. Without advice, err
 * says why only (the caller names the sequence to take instead). Safe to call from several
 * threads at once. */
struct crs_image;
int restart_wincheck_img(const struct crs_image *img, const char *path, int advice, char *err,
                         size_t errlen);

#endif

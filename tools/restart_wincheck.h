/* A rank image whose MPI windows no restart can bring back (restart_wincheck.c). */
#ifndef REVIVE_TOOLS_RESTART_WINCHECK_H
#define REVIVE_TOOLS_RESTART_WINCHECK_H

#include <stddef.h>

/* 1 with the reason and what to do in err when the rank image at path holds such a window;
 * 0 when not, or when the image cannot be read (the restore then says why). */
int restart_wincheck(const char *path, char *err, size_t errlen);

#endif

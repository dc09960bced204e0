/* restart-mpi's check, before it launches anything, of the files the ranks' images map by
 * reference (the program, Revive's libraries, libc and every other library of the upper half):
 * each rank refuses an image whose mapped files changed since the checkpoint
 * (crs/base/image_files.h), but only after the launch, behind the launcher's banner, once per
 * rank. restart-mpi looks at them here, on its own host, once per distinct file; a rank on a
 * host whose files differ still refuses by itself. */
#ifndef REVIVE_TOOLS_RESTART_FILES_H
#define REVIVE_TOOLS_RESTART_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Every rank_<r>.img of seqdir (r < ranks; an image not there is skipped: it is fetched later
 * and its rank checks it; so are the nskip ranks of skip, whose image is damaged and a good copy
 * is fetched over it: newuser9b N1, a truncated image or a damaged header cannot be read here)
 * against the files as they are now, each path first given to
 * moved(): 1 with the path --relocate moves it to in out (as the ranks move it), else 0.
 * 0 when none changed; -ESTALE (a file changed) or -ENOENT (a file is gone) with one sentence
 * in err naming the file, the rank and what differs; another -errno when an image cannot be
 * read. A file with only another modification time (the same size and build id: a copy put
 * back) is the same: a warning on stderr, once per file, unless it is one of the nwarned
 * paths in `warned` (entries may be NULL): those the caller warned about already (the
 * application binary and the MPI library, which the ranks map too). */
int restart_check_files(const char *seqdir, uint64_t ranks, const int *skip, int nskip,
                        int (*moved)(const char *path, char *out, size_t len, void *arg),
                        void *arg, const char *const *warned, int nwarned, char *err, size_t errlen);

#endif

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

/* --save-shared (docs/snapshots.md): a file several ranks mapped shared and writable has one
 * saved copy per rank, each from that rank's own capture (ranks are captured one after another),
 * and every rank writing its copy back gave the file in no set order, maybe in a state that never
 * existed (diffrev34 R-L20). Only the copy taken last is written back: a rank captured earlier
 * stays stopped (--term, --stop) or parked in MPI, so that copy holds its writes up to its own
 * capture. For each saved file of every rank_<r>.img of seqdir (r < ranks; an image not there is
 * passed over) that more than one rank saved, the line "WRITER PATH\n" (WRITER: the rank whose
 * image was taken last, by the images' times, the higher rank of a tie; PATH as the images name
 * it) is put in out, NUL-terminated; a path holding a newline is left out (all its ranks write, as
 * before). revive-restart-rank reads them (RESTART_SAVED_WRITERS_VAR). Returns the number of such
 * files (0: none, out ""), or -E2BIG when they do not fit in len (out "": each rank writes its
 * own copy, as before; the caller says so). */
#define RESTART_SAVED_WRITERS_VAR "REVIVE_SAVED_WRITERS"
int restart_saved_writers(const char *seqdir, uint64_t ranks, char *out, size_t len);

#endif

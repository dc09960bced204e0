/* restart-mpi's check, before it launches anything, of the files the ranks' images map by
 * reference (the program, Revive's libraries, libc and every other library of the upper half):
 * each rank refuses an image whose mapped files changed since the checkpoint
 * (crs/base/image_files.h), but only after the launch, behind the launcher's banner, once per
 * rank. restart-mpi looks at them here, on its own host, once per distinct file; a rank on a
 * host whose files differ still refuses by itself. */
#ifndef REVIVE_TOOLS_RESTART_FILES_H
#define REVIVE_TOOLS_RESTART_FILES_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct crs_image;

/* The paths already found unchanged: the ranks of a job map the same libraries, so each is
 * looked at once (a build id read per library and rank cost more than the rest of the check). */
struct restart_files_seen {
    char **v;
    int *warn; /* for each: the lowest rank mapping it touched (warned at the end), or -1 */
    size_t n;
};

/* The look at the images of a sequence, one image at a time as the check of the sequence opens
 * it (seq_pick_judge's also: each image is opened once, src/filem/verify.c). An image that is
 * not looked at (missing, damaged: fetched later, its rank checks it; newuser9b N1) is skipped by
 * that check. Each file an image maps is given first to moved(): 1 with the path --relocate
 * moves it to in out (as the ranks move it), else 0, then compared with the file as it is now.
 * A file with only another modification time (the same size and build id: a copy put back) is
 * the same: a warning on stderr, once per file, unless it is one of the nwarned paths in
 * `warned` (entries may be NULL): those the caller warned about already (the application
 * binary and the MPI library, which the ranks map too). */
struct restart_files {
    int (*moved)(const char *path, char *out, size_t len, void *arg);
    void *arg;
    const char *const *warned;
    int nwarned;
    pthread_mutex_t lock; /* the check's threads look at their images at once */
    struct restart_files_seen seen;
    /* the finding of the lowest rank whose image maps a changed file: 0, or -ESTALE (a file
     * changed) or -ENOENT (a file is gone) with one sentence in err naming the file, the rank and
     * what differs (-ENOMEM: out of memory) */
    int e, rank;
    char err[PATH_MAX + 1024];
};

void restart_files_init(struct restart_files *f,
                        int (*moved)(const char *path, char *out, size_t len, void *arg), void *arg,
                        const char *const *warned, int nwarned);
/* rank's image, open as img: its mapped files looked at (thread-safe). */
void restart_files_image(struct restart_files *f, int rank, const struct crs_image *img);
/* Says the warnings of the look (each file with another modification time but the same size and
 * build id, naming the lowest rank that maps it), then frees what f holds (f->e and f->err stay). */
void restart_files_end(struct restart_files *f);

#endif

/* restart-mpi's check of the files the rank images map (restart_files.h). */
#define _GNU_SOURCE
#include "restart_files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "crs/base/image.h"
#include "crs/base/image_files.h"


/* p's index in s, or -1 */
static long seen_find(const struct restart_files_seen *s, const char *p)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], p))
            return (long)i;
    return -1;
}

/* WARN: the rank to name in the warning of a touched file, or -1 */
static void seen_add(struct restart_files_seen *s, const char *p, int warn)
{
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (v)
        s->v = v;
    int *w = v ? realloc(s->warn, (s->n + 1) * sizeof *w) : NULL;
    if (w)
        s->warn = w;
    if (!v || !w)
        return; /* only a cost: the file is looked at again */
    if ((s->v[s->n] = strdup(p))) {
        s->warn[s->n] = warn;
        s->n++;
    }
}

/* Whether the caller warned about p already: by that name, or by another name of the same file
 * (the MPI library as the loader named it, libmpi.so.40, where the images name the file the link
 * leads to, as /proc/PID/maps does). */
static int was_warned(const char *p, const char *const *warned, int nwarned)
{
    struct stat a, b;
    int have = -1;
    for (int i = 0; i < nwarned; i++) {
        if (!warned[i])
            continue;
        if (!strcmp(p, warned[i]))
            return 1;
        if (have < 0)
            have = stat(p, &a) == 0;
        if (have && stat(warned[i], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return 1;
    }
    return 0;
}

/* 1 when the image maps file i executable somewhere (code, whatever its notes) */
static int mapped_exec(const struct crs_image *img, size_t i)
{
    for (size_t k = 0; k < img->nregions; k++)
        if (img->regions[k].kind == CRS_REGION_FILE && (size_t)img->regions[k].file == i &&
            (img->regions[k].prot & PROT_EXEC))
            return 1;
    return 0;
}

/* One image (img, open; rank's): 0, or -ESTALE / -ENOENT with err filled */
static int check_image(const struct crs_image *img, int rank, struct restart_files_seen *seen,
                       const char *const *warned, int nwarned,
                       int (*moved)(const char *, char *, size_t, void *), void *arg, char *err,
                       size_t errlen)
{
    char *use = crs_image_private_files(img);
    if (!use) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int e = 0;
    for (size_t i = 0; i < img->nfiles && !e; i++) {
        if (!use[i])
            continue;
        char buf[PATH_MAX];
        const char *p = crs_image_str(img, img->files[i].path);
        if (moved(p, buf, sizeof buf, arg))
            p = buf;
        long at = seen_find(seen, p);
        if (at >= 0) {
            /* the warning names the lowest rank mapping it, as a look in rank order did: the
             * images are looked at by the check's threads in any order (rst_libchg-mpich in the
             * CI of dfd7366e named rank 1) */
            if (seen->warn[at] > rank)
                seen->warn[at] = rank;
            continue;
        }
        int gone, touched;
        const char *what = crs_image_file_changed(img, i, p, &gone, &touched);
        if (gone) {
            snprintf(err, errlen,
                     "%s, mapped by rank %d, is missing (%s): put it back%s", p, rank,
                     strerror(gone),
                     gone == ENOENT ? ", or if it moved give its new place with --relocate "
                                      "OLD=NEW" : "");
            e = -ENOENT;
        } else if (what) {
            /* code: a file with a build id or one the rank mapped executable (a library
             * linked without a build id is still code: diffrev35 R-L1); else the job's data (an
             * input it maps), of which only size and modification time can be compared */
            int code = img->files[i].build_id_len > 0 || mapped_exec(img, i);
            char hint[160] = "";
            if (!code)
                snprintf(hint, sizeof hint,
                         " (its size and modification time are compared, not its bytes: a copy "
                         "with the same bytes needs the same time, touch -d @%lld.%09lld)",
                         (long long)(img->files[i].mtime_ns / 1000000000LL),
                         (long long)(img->files[i].mtime_ns % 1000000000LL));
            snprintf(err, errlen,
                     "%s, mapped by rank %d, changed since the checkpoint (%s differs): the "
                     "ranks would %s; put back the file the job ran with%s, or "
                     "restart from a snapshot taken after the change",
                     p, rank, what, code ? "run different code" : "read other data than they mapped",
                     hint);
            e = -ESTALE;
        } else
            seen_add(seen, p, touched && !was_warned(p, warned, nwarned) ? rank : -1);
    }
    free(use);
    return e;
}

void restart_files_init(struct restart_files *f,
                        int (*moved)(const char *path, char *out, size_t len, void *arg), void *arg,
                        const char *const *warned, int nwarned)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    f->moved = moved;
    f->arg = arg;
    f->warned = warned;
    f->nwarned = nwarned;
    f->rank = -1;
}

void restart_files_image(struct restart_files *f, int rank, const struct crs_image *img)
{
    char err[sizeof f->err];
    pthread_mutex_lock(&f->lock);
    /* the lowest rank's finding, as a look in rank order stopped at the first */
    if (f->e == 0 || rank < f->rank) {
        int e = check_image(img, rank, &f->seen, f->warned, f->nwarned, f->moved, f->arg, err,
                            sizeof err);
        if (e < 0) {
            f->e = e;
            f->rank = rank;
            memcpy(f->err, err, sizeof err);
        }
    }
    pthread_mutex_unlock(&f->lock);
}

void restart_files_end(struct restart_files *f)
{
    for (size_t i = 0; i < f->seen.n; i++) {
        if (f->seen.warn[i] >= 0)
            fprintf(stderr, "restart-mpi: warning: %s, mapped by rank %d, has another modification "
                    "time than at the checkpoint, but the same size and build id: taken for the "
                    "same program (a copy put back)\n", f->seen.v[i], f->seen.warn[i]);
        free(f->seen.v[i]);
    }
    free(f->seen.v);
    free(f->seen.warn);
    f->seen.warn = NULL;
    f->seen.v = NULL;
    f->seen.n = 0;
    pthread_mutex_destroy(&f->lock);
}

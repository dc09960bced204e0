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

#include "crs/base/image_files.h"

/* The paths already found unchanged: the ranks of a job map the same libraries, so each is
 * looked at once (a build id read per library and rank cost more than the rest of the check). */
struct seen {
    char **v;
    size_t n;
};

static int seen_has(const struct seen *s, const char *p)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], p))
            return 1;
    return 0;
}

static void seen_add(struct seen *s, const char *p)
{
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        return; /* only a cost: the file is looked at again */
    s->v = v;
    if ((s->v[s->n] = strdup(p)))
        s->n++;
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

/* One image: 0, -ESTALE / -ENOENT with err filled, or -errno of the reader. */
/* 1 when the image maps file i executable somewhere (code, whatever its notes) */
static int mapped_exec(const struct crs_image *img, size_t i)
{
    for (size_t k = 0; k < img->nregions; k++)
        if (img->regions[k].kind == CRS_REGION_FILE && (size_t)img->regions[k].file == i &&
            (img->regions[k].prot & PROT_EXEC))
            return 1;
    return 0;
}

static int check_image(const char *path, int rank, struct seen *seen, const char *const *warned,
                       int nwarned, int (*moved)(const char *, char *, size_t, void *), void *arg,
                       char *err, size_t errlen)
{
    struct crs_image img;
    int e = crs_image_open_first(&img, path);
    if (e == -ENOENT)
        return 0;
    if (e < 0) {
        snprintf(err, errlen, "%s", img.err);
        return e;
    }
    char *use = crs_image_private_files(&img);
    if (!use) {
        crs_image_close(&img);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < img.nfiles && !e; i++) {
        if (!use[i])
            continue;
        char buf[PATH_MAX];
        const char *p = crs_image_str(&img, img.files[i].path);
        if (moved(p, buf, sizeof buf, arg))
            p = buf;
        if (seen_has(seen, p))
            continue;
        int gone, touched;
        const char *what = crs_image_file_changed(&img, i, p, &gone, &touched);
        if (!gone && !what && touched && !was_warned(p, warned, nwarned))
            fprintf(stderr, "restart-mpi: warning: %s, mapped by rank %d, has another modification "
                    "time than at the checkpoint, but the same size and build id: taken for the same "
                    "program (a copy put back)\n", p, rank);
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
            int code = img.files[i].build_id_len > 0 || mapped_exec(&img, i);
            char hint[160] = "";
            if (!code)
                snprintf(hint, sizeof hint,
                         " (its size and modification time are compared, not its bytes: a copy "
                         "with the same bytes needs the same time, touch -d @%lld.%09lld)",
                         (long long)(img.files[i].mtime_ns / 1000000000LL),
                         (long long)(img.files[i].mtime_ns % 1000000000LL));
            snprintf(err, errlen,
                     "%s, mapped by rank %d, changed since the checkpoint (%s differs): the "
                     "ranks would %s; put back the file the job ran with%s, or "
                     "restart from a snapshot taken after the change",
                     p, rank, what, code ? "run different code" : "read other data than they mapped",
                     hint);
            e = -ESTALE;
        } else
            seen_add(seen, p);
    }
    free(use);
    crs_image_close(&img);
    return e;
}

int restart_check_files(const char *seqdir, uint64_t ranks, const int *skip, int nskip,
                        int (*moved)(const char *path, char *out, size_t len, void *arg),
                        void *arg, const char *const *warned, int nwarned, char *err, size_t errlen)
{
    struct seen seen = {0};
    int e = 0;
    for (uint64_t r = 0; r < ranks && !e; r++) {
        int fetched = 0;
        for (int k = 0; k < nskip && !fetched; k++)
            fetched = skip[k] >= 0 && (uint64_t)skip[k] == r;
        if (fetched)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/rank_%llu.img", seqdir, (unsigned long long)r);
        e = check_image(path, (int)r, &seen, warned, nwarned, moved, arg, err, errlen);
    }
    for (size_t i = 0; i < seen.n; i++)
        free(seen.v[i]);
    free(seen.v);
    return e;
}

/* restart-mpi's choice of one writer per file several ranks saved (restart_saved.h). */
#define _GNU_SOURCE
#include "restart_saved.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "crs/base/image.h"
#include "filem/filem.h"

/* One file of one host, and who saved it */
struct group {
    const char *host;      /* snapshot.meta's value (m outlives the groups) */
    uint64_t dev, ino;
    char *path;            /* as the first image to name it does */
    uint64_t *ranks;       /* increasing (images read in rank order) */
    size_t nranks;
    uint64_t writer, read_ns;
    int unknown;           /* a copy of an image that did not record its read time */
};

/* The bytes of the file a saved region holds: its mapping's range within the file, cut at the
 * file's size as its image recorded it (rounded up to the page: the last page is saved whole) */
static void saved_range(const struct crs_image *img, const struct crs_rec_region *g, uint64_t *a, uint64_t *b)
{
    uint64_t page = img->hdr.page_size ? img->hdr.page_size : 4096;
    uint64_t size = (img->files[g->file].size + page - 1) / page * page;
    *a = g->pgoff;
    *b = g->pgoff + (g->end - g->start);
    if (*b > size)
        *b = size > *a ? size : *a;
}

struct groups {
    struct group *v;
    size_t n;
};

static void groups_free(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].path);
        free(g->v[i].ranks);
    }
    free(g->v);
}

/* Rank r's copy of (host, dev, ino), read at read_ns (0: not recorded) */
static int note(struct groups *gs, const char *host, uint64_t dev, uint64_t ino, const char *path,
                uint64_t r, uint64_t read_ns)
{
    struct group *g = NULL;
    for (size_t i = 0; i < gs->n && !g; i++)
        if (gs->v[i].dev == dev && gs->v[i].ino == ino && !strcmp(gs->v[i].host, host))
            g = &gs->v[i];
    if (!g) {
        struct group *v = realloc(gs->v, (gs->n + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        gs->v = v;
        g = &v[gs->n];
        memset(g, 0, sizeof *g);
        g->host = host;
        g->dev = dev;
        g->ino = ino;
        if (!(g->path = strdup(path)))
            return -ENOMEM;
        gs->n++;
    }
    if (!read_ns)
        g->unknown = 1;
    if (g->nranks && g->ranks[g->nranks - 1] == r) { /* the rank maps it more than once */
        if (read_ns > g->read_ns || (read_ns == g->read_ns && r > g->writer))
            g->writer = r, g->read_ns = read_ns;
        return 0;
    }
    uint64_t *rv = realloc(g->ranks, (g->nranks + 1) * sizeof *rv);
    if (!rv)
        return -ENOMEM;
    g->ranks = rv;
    rv[g->nranks++] = r;
    if (g->nranks == 1 || read_ns >= g->read_ns) /* ranks increase: a tie goes to the higher */
        g->writer = r, g->read_ns = read_ns;
    return 0;
}

/* appends to buf (len bytes, used so far *used): 0, or -E2BIG (buf left at *used) */
#define put(buf, len, used, ...) revive_text_put(buf, len, used, -E2BIG, __VA_ARGS__)

static int put_ranks(char *buf, size_t len, size_t *used, const struct group *g)
{
    int e = 0;
    for (size_t k = 0; k < g->nranks && !e; k++)
        e = put(buf, len, used, "%s%llu", k ? "," : "", (unsigned long long)g->ranks[k]);
    return e;
}

/* The writer's saved ranges of g's file, "A-B,A-B" (bytes of the file): another rank's saved
 * region is left to the writer only within them (ranks that map different parts of one file
 * each write their own part) */
static int put_writer_ranges(char *out, size_t len, size_t *used, const char *seqdir, const struct group *g,
                             char *why, size_t whylen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/rank_%llu.img", seqdir, (unsigned long long)g->writer);
    struct crs_image img;
    int e = crs_image_open_first(&img, path);
    if (e < 0) {
        snprintf(why, whylen, "%s", img.err);
        return e;
    }
    int n = 0;
    for (size_t i = 0; i < img.nregions && !e; i++) {
        const struct crs_rec_region *r = &img.regions[i];
        if (r->kind != CRS_REGION_FILE_SHARED || !(r->flags & CRS_REGION_F_SAVED) ||
            img.files[r->file].dev != g->dev || img.files[r->file].ino != g->ino)
            continue;
        uint64_t a, b;
        saved_range(&img, r, &a, &b);
        if (b > a)
            e = put(out, len, used, "%s%llu-%llu", n++ ? "," : "", (unsigned long long)a, (unsigned long long)b);
    }
    if (!e && !n)
        e = put(out, len, used, "0-0");
    crs_image_close(&img);
    return e;
}

int restart_saved_writers(const char *seqdir, uint64_t ranks, const struct filem_meta *m, char *out,
                          size_t len, char *say, size_t saylen, char *why, size_t whylen)
{
    struct groups gs = {0};
    int e = 0, unread = 0; /* the first image that could not be read */
    if (len)
        out[0] = 0;
    if (say && saylen)
        say[0] = 0;
    for (uint64_t r = 0; r < ranks && !e; r++) {
        char path[PATH_MAX], key[64];
        snprintf(key, sizeof key, "rank.%llu.host", (unsigned long long)r);
        const char *host = filem_meta_get(m, key);
        snprintf(path, sizeof path, "%s/rank_%llu.img", seqdir, (unsigned long long)r);
        struct crs_image img;
        int oe = crs_image_open_first(&img, path);
        if (oe < 0) { /* (its rank's restore says why) */
            if (!unread)
                snprintf(why, whylen, "%s", img.err);
            unread = unread ? unread : oe;
            continue;
        }
        for (size_t i = 0; i < img.nregions && !e; i++) {
            const struct crs_rec_region *g = &img.regions[i];
            if (g->kind != CRS_REGION_FILE_SHARED || !(g->flags & CRS_REGION_F_SAVED))
                continue; /* (the reader checked g->file) */
            const struct crs_rec_file *f = &img.files[g->file];
            const char *p = crs_image_str(&img, f->path);
            if (!host || !*host || strpbrk(host, " \n")) {
                snprintf(why, whylen, "%s/snapshot.meta does not say on which host rank %llu ran "
                         "(%s)", seqdir, (unsigned long long)r, key);
                e = -ENOENT;
            } else if (*p && !strchr(p, '\n')) /* (a path with a newline: its ranks write, as before) */
                e = note(&gs, host, f->dev, f->ino, p, r, g->saved_ns);
        }
        crs_image_close(&img);
    }
    if (e == -ENOMEM)
        snprintf(why, whylen, "out of memory");
    /* an image not read may hold a copy of any file the others saved (none saved: nothing to
     * choose, and nothing to say) */
    if (!e && unread && gs.n)
        e = unread;
    size_t used = 0, sused = 0;
    int lines = 0;
    for (size_t i = 0; i < gs.n && !e; i++) {
        const struct group *g = &gs.v[i];
        if (g->nranks < 2)
            continue;
        if (g->unknown) { /* an image from before the read times: as before */
            if (!put(say, saylen, &sused, "%s on %s, which ranks ", g->path, g->host) &&
                !put_ranks(say, saylen, &sused, g))
                put(say, saylen, &sused, " saved (--save-shared), is written back by each of them, in no "
                    "set order: their images do not say when its pages were read (taken by an older "
                    "Revive)\n");
            continue;
        }
        e = put(out, len, &used, "%llu %llu %llu %s ", (unsigned long long)g->writer,
                (unsigned long long)g->dev, (unsigned long long)g->ino, g->host);
        if (!e)
            e = put_ranks(out, len, &used, g);
        if (!e)
            e = put(out, len, &used, " ");
        if (!e)
            e = put_writer_ranges(out, len, &used, seqdir, g, why, whylen);
        if (!e)
            e = put(out, len, &used, " %s\n", g->path);
        if (e)
            break;
        lines++;
        if (!put(say, saylen, &sused, "%s on %s, which ranks ", g->path, g->host) && !put_ranks(say, saylen, &sused, g))
            put(say, saylen, &sused, " saved (--save-shared), is written back from rank %llu's copy, the one "
                "read last (a part of the file that copy lacks: from the rank that saved it)\n",
                (unsigned long long)g->writer);
    }
    groups_free(&gs);
    if (e < 0 && len)
        out[0] = 0;
    return e < 0 ? e : lines;
}

int restart_saved_maybe(const struct filem_meta *m)
{
    const char *v = filem_meta_get(m, "ckpt.save_shared");
    return !v || strcmp(v, "0") != 0;
}

/* Files whose bytes go into the image (image_format.h: FOBJS, FEXTENTS,
 * FDATA): files deleted while open and files in /dev/shm. Descriptors and
 * shared mappings name them (crs_capture_fobj_index); once every one is
 * known, crs_capture_fobj_plan finds a way to read each and its data extents
 * (checking the size limit); crs_capture_fobj_write streams the bytes. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <xxhash.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#define DELETED_SUFFIX " (deleted)"

int crs_capture_is_shm_path(const char *path)
{
    return !strncmp(path, "/dev/shm/", 9) && path[9];
}

/* A deleted file of hugetlbfs cannot be saved like others: hugetlbfs takes
 * no write(2), so it could not be filled again. The folder it was in tells
 * (the file itself has no path left). */
int crs_capture_on_hugetlbfs(const char *path, uint64_t dev)
{
    char dir[4096];
    size_t len = strlen(path);
    if (len >= sizeof dir)
        return 0;
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    slash[slash == dir] = 0;   /* "/x" -> "/" */
    struct statfs sf;
    struct stat st;
    return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == HUGETLBFS_MAGIC && stat(dir, &st) == 0 &&
           (uint64_t)st.st_dev == dev;
}

uint32_t crs_capture_huge_shift(int fd)
{
    struct statfs sf;
    uint32_t shift = 0;
    if (fstatfs(fd, &sf) != 0 || (unsigned long)sf.f_type != HUGETLBFS_MAGIC || sf.f_bsize <= 4096)
        return 0;
    while ((1ull << shift) < (unsigned long long)sf.f_bsize)
        shift++;
    return shift;
}

static const char *kind_word(uint32_t kind)
{
    return kind == CRS_FOBJ_SHM ? "shared memory" : kind == CRS_FOBJ_MEMFD ? "memfd"
           : kind == CRS_FOBJ_SYSV ? "System V shared memory" : "deleted";
}

int crs_capture_fobj_index(struct crs_capture *c, uint64_t dev, uint64_t ino, const char *name, uint32_t mode,
                           uint64_t min_size)
{
    for (size_t i = 0; i < c->nfobjs; i++)
        if (c->fobjs[i].dev == dev && c->fobjs[i].ino == ino) {
            if (c->fobjs[i].size < min_size)
                c->fobjs[i].size = min_size;
            if (mode)
                c->fobjs[i].mode = mode;
            return (int)i;
        }
    if (c->nfobjs == c->fobjs_cap)
        return -1;
    struct crs_rec_fobj *f = &c->fobjs[c->nfobjs];
    memset(f, 0, sizeof *f);
    f->dev = dev;
    f->ino = ino;
    f->mode = mode;
    f->size = min_size;
    char path[4096];
    size_t len = strlen(name), sl = strlen(DELETED_SUFFIX);
    int deleted = len > sl && !strcmp(name + len - sl, DELETED_SUFFIX);
    if (deleted)
        len -= sl;
    if (len >= sizeof path)
        len = sizeof path - 1;
    memcpy(path, name, len);
    path[len] = 0;
    f->kind = !deleted && crs_capture_is_shm_path(path) ? CRS_FOBJ_SHM : CRS_FOBJ_DELETED;
    c->fobj_paths[c->nfobjs] = crs_capture_strdup(c, path);
    c->fobj_src[c->nfobjs] = -1;
    c->fobj_owned[c->nfobjs] = 0;
    return (int)c->nfobjs++;
}

/* A descriptor of the process that reads object i (pread leaves its offset). */
void crs_capture_fobj_reader(struct crs_capture *c, int i, int fd, uint32_t open_flags)
{
    int acc = (int)open_flags & O_ACCMODE;
    if (c->fobj_src[i] < 0 && !(open_flags & O_PATH) && (acc == O_RDONLY || acc == O_RDWR))
        c->fobj_src[i] = fd;
}

/* A descriptor of our own that reads object i, when the process has none:
 * through one of its write-only descriptors, its name (/dev/shm), or the
 * mapping (/proc/self/map_files, for those allowed to). */
static int open_reader(struct crs_capture *c, size_t i)
{
    const struct crs_rec_fobj *f = &c->fobjs[i];
    char path[96];
    int fd = -1;
    struct stat st;
    if (crs_capture_posix_locked(c, f->dev, f->ino))
        return -1;   /* closing our descriptor would release the lock: read the mapping */
    for (size_t k = 0; k < c->nfds && fd < 0; k++)
        if (c->fds[k].kind == CRS_FD_FOBJ && c->fds[k].memfd == (int32_t)i) {
            snprintf(path, sizeof path, "/proc/self/fd/%d", c->fds[k].fd);
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    if (fd < 0 && f->kind == CRS_FOBJ_SHM)
        fd = open(c->fobj_paths[i], O_RDONLY | O_CLOEXEC);
    for (size_t k = 0; k < c->nregions && fd < 0; k++)
        if (c->regions[k].kind == CRS_REGION_FOBJ && c->regions[k].file == (int32_t)i) {
            snprintf(path, sizeof path, "/proc/self/map_files/%llx-%llx", (unsigned long long)c->regions[k].start,
                     (unsigned long long)c->regions[k].end);
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino)) {
        close(fd);   /* another file under that name by now */
        fd = -1;
    }
    return fd;
}

static int add_extent(struct crs_capture *c, uint64_t off, uint64_t len, uint64_t vaddr)
{
    while (len) {
        uint64_t n = len < CRS_CHUNK_MAX ? len : CRS_CHUNK_MAX;
        if (c->nfextents == c->fextents_cap) {
            crs_capture_error(c, "the saved files have more than %zu pieces of data", c->fextents_cap);
            return -E2BIG;
        }
        struct crs_rec_fextent *x = &c->fextents[c->nfextents];
        memset(x, 0, sizeof *x);
        x->offset = off;
        x->length = n;
        c->fext_vaddr[c->nfextents++] = vaddr;
        c->fdata_total += n;
        off += n;
        len -= n;
        if (vaddr)
            vaddr += n;
    }
    return 0;
}

/* The data extents of the file read by fd (holes left out). fd may be the
 * process's own: its offset is put back (the threads are parked). */
static int file_extents(struct crs_capture *c, int fd, uint64_t size)
{
    off_t saved = lseek(fd, 0, SEEK_CUR);
    uint64_t at = 0;
    int e = 0;
    while (at < size && !e) {
        off_t d = lseek(fd, (off_t)at, SEEK_DATA);
        if (d < 0) {
            if (errno == ENXIO)
                break;                  /* only a hole from here on */
            d = (off_t)at;              /* no SEEK_DATA here: all of it */
        }
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0 || (uint64_t)h > size)
            h = (off_t)size;
        if ((uint64_t)d >= size || h <= d)
            break;
        e = add_extent(c, (uint64_t)d, (uint64_t)(h - d), 0);
        at = (uint64_t)h;
    }
    if (saved >= 0)
        lseek(fd, saved, SEEK_SET);
    return e;
}

/* No descriptor at all (a deleted file mapped shared, its descriptor closed,
 * without the right to open /proc/self/map_files): what the mappings show. */
static int mapped_extents(struct crs_capture *c, size_t i)
{
    uint64_t covered = 0;   /* mappings of one file are rarely more than one; keep the first of overlaps */
    for (size_t k = 0; k < c->nregions; k++) {
        const struct crs_rec_region *g = &c->regions[k];
        if (g->kind != CRS_REGION_FOBJ || g->file != (int32_t)i)
            continue;
        uint64_t off = g->pgoff, len = g->end - g->start, va = g->start;
        if (c->fobjs[i].kind == CRS_FOBJ_SYSV && off + len > c->fobjs[i].size)
            len = off < c->fobjs[i].size ? c->fobjs[i].size - off : 0;   /* the last page's tail */
        if (off + len <= covered)
            continue;
        if (off < covered) {
            va += covered - off;
            len -= covered - off;
            off = covered;
        }
        int e = add_extent(c, off, len, va);
        if (e)
            return e;
        covered = off + len;
        if (c->fobjs[i].size < covered)
            c->fobjs[i].size = covered;
    }
    return 0;
}

int crs_capture_elsewhere(const struct crs_capture *c, uint64_t dev, uint64_t ino)
{
    for (int k = 0; k < c->opts.ntree_elsewhere; k++)
        if (c->opts.tree_elsewhere[k].dev == dev && c->opts.tree_elsewhere[k].ino == ino)
            return 1;
    return 0;
}

int crs_capture_fobj_plan(struct crs_capture *c)
{
    for (size_t i = 0; i < c->nfobjs; i++) {
        struct crs_rec_fobj *f = &c->fobjs[i];
        if (crs_capture_elsewhere(c, f->dev, f->ino)) {
            /* one file (or memfd) for the tree: its bytes once, in the owner's image */
            f->flags |= CRS_FOBJ_F_ELSEWHERE;
            f->first_extent = (uint32_t)c->nfextents;
            f->nextents = 0;
            continue;
        }
        int fd = c->fobj_src[i];
        if (fd < 0 && (fd = open_reader(c, i)) >= 0) {
            c->fobj_src[i] = fd;
            c->fobj_owned[i] = 1;
        }
        struct stat st;
        if (fd >= 0 && f->kind != CRS_FOBJ_SYSV && fstat(fd, &st) == 0) {
            f->size = (uint64_t)st.st_size;
            f->mode = st.st_mode;
        }
        if (fd < 0) {
            int mapped = 0;
            for (size_t k = 0; k < c->nregions && !mapped; k++)
                mapped = c->regions[k].kind == CRS_REGION_FOBJ && c->regions[k].file == (int32_t)i;
            if (!mapped) {
                crs_capture_error(c, "the %s file %s cannot be read for the image: the process holds it open "
                                  "only for writing, and Revive may not open it for reading (its permissions, "
                                  "or a POSIX lock that closing Revive's descriptor would release); open it "
                                  "for reading and writing",
                                  kind_word(f->kind),
                                  c->fobj_paths[i]);
                return -ENOTSUP;
            }
        }
        f->first_extent = (uint32_t)c->nfextents;
        uint64_t before = c->fdata_total;
        int e = fd >= 0 ? file_extents(c, fd, f->size) : mapped_extents(c, i);
        if (e)
            return e;
        f->nextents = (uint32_t)(c->nfextents - f->first_extent);
        /* one budget for the whole image: what the caller keeps in it beside these files (the MPI
         * layer's copies of its scratch files, a tree's other members) counts too; each checked on
         * its own, a rank's image held the limit once per kind of saved data (session 45) */
        uint64_t held = c->opts.file_data_held;
        if (c->opts.file_data_max && (held > c->opts.file_data_max ||
                                      c->fdata_total > c->opts.file_data_max - held)) {
            char also[160] = "";
            if (held)
                snprintf(also, sizeof also, " and the %llu MiB of %s the image holds",
                         (unsigned long long)((held + (1 << 20) - 1) >> 20), c->opts.file_data_held_what);
            crs_capture_error(c, "the %s file %s holds %llu MiB; with the other saved files%s that is more than "
                              "the %llu MiB an image may hold of %s; "
                              "raise the limit (%s), or close or shrink the file",
                              kind_word(f->kind),
                              c->fobj_paths[i],
                              (unsigned long long)((c->fdata_total - before + (1 << 20) - 1) >> 20), also,
                              (unsigned long long)(c->opts.file_data_max >> 20),
                              held ? "saved files' data" : "files deleted while open or in /dev/shm",
                              c->opts.file_data_hint);
            return -EFBIG;
        }
    }
    return 0;
}

static int zero_page(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

/* One piece of data: its extent record (into c->fextents_out), its bytes. */
static int emit(struct crs_capture *c, struct crs_image_writer *w, const unsigned char *p, uint64_t off, size_t len)
{
    if (c->nfext_out == c->fextents_cap) {
        crs_capture_error(c, "the saved files have more than %zu pieces of data", c->fextents_cap);
        return -E2BIG;
    }
    struct crs_rec_fextent *x = &c->fext_out[c->nfext_out++];
    memset(x, 0, sizeof *x);
    x->offset = off;
    x->length = len;
    x->data_offset = crs_iw_stream_length(w);
    x->checksum = XXH3_64bits(p, len);
    int e = crs_iw_stream_append(w, p, len);
    if (e)
        crs_capture_error(c, "%s", w->err);
    return e;
}

/* Streams FDATA: each planned extent's bytes through `bounce`
 * (CRS_CHUNK_MAX), leaving out pages of zeros (a read of a shared mapping's
 * hole fills it with them), so the final extents (c->fext_out) are written
 * after. mem_fd reads the mappings of memory-only files. */
int crs_capture_fobj_write(struct crs_capture *c, struct crs_image_writer *w, char *bounce, int mem_fd)
{
    if (!c->nfobjs)
        return 0;
    const size_t page = 4096;
    c->nfext_out = 0;
    int e = crs_iw_stream_begin(w, CRS_SEC_FDATA);
    if (e)
        crs_capture_error(c, "%s", w->err);
    for (size_t i = 0; i < c->nfobjs && !e; i++) {
        struct crs_rec_fobj *f = &c->fobjs[i];
        uint32_t first = (uint32_t)c->nfext_out;
        for (uint32_t k = 0; k < f->nextents && !e; k++) {
            size_t xi = f->first_extent + k;
            const struct crs_rec_fextent *x = &c->fextents[xi];
            uint64_t va = c->fext_vaddr[xi];
            ssize_t n = va ? pread(mem_fd, bounce, x->length, (off_t)va)
                           : pread(c->fobj_src[i], bounce, x->length, (off_t)x->offset);
            if (n < 0) {
                crs_capture_error(c, "cannot read the saved file %s: %s", c->fobj_paths[i], strerror(errno));
                return -EIO;
            }
            if ((uint64_t)n < x->length)   /* the file shrank meanwhile: zeros */
                memset(bounce + n, 0, x->length - (uint64_t)n);
            /* runs of pages that are not all zero */
            size_t run = 0, run_len = 0;
            for (size_t at = 0; at < x->length && !e; at += page) {
                size_t len = x->length - at < page ? x->length - at : page;
                if (!zero_page((const unsigned char *)bounce + at, len)) {
                    if (!run_len)
                        run = at;
                    run_len += len;
                    continue;
                }
                if (run_len)
                    e = emit(c, w, (const unsigned char *)bounce + run, x->offset + run, run_len);
                run_len = 0;
            }
            if (run_len && !e)
                e = emit(c, w, (const unsigned char *)bounce + run, x->offset + run, run_len);
        }
        f->first_extent = first;
        f->nextents = (uint32_t)(c->nfext_out - first);
    }
    if (!e && (e = crs_iw_stream_end(w)))
        crs_capture_error(c, "%s", w->err);
    return e;
}

void crs_capture_fobj_release(struct crs_capture *c)
{
    for (size_t i = 0; i < c->nfobjs; i++)
        if (c->fobj_owned[i] && c->fobj_src[i] >= 0) {
            close(c->fobj_src[i]);
            c->fobj_src[i] = -1;
            c->fobj_owned[i] = 0;
        }
}

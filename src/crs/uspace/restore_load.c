/* Mapping every region of the image and filling it. A region goes straight
 * to its address; where cr_restart's own memory is in the way it is mapped
 * aside and moved into place by the switch. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/fault.h"
#include "common/log.h"

#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static int region_fd(struct crs_restore *r, const struct crs_rec_region *g, int *owned)
{
    *owned = 0;
    if (g->kind == CRS_REGION_SHMEM)
        return r->memfd_fds[g->file];
    if (g->kind == CRS_REGION_FOBJ)
        return r->fobj_fds[g->file];
    if (g->kind != CRS_REGION_FILE && g->kind != CRS_REGION_FILE_SHARED)
        return -1;
    const char *path = crs_restore_path(r, crs_image_str(r->img, r->img->files[g->file].path));
    int mode = g->kind == CRS_REGION_FILE_SHARED && (g->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
    int fd = open(path, mode | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        crs_restore_error(r, "cannot open %s to map it at 0x%llx: %s%s", path, (unsigned long long)g->start,
                          strerror(e), crs_restore_moved_hint(e));
        return -2;
    }
    /* a saved shared mapping (--save-shared) is written into the file: a file shortened since
     * gets back its length of the checkpoint first (a page past its end would be SIGBUS) */
    const struct crs_rec_file *f = &r->img->files[g->file];
    struct stat st;
    if ((g->flags & CRS_REGION_F_SAVED) && fstat(fd, &st) == 0 && (uint64_t)st.st_size < f->size &&
        ftruncate(fd, (off_t)f->size) != 0) {
        int e = errno;
        crs_restore_error(r, "cannot give %s back its length of the checkpoint (%llu bytes, %llu now) to write its "
                          "saved pages into it: %s", path, (unsigned long long)f->size,
                          (unsigned long long)st.st_size, strerror(e));
        close(fd);
        return -2;
    }
    *owned = 1;
    return fd;
}

/* Maps region i at `hint` (MAP_FIXED_NOREPLACE) or, with hint 0, anywhere. */
static void *map_region(struct crs_restore *r, size_t i, uint64_t hint, int writable)
{
    const struct crs_rec_region *g = &r->img->regions[i];
    if (g->kind == CRS_REGION_FOBJ && r->img->fobjs[g->file].kind == CRS_FOBJ_SYSV)
        return crs_restore_sysv_map(r, i, hint);   /* shmat: no bytes of its own to write */
    size_t len = g->end - g->start;
    int prot = g->prot | (writable ? PROT_READ | PROT_WRITE : 0);
    int flags = hint ? MAP_FIXED_NOREPLACE : 0;
    int owned;
    int fd = region_fd(r, g, &owned);
    if (fd == -2)
        return NULL;
    void *p;
    if (fd < 0) {
        flags |= MAP_PRIVATE | MAP_ANONYMOUS;
        if (g->flags & CRS_REGION_F_GROWSDOWN)   /* kept when moved into place */
            flags |= MAP_GROWSDOWN;
        if (g->page_shift)   /* MAP_HUGETLB memory, on pages of its size */
            flags |= MAP_HUGETLB | (int)(g->page_shift << MAP_HUGE_SHIFT);
        p = mmap((void *)hint, len, prot, flags, -1, 0);
    } else {
        flags |= (g->kind == CRS_REGION_FILE ? MAP_PRIVATE : MAP_SHARED);
        p = mmap((void *)hint, len, prot, flags, fd, (off_t)g->pgoff);
        if (owned)
            close(fd);
    }
    if (p == MAP_FAILED)
        return NULL;
    if (hint && (uint64_t)p != hint) {      /* an old kernel ignoring NOREPLACE */
        munmap(p, len);
        errno = EEXIST;
        return NULL;
    }
    return p;
}

/* Reserves whatever is free in [lo, hi) (PROT_NONE, no memory behind it), so that nothing
 * mapped from now on lands there; what is mapped in it already stays. A range taken in part is
 * halved: a few dozen calls for each mapping of cr_restart's inside. The switch unmaps the
 * reservations with the rest of cr_restart's memory. 0, or -errno when the kernel refuses for
 * another reason than a mapping in the way (vm.max_map_count). */
static int hold_free(uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return 0;
    void *p = mmap((void *)lo, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p == (void *)lo)
        return 0;
    if (p != MAP_FAILED)
        munmap(p, hi - lo);   /* an old kernel ignoring NOREPLACE: something is in the way */
    else if (errno != EEXIST)
        return -errno;
    if (hi - lo <= 4096)
        return 0;
    uint64_t mid = lo + (((hi - lo) / 2) & ~(uint64_t)4095);
    int e = hold_free(lo, mid);
    return e ? e : hold_free(mid, hi);
}

/* Shared memory object i made again, empty, at our own numbers; or -errno. */
static int new_memfd(struct crs_restore *r, size_t i)
{
    const struct crs_image *img = r->img;
    const char *name = crs_image_str(img, img->memfds[i].name);
    unsigned shift = img->memfds[i].page_shift;   /* on huge pages of that size */
    unsigned mfd = MFD_CLOEXEC | MFD_ALLOW_SEALING | (shift ? MFD_HUGETLB | (shift << MFD_HUGE_SHIFT) : 0);
    int fd = memfd_create(*name ? name : "revive-shared", mfd);
    if (fd < 0 || ftruncate(fd, (off_t)img->memfds[i].size) != 0) {
        if (shift)
            crs_restore_error(r, "cannot recreate shared memory object %s on %u KiB huge pages: %s; give "
                              "the machine huge pages (vm.nr_hugepages, or /sys/kernel/mm/hugepages/"
                              "hugepages-%ukB/nr_hugepages)", *name ? name : "(anonymous)", 1u << (shift - 10),
                              strerror(errno), 1u << (shift - 10));
        else
            crs_restore_error(r, "cannot recreate shared memory object %s: %s", *name ? name : "(anonymous)",
                              strerror(errno));
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    int e = errno;
    close(fd);
    if (moved < 0) {
        crs_restore_error(r, "cannot keep shared memory object %s open: %s", *name ? name : "(anonymous)",
                          strerror(e));
        return -e;
    }
    return moved;
}

/* The one a tree's restart made for every process that shares it, if any. */
static int shared_memfd(const struct crs_restore *r, uint64_t ino)
{
    for (size_t k = 0; k < r->nshared_files; k++)
        if (r->shared_files[k].shmem && r->shared_files[k].ino == ino)
            return r->shared_files[k].fd;
    return -1;
}

static int make_memfds(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    r->memfd_fds = calloc(img->nmemfds ? img->nmemfds : 1, sizeof(int));
    r->memfd_shared = calloc(img->nmemfds ? img->nmemfds : 1, 1);
    if (!r->memfd_fds || !r->memfd_shared)
        return -ENOMEM;
    for (size_t i = 0; i < img->nmemfds; i++)
        r->memfd_fds[i] = -1;
    for (size_t i = 0; i < img->nmemfds; i++) {
        int fd = shared_memfd(r, img->memfds[i].ino);
        if (fd >= 0) {   /* filled and sealed already: only mapped and opened here */
            r->memfd_shared[i] = 1;
            if ((r->memfd_fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min)) < 0) {
                crs_restore_error(r, "cannot take the shared memory %s that the tree's restart made: %s",
                                  crs_image_str(img, img->memfds[i].name), strerror(errno));
                return -EIO;
            }
            continue;
        }
        if ((r->memfd_fds[i] = new_memfd(r, i)) < 0)
            return r->memfd_fds[i];
    }
    return 0;
}

/* An unnamed file for a saved file that was deleted: in its folder, where
 * it lived (same file system, same space), else in $TMPDIR or /tmp, else
 * in memory. */
static int unnamed_file(const char *path, mode_t mode, const char **where)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    const char *tmp = getenv("TMPDIR");
    const char *dirs[] = { slash ? dir : NULL, tmp && *tmp ? tmp : NULL, "/tmp" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        int fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 07777);
        if (fd >= 0) {
            *where = dirs[i] == dir ? "its folder" : dirs[i];
            return fd;
        }
    }
    const char *base = slash ? strrchr(path, '/') + 1 : path;
    *where = "memory";
    return memfd_create(*base ? base : "revive-saved", MFD_CLOEXEC);
}

/* Saved file f's bytes from the image into fd. 0, or -errno with the message set. */
static int write_extents(struct crs_restore *r, const struct crs_rec_fobj *f, int fd, const char *path)
{
    const struct crs_image *img = r->img;
    char *buf = f->nextents ? malloc(CRS_CHUNK_MAX) : NULL;
    int e = f->nextents && !buf ? -ENOMEM : 0;
    for (uint32_t k = 0; k < f->nextents && !e; k++) {
        const struct crs_rec_fextent *x = &img->fextents[f->first_extent + k];
        if ((e = crs_image_read_fextent(r->img, f->first_extent + k, buf))) {
            crs_restore_error(r, "%s", r->img->err);
            break;
        }
        for (uint64_t done = 0; done < x->length && !e;) {
            ssize_t n = pwrite(fd, buf + done, x->length - done, (off_t)(x->offset + done));
            if (n <= 0) {
                crs_restore_error(r, "cannot write the saved bytes of %s back: %s", path,
                                  n < 0 ? strerror(errno) : "no space");
                e = -EIO;
            }
            done += n > 0 ? (uint64_t)n : 0;
        }
    }
    free(buf);
    return e;
}

/* Saved file i made again and filled: a deleted one unnamed, a /dev/shm
 * one under its name, a memfd's bytes into the memfd made again
 * (make_memfds first). A descriptor at or above work_fd_min, or -errno. */
int crs_restore_make_fobj(struct crs_restore *r, size_t i)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_fobj *f = &img->fobjs[i];
    const char *path = crs_restore_path(r, crs_image_str(img, f->path)), *where = "";
    int made = 1, shm_lock = -1;   /* a /dev/shm object: 0 when a peer made it; the lock held meanwhile */
    if (f->flags & CRS_FOBJ_F_ELSEWHERE) {
        crs_restore_error(r, "the bytes of the %s %s are in the image of another process of its tree: only the "
                          "restart of the tree's whole file can bring it back", f->kind == CRS_FOBJ_SHM
                          ? "shared memory file" : f->kind == CRS_FOBJ_MEMFD ? "memfd"
                          : f->kind == CRS_FOBJ_SYSV ? "System V shared memory segment" : "deleted file", path);
        return -EINVAL;
    }
    if (f->kind == CRS_FOBJ_SYSV)
        return crs_restore_sysv_make(r, i);
    int fd;
    if (f->kind == CRS_FOBJ_MEMFD) {   /* into the memfd made again (make_memfds) */
        fd = -1;
        path = crs_image_str(img, f->path);
        for (size_t k = 0; r->memfd_fds && k < img->nmemfds && fd < 0; k++)
            if (img->memfds[k].ino == f->ino && r->memfd_fds[k] >= 0)
                fd = fcntl(r->memfd_fds[k], F_DUPFD_CLOEXEC, r->work_fd_min);
        if (fd < 0) {
            crs_restore_error(r, "the saved bytes of %s belong to no memfd of the image: the image is damaged",
                              path);
            return -EIO;
        }
    } else if (f->kind == CRS_FOBJ_SHM) {
        /* never over an object a live process uses; a peer's (a rank of this job) is taken
         * as it made it (restore_shm_busy.c) */
        fd = crs_restore_shm_open(r, path, f->mode & 07777, &made, &shm_lock);
        if (fd == -EBUSY)
            return -EBUSY;
        if (fd < 0)
            fd = -1;
    } else {
        fd = unnamed_file(path, f->mode, &where);
    }
    if (fd < 0 || (f->kind != CRS_FOBJ_MEMFD && made && ftruncate(fd, (off_t)f->size) != 0)) {
        crs_restore_error(r, "cannot recreate the %s %s (%llu bytes, saved in the image): %s",
                          f->kind == CRS_FOBJ_SHM ? "shared memory file" : "deleted file", path,
                          (unsigned long long)f->size, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (shm_lock >= 0)
            close(shm_lock);
        return -EIO;
    }
    if (f->kind == CRS_FOBJ_SHM && made)
        fchmod(fd, f->mode & 07777);
    else if (f->kind == CRS_FOBJ_DELETED)
        revive_log_debug("the deleted file %s comes back unnamed in %s", path, where);
    int e = made ? write_extents(r, f, fd, path) : 0;
    if (shm_lock >= 0)
        close(shm_lock);   /* filled: a peer waiting for it may take it now */
    int moved = e ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    if (!e && moved < 0) {
        e = -errno;
        crs_restore_error(r, "cannot keep the recreated file %s open: %s", path, strerror(errno));
    }
    close(fd);
    return e ? e : moved;
}

/* Files whose bytes the image holds: recreated and filled, each at our own
 * numbers; or, in a tree, the one file the caller made for every process
 * that shares it (crs_restart_image.shared_files). */
static int make_fobjs(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    r->fobj_fds = calloc(img->nfobjs ? img->nfobjs : 1, sizeof(int));
    r->sysv_ids = calloc(img->nfobjs ? img->nfobjs : 1, sizeof(int));
    if (!r->fobj_fds || !r->sysv_ids)
        return -ENOMEM;
    for (size_t i = 0; i < img->nfobjs; i++)
        r->fobj_fds[i] = r->sysv_ids[i] = -1;
    for (size_t i = 0; i < img->nfobjs; i++) {
        const struct crs_rec_fobj *f = &img->fobjs[i];
        if (f->kind == CRS_FOBJ_MEMFD && shared_memfd(r, f->ino) >= 0)
            continue;   /* in the memfd the tree's restart filled */
        int fd = -1;
        for (size_t k = 0; k < r->nshared_files && fd < 0; k++)
            if (!r->shared_files[k].shmem && r->shared_files[k].dev == f->dev && r->shared_files[k].ino == f->ino &&
                f->kind != CRS_FOBJ_MEMFD &&
                (fd = fcntl(r->shared_files[k].fd, F_DUPFD_CLOEXEC, r->work_fd_min)) < 0) {
                crs_restore_error(r, "cannot take the file %s that the tree's restart made: %s",
                                  crs_image_str(img, f->path), strerror(errno));
                return -EIO;
            }
        if (fd < 0 && (fd = crs_restore_make_fobj(r, i)) < 0)
            return fd;
        r->fobj_fds[i] = fd;
        if (f->kind == CRS_FOBJ_SYSV && (r->sysv_ids[i] = crs_restore_sysv_id(r, i, fd)) < 0)
            return -EIO;
    }
    return 0;
}

static int has_data(const struct crs_image *img, size_t region, size_t *first_chunk)
{
    const struct crs_rec_region *g = &img->regions[region];
    size_t lo = 0, hi = img->nchunks;
    while (lo < hi) {   /* first chunk with vaddr >= start */
        size_t mid = (lo + hi) / 2;
        if (img->chunks[mid].vaddr < g->start)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first_chunk = lo;
    return lo < img->nchunks && img->chunks[lo].vaddr < g->end;
}

/* The fill: each chunk read and checked in one reused buffer, then written into its place by
 * the kernel (process_vm_writev of our own memory: the pages made and written through the
 * kernel's map of them, not touched through their new addresses here). On the development VM
 * (a Firecracker guest) the first touch of a 4 KiB page through a new user address costs
 * ~10 us whoever makes it (a fault, a read into it, a checksum over it): a 128 MiB fill read
 * in place took 600-900 ms of CPU that way, 370-430 ms with the pages made first
 * (MADV_POPULATE_WRITE), and 70-100 ms so; the restored program pays that first touch on the
 * pages it touches, as a fresh one does (bench/stage/README.md, session 28). A kernel or
 * sandbox that refuses process_vm_writev: copied from the buffer, the pages made first. */
struct fill {
    char *buf;      /* CRS_CHUNK_MAX bytes, NULL: none could be had (read in place) */
    int copy;       /* process_vm_writev refused: memcpy from buf */
};

static void fill_begin(struct fill *f)
{
    f->buf = mmap(NULL, CRS_CHUNK_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f->buf == MAP_FAILED)
        f->buf = NULL;
    f->copy = 0;
}

static void fill_end(struct fill *f)
{
    if (f->buf)
        munmap(f->buf, CRS_CHUNK_MAX);
    f->buf = NULL;
}

/* dst's len bytes of memory made (MADV_POPULATE_WRITE) before bytes are written through dst,
 * chunk c's place: a page the kernel cannot make (huge pages short: too few free on the machine,
 * or past the hugetlb limit of the process's cgroup, which the kernel charges at the fault, not
 * when the memory is mapped) would kill cr_restart with SIGBUS in a copy, or fail a read into
 * it with EFAULT, naming no cause (diffrev29 F-L1). SHIFT: the memory's page shift, 0 for
 * normal pages. 0: made; 1: the kernel lacks the advice (before 5.14), not known; -errno with
 * the message set. */
static int make_pages(struct crs_restore *r, size_t c, void *dst, size_t len, unsigned shift)
{
    if (madvise(dst, len, MADV_POPULATE_WRITE) == 0)
        return 0;
    int e = errno;
    if (e == EINVAL)
        return 1;
    uint64_t at = r->img->chunks[c].vaddr + (r->img->chunks[c].length - len);
    if (shift && (e == EFAULT || e == ENOMEM))
        crs_restore_error(r, "cannot make the memory at 0x%llx-0x%llx to fill it (%s): it is on %u KiB huge pages, "
                          "and too few are free on this machine (vm.nr_hugepages, or /sys/kernel/mm/hugepages/"
                          "hugepages-%ukB/nr_hugepages) or allowed to this process's cgroup (its hugetlb limit)",
                          (unsigned long long)at, (unsigned long long)(at + len), strerror(e), 1u << (shift - 10),
                          1u << (shift - 10));
    else
        crs_restore_error(r, "cannot make the memory at 0x%llx-0x%llx to fill it: %s", (unsigned long long)at,
                          (unsigned long long)(at + len), strerror(e));
    return -e;
}

/* An uncompressed chunk's piece, written into its place by the kernel as the chunk is read
 * (crs_image_stream_chunk): the reading buffer stays a few hundred KiB the CPU keeps cached,
 * and only its pages are ever touched (the whole 4 MiB's first touches were an eighth of a
 * restore's CPU, perf of 8 rank restores). */
#define FILL_AGAIN 1 /* process_vm_writev refused or failed: the chunk again, the way below */
struct piece_to {
    struct crs_restore *r;
    struct fill *f;
    size_t c;
    char *dst;
    unsigned shift;
    int said; /* the message is set */
};

static int put_piece(void *arg, uint64_t off, const void *piece, size_t n)
{
    struct piece_to *t = arg;
    size_t done = 0;
    while (done < n) {
        struct iovec here = { (char *)piece + done, n - done }, there = { t->dst + off + done, n - done };
        ssize_t w = process_vm_writev(getpid(), &here, 1, &there, 1, 0);
        if (w > 0) {
            done += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) {
            t->f->copy = 1;   /* for this and every later chunk */
            revive_log_info("process_vm_writev is refused (%s): the fill copies from its buffer", strerror(errno));
            return FILL_AGAIN;
        } else {
            /* a page the kernel cannot make: said as such (make_pages); else read in place */
            size_t len = t->r->img->chunks[t->c].length;
            int e = make_pages(t->r, t->c, t->dst + off + done, len - (size_t)off - done, t->shift);
            if (e < 0) {
                t->said = 1;
                return e;
            }
            return FILL_AGAIN;
        }
    }
    return 0;
}

/* Chunk c read, checked and put at dst (its length of writable memory, on pages of SHIFT: 0
 * normal). 0, or -errno with the message set. */
static int fill_chunk(struct crs_restore *r, struct fill *f, size_t c, void *dst, unsigned shift)
{
    size_t len = r->img->chunks[c].length;
    int e;
    if (f->buf && !f->copy && r->img->chunks[c].compression == 0) {
        struct piece_to t = { r, f, c, dst, shift, 0 };
        e = crs_image_stream_chunk(r->img, c, f->buf, CRS_READ_PIECE, put_piece, &t);
        if (e != FILL_AGAIN) {
            if (e && !t.said)
                crs_restore_error(r, "%s", r->img->err);
            return e;
        }
        if (!f->copy) {   /* process_vm_writev failed at a page: read in place (make_pages made them) */
            if ((e = crs_image_read_chunk(r->img, c, dst)))
                crs_restore_error(r, "%s", r->img->err);
            return e;
        }
        /* refused: copy mode, the chunk again below */
    }
    char *from = f->buf ? f->buf : dst;
    if (from == dst && (e = make_pages(r, c, dst, len, shift)) < 0)
        return e;
    /* copy mode: made below, after the checksum (a damaged chunk says so first, as it does
     * when the kernel writes it) */
    if ((e = crs_image_read_chunk(r->img, c, from))) {
        crs_restore_error(r, "%s", r->img->err);
        return e;
    }
    if (from == dst)
        return 0;
    size_t done = 0;
    while (!f->copy && done < len) {
        struct iovec here = { from + done, len - done }, there = { (char *)dst + done, len - done };
        ssize_t n = process_vm_writev(getpid(), &here, 1, &there, 1, 0);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) {
            f->copy = 1;   /* for this and every later chunk */
            revive_log_info("process_vm_writev is refused (%s): the fill copies from its buffer", strerror(errno));
        } else {
            /* a page the kernel cannot make: said as such (make_pages); else read in place as
             * before, which fails rather than dying of SIGBUS as a copy would */
            if ((e = make_pages(r, c, (char *)dst + done, len - done, shift)) < 0)
                return e;
            if ((e = crs_image_read_chunk(r->img, c, dst)))
                crs_restore_error(r, "%s", r->img->err);
            return e;
        }
    }
    if (done == len)
        return 0;
    /* copy mode (process_vm_writev refused by a sandbox): the pages made first, or the copy
     * dies of SIGBUS where one cannot be made; not known (no MADV_POPULATE_WRITE): read in
     * place, which fails with EFAULT there */
    if ((e = make_pages(r, c, (char *)dst + done, len - done, shift)) < 0)
        return e;
    if (e > 0) {
        if ((e = crs_image_read_chunk(r->img, c, dst)))
            crs_restore_error(r, "%s", r->img->err);
        return e;
    }
    memcpy((char *)dst + done, from + done, len - done);
    return 0;
}

int crs_restore_make_shmem(struct crs_restore *r, size_t i)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_memfd *m = &img->memfds[i];
    const char *name = crs_image_str(img, m->name);
    int fd = new_memfd(r, i);
    if (fd < 0)
        return fd;
    /* the pages of its mappings, through a mapping of our own (a hugetlbfs
     * memfd takes no write(2)) */
    char *p = m->size ? mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : NULL;
    if (p == MAP_FAILED) {
        crs_restore_error(r, "cannot map the shared memory object %s (%llu bytes) to fill it: %s",
                          *name ? name : "(anonymous)", (unsigned long long)m->size, strerror(errno));
        close(fd);
        return -ENOMEM;
    }
    int e = 0;
    struct fill fl;
    fill_begin(&fl);
    for (size_t g = 0; g < img->nregions && !e; g++) {
        const struct crs_rec_region *x = &img->regions[g];
        size_t c;
        if (x->kind != CRS_REGION_SHMEM || x->file != (int32_t)i || !has_data(img, g, &c))
            continue;
        for (; c < img->nchunks && img->chunks[c].vaddr < x->end && !e; c++) {
            const struct crs_rec_chunk *ch = &img->chunks[c];
            uint64_t off = x->pgoff + (ch->vaddr - x->start);
            if (ch->vaddr + ch->length > x->end || off + ch->length > m->size) {
                crs_restore_error(r, "page data at 0x%llx lies outside the shared memory object %s it maps: the "
                                  "image is damaged", (unsigned long long)ch->vaddr, *name ? name : "(anonymous)");
                e = -EINVAL;
            } else {
                e = fill_chunk(r, &fl, c, p + off, m->page_shift);
            }
        }
    }
    fill_end(&fl);
    if (p)
        munmap(p, m->size);
    /* the bytes no mapping held (written with write(2)) */
    for (size_t k = 0; k < img->nfobjs && !e; k++)
        if (img->fobjs[k].kind == CRS_FOBJ_MEMFD && img->fobjs[k].ino == m->ino &&
            !(img->fobjs[k].flags & CRS_FOBJ_F_ELSEWHERE))
            e = write_extents(r, &img->fobjs[k], fd, *name ? name : "(anonymous)");
    if (!e && m->seals && fcntl(fd, F_ADD_SEALS, (int)m->seals) != 0) {
        crs_restore_error(r, "cannot seal the shared memory object %s again (seals 0x%x): %s",
                          *name ? name : "(anonymous)", m->seals, strerror(errno));
        e = -EIO;
    }
    if (e) {
        close(fd);
        return e;
    }
    return fd;
}

/* Pass 1 and the holders below may map right under this process's stack (the image's stack
 * where ours is: both without ASLR, as under gdb), and our stack cannot grow past a mapping:
 * its next 256 KiB (less under a small RLIMIT_STACK) are taken first, more than the rest of
 * the restore uses (the last step runs on a stack of its own). */
static __attribute__((noinline)) void stack_room(void)
{
    size_t len = 256 * 1024;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < len)
        len = rl.rlim_cur / 4;
    volatile char *pad = alloca(len);
    for (size_t k = 4096; k <= len; k += 4096)
        pad[len - k] = 0;   /* downwards, a page at a time */
}

/* A saved shared mapping (--save-shared) of a file whose pages another process restored with
 * this one writes back (crs_restart_opts.saved_skip: of an MPI job's ranks that saved it on one
 * host, the one that read it last): its chunks are not written here; the mapping shows that
 * process's copy. */
static int saved_left(const struct crs_restore *r, const struct crs_rec_region *g)
{
    if (!r->nsaved_skip || g->kind != CRS_REGION_FILE_SHARED || !(g->flags & CRS_REGION_F_SAVED))
        return 0;
    const struct crs_rec_file *f = &r->img->files[g->file];
    uint64_t page = r->img->hdr.page_size ? r->img->hdr.page_size : 4096;
    uint64_t size = (f->size + page - 1) / page * page, a = g->pgoff, b = g->pgoff + (g->end - g->start);
    if (b > size)
        b = size > a ? size : a;
    for (size_t i = 0; i < r->nsaved_skip; i++) {
        const struct crs_saved_skip *s = &r->saved_skip[i];
        if (f->dev != s->dev || f->ino != s->ino)
            continue;
        /* [a, b) within the union of the ranges: walk from a through those that reach past it */
        uint64_t x = a;
        for (int moved = 1; x < b && moved;) {
            moved = 0;
            for (size_t k = 0; k < s->nranges; k++)
                if (s->ranges[2 * k] <= x && s->ranges[2 * k + 1] > x) {
                    x = s->ranges[2 * k + 1];
                    moved = 1;
                }
        }
        return x >= b;
    }
    return 0;
}

int crs_restore_load(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    stack_room();
    int e = make_memfds(r);
    if (!e)
        e = make_fobjs(r);
    if (e)
        return e;
    r->cur = calloc(img->nregions ? img->nregions : 1, sizeof *r->cur);
    char *writable = calloc(img->nregions ? img->nregions : 1, 1);
    if (!r->cur || !writable)
        return -ENOMEM;
    /* Pass 1: every region that fits at its own address. (Tests send all of
     * them through pass 2 and the switch's moves with REVIVE_FAULT=restore-aside.) */
    int all_aside = revive_fault(REVIVE_FAULT_restore_aside);
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind == CRS_REGION_VDSO)
            continue;
        size_t first;
        /* shared memory the tree's restart filled (and sealed) is only mapped */
        writable[i] = (char)(has_data(img, i, &first) &&
                             !(g->kind == CRS_REGION_SHMEM && r->memfd_shared[g->file]));
        if (all_aside)
            continue;
        void *p = map_region(r, i, g->start, writable[i]);
        if (p) {
            r->cur[i] = g->start;
        } else if (errno != EEXIST) {
            if (!r->err[0])
                crs_restore_map_error(r, g->start, g->end, errno);
            free(writable);
            return -ENOMEM;
        }
    }
    /* Keep every place something moves to in the switch free of anything mapped from now on:
     * the image's vdso addresses (the kernel's vdso moves there last) and what cr_restart's own
     * memory leaves free of each region pass 1 could not place. Pass 2 took that rest from the
     * kernel for a region loaded aside (cr_restart's libraries inside a 1 GiB region under ASLR,
     * or every library of an image taken without ASLR, as under gdb): the switch's move of the
     * larger region then overwrote the smaller one (the restored process died in ld.so), or the
     * region's own move overlapped itself and was refused (CI at aa626e1, crs_heap_1g.sh fork:
     * then a silent SIGSEGV, restore_switch.c say). The switch drops these holders. */
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind != CRS_REGION_VDSO && r->cur[i])
            continue;
        if ((e = hold_free(g->start, g->end))) {
            crs_restore_map_error(r, g->start, g->end, -e);
            free(writable);
            return -ENOMEM;
        }
    }
    /* Pass 2: the rest aside; every free spot left is outside the image's places. */
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind == CRS_REGION_VDSO || r->cur[i])
            continue;
        void *p = map_region(r, i, 0, writable[i]);
        if (!p) {
            if (!r->err[0])
                crs_restore_map_error(r, g->start, g->end, errno);
            free(writable);
            return -ENOMEM;
        }
        r->cur[i] = (uint64_t)p;
    }
    /* The advice the memory had, before it is filled (huge pages are
     * faulted in by the filling). */
    static const struct { uint32_t bit; int advice; } advice[] = {
        { CRS_MADV_HUGEPAGE, MADV_HUGEPAGE }, { CRS_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE },
        { CRS_MADV_DONTFORK, MADV_DONTFORK }, { CRS_MADV_DONTDUMP, MADV_DONTDUMP },
        { CRS_MADV_WIPEONFORK, MADV_WIPEONFORK }, { CRS_MADV_MERGEABLE, MADV_MERGEABLE },
        { CRS_MADV_SEQUENTIAL, MADV_SEQUENTIAL }, { CRS_MADV_RANDOM, MADV_RANDOM },
    };
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        for (size_t a = 0; g->madvise && g->kind != CRS_REGION_VDSO && a < sizeof advice / sizeof advice[0]; a++)
            if ((g->madvise & advice[a].bit) && madvise((void *)r->cur[i], g->end - g->start, advice[a].advice) != 0 &&
                advice[a].bit != CRS_MADV_MERGEABLE)   /* KSM may be off: no harm */
                revive_log_warn("cannot advise 0x%llx-0x%llx again (madvise %d): %s", (unsigned long long)g->start,
                                (unsigned long long)g->end, advice[a].advice, strerror(errno));
    }
    /* Fill: chunks and regions are both sorted by address. */
    size_t ri = 0;
    struct fill fl;
    fill_begin(&fl);
    for (size_t c = 0; c < img->nchunks; c++) {
        const struct crs_rec_chunk *ch = &img->chunks[c];
        while (ri < img->nregions && img->regions[ri].end <= ch->vaddr)
            ri++;
        if (ri == img->nregions || ch->vaddr < img->regions[ri].start ||
            ch->vaddr + ch->length > img->regions[ri].end || img->regions[ri].kind == CRS_REGION_VDSO ||
            (img->regions[ri].kind == CRS_REGION_FILE_SHARED && !(img->regions[ri].flags & CRS_REGION_F_SAVED))) {
            crs_restore_error(r, "image %s: page data at 0x%llx lies outside any restorable region; the image "
                              "is corrupt", "", (unsigned long long)ch->vaddr);
            fill_end(&fl);
            free(writable);
            return -EINVAL;
        }
        if (img->regions[ri].kind == CRS_REGION_SHMEM && r->memfd_shared[img->regions[ri].file])
            continue;   /* written once, into the memfd the tree's restart made */
        if (saved_left(r, &img->regions[ri]))
            continue;   /* another process writes this file's saved pages */
        void *dst = (void *)(r->cur[ri] + (ch->vaddr - img->regions[ri].start));
        if ((e = fill_chunk(r, &fl, c, dst, img->regions[ri].page_shift))) {
            fill_end(&fl);
            free(writable);
            return e;
        }
    }
    fill_end(&fl);
    for (size_t i = 0; i < img->nregions; i++)
        if (writable[i] && mprotect((void *)r->cur[i], img->regions[i].end - img->regions[i].start,
                                    (int)img->regions[i].prot) != 0) {
            crs_restore_error(r, "cannot protect 0x%llx: %s", (unsigned long long)img->regions[i].start,
                              strerror(errno));
            free(writable);
            return -EIO;
        }
    free(writable);
    /* System V segments marked removed: again, now that they are attached */
    if ((e = crs_restore_sysv_done(r)))
        return e;
    /* Seals last: F_SEAL_WRITE and friends would have refused the filling. */
    for (size_t i = 0; i < img->nmemfds; i++)
        if (img->memfds[i].seals && !r->memfd_shared[i] &&
            fcntl(r->memfd_fds[i], F_ADD_SEALS, (int)img->memfds[i].seals) != 0) {
            crs_restore_error(r, "cannot seal the shared memory object %s again (seals 0x%x): %s",
                              crs_image_str(img, img->memfds[i].name), img->memfds[i].seals, strerror(errno));
            return -EIO;
        }
    return 0;
}

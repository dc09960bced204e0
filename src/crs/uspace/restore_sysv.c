/* System V shared memory at restart (image_format.h: CRS_FOBJ_SYSV). A
 * segment is made again, filled from the image, then attached (shmat) where
 * the process had it, once per attachment: the regions of one segment whose
 * address less their offset agree came from one shmat (mprotect or munmap
 * cut it), and shmdt of the first address must detach all of them again.
 *
 * Which segment: the original's, when it is still there unattached (a
 * checkpoint with --kill leaves a segment nobody removed: same id, key and
 * size, no process attached); else a new one, under the old id when the
 * kernel lets the restart choose it (kernel.shm_next_id: root, or
 * CAP_CHECKPOINT_RESTORE; one restart of the IPC namespace at a time,
 * restore_ipcid.c) and that id is free, with the old key when no
 * other segment holds it; a key held by another segment gives a private
 * segment (IPC_PRIVATE) and a warning: a shmget of the key finds the other
 * one. A segment that was marked removed (IPC_RMID) while attached is made
 * private and marked removed again once attached (crs_restore_sysv_done).
 *
 * A tree's members that shared a segment share the one its restart makes
 * (crs_restart_file): the descriptor the tree hands them is a small memfd
 * holding the segment's id, which is what make returns.
 *
 * The segments a restart makes are noted (made[]): a restart that fails
 * removes them again (crs_restore_sysv_abandon), the single process's in
 * crs_uspace_restart, a tree's shared ones in its restart's process. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef SHM_HUGE_SHIFT
#define SHM_HUGE_SHIFT 26   /* linux/shm.h, which clashes with sys/shm.h */
#endif

#define MADE_MAX 256
static int made[MADE_MAX];
static size_t nmade;

void crs_restore_sysv_abandon(void)
{
    for (size_t i = 0; i < nmade; i++)
        if (shmctl(made[i], IPC_RMID, NULL) == 0)
            revive_log_debug("removed System V segment %d, made by this failed restart", made[i]);
    nmade = 0;
    crs_restore_sysvipc_abandon();   /* a tree's sets and queues */
}

/* The original's segment, left where it was: its id, same key and size,
 * attached by no process, not removed. */
static int left_behind(const struct crs_rec_fobj *f, key_t key)
{
    struct shmid_ds ds;
    return shmctl((int)f->ino, IPC_STAT, &ds) == 0 && ds.shm_perm.__key == key && ds.shm_segsz == f->size &&
           ds.shm_nattch == 0 && !(ds.shm_perm.mode & SHM_DEST);
}

/* The huge page size (log2) the segment's mappings had (SHM_HUGETLB), or 0. */
static unsigned huge_shift(const struct crs_image *img, size_t i)
{
    unsigned shift = 0;
    for (size_t k = 0; k < img->nregions; k++)
        if (img->regions[k].kind == CRS_REGION_FOBJ && img->regions[k].file == (int32_t)i &&
            img->regions[k].page_shift > shift)
            shift = img->regions[k].page_shift;
    return shift;
}

/* What new_segment asks crs_restore_ipc_make for: the segment under its
 * key, or a private one when another segment holds the key (said once). */
struct create_arg {
    key_t key;
    uint64_t size;
    int mode;
    const char *name;
};

static int create(void *arg)
{
    struct create_arg *c = arg;
    int id = shmget(c->key, c->size, IPC_CREAT | IPC_EXCL | c->mode);
    if (id < 0 && errno == EEXIST && c->key != IPC_PRIVATE) {
        revive_log_warn("the key 0x%x of the System V shared memory segment %s is held by another segment: it "
                        "comes back as a private segment (IPC_PRIVATE), which a shmget of that key does not find",
                        (unsigned)c->key, c->name);
        c->key = IPC_PRIVATE;
        id = shmget(IPC_PRIVATE, c->size, IPC_CREAT | IPC_EXCL | c->mode);
    }
    return id;
}

static int new_segment(struct crs_restore *r, size_t i, key_t key, const char *name)
{
    const struct crs_rec_fobj *f = &r->img->fobjs[i];
    int old = (int)f->ino, mode = (int)(f->sysv_mode & 0777) | 0600;   /* we fill it; set exactly below */
    unsigned shift = huge_shift(r->img, i);
    if (shift)   /* SHM_HUGETLB, on pages of that size */
        mode |= SHM_HUGETLB | (int)(shift << SHM_HUGE_SHIFT);
    struct create_arg c = { key, f->size, mode, name };
    int held = 0, id = crs_restore_ipc_make(CRS_IPC_SHM, old, create, &c, &held);
    if (id < 0) {
        int e = -id;
        crs_restore_error(r, "cannot make the System V shared memory segment %s again (%llu bytes%s): %s%s", name,
                          (unsigned long long)f->size, shift ? ", on huge pages" : "", strerror(e),
                          shift && (e == ENOMEM || e == EPERM) ? "; give the machine huge pages (vm.nr_hugepages)"
                          : e == EINVAL || e == ENOSPC ? " (kernel.shmmax, shmall or shmmni)" : "");
        return id;
    }
    if (nmade < MADE_MAX)
        made[nmade++] = id;
    if (id != old)
        crs_restore_note_new_id(r, "segment", old, id, held);
    return id;
}

/* The bytes of the image into the segment, through an attachment of ours. */
static int fill(struct crs_restore *r, const struct crs_rec_fobj *f, int id, int reused, const char *name)
{
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        crs_restore_error(r, "cannot attach the System V shared memory segment %s to fill it: %s", name,
                          strerror(errno));
        return -EIO;
    }
    if (reused)
        memset(p, 0, f->size);   /* what the original wrote after the checkpoint goes */
    int e = 0;
    for (uint32_t k = 0; k < f->nextents && !e; k++)
        if ((e = crs_image_read_fextent(r->img, f->first_extent + k, p + r->img->fextents[f->first_extent + k].offset)))
            crs_restore_error(r, "%s", r->img->err);
    shmdt(p);
    return e;
}

int crs_restore_sysv_make(struct crs_restore *r, size_t i)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_fobj *f = &img->fobjs[i];
    const char *name = crs_image_str(img, f->path);
    key_t key = (f->flags & CRS_FOBJ_F_REMOVED) ? IPC_PRIVATE : (key_t)f->sysv_key;
    int reused = left_behind(f, key);
    int id = reused ? (int)f->ino : new_segment(r, i, key, name);
    if (id < 0)
        return id;
    /* the image's owner and permissions (the restored process may be another user than us) */
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == 0) {
        ds.shm_perm.uid = img->process->uid;
        ds.shm_perm.gid = img->process->gid;
        ds.shm_perm.mode = f->sysv_mode & 0777;
        if (shmctl(id, IPC_SET, &ds) != 0)
            revive_log_warn("cannot give the System V shared memory segment %s its owner %u:%u and mode %03o: %s",
                            name, img->process->uid, img->process->gid, f->sysv_mode, strerror(errno));
    }
    int e = fill(r, f, id, reused, name);
    int fd = e ? -1 : memfd_create("revive-sysv-id", MFD_CLOEXEC);
    if (!e && (fd < 0 || pwrite(fd, &id, sizeof id, 0) != (ssize_t)sizeof id)) {
        crs_restore_error(r, "cannot keep the id of the System V shared memory segment %s: %s", name, strerror(errno));
        e = -EIO;
    }
    int moved = e ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    if (!e && moved < 0) {
        e = -errno;
        crs_restore_error(r, "cannot keep the id of the System V shared memory segment %s: %s", name, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    if (e && !reused)
        shmctl(id, IPC_RMID, NULL);
    return e ? e : moved;
}

int crs_restore_sysv_id(struct crs_restore *r, size_t i, int fd)
{
    int id = -1;
    if (pread(fd, &id, sizeof id, 0) != (ssize_t)sizeof id || id < 0) {
        crs_restore_error(r, "the System V shared memory segment %s that the restart made has no id",
                          crs_image_str(r->img, r->img->fobjs[i].path));
        return -EIO;
    }
    return id;
}

static int same_attach(const struct crs_rec_region *a, const struct crs_rec_region *b)
{
    return a->kind == CRS_REGION_FOBJ && b->kind == CRS_REGION_FOBJ && a->file == b->file &&
           a->start - a->pgoff == b->start - b->pgoff;
}

void *crs_restore_sysv_map(struct crs_restore *r, size_t i, uint64_t hint)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_region *g = &img->regions[i];
    const struct crs_rec_fobj *f = &img->fobjs[g->file];
    uint64_t base = g->start - g->pgoff, page = img->hdr.page_size;
    /* attached already, with an earlier region of the same shmat */
    for (size_t j = 0; j < i; j++)
        if (r->cur[j] && same_attach(&img->regions[j], g)) {
            if (hint && r->cur[j] != img->regions[j].start) {
                errno = EEXIST;
                return NULL;
            }
            return (void *)(r->cur[j] + (g->start - img->regions[j].start));
        }
    int flags = (g->flags & CRS_REGION_F_SHM_RDONLY) ? SHM_RDONLY : 0;
    for (size_t k = i; k < img->nregions; k++)
        if (same_attach(&img->regions[k], g) && (img->regions[k].prot & PROT_EXEC))
            flags |= SHM_EXEC;
    char *p = shmat(r->sysv_ids[g->file], hint ? (void *)base : NULL, flags);
    if (p == (void *)-1) {
        if (hint && errno == EINVAL)
            errno = EEXIST;   /* something is in the way: attached aside, moved by the switch */
        return NULL;
    }
    /* munmap what the process had unmapped, mprotect what it had protected */
    uint64_t at = (uint64_t)p, seglen = (f->size + page - 1) / page * page, off = 0;
    int shm_prot = PROT_READ | (flags & SHM_RDONLY ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0);
    for (size_t k = i; k < img->nregions; k++) {
        const struct crs_rec_region *x = &img->regions[k];
        if (!same_attach(x, g))
            continue;
        if (x->pgoff > off)
            munmap((void *)(at + off), x->pgoff - off);
        if (x->pgoff + (x->end - x->start) > off)
            off = x->pgoff + (x->end - x->start);
        if ((int)x->prot != shm_prot && mprotect((void *)(at + x->pgoff), x->end - x->start, (int)x->prot) != 0) {
            int e = errno;
            shmdt(p);
            errno = e;
            return NULL;
        }
    }
    if (off < seglen)
        munmap((void *)(at + off), seglen - off);
    return (void *)(at + g->pgoff);
}

int crs_restore_sysv_done(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nfobjs; i++)
        if (img->fobjs[i].kind == CRS_FOBJ_SYSV && (img->fobjs[i].flags & CRS_FOBJ_F_REMOVED) &&
            shmctl(r->sysv_ids[i], IPC_RMID, NULL) != 0 && errno != EINVAL && errno != EIDRM) {
            crs_restore_error(r, "cannot mark the System V shared memory segment %s removed again: %s",
                              crs_image_str(img, img->fobjs[i].path), strerror(errno));
            return -EIO;
        }
    return 0;
}

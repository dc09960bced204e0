/* Files a process holds open for writing (a log, a results file written step by step): their
 * bytes at the checkpoint go into the image as saved files of kind CRS_FOBJ_WRITTEN, so that a
 * restart writes them back when the file is gone (a node-local /tmp cleaned, another host) or
 * changed (the job ran on after a continuing snapshot; a second restart from one snapshot), and
 * the restarted run's output repeats an uninterrupted run's. Reopened by path only (what BLCR
 * did, and this did before), the restart failed on a file gone, and appended after output the
 * lost run had written. Files larger than REVIVE_SAVE_WRITTEN_MAX (default 16 MiB) are reopened
 * by path as before (the job's --ckpt-save-files saves them whole). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/size_arg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WRITTEN_MAX_DEFAULT (16ull << 20)

int crs_capture_written_max(uint64_t *bytes)
{
    const char *s = getenv("REVIVE_SAVE_WRITTEN_MAX");
    *bytes = WRITTEN_MAX_DEFAULT;
    if (!s || !*s)
        return 0;
    return revive_size_arg(s, bytes) == 0 ? 0 : -EINVAL;
}

int crs_capture_written(struct crs_capture *c, struct crs_rec_fd *r, const char *link, const struct stat *st)
{
    int acc = (int)r->open_flags & O_ACCMODE;
    /* a tree's members share files through the tree's restart (CRS_FOBJ_F_ELSEWHERE), which
     * knows deleted and /dev/shm files only: reopened by path there, as before */
    if ((acc != O_WRONLY && acc != O_RDWR) || (r->open_flags & O_PATH) || c->opts.tree || link[0] != '/')
        return 0;
    uint64_t max;
    if (crs_capture_written_max(&max)) {
        crs_capture_error(c, "REVIVE_SAVE_WRITTEN_MAX='%s' is not a size (a number with K, M or G, "
                          "or 0 to keep no file open for writing in the image)", getenv("REVIVE_SAVE_WRITTEN_MAX"));
        return -EINVAL;
    }
    uint64_t size = (uint64_t)st->st_size;
    /* the image's budget of saved files (opts.file_data_max) bounds them all together: past it,
     * the file is reopened by path as before rather than the checkpoint refused */
    uint64_t budget = c->opts.file_data_max;
    if (!max || size > max || (budget && c->written_planned + size > budget))
        return 0;
    if (acc == O_WRONLY) {
        /* Revive reads it through a descriptor of its own (capture_fobjs.c open_reader), which
         * closing would release the process's POSIX locks on it; a file the process may not read
         * (mode 0200) is reopened by path */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", r->fd);
        int probe = crs_capture_posix_locked(c, st->st_dev, st->st_ino) ? -1 : open(self, O_RDONLY | O_CLOEXEC);
        if (probe < 0)
            return 0;
        close(probe);
    }
    size_t before = c->nfobjs;
    int k = crs_capture_fobj_index(c, st->st_dev, st->st_ino, link, st->st_mode, size);
    if (k < 0)
        return 0;   /* no room left: by path */
    if ((size_t)k == before)   /* new: another descriptor of the file may have made it already */
        c->fobjs[k].kind = CRS_FOBJ_WRITTEN;
    else if (c->fobjs[k].kind != CRS_FOBJ_WRITTEN)
        return 0;
    if ((size_t)k == before)
        c->written_planned += size;
    r->kind = CRS_FD_FOBJ;
    r->memfd = k;
    crs_capture_fobj_reader(c, k, r->fd, r->open_flags);
    return 1;
}

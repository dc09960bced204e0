/* Files and windows after a restart (see objs.h, objs_ckpt.c): called in the restarted process
 * once the fresh lower half is up and the creation record has been replayed (its communicators
 * and datatypes exist again), from the agent thread, on every rank.
 *
 * Each file open at the snapshot is checked first (the same file: device and inode, size and
 * modification time as the snapshot recorded them); the members of its communicator agree, so
 * that a file one rank finds changed or gone fails the restart on every rank with the reason
 * instead of a collective open that the others wait in. Then it is opened again collectively on
 * its communicator with its access mode (MPI_MODE_EXCL left out: the file exists) and hints, in
 * the order of the files' clock ids (the same on every rank), its view is set again (the layer
 * held references to its datatypes, so the replay made them again even if the program freed
 * them), so is its error handler (referenced the same way), its atomicity, and both file
 * pointers are moved back. A split collective that the snapshot ended keeps its status for the
 * program's _end call. The file's data is the file's: nothing of it is in the image.
 *
 * Windows were made again by the replay (win_ckpt.c); their locks are taken again last. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_file(const void *a, const void *b)
{
    const struct pml_file *x = *(struct pml_file *const *)a, *y = *(struct pml_file *const *)b;
    uint64_t cx = x->clock ? x->clock->cid : 0, cy = y->clock ? y->clock->cid : 0;
    return cx < cy ? -1 : cx > cy;
}

/* 0 when the file is the one the snapshot saw, else a reason in why. */
static int same_file(const struct pml_file *f, char *why, size_t len)
{
    struct stat sb;
    if (stat(f->abspath, &sb) != 0) {
        snprintf(why, len, "the MPI file %s, open at the snapshot, cannot be found: %s", f->abspath,
                 strerror(errno));
        return -1;
    }
    int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if (sb.st_ino != f->ino || sb.st_dev != f->dev) {
        snprintf(why, len, "the MPI file %s is another file than the one open at the snapshot "
                 "(device/inode %llu/%llu, then %llu/%llu)", f->abspath,
                 (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
                 (unsigned long long)f->dev, (unsigned long long)f->ino);
        return -1;
    }
    if (sb.st_size != f->size || mt != f->mtime_ns) {
        snprintf(why, len, "the MPI file %s changed since the snapshot (size %lld, then %lld; "
                 "modified %+.3f s later); restart from a snapshot taken after the change, or "
                 "put the file back as it was", f->abspath, (long long)sb.st_size,
                 (long long)f->size, (double)(mt - f->mtime_ns) / 1e9);
        return -1;
    }
    return 0;
}

static int reopen(struct pml_file *f, char *err, size_t errlen)
{
    MPI_Comm comm = (MPI_Comm)pml_v2r(f->vcomm);
    char why[PATH_MAX + 256] = "";
    int bad = same_file(f, why, sizeof why) ? 1 : 0, anybad = bad;
    /* every member learns whether one of them cannot go on */
    int rc = pml_L.MPI_Allreduce(&bad, &anybad, 1, (MPI_Datatype)pml_v2r(PML_H(MPI_INT)),
                                 (MPI_Op)pml_v2r(PML_H(MPI_MAX)), comm);
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the communicator of the MPI file %s is not usable after the "
                 "restart (MPI error %d)", f->abspath, rc);
        return -EIO;
    }
    if (anybad) {
        if (bad)
            snprintf(err, errlen, "%s", why);
        else
            snprintf(err, errlen, "another rank found the MPI file %s changed or gone since the "
                     "snapshot", f->abspath);
        return -ESTALE;
    }
    uintptr_t info = pml_hints_info(&f->open_hints);
    MPI_File r = (MPI_File)pml_v2r(PML_H(MPI_FILE_NULL));
    rc = pml_L.MPI_File_open(comm, f->path, f->amode & ~MPI_MODE_EXCL, (MPI_Info)info, &r);
    pml_hints_info_free(info);
    if (rc != MPI_SUCCESS) {
        char es[MPI_MAX_ERROR_STRING] = "";
        int el = 0;
        pml_L.MPI_Error_string(rc, es, &el);
        snprintf(err, errlen, "the MPI file %s cannot be opened again: %s", f->abspath, es);
        return -EIO;
    }
    pml_vh_update(f->v, PML_H(r));
    if (f->view_set) {
        info = pml_hints_info(&f->view_hints);
        rc = pml_L.MPI_File_set_view(r, f->disp, (MPI_Datatype)pml_v2r(f->etype),
                                     (MPI_Datatype)pml_v2r(f->filetype), f->datarep, (MPI_Info)info);
        pml_hints_info_free(info);
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "the view of the MPI file %s cannot be set again (MPI error %d; "
                     "a user data representation must be registered again first)", f->abspath, rc);
            return -EIO;
        }
    }
    if (f->errh && (rc = pml_L.MPI_File_set_errhandler(r, (MPI_Errhandler)pml_v2r(f->errh)))) {
        snprintf(err, errlen, "the error handler of the MPI file %s cannot be set again (MPI "
                 "error %d)", f->abspath, rc);
        return -EIO;
    }
    if (f->atomic)
        rc = pml_L.MPI_File_set_atomicity(r, 1);
    if (rc == MPI_SUCCESS && !(f->amode & MPI_MODE_SEQUENTIAL))
        rc = pml_L.MPI_File_seek(r, f->pos, MPI_SEEK_SET);
    if (rc == MPI_SUCCESS && f->have_shared)
        rc = pml_L.MPI_File_seek_shared(r, f->pos_shared, MPI_SEEK_SET); /* collective */
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the MPI file %s cannot be positioned again (MPI error %d)",
                 f->abspath, rc);
        return -EIO;
    }
    revive_log_debug("restart: MPI file %s open again at %lld (shared %lld)", f->abspath,
                     (long long)f->pos, (long long)f->pos_shared);
    return 0;
}

int pml_objs_restart(char *err, size_t errlen)
{
    int n = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        n++;
    if (!n)
        return pml_objs_restart_wins(err, errlen);
    struct pml_file **v = calloc((size_t)n, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory for the list of open MPI files");
        return -ENOMEM;
    }
    int k = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        v[k++] = f;
    qsort(v, (size_t)n, sizeof *v, cmp_file);
    int e = 0;
    for (int i = 0; i < n && !e; i++)
        e = reopen(v[i], err, errlen);
    free(v);
    return e ? e : pml_objs_restart_wins(err, errlen);
}

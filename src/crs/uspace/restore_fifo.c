/* FIFOs (named pipes) an image brings back, checked before anything changes.
 *
 * A FIFO whose both ends the process held (one descriptor opened O_RDWR, or
 * a reader and a writer) comes back by its path: the restart opens it
 * read-write, writes back the bytes it held and opens each descriptor's file
 * on it again (restore_state.c; review MEDIUM-5). That needs the FIFO at
 * its path, and nobody else using it: a FIFO that a live process holds open
 * (the original, still running) is the same pipe for both, and the bytes the
 * restart writes back would go to it. Either is refused here, naming the
 * FIFO and what to do. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *crs_restore_fifo_path(const struct crs_image *img, size_t k)
{
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].kind == CRS_FD_PIPE && img->fds[i].memfd == (int32_t)k && img->fds[i].path.length)
            return crs_image_str(img, img->fds[i].path);
    return "";
}

static int fifo_fd(const struct crs_image *img, size_t k)
{
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].kind == CRS_FD_PIPE && img->fds[i].memfd == (int32_t)k)
            return img->fds[i].fd;
    return -1;
}

/* The refusal of a FIFO the restart opens again at path while a live
 * process (the original, still running) holds it: it would share the FIFO
 * (`shares`: its writers, or it and its bytes) with the restarted process.
 * `what` says what the image does with it. 0 when nobody holds it, else
 * -EBUSY with the message. */
static int refuse_held(struct crs_restore *r, const char *path, const char *what, const char *shares)
{
    char comm[64];
    pid_t holder = crs_restore_shm_holder(r, path, comm, sizeof comm, NULL);
    if (!holder)
        return 0;
    char who[256];
    crs_restore_describe_holder(r, holder, who, sizeof who);
    if (r->refused_outside)
        *r->refused_outside = 1;
    crs_restore_error(r, "the FIFO (named pipe) %s that the image %s is open in process %d: %s still holds it, "
                      "and the restarted process would share %s with it. End it first, then restart: the image "
                      "is fine", path, what, (int)holder, who, shares);
    return -EBUSY;
}

/* A FIFO's reader no writer had opened (CRS_FD_CHARDEV with a FIFO's
 * mode, capture_fds.c): reopened by its path, which must be a FIFO still
 * (else the open would give whatever is there), and nobody else's: a live
 * process holding it (the original, still running) would share the
 * clients. */
static int check_waiting_readers(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (f->kind != CRS_FD_CHARDEV || !S_ISFIFO(f->mode) || !f->path.length)
            continue;
        const char *path = crs_restore_path(r, crs_image_str(img, f->path));
        struct stat st;
        int gone = lstat(path, &st) != 0 ? errno : 0;
        if (gone || !S_ISFIFO(st.st_mode)) {
            crs_restore_error(r, "the FIFO (named pipe) %s, which descriptor %d of the process was reading (no "
                              "writer had opened it yet), %s%s; make it again (mkfifo %s) and restart%s", path, f->fd,
                              gone ? "is missing: " : "is no FIFO now", gone ? strerror(gone) : "", path,
                              gone ? crs_restore_moved_hint(gone) : "");
            return -ENOENT;
        }
        char what[64];
        snprintf(what, sizeof what, "reads again (descriptor %d)", f->fd);
        int busy = refuse_held(r, path, what, "its writers");
        if (busy)
            return busy;
    }
    return 0;
}

int crs_restore_check_fifos(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    int we = check_waiting_readers(r);
    if (we)
        return we;
    for (size_t k = 0; k < img->npipes; k++) {
        if (!(img->pipes[k].flags & CRS_PIPE_F_FIFO))
            continue;
        const char *saved = crs_restore_fifo_path(img, k);
        const char *path = crs_restore_path(r, saved);
        struct stat st;
        if (!saved[0] || saved[0] != '/') {
            crs_restore_error(r, "the FIFO (named pipe) of descriptor %d has no path in the image: the image is "
                              "damaged; use another one", fifo_fd(img, k));
            return -EBADMSG;
        }
        if (lstat(path, &st) != 0) {
            int e = errno;
            crs_restore_error(r, "the FIFO (named pipe) %s, descriptor %d of the process, is missing: %s; make it "
                              "again (mkfifo %s) and restart: the image holds the bytes it held%s", path,
                              fifo_fd(img, k), strerror(e), path, crs_restore_moved_hint(e));
            return -ENOENT;
        }
        if (!S_ISFIFO(st.st_mode)) {
            crs_restore_error(r, "%s, a FIFO (named pipe) at the checkpoint (descriptor %d of the process), is "
                              "no FIFO now: put the FIFO back (remove what is there, mkfifo %s) and restart",
                              path, fifo_fd(img, k), path);
            return -ENOENT;
        }
        int busy = refuse_held(r, path, "brings back", "it and its bytes");
        if (busy)
            return busy;
    }
    return 0;
}

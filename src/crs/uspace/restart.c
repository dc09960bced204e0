/* The uspace component's restart: opens and checks an image, then brings it
 * back in the calling process (restore_load, restore_state, restore_switch).
 * cr_restart calls it in the process it forked; an MPI rank's restarter in
 * itself. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct uspace_restart {
    struct crs_image img;
    struct crs_restore r;
    const char *name;
    int (*before_switch)(void *arg);
    void *switch_arg;
    int *data_failed;   /* crs_restart_opts */
};

/* The first descriptor the restore's own may take: above every descriptor of
 * the image (maxfd), from 64 up (clear of the low numbers a launcher may
 * leave open) when the descriptor limit leaves room there for what the
 * restore holds at once (the image's files, memfds, pipes and sockets, and a
 * few of its own). A process that ran under a low RLIMIT_NOFILE (a batch
 * system's `ulimit -n 64`) is restarted under the same limit: its own start
 * right above the image's (newuser10 M1: from 64, the limit itself, the
 * restart failed with "cannot set up descriptors: Invalid argument"). The
 * image's limits come back last (restore_state.c). *limit: the soft limit. */
static int first_own_fd(const struct crs_image *img, int maxfd, long *limit)
{
    struct rlimit nf;
    long lim = 1L << 30;
    if (getrlimit(RLIMIT_NOFILE, &nf) == 0 && nf.rlim_cur != RLIM_INFINITY && nf.rlim_cur < (rlim_t)lim)
        lim = (long)nf.rlim_cur;
    *limit = lim;
    long need = (long)(img->nfds + img->nmemfds + 2 * img->npipes + img->nsockets) + 16;
    int from = 64 + need <= lim ? 64 : 0;
    return maxfd + 1 < from ? from : maxfd + 1;
}

int crs_uspace_restart_open(const struct crs_restart_opts *o, struct crs_restart_image *ri, char *err,
                            size_t errlen)
{
    memset(ri, 0, sizeof *ri);
    const char *name = o->path ? o->path : "(image)";
    if (o->handoff_len > CRS_HANDOFF_MAX || (o->handoff_len && !o->handoff)) {
        snprintf(err, errlen, "%s: the hand-off blob is larger than %u bytes", name, CRS_HANDOFF_MAX);
        if (o->fd >= 0)
            close(o->fd);
        return -EINVAL;
    }
    struct uspace_restart *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "%s: out of memory", name);
        if (o->fd >= 0)
            close(o->fd);
        return -ENOMEM;
    }
    u->name = name;
    int e = o->fd >= 0 ? crs_image_open_fd(&u->img, o->fd, name) : crs_image_open(&u->img, o->path);
    if (e) {
        snprintf(err, errlen, "%s", u->img.err);
        free(u);
        return e;
    }
    /* A rank's image holds only its upper half: the MPI library (the lower half) is loaded afresh
     * by the restarted rank, which needs the new launcher's environment (the hand-off). Without it
     * the restored rank has no MPI library to return to and dies; refuse here in one line. */
    /* (a child a rank forked, taken with it in a tree file, has an empty one: src/pml_hooks/capture.c) */
    const struct crs_image_ext *mpi = crs_image_extension(&u->img, "mpi", NULL);
    if (!o->handoff_len && mpi && mpi->len) {
        snprintf(err, errlen, "%s is the image of a rank of an MPI job, which cannot be restarted alone:"
                 " restart the job's snapshot with restart-mpi (take one with ckpt-mpirun)", name);
        crs_image_close(&u->img);
        free(u);
        return -EINVAL;
    }
    /* the very file a check of every chunk read (restart-mpi's), unchanged since: its bytes are
     * the ones checked, not hashed again (component.h) */
    struct crs_file_stamp now;
    if (o->verified && crs_file_stamp_of(u->img.fd, &now) == 0 && crs_file_stamp_same(&now, o->verified)) {
        u->img.sums_checked = 1;
        revive_log_info("%s is the file whose every chunk restart-mpi verified, unchanged since: its chunks are "
                        "not hashed again", name);
    }
    struct crs_restore *r = &u->r;
    r->img = &u->img;
    r->restore_ids = o->restore_ids;
    r->ignore_kernel = o->ignore_kernel;
    r->handoff = o->handoff;
    r->handoff_len = o->handoff_len;
    r->relocate = o->relocate;
    r->nrelocate = o->nrelocate;
    r->saved_skip = o->saved_skip;
    r->nsaved_skip = o->nsaved_skip;
    r->dev_shm_private = o->dev_shm_private;
    r->shm_peers_parent = o->shm_peers_parent;
    r->refused_outside = o->refused_outside;
    u->data_failed = o->data_failed;
    r->outer_proc_fd = -1;
    if (o->nkeep_fds < 0 || o->nkeep_fds > CRS_KEEP_FDS_MAX || (o->nkeep_fds && !o->keep_fds)) {
        snprintf(err, errlen, "%s: at most %d descriptors can be kept open across a restart", name,
                 CRS_KEEP_FDS_MAX);
        crs_image_close(&u->img);
        free(u);
        return -EINVAL;
    }
    for (int i = 0; i < o->nkeep_fds; i++)
        r->keep_fds[r->nkeep_fds++] = o->keep_fds[i];
    r->placed_fds = o->nplaced_fds > 0 ? o->placed_fds : NULL;
    r->nplaced_fds = r->placed_fds ? o->nplaced_fds : 0;
    r->fill_fds = o->nfill_fds > 0 ? o->fill_fds : NULL;
    r->nfill_fds = r->fill_fds ? o->nfill_fds : 0;
    u->before_switch = o->before_switch;
    u->switch_arg = o->switch_arg;
    if ((e = crs_restore_check(r))) {
        if (o->refused_outside) /* every check there is about the surroundings (component.h) */
            *o->refused_outside = 1;
        snprintf(err, errlen, "%s: %s", name, r->err);
        crs_image_close(&u->img);
        free(u);
        return e;
    }
    /* Our own descriptors live above every descriptor of the image. */
    int maxfd = 2;
    for (size_t i = 0; i < u->img.nfds; i++)
        if (u->img.fds[i].fd > maxfd)
            maxfd = u->img.fds[i].fd;
    long limit = 0;
    r->work_fd_min = first_own_fd(&u->img, maxfd, &limit);
    for (int i = 0; i < r->nkeep_fds; i++)
        if (r->keep_fds[i] <= maxfd || fcntl(r->keep_fds[i], F_GETFD) < 0) {
            e = fcntl(r->keep_fds[i], F_GETFD) < 0 ? -EBADF : -EEXIST;
            snprintf(err, errlen, "%s: descriptor %d to keep %s", name, r->keep_fds[i],
                     e == -EBADF ? "is not open" : "is one the image uses too (keep it at a higher number)");
            crs_image_close(&u->img);
            free(u);
            return e;
        }
    int moved = fcntl(u->img.fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    if (moved < 0) {
        e = -errno;
        if (e == -EINVAL || e == -EMFILE)
            snprintf(err, errlen, "cannot set up descriptors: the descriptor limit (RLIMIT_NOFILE, ulimit -n) is "
                     "%ld, and the image's descriptors go up to %d: restart with a limit of at least %d",
                     limit, maxfd, maxfd + 32);
        else
            snprintf(err, errlen, "cannot set up descriptors: %s", strerror(errno));
        crs_image_close(&u->img);
        free(u);
        return e;
    }
    close(u->img.fd);
    u->img.fd = moved;
    ri->pid = (pid_t)u->img.process->pid;
    ri->pgid = (pid_t)u->img.process->pgid;
    ri->sid = (pid_t)u->img.process->sid;
    ri->had_tty = (u->img.process->flags & CRS_PROC_F_CTTY) != 0;
    ri->outer_pid = 0;
    ri->outer_proc_fd = -1;
    ri->own_fd_min = r->work_fd_min;
    ri->dev_shm_busy = o->dev_shm_private == 2 && r->shm_busy[0] ? r->shm_busy : NULL;
    ri->impl = u;
    return 0;
}

int crs_uspace_restart(struct crs_restart_image *ri, char *err, size_t errlen)
{
    struct uspace_restart *u = ri->impl;
    struct crs_restore *r = &u->r;
    r->outer_pid = ri->outer_pid > 0 ? ri->outer_pid : 0;
    r->outer_proc_fd = r->outer_pid ? ri->outer_proc_fd : -1;
    r->shared_files = ri->shared_files;
    r->nshared_files = ri->nshared_files;
    /* The threads may get their old ids only where the process has its old pid. */
    int pid_is_original = r->restore_ids && getpid() == (pid_t)u->img.process->pid;
    int e = crs_restore_private_dev_shm(r);   /* before any /dev/shm object is made */
    if (!e) {
        e = crs_restore_load(r);
        if ((e == -EBADMSG || e == -EIO) && u->data_failed)
            *u->data_failed = 1;
    }
    if (!e)
        e = crs_restore_sysvipc(r);
    if (!e)
        crs_restore_warn_new_ids(r);   /* segments (made by crs_restore_load) and sets and queues */
    if (!e)
        e = crs_restore_sockets(r);
    if (!e)
        e = crs_restore_fds(r);
    if (!e && revive_fault(REVIVE_FAULT_restore_after_fds)) {
        snprintf(r->err, sizeof r->err, "fault injected after the descriptors (REVIVE_FAULT=restore-after-fds)");
        e = -EIO;
    }
    if (!e)
        e = crs_restore_epolls(r);
    if (!e)
        e = crs_restore_locks(r);
    if (!e)
        e = crs_restore_process_state(r);
    if (!e)
        e = crs_restore_signals(r);
    if (!e)
        e = crs_restore_pidfds(r);   /* before any process of the tree runs on (restore_pidfd.c) */
    if (!e)
        e = crs_restore_creds(r);    /* last: the steps above may need cr_restart's privileges */
    if (!e && revive_fault(REVIVE_FAULT_restore_late)) {
        snprintf(r->err, sizeof r->err, "fault injected before the last step (REVIVE_FAULT=restore-late)");
        e = -ECANCELED;
    }
    /* The adjustments (SEM_UNDO) late, since this process's end would give
     * them back; before a tree's processes wait for each other, so that none
     * runs (and changes a set they share, or drops every adjustment with
     * SETALL) while another still gives its own. A tree that fails after
     * this leaves its sets' values changed by the ends of its processes; the
     * next restart sets them again. */
    if (!e)
        e = crs_restore_sysvipc_undo(r);
    if (!e && u->before_switch && u->before_switch(u->switch_arg)) {
        snprintf(r->err, sizeof r->err, "the restart of the process tree was called off (another of its "
                                        "processes could not be restored)");
        e = -ECANCELED;
    }
    if (!e)
        e = crs_restore_switch(r, pid_is_original);   /* returns only on failure */
    crs_restore_sysvipc_undo_made(r);   /* failed: what this restart made goes */
    crs_restore_sysv_abandon();
    snprintf(err, errlen, "%s: %s", u->name, r->err);
    return e ? e : -EIO;
}

int crs_uspace_restart_make_file(struct crs_restart_image *ri, uint64_t dev, uint64_t ino, char *err, size_t errlen)
{
    struct uspace_restart *u = ri->impl;
    struct crs_restore *r = &u->r;
    for (size_t i = 0; i < u->img.nfobjs; i++) {
        const struct crs_rec_fobj *f = &u->img.fobjs[i];
        if (f->dev != dev || f->ino != ino || f->kind == CRS_FOBJ_MEMFD)
            continue;
        r->err[0] = 0;
        int fd = crs_restore_make_fobj(r, i);
        if (fd < 0)
            snprintf(err, errlen, "%s: %s", u->name, r->err);
        else
            crs_restore_warn_new_ids(r);   /* a segment a tree's members share */
        return fd;
    }
    for (size_t i = 0; i < u->img.nmemfds; i++) {   /* shared memory: a memfd record of that inode */
        if (u->img.memfds[i].ino != ino)
            continue;
        r->err[0] = 0;
        int fd = crs_restore_make_shmem(r, i);
        if (fd < 0)
            snprintf(err, errlen, "%s: %s", u->name, r->err);
        return fd;
    }
    snprintf(err, errlen, "%s: the image holds no saved file or shared memory of device %llu inode %llu that its "
                          "tree names: the file is damaged", u->name, (unsigned long long)dev, (unsigned long long)ino);
    return -EINVAL;
}

int crs_uspace_restart_make_kobj(struct crs_restart_image *ri, int fd, char *err, size_t errlen)
{
    struct uspace_restart *u = ri->impl;
    struct crs_restore *r = &u->r;
    const struct crs_rec_fd *f = crs_restore_fd_record(&u->img, fd);
    if (f && f->dup_of >= 0)
        f = crs_restore_fd_record(&u->img, f->dup_of);
    if (!f || (f->kind != CRS_FD_EVENTFD && f->kind != CRS_FD_TIMERFD && f->kind != CRS_FD_SIGNALFD &&
               f->kind != CRS_FD_EPOLL && f->kind != CRS_FD_INOTIFY)) {
        snprintf(err, errlen, "%s: the image holds no eventfd, timerfd, signalfd, epoll or inotify at descriptor %d, "
                              "which its tree names: the file is damaged", u->name, fd);
        return -EINVAL;
    }
    r->err[0] = 0;
    int made = crs_restore_kobj_open(r, f);
    if (made < 0) {
        snprintf(err, errlen, "%s: %s", u->name, r->err);
        return -EIO;
    }
    int high = fcntl(made, F_DUPFD_CLOEXEC, ri->own_fd_min);
    int e = errno;
    close(made);
    if (high < 0) {
        snprintf(err, errlen, "%s: cannot move descriptor %d's object aside: %s", u->name, fd, strerror(e));
        return -e;
    }
    return high;
}

int crs_restore_filled_elsewhere(const struct crs_restore *r, int fd)
{
    int placed = 0;
    for (int k = 0; k < r->nplaced_fds && !placed; k++)
        placed = r->placed_fds[k] == fd;
    for (int k = 0; k < r->nfill_fds && placed; k++)
        if (r->fill_fds[k] == fd)
            return 0;
    return placed;
}

int crs_uspace_restart_share(struct crs_restart_image *ri, size_t n, char *err, size_t errlen)
{
    struct crs_restore **rs = calloc(n + 1, sizeof *rs);
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        rs[i] = ri[i].impl ? &((struct uspace_restart *)ri[i].impl)->r : NULL;
    size_t bad = 0;
    int e = crs_restore_sysvipc_share(rs, n, &bad);
    if (e)
        snprintf(err, errlen, "%s: %s", ((struct uspace_restart *)ri[bad].impl)->name, rs[bad]->err);
    free(rs);
    return e;
}

void crs_uspace_restart_close(struct crs_restart_image *ri)
{
    struct uspace_restart *u = ri->impl;
    if (!u)
        return;
    crs_image_close(&u->img);
    free(u->r.cur);
    free(u->r.memfd_fds);
    free(u->r.memfd_shared);
    free(u->r.pipe_fds);
    free(u->r.fobj_fds);
    free(u->r.sysv_ids);
    free(u->r.sock_fds);
    free(u->r.sock_tw);
    free(u->r.sysvipc_ids);
    free(u->r.sysvipc_made);
    free(u->r.sysvipc_tree);
    free(u);
    ri->impl = NULL;
}

/* The BLCR request API over libcr's request slots. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "libcr"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"
#include "common/log.h"
#include "crs/base/capture_filter.h"
#include "crs/base/protocol.h"
#include "crs/base/tree.h"
#include "crs/libcr/runtime.h"

cr_client_id_t cr_init(void)
{
    int e = crs_runtime_start();
    if (e) {
        errno = ENOSYS;
        return -1;
    }
    return 1;
}

int cr_initialize_checkpoint_args_t(cr_checkpoint_args_t *args)
{
    memset(args, 0, sizeof *args);
    args->cr_version = CR_CHECKPOINT_ARGS_VERSION;
    args->cr_scope = CR_SCOPE_PROC;
    args->cr_target = 0;
    args->cr_fd = -1;
    args->cr_flags = CR_CHKPT_DUMP_ALL;
    return 0;
}

static int claim_slot(void)
{
    for (int i = 0; i < CRS_MAX_REQUESTS; i++) {
        uint32_t free_state = CRS_SLOT_FREE;
        if (atomic_compare_exchange_strong(&crs_requests[i].state, &free_state, CRS_SLOT_RUNNING))
            return i;
    }
    return -1;
}

/* 0 when this process may checkpoint process PID (root, or PID has our uid); else -1 with
 * errno ESRCH (no such process) or EPERM. */
static int owned(pid_t pid)
{
    long uid = crs_proto_process_uid(pid);
    if (uid < 0) {
        errno = ESRCH;
        return -1;
    }
    if (getuid() != 0 && (uid_t)uid != getuid()) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* CR_SCOPE_TREE, PGRP, SESS: a helper cr_checkpoint writes every member (the
 * caller too, when it is one) through args->cr_fd (scope.c). */
static int request_scope(cr_checkpoint_args_t *args, cr_checkpoint_handle_t *handle)
{
    if (crs_runtime_start() != 0) {
        errno = ENOSYS;
        return -1;
    }
    struct stat st;
    int fl = fcntl(args->cr_fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || (fl & O_APPEND) || fstat(args->cr_fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || args->cr_target < 0) {
        errno = EINVAL;
        return -1;
    }
    pid_t id = args->cr_target;
    if (args->cr_scope == CR_SCOPE_TREE) {
        if (!id)
            id = getpid();
        if (owned(id) != 0)
            return -1;
    } else {
        if (!id)
            id = args->cr_scope == CR_SCOPE_PGRP ? getpgrp() : getsid(0);
        if (args->cr_scope == CR_SCOPE_PGRP && kill(-id, 0) != 0 && errno == ESRCH)
            return -1;
    }
    crs_park_defer_enter();
    int fd = crs_runtime_high_fd(fcntl(args->cr_fd, F_DUPFD_CLOEXEC, 3));
    int i = fd >= 0 ? claim_slot() : -1;
    if (i < 0) {
        if (fd >= 0)
            close(fd);
        crs_park_defer_leave();
        errno = fd < 0 ? errno : EAGAIN;
        return -1;
    }
    struct crs_request_slot *s = &crs_requests[i];
    s->target = id;
    s->scope = args->cr_scope == CR_SCOPE_TREE ? CRS_TREE_SCOPE_TREE
             : args->cr_scope == CR_SCOPE_PGRP ? CRS_TREE_SCOPE_PGRP : CRS_TREE_SCOPE_SESS;
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->durable = NULL;
    s->flags = args->cr_flags;
    s->signal = args->cr_signal;
    s->timeout_s = args->cr_timeout;
    s->err = 0;
    atomic_store(&s->state, CRS_SLOT_QUEUED);
    crs_park_defer_leave();
    int e = crs_runtime_submit(i);
    if (e) {
        close(s->fd);
        s->scope = 0;
        atomic_store(&s->state, CRS_SLOT_FREE);
        errno = -e;
        return -1;
    }
    *handle = i;
    return 0;
}

/* cr_request_checkpoint, or with `durable` (self only): the image goes to
 * durable->fd, and under its final name once complete (the slot owns it). */
static int request(cr_checkpoint_args_t *args, struct crs_durable *durable, cr_checkpoint_handle_t *handle)
{
    if (!args || !handle || args->cr_version != CR_CHECKPOINT_ARGS_VERSION ||
        (args->cr_scope != CR_SCOPE_PROC && args->cr_scope != CR_SCOPE_TREE && args->cr_scope != CR_SCOPE_PGRP &&
         args->cr_scope != CR_SCOPE_SESS) ||
        (args->cr_scope != CR_SCOPE_PROC && durable)) {
        errno = EINVAL;
        return -1;
    }
    if (args->cr_scope != CR_SCOPE_PROC)
        return request_scope(args, handle);
    if (crs_runtime_start() != 0) {
        errno = ENOSYS;
        return -1;
    }
    struct stat st;
    int fl = fcntl(args->cr_fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || fstat(args->cr_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    pid_t target = args->cr_target == getpid() ? 0 : args->cr_target;
    if (target < 0) {
        errno = EINVAL;
        return -1;
    }
    if (target > 0) {
        if (owned(target) != 0)
            return -1;
        int probe = crs_proto_connect(target);
        if (probe < 0) {
            errno = probe == -ECONNREFUSED ? ENOSYS : -probe;
            return -1;
        }
        close(probe);
    }
    /* A checkpoint must never see our descriptor without its slot (it would
     * save it as the application's) nor a slot half filled: no parking from
     * the dup until the slot is queued. */
    crs_park_defer_enter();
    int fd = durable ? durable->fd : fcntl(args->cr_fd, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0 && !durable)
        fd = crs_runtime_high_fd(fd);   /* out of the program's way */
    if (fd < 0) {
        crs_park_defer_leave();
        return -1;
    }
    int i = claim_slot();
    if (i < 0) {
        if (!durable)
            close(fd);
        crs_park_defer_leave();
        errno = EAGAIN;
        return -1;
    }
    struct crs_request_slot *s = &crs_requests[i];
    struct stat fst;
    s->scope = 0;
    s->target = target;
    s->fd = fd;
    s->dev = fstat(fd, &fst) == 0 ? fst.st_dev : 0;
    s->ino = fstat(fd, &fst) == 0 ? fst.st_ino : 0;
    s->durable = durable;
    s->flags = args->cr_flags;
    s->signal = args->cr_signal;
    s->timeout_s = args->cr_timeout;
    s->err = 0;
    /* Pending from now on, so that a cr_enter_cs() after this call waits for
     * it; the checkpoint thread drops the count when it is done. */
    if (target == 0)
        crs_cs_request_pending(+1);
    atomic_store(&s->state, CRS_SLOT_QUEUED);
    crs_park_defer_leave();
    int e = crs_runtime_submit(i);
    if (e) {
        if (target == 0)
            crs_cs_request_pending(-1);
        if (!durable)
            close(s->fd);
        s->durable = NULL;
        atomic_store(&s->state, CRS_SLOT_FREE);
        errno = -e;
        return -1;
    }
    *handle = i;
    return 0;
}

int cr_request_checkpoint(cr_checkpoint_args_t *args, cr_checkpoint_handle_t *handle)
{
    return request(args, NULL, handle);
}

static int finished(uint32_t s)
{
    return s == CRS_SLOT_DONE || s == CRS_SLOT_FAILED || s == CRS_SLOT_RESTARTED;
}

int cr_reap_checkpoint(cr_checkpoint_handle_t *handle)
{
    if (!handle || *handle < 0 || *handle >= CRS_MAX_REQUESTS) {
        errno = EINVAL;
        return -1;
    }
    struct crs_request_slot *s = &crs_requests[*handle];
    uint32_t st = atomic_load(&s->state);
    if (st == CRS_SLOT_FREE) {
        errno = EINVAL;
        return -1;
    }
    if (!finished(st)) {
        errno = EAGAIN;
        return -1;
    }
    int err = s->err;
    atomic_store(&s->state, CRS_SLOT_FREE);
    *handle = -1;
    if (st != CRS_SLOT_DONE) {
        errno = err ? err : EIO;
        return -1;
    }
    return 0;
}

int cr_poll_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout)
{
    if (!handle || *handle < 0 || *handle >= CRS_MAX_REQUESTS ||
        atomic_load(&crs_requests[*handle].state) == CRS_SLOT_FREE) {
        errno = EINVAL;
        return CR_POLL_CHKPT_ERR_PRE;
    }
    struct crs_request_slot *s = &crs_requests[*handle];
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (timeout) {
        end.tv_sec += timeout->tv_sec + (end.tv_nsec / 1000 + timeout->tv_usec) / 1000000;
        end.tv_nsec = ((end.tv_nsec / 1000 + timeout->tv_usec) % 1000000) * 1000;
    }
    for (;;) {
        uint32_t st = atomic_load(&s->state);
        if (finished(st))
            break;
        struct timespec now, left, *lp = NULL;
        if (timeout) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long ns = (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
            if (ns <= 0)
                return 0;
            left.tv_sec = ns / 1000000000LL;
            left.tv_nsec = ns % 1000000000LL;
            lp = &left;
        }
        /* EINTR (our own park signal among others) just means look again */
        syscall(SYS_futex, &s->state, FUTEX_WAIT_PRIVATE, st, lp, NULL, 0);
    }
    if (cr_reap_checkpoint(handle) < 0)
        return CR_POLL_CHKPT_ERR_POST;
    return 1;
}

/* The legacy calls: like BLCR they report no error, but return only once the
 * request is pending (or done), so a following cr_enter_cs waits for it.
 * With `durable` (allocated by the caller, owned from here on) the image is
 * written beside `path` and renamed over it once complete. Creating the
 * temporary file and handing it to a request is one park-deferral section,
 * so that no image holds it as the application's file; nothing in there
 * allocates or prints (a parked thread may hold those locks). */
static void legacy_request(int fd, struct crs_durable *durable, const char *path, mode_t mode)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static cr_checkpoint_handle_t previous = -1;
    int open_err = 0, req_err = 0;
    crs_runtime_start();   /* not inside the section: it may start threads */
    crs_park_defer_enter();
    pthread_mutex_lock(&lock);   /* its holder is never parked */
    if (previous >= 0) {
        cr_reap_checkpoint(&previous);   /* frees a finished earlier request */
        previous = -1;
    }
    if (durable && !(open_err = -crs_durable_open(durable, path, mode))) {
        durable->fd = crs_runtime_high_fd(durable->fd);   /* out of the program's way */
        durable->dirfd = crs_runtime_high_fd(durable->dirfd);
    }
    if (!open_err) {
        cr_checkpoint_args_t a;
        cr_initialize_checkpoint_args_t(&a);
        a.cr_fd = durable ? durable->fd : fd;
        cr_checkpoint_handle_t h;
        if (request(&a, durable, &h) == 0) {
            previous = h;
            durable = NULL;   /* the request's now */
        } else {
            req_err = errno;
            if (durable)
                crs_durable_abort(durable);
        }
    }
    pthread_mutex_unlock(&lock);
    crs_park_defer_leave();
    free(durable);
    if (open_err)
        fprintf(stderr, "revive: crs: cannot create checkpoint file %s: %s\n", path, strerror(open_err));
    else if (req_err)
        fprintf(stderr, "revive: crs: checkpoint request failed: %s\n", strerror(req_err));
}

/* A descriptor that names a regular file of ours by a path, at offset 0 and
 * open for writing, is replaced durably; any other gets the image in place.
 * Returns 1 with the path and mode. */
static int named_file_of(int fd, char *path, size_t len, mode_t *mode)
{
    struct stat st, named;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || (fl & O_APPEND) || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid() || lseek(fd, 0, SEEK_CUR) != 0)
        return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, len - 1);
    if (n <= 0 || path[0] != '/')
        return 0;
    path[n] = 0;
    if (stat(path, &named) != 0 || named.st_dev != st.st_dev || named.st_ino != st.st_ino)
        return 0;   /* deleted, or another file under that name now */
    *mode = st.st_mode & 07777;
    return 1;
}

void cr_request_fd(int fd)
{
    char path[PATH_MAX];
    mode_t mode = 0600;
    struct crs_durable *d = named_file_of(fd, path, sizeof path, &mode) ? malloc(sizeof *d) : NULL;
    legacy_request(fd, d, path, mode);
}

void cr_request_file(const char *filename)
{
    struct stat st;
    if (stat(filename, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* as before: a non-file destination is refused */
        fprintf(stderr, "revive: crs: checkpoint request failed: %s\n", strerror(EINVAL));
        return;
    }
    struct crs_durable *d = malloc(sizeof *d);
    if (!d) {
        fprintf(stderr, "revive: crs: cannot create checkpoint file %s: %s\n", filename, strerror(ENOMEM));
        return;
    }
    legacy_request(-1, d, filename, 0600);
}

void cr_request(void)
{
    char name[64];
    snprintf(name, sizeof name, "context.%d", (int)getpid());
    cr_request_file(name);
}

const char *cr_strerror(int errnum)
{
    return strerror(errnum);
}

/* Descriptors, working directory, umask, limits, timers and signal
 * dispositions of the restored process. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static int open_record(struct crs_restore *r, const struct crs_rec_fd *f)
{
    const char *path = crs_restore_path(r, crs_image_str(r->img, f->path));
    int flags = (int)f->open_flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
    int fd;
    switch (f->kind) {
    case CRS_FD_REGULAR:
    case CRS_FD_CHARDEV:
        /* a FIFO's reader no writer had opened (image_format.h): without
         * O_NONBLOCK the open would wait for one; status_flags clears it */
        fd = open(path, S_ISFIFO(f->mode) ? flags | O_NONBLOCK : flags);
        break;
    case CRS_FD_DIRECTORY:
        fd = open(path, O_RDONLY | O_DIRECTORY);
        break;
    case CRS_FD_PIPE: {
        if (r->img->pipes[f->memfd].flags & CRS_PIPE_F_FIFO) {
            /* an open file of its own on the FIFO, with its access: the FIFO
             * held read-write here (make_pipes) has a reader and a writer, so
             * neither O_RDONLY nor O_WRONLY waits for the other end */
            char self[64];
            snprintf(self, sizeof self, "/proc/self/fd/%d", r->pipe_fds[2 * f->memfd]);
            fd = open(self, flags & (O_ACCMODE | O_NONBLOCK));
            break;
        }
        int end = ((int)f->open_flags & O_ACCMODE) == O_RDONLY ? 0 : 1;
        fd = fcntl(r->pipe_fds[2 * f->memfd + end], F_DUPFD, r->work_fd_min);
        if (fd >= 0)
            fcntl(fd, F_SETFL, flags & O_NONBLOCK);
        break;
    }
    case CRS_FD_FOBJ: {
        /* its own open file, with its flags, on the recreated file */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", r->fobj_fds[f->memfd]);
        fd = open(self, flags & ~(O_TMPFILE | O_PATH | O_NOFOLLOW));
        break;
    }
    case CRS_FD_EVENTFD:
    case CRS_FD_TIMERFD:
    case CRS_FD_SIGNALFD:
    case CRS_FD_EPOLL:
    case CRS_FD_INOTIFY:
        fd = crs_restore_kobj_open(r, f);
        if (fd < 0)
            return -1;   /* its message is set */
        break;
    case CRS_FD_SOCKET:
        fd = fcntl(r->sock_fds[f->memfd], F_DUPFD, r->work_fd_min);
        if (fd >= 0)
            fcntl(fd, F_SETFL, flags & O_NONBLOCK);
        break;
    case CRS_FD_MEMFD:
        if (f->memfd < 0 || (size_t)f->memfd >= r->img->nmemfds || r->memfd_fds[f->memfd] < 0) {
            errno = EINVAL;
            return -1;
        }
        fd = fcntl(r->memfd_fds[f->memfd], F_DUPFD, r->work_fd_min);
        if (fd >= 0)
            fcntl(fd, F_SETFL, flags & (O_APPEND | O_NONBLOCK));
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    if (fd < 0) {
        int e = errno;
        crs_restore_error(r, "cannot reopen %s as descriptor %d: %s%s", path, f->fd, strerror(e),
                          f->kind == CRS_FD_REGULAR || f->kind == CRS_FD_DIRECTORY ? crs_restore_moved_hint(e)
                                                                                    : "");
        if (f->kind == CRS_FD_REGULAR || f->kind == CRS_FD_DIRECTORY)
            crs_restore_outside(r, e);
        errno = e;
        return -1;
    }
    return fd;
}

/* The file status flags fcntl(F_SETFL) sets (O_ASYNC, O_NONBLOCK, O_APPEND,
 * O_DIRECT, O_NOATIME), as the descriptor had them: open(2) ignores
 * O_ASYNC, and a file made again (a pipe, a socket, a kernel object) has
 * none. Its owner and signal follow once the threads are back
 * (restore_fdowners.c), so O_ASYNC signals nobody meanwhile. 0, or -EIO with
 * the message. */
#define SETFL_FLAGS (O_ASYNC | O_NONBLOCK | O_APPEND | O_DIRECT | O_NOATIME)
static int status_flags(struct crs_restore *r, const struct crs_rec_fd *f, int only)
{
    int want = (int)f->open_flags & only, cur = fcntl(f->fd, F_GETFL);
    if (cur < 0 || (cur & only) == want)
        return 0;
    if (fcntl(f->fd, F_SETFL, (cur & ~only) | want) == 0)
        return 0;
    int e = errno, hints = O_DIRECT | O_NOATIME;
    /* O_DIRECT and O_NOATIME are hints a file here may not take (tmpfs, another owner): the
     * program runs the same without them */
    if ((want & hints) != (cur & hints) &&
        fcntl(f->fd, F_SETFL, (cur & ~(only & ~hints)) | (want & ~hints)) == 0) {
        revive_log_warn("descriptor %d comes back without %s%s, which this file does not take again: %s", f->fd,
                        want & ~cur & O_DIRECT ? "O_DIRECT " : "", want & ~cur & O_NOATIME ? "O_NOATIME" : "",
                        strerror(e));
        return 0;
    }
    crs_restore_error(r, "cannot give descriptor %d its flags 0%o again (fcntl F_SETFL): %s", f->fd,
                      (unsigned)(want & ~cur), strerror(e));
    return -EIO;
}

/* Pipes come back first, holding what they held, each end at our own numbers. */
static int make_pipes(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    r->pipe_fds = calloc(2 * (img->npipes ? img->npipes : 1), sizeof(int));
    if (!r->pipe_fds)
        return -ENOMEM;
    for (size_t k = 0; k < img->npipes; k++) {
        const struct crs_rec_pipe *pp = &img->pipes[k];
        int p[2];
        if (pp->flags & CRS_PIPE_F_FIFO) {
            /* the FIFO by its path, read-write: both ends at once, without
             * waiting for another process (crs_restore_check_fifos found it
             * there, unused) */
            const char *path = crs_restore_path(r, crs_restore_fifo_path(img, k));
            p[0] = open(path, O_RDWR | O_CLOEXEC);
            p[1] = p[0] >= 0 ? dup(p[0]) : -1;
            if (p[1] < 0) {
                crs_restore_error(r, "cannot open the FIFO (named pipe) %s again: %s", path, strerror(errno));
                return -errno;
            }
        } else if (pipe2(p, O_CLOEXEC) != 0) {
            crs_restore_error(r, "cannot recreate a pipe: %s", strerror(errno));
            return -errno;
        }
        fcntl(p[1], F_SETPIPE_SZ, (int)pp->capacity);
        for (int e = 0; e < 2; e++) {
            r->pipe_fds[2 * k + e] = fcntl(p[e], F_DUPFD_CLOEXEC, r->work_fd_min);
            close(p[e]);
        }
        const unsigned char *d = img->pipedata + pp->data_offset;
        for (uint64_t off = 0; off < pp->data_length;) {
            ssize_t n = write(r->pipe_fds[2 * k + 1], d + off, (size_t)(pp->data_length - off));
            if (n <= 0) {
                crs_restore_error(r, "cannot refill a pipe with its %llu bytes: %s",
                                  (unsigned long long)pp->data_length, strerror(errno));
                return -EIO;
            }
            off += (uint64_t)n;
        }
    }
    return 0;
}

/* A line for cr_restart's own stderr (saved at `to` before the descriptors
 * were restored: by now descriptor 2 may be the program's file), if the log
 * level (REVIVE_VERBOSE) shows lines of `level`. */
static void say_at(int to, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say_at(int to, int level, const char *fmt, ...)
{
    if (to < 0 || revive_log_level() < level)
        return;
    char line[REVIVE_LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "revive: %s: ", REVIVE_LOG_SUBSYS);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t w = write(to, line, len);
    (void)w;
}
#define say_info(to, ...) say_at((to), REVIVE_LOG_INFO, __VA_ARGS__)

static const char *const stream_name[] = { "stdin", "stdout", "stderr" };

/* Which standard stream a copy of one (f->dup_of) takes at this restart. Two or three streams
 * may have been one file at the checkpoint (a terminal), so a copy of any was recorded as a
 * copy of the first; the restart may give them different files. A copy that may write takes
 * standard output, then standard error, then standard input, among the streams that were its
 * file; a read-only one standard input first (review MEDIUM-1b: a dup(1) of a terminal came
 * back a copy of standard input). Only streams open now and below the copy's number.
 * The choice is a guess when those streams are different files now: an O_RDWR dup(0) of a
 * login shell's terminal (saved_in = dup(0)) looks the same as a dup(1) and becomes a copy of
 * standard output (review MEDIUM-F). Nothing the kernel shows tells them apart (one open file,
 * one offset, one set of flags); `*was` gets the streams that were the copy's file (a bit per
 * stream) so the caller can say so. */
static int stream_of_copy(const struct crs_image *img, const struct crs_rec_fd *f, unsigned *was_mask)
{
    const struct crs_rec_fd *s[3] = { NULL, NULL, NULL };
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].fd >= 0 && img->fds[i].fd <= 2)
            s[img->fds[i].fd] = &img->fds[i];
    const struct crs_rec_fd *was = s[f->dup_of];
    static const int writer[] = { 1, 2, 0 }, reader[] = { 0, 1, 2 };
    const int *order = (f->open_flags & O_ACCMODE) == O_RDONLY ? reader : writer;
    int chosen = -1;
    *was_mask = 0;
    for (int k = 0; was && k < 3; k++) {
        const struct crs_rec_fd *b = s[order[k]];
        if (b && b->kind == CRS_FD_INHERIT && b->dev == was->dev && b->ino == was->ino &&
            (b->mode & S_IFMT) == (was->mode & S_IFMT) && b->fd < f->fd && fcntl(b->fd, F_GETFD) >= 0) {
            *was_mask |= 1u << b->fd;
            if (chosen < 0)
                chosen = b->fd;
        }
    }
    return chosen >= 0 ? chosen : f->dup_of;
}

/* Whether the streams in `mask` are one open file at this restart (kcmp; else one inode):
 * then a copy of any is a copy of all, and the choice above cannot be wrong. */
static int streams_one_file(unsigned mask)
{
    int first = -1;
    struct stat a, b;
    for (int k = 0; k < 3; k++) {
        if (!(mask & (1u << k)))
            continue;
        if (first < 0) {
            first = k;
            continue;
        }
        long same = syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, first, k);
        if (same == 0)
            continue;
        /* kcmp refused (no permission): one inode opened with one access is as good */
        if (same > 0 || fstat(first, &a) != 0 || fstat(k, &b) != 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino || (fcntl(first, F_GETFL) & O_ACCMODE) != (fcntl(k, F_GETFL) & O_ACCMODE))
            return 0;
    }
    return 1;
}

/* "stdin/stdout" for the streams in `mask` */
static void stream_names(unsigned mask, char *buf, size_t len)
{
    buf[0] = 0;
    for (int k = 0; k < 3; k++)
        if (mask & (1u << k))
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "/" : "", stream_name[k]);
}

/* A descriptor the process inherited from its launcher, of a kind that
 * cannot be reopened (a pipe to a shell, a socket, a terminal): cr_restart's
 * own descriptor of that number stands in for it when it is of the same
 * type and access (the restart's launcher gave it one, as the original's
 * did); else it is closed. What became of it goes to `say` (cr_restart's
 * stderr). */
static void reconnect_inherited(struct crs_restore *r, const struct crs_rec_fd *f, int say)
{
    const char *what = crs_image_str(r->img, f->path);
    unsigned was = 0;
    int std = f->dup_of >= 0 && f->dup_of <= 2 ? stream_of_copy(r->img, f, &was) : -1;
    if (std >= 0 && std < f->fd && fcntl(std, F_GETFD) >= 0 && dup2(std, f->fd) == f->fd) {
        /* the file of a standard stream (capture_fds.c, stream_copies): this restart's stream */
        fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
        char names[32];
        stream_names(was ? was : 1u << std, names, sizeof names);
        if ((was & (was - 1)) && !streams_one_file(was))
            /* one file then, different files now: which stream it copied is unknowable */
            say_at(say, REVIVE_LOG_WARN,
                   "warning: descriptor %d, a copy of %s, the one file that was %s when checkpointed, is now "
                   "a copy of %s (restart with one file on %s, e.g. a terminal, to keep such copies exact)",
                   f->fd, what, names, stream_name[std], names);
        else
            say_info(say, "descriptor %d (%s when checkpointed), a copy of %s, is the restarted process's "
                          "descriptor %d again", f->fd, what, stream_name[std], std);
        return;
    }
    struct stat st;
    int fl = fcntl(f->fd, F_GETFL);
    if (fl >= 0 && fstat(f->fd, &st) == 0 && (st.st_mode & S_IFMT) == (f->mode & S_IFMT) &&
        (fl & O_ACCMODE) == (int)(f->open_flags & O_ACCMODE)) {
        fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
        say_info(say, "descriptor %d (%s when checkpointed), inherited from the process's launcher, is "
                      "cr_restart's own descriptor %d", f->fd, what, f->fd);
        return;
    }
    if (fl >= 0)
        close(f->fd);
    say_info(say, "descriptor %d (%s when checkpointed), inherited from the process's launcher, is closed in "
                  "the restarted process: cr_restart has no descriptor %d of that kind", f->fd, what, f->fd);
}

static int placed(const struct crs_restore *r, int fd)
{
    for (int k = 0; k < r->nplaced_fds; k++)
        if (r->placed_fds[k] == fd)
            return 1;
    return 0;
}

static int restore_fds(struct crs_restore *r, int say);

int crs_restore_fds(struct crs_restore *r)
{
    /* cr_restart's stderr, while descriptor 2 is still it */
    int say = revive_log_level() >= REVIVE_LOG_WARN ? fcntl(2, F_DUPFD_CLOEXEC, r->work_fd_min) : -1;
    int e = restore_fds(r, say);
    if (say >= 0)
        close(say);
    return e;
}

static int restore_fds(struct crs_restore *r, int say)
{
    const struct crs_image *img = r->img;
    int pe = make_pipes(r);
    if (pe)
        return pe;
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (f->fd < 0 || f->fd >= r->work_fd_min) {
            crs_restore_error(r, "descriptor %d in the image is out of range", f->fd);
            return -EINVAL;
        }
        if (placed(r, f->fd)) {
            /* shared with another process of the tree: the caller made it once */
            fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
            continue;
        }
        if (f->kind == CRS_FD_INHERIT) {
            if (fcntl(f->fd, F_GETFD) < 0) {
                int nul = open("/dev/null", O_RDWR);
                if (nul >= 0 && nul != f->fd) {
                    dup2(nul, f->fd);
                    close(nul);
                }
            }
            /* cr_restart's own stream: only signal-driven I/O the program asked for (a
             * terminal's SIGIO), nothing taken from it */
            if ((f->open_flags & O_ASYNC) && status_flags(r, f, O_ASYNC))
                return -EIO;
            continue;
        }
        if (f->kind == CRS_FD_CLOSED)
            continue;
        if (f->kind == CRS_FD_PIDFD) {
            /* held by a stand-in until crs_restore_pidfds, once the tree is
             * back, puts the pidfd over it (nothing opened meanwhile takes
             * the number) */
            int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (nul >= 0 && nul != f->fd) {
                dup2(nul, f->fd);
                close(nul);
            }
            continue;
        }
        if (f->kind == CRS_FD_INHERITED) {
            reconnect_inherited(r, f, say);
            continue;
        }
        if (f->dup_of >= 0 && f->dup_of < f->fd) {
            /* shares its open file with a lower descriptor, restored already */
            if (dup2(f->dup_of, f->fd) < 0) {
                crs_restore_error(r, "cannot share descriptor %d with %d: %s", f->fd, f->dup_of, strerror(errno));
                return -EIO;
            }
            fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
            continue;
        }
        int fd = open_record(r, f);
        if (fd < 0)
            return -EIO;
        if (fd != f->fd) {
            if (dup2(fd, f->fd) < 0) {
                crs_restore_error(r, "cannot place descriptor %d: %s", f->fd, strerror(errno));
                close(fd);
                return -EIO;
            }
            close(fd);
        }
        if (f->offset >= 0 && (S_ISREG(f->mode) || f->kind == CRS_FD_MEMFD))
            lseek(f->fd, f->offset, SEEK_SET);
        /* A directory read part-way (readdir, getdents64) goes on where it
         * was: its offset is the file system's cookie of the next entry
         * (ext4, tmpfs...), valid in a new open of the same directory.
         * Checked: a scan restarted from its start would give entries
         * twice and miss others, with no error. */
        if (f->offset > 0 && S_ISDIR(f->mode)) {
            off_t got = lseek(f->fd, f->offset, SEEK_SET);
            if (got != f->offset) {
                crs_restore_error(r, "cannot seek directory descriptor %d back to where it was read "
                                  "(offset %lld): %s", f->fd, (long long)f->offset,
                                  got < 0 ? strerror(errno) : "the file system put it elsewhere");
                return -EIO;
            }
        }
        fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
        if (status_flags(r, f, SETFL_FLAGS))
            return -EIO;
    }
    /* Close everything else below our own range: the process had no such
     * descriptor. (Both lists ascend.) */
    size_t i = 0;
    for (int fd = 0; fd < r->work_fd_min; fd++) {
        while (i < img->nfds && img->fds[i].fd < fd)
            i++;
        int keep = i < img->nfds && img->fds[i].fd == fd && img->fds[i].kind != CRS_FD_CLOSED;
        for (int k = 0; k < r->nkeep_fds && !keep; k++)
            keep = r->keep_fds[k] == fd;
        keep |= placed(r, fd);
        if (!keep)
            close(fd);
    }
    /* The objects' own descriptors have served (mappings, reopening): closed
     * now, before any lock is taken again. */
    for (size_t k = 0; k < img->nmemfds; k++)
        if (r->memfd_fds[k] >= r->work_fd_min)
            close(r->memfd_fds[k]), r->memfd_fds[k] = -1;
    for (size_t k = 0; k < img->nfobjs; k++)
        if (r->fobj_fds[k] >= r->work_fd_min)
            close(r->fobj_fds[k]), r->fobj_fds[k] = -1;
    for (size_t k = 0; k < 2 * img->npipes; k++)
        if (r->pipe_fds[k] >= r->work_fd_min)
            close(r->pipe_fds[k]), r->pipe_fds[k] = -1;
    for (size_t k = 0; k < img->nsockets; k++)
        if (r->sock_fds[k] >= r->work_fd_min)
            close(r->sock_fds[k]), r->sock_fds[k] = -1;
    return 0;
}

/* The locks the process held, taken again on its restored descriptors: after
 * every descriptor is in place and nothing of the restarter's that could
 * share a locked file is open any more (closing any descriptor of a file
 * releases the process's fcntl locks on it: the restarter's own descriptors
 * of such a file, which the switch would close after, go first,
 * restore_lock_aside.c). Another holder fails the restart, naming the file. */
int crs_restore_locks(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    (void)crs_restore_lock_aside(r);   /* (out of memory: the restarter's copies close later) */
    for (size_t i = 0; i < img->nlocks; i++) {
        const struct crs_rec_lock *l = &img->locks[i];
        int rc;
        if (l->kind == CRS_LOCK_FLOCK) {
            rc = flock(l->fd, (l->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
        } else {
            struct flock fl = { .l_type = (short)l->type, .l_whence = SEEK_SET, .l_start = l->start,
                                .l_len = l->len };
            rc = fcntl(l->fd, l->kind == CRS_LOCK_OFD ? F_OFD_SETLK : F_SETLK, &fl);
        }
        if (rc == 0)
            continue;
        int e = errno;
        const char *path = "?";
        for (size_t k = 0; k < img->nfds; k++)
            if (img->fds[k].fd == l->fd)
                path = crs_image_str(img, img->fds[k].path);
        char range[64] = "";
        if (l->kind != CRS_LOCK_FLOCK) {
            if (l->len)
                snprintf(range, sizeof range, " (bytes %lld-%lld)", (long long)l->start,
                         (long long)(l->start + l->len - 1));
            else
                snprintf(range, sizeof range, " (bytes %lld to the end)", (long long)l->start);
        }
        const char *kind = l->kind == CRS_LOCK_POSIX ? "fcntl" : l->kind == CRS_LOCK_OFD ? "open file" : "flock";
        const char *type = l->type == F_WRLCK ? "write" : "read";
        if (e == EAGAIN || e == EACCES || e == EWOULDBLOCK) {
            pid_t who = crs_restore_lock_holder(r, l->fd);
            char whom[300] = "another process";
            if (who > 0)
                crs_restore_describe_holder(r, who, whom, sizeof whom);
            else if (l->kind == CRS_LOCK_OFD)
                snprintf(whom, sizeof whom, "an open file description (OFD lock) of another process");
            crs_restore_error(r, "cannot take the %s %s lock on %s%s again: %s holds a conflicting lock; "
                              "restart once it has let go", kind, type, path, range, whom);
        } else {
            crs_restore_error(r, "cannot take the %s %s lock on %s%s again: %s", kind, type, path, range,
                              strerror(e));
        }
        return -EAGAIN;
    }
    return 0;
}

int crs_restore_process_state(struct crs_restore *r)
{
    const struct crs_rec_process *p = r->img->process;
    const char *cwd = crs_restore_path(r, crs_image_str(r->img, p->cwd));
    if (chdir(cwd) != 0) {
        int e = errno;
        crs_restore_error(r, "cannot return to the working directory %s: %s%s", cwd, strerror(e),
                          crs_restore_moved_hint(e));
        crs_restore_outside(r, e);
        return -e;
    }
    umask((mode_t)p->umask);
    if (p->flags & CRS_PROC_F_THP_DISABLE)
        prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if ((p->flags & CRS_PROC_F_SUBREAPER) && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        crs_restore_error(r, "cannot make the process a child subreaper again (prctl): %s", strerror(errno));
        return -errno;
    }
    for (int i = 0; i < 3; i++) {
        struct itimerval it = {
            { p->itimers[i].interval_us / 1000000, p->itimers[i].interval_us % 1000000 },
            { p->itimers[i].value_us / 1000000, p->itimers[i].value_us % 1000000 },
        };
        /* A periodic ITIMER_REAL whose SIGALRM was pending at the checkpoint reads 0 left: the
         * kernel arms it again only when that SIGALRM is taken (dequeue_signal), and only while
         * its interval is set, which setitimer with 0 left clears. It was lost at every such
         * restart, a program waiting for ticks hung (newuser10 F4). Armed for one interval
         * instead: the SIGALRM comes back with the pending signals (restore_switch.c), the
         * ticks go on. (Without SIGALRM pending, 0 left is a timer the kernel stopped: kept so.) */
        if (i == ITIMER_REAL && !it.it_value.tv_sec && !it.it_value.tv_usec &&
            (it.it_interval.tv_sec || it.it_interval.tv_usec) && ((p->shared_pending >> (SIGALRM - 1)) & 1))
            it.it_value = it.it_interval;
        if (it.it_value.tv_sec || it.it_value.tv_usec)
            setitimer(i, &it, NULL);
    }
    return 0;
}

struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
};

int crs_restore_signals(struct crs_restore *r)
{
    /* Everything stays blocked until each thread returns to its own mask. */
    uint64_t all = ~0ull;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    for (size_t i = 0; i < r->img->nsigactions && i < 64; i++) {
        int sig = (int)i + 1;
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        const struct crs_rec_sigaction *s = &r->img->sigactions[i];
        struct kernel_sigaction ka = { s->handler, s->flags, s->restorer, s->mask };
        syscall(SYS_rt_sigaction, sig, &ka, NULL, 8);
    }
    /* Limits last: a low RLIMIT_AS or RLIMIT_NOFILE would have stopped us
     * from setting everything else up. */
    const struct crs_rec_process *p = r->img->process;
    for (int i = 0; i < CRS_RLIMIT_COUNT && i < RLIM_NLIMITS; i++) {
        struct rlimit rl = { p->rlimits[i].cur, p->rlimits[i].max };
        /* 0/0: not read at the checkpoint, except where a program sets it
         * (no core files, no real-time priority, no locked memory) */
        if (rl.rlim_cur == 0 && rl.rlim_max == 0 && i != RLIMIT_CORE && i != RLIMIT_NICE && i != RLIMIT_RTPRIO &&
            i != RLIMIT_MEMLOCK && i != RLIMIT_MSGQUEUE)
            continue;
        prlimit(0, i, &rl, NULL);
    }
    return 0;
}

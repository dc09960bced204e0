/* A process tree's restart (cr_restart_tree.c): the open files and shared memory its members
 * share, each made once by the restarter at a high number of its own (tree_high), before the
 * members exist, so that every member inherits it and puts it at its numbers: pipes refilled
 * with what they held, files reopened at their offsets, deleted files made again, socket pairs,
 * FIFOs, the objects and kernel objects whose state one member's image holds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/text.h"
#include "crs/base/tree.h"
#include "cr_restart.h"
#include "cr_restart_tree.h"

/* A file deleted while open that members shared: made again unnamed
 * (O_TMPFILE) in its folder, else in $TMPDIR or /tmp, else in memory, with
 * its bytes, opened as it was (access, append) at its offset. */
static int deleted_file(struct tree_restart *tr, const struct crs_tree_group *x)
{
    char dir[4096], moved[4096];
    /* its folder moved (--relocate): made there */
    snprintf(dir, sizeof dir, "%s",
             crs_relocated(tr->relocate, tr->nrelocate, tr->t.strings + x->path, moved, sizeof moved));
    size_t len = strlen(dir);
    if (len > 10 && !strcmp(dir + len - 10, " (deleted)"))
        dir[len - 10] = 0;
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    const char *tmp = getenv("TMPDIR");
    const char *dirs[] = { slash ? dir : NULL, tmp && *tmp ? tmp : NULL, "/tmp" };
    int fd = -1;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && fd < 0; i++)
        if (dirs[i])
            fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = memfd_create("revive-deleted", MFD_CLOEXEC);
    fd = tree_high(tr, fd);
    if (fd < 0) {
        fprintf(stderr, "cr_restart: %s: cannot make again %s, which processes of the tree shared: %s\n", tr->path,
                tr->t.strings + x->path, strerror(errno));
        return -1;
    }
    const unsigned char *d = tr->t.data + x->data_offset;
    for (uint64_t off = 0; off < x->data_length;) {
        ssize_t n = pwrite(fd, d + off, (size_t)(x->data_length - off), (off_t)off);
        if (n <= 0) {
            fprintf(stderr, "cr_restart: %s: cannot write the %llu bytes of %s: %s\n", tr->path,
                    (unsigned long long)x->data_length, tr->t.strings + x->path, n < 0 ? strerror(errno) : "short write");
            close(fd);
            return -1;
        }
        off += (uint64_t)n;
    }
    int want = (int)x->open_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC);
    if (want != O_RDWR) {   /* its own access: a new open file of it */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        int again = tree_high(tr, open(self, want | O_CLOEXEC));
        if (again < 0) {
            fprintf(stderr, "cr_restart: %s: cannot reopen %s: %s\n", tr->path, tr->t.strings + x->path,
                    strerror(errno));
            close(fd);
            return -1;
        }
        close(fd);
        fd = again;
    }
    if (x->offset > 0)
        lseek(fd, x->offset, SEEK_SET);
    return fd;
}

/* The files and shared memory members share whose bytes one member's image
 * holds (OBJECT groups: semaphores, shared values, mapped scratch files;
 * SHMEM groups: memfds, shared anonymous memory): each made once
 * from that image, here, and handed to every member's restart, which maps
 * and opens it instead of a copy of its own. */
static int make_objects(struct tree_restart *tr)
{
    uint32_t ng = tr->t.hdr.ngroups;
    tr->files = calloc(ng + 1, sizeof *tr->files);
    if (!tr->files) {
        fprintf(stderr, "cr_restart: out of memory\n");
        return -1;
    }
    for (uint32_t g = 0; g < ng; g++) {
        const struct crs_tree_group *x = &tr->t.groups[g];
        if (x->kind != CRS_TREE_G_OBJECT && x->kind != CRS_TREE_G_SHMEM)
            continue;
        char err[REVIVE_TEXT_PATHS(2)];
        int fd = tr->crs->restart_make_file ? tr->crs->restart_make_file(&tr->ri[x->owner], x->dev, x->pipe_id, err,
                                                                          sizeof err)
                                            : (snprintf(err, sizeof err, "the %s component cannot make files "
                                                        "for a tree", tr->crs->name), -ENOTSUP);
        if (fd < 0) {
            fprintf(stderr, "cr_restart: %s (shared by processes of the tree)\n", err);
            return -1;
        }
        if ((fd = tree_high(tr, fd)) < 0) {
            fprintf(stderr, "cr_restart: %s: %s\n", tr->path, strerror(errno));
            return -1;
        }
        tr->gfd[g] = fd;
        tr->files[tr->nfiles++] = (struct crs_restart_file){ x->dev, x->pipe_id, fd, x->kind == CRS_TREE_G_SHMEM };
    }
    for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
        if (tr->t.members[i].kind == CRS_TREE_PROCESS) {
            tr->ri[i].shared_files = tr->files;
            tr->ri[i].nshared_files = tr->nfiles;
        }
    return 0;
}

/* A DELETED group whose file is an OBJECT or SHMEM group's: that file opened anew
 * with the group's access, at its offset. */
static int deleted_object(struct tree_restart *tr, const struct crs_tree_group *x)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", tr->gfd[x->object - 1]);
    int want = (int)x->open_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_SYNC | O_DSYNC);
    int fd = tree_high(tr, open(self, want | O_CLOEXEC));
    if (fd < 0) {
        fprintf(stderr, "cr_restart: %s: cannot reopen %s, which processes of the tree shared: %s\n", tr->path,
                tr->t.strings + x->path, strerror(errno));
        return -1;
    }
    if (x->offset > 0)
        lseek(fd, x->offset, SEEK_SET);
    return fd;
}

/* Sends the queue group x's end had to read (a stream's bytes, or each
 * message after its length) from the other end `from`. 0, or -1 with the
 * message printed. */
static int refill_socket(struct tree_restart *tr, const struct crs_tree_group *x, int from)
{
    const unsigned char *d = tr->t.data + x->data_offset;
    uint64_t end = x->data_length;
    int stream = x->sock_type == SOCK_STREAM;
    /* room for all of it in the sender's buffer (as root past wmem_max) */
    int want = end > (1u << 30) ? 1 << 30 : (int)end * 2 + 65536;
    if (end && setsockopt(from, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
        setsockopt(from, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    for (uint64_t off = 0; off < end;) {
        uint32_t len = (uint32_t)(end - off);
        if (!stream) {
            if (end - off < 4)
                break;
            memcpy(&len, d + off, 4);
            off += 4;
            if (len > end - off)
                break;
        }
        ssize_t n = send(from, d + off, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 || (!stream && (uint32_t)n != len)) {
            fprintf(stderr, "cr_restart: %s: cannot give a socket pair between processes of the tree back the "
                            "%llu bytes it held: %s\n", tr->path, (unsigned long long)end,
                    n < 0 ? strerror(errno) : "short send");
            return -1;
        }
        off += (uint64_t)n;
    }
    return 0;
}

/* A socket pair members shared: both ends at once, each refilled. */
static int make_socket_pair(struct tree_restart *tr, uint32_t g)
{
    const struct crs_tree_group *x = &tr->t.groups[g];
    uint32_t h = 0;
    while (h < tr->t.hdr.ngroups && !(h != g && tr->t.groups[h].kind == CRS_TREE_G_SOCK &&
                                      tr->t.groups[h].pipe_id == x->pipe_id))
        h++;
    int sv[2];
    if (h == tr->t.hdr.ngroups || socketpair(AF_UNIX, (int)x->sock_type | SOCK_CLOEXEC, 0, sv) != 0) {
        fprintf(stderr, "cr_restart: %s: cannot make again a socket pair between processes of the tree: %s\n",
                tr->path, h == tr->t.hdr.ngroups ? "its other end is missing" : strerror(errno));
        return -1;
    }
    int mine = x->offset == 0 ? 0 : 1;
    tr->gfd[g] = tree_high(tr, sv[mine]);
    tr->gfd[h] = tree_high(tr, sv[1 - mine]);
    if (tr->gfd[g] < 0 || tr->gfd[h] < 0) {
        fprintf(stderr, "cr_restart: %s: %s\n", tr->path, strerror(errno));
        return -1;
    }
    if (refill_socket(tr, x, tr->gfd[h]) || refill_socket(tr, &tr->t.groups[h], tr->gfd[g]))
        return -1;
    fcntl(tr->gfd[g], F_SETFL, (int)x->open_flags & O_NONBLOCK);
    fcntl(tr->gfd[h], F_SETFL, (int)tr->t.groups[h].open_flags & O_NONBLOCK);
    return 0;
}

/* The open files of the FIFO whose first group is g that are waiting
 * readers (CRS_TREE_FIFO_WAITING) or not, each opened through our
 * descriptor on it with its access, then given its O_NONBLOCK. 0, or -1
 * with the message printed. */
static int fifo_files(struct tree_restart *tr, uint32_t g, int on, int waiting, const char *p)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", on);
    for (uint32_t h = g; h < tr->t.hdr.ngroups; h++) {
        const struct crs_tree_group *y = &tr->t.groups[h];
        if (y->kind != CRS_TREE_G_FIFO || y->offset != (int64_t)g ||
            !(y->open_flags & CRS_TREE_FIFO_WAITING) != !waiting)
            continue;
        int fd = tree_high(tr, open(self, ((int)y->open_flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC));
        if (fd < 0) {
            fprintf(stderr, "cr_restart: %s: cannot open the FIFO (named pipe) %s again: %s\n", tr->path, p,
                    strerror(errno));
            return -1;
        }
        fcntl(fd, F_SETFL, (int)y->open_flags & O_NONBLOCK);
        tr->gfd[h] = fd;
    }
    return 0;
}

/* A FIFO members shared (CRS_TREE_G_FIFO, issue 10): opened once at its
 * path, read-write (both ends at once, without waiting for another
 * process), its bytes written back, and each of its groups' open files
 * opened on it with that group's access. Refused, naming the FIFO, when it
 * is missing, no FIFO, or open in a process (the original tree, still
 * running: it would share the FIFO and get the bytes). g is its first
 * group. 0, or -1 with the message printed. */
static int make_fifo(struct tree_restart *tr, uint32_t g)
{
    const struct crs_tree_group *x = &tr->t.groups[g];
    char moved[4096];
    const char *saved = tr->t.strings + x->path;
    const char *p = crs_relocated(tr->relocate, tr->nrelocate, saved, moved, sizeof moved);
    struct stat st;
    int missing = lstat(p, &st) != 0 ? errno : 0;
    if (missing || !S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "cr_restart: %s: the FIFO (named pipe) %s, which processes of the tree shared, %s%s; put "
                        "it back (mkfifo %s) and restart: the tree's file holds the bytes it held%s\n", tr->path, p,
                missing ? "is missing: " : "is no FIFO now", missing ? strerror(missing) : "", p,
                missing == ENOENT ? "; if it moved, restart with --relocate OLD=NEW" : "");
        return -1;
    }
    pid_t holder = revive_proc_find_holder(p, getpid(), NULL);
    if (holder > 0) {
        fprintf(stderr, "cr_restart: %s: the FIFO (named pipe) %s, which processes of the tree shared, is open in "
                        "process %d: the restarted processes would share it and its bytes with it; end that "
                        "process first (the original tree?), then restart: the file is fine\n", tr->path, p,
                (int)holder);
        return -1;
    }
    int anchor = tree_high(tr, open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (anchor < 0) {
        fprintf(stderr, "cr_restart: %s: cannot open the FIFO (named pipe) %s again: %s\n", tr->path, p,
                strerror(errno));
        return -1;
    }
    if (x->pipe_capacity)
        fcntl(anchor, F_SETPIPE_SZ, (int)x->pipe_capacity);
    const unsigned char *d = tr->t.data + x->data_offset;
    for (uint64_t off = 0; off < x->data_length;) {
        ssize_t n = write(anchor, d + off, (size_t)(x->data_length - off));
        if (n <= 0) {
            fprintf(stderr, "cr_restart: %s: cannot give the FIFO %s back the %llu bytes it held: %s\n", tr->path, p,
                    (unsigned long long)x->data_length, n < 0 ? strerror(errno) : "short write");
            close(anchor);
            return -1;
        }
        off += (uint64_t)n;
    }
    /* Each open file of it. A reader opened beside a writer (the anchor)
     * reports hang-up for good once the last writer is gone (fs/pipe.c:
     * only a reader opened O_NONBLOCK with no writer there takes the
     * writers' count as seen), as the original did when its writer came
     * and went. A reader no writer had reached (CRS_TREE_FIFO_WAITING: a
     * server waiting for its first client) is opened once the anchor is
     * closed, so that it sees no hang-up until a writer comes and goes
     * (review diffrev22 HIGH: else a polling server spins); a reader of
     * ours (`keep`) holds the FIFO and its bytes meanwhile. */
    int waiting = 0, keep = -1;
    for (uint32_t h = g; h < tr->t.hdr.ngroups; h++)
        waiting |= tr->t.groups[h].kind == CRS_TREE_G_FIFO && tr->t.groups[h].offset == (int64_t)g &&
                   (tr->t.groups[h].open_flags & CRS_TREE_FIFO_WAITING);
    int e = fifo_files(tr, g, anchor, 0, p);
    if (!e && waiting) {
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", anchor);
        keep = tree_high(tr, open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (keep < 0) {
            fprintf(stderr, "cr_restart: %s: cannot open the FIFO (named pipe) %s again: %s\n", tr->path, p,
                    strerror(errno));
            e = -1;
        }
    }
    close(anchor);
    if (keep >= 0) {
        e = fifo_files(tr, g, keep, 1, p);
        close(keep);
    }
    return e;
}

int tree_make_groups(struct tree_restart *tr)
{
    uint32_t ng = tr->t.hdr.ngroups;
    tr->gfd = calloc(ng + 1, sizeof *tr->gfd);
    if (!tr->gfd)
        return -1;
    for (uint32_t g = 0; g < ng; g++)
        tr->gfd[g] = -1;
    if (make_objects(tr))
        return -1;
    /* System V sets and queues members share (their images name them) */
    char err[REVIVE_TEXT_PATHS(2)];
    if (tr->crs->restart_share && tr->crs->restart_share(tr->ri, tr->t.hdr.nmembers, err, sizeof err)) {
        fprintf(stderr, "cr_restart: %s (shared by processes of the tree)\n", err);
        return -1;
    }
    for (uint32_t g = 0; g < ng; g++) {
        const struct crs_tree_group *x = &tr->t.groups[g];
        if (tr->gfd[g] >= 0 || x->kind == CRS_TREE_G_OBJECT || x->kind == CRS_TREE_G_SHMEM)
            continue;
        if (x->kind == CRS_TREE_G_FILE) {
            char moved[4096];
            const char *p = crs_relocated(tr->relocate, tr->nrelocate, tr->t.strings + x->path, moved, sizeof moved);
            int flags = (int)x->open_flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
            int fd = tree_high(tr, open(p, flags));
            if (fd < 0) {
                fprintf(stderr, "cr_restart: %s: cannot reopen %s, which processes of the tree shared: %s%s\n",
                        tr->path, p, strerror(errno),
                        errno == ENOENT ? "; if it moved, restart with --relocate OLD=NEW" : "");
                return -1;
            }
            if (x->offset > 0)
                lseek(fd, x->offset, SEEK_SET);
            tr->gfd[g] = fd;
            continue;
        }
        if (x->kind == CRS_TREE_G_DELETED) {
            if ((tr->gfd[g] = x->object ? deleted_object(tr, x) : deleted_file(tr, x)) < 0)
                return -1;
            continue;
        }
        if (x->kind == CRS_TREE_G_SOCK) {
            if (make_socket_pair(tr, g))
                return -1;
            continue;
        }
        if (x->kind == CRS_TREE_G_FIFO) {
            if (make_fifo(tr, (uint32_t)x->offset))   /* its first group: the table's check */
                return -1;
            continue;
        }
        if (x->kind == CRS_TREE_G_KOBJ) {
            /* an eventfd, timerfd, signalfd, epoll or inotify members shared: made
             * once from the image that records it (an epoll empty: its
             * owner's restart adds the watches) */
            int fd = tr->crs->restart_make_kobj
                         ? tr->crs->restart_make_kobj(&tr->ri[x->owner], (int)x->offset, err, sizeof err)
                         : (snprintf(err, sizeof err, "the %s component cannot make kernel objects for a tree",
                                     tr->crs->name), -ENOTSUP);
            if (fd < 0) {
                fprintf(stderr, "cr_restart: %s (%s, shared by processes of the tree)\n", err,
                        tr->t.strings + x->path);
                return -1;
            }
            if ((tr->gfd[g] = tree_high(tr, fd)) < 0) {
                fprintf(stderr, "cr_restart: %s: %s\n", tr->path, strerror(errno));
                return -1;
            }
            continue;
        }
        /* a pipe: both ends at once (each end's groups: the first gets the
         * pipe's own end, others a new open file of that end) */
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            fprintf(stderr, "cr_restart: %s: cannot recreate a pipe: %s\n", tr->path, strerror(errno));
            return -1;
        }
        p[0] = tree_high(tr, p[0]);
        p[1] = tree_high(tr, p[1]);
        if (p[0] < 0 || p[1] < 0)
            return -1;
        if (x->pipe_capacity)
            fcntl(p[1], F_SETPIPE_SZ, (int)x->pipe_capacity);
        int used[2] = { 0, 0 };
        for (uint32_t h = g; h < ng; h++) {
            const struct crs_tree_group *y = &tr->t.groups[h];
            if ((y->kind != CRS_TREE_G_PIPE_READ && y->kind != CRS_TREE_G_PIPE_WRITE) || y->pipe_id != x->pipe_id)
                continue;
            int end = y->kind == CRS_TREE_G_PIPE_READ ? 0 : 1;
            if (!used[end]) {
                tr->gfd[h] = p[end];
                used[end] = 1;
            } else {
                char self[64];
                snprintf(self, sizeof self, "/proc/self/fd/%d", p[end]);
                tr->gfd[h] = tree_high(tr, open(self, end ? O_WRONLY : O_RDONLY));
            }
            if (tr->gfd[h] >= 0)
                fcntl(tr->gfd[h], F_SETFL, (int)y->open_flags & O_NONBLOCK);
            const unsigned char *d = tr->t.data + y->data_offset;
            for (uint64_t off = 0; end == 0 && off < y->data_length;) {
                ssize_t n = write(p[1], d + off, (size_t)(y->data_length - off));
                if (n <= 0) {
                    fprintf(stderr, "cr_restart: %s: cannot refill a pipe between processes of the tree: %s\n",
                            tr->path, strerror(errno));
                    return -1;
                }
                off += (uint64_t)n;
            }
        }
        for (int e = 0; e < 2; e++)
            if (!used[e])
                close(p[e]);
    }
    return 0;
}

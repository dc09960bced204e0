/* The members' descriptors in a tree's checkpoint (tree_ckpt.c): each
 * parked member's /proc/PID/fd read, the pipes, files, FIFOs and kernel
 * objects noted (sockets: tree_ckpt_sockets.c), /proc entries and pidfds
 * naming processes outside the scope refused, and the open files members
 * share found (kcmp). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/capture_filter.h"
#include "common/fault.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int crs_tree_uf_find(struct tree_ckpt *t, int i)
{
    while (t->fds[i].set != i)
        i = t->fds[i].set = t->fds[t->fds[i].set].set;
    return i;
}

/* Whether the pipe end member s holds at fd has lost its other end
 * everywhere (its writers or its readers are gone: the popen pattern once
 * the child has ended). Asked of the member's own open file (pidfd_getfd):
 * a reader of our own would not tell (a pipe opened anew waits for a new
 * writer before it reports hang-up). 0 when it cannot be told. */
static int pipe_peer_closed(const struct fd_scan *s, long fd, int mode, int fifo, int *unknown, int *waiting)
{
    if (s->pidfd < 0)
        return 0;
    int dup = revive_fault(REVIVE_FAULT_tree_getfd) ? (errno = EPERM, -1)
                                                    : (int)syscall(SYS_pidfd_getfd, s->pidfd, (int)fd, 0);
    if (dup < 0) {
        *unknown = errno;   /* EPERM: no ptrace permission over the member */
        return 0;
    }
    struct pollfd p = { .fd = dup, .events = mode == O_WRONLY ? POLLOUT : POLLIN };
    int r = poll(&p, 1, 0);
    int tmp[2];
    if (fifo && mode == O_RDONLY && !(r > 0 && (p.revents & POLLHUP)) && pipe2(tmp, O_CLOEXEC | O_NONBLOCK) == 0) {
        /* a FIFO no writer has opened yet (a server waiting for its first
         * client): no hang-up is reported, but tee(2) from it, empty and
         * without writers, gives 0 (capture_fds.c, fifo_no_writer); noted
         * as waiting, for the restart to open it as such */
        r = *waiting = tee(dup, tmp[1], 1, SPLICE_F_NONBLOCK) == 0;
        close(tmp[0]);
        close(tmp[1]);
        close(dup);
        return r;
    }
    close(dup);
    if (r <= 0)
        return 0;
    return mode == O_WRONLY ? (p.revents & POLLERR) != 0 : (p.revents & POLLHUP) != 0;
}

/* A member's descriptor on /proc/N (or below): N must be a member, or a
 * thread of one, whose pid the restart gives back; another process's entry
 * would name a stranger or nothing after a restart (CRIU refuses them too).
 * 0, or -ENOTSUP with the message. */
static int check_proc_entry(struct tree_ckpt *t, const struct fd_scan *s, long fd, const char *link)
{
    if (strncmp(link, "/proc/", 6) || link[6] < '1' || link[6] > '9')
        return 0;
    char *end;
    long n = strtol(link + 6, &end, 10);
    if (*end && *end != '/')
        return 0;
    char task[96];
    for (size_t m = 0; m < t->nmembers; m++) {
        const struct proc_info *p = &t->all[t->members[m]];
        if (p->pid == n || p->in_pid == n)
            return 0;
        snprintf(task, sizeof task, "/proc/%d/task/%ld", (int)p->pid, n);
        if (access(task, F_OK) == 0)
            return 0;
    }
    char w[64];
    fail(t, "%s holds descriptor %ld (%s) on the /proc entry of process %ld, which is not in the %s: after a "
            "restart that pid would name another process or none; close it first, or checkpoint a scope that "
            "holds process %ld too", who(t, (size_t)s->member, w, sizeof w), fd, link, n,
         crs_tree_scope_name(t->o->scope), n);
    return -ENOTSUP;
}

/* A member's pidfd (pidfd_open, clone3 CLONE_PIDFD): the process it names
 * must be a member (or a member itself), which the restart gives back under
 * its pid; a pidfd of another process is refused, naming it. fdinfo's Pid
 * line names it as our /proc does (-1: ended and waited for, which the
 * member's own capture refuses). 0, or -ENOTSUP with the message. */
static int check_pidfd(struct tree_ckpt *t, const struct fd_scan *s, long fd, const char *link)
{
    if (strcmp(link, "anon_inode:[pidfd]"))
        return 0;
    char ip[96], info[1024];
    snprintf(ip, sizeof ip, "/proc/%d/fdinfo/%ld", (int)s->pid, fd);
    long il = revive_read_file(ip, info, sizeof info);
    const char *p = il > 0 || il == -ENOSPC ? strstr(info, "\nPid:") : NULL;
    if (!p)
        return 0;   /* closed meanwhile */
    long n = strtol(p + 5, NULL, 10);
    if (n <= 0)
        return 0;   /* the member's capture says why it cannot be kept */
    for (size_t m = 0; m < t->nmembers; m++)
        if (t->all[t->members[m]].pid == n)
            return 0;
    char w[64], comm[64] = "?", cp[64];
    for (size_t m = 0; m < t->nmembers; m++) {
        const struct proc_info *q = &t->all[t->members[m]];
        snprintf(cp, sizeof cp, "/proc/%d/task/%ld", (int)q->pid, n);
        if (access(cp, F_OK) != 0)
            continue;
        if ((int)m == s->member)
            return 0;   /* its own thread: the member's restart opens it once its threads are back */
        fail(t, "%s holds descriptor %ld, a pidfd of thread %ld of process %d '%s' (pidfd_open with PIDFD_THREAD): "
                "Revive restores pidfds of a process's own threads, not of another process's threads other than "
                "its main one; close it first", who(t, (size_t)s->member, w, sizeof w), fd, n, (int)q->pid, q->comm);
        return -ENOTSUP;
    }
    snprintf(cp, sizeof cp, "/proc/%ld/comm", n);
    if (revive_read_file(cp, comm, sizeof comm) > 0)
        comm[strcspn(comm, "\n")] = 0;
    fail(t, "%s holds descriptor %ld, a pidfd of process %ld (%s), which is not in the %s: after a restart it "
            "would name another process or none; close it first, or checkpoint a scope that holds process %ld too",
         who(t, (size_t)s->member, w, sizeof w), fd, n, comm, crs_tree_scope_name(t->o->scope), n);
    return -ENOTSUP;
}

static long note_fd(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct fd_scan *s = arg;
    struct tree_ckpt *t = s->t;
    char path[96], link[4096], info[1024];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)s->pid, n);
    ssize_t ll = readlink(path, link, sizeof link - 1);
    struct stat st;
    if (ll <= 0 || stat(path, &st) != 0)
        return 0;
    link[ll] = 0;
    if (st.st_dev == s->image.st_dev && st.st_ino == s->image.st_ino)
        return 0;   /* the file being written */
    if (t->self && s->member == 0 && (crs_tree_own_fd(t, (int)n) || crs_capture_filter_fd((int)n)))
        return 0;   /* the caller's, not in its image: the requester's connections to the members, libcr's
                     * own descriptors, another layer's (capture filters; crs_tree_checkpoint_self) */
    if (t->self && s->member != 0 && crs_capture_filter_fd((int)n)) {
        /* a child's copy of such a descriptor of the caller's, inherited at the same number (an
         * MPI rank's child: the MPI library's and its launcher's sockets): its image leaves it out
         * too, its filters being the caller's (inherited) */
        char own[64];
        struct stat ost;
        snprintf(own, sizeof own, "/proc/self/fd/%ld", n);
        if (stat(own, &ost) == 0 && ost.st_dev == st.st_dev && ost.st_ino == st.st_ino)
            return 0;
    }
    int pe = check_proc_entry(t, s, n, link);
    if (!pe)
        pe = check_pidfd(t, s, n, link);
    if (pe)
        return pe;
    if (S_ISSOCK(st.st_mode))
        return crs_tree_note_socket(s, n, st.st_ino);
    int pipe = S_ISFIFO(st.st_mode) && !strncmp(link, "pipe:", 5);
    size_t len = strlen(link);
    int file = link[0] == '/' && !(len > 10 && !strcmp(link + len - 10, " (deleted)")) &&
               strncmp(link, "/memfd:", 7) && strncmp(link, "/dev/pts/", 9) && strcmp(link, "/dev/tty") &&
               strcmp(link, "/dev/ptmx") && strncmp(link, "/dev/shm/", 9) && strncmp(link, "/proc/", 6) &&
               (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));   /* devices: nothing to share */
    /* deleted while open (a memfd too): members sharing it get one file
     * made again, or that shared memory opened anew (tree_objects.h) */
    int deleted = link[0] == '/' && S_ISREG(st.st_mode) && len > 10 && !strcmp(link + len - 10, " (deleted)");
    /* kernel objects of a system call: members that hold one open file of
     * it (made before a fork) get one object again, not a copy each */
    int kobj = !strcmp(link, "anon_inode:[eventfd]") || !strcmp(link, "anon_inode:[timerfd]") ||
               !strcmp(link, "anon_inode:[signalfd]") || !strcmp(link, "anon_inode:[eventpoll]") ||
               !strcmp(link, "anon_inode:inotify");
    /* a FIFO (named pipe): members holding its ends get one FIFO again, its
     * bytes once (CRS_TREE_G_FIFO) */
    int fifo = S_ISFIFO(st.st_mode) && link[0] == '/' && !(len > 10 && !strcmp(link + len - 10, " (deleted)"));
    if (!pipe && !file && !deleted && !kobj && !fifo)
        return 0;
    char ip[96];
    snprintf(ip, sizeof ip, "/proc/%d/fdinfo/%ld", (int)s->pid, n);
    long il = revive_read_file(ip, info, sizeof info);
    if (il <= 0 && il != -ENOSPC)
        return 0;
    const char *pp = strstr(info, "pos:"), *fp = strstr(info, "flags:");
    if (!pp || !fp)
        return 0;
    struct fd_entry *fds = grow_array(t->fds, t->nfds, &t->capfds, sizeof *fds, 256);
    if (!fds)
        return -ENOMEM;
    t->fds = fds;
    struct fd_entry *f = &t->fds[t->nfds];
    memset(f, 0, sizeof *f);
    f->member = s->member;
    f->fd = (int)n;
    f->pipe = pipe;
    f->fifo = fifo;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->pos = strtoll(pp + 4, NULL, 10);
    unsigned long fl = strtoul(fp + 6, NULL, 8);
    f->fd_flags = (fl & O_CLOEXEC) ? FD_CLOEXEC : 0;
    f->flags = (uint32_t)(fl & ~(unsigned long)O_CLOEXEC);
    f->mode = (int)(fl & O_ACCMODE);
    f->peer_closed = (pipe || fifo) && pipe_peer_closed(s, n, f->mode, fifo, &f->peer_unknown, &f->fifo_waiting);
    f->fifo_outside = -1;
    f->deleted = deleted;
    f->kobj = kobj;
    f->set = (int)t->nfds;
    f->group = -1;
    f->path = crs_tmem_strdup(link);
    if (!f->path)
        return -ENOMEM;
    t->nfds++;
    return 0;
}

int crs_tree_scan_fds(struct tree_ckpt *t, int image_fd)
{
    struct fd_scan s = { .t = t };
    if (fstat(image_fd, &s.image) != 0)
        return -errno;
    for (size_t m = 0; m < t->nmembers; m++) {
        if (t->conn[m] < 0)
            continue;
        s.member = (int)m;
        s.pid = t->all[t->members[m]].pid;
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/fd", (int)s.pid);
        s.pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
        long e = revive_proc_for_each_number(dir, note_fd, &s);
        if (s.pidfd >= 0)
            close(s.pidfd);
        if (e == -ENOTSUP)
            return (int)e;   /* a /proc entry outside the scope: its message is set */
        if (e < 0) {
            char w[64];
            fail(t, "cannot list the descriptors of %s: %s", who(t, m, w, sizeof w), strerror((int)-e));
            return (int)e;
        }
    }
    /* the same open file description (kcmp): one set */
    for (size_t i = 0; i < t->nfds; i++)
        for (size_t j = 0; j < i; j++) {
            struct fd_entry *a = &t->fds[i], *b = &t->fds[j];
            if (a->dev != b->dev || a->ino != b->ino || crs_tree_uf_find(t, (int)i) == crs_tree_uf_find(t, (int)j))
                continue;
            long r = syscall(SYS_kcmp, t->all[t->members[a->member]].pid, t->all[t->members[b->member]].pid,
                             0 /* KCMP_FILE */, a->fd, b->fd);
            if (r < 0 && a->member != b->member) {
                fail(t, "cannot compare the open files of processes %d and %d (kcmp: %s): the tree's shared "
                        "files cannot be found", (int)t->all[t->members[a->member]].pid,
                     (int)t->all[t->members[b->member]].pid, strerror(errno));
                return -errno;
            }
            if (r == 0)
                t->fds[crs_tree_uf_find(t, (int)i)].set = crs_tree_uf_find(t, (int)j);
        }
    return 0;
}

/* Open file descriptors: what can be put back at restart and how. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/capture_filter.h"
#include "common/exec_fds.h"
#include "common/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>


/* Descriptors open when the process started (libcr's constructor, through
 * crs_inherited_note; not one made since the exec, which a constructor that
 * glibc ran before libcr's may have: common/exec_fds.h) are its launcher's: a pipe to a shell, a job server's
 * pipe, a batch system's socket, a terminal. Those Revive cannot reopen do
 * not block a checkpoint: they are recorded as CRS_FD_INHERITED. A file is
 * known by its device and inode (pipes and sockets have inodes of their
 * own), under any number: a dup2 of an inherited descriptor is inherited
 * too. A descriptor the program opened itself keeps the strict rule. */
#define CRS_INHERITED_MAX 1024

struct inherited { uint64_t dev, ino; };
static struct inherited inherited[CRS_INHERITED_MAX];
static int ninherited, inherited_noted;
/* The descriptors the last capture found inherited (each once; reset by
 * every capture, so that a number that is something else by the next one
 * is not carried on): after a restart, their new files (cr_restart's own,
 * reconnected) are what the process inherited. */
static int matched_fds[CRS_INHERITED_MAX];
static int nmatched;

static long note_one(long n, int dirfd, void *arg)
{
    (void)arg;
    struct stat st;
    if (n == dirfd || ninherited == CRS_INHERITED_MAX || fstat((int)n, &st) != 0)
        return 0;
    /* opened by a library's constructor that ran before libcr's (a program's own library, or
     * one preloaded after libcr): the program's, under the strict rule. It was taken for the
     * launcher's: a pipe or connection to another process was then recorded as inherited, to be
     * reconnected to whatever a restart had under its number (newuser8 F1) */
    if (revive_fd_open_at_exec((int)n, &st) == 0)
        return 0;
    inherited[ninherited++] = (struct inherited){ st.st_dev, st.st_ino };
    return 0;
}

void crs_inherited_note(void)
{
    if (inherited_noted)   /* a forked child keeps its parent's launcher's set */
        return;
    inherited_noted = 1;
    revive_proc_for_each_number("/proc/self/fd", note_one, NULL);
}

static int is_inherited(int fd, const struct stat *st)
{
    for (int i = 0; i < ninherited; i++)
        if (inherited[i].dev == st->st_dev && inherited[i].ino == st->st_ino) {
            int seen = 0;
            for (int k = 0; k < nmatched && !seen; k++)
                seen = matched_fds[k] == fd;
            if (!seen && nmatched < CRS_INHERITED_MAX)
                matched_fds[nmatched++] = fd;
            return 1;
        }
    return 0;
}

static void inherit_now(int fd)
{
    struct stat st;
    if (ninherited < CRS_INHERITED_MAX && fstat(fd, &st) == 0)   /* closed ones are gone */
        inherited[ninherited++] = (struct inherited){ st.st_dev, st.st_ino };
}

/* After a restart the process inherited what cr_restart (or the new
 * launcher, for a rank) gave it: the standard streams, which the image
 * records as CRS_FD_INHERIT and never matches, and the files of the
 * descriptors the capture found inherited, reconnected. Without the
 * streams, a restarted program that dup()s its standard output or opens
 * /dev/stderr had every later checkpoint refused (review 13 M1). */
void crs_inherited_after_restart(void)
{
    ninherited = 0;
    for (int fd = 0; fd <= 2; fd++)
        inherit_now(fd);
    for (int i = 0; i < nmatched; i++)
        if (matched_fds[i] > 2)
            inherit_now(matched_fds[i]);
    nmatched = 0;
}

/* A file of the process's own /proc directory is recorded as /proc/self/...:
 * after a restart it is the restarted process's (its pid may differ). */
static void proc_self_path(char *link, size_t cap)
{
    char own[32];
    int n = snprintf(own, sizeof own, "/proc/%d", (int)revive_proc_self_pid());
    if (n <= 0 || strncmp(link, own, (size_t)n) || (link[n] && link[n] != '/'))
        return;
    size_t rest = strlen(link + n);
    if (11 + rest >= cap)
        return;
    memmove(link + 10, link + n, rest + 1);
    memcpy(link, "/proc/self", 10);
}

/* A descriptor on another process's /proc entry (/proc/N or a file below it,
 * N neither the process nor one of its threads): the number it names is
 * that process's only until it ends, so reopened by path after a restart it
 * would be a stranger's entry or none. Returns N, or 0. A tree's member
 * records it as it is: the requester checks that N is a member, whose pid
 * the tree's restart gives back (tree_ckpt.c). */
static pid_t proc_other_pid(const char *link)
{
    if (strncmp(link, "/proc/", 6) || link[6] < '1' || link[6] > '9')
        return 0;
    char *end;
    long n = strtol(link + 6, &end, 10);
    if ((*end && *end != '/') || n <= 0 || n > INT32_MAX)
        return 0;
    char task[48];
    snprintf(task, sizeof task, "/proc/self/task/%ld", n);
    return access(task, F_OK) == 0 ? 0 : (pid_t)n;
}

/* Whether one mapping of memfd k (captured by content) holds all its bytes. */
static int mapped_whole(const struct crs_capture *c, int32_t k, uint64_t size)
{
    for (size_t i = 0; i < c->nregions; i++) {
        const struct crs_rec_region *g = &c->regions[i];
        if (g->kind == CRS_REGION_SHMEM && g->file == k && g->pgoff == 0 && g->end - g->start >= size)
            return 1;
    }
    return 0;
}

/* A memfd whose bytes its mappings do not hold (written with write(2), or
 * mapped in part): they go into the image like a saved file's, read through
 * this descriptor, and are written into the recreated memfd. (hugetlbfs
 * memfds take no write(2): only their mapped pages come back.) */
static int memfd_bytes(struct crs_capture *c, struct crs_rec_fd *r, const char *link, const struct stat *st)
{
    int k = crs_capture_fobj_index(c, st->st_dev, st->st_ino, link, st->st_mode, (uint64_t)st->st_size);
    if (k < 0) {
        crs_capture_error(c, "too many saved files (at the memfd of descriptor %d)", r->fd);
        return -E2BIG;
    }
    c->fobjs[k].kind = CRS_FOBJ_MEMFD;
    crs_capture_fobj_reader(c, k, r->fd, r->open_flags);
    return 0;
}

/* A POSIX message queue (mq_open) looks like a regular file of the mqueue
 * file system; its messages can only be read by taking them, so it is not
 * restored: refused by name, never saved as a file (its "QSIZE:" text) that
 * the restarted process could not use as a queue. */
#define CRS_MQUEUE_MAGIC 0x19800202
static int mqueue_refusal(struct crs_capture *c, const struct crs_rec_fd *r, const char *link)
{
    struct statfs sf;
    if (fstatfs(r->fd, &sf) != 0 || sf.f_type != CRS_MQUEUE_MAGIC)
        return 0;
    size_t len = strlen(link);
    int gone = len > 10 && !strcmp(link + len - 10, " (deleted)");
    crs_capture_error(c, "file descriptor %d is the POSIX message queue %.*s%s (mq_open): Revive does not "
                      "restore message queues; close it first (mq_close)%s", r->fd, (int)(gone ? len - 10 : len),
                      link, gone ? ", unlinked since" : "", crs_capture_ignore_hint(c));
    return 1;
}

static int is_deleted(const char *link)
{
    size_t len = strlen(link);
    return len > 10 && !strcmp(link + len - 10, " (deleted)");
}

/* A tree member's standard stream that its parent, a member too, put there (a script's
 * `cmd >/dev/null`, `cmd <<EOF`, opened in the child before its exec, which the child's libcr
 * never saw: crs_stream_replaced knows nothing of it): not the parent's own open file at that
 * number (kcmp), so not the launcher's stream handed down the tree. Such a stream came back as
 * cr_restart's: the command's output appeared on cr_restart's stdout, and it read cr_restart's
 * stdin (newuser10 F5 for /dev/null, newuser10b N1 for /dev/zero; any other file alike). 0 when
 * it cannot be told (not a tree, the parent not a member, kcmp refused): the stream is taken as
 * inherited, as before. */
static int stream_from_member_parent(const struct crs_capture *c, int fd)
{
    if (!c->opts.tree || c->opts.ntree_members <= 0)
        return 0;
    pid_t parent = getppid();
    int member = 0;
    for (int k = 0; k < c->opts.ntree_members && !member; k++)
        member = (pid_t)c->opts.tree_members[k] == parent;
    if (!member)
        return 0;
    long r = syscall(SYS_kcmp, getpid(), parent, 0 /* KCMP_FILE */, fd, fd);
    return r > 0 || (r < 0 && errno == EBADF);   /* another open file; the parent has none there */
}

/* A character device with no state of its own that a path opens again as it was: /dev/null and its
 * kin. A standard stream the program itself put on one (a daemon's /dev/null) comes back as it. */
static int stateless_chardev(const char *link)
{
    static const char *const dev[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        if (!strcmp(link, dev[i]))
            return 1;
    return 0;
}

/* A device a restart opens again by its path (CRS_FD_CHARDEV): not a terminal, which is
 * cr_restart's or nobody's. */
static int reopened_chardev(const char *link)
{
    return !strncmp(link, "/dev/", 5) && strncmp(link, "/dev/pts/", 9) && strcmp(link, "/dev/tty") &&
           strcmp(link, "/dev/ptmx");
}

/* A standard stream (0..2) on a device, pipe or socket. The launcher's comes back as cr_restart's
 * own (CRS_FD_INHERIT: a terminal, a pipe, /dev/null). One a member of the tree put there (its
 * parent: stream_from_member_parent) is the program's like any other descriptor, recorded as it
 * is: a device opened again, a pipe with its bytes (pair_pipes), whatever it is (the rule once
 * covered /dev/null and its kin only: a here-document's pipe read cr_restart's stdin after a
 * restart); a socket or a terminal, and a pipe whose other end is held outside the tree, stay
 * cr_restart's, as before. One the program itself put /dev/null (or its kin) on, as a daemon
 * does, is that device again. */
static void classify_stream(struct crs_capture *c, struct crs_rec_fd *r, const char *link, const struct stat *st)
{
    int fd = r->fd;
    r->kind = CRS_FD_INHERIT;
    if (stream_from_member_parent(c, fd)) {
        c->member_stream[fd] = 1;
        if (S_ISCHR(st->st_mode) && reopened_chardev(link))
            r->kind = CRS_FD_CHARDEV;
        else if (S_ISFIFO(st->st_mode) && (!strncmp(link, "pipe:", 5) || (link[0] == '/' && !is_deleted(link))))
            r->kind = CRS_FD_PIPE;   /* kept when pair_pipes can, else CRS_FD_INHERIT again */
        return;
    }
    if (S_ISCHR(st->st_mode) && stateless_chardev(link) && crs_stream_replaced(fd))
        r->kind = CRS_FD_CHARDEV;
}

/* Whether fd is one of the descriptors the go word of the tree's requester
 * lists (crs_ckpt_opts.tree_placed), not counting "every pipe end". */
static int listed_placed(const struct crs_capture *c, int fd)
{
    for (int i = 0; i < c->opts.ntree_placed; i++)
        if (c->opts.tree_placed[i] == fd)
            return 1;
    return 0;
}

static int classify(struct crs_capture *c, struct crs_rec_fd *r, const char *link, const struct stat *st)
{
    int fd = r->fd;
    if (S_ISREG(st->st_mode) && mqueue_refusal(c, r, link))
        return -ENOTSUP;
    if (!strncmp(link, "anon_inode:", 11)) {
        int k = crs_capture_kobj(c, r, link);
        if (k > 0)
            k = crs_capture_pidfd(c, r, link);
        if (k <= 0)
            return k;   /* one of them (0), or a failure with its message */
    }
    if (S_ISREG(st->st_mode)) {
        size_t len = strlen(link);
        if (!strncmp(link, "/memfd:", 7) ||
            (len > 10 && !strcmp(link + len - 10, " (deleted)") && crs_capture_on_hugetlbfs(link, st->st_dev))) {
            /* a memfd, or a deleted hugetlbfs file: shared memory, as their mappings */
            r->kind = CRS_FD_MEMFD;
            r->memfd = crs_capture_memfd_index(c, st->st_ino, link, (uint64_t)st->st_size);
            struct crs_rec_memfd *m = &c->memfds[r->memfd];
            m->size = (uint64_t)st->st_size;
            int seals = fcntl(fd, F_GET_SEALS);
            m->seals = seals > 0 ? (uint32_t)seals : 0;
            m->page_shift = crs_capture_huge_shift(fd);
            if (m->page_shift)   /* hugetlbfs sizes are whole pages */
                m->size = (m->size + (1ull << m->page_shift) - 1) & ~((1ull << m->page_shift) - 1);
            else if (!mapped_whole(c, r->memfd, m->size))
                return memfd_bytes(c, r, link, st);
            return 0;
        }
        if ((len > 10 && !strcmp(link + len - 10, " (deleted)")) || crs_capture_is_shm_path(link)) {
            /* deleted while open, or in /dev/shm: its bytes go into the image */
            int k = crs_capture_fobj_index(c, st->st_dev, st->st_ino, link, st->st_mode, (uint64_t)st->st_size);
            if (k < 0)
                return -1;
            r->kind = CRS_FD_FOBJ;
            r->memfd = k;
            crs_capture_fobj_reader(c, k, fd, r->open_flags);
            return 0;
        }
        r->kind = CRS_FD_REGULAR;
        return 0;
    }
    if (S_ISDIR(st->st_mode)) {
        r->kind = CRS_FD_DIRECTORY;
        return 0;
    }
    if (fd <= 2 && (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))) {
        classify_stream(c, r, link, st);
        return 0;
    }
    if (S_ISSOCK(st->st_mode) && c->opts.tree && c->opts.ntree_placed > 0 && listed_placed(c, fd)) {
        /* one end of a socket pair the tree's members share: the tree's
         * restart makes the pair, with what each end had to read */
        r->kind = CRS_FD_INHERITED;
        return 0;
    }
    if (S_ISSOCK(st->st_mode)) {
        int k = crs_capture_socket_index(c, r);
        if (k < 0) {
            crs_capture_error(c, "the process holds too many sockets");
            return -E2BIG;
        }
        r->kind = CRS_FD_SOCKET;   /* what it is: crs_capture_sockets, once all are known */
        r->memfd = k;
        return 0;
    }
    if (S_ISFIFO(st->st_mode) && !strncmp(link, "pipe:", 5)) {
        r->kind = CRS_FD_PIPE;   /* kept only if the other end is ours too (pair_pipes) */
        return 0;
    }
    if (S_ISFIFO(st->st_mode) && link[0] == '/' && !is_deleted(link)) {
        /* a FIFO (mkfifo): a pipe with a name, reopened by it (pair_pipes) */
        r->kind = CRS_FD_PIPE;
        return 0;
    }
    if (S_ISCHR(st->st_mode) && reopened_chardev(link)) {
        r->kind = CRS_FD_CHARDEV;
        return 0;
    }
    return -1;
}

/* Descriptors made by dup() share one open file (and its offset): the
 * restart must share it again. The kernel tells, through kcmp. */
static void find_shared_files(struct crs_capture *c)
{
    pid_t pid = getpid();
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *a = &c->fds[i];
        if (a->kind == CRS_FD_INHERIT || a->kind == CRS_FD_CLOSED)
            continue;
        for (size_t j = 0; j < i; j++) {
            const struct crs_rec_fd *b = &c->fds[j];
            if (b->dev != a->dev || b->ino != a->ino || b->dup_of >= 0 || b->kind != a->kind)
                continue;
            if (syscall(SYS_kcmp, pid, pid, 0 /* KCMP_FILE */, a->fd, b->fd) == 0) {
                a->dup_of = b->fd;
                break;
            }
        }
    }
}

static long record_fd(long n, int dirfd, void *arg)
{
    struct crs_capture *c = arg;
    int fd = (int)n;
    if (fd == dirfd || crs_capture_filter_fd(fd))
        return 0;
    if (c->nfds == 65536) {
        crs_capture_error(c, "more than %d open file descriptors", 65536);
        return -EMFILE;
    }
    struct crs_rec_fd *r = &c->fds[c->nfds];
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->memfd = -1;
    r->dup_of = -1;
    char path[64], link[4096];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t ll = readlink(path, link, sizeof link - 1);
    link[ll > 0 ? ll : 0] = 0;
    proc_self_path(link, sizeof link);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0; /* closed meanwhile */
    r->open_flags = (uint32_t)fcntl(fd, F_GETFL);
    r->fd_flags = (uint32_t)fcntl(fd, F_GETFD);
    r->offset = lseek(fd, 0, SEEK_CUR);
    r->mode = st.st_mode;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    pid_t other = c->opts.tree ? 0 : proc_other_pid(link);
    if (other && !is_inherited(fd, &st)) {
        if (!c->opts.ignore_fds) {
            crs_capture_error(c, "file descriptor %d (%s) is open on the /proc entry of process %d, which is not "
                              "being checkpointed: after a restart that pid would name another process or none; "
                              "close it first, or checkpoint the tree that holds both (cr_checkpoint --tree)%s",
                              fd, link, (int)other, crs_capture_ignore_hint(c));
            return -ENOTSUP;
        }
        r->kind = CRS_FD_CLOSED;
        c->fd_paths[c->nfds] = crs_capture_strdup(c, link);
        c->nfds++;
        return 0;
    }
    int k = classify(c, r, link, &st);
    if (k < -1 && !c->opts.ignore_fds)
        return k;   /* a kernel object that cannot be captured: its message is set */
    if (k < -1)
        c->err[0] = 0;   /* --ignore-fds: closed at restart instead */
    if (k != 0) {
        if (is_inherited(fd, &st)) {
            r->kind = CRS_FD_INHERITED;
        } else if (!c->opts.ignore_fds && S_ISFIFO(st.st_mode)) {
            /* a FIFO is reopened by its name: without it there is nothing to reopen */
            crs_capture_error(c, "file descriptor %d is the FIFO (named pipe) %s: it was removed since it was "
                              "opened, and Revive restores a FIFO by opening its path again; keep the FIFO in "
                              "place until the checkpoint, or close the descriptor first%s", fd, link,
                              crs_capture_ignore_hint(c));
            return -ENOTSUP;
        } else if (!c->opts.ignore_fds) {
            crs_capture_error(c, "file descriptor %d (%s), opened by the program, cannot be checkpointed: "
                              "Revive restores regular files, directories, devices, memfds, pipes "
                              "within the process and standard streams; close it first%s", fd, link,
                              crs_capture_ignore_hint(c));
            return -ENOTSUP;
        } else {
            r->kind = CRS_FD_CLOSED;
        }
    }
    c->fd_paths[c->nfds] = crs_capture_strdup(c, link);
    c->nfds++;
    return 0;
}

/* Whether the restart of the tree this process is a member of puts fd in
 * place (crs_ckpt_opts.tree_placed). */
static int tree_placed(const struct crs_capture *c, int fd)
{
    if (c->opts.ntree_placed < 0)
        return 1;
    for (int i = 0; i < c->opts.ntree_placed; i++)
        if (c->opts.tree_placed[i] == fd)
            return 1;
    return 0;
}

/* Whether no process holds the other end of the pipe whose end fd is (mode
 * O_RDONLY or O_WRONLY): the kernel reports hang-up to a reader without
 * writers, an error to a writer without readers. */
static int pipe_peer_closed(int fd, int mode)
{
    struct pollfd p = { .fd = fd, .events = mode == O_WRONLY ? POLLOUT : POLLIN };
    if (poll(&p, 1, 0) <= 0)
        return 0;
    return mode == O_WRONLY ? (p.revents & POLLERR) != 0 : (p.revents & POLLHUP) != 0;
}

/* Whether no writer of the FIFO whose reader fd is is open anywhere: a
 * server that opened its FIFO O_RDONLY|O_NONBLOCK waiting for its first
 * client (review MEDIUM-B). The kernel reports hang-up only once a writer
 * has come and gone, so poll does not tell; tee(2) does, taking nothing: from
 * an empty pipe without writers it gives 0 (end of file), with a writer
 * EAGAIN. A FIFO holding bytes is not asked (some writer wrote them). */
static int fifo_no_writer(int fd)
{
    int tmp[2];
    if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) != 0)
        return 0;
    ssize_t n = tee(fd, tmp[1], 1, SPLICE_F_NONBLOCK);
    close(tmp[0]);
    close(tmp[1]);
    return n == 0;
}

/* Process pid's command in comm (cap bytes; "" when unknown). */
static void holder_comm(pid_t pid, char *comm, size_t cap)
{
    if (cap)
        comm[0] = 0;
    char buf[64];
    long n = revive_proc_read(pid, 0, "comm", buf, sizeof buf);
    if (n > 0 && cap) {
        buf[n < (long)sizeof buf ? n : (long)sizeof buf - 1] = 0;
        buf[strcspn(buf, "\n")] = 0;
        snprintf(comm, cap, "%.16s", buf);
    }
}

/* pid (0 or less: none) with its command in comm, or 0 and comm empty */
static pid_t named_holder(pid_t pid, char *comm, size_t cap)
{
    if (cap)
        comm[0] = 0;
    if (pid <= 0)
        return 0;
    holder_comm(pid, comm, cap);
    return pid;
}

pid_t crs_capture_holder(const char *link, char *comm, size_t cap)
{
    return named_holder(revive_proc_find_holder(link, revive_proc_self_pid(), NULL), comm, cap);
}

/* crs_capture_holder, but in a tree leaving out every member too: the
 * process outside the tree that holds link, which a refusal names (the
 * first other holder in /proc's order was often another member, named as
 * "not among the processes being checkpointed": review diffrev23 M1). */
static pid_t outside_holder(struct crs_capture *c, const char *link, char *comm, size_t cap)
{
    int n = c->opts.tree && c->opts.ntree_members > 0 ? c->opts.ntree_members : 0;
    pid_t *but = n ? crs_scratch_alloc(c->scratch, ((size_t)n + 1) * sizeof *but) : NULL;
    if (!but)
        return crs_capture_holder(link, comm, cap);
    for (int i = 0; i < n; i++)
        but[i] = (pid_t)c->opts.tree_members[i];
    but[n] = revive_proc_self_pid();
    return named_holder(revive_proc_find_holder_but(link, but, (size_t)n + 1, NULL), comm, cap);
}

/* In a tree: another member that holds the FIFO at path fifo too (its
 * pid), 0 when none does (or the members are not known: too many). */
static pid_t fifo_member_holder(const struct crs_capture *c, const char *fifo)
{
    pid_t self = revive_proc_self_pid();
    for (int i = 0; i < c->opts.ntree_members; i++)
        if ((pid_t)c->opts.tree_members[i] != self && revive_proc_holds((pid_t)c->opts.tree_members[i], fifo, NULL))
            return (pid_t)c->opts.tree_members[i];
    return 0;
}

/* The refusal of a FIFO another member holds too that the tree's restart
 * does not make (no tree group: tree_ckpt.c leaves out a FIFO a process
 * outside the members holds), and that is not the launcher's (inherited):
 * each member's capture would record it as its own, an O_RDWR one with its
 * bytes, restored once per member; GNU make >= 4.4's job server
 * (--jobserver-auth=fifo:PATH), whose clients open it by path, with make
 * outside the tree (review diffrev23 M1). Names the outside holder. */
static void shared_fifo_refusal(struct crs_capture *c, const struct crs_rec_fd *r, const char *fifo, pid_t member)
{
    /* the holders first, the path last: a long path is what the message's
     * 512 bytes cut */
    char comm[20], mcomm[20], where[200];
    holder_comm(member, mcomm, sizeof mcomm);
    pid_t holder = outside_holder(c, fifo, comm, sizeof comm);
    if (holder > 0)
        snprintf(where, sizeof where, "process %d%s%s%s, which is not among the processes being checkpointed",
                 (int)holder, comm[0] ? " '" : "", comm, comm[0] ? "'" : "");
    else
        snprintf(where, sizeof where, "a process Revive cannot see (ended since, another user's, or a descriptor "
                                      "in flight in a Unix socket message)");
    char todo[120] = "close the FIFO in the processes checkpointed first, or checkpoint again";
    if (holder > 0)
        snprintf(todo, sizeof todo, "end process %d or have it close the FIFO, or checkpoint a scope that "
                                    "includes it", (int)holder);
    int mode = (int)r->open_flags & O_ACCMODE;
    crs_capture_error(c, "file descriptor %d, a FIFO (named pipe) opened %s, is held by %s, and by process %d%s%s%s, "
                      "another of them: Revive restores a FIFO the processes checkpointed share only when no other "
                      "process holds it (else each would get its bytes again); %s%s (the FIFO: %s)",
                      r->fd, mode == O_RDWR ? "read-write" : mode == O_WRONLY ? "to write" : "to read", where,
                      (int)member, mcomm[0] ? " '" : "", mcomm, mcomm[0] ? "'" : "", todo,
                      crs_capture_ignore_hint(c), fifo);
}

/* The refusal of a pipe end whose other end is open somewhere Revive does
 * not restore, saying where: another process (named), or none that can be
 * seen (a descriptor in flight in a Unix socket message, or a process of
 * another user or pid namespace). */
static void pipe_refusal(struct crs_capture *c, const struct crs_rec_fd *r, int mode, const char *fifo)
{
    char want[4096], comm[20];
    snprintf(want, sizeof want, "pipe:[%llu]", (unsigned long long)r->ino);
    if (fifo)   /* another process's descriptor of a FIFO reads as its path too */
        snprintf(want, sizeof want, "%s", fifo);
    pid_t holder = outside_holder(c, want, comm, sizeof comm);
    const char *end = mode == O_WRONLY ? "read" : "write";
    char where[160];
    if (holder > 0) {
        snprintf(where, sizeof where, "is held by process %d%s%s%s, %s", (int)holder, comm[0] ? " '" : "", comm,
                 comm[0] ? "'" : "",
                 c->opts.tree ? "which is not among the processes being checkpointed" : "another process");
    } else {
        snprintf(where, sizeof where, "is open but held by no process Revive can see (in flight in a Unix "
                                      "socket message, SCM_RIGHTS, or held by another user's process)");
    }
    const char *scope = holder <= 0 ? "" : c->opts.tree ? ", checkpoint a scope that holds the other end too"
                                                         : ", checkpoint the tree that holds both (cr_checkpoint --tree)";
    char what[4200] = "a pipe";
    if (fifo)
        snprintf(what, sizeof what, "the FIFO (named pipe) %s", fifo);
    crs_capture_error(c, "file descriptor %d is the %s end of %s whose %s end %s; Revive restores a pipe or "
                      "FIFO when %s both ends or the other end is closed everywhere; close it first%s%s",
                      r->fd, mode == O_WRONLY ? "write" : "read", what, end, where,
                      c->opts.tree ? "the processes checkpointed hold" : "the process holds", scope,
                      crs_capture_ignore_hint(c));
}

/* A pipe comes back when the process holds both of its ends, or the other
 * end is closed everywhere; in a tree, the restart puts the ends members
 * share in place. What a pipe holds is copied with tee(2), which leaves the
 * pipe as it was. */
static int pair_pipes(struct crs_capture *c)
{
    size_t cap = c->nfds ? c->nfds : 1;
    c->pipes = crs_scratch_alloc(c->scratch, cap * sizeof *c->pipes);
    /* each record's device: a pipe record has none (the image's format), and
     * two FIFOs on two file systems (a tmpfs and the root) may have one inode
     * number; matched by inode alone they were one pipe (review LOW-G) */
    uint64_t *devs = crs_scratch_alloc(c->scratch, cap * sizeof *devs);
    if (!c->pipes || !devs)
        return -ENOMEM;
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *r = &c->fds[i];
        if (r->kind != CRS_FD_PIPE)
            continue;
        /* a FIFO: its descriptors' paths name it; one opened O_RDWR holds both ends */
        const char *fifo = c->fd_paths[i] && strncmp(c->fd_paths[i], "pipe:", 5) ? c->fd_paths[i] : NULL;
        struct stat fst = { .st_dev = (dev_t)r->dev, .st_ino = (ino_t)r->ino };
        /* a standard stream a member put there (classify_stream): its own pipe when it can be
         * restored so; the launcher's rule does not apply (its libcr took what it had at its
         * exec for the launcher's), and where a refusal would come it is cr_restart's stream,
         * as before */
        int put = r->fd <= 2 && c->member_stream[r->fd];
        if (fifo && c->opts.tree && c->opts.ntree_placed > 0 && listed_placed(c, r->fd)) {
            /* a FIFO members of the tree share: the tree's restart makes it
             * once, with its bytes, and puts this end in place (issue 10) */
            r->kind = CRS_FD_INHERITED;
            continue;
        }
        if (fifo && !put && is_inherited(r->fd, &fst)) {
            /* the launcher's FIFO (GNU make's job server opens one O_RDWR): its
             * rule (point 12), as before FIFOs were restored; made again by path
             * it would share the launcher's tokens, or be refused as in use */
            r->kind = CRS_FD_INHERITED;
            continue;
        }
        pid_t member = fifo && c->opts.tree && !tree_placed(c, r->fd) ? fifo_member_holder(c, fifo) : 0;
        if (member > 0) {
            /* neither made by the tree's restart nor the launcher's, but
             * another member's too: not one per member (diffrev23 M1) */
            if (put) {
                r->kind = CRS_FD_INHERIT;
                continue;
            }
            if (!c->opts.ignore_fds) {
                shared_fifo_refusal(c, r, fifo, member);
                return -ENOTSUP;
            }
            r->kind = CRS_FD_CLOSED;
            continue;
        }
        int has_read = 0, has_write = 0;
        for (size_t j = 0; j < c->nfds; j++)
            if (c->fds[j].kind == CRS_FD_PIPE && c->fds[j].ino == r->ino && c->fds[j].dev == r->dev) {
                int mode = (int)c->fds[j].open_flags & O_ACCMODE;
                has_read |= mode == O_RDONLY || mode == O_RDWR;
                has_write |= mode == O_WRONLY || mode == O_RDWR;
            }
        if (!has_read || !has_write) {
            int mode = (int)r->open_flags & O_ACCMODE;
            struct stat st = { .st_dev = (dev_t)r->dev, .st_ino = (ino_t)r->ino };
            if (c->opts.tree && tree_placed(c, r->fd)) {
                /* the tree's restart puts it in place (another member holds
                 * the other end, or shares this one) */
                r->kind = CRS_FD_INHERITED;
                continue;
            }
            if (!put && is_inherited(r->fd, &st)) {
                /* the launcher's: reconnected at restart (point 12's rule) */
                r->kind = CRS_FD_INHERITED;
                continue;
            }
            if (!pipe_peer_closed(r->fd, mode) && fifo && mode == O_RDONLY && fifo_no_writer(r->fd)) {
                /* a FIFO's reader no writer has opened yet, empty (a server
                 * waiting for its first client; review MEDIUM-B): reopened by
                 * its path with its flags, as a device is (image_format.h,
                 * CRS_FD_CHARDEV with a FIFO's mode). Opened so, without a
                 * writer, it sees what the original saw: end of file, and no
                 * hang-up until a writer comes and goes; the first client
                 * opening the path reaches it. */
                r->kind = CRS_FD_CHARDEV;
                continue;
            }
            if (!pipe_peer_closed(r->fd, mode)) {
                if (put) {
                    r->kind = CRS_FD_INHERIT;
                    continue;
                }
                if (!c->opts.ignore_fds) {
                    pipe_refusal(c, r, mode, fifo);
                    return -ENOTSUP;
                }
                r->kind = CRS_FD_CLOSED;
                continue;
            }
            /* the other end is closed everywhere: a pipe of its own, whose
             * other end the restart closes again (a reader gets the bytes,
             * then end of file; a writer EPIPE) */
        }
        uint32_t flags = fifo ? CRS_PIPE_F_FIFO : 0;
        size_t k = 0;
        while (k < c->npipes && (c->pipes[k].ino != r->ino || devs[k] != r->dev || c->pipes[k].flags != flags))
            k++;
        if (k == c->npipes) {
            devs[k] = r->dev;
            struct crs_rec_pipe *pp = &c->pipes[c->npipes++];
            memset(pp, 0, sizeof *pp);
            pp->ino = r->ino;
            pp->flags = flags;
            int size = fcntl(r->fd, F_GETPIPE_SZ);
            pp->capacity = size > 0 ? (uint32_t)size : 65536;
        }
        r->memfd = (int32_t)k;
    }
    /* the bytes each pipe holds, through a pipe of our own */
    size_t total = 0;
    for (size_t k = 0; k < c->npipes; k++)
        total += c->pipes[k].capacity;
    c->pipedata = crs_scratch_alloc(c->scratch, total ? total : 1);
    if (!c->pipedata)
        return -ENOMEM;
    for (size_t k = 0; k < c->npipes; k++) {
        struct crs_rec_pipe *pp = &c->pipes[k];
        int rd = -1;
        for (size_t i = 0; i < c->nfds && rd < 0; i++)
            if (c->fds[i].kind == CRS_FD_PIPE && c->fds[i].memfd == (int32_t)k &&
                ((int)c->fds[i].open_flags & O_ACCMODE) != O_WRONLY)
                rd = c->fds[i].fd;
        pp->data_offset = c->pipedata_len;
        int tmp[2];
        if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) != 0)
            return -errno;
        fcntl(tmp[1], F_SETPIPE_SZ, (int)pp->capacity);
        ssize_t n = tee(rd, tmp[1], pp->capacity, SPLICE_F_NONBLOCK);
        if (n > 0) {
            ssize_t got = 0;
            while (got < n) {
                ssize_t m = read(tmp[0], c->pipedata + c->pipedata_len + got, (size_t)(n - got));
                if (m <= 0)
                    break;
                got += m;
            }
            pp->data_length = (uint64_t)got;
            c->pipedata_len += (size_t)got;
        }
        close(tmp[0]);
        close(tmp[1]);
    }
    return 0;
}

int crs_capture_sockets_unrestorable(struct crs_capture *c, size_t sock)
{
    int all_inherited = 1;
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *r = &c->fds[i];
        if (r->kind != CRS_FD_SOCKET || r->memfd != (int32_t)sock)
            continue;
        struct stat st = { .st_dev = (dev_t)r->dev, .st_ino = (ino_t)r->ino };
        all_inherited &= is_inherited(r->fd, &st);
    }
    if (!all_inherited && !c->opts.ignore_fds)
        return 1;   /* the refusal's message stays */
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *r = &c->fds[i];
        if (r->kind == CRS_FD_SOCKET && r->memfd == (int32_t)sock) {
            r->kind = all_inherited ? CRS_FD_INHERITED : CRS_FD_CLOSED;
            r->memfd = -1;
        }
    }
    /* its record stays, harmless: an unbound socket of its kind */
    struct crs_rec_socket *s = &c->sockets[sock];
    if (s->family != AF_INET && s->family != AF_INET6)
        s->family = AF_UNIX;
    if (s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
        s->type = SOCK_STREAM;
    if (s->family != AF_UNIX && s->type == SOCK_SEQPACKET)
        s->type = SOCK_STREAM;
    s->protocol = 0;
    s->state = CRS_SOCK_UNBOUND;
    s->flags = 0;
    s->peer = s->listener = -1;
    s->local_len = s->remote_len = 0;
    s->data_length = 0;
    s->nmsgs = 0;
    return 0;
}

/* An inherited descriptor on the file of a standard stream (a dup(1), an
 * open of /dev/stderr): dup_of names the stream, whose file at restart (the
 * restarter's, or the new launcher's) it takes again, as the program's
 * copy of its output follows its output. Otherwise the restarter would
 * have to hold that very number, and the copy was closed. */
static void stream_copies(struct crs_capture *c)
{
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *a = &c->fds[i];
        if (a->kind != CRS_FD_INHERITED || a->fd <= 2)
            continue;
        for (size_t j = 0; j < c->nfds && c->fds[j].fd <= 2; j++) {
            const struct crs_rec_fd *b = &c->fds[j];
            if (b->kind == CRS_FD_INHERIT && b->dev == a->dev && b->ino == a->ino &&
                (b->mode & S_IFMT) == (a->mode & S_IFMT)) {
                a->dup_of = b->fd;
                break;
            }
        }
    }
}

int crs_capture_fds(struct crs_capture *c)
{
    nmatched = 0;
    int ke = crs_capture_kobj_init(c);
    if (ke)
        return ke;
    size_t cap = 65536;
    c->fds = crs_scratch_alloc(c->scratch, cap * sizeof *c->fds);
    c->fd_paths = crs_scratch_alloc(c->scratch, cap * sizeof *c->fd_paths);
    if (!c->fds || !c->fd_paths) {
        crs_capture_error(c, "out of scratch memory for file descriptors");
        return -ENOMEM;
    }
    long ret = revive_proc_for_each_number("/proc/self/fd", record_fd, c);
    if (ret < 0 && !c->err[0])
        crs_capture_error(c, "cannot list /proc/self/fd: %s", strerror((int)-ret));
    if (!ret)
        find_shared_files(c);
    if (!ret && (ret = pair_pipes(c)) != 0 && !c->err[0])
        crs_capture_error(c, "cannot record the process's pipes: %s", strerror((int)-ret));
    if (!ret)
        ret = crs_capture_sockets(c);
    if (!ret)
        stream_copies(c);
    return (int)ret;
}

/* cr_restart of a process tree (cr_checkpoint --tree/--pgid/--sid, see
 * crs/base/tree.h): every member comes back under its pid, as a child of its
 * parent, in its session and process group, holding the open files it
 * shared with other members; a zombie comes back as a child that has ended
 * with its wait status, unreaped. The members wait for each other before
 * the last step of their restore, so that none runs before all are back.
 *
 * Order (the technique CRIU's restore uses): the open files members share
 * are made here first (each pipe once, refilled with what it held; a shared
 * file opened once at its offset), so that every member inherits them; then
 * each member, created with its pid (clone3 set_tid), sets up its session
 * and group, creates its own children (parents before children, so a child
 * inherits its parent's session), puts the shared files at its numbers and
 * restores its image (crs_restart_opts.placed_fds). As for one process, the
 * pids come back directly as root when they are free, else in a new pid
 * namespace (a user namespace too for a user) whose init is ours. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/procfs.h"
#include "common/text.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h"

/* how long a member waits for the others to be made (ms) */
#define MEMBERS_WAIT_MS 120000

struct tree_restart {
    const struct crs_component *crs;
    struct crs_tree t;
    const char *path;
    struct crs_restart_opts *opts;     /* per member */
    struct crs_restart_image *ri;      /* per member (opened: PROCESS) */
    int **placed;                      /* per member: its numbers of shared files */
    int **fill;                        /* per member: of them, the kernel objects its image made */
    int *gfd;                          /* per group: our descriptor */
    struct crs_restart_file *files;    /* the OBJECT groups' files, for every member */
    size_t nfiles;
    int fd_min;                        /* ours live at or above (every member's own_fd_min) */
    int report_w, ready_w, go_r;       /* members -> us, and our word to go on */
    int report_r, ready_r, go_w;       /* our ends: no member holds them (-1 in our init); restart_tree_here:
                                        * member 0 (this process) gives the word */
    int here;                          /* restart_tree_here: member 0 is this process */
    int outer_proc_fd;                 /* in a namespace of our own: the outer /proc */
    int in_ns;
    int user_ns;                       /* a user's restart: in its user+pid namespace already (share_dev_shm) */
    int first_is_init;                 /* member 0 was its pid namespace's init: it is ours again (first_init) */
    const char *const *relocate;       /* --relocate OLD=NEW (crs_restart_opts) */
    size_t nrelocate;
};

static int high(struct tree_restart *tr, int fd)
{
    if (fd < 0)
        return -1;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, tr->fd_min);
    close(fd);
    return moved;
}

/* ---- in a member's process ---- */

/* A member's failure, one write into the pipe every member shares: at most PIPE_BUF bytes, so
 * that two members' lines never mix; a longer one (a snapshot path near PATH_MAX) is cut on a
 * character boundary, "..." at its end (revive_text_cut). Its NUL goes too: a read may take two
 * members' reports at once, and the reader, who prints the first only, stops there (the two
 * were printed run together, the second after the first's last word). */
static void report(struct tree_restart *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct tree_restart *tr, const char *fmt, ...)
{
    char msg[PIPE_BUF];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg)
        revive_text_cut(msg, sizeof msg);
    if (n > 0) {
        ssize_t w = write(tr->report_w, msg, strlen(msg) + 1);
        (void)w;
    }
}

/* Every member waits here (crs_restart_opts.before_switch) for our word. */
static int barrier(void *arg)
{
    struct tree_restart *tr = arg;
    char c = 'r';
    if (revive_fault(REVIVE_FAULT_tree_member_late)) {
        struct timespec late = { 3, 0 }; /* (tests: the restart's look at the members runs meanwhile) */
        while (nanosleep(&late, &late) != 0 && errno == EINTR)
            ;
    }
    if (write(tr->ready_w, &c, 1) != 1)
        return -1;
    ssize_t n;
    while ((n = read(tr->go_r, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 && c == 'g' ? 0 : -1;
}

static void __attribute__((noreturn)) member(struct tree_restart *tr, uint32_t i);

static int is_member_pid(const struct tree_restart *tr, pid_t pid);

/* A zombie: a child that ends at once with its wait status (in its session
 * and group first: others may join the group it led). */
static void __attribute__((noreturn)) become_zombie(const struct tree_restart *tr, const struct crs_tree_member *m)
{
    int32_t st = m->wait_status;
    if (m->sid == m->pid)
        setsid();
    else if (m->pgid == m->pid)
        setpgid(0, 0);
    else if (is_member_pid(tr, m->pgid))
        setpgid(0, m->pgid);
    if (WIFSIGNALED(st)) {
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);   /* the status, not a core file */
        raise_like(WTERMSIG(st));
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

/* restart_tree_here: the process that made this member (the rank, or a member under it); when
 * it dies before the tree is whole (kill -9 of revive-restart-rank), the member ends too instead
 * of waiting for members nobody makes any more (diffrev26 T-M2) */
static pid_t spawned_by;

/* Creates member i (a process with its pid) from the calling process; 0, or
 * -1 with the message reported. */
static int spawn(struct tree_restart *tr, uint32_t i)
{
    const struct crs_tree_member *m = &tr->t.members[i];
    pid_t maker = getpid();   /* before the fork: a maker dead by the child's first line is seen (diffrev27 T-L1) */
    pid_t p = fork_with_pid(m->pid);
    if (p == 0) {
        if (getpid() != m->pid)
            _exit(1);   /* the parent reports it */
        /* our ends of the pipes are ours alone: a member holding the write end of the word to go
         * on would never see its end when cr_restart dies (SIGKILL), and wait in the barrier for
         * ever with every signal blocked (newuser10 H1) */
        if (tr->go_w >= 0)
            close(tr->go_w);
        if (tr->report_r >= 0)
            close(tr->report_r);
        if (tr->ready_r >= 0)
            close(tr->ready_r);
        tr->go_w = tr->ready_r = tr->report_r = -1;   /* (this process's copy) closed for its children too */
        /* its own name from now on (ps shows a zombie's name, and a member
         * waiting for the others is not taken for the restarter) */
        char comm[sizeof m->comm + 1];
        memcpy(comm, m->comm, sizeof m->comm);
        comm[sizeof m->comm] = 0;
        if (comm[0])
            prctl(PR_SET_NAME, (unsigned long)comm, 0, 0, 0);
        if (tr->here)
            spawned_by = maker;   /* restart_tree_here: see spawned_by (diffrev26 T-M2) */
        if (m->kind == CRS_TREE_ZOMBIE)
            become_zombie(tr, m);
        member(tr, i);
    }
    if (p < 0) {
        report(tr, "%s: cannot create process %d: %s", tr->path, (int)m->pid, strerror(errno));
        return -1;
    }
    if (p != m->pid) {
        report(tr, "%s: process %d came back as %d: a tree needs its pids back (as root while they are free, "
                   "or in a pid namespace of its own)", tr->path, (int)m->pid, (int)p);
        kill(p, SIGKILL);
        return -1;
    }
    if (m->kind == CRS_TREE_ZOMBIE) {
        /* ended before we go on: its SIGCHLD comes while we ignore it, so the
         * restored parent does not get it a second time */
        siginfo_t si;
        while (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

static int is_member_pid(const struct tree_restart *tr, pid_t pid)
{
    for (uint32_t k = 0; k < tr->t.hdr.nmembers; k++)
        if (tr->t.members[k].pid == pid)
            return 1;
    return 0;
}

static void __attribute__((noreturn)) member(struct tree_restart *tr, uint32_t i)
{
    const struct crs_tree_member *m = &tr->t.members[i];
    struct crs_restart_image *ri = &tr->ri[i];
    /* its session, then its group: children inherit both */
    restore_leadership(ri);
    if (m->pgid != m->pid && is_member_pid(tr, m->pgid))
        setpgid(0, m->pgid);   /* a group another member leads (made already, or the parent retries) */
    for (uint32_t c = 0; c < tr->t.hdr.nmembers; c++) {
        const struct crs_tree_member *k = &tr->t.members[c];
        if (k->ppid != m->pid || c == i)
            continue;
        if (spawn(tr, c))
            _exit(1);
        if (k->kind == CRS_TREE_PROCESS && k->pgid != k->sid && is_member_pid(tr, k->pgid))
            setpgid(k->pid, k->pgid);   /* as a shell does, should the child have been first */
    }
    /* the files it shares with other members, at its numbers */
    for (uint32_t l = 0; l < tr->t.hdr.nlinks; l++) {
        const struct crs_tree_link *x = &tr->t.links[l];
        if ((uint32_t)x->member != i)
            continue;
        if (dup2(tr->gfd[x->group], x->fd) < 0) {
            report(tr, "%s: process %d: cannot put its shared descriptor %d in place: %s", tr->path, (int)m->pid,
                   (int)x->fd, strerror(errno));
            _exit(1);
        }
    }
    if (tr->in_ns && tr->outer_proc_fd >= 0) {
        /* its /proc is the namespace's (mounted by our init); the pid the
         * outside world knows it by, from the outer one */
        char self[32];
        ssize_t n = readlinkat(tr->outer_proc_fd, "self", self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            ri->outer_pid = (pid_t)atoi(self);
            ri->outer_proc_fd = tr->outer_proc_fd;
        }
    }
    /* every member exists before any reopens its files: a descriptor on
     * another member's /proc entry (/proc/PID/stat) names it by its pid,
     * which a sibling still being made does not have yet */
    for (int waited = 0;; waited++) {
        uint32_t k = 0;
        /* (restart_tree_here: member 0 is the restarter itself, under a pid of the launcher's) */
        while (k < tr->t.hdr.nmembers && (tr->t.members[k].pid == m->pid || (tr->here && k == 0) ||
                                          kill(tr->t.members[k].pid, 0) == 0 || errno != ESRCH))
            k++;
        if (k == tr->t.hdr.nmembers)
            break;
        /* cr_restart gone (killed: it holds the only write end of the word to go on): nobody
         * will let us go, end now rather than wait for members it never made (newuser10 H1) */
        struct pollfd gone = { tr->go_r, POLLIN, 0 };
        if (poll(&gone, 1, 0) == 1 && (gone.revents & (POLLHUP | POLLERR)))
            _exit(1);
        if (tr->here && spawned_by && getppid() != spawned_by)
            _exit(1);   /* its maker died: nobody makes the rest, nobody gives the word */
        if (waited == MEMBERS_WAIT_MS) {
            report(tr, "%s: process %d: process %d of the tree was not made within %d s", tr->path, (int)m->pid,
                   (int)tr->t.members[k].pid, MEMBERS_WAIT_MS / 1000);
            _exit(1);
        }
        struct timespec ms = { 0, 1000000L };
        nanosleep(&ms, NULL);
    }
    char err[REVIVE_TEXT_PATHS(3)]; /* the restore's words whole (crs_restore's err), cut by report */
    tr->crs->restart(ri, err, sizeof err);
    /* a report past PIPE_BUF is cut at its end, where the image reader's advice stands, which
     * the parent puts the tree's in place of (a path near PATH_MAX: the user got no advice at
     * all): then the words before the advice are cut, and the advice kept */
    char *adv = strstr(err, CRS_IMAGE_ADVICE);
    size_t tail = adv ? strlen(adv) : 0;
    if (adv && strlen(err) >= PIPE_BUF && tail < PIPE_BUF / 4) {
        char head[PIPE_BUF];
        size_t room = PIPE_BUF - tail; /* head and its "..." in room - 1 bytes */
        *adv = 0;
        int n = snprintf(head, room, "%s", err);
        if (n >= (int)room)
            revive_text_cut(head, room);
        *adv = CRS_IMAGE_ADVICE[0];
        report(tr, "%s%s", head, adv);
    } else {
        report(tr, "%s", err);
    }
    _exit(1);
}

/* ---- here ---- */

static int barrier_first(void *arg);

static int open_members(struct tree_restart *tr, const struct crs_restart_opts *o, int fd)
{
    uint32_t n = tr->t.hdr.nmembers;
    tr->opts = calloc(n, sizeof *tr->opts);
    tr->ri = calloc(n, sizeof *tr->ri);
    tr->placed = calloc(n, sizeof *tr->placed);
    tr->fill = calloc(n, sizeof *tr->fill);
    if (!tr->opts || !tr->ri || !tr->placed || !tr->fill) {
        fprintf(stderr, "cr_restart: out of memory\n");
        return -1;
    }
    tr->fd_min = 64;
    for (uint32_t i = 0; i < n; i++) {
        const struct crs_tree_member *m = &tr->t.members[i];
        if (m->kind != CRS_TREE_PROCESS)
            continue;
        int np = 0, nf = 0;
        tr->placed[i] = calloc(tr->t.hdr.nlinks + 1, sizeof(int));
        tr->fill[i] = calloc(tr->t.hdr.nlinks + 1, sizeof(int));
        if (!tr->placed[i] || !tr->fill[i]) {
            fprintf(stderr, "cr_restart: out of memory\n");
            return -1;
        }
        for (uint32_t l = 0; l < tr->t.hdr.nlinks; l++)
            if ((uint32_t)tr->t.links[l].member == i) {
                const struct crs_tree_group *g = &tr->t.groups[tr->t.links[l].group];
                tr->placed[i][np++] = tr->t.links[l].fd;
                if (g->kind == CRS_TREE_G_KOBJ && g->owner == i)
                    tr->fill[i][nf++] = tr->t.links[l].fd;
            }
        char *name = malloc(strlen(tr->path) + 32);
        int mfd = dup(fd);
        if (!name || mfd < 0 || lseek(mfd, (off_t)(tr->t.base + m->image_offset), SEEK_SET) < 0) {
            fprintf(stderr, "cr_restart: %s: %s\n", tr->path, strerror(errno));
            return -1;
        }
        sprintf(name, "%s (process %d)", tr->path, (int)m->pid);
        struct crs_restart_opts *mo = &tr->opts[i];
        *mo = *o;
        if (tr->here && i > 0) {
            /* a child of the rank (restart_tree_here): under its own pid, without the rank's
             * hand-off or the launcher's descriptors */
            mo->restore_ids = 1;
            mo->handoff = NULL;
            mo->handoff_len = 0;
            mo->keep_fds = NULL;
            mo->nkeep_fds = 0;
        }
        mo->path = name;
        mo->fd = mfd;
        mo->placed_fds = tr->placed[i];
        mo->nplaced_fds = np;
        mo->fill_fds = tr->fill[i];
        mo->nfill_fds = nf;
        mo->before_switch = tr->here && i == 0 ? barrier_first : barrier;
        mo->switch_arg = tr;
        /* a /dev/shm object the running original uses: one /dev/shm of the tree's own, made in
         * share_dev_shm for every member (a mount namespace: as root, newuser10 M5; as a user in
         * the user namespace its restart takes anyway, as one process's restart by a user does;
         * refused before). Not for a rank's tree (restart_tree_here makes no such namespace):
         * refused there, as a rank's restart beside its running original is (revive-restart-rank's
         * own value) */
        mo->dev_shm_private = tr->here ? o->dev_shm_private : 2;
        char msg[REVIVE_TEXT_PATHS(3)];
        if (tr->crs->restart_open(mo, &tr->ri[i], msg, sizeof msg) != 0) {
            crs_image_advise(msg, sizeof msg, CR_RESTART_TREE_ADVICE);
            fprintf(stderr, "cr_restart: %s\n", msg);
            return -1;
        }
        if (tr->ri[i].own_fd_min > tr->fd_min)
            tr->fd_min = tr->ri[i].own_fd_min;
    }
    return 0;
}

/* When the running original uses a /dev/shm object of the tree (a restart beside it), the
 * tree gets a /dev/shm of its own, one for every member: an empty tmpfs in a mount namespace of
 * ours, before the objects members share are made here and the members (who inherit it) are
 * made, as one process gets its own (restore_shm_busy.c). A user's restart enters its user and
 * pid namespace here, earlier than restart_tree would: the mount namespace needs it. 0, or -1
 * with the message printed. */
static int share_dev_shm(struct tree_restart *tr)
{
    const char *busy = NULL;
    for (uint32_t i = 0; i < tr->t.hdr.nmembers && !busy; i++)
        busy = tr->t.members[i].kind == CRS_TREE_PROCESS ? tr->ri[i].dev_shm_busy : NULL;
    if (!busy)
        return 0;
    if (geteuid() != 0) {
        if (enter_user_pid_namespace() != 0) {
            fprintf(stderr, "cr_restart: %s: %s, and a /dev/shm of their own cannot be made for the restarted "
                            "processes (no user namespace: %s): end that process first, then restart\n",
                    tr->path, busy, strerror(errno));
            return -1;
        }
        tr->user_ns = 1;
    }
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
        fprintf(stderr, "cr_restart: %s: %s, and a /dev/shm of their own cannot be made for the restarted "
                        "processes (%s): end that process first, then restart\n", tr->path, busy, strerror(errno));
        return -1;
    }
    fprintf(stderr, "cr_restart: warning: %s: %s: the restarted processes get a /dev/shm of their own, holding "
                    "the objects of their image (they do not see the other objects in /dev/shm, nor they "
                    "theirs)\n", tr->path, busy);
    return 0;
}

/* The open files members share: made once, here, at our own numbers. */

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
    fd = high(tr, fd);
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
        int again = high(tr, open(self, want | O_CLOEXEC));
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
        if ((fd = high(tr, fd)) < 0) {
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
    int fd = high(tr, open(self, want | O_CLOEXEC));
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
    tr->gfd[g] = high(tr, sv[mine]);
    tr->gfd[h] = high(tr, sv[1 - mine]);
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
        int fd = high(tr, open(self, ((int)y->open_flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC));
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
    int anchor = high(tr, open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC));
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
        keep = high(tr, open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
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

static int make_groups(struct tree_restart *tr)
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
            int fd = high(tr, open(p, flags));
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
            if ((tr->gfd[g] = high(tr, fd)) < 0) {
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
        p[0] = high(tr, p[0]);
        p[1] = high(tr, p[1]);
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
                tr->gfd[h] = high(tr, open(self, end ? O_WRONLY : O_RDONLY));
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

/* The members whose parent is not one: created by us (or our init). */
static int is_root(const struct tree_restart *tr, uint32_t i)
{
    return !is_member_pid(tr, tr->t.members[i].ppid) || tr->t.members[i].ppid == tr->t.members[i].pid;
}

/* The state letter of /proc/PID/stat, or 0 when there is no such process; with inner, also
 * its pid in its own namespace (the last of NSpid; PID without that line). */
static char proc_state(pid_t pid, pid_t *inner)
{
    char buf[4096];
    if (inner)
        *inner = pid;
    if (pid <= 0 || revive_proc_read(pid, 0, "stat", buf, sizeof buf) <= 0)
        return 0;   /* (pid 0 would be this process to revive_proc_read) */
    char st = revive_stat_state(buf);
    if (inner) {
        int64_t ids[64];   /* pid namespaces nest 32 deep at most */
        long n = revive_proc_read(pid, 0, "status", buf, sizeof buf);
        int k = n > 0 || n == -ENOSPC ? revive_status_ids(buf, "NSpid", ids, 64) : -ENOENT;
        if (k > 0 && k <= 64)
            *inner = (pid_t)ids[k - 1];
    }
    return st ? st : '?';
}

/* /proc/PID/task/PID/children whole (a process may have thousands: a list
 * cut short could end inside a pid, which would name another process), in
 * memory the caller frees; NULL when it cannot be read. */
static char *children_of(pid_t pid)
{
    for (size_t cap = 4096; cap <= ((size_t)64 << 20); cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        long n = revive_proc_read(pid, pid, "children", buf, cap);
        if (n >= 0)
            return buf;
        free(buf);
        if (n != -ENOSPC)
            return NULL;
    }
    return NULL;
}

/* Marks alive[i] for each member below pid: 1 living, 2 ended (a zombie: nothing
 * reaps a member before the tree is let go). */
static void alive_below(const struct tree_restart *tr, pid_t pid, int depth, uint8_t *alive)
{
    char *buf = depth > 64 ? NULL : children_of(pid);
    if (!buf)
        return;
    for (char *p = buf; *p;) {
        pid_t c = (pid_t)strtol(p, &p, 10), inner;
        if (c <= 0)
            break;
        char st = proc_state(c, &inner);
        for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
            if (tr->t.members[i].pid == inner && st)
                alive[i] = st == 'Z' || st == 'X' ? 2 : 1;
        alive_below(tr, c, depth + 1, alive);
    }
    free(buf);
}

/* REVIVE_FAULT=tree-fail-hold: a member reported its failure; a signal we pass on comes now, as
 * one sent while the members were restored would (in a pid namespace it waits, blocked, until the
 * failure is dealt with: diffrev29 K-L1). 60 s at most. Only a restart in a pid namespace (not
 * root, or a pid taken) sees it pending: as root with every pid free the signals are passed on
 * to member 0 as they come, never pending, and this holds the whole 60 s (diffrev30 K-L5). */
static void fail_hold(void)
{
    fprintf(stderr, "cr_restart: fault tree-fail-hold: holding the failed restore until a signal comes\n");
    for (int t = 0; t < 6000; t++) {
        sigset_t p;
        sigpending(&p);
        for (size_t k = 0; k < CR_RESTART_NFORWARDED; k++)
            if (sigismember(&p, forwarded_signals[k]))
                return;
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
}

/* Waits until every living member is at the barrier (or one reports a
 * failure, or one died without a word), then lets them go. 0, or -1 with
 * the message printed. */
static int release_when_ready(struct tree_restart *tr, int report_r, int ready_r, int go_w, pid_t init)
{
    uint32_t want = 0, got = 0;
    for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
        want += tr->t.members[i].kind == CRS_TREE_PROCESS;
    char msg[PIPE_BUF + 512]; /* a member's report (report: PIPE_BUF at most) and the advice */
    uint8_t *seen = calloc(2 * (size_t)tr->t.hdr.nmembers, 1);   /* then alive[] */
    if (!seen)
        return -1;
    while (got < want) {
        struct pollfd pf[2] = { { report_r, POLLIN, 0 }, { ready_r, POLLIN, 0 } };
        int r = poll(pf, 2, 2000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            /* a member that died (a signal) says nothing: one seen alive
             * before and gone now (members not made yet are not counted) */
            uint32_t nm = tr->t.hdr.nmembers;
            uint8_t *alive = seen + nm;
            memset(alive, 0, nm);
            if (init > 0) {
                alive_below(tr, init, 0, alive);
            } else {
                for (uint32_t i = 0; i < nm; i++) {
                    char st = proc_state(tr->t.members[i].pid, NULL);
                    alive[i] = !st ? 0 : st == 'Z' || st == 'X' ? 2 : 1;
                }
            }
            for (uint32_t i = 0; i < nm; i++) {
                /* (restart_tree_here: member 0 is this process, under a pid of the launcher's; its
                 * pid in the file is the original rank's, a zombie or gone by now: diffrev29 T-M1) */
                if (tr->t.members[i].kind != CRS_TREE_PROCESS || (tr->here && i == 0))
                    continue;
                /* a zombie died even if never seen alive (a signal before its restore blocked
                 * them): else we would wait for its word for ever (newuser10 H1) */
                if ((seen[i] && alive[i] != 1) || alive[i] == 2) {
                    fprintf(stderr, "cr_restart: %s: process %d of the tree died while it was being restored\n",
                            tr->path, (int)tr->t.members[i].pid);
                    return -1;
                }
                seen[i] |= alive[i] == 1;
            }
            continue;
        }
        if (pf[0].revents) {
            ssize_t n = read(report_r, msg, PIPE_BUF);
            if (n > 0) {
                msg[n] = 0;
                crs_image_advise(msg, sizeof msg, CR_RESTART_TREE_ADVICE);
                fprintf(stderr, "cr_restart: %s\n", msg);
                if (revive_fault(REVIVE_FAULT_tree_fail_hold))
                    fail_hold();
            } else {
                fprintf(stderr, "cr_restart: %s: the processes of the tree ended before they were restored\n",
                        tr->path);
            }
            return -1;
        }
        char c[64];
        ssize_t n = read(ready_r, c, sizeof c);
        if (n > 0)
            got += (uint32_t)n;
        else if (n == 0) {
            fprintf(stderr, "cr_restart: %s: the processes of the tree ended before they were restored\n",
                    tr->path);
            return -1;
        }
    }
    /* a member gone now would kill us with SIGPIPE, without a word */
    if (revive_fault(REVIVE_FAULT_tree_release_hold)) {
        fprintf(stderr, "cr_restart: fault tree-release-hold: holding the tree's processes\n");
        sleep(60);
    }
    signal(SIGPIPE, SIG_IGN);
    for (uint32_t k = 0; k < want + (init > 0 && !tr->first_is_init); k++)   /* our init's word too (ns_init) */
        if (write(go_w, "g", 1) != 1) {
            signal(SIGPIPE, SIG_DFL);
            fprintf(stderr, "cr_restart: %s: a process of the tree died before it could run on (%s)\n", tr->path,
                    strerror(errno));
            return -1;
        }
    signal(SIGPIPE, SIG_DFL);
    return 0;
}

static void kill_members(const struct tree_restart *tr, pid_t init)
{
    if (init > 0) {
        kill(init, SIGKILL);   /* the namespace's init: every member with it */
        return;
    }
    for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
        if (tr->t.members[i].kind == CRS_TREE_PROCESS)
            kill(tr->t.members[i].pid, SIGKILL);
}

/* The first member under the pid we see it by: the child of our init whose pid in the namespace
 * is member 0's (the first child listed may be another root once member 0 ended: a signal for
 * member 0 went there); init itself when none is (member 0 ended, or /proc cannot tell; forced by
 * REVIVE_FAULT=tree-first-unseen). init passes the signals on to member 0 (ns_init): sent to it
 * with no handler, a SIGTERM was dropped by the kernel, cr_restart and the tree ran on
 * (diffrev30 K-L2). */
static pid_t first_member_seen(const struct tree_restart *tr, pid_t init)
{
    if (revive_fault(REVIVE_FAULT_tree_first_unseen))
        return init;
    char *buf = children_of(init);
    pid_t first = init;
    for (char *p = buf; p && *p;) {
        pid_t c = (pid_t)strtol(p, &p, 10), inner;
        if (c <= 0)
            break;
        if (proc_state(c, &inner) && inner == tr->t.members[0].pid) {
            first = c;
            break;
        }
    }
    free(buf);
    return first;
}

/* Member 0 was its pid namespace's init (pid 1: a container's first process, `unshare -f`): our
 * first process in the namespace, pid 1 there, becomes it, and makes the others as its
 * descendants (every other member is one: restart_tree refuses a tree with another root). Its
 * parent is outside the namespace (getppid() 0), as the original's was; it reaps the namespace's
 * orphans; when it ends the namespace ends, as the original's did. Before, ns_init held pid 1
 * and the restart was refused, "process 1 came back as 2" (kern31). */
static void __attribute__((noreturn)) first_init(struct tree_restart *tr, int status_w)
{
    close(status_w);   /* (cr_restart waits for us directly) */
    if (mount_own_proc(tr->fd_min, &tr->outer_proc_fd) != 0)
        fprintf(stderr, "cr_restart: warning: cannot give the restarted processes a /proc of their own pid "
                        "namespace (%s): /proc shows them under other pids\n", strerror(errno));
    const struct crs_tree_member *m = &tr->t.members[0];
    char comm[sizeof m->comm + 1];
    memcpy(comm, m->comm, sizeof m->comm);
    comm[sizeof m->comm] = 0;
    if (comm[0])
        prctl(PR_SET_NAME, (unsigned long)comm, 0, 0, 0);
    member(tr, 0);
}

/* Our init in the pid namespace: a /proc of the namespace, the roots, then
 * it reaps everything until every root has ended, and hands the first
 * member's wait status to us; it stays while members orphaned since the
 * restart run on. */
static void __attribute__((noreturn)) ns_init(struct tree_restart *tr, int status_w)
{
    if (mount_own_proc(tr->fd_min, &tr->outer_proc_fd) != 0)
        fprintf(stderr, "cr_restart: warning: cannot give the restarted processes a /proc of their own pid "
                        "namespace (%s): /proc shows them under other pids\n", strerror(errno));
    uint32_t roots = 0;
    for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
        if (is_root(tr, i)) {
            if (spawn(tr, i))
                _exit(1);
            roots++;
        }
    /* the shared files are the members' now: a pipe's reader must see its
     * end when the members close theirs */
    for (uint32_t g = 0; g < tr->t.hdr.ngroups; g++)
        if (tr->gfd[g] >= 0)
            close(tr->gfd[g]);
    close(tr->ready_w), close(tr->report_w);
    if (tr->outer_proc_fd >= 0)
        close(tr->outer_proc_fd);
    /* the signals cr_restart passes on to us (when it cannot see member 0: first_member_seen) go
     * on to member 0, as cr_restart's own do; blocked until now (restart_tree), and in member 0
     * until its restore takes its mask back. A namespace's init drops a SIGTERM it has no handler
     * for (diffrev30 K-L2). */
    forward_signals_to(tr->t.members[0].pid, own_session(&tr->ri[0]));
    unblock_forwarded();
    /* nothing is reaped before the members are let go: a zombie root (its
     * parent outside the group or session) must still be there when a
     * member opens its pidfd of it again (restore_pidfd.c); cr_restart
     * gives us a word of our own then (or ends, or kills us) */
    char go;
    while (read(tr->go_r, &go, 1) < 0 && errno == EINTR)
        ;
    close(tr->go_r);
    int st = 1 << 8, w;
    while (roots) {
        pid_t q = waitpid(-1, &w, 0);
        if (q < 0 && errno == EINTR)
            continue;
        if (q < 0)
            break;
        for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
            if (tr->t.members[i].pid == q && is_root(tr, i)) {
                roots--;
                if (i == 0) {
                    st = w;
                    forward_signals_to(-1, 0);   /* its pid is free now */
                }
            }
    }
    /* Members orphaned since the restart (a child whose parent ended) are
     * ours now; in the original they went on under the system's init. Were
     * we to end, the kernel would kill them with the namespace: hand the
     * status over (cr_restart returns it), let go of cr_restart's streams,
     * and reap until nobody is left. Not when the first member was killed
     * by a signal: the job was killed, so what is left of it ends with the
     * namespace (cr_restart dies of the same signal, and its streams end). */
    while ((w = waitpid(-1, NULL, WNOHANG)) > 0 || (w < 0 && errno == EINTR))
        ;
    if (!WIFEXITED(st))
        w = -1;
    int word[2] = { st, w == 0 };   /* the status; 1: we stay for orphans */
    ssize_t n = write(status_w, word, sizeof word);
    (void)n;
    close(status_w);
    if (w == 0) {
        int nul = open("/dev/null", O_RDWR);
        for (int k = 0; k < 3 && nul >= 0; k++)
            if (nul != k)
                dup2(nul, k);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
            ;
    }
    _exit(0);
}

/* A tree's restart failed before its processes were let go: what it made
 * for them outside the processes (System V segments members share) goes,
 * so that a failed restart leaves nothing behind. Returns 1. */
static int abandon(const struct crs_component *crs)
{
    if (crs->restart_abandon)
        crs->restart_abandon();
    return 1;
}

/* restart_tree's failure once the signals it passes on are blocked (`unfwd`: the mask before):
 * what it made goes first (abandon), then those signals are passed on to nobody and unblocked.
 * One sent meanwhile was for members that never ran: it is dropped, and cr_restart ends with
 * status 1 and the message already said. Unblocked first, a waiting SIGTERM killed cr_restart
 * there, before the namespace's init was killed and the segments made for the members removed
 * (diffrev29 K-L1). Returns 1. */
static int abandon_unblock(const struct crs_component *crs, const sigset_t *unfwd)
{
    abandon(crs);
    forward_signals_to(-1, 0);
    sigprocmask(SIG_SETMASK, unfwd, NULL);
    return 1;
}

/* What restart_tree and restart_tree_here both start from: the component, the tree file's
 * path and the relocations asked for; no outer /proc yet. */
static void tree_restart_init(struct tree_restart *tr, const struct crs_component *crs,
                              const struct crs_restart_opts *o)
{
    memset(tr, 0, sizeof *tr);
    tr->crs = crs;
    tr->path = o->path;
    tr->outer_proc_fd = -1;
    tr->relocate = o->relocate;
    tr->nrelocate = o->nrelocate;
}

int restart_tree(const struct crs_component *crs, const struct crs_restart_opts *o, int fd)
{
    struct tree_restart tr;
    tree_restart_init(&tr, crs, o);
    char err[512];
    int re = crs_tree_read(fd, &tr.t, err, sizeof err);
    if (re != 0) {
        /* a table damaged or cut short (-EBADMSG) has the same way on as a damaged member's
         * image: another checkpoint of the tree (review diffrev23 L8: by its code, not by
         * the words of tree.c's message) */
        fprintf(stderr, "cr_restart: %s: %s%s\n", o->path, err, re == -EBADMSG ? CR_RESTART_TREE_ADVICE : "");
        return 1;
    }
    if (!o->restore_ids) {
        fprintf(stderr, "cr_restart: %s holds a process %s: its processes come back only under their own pids "
                        "(parents wait for their children by pid), so --no-restore-pid cannot be used\n",
                o->path, crs_tree_scope_name(tr.t.hdr.scope));
        return 1;
    }
    if (tr.t.members[0].kind != CRS_TREE_PROCESS) {
        fprintf(stderr, "cr_restart: %s: its first process is a zombie: nothing to restart\n", o->path);
        return 1;
    }
    /* member 0 was its namespace's init: it comes back as the init of ours (first_init), which
     * makes every other member as its descendant; one whose parent is not a member has nobody to
     * make it (cr_checkpoint --pgid/--sid of such a group or session) */
    tr.first_is_init = tr.t.members[0].pid == 1;
    for (uint32_t i = 1; i < tr.t.hdr.nmembers && tr.first_is_init; i++)
        if (is_root(&tr, i)) {
            fprintf(stderr, "cr_restart: %s: its first process was its pid namespace's init (pid 1), and process "
                            "%d's parent is not in the %s: such a tree cannot come back (checkpoint it with --tree)\n",
                    o->path, (int)tr.t.members[i].pid, crs_tree_scope_name(tr.t.hdr.scope));
            return 1;
        }
    if (open_members(&tr, o, fd) || share_dev_shm(&tr) || make_groups(&tr))
        return abandon(crs);
    int report[2], ready[2], go[2];
    if (pipe2(report, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
        fprintf(stderr, "cr_restart: %s\n", strerror(errno));
        return abandon(crs);
    }
    for (int e = 0; e < 2; e++) {
        report[e] = high(&tr, report[e]);
        ready[e] = high(&tr, ready[e]);
        go[e] = high(&tr, go[e]);
    }
    tr.report_w = report[1];
    tr.ready_w = ready[1];
    tr.go_r = go[0];
    tr.report_r = report[0];
    tr.ready_r = ready[0];
    tr.go_w = go[1];
    /* the pids: directly as root when all are free (no process has one, nor
     * does a group or session go by one), else in a namespace */
    int taken = 0;
    for (uint32_t i = 0; i < tr.t.hdr.nmembers && !taken; i++)
        taken = pid_in_use(tr.t.members[i].pid);
    int status_pipe[2] = { -1, -1 };
    pid_t init = -1;
    /* The signals we pass on to the first member are blocked from here, in the members from
     * their birth (their restore keeps every signal blocked until each takes its own mask back):
     * a SIGTERM to cr_restart while it makes them ended a member before its restore blocked it,
     * and we then waited for that member's word for ever, the others hung at the barrier
     * (newuser10 H1). Passed on once we know where to, they act when the member runs. */
    sigset_t fwd, unfwd;
    sigemptyset(&fwd);
    for (size_t k = 0; k < CR_RESTART_NFORWARDED; k++)
        sigaddset(&fwd, forwarded_signals[k]);
    sigprocmask(SIG_BLOCK, &fwd, &unfwd);
    fflush(NULL);
    if (geteuid() != 0 || taken) {
        if ((!tr.user_ns && enter_user_pid_namespace() != 0) || pipe2(status_pipe, O_CLOEXEC) != 0) {
            fprintf(stderr, "cr_restart: %s: %s; a process tree needs its pids back (as root while they are "
                            "free, else in a new pid namespace)\n", o->path,
                    taken ? "some of its pids are taken and no pid namespace can be made"
                          : "no pid namespace can be made");
            return abandon_unblock(crs, &unfwd);
        }
        status_pipe[0] = high(&tr, status_pipe[0]);
        status_pipe[1] = high(&tr, status_pipe[1]);
        tr.in_ns = 1;
        init = fork();
        if (init == 0) {
            close(report[0]), close(ready[0]), close(go[1]), close(status_pipe[0]);
            tr.report_r = tr.ready_r = tr.go_w = -1;
            if (tr.first_is_init)
                first_init(&tr, status_pipe[1]);
            ns_init(&tr, status_pipe[1]);
        }
        if (init < 0) {
            fprintf(stderr, "cr_restart: cannot create the processes: %s\n", strerror(errno));
            return abandon_unblock(crs, &unfwd);
        }
        close(status_pipe[1]);
    } else {
        /* the members' subreaper while they are restored: one whose parent a failure kills
         * comes to us, and is reaped before we exit (it went to process 1 and stayed there a
         * zombie holding its pid until that reaped it: newuser10 F9); let go once they run */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        for (uint32_t i = 0; i < tr.t.hdr.nmembers; i++)
            if (is_root(&tr, i) && spawn(&tr, i)) {
                kill_members(&tr, -1);
                break;   /* its report is read below */
            }
    }
    close(report[1]), close(ready[1]), close(go[0]);
    for (uint32_t g = 0; g < tr.t.hdr.ngroups; g++)
        if (tr.gfd[g] >= 0)
            close(tr.gfd[g]);
    for (uint32_t i = 0; i < tr.t.hdr.nmembers; i++)
        if (tr.t.members[i].kind == CRS_TREE_PROCESS)
            crs->restart_close(&tr.ri[i]);
    /* in a namespace of our own the first member's pid is not its pid here (the pid there may
     * well be the running original's): the signals wait, blocked, until it is known below */
    if (init <= 0) {
        forward_signals_to(tr.t.members[0].pid, own_session(&tr.ri[0]));
        sigprocmask(SIG_SETMASK, &unfwd, NULL);
    } else {
        signal(SIGINT, SIG_IGN);   /* as forward_signals_to: a terminal's ^C reaches the members */
        signal(SIGQUIT, SIG_IGN);
    }
    if (release_when_ready(&tr, report[0], ready[0], go[1], init)) {
        kill_members(&tr, init);
        while (wait(NULL) > 0 || errno == EINTR)   /* every member, those that came to us too */
            ;
        return abandon_unblock(crs, &unfwd);
    }
    if (init <= 0)
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);   /* an orphan of the running tree goes where the original's did */
    close(go[1]);
    close(ready[0]);
    int st = 1 << 8;
    char lost[128] = "";   /* how our init ended, when it gave no word */
    if (init > 0) {
        /* signals for the first member go to it, as our /proc names it */
        pid_t first = first_member_seen(&tr, init);
        forward_signals_to(first, own_session(&tr.ri[0]));
        sigprocmask(SIG_SETMASK, &unfwd, NULL);
        int word[2];
        ssize_t n;
        while ((n = read(status_pipe[0], word, sizeof word)) < 0 && errno == EINTR)
            ;
        st = n == (ssize_t)sizeof word ? word[0] : 1 << 8;
        /* our init stays while orphans run on: not waited for; member 0 as init (first_init)
         * gives no word, its own status is the tree's */
        if (tr.first_is_init)
            while (waitpid(init, &st, 0) < 0 && errno == EINTR)
                ;
        else if (n != (ssize_t)sizeof word || !word[1]) {
            int ist = -1;
            pid_t w;
            while ((w = waitpid(init, &ist, 0)) < 0 && errno == EINTR)
                ;
            if (n != (ssize_t)sizeof word) {
                /* no word: our init was killed (it writes one before it ends), every member with
                 * it; cr_restart ended with status 1 and no message (a test's exit trap took our
                 * init, pid 1 in the namespace, for its own program: flake31) */
                init_end_text(w > 0 ? ist : -1, lost, sizeof lost);
            }
        }
    } else {
        /* every root; the first member's status is ours */
        for (uint32_t i = 0; i < tr.t.hdr.nmembers; i++) {
            if (!is_root(&tr, i))
                continue;
            int w;
            while (waitpid(tr.t.members[i].pid, &w, 0) < 0)
                if (errno != EINTR) {
                    w = 1 << 8;
                    break;
                }
            if (i == 0)
                st = w;
        }
    }
    /* a late failure (after the members were let go) */
    char msg[PIPE_BUF + 512]; /* as in release_when_ready */
    fcntl(report[0], F_SETFL, O_NONBLOCK);
    ssize_t n = read(report[0], msg, PIPE_BUF);
    if (n > 0) {
        msg[n] = 0;
        crs_image_advise(msg, sizeof msg, CR_RESTART_TREE_ADVICE);
        fprintf(stderr, "cr_restart: %s\n", msg);
        return 1;
    }
    if (lost[0]) {
        fprintf(stderr, "cr_restart: %s: the restarted processes ended with their pid namespace: that namespace's "
                        "init (cr_restart's own) %s before it passed the first process's status on (killed from "
                        "outside?); restart again: the image is fine\n", o->path, lost);
        return 1;
    }
    return exit_like(st);
}

/* ---- a rank's tree (revive-restart-rank): member 0 is this process ---- */

/* Whether the process at pid was made here: its parent is this process, or a member's pid whose
 * process was made here (up the chain; a member whose parent was killed comes to this process,
 * the subreaper). A member not made (spawn failed for it or its parent, or a member failed
 * before it made its children) has its pid free, or held by a process that took it meanwhile:
 * clone3 with that pid failed EEXIST and fork's "came back as" failed the restore; that
 * process is not ours to kill (diffrev27 T-M2'). The rank's old pid (member 0's) is no maker:
 * member 0 is this process. */
static int made_here(const struct tree_restart *tr, pid_t pid)
{
    pid_t self = getpid();
    for (uint32_t hops = 0; hops <= tr->t.hdr.nmembers; hops++) {
        char buf[1024];
        uint64_t pp = 0;
        if (pid <= 0 || revive_proc_read(pid, 0, "stat", buf, sizeof buf) <= 0 || revive_stat_field(buf, 4, &pp) != 0)
            return 0;
        if ((pid_t)pp == self)
            return 1;
        uint32_t k = 1;
        while (k < tr->t.hdr.nmembers && tr->t.members[k].pid != (pid_t)pp)
            k++;
        if (k == tr->t.hdr.nmembers)
            return 0;
        pid = (pid_t)pp;
    }
    return 0;
}

/* The restore failed: every other member made here ends, and is reaped (diffrev26 T-M1: left as
 * our zombies, they held the pids that the run again from the snapshot directory's image, same
 * process, needs; it refused naming them). This process is their subreaper meanwhile, so that a
 * member whose parent is killed comes to it; up to 2 s for the kills and the reparenting. Only
 * processes made here are killed and waited for (made_here). */
static void kill_others(const struct tree_restart *tr)
{
    int was = 0;
    prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&was, 0, 0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    for (uint32_t i = 1; i < tr->t.hdr.nmembers; i++)
        if (tr->t.members[i].kind == CRS_TREE_PROCESS && made_here(tr, tr->t.members[i].pid))
            kill(tr->t.members[i].pid, SIGKILL);
    for (int tries = 0; tries < 400; tries++) {
        int pending = 0;
        for (uint32_t i = 1; i < tr->t.hdr.nmembers; i++) {
            pid_t pid = tr->t.members[i].pid, w = waitpid(pid, NULL, WNOHANG | __WALL);
            if (w == 0 || (w < 0 && errno == EINTR) || (w < 0 && errno == ECHILD && made_here(tr, pid)))
                pending = 1;   /* ending, or on its way to us */
        }
        if (!pending)
            break;
        struct timespec d = { 0, 5 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }
    prctl(PR_SET_CHILD_SUBREAPER, was, 0, 0, 0);
}

/* Member 0's wait before its switch (crs_restart_opts.before_switch): it is ready; once every
 * other member is too (or one failed or died), all go on together. */
static int barrier_first(void *arg)
{
    struct tree_restart *tr = arg;
    char c = 'r';
    if (write(tr->ready_w, &c, 1) != 1)
        return -1;
    if (release_when_ready(tr, tr->report_r, tr->ready_r, tr->go_w, -1)) {
        kill_others(tr);
        return -1;
    }
    ssize_t n;
    while ((n = read(tr->go_r, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 && c == 'g' ? 0 : -1;
}

int restart_tree_here(const struct crs_component *crs, const struct crs_restart_opts *o, int fd, char *err,
                      size_t errlen)
{
    struct tree_restart tr;
    tree_restart_init(&tr, crs, o);
    tr.here = 1;
    int re = crs_tree_read(fd, &tr.t, err, errlen);
    if (re)
        return re;
    if (tr.t.members[0].kind != CRS_TREE_PROCESS) {
        snprintf(err, errlen, "%s: its first process is a zombie: nothing to restart", o->path);
        return -EBADMSG;
    }
    /* the other members come back under their pids, as the rank's children (its waitpid names
     * them): free, and ours to choose */
    for (uint32_t i = 1; i < tr.t.hdr.nmembers; i++) {
        const struct crs_tree_member *m = &tr.t.members[i];
        if (pid_in_use(m->pid)) {
            char st[512] = "", who[96] = "another process (a process group or session keeps it)";
            if (revive_proc_read(m->pid, 0, "stat", st, sizeof st) > 0) {
                const char *a = strchr(st, '('), *b = strrchr(st, ')');
                if (a && b && b > a)
                    snprintf(who, sizeof who, "process %d '%.*s' (state %c, parent %d)", (int)m->pid,
                             (int)(b - a - 1 < 16 ? b - a - 1 : 16), a + 1, revive_stat_state(st),
                             atoi(b + 4 < st + strlen(st) ? b + 4 : b));
            }
            /* the surroundings, not the snapshot: an earlier sequence holds the same children's
             * pids, so the index must not send the next restart-mpi there (newuser7c M1) */
            snprintf(err, errlen, "%s: process %d '%.16s', a child of the rank, comes back under its pid, which "
                     "%s holds now (is the original job still running?): end it, then restart this "
                     "snapshot again", o->path, (int)m->pid, m->comm, who);
            if (o->refused_outside)
                *o->refused_outside = 1;
            return -EEXIST;
        }
    }
    if (open_members(&tr, o, fd) || make_groups(&tr)) {
        abandon(crs);
        snprintf(err, errlen, "%s: the rank's child processes cannot be restored (the reason above)", o->path);
        return -EIO;
    }
    int report[2], ready[2], go[2];
    if (pipe2(report, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        abandon(crs);
        return -EIO;
    }
    for (int e = 0; e < 2; e++) {
        report[e] = high(&tr, report[e]);
        ready[e] = high(&tr, ready[e]);
        go[e] = high(&tr, go[e]);
    }
    tr.report_r = report[0], tr.report_w = report[1];
    tr.ready_r = ready[0], tr.ready_w = ready[1];
    tr.go_r = go[0], tr.go_w = go[1];
    fflush(NULL);
    const struct crs_tree_member *m0 = &tr.t.members[0];
    for (uint32_t c = 1; c < tr.t.hdr.nmembers; c++) {
        const struct crs_tree_member *k = &tr.t.members[c];
        if (k->ppid != m0->pid)
            continue;
        if (spawn(&tr, c)) {
            kill_others(&tr);
            fcntl(report[0], F_SETFL, O_NONBLOCK);
            ssize_t n = read(report[0], err, errlen - 1);
            if (n <= 0)
                snprintf(err, errlen, "%s: a child process of the rank cannot be made again", o->path);
            else
                err[n] = 0;
            abandon(crs);
            return -EIO;
        }
        if (k->kind == CRS_TREE_PROCESS && k->pgid != k->sid && is_member_pid(&tr, k->pgid))
            setpgid(k->pid, k->pgid);
    }
    /* the files it shares with its children, at its numbers */
    for (uint32_t l = 0; l < tr.t.hdr.nlinks; l++) {
        const struct crs_tree_link *x = &tr.t.links[l];
        if (x->member == 0 && dup2(tr.gfd[x->group], x->fd) < 0) {
            snprintf(err, errlen, "%s: cannot put the rank's shared descriptor %d in place: %s", o->path, (int)x->fd,
                     strerror(errno));
            kill_others(&tr);
            abandon(crs);
            return -EIO;
        }
    }
    for (uint32_t g = 0; g < tr.t.hdr.ngroups; g++)
        if (tr.gfd[g] >= 0)
            close(tr.gfd[g]);
    for (uint32_t i = 1; i < tr.t.hdr.nmembers; i++)
        if (tr.t.members[i].kind == CRS_TREE_PROCESS)
            crs->restart_close(&tr.ri[i]);
    char msg[1024];
    crs->restart(&tr.ri[0], msg, sizeof msg);
    kill_others(&tr);
    /* a child's report says more than ours (the barrier failed for it) */
    fcntl(report[0], F_SETFL, O_NONBLOCK);
    ssize_t n = read(report[0], err, errlen - 1);
    if (n > 0)
        err[n] = 0;
    else
        snprintf(err, errlen, "%s", msg);
    return -EIO;
}

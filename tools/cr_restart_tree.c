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
 * namespace (a user namespace too for a user) whose init is ours.
 *
 * This file: the two ways in (restart_tree: cr_restart; restart_tree_here: a rank's tree in
 * revive-restart-rank), the members' images opened, a /dev/shm of the tree's own. The jobs they
 * call on: cr_restart_tree_member.c (each member made under its pid, in its own process),
 * cr_restart_tree_files.c (the files members share, made once here), cr_restart_tree_ns.c (a pid
 * namespace of the restart's own: its init, the signals it passes on, the status it hands back),
 * cr_restart_tree_reap.c (the wait for every member, and the clean-up of a failed tree). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/text.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h"
#include "cr_restart_tree.h"

int tree_high(struct tree_restart *tr, int fd)
{
    if (fd < 0)
        return -1;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, tr->fd_min);
    close(fd);
    return moved;
}

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
        mo->before_switch = tr->here && i == 0 ? tree_barrier_first : tree_barrier;
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
        if (tree_is_root(&tr, i)) {
            fprintf(stderr, "cr_restart: %s: its first process was its pid namespace's init (pid 1), and process "
                            "%d's parent is not in the %s: such a tree cannot come back (checkpoint it with --tree)\n",
                    o->path, (int)tr.t.members[i].pid, crs_tree_scope_name(tr.t.hdr.scope));
            return 1;
        }
    if (open_members(&tr, o, fd) || share_dev_shm(&tr) || tree_make_groups(&tr))
        return tree_abandon(crs);
    int report[2], ready[2], go[2];
    if (pipe2(report, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
        fprintf(stderr, "cr_restart: %s\n", strerror(errno));
        return tree_abandon(crs);
    }
    for (int e = 0; e < 2; e++) {
        report[e] = tree_high(&tr, report[e]);
        ready[e] = tree_high(&tr, ready[e]);
        go[e] = tree_high(&tr, go[e]);
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
    int status_r = -1;   /* in a pid namespace: where our init writes the first member's status */
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
        if ((init = tree_ns_start(&tr, taken, &status_r)) < 0)
            return tree_abandon_unblock(crs, &unfwd);
    } else {
        /* the members' subreaper while they are restored: one whose parent a failure kills
         * comes to us, and is reaped before we exit (it went to process 1 and stayed there a
         * zombie holding its pid until that reaped it: newuser10 F9); let go once they run */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        for (uint32_t i = 0; i < tr.t.hdr.nmembers; i++)
            if (tree_is_root(&tr, i) && tree_spawn(&tr, i)) {
                tree_kill_members(&tr, -1);
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
    if (tree_release_when_ready(&tr, report[0], ready[0], go[1], init)) {
        tree_kill_members(&tr, init);
        while (wait(NULL) > 0 || errno == EINTR)   /* every member, those that came to us too */
            ;
        return tree_abandon_unblock(crs, &unfwd);
    }
    if (init <= 0)
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);   /* an orphan of the running tree goes where the original's did */
    close(go[1]);
    close(ready[0]);
    int st = 1 << 8;
    char lost[128] = "";   /* how our init ended, when it gave no word */
    if (init > 0)
        st = tree_ns_wait(&tr, init, status_r, &unfwd, lost, sizeof lost);
    else {
        /* every root; the first member's status is ours */
        for (uint32_t i = 0; i < tr.t.hdr.nmembers; i++) {
            if (!tree_is_root(&tr, i))
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
    char msg[PIPE_BUF + 512]; /* as in tree_release_when_ready */
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
    if (open_members(&tr, o, fd) || tree_make_groups(&tr)) {
        tree_abandon(crs);
        snprintf(err, errlen, "%s: the rank's child processes cannot be restored (the reason above)", o->path);
        return -EIO;
    }
    int report[2], ready[2], go[2];
    if (pipe2(report, O_CLOEXEC) || pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        tree_abandon(crs);
        return -EIO;
    }
    for (int e = 0; e < 2; e++) {
        report[e] = tree_high(&tr, report[e]);
        ready[e] = tree_high(&tr, ready[e]);
        go[e] = tree_high(&tr, go[e]);
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
        if (tree_spawn(&tr, c)) {
            tree_kill_others(&tr);
            fcntl(report[0], F_SETFL, O_NONBLOCK);
            ssize_t n = read(report[0], err, errlen - 1);
            if (n <= 0)
                snprintf(err, errlen, "%s: a child process of the rank cannot be made again", o->path);
            else
                err[n] = 0;
            tree_abandon(crs);
            return -EIO;
        }
        if (k->kind == CRS_TREE_PROCESS && k->pgid != k->sid && tree_is_member_pid(&tr, k->pgid))
            setpgid(k->pid, k->pgid);
    }
    /* the files it shares with its children, at its numbers */
    for (uint32_t l = 0; l < tr.t.hdr.nlinks; l++) {
        const struct crs_tree_link *x = &tr.t.links[l];
        if (x->member == 0 && dup2(tr.gfd[x->group], x->fd) < 0) {
            snprintf(err, errlen, "%s: cannot put the rank's shared descriptor %d in place: %s", o->path, (int)x->fd,
                     strerror(errno));
            tree_kill_others(&tr);
            tree_abandon(crs);
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
    tree_kill_others(&tr);
    /* a child's report says more than ours (the barrier failed for it) */
    fcntl(report[0], F_SETFL, O_NONBLOCK);
    ssize_t n = read(report[0], err, errlen - 1);
    if (n > 0)
        err[n] = 0;
    else
        snprintf(err, errlen, "%s", msg);
    return -EIO;
}

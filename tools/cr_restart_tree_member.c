/* A process tree's restart (cr_restart_tree.c): each member made from its parent's process under
 * its pid (clone3 set_tid, fork_with_pid), a zombie as a child that ends at once with its wait
 * status; then, in the member's own process, its session and group, its children, the files it
 * shares at its numbers, the wait for the others (every member exists before any reopens its
 * files), the barrier before the last step of its restore, and the restore itself. A member's
 * failure is one line into the pipe the restarter reads (tree_report). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/text.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h"
#include "cr_restart_tree.h"

/* how long a member waits for the others to be made (ms) */
#define MEMBERS_WAIT_MS 120000

/* A member's failure, one write into the pipe every member shares: at most PIPE_BUF bytes, so
 * that two members' lines never mix; a longer one (a snapshot path near PATH_MAX) is cut on a
 * character boundary, "..." at its end (revive_text_cut). Its NUL goes too: a read may take two
 * members' reports at once, and the reader, who prints the first only, stops there (the two
 * were printed run together, the second after the first's last word). */
void tree_report(struct tree_restart *tr, const char *fmt, ...)
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
int tree_barrier(void *arg)
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

/* A zombie: a child that ends at once with its wait status (in its session
 * and group first: others may join the group it led). */
static void __attribute__((noreturn)) become_zombie(const struct tree_restart *tr, const struct crs_tree_member *m)
{
    int32_t st = m->wait_status;
    if (m->sid == m->pid)
        setsid();
    else if (m->pgid == m->pid)
        setpgid(0, 0);
    else if (tree_is_member_pid(tr, m->pgid))
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
int tree_spawn(struct tree_restart *tr, uint32_t i)
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
        tree_member(tr, i);
    }
    if (p < 0) {
        tree_report(tr, "%s: cannot create process %d: %s", tr->path, (int)m->pid, strerror(errno));
        return -1;
    }
    if (p != m->pid) {
        tree_report(tr, "%s: process %d came back as %d: a tree needs its pids back (as root while they are free, "
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

int tree_is_member_pid(const struct tree_restart *tr, pid_t pid)
{
    for (uint32_t k = 0; k < tr->t.hdr.nmembers; k++)
        if (tr->t.members[k].pid == pid)
            return 1;
    return 0;
}

/* The members whose parent is not one: created by us (or our init). */
int tree_is_root(const struct tree_restart *tr, uint32_t i)
{
    return !tree_is_member_pid(tr, tr->t.members[i].ppid) || tr->t.members[i].ppid == tr->t.members[i].pid;
}

void tree_member(struct tree_restart *tr, uint32_t i)
{
    const struct crs_tree_member *m = &tr->t.members[i];
    struct crs_restart_image *ri = &tr->ri[i];
    /* its session, then its group: children inherit both */
    restore_leadership(ri);
    if (m->pgid != m->pid && tree_is_member_pid(tr, m->pgid))
        setpgid(0, m->pgid);   /* a group another member leads (made already, or the parent retries) */
    for (uint32_t c = 0; c < tr->t.hdr.nmembers; c++) {
        const struct crs_tree_member *k = &tr->t.members[c];
        if (k->ppid != m->pid || c == i)
            continue;
        if (tree_spawn(tr, c))
            _exit(1);
        if (k->kind == CRS_TREE_PROCESS && k->pgid != k->sid && tree_is_member_pid(tr, k->pgid))
            setpgid(k->pid, k->pgid);   /* as a shell does, should the child have been first */
    }
    /* the files it shares with other members, at its numbers */
    for (uint32_t l = 0; l < tr->t.hdr.nlinks; l++) {
        const struct crs_tree_link *x = &tr->t.links[l];
        if ((uint32_t)x->member != i)
            continue;
        if (dup2(tr->gfd[x->group], x->fd) < 0) {
            tree_report(tr, "%s: process %d: cannot put its shared descriptor %d in place: %s", tr->path, (int)m->pid,
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
            tree_report(tr, "%s: process %d: process %d of the tree was not made within %d s", tr->path, (int)m->pid,
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
        tree_report(tr, "%s%s", head, adv);
    } else {
        tree_report(tr, "%s", err);
    }
    _exit(1);
}

/* Member 0's wait before its switch (crs_restart_opts.before_switch): it is ready; once every
 * other member is too (or one failed or died), all go on together. */
int tree_barrier_first(void *arg)
{
    struct tree_restart *tr = arg;
    char c = 'r';
    if (write(tr->ready_w, &c, 1) != 1)
        return -1;
    if (tree_release_when_ready(tr, tr->report_r, tr->ready_r, tr->go_w, -1)) {
        tree_kill_others(tr);
        return -1;
    }
    ssize_t n;
    while ((n = read(tr->go_r, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 && c == 'g' ? 0 : -1;
}

/* A process tree's restart (cr_restart_tree.c) in a pid namespace of its own (a user's restart,
 * or a tree whose pids are taken): the namespace and its init, pid 1 there, which makes the
 * members that have no member parent, passes on to the first member the signals cr_restart
 * passes on to it, reaps, and hands the first member's wait status back through a pipe; or the
 * first member itself as that init, when it was its namespace's init. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fault.h"
#include "crs/base/tree.h"
#include "cr_restart.h"
#include "cr_restart_tree.h"

/* The first member under the pid we see it by: the child of our init whose pid in the namespace
 * is member 0's (the first child listed may be another root once member 0 ended: a signal for
 * member 0 went there); init itself when none is (member 0 ended, or /proc cannot tell; forced by
 * REVIVE_FAULT=tree-first-unseen). init passes the signals on to member 0 (ns_init): sent to it
 * with no handler, a SIGTERM was dropped by the kernel, cr_restart and the tree ran on
 * (diffrev30 K-L2). */
pid_t tree_first_member_seen(const struct tree_restart *tr, pid_t init)
{
    if (revive_fault(REVIVE_FAULT_tree_first_unseen))
        return init;
    char *buf = tree_children_of(init);
    pid_t first = init;
    for (char *p = buf; p && *p;) {
        pid_t c = (pid_t)strtol(p, &p, 10), inner;
        if (c <= 0)
            break;
        if (tree_proc_state(c, &inner) && inner == tr->t.members[0].pid) {
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
    tree_member(tr, 0);
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
        if (tree_is_root(tr, i)) {
            if (tree_spawn(tr, i))
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
    /* the signals cr_restart passes on to us (when it cannot see member 0: tree_first_member_seen) go
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
            if (tr->t.members[i].pid == q && tree_is_root(tr, i)) {
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

/* Our pid namespace (and a user namespace for a user's restart, unless share_dev_shm entered
 * both already) and its init, pid 1 there: ns_init, or member 0 itself when it was its
 * namespace's init (first_init); taken: some of the tree's pids are in use here (the message
 * says so). Init's pid, with *status_r our end of the pipe init hands the first member's
 * status on; -1 with the message printed. */
pid_t tree_ns_start(struct tree_restart *tr, int taken, int *status_r)
{
    int status_pipe[2] = { -1, -1 };
    if ((!tr->user_ns && enter_user_pid_namespace() != 0) || pipe2(status_pipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "cr_restart: %s: %s; a process tree needs its pids back (as root while they are "
                        "free, else in a new pid namespace)\n", tr->path,
                taken ? "some of its pids are taken and no pid namespace can be made"
                      : "no pid namespace can be made");
        return -1;
    }
    status_pipe[0] = tree_high(tr, status_pipe[0]);
    status_pipe[1] = tree_high(tr, status_pipe[1]);
    tr->in_ns = 1;
    pid_t init = fork();
    if (init == 0) {
        close(tr->report_r), close(tr->ready_r), close(tr->go_w), close(status_pipe[0]);
        tr->report_r = tr->ready_r = tr->go_w = -1;
        if (tr->first_is_init)
            first_init(tr, status_pipe[1]);
        ns_init(tr, status_pipe[1]);
    }
    if (init < 0) {
        fprintf(stderr, "cr_restart: cannot create the processes: %s\n", strerror(errno));
        return -1;
    }
    close(status_pipe[1]);
    *status_r = status_pipe[0];
    return init;
}

/* Once the members run: the signals cr_restart passes on go to the first member as our /proc
 * names it, and are unblocked (unfwd: the mask before restart_tree blocked them); then the
 * first member's wait status, from init's word on status_r (member 0 as init: its own). When
 * init gave no word (killed), *lost says how it ended ("" else, lostlen bytes at most). */
int tree_ns_wait(struct tree_restart *tr, pid_t init, int status_r, const sigset_t *unfwd, char *lost,
                 size_t lostlen)
{
    /* signals for the first member go to it, as our /proc names it */
    pid_t first = tree_first_member_seen(tr, init);
    forward_signals_to(first, own_session(&tr->ri[0]));
    sigprocmask(SIG_SETMASK, unfwd, NULL);
    int word[2];
    ssize_t n;
    while ((n = read(status_r, word, sizeof word)) < 0 && errno == EINTR)
        ;
    int st = n == (ssize_t)sizeof word ? word[0] : 1 << 8;
    /* our init stays while orphans run on: not waited for; member 0 as init (first_init)
     * gives no word, its own status is the tree's */
    if (tr->first_is_init)
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
            init_end_text(w > 0 ? ist : -1, lost, lostlen);
        }
    }
    return st;
}

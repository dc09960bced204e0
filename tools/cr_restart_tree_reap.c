/* A process tree's restart (cr_restart_tree.c): the restarter's wait until every member is at
 * the barrier, watching for one that reports a failure or dies without a word (read from /proc),
 * then the word to go on; and the clean-up of a failed tree: its members killed and reaped (in
 * a rank's tree only the processes made here), what was made for them outside the processes
 * removed, the signals passed on to nobody. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/procfs.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h"
#include "cr_restart_tree.h"

/* The state letter of /proc/PID/stat, or 0 when there is no such process; with inner, also
 * its pid in its own namespace (the last of NSpid; PID without that line). */
char tree_proc_state(pid_t pid, pid_t *inner)
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
char *tree_children_of(pid_t pid)
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
    char *buf = depth > 64 ? NULL : tree_children_of(pid);
    if (!buf)
        return;
    for (char *p = buf; *p;) {
        pid_t c = (pid_t)strtol(p, &p, 10), inner;
        if (c <= 0)
            break;
        char st = tree_proc_state(c, &inner);
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
int tree_release_when_ready(struct tree_restart *tr, int report_r, int ready_r, int go_w, pid_t init)
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
                    char st = tree_proc_state(tr->t.members[i].pid, NULL);
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

void tree_kill_members(const struct tree_restart *tr, pid_t init)
{
    if (init > 0) {
        kill(init, SIGKILL);   /* the namespace's init: every member with it */
        return;
    }
    for (uint32_t i = 0; i < tr->t.hdr.nmembers; i++)
        if (tr->t.members[i].kind == CRS_TREE_PROCESS)
            kill(tr->t.members[i].pid, SIGKILL);
}

/* A tree's restart failed before its processes were let go: what it made
 * for them outside the processes (System V segments members share) goes,
 * so that a failed restart leaves nothing behind. Returns 1. */
int tree_abandon(const struct crs_component *crs)
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
int tree_abandon_unblock(const struct crs_component *crs, const sigset_t *unfwd)
{
    tree_abandon(crs);
    forward_signals_to(-1, 0);
    sigprocmask(SIG_SETMASK, unfwd, NULL);
    return 1;
}

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
void tree_kill_others(const struct tree_restart *tr)
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

/* ckpt-mpirun --stop: the job stopped after its snapshot, and continued again.
 *
 * Each rank's agent stops its process (SIGSTOP to its own thread, so that the stop is taken
 * before the call returns) once the snapshot is committed, and tells the coordinator
 * (SNAPC_MSG_CONTINUED) as soon as it runs again. The coordinator stops the launcher too, first,
 * as Open MPI's and Slurm's suspend stop the whole job, with the processes between it and the
 * ranks of this host (MPICH's hydra_pmi_proxy), and continues them with it. The tools' answer
 * waits until every rank of this host is really stopped (state T in /proc) and so are the
 * launcher and those: a SIGCONT that comes after the answer finds every process stopped.
 * (Before, the answer came once the ranks were told to stop: a SIGCONT sent at once reached a
 * rank before it stopped itself, and that rank stayed stopped for ever: issue 7 review, finding
 * N.)
 *
 * What continues the job: a SIGCONT to the coordinator (Revive's mpirun), the launcher being
 * continued (SIGCHLD, CLD_CONTINUED: a SIGCONT to the real mpirun/mpiexec), or any rank saying
 * it was continued (a SIGCONT the launcher passed on, or one sent to a rank). From then on the
 * coordinator sends SIGCONT to every rank of this host it sees stopped, and to the launcher and
 * the processes under it that it stopped, until every rank has said it runs again (bounded:
 * COORD_CONT_MS), whatever the order in which the stops and the SIGCONT came. Ranks on other
 * hosts are continued by the launcher's own
 * passing on of SIGCONT; their stop is not seen from here (the answer does not wait for them). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"
#include "snapc/coord_int.h"

#define COORD_STOP_MS 30000  /* the ranks of this host stop within this, or the tools hear anyway */
#define COORD_CONT_MS 60000  /* continuing: SIGCONT to stopped ranks for at most this long */
#define COORD_STOP_POLL_MS 10

static int local_host(const struct conn *c)
{
    static char host[64];
    if (!host[0])
        gethostname(host, sizeof host - 1);
    return strcmp(c->host, host) == 0 && c->pid > 1;
}

/* The processes between the launcher and the ranks of this host (MPICH's hydra_pmi_proxy: its
 * ranks' parent, mpiexec's child), stopped and continued with the launcher: "the launcher
 * stopped" is its whole tree on this host (newuser7d: the proxy ran on in a stopped job). */
#define COORD_MID_MAX 64
static pid_t mids[COORD_MID_MAX];
static int nmid;

static pid_t parent_of(pid_t pid)
{
    char stat[1024];
    uint64_t ppid;
    if (revive_proc_read(pid, 0, "stat", stat, sizeof stat) <= 0 || revive_stat_field(stat, 4, &ppid) < 0)
        return 0;
    return (pid_t)ppid;
}

/* Each local rank's ancestors below the launcher (a chain that does not reach the launcher,
 * a rank re-parented, adds nothing), the launcher's children first. */
static void find_mids(void)
{
    nmid = 0;
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i < 0 || !local_host(&coord.c[i]))
            continue;
        pid_t chain[16];
        int n = 0;
        pid_t q = parent_of((pid_t)coord.c[i].pid);
        while (q > 1 && q != coord.child && q != getpid() && n < 16) {
            chain[n++] = q;
            q = parent_of(q);
        }
        if (q != coord.child)
            continue;
        while (n-- > 0) {
            int seen = 0;
            for (int k = 0; k < nmid && !seen; k++)
                seen = mids[k] == chain[n];
            if (!seen && nmid < COORD_MID_MAX)
                mids[nmid++] = chain[n];
        }
    }
}

pid_t coord_rank_local_pid(int rank)
{
    if (rank < 0 || rank >= coord.nrank_conn || coord.rank_conn[rank] < 0)
        return 0;
    const struct conn *c = &coord.c[coord.rank_conn[rank]];
    return local_host(c) ? (pid_t)c->pid : 0;
}

/* A rank stopped by someone else (kill -STOP, a debugger) answers nothing, and the
 * protocol only sees its silence; its state T in /proc is the reason (review12 LOW-4). */
int coord_ranks_stopped(char *why, size_t len)
{
    int n = 0, first = -1;
    char pids[128] = "";
    size_t o = 0;
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i < 0 || !local_host(&coord.c[i]) || revive_proc_state((pid_t)coord.c[i].pid) != 'T')
            continue;
        first = n++ ? first : r;
        if (n <= 4 && o < sizeof pids)
            o += (size_t)snprintf(pids + o, sizeof pids - o, " %u", coord.c[i].pid);
    }
    if (n == 1)
        snapc_fmt(why, len, "the process of rank %d (pid%s) is stopped (state T in /proc/%u/stat: "
                  "SIGSTOP or a debugger) and was not continued (kill -CONT%s)",
                  first, pids, coord.c[coord.rank_conn[first]].pid, pids);
    else if (n > 1)
        snapc_fmt(why, len, "the processes of %d ranks (pids%s%s) are stopped (state T in "
                  "/proc/PID/stat: SIGSTOP or a debugger) and were not continued (kill -CONT%s%s)",
                  n, pids, n > 4 ? " ..." : "", pids, n > 4 ? " ..." : "");
    return n;
}

void coord_stop_begin(void)
{
    coord.stopped = 1;
    coord.stop_wait = 1;
    coord.stop_since = coord_now_ms();
    coord.launcher_stopped = 0;
    nmid = 0;
    if (!coord.child_done)
        find_mids();
    /* what the witness wakes should this coordinator be killed while the job is stopped */
    if (!coord.child_done) {
        pid_t *pids = malloc((size_t)(coord.nrank_conn + 1 + nmid) * sizeof *pids);
        int n = 0;
        if (pids) {
            pids[n++] = coord.child;
            for (int k = 0; k < nmid; k++)
                pids[n++] = mids[k];
            for (int r = 0; r < coord.nrank_conn; r++)
                if (coord.rank_conn[r] >= 0 && local_host(&coord.c[coord.rank_conn[r]]))
                    pids[n++] = (pid_t)coord.c[coord.rank_conn[r]].pid;
            coord_witness_job_stopped(pids, n);
            free(pids);
        }
    }
    /* the launcher before the ranks are told: a SIGCONT to it from now on is seen (CLD_CONTINUED)
     * and continues every rank, even one that stops after it came */
    if (!coord.child_done && kill(coord.child, SIGSTOP) == 0)
        coord.launcher_stopped = 1;
    for (int k = 0; coord.launcher_stopped && k < nmid; k++)
        kill(mids[k], SIGSTOP);
    for (int r = 0; r < coord.nrank_conn; r++)
        if (coord.rank_conn[r] >= 0)
            coord.c[coord.rank_conn[r]].stop_ack = 0;
}

int coord_stop_defer(void)
{
    return coord.stop_wait;
}

int coord_job_stopped(void)
{
    return coord.stopped;
}

void coord_job_continued(const char *how)
{
    if (!coord.stopped && !coord.stop_wait)
        return;
    if (!coord.cont_wanted)
        revive_log_info("the job continues (%s)", how);
    coord.cont_wanted = 1;
    coord.cont_since = coord_now_ms();
    coord_stop_tick(coord.cont_since);
}

void coord_rank_continued(int rank)
{
    if (rank < 0 || rank >= coord.nrank_conn || coord.rank_conn[rank] < 0)
        return;
    coord.c[coord.rank_conn[rank]].stop_ack = 1;
    char how[64];
    snapc_fmt(how, sizeof how, "rank %d was continued", rank);
    coord_job_continued(how);
}

static void stop_done(void)
{
    coord.stop_wait = 0;
    coord_flush_deferred();
}

void coord_stop_tick(int64_t now)
{
    if (coord.stop_wait && !coord.cont_wanted) {
        int pending = -1, npending = 0;
        for (int r = 0; r < coord.nrank_conn; r++) {
            int i = coord.rank_conn[r];
            if (i < 0 || coord.c[i].stop_ack || !local_host(&coord.c[i]))
                continue;
            char s = revive_proc_state((pid_t)coord.c[i].pid);
            if (s && s != 'T' && s != 'Z' && s != 'X') {
                pending = pending < 0 ? r : pending;
                npending++;
            }
        }
        if (!npending && coord.launcher_stopped && !coord.child_done) {
            char s = revive_proc_state(coord.child);
            npending += s && s != 'T' && s != 'Z' && s != 'X';
            for (int k = 0; k < nmid; k++) {
                s = revive_proc_state(mids[k]);
                npending += s && s != 'T' && s != 'Z' && s != 'X';
            }
        }
        if (!npending) {
            revive_log_info("every rank of this host and the launcher are stopped (%lld ms after "
                            "the commit)", (long long)(now - coord.stop_since));
            stop_done();
        } else if (now - coord.stop_since > COORD_STOP_MS) {
            if (pending >= 0)
                revive_log_warn("rank %d and %d other(s) did not stop within %d s of the commit "
                                "(--stop)", pending, npending - 1, COORD_STOP_MS / 1000);
            else
                revive_log_warn("the launcher %d did not stop within %d s (--stop)", (int)coord.child,
                                COORD_STOP_MS / 1000);
            stop_done();
        }
    }
    if (coord.cont_wanted) {
        int left = 0;
        for (int r = 0; r < coord.nrank_conn; r++) {
            int i = coord.rank_conn[r];
            if (i < 0 || coord.c[i].stop_ack)
                continue;
            left++;
            if (local_host(&coord.c[i]) && revive_proc_state((pid_t)coord.c[i].pid) == 'T')
                kill((pid_t)coord.c[i].pid, SIGCONT);
        }
        if (!coord.child_done && revive_proc_state(coord.child) == 'T')
            kill(coord.child, SIGCONT);
        for (int k = 0; k < nmid; k++)
            if (revive_proc_state(mids[k]) == 'T')
                kill(mids[k], SIGCONT);
        if (!left || now - coord.cont_since > COORD_CONT_MS) {
            if (left)
                revive_log_warn("%d rank(s) did not say they run again within %d s of the job's "
                                "SIGCONT", left, COORD_CONT_MS / 1000);
            coord.cont_wanted = 0;
            coord.stopped = 0;
            coord.launcher_stopped = 0;
            nmid = 0;
            coord_witness_job_runs();
            if (coord.stop_wait)
                stop_done();
        }
    }
}

int64_t coord_stop_wake(int64_t now)
{
    return coord.stop_wait || coord.cont_wanted ? now + COORD_STOP_POLL_MS : 0;
}

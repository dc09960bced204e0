/* ckpt-mpirun --wait on a job still starting (review9 F1): the request waits until every rank
 * has said HELLO. A host that is unreachable at the start (MPICH's mpiexec then waits for ever,
 * as it does without Revive) made it wait for ever, silently. Here the wait is bounded: the
 * tool's --timeout, else START_WAIT_DEFAULT_S; the tool hears at once that it waits and why,
 * again every START_WAIT_SAY_MS, and on giving up which ranks never connected, on which hosts
 * the others run, and the hosts given to the launcher where no rank connected. No sequence
 * was begun (nothing is written to the snapshot directory), so earlier snapshots stay as they
 * are; the job itself goes on.
 * Without --wait such a request is refused at once ("try again in a moment"); once the job has
 * been starting for longer than the request's --timeout (else the checkpoint's default timeout,
 * 120 s), trying again
 * is no advice any more: the refusal names what is missing as the --wait give-up does.
 * No rank at all connected START_NONE_S after the job's start (newuser7f F6: a program whose
 * ranks run the MPI library without Revive's layer, as MPICH loaded from a file of its own is,
 * never connects, and "the job is starting" was said for the job's whole life): the refusal, the
 * --wait progress (said at once then) and give-up, the job's end, and (once, on the job's
 * standard error) the --ckpt-interval timer say that no rank is under Revive and why that may
 * be.
 * A job that ended with no rank connected because its launcher started none (it failed on its
 * own options: `mpirun -am ft-enable-cr --no-such-option ...`) was told the same, the ranks
 * blamed, MPI.jl named (newuser9 F1). Each rank's revive-exec says STARTED as its process starts
 * (before the program): with none heard, the job's end names the launcher and its status.
 * A restart (restart-mpi) whose ranks are not all back: its ranks connect only once their images
 * are read back, which a big image makes long; they are revive-restart-rank's, under Revive by
 * construction. The refusal, the --wait progress and give-up and the job's end say the job is
 * being restored and how many of its ranks are back (begun, not begun), never that its ranks run
 * MPI without Revive's layer nor that a host may be unreachable (REVIVE_LAUNCH_TIMEOUT covers
 * ranks that never begin: coord_launchwait.c); the refusal offers --wait (newuser14 F3). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"
#include "snapc/hosts.h"

#define START_WAIT_DEFAULT_S 300
#define START_WAIT_SAY_MS 30000
/* a rank connects at its MPI_Init, a second or two after the launcher starts (more on a loaded
 * machine, or where the program does much before MPI_Init): after this long without any, the
 * messages say what else it may be */
#define START_NONE_S 10

static int64_t job_start_ms; /* when the launcher was started (coord_start_mark) */
static unsigned ranks_started; /* STARTED heard (a rank's revive-exec) */

static int64_t job_age_s(void)
{
    return job_start_ms ? (coord_now_ms() - job_start_ms) / 1000 : 0;
}

/* 1 when a restart's ranks are not all back yet (every rank said HELLO: Recovered) */
static int restoring(void)
{
    return coord.cfg->restart_of && !coord.recovered;
}

/* 1 when no rank has connected (no HELLO yet) START_NONE_S or more after the job's start; never
 * for a restart, whose ranks are Revive's own */
static int none_for_long(void)
{
    return !coord.cfg->restart_of && coord.p.nranks == 0 && job_age_s() >= START_NONE_S;
}

static int restart_expected(void)
{
    return coord.p.nranks > 0 ? coord.p.nranks : coord.restart_ranks;
}

/* rank r has no connection to the coordinator (snapc_sb_rank_list's pick) */
static int unconnected(int r, void *arg)
{
    (void)arg;
    return !(r < coord.nrank_conn && coord.rank_conn[r] >= 0);
}

/* "the job is being restored (restart-mpi of SEQDIR, N s ago): K of N ranks are back; not back:
 * ranks 1,2 (restoring), 3 (not begun)" */
static void restore_text(struct snapc_sbuf *b)
{
    int n = restart_expected();
    int back = 0;
    for (int r = 0; r < coord.nrank_conn; r++)
        back += coord.rank_conn[r] >= 0;
    char unbegun[512];
    int begun = coord_restart_begun(unbegun, sizeof unbegun);
    snapc_sb_printf(b, "the job is being restored (restart-mpi of %s/%lld, %lld s ago): ",
                    coord.parent_jobdir, (long long)coord.parent_seq, (long long)job_age_s());
    if (n <= 0) {
        snapc_sb_printf(b, "%d rank%s back", back, back == 1 ? " is" : "s are");
        return;
    }
    snapc_sb_printf(b, "%d of %d ranks are back", back, n);
    if (back >= n)
        return;
    snapc_sb_printf(b, "; not back: rank%s ", n - back == 1 ? "" : "s");
    snapc_sb_rank_list(b, n, unconnected, NULL);
    if (begun > back)
        snapc_sb_printf(b, " (%d reading %s image%s", begun - back,
                        begun - back == 1 ? "its" : "their", begun - back == 1 ? "" : "s");
    else
        snapc_sb_printf(b, " (");
    if (begun < n)
        snapc_sb_printf(b, "%snot begun: rank%s %s", begun > back ? "; " : "",
                        n - begun == 1 ? "" : "s", unbegun);
    snapc_sb_printf(b, ")");
}

#define NONE_OUTSIDE "they run the MPI library without Revive's layer (an MPI library loaded " \
    "from a file of its own, as one bundled with Julia's MPI.jl or a Python package; a " \
    "statically linked MPI; a program that never calls MPI_Init): such ranks are outside " \
    "Revive and no snapshot can be taken of them (docs/mpi.md, \"Python (mpi4py) and MPI " \
    "loaded at run time\")"

/* "no rank has connected ... in the N s since the job started: ..." */
static void none_text(struct snapc_sbuf *b)
{
    snapc_sb_printf(b, "no rank of the job has connected to Revive in the %lld s since it "
                       "started: its ranks have not reached MPI_Init yet, or " NONE_OUTSIDE,
                    (long long)job_age_s());
}

void coord_start_timer_none(void)
{
    static int said;
    if (said || !none_for_long())
        return;
    said = 1;
    struct snapc_sbuf b = {0};
    none_text(&b);
    revive_log_warn("no checkpoint at --ckpt-interval: %s (said once; the timer tries again at "
                    "each interval)", b.p ? b.p : "no rank has connected");
    snapc_sb_free(&b);
}

void coord_start_started(int i)
{
    struct conn *c = &coord.c[i];
    char err[160];
    int ok = snapc_wire_check(&c->rd.hdr, c->rd.buf, err, sizeof err) == 0 &&
             snapc_secret_equal(c->rd.buf, coord.secret, SNAPC_SECRET_HEX);
    if (c->rd.buf)
        explicit_bzero(c->rd.buf, c->rd.hdr.len);
    if (ok)
        ranks_started++;
    else
        revive_log_warn("a connection from %s said a rank started without the job's secret (not "
                        "a rank of this job); closed", c->peer);
    coord_conn_close(i);
}

/* 1 when a rank's revive-exec said STARTED. Read the ones still queued too: the loop stops
 * taking connections once the launcher has ended, and a rank that ended at once may have said
 * it just before. Only STARTED frames are read here (peeked at first): a HELLO this late is left
 * alone, as the loop leaves it. */
static int any_started(void)
{
    for (int k = 0; k < 1024 && !ranks_started && coord.tfd >= 0 && coord_accept_tcp() == 0; k++)
        ;
    for (int i = 0; i < coord.nc && !ranks_started; i++) {
        struct snapc_hdr h;
        if (coord.c[i].kind == C_PENDING &&
            recv(coord.c[i].fd, &h, sizeof h, MSG_PEEK | MSG_DONTWAIT) == (ssize_t)sizeof h &&
            h.magic == SNAPC_WIRE_MAGIC && h.type == SNAPC_MSG_STARTED)
            coord_conn_readable(i);
    }
    return ranks_started > 0;
}

const char *coord_start_none_at_end(void)
{
    if (coord.p.nranks != 0)
        return NULL;
    if (coord.cfg->restart_of) {
        /* its ranks' failures are said by coord_launchwait.c and coord_restart.c */
        static char text[128];
        snapc_fmt(text, sizeof text, "the restarted job ended before any of its %d ranks was "
                  "back (restored and connected to Revive)", restart_expected());
        return text;
    }
    /* a restart's ranks are revive-restart-rank's, which says nothing before its HELLO */
    if (coord.child_done && !coord.cfg->restart_of && !any_started()) {
        static char text[512];
        const char *l = coord.cfg->launcher ? coord.cfg->launcher : "";
        const char *name = strrchr(l, '/') ? strrchr(l, '/') + 1 : l;
        int st = coord.child_status;
        if (WIFSIGNALED(st))
            snapc_fmt(text, sizeof text, "the job ended before any rank started: its launcher "
                      "(%s) was ended by SIG%s", name, sigabbrev_np(WTERMSIG(st)));
        else
            snapc_fmt(text, sizeof text, "the job ended before any rank started: its launcher "
                      "(%s) exited with status %d (see its %s above)", name,
                      WIFEXITED(st) ? WEXITSTATUS(st) : 1,
                      WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "output" : "error");
        return text;
    }
    return "the job ended and no rank of it ever connected to Revive: its ranks never reached "
           "Revive's MPI_Init, or " NONE_OUTSIDE;
}

static int queued_for_start(int i)
{
    if (coord.p.phase != SNAPC_P_IDLE || coord.c[i].kind != C_TOOL)
        return 0;
    for (int k = 0; k < coord.p.nnext; k++)
        if (coord.p.next_clients[k] == i)
            return 1;
    return 0;
}

/* "2 of 4 ranks connected (ranks 0,1 on h1); not connected: ranks 2,3" and, when the launcher
 * was given hosts, "; hosts given to the launcher where no rank connected: h2" */
static void describe(struct snapc_sbuf *b)
{
    int n = coord.p.nranks;
    long np = 0;
    char hosts[1024] = "";
    /* every program's options of an MPMD line: their hosts, the sum of their -n */
    snapc_hosts_list_progs(coord.cfg->user_args, coord.cfg->nuser_args, coord.cfg->progs,
                           coord.cfg->nprogs, hosts, sizeof hosts, &np);
    if (n == 0 && np > 0)
        n = (int)np;
    int conn = 0;
    for (int r = 0; r < coord.nrank_conn; r++)
        conn += coord.rank_conn[r] >= 0;
    if (n > 0)
        snapc_sb_printf(b, "%d of %d ranks connected", conn, n);
    else
        snapc_sb_printf(b, "no rank connected (the launcher's arguments do not say how many "
                           "there are)");
    if (conn > 0) {
        /* the hosts where ranks run, each once */
        snapc_sb_printf(b, " (on");
        for (int r = 0; r < coord.nrank_conn; r++) {
            if (coord.rank_conn[r] < 0)
                continue;
            const char *h = coord.c[coord.rank_conn[r]].host;
            int seen = 0;
            for (int q = 0; q < r && !seen; q++)
                seen = coord.rank_conn[q] >= 0 && !strcmp(coord.c[coord.rank_conn[q]].host, h);
            if (!seen)
                snapc_sb_printf(b, " %s", h);
        }
        snapc_sb_printf(b, ")");
    }
    if (n > 0 && conn < n) {
        snapc_sb_printf(b, "; not connected: rank%s ", n - conn == 1 ? "" : "s");
        snapc_sb_rank_list(b, n, unconnected, NULL);
    }
    /* the launcher's hosts without a connected rank */
    struct snapc_sbuf idle = {0};
    for (char *s = hosts; *s;) {
        size_t l = strcspn(s, ",");
        int used = 0;
        for (int r = 0; r < coord.nrank_conn && !used; r++)
            used = coord.rank_conn[r] >= 0 && strlen(coord.c[coord.rank_conn[r]].host) == l &&
                   !strncmp(coord.c[coord.rank_conn[r]].host, s, l);
        if (!used)
            snapc_sb_printf(&idle, "%s%.*s", idle.len ? "," : "", (int)l, s);
        s += l + (s[l] == ',');
    }
    if (idle.len)
        snapc_sb_printf(b, "; hosts given to the launcher where no rank connected: %s", idle.p);
    snapc_sb_free(&idle);
}

void coord_start_wait_begin(int i, uint32_t timeout_s)
{
    if (!queued_for_start(i))
        return;
    struct conn *c = &coord.c[i];
    int64_t now = coord_now_ms();
    c->start_wait_s = timeout_s ? timeout_s : START_WAIT_DEFAULT_S;
    c->start_wait_until = now + (int64_t)c->start_wait_s * 1000;
    c->start_wait_say = now + START_WAIT_SAY_MS;
    c->start_none_said = 0;
    struct snapc_sbuf b = {0};
    if (restoring()) {
        snapc_sb_printf(&b, "waiting: ");
        restore_text(&b);
        snapc_sb_printf(&b, "; the checkpoint begins once every rank is back, or this gives up "
                            "after %u s (--timeout)", c->start_wait_s);
    } else {
        snapc_sb_printf(&b, "waiting for the job to start: ");
        describe(&b);
        snapc_sb_printf(&b, "; the checkpoint begins once every rank has connected, or this "
                            "gives up after %u s (--timeout)", c->start_wait_s);
    }
    if (none_for_long()) {
        c->start_none_said = 1;
        snapc_sb_printf(&b, "; ");
        none_text(&b);
    }
    if (b.p)
        coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, b.p, (uint32_t)b.len);
    snapc_sb_free(&b);
}

int64_t coord_start_wait_deadline(void)
{
    int64_t w = 0;
    for (int i = 0; i < coord.nc; i++) {
        struct conn *c = &coord.c[i];
        if (c->kind != C_TOOL || !c->start_wait_until)
            continue;
        int64_t t = c->start_wait_say < c->start_wait_until ? c->start_wait_say
                                                            : c->start_wait_until;
        int64_t none_at = job_start_ms + (int64_t)START_NONE_S * 1000;
        if (!c->start_none_said && coord.p.nranks == 0 && job_start_ms && none_at < t)
            t = none_at;
        if (!w || t < w)
            w = t;
    }
    return w;
}

void coord_start_wait_tick(int64_t now)
{
    for (int i = 0; i < coord.nc; i++) {
        struct conn *c = &coord.c[i];
        if (c->kind != C_TOOL || !c->start_wait_until)
            continue;
        if (!queued_for_start(i)) {
            c->start_wait_until = 0; /* the epoch began (or the request was answered) */
            continue;
        }
        int64_t waited_s = (now - (c->start_wait_until - (int64_t)c->start_wait_s * 1000)) / 1000;
        struct snapc_sbuf b = {0};
        if (now >= c->start_wait_until) {
            c->start_wait_until = 0;
            if (restoring()) {
                snapc_sb_printf(&b, "not every rank was back within %u s: ", c->start_wait_s);
                restore_text(&b);
                snapc_sb_printf(&b, "; no checkpoint was begun and the snapshot directory is "
                                    "unchanged (earlier snapshots intact); the job goes on: try "
                                    "again later (--timeout SEC waits longer)");
                revive_log_warn("gave up a checkpoint request: %s", b.p ? b.p : "");
                coord_send_done(i, -ETIMEDOUT, b.p ? b.p : "the job is being restored", 0);
                snapc_sb_free(&b);
                continue;
            }
            snapc_sb_printf(&b, "the job has not started within %u s: ", c->start_wait_s);
            describe(&b);
            snapc_sb_printf(&b, ". A host that cannot be reached (check it: ssh HOST true), or "
                                "ranks that have not reached MPI_Init yet");
            if (none_for_long())
                snapc_sb_printf(&b, ", or (no rank connected at all) " NONE_OUTSIDE);
            snapc_sb_printf(&b, "; no checkpoint was "
                                "begun and the snapshot directory is unchanged (earlier "
                                "snapshots intact); the job goes on: end it (kill %d) if a host "
                                "is lost, or try again later (--timeout SEC waits longer)",
                            (int)getpid());
            revive_log_warn("gave up a checkpoint request: %s", b.p ? b.p : "");
            coord_send_done(i, -ETIMEDOUT, b.p ? b.p : "the job has not started", 0);
        } else if (now >= c->start_wait_say || (!c->start_none_said && none_for_long())) {
            if (now >= c->start_wait_say)
                c->start_wait_say = now + START_WAIT_SAY_MS;
            if (restoring()) {
                snapc_sb_printf(&b, "still waiting after %lld s: ", (long long)waited_s);
                restore_text(&b);
            } else {
                snapc_sb_printf(&b, "still waiting for the job to start after %lld s: ",
                                (long long)waited_s);
                describe(&b);
            }
            snapc_sb_printf(&b, "; giving up in %lld s",
                            (long long)((c->start_wait_until - now + 999) / 1000));
            if (none_for_long()) {
                c->start_none_said = 1;
                snapc_sb_printf(&b, "; ");
                none_text(&b);
            }
            if (b.p)
                coord_conn_send(i, SNAPC_TOOL_PROGRESS, NULL, 0, b.p, (uint32_t)b.len);
        }
        snapc_sb_free(&b);
    }
}

void coord_start_mark(void)
{
    job_start_ms = coord_now_ms();
}

void coord_start_refuse(int i, int status, const char *text)
{
    const struct snapc_proto *p = &coord.p;
    int starting = i >= 0 && i < coord.nc && coord.c[i].kind == C_TOOL && status == -EAGAIN &&
                   p->finalizing_rank < 0 && p->ended_rank < 0 &&
                   (p->nranks == 0 || p->nhello < p->nranks);
    uint32_t timeout_s = starting ? coord.c[i].req_timeout_s : 0;
    uint32_t bound = timeout_s ? timeout_s : p->default_timeout_s;
    int64_t waited_s = job_age_s();
    struct snapc_sbuf b = {0};
    if (starting && restoring()) {
        /* whatever the bound: a long restore is a big image, not a lost host */
        restore_text(&b);
        snapc_sb_printf(&b, ". No checkpoint was begun (earlier snapshots intact); ckpt-mpirun "
                            "--wait %d waits until every rank is back and then takes the "
                            "snapshot (--timeout SEC: how long it waits, default %d s)",
                        (int)getpid(), START_WAIT_DEFAULT_S);
        coord_send_done(i, status, b.p ? b.p : text, 0);
        snapc_sb_free(&b);
        return;
    }
    if (starting && waited_s < (int64_t)bound && none_for_long()) {
        none_text(&b);
        snapc_sb_printf(&b, ". No checkpoint was begun (earlier snapshots intact); the job goes "
                            "on (ckpt-mpirun --wait %d waits for its ranks)", (int)getpid());
        coord_send_done(i, status, b.p ? b.p : text, 0);
        snapc_sb_free(&b);
        return;
    }
    if (!starting || waited_s < (int64_t)bound) {
        coord_send_done(i, status, text, 0);
        return;
    }
    snapc_sb_printf(&b, "the job has been starting for %lld s (longer than %u s%s) and is not "
                        "ready: ",
                    (long long)waited_s, bound, timeout_s ? ", --timeout" : "");
    describe(&b);
    snapc_sb_printf(&b, ". A host that cannot be reached (check it: ssh HOST true), or ranks "
                        "that have not reached MPI_Init yet");
    if (none_for_long())
        snapc_sb_printf(&b, ", or (no rank connected at all) " NONE_OUTSIDE);
    snapc_sb_printf(&b, "; no checkpoint was begun (earlier "
                        "snapshots intact); end the job (kill %d) if a host is lost, or wait "
                        "for it: ckpt-mpirun --wait --timeout SEC %d",
                    (int)getpid(), (int)getpid());
    coord_send_done(i, status, b.p ? b.p : text, 0);
    snapc_sb_free(&b);
}

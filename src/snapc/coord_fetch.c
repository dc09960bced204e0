/* The coordinator fetches images from other hosts' caches while a sequence stages (newuser9b
 * N6). Open MPI's mpirun ends every rank when a node goes: with three hosts and partner copies,
 * losing h3 ends rank 2 on the live h2, whose partner copy was on h3; nobody is left to stage
 * rank 2's image and the coordinator's host h1 holds no copy of it (coord_selfstage.c), but h2's
 * cache does. The coordinator then runs restart-mpi's fetch (tools/snapc/restart_fetch.c, given
 * as cfg->fetch_images by revive-coord: src/snapc does not link tools/) through the job's own
 * launcher: each host that may hold a copy (rank.<r>.host, rank.<r>.partner.host) sends the good
 * one it has, checked against the checksum the rank reported, into the shared sequence
 * directory under its final name.
 * The fetch runs in a forked child (its own signal mask, children, environment: the fetch
 * launches and ends launchers, and holds SIGINT/SIGTERM/SIGHUP as restart-mpi does; a thread
 * of the coordinator could do neither safely), reaped by the coordinator's waitpid(-1) loops
 * (coord_fetch_reaped); it says what it got on a pipe the loop polls (coord_fetch_fd):
 * "got R HOST PATH" for each image, then "end E" and the error. The ranks whose copies this
 * host lacks go into one fetch, started once no local copy (coord_selfstage.c's threads) runs;
 * ranks handed over while one runs go into the next. An epoch that ends meanwhile, or a signal
 * that ends the job, ends the fetch (SIGTERM: its launches are ended, nothing is used).
 * Its outcome is taken once its pipe closed AND it was reaped (coord_fetch_tick), never by a
 * blocking wait: a pipe that cannot be read (its answer lost) ends the fetch with SIGTERM, and
 * the loop goes on meanwhile (diffrev33 R-L9: a waitpid there stopped the coordinator's only
 * loop for as long as the fetch ran, up to REVIVE_FETCH_TIMEOUT). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"
#include "snapc/fetch_lines.h"

/* A rank waiting for (or in) a fetch: why nobody staged it, what this host's cache lacked. */
struct fetch_rank {
    int r;
    int got;
    char from[320];
    char why[SNAPC_TEXT_MAX];
    char tried[SNAPC_TEXT_MAX];
};

static struct fetch_rank *queue;
static int nqueue;

/* the fetch running: its child, its pipe, what it said, the ranks it fetches */
static struct {
    pid_t pid;
    int fd;
    int reaped, status, ended;  /* ended: SIGTERM sent */
    int closed;                 /* its pipe closed (EOF) or unreadable: it says no more */
    char pipe_err[128];         /* why its pipe could not be read, "" */
    uint32_t epoch;
    uint64_t seq;
    struct snapc_sbuf out;
    struct fetch_rank *ranks;
    int n;
} F = {.fd = -1};

/* Where rank R ran (its connection, or what it said before it closed), "" unknown. */
static const char *rank_host(int r)
{
    int i = r < coord.nrank_conn ? coord.rank_conn[r] : -1;
    if (i >= 0)
        return coord.c[i].host;
    if (coord.rank_last && r < coord.nrank_conn)
        return coord.rank_last[r].host;
    return "";
}

/* Whether another host than this one may hold a copy of R's image. */
static int elsewhere(int r, const char *own)
{
    const char *h = rank_host(r), *p = coord_partner_host(r);
    return (h[0] && strcmp(h, own) != 0) || (p && p[0] && strcmp(p, own) != 0);
}

int coord_fetch_add(int r, const char *why, const char *tried)
{
    char own[256] = "";
    gethostname(own, sizeof own - 1);
    if (!coord.cfg->fetch_images || !coord.cfg->local_dir || r < 0 || r >= coord.p.nranks ||
        !coord.seqdir[0] || !elsewhere(r, own))
        return -1;
    struct fetch_rank *q = realloc(queue, (size_t)(nqueue + 1) * sizeof *q);
    if (!q)
        return -1;
    queue = q;
    struct fetch_rank *x = &queue[nqueue++];
    memset(x, 0, sizeof *x);
    x->r = r;
    snapc_fmt(x->why, sizeof x->why, "%s", why);
    snapc_fmt(x->tried, sizeof x->tried, "%s", tried);
    const char *p = coord_partner_host(r);
    revive_log_info("checkpoint %llu: rank %d's image is not in this host's cache: the "
                    "coordinator fetches it from %s%s%s's cache", (unsigned long long)coord.p.seq,
                    r, rank_host(r), p && *p ? " or " : "", p && *p ? p : "");
    return 0;
}

int coord_fetch_busy(void)
{
    return F.pid > 0 || nqueue > 0;
}

int coord_fetch_fd(void)
{
    return F.pid > 0 ? F.fd : -1;
}

int coord_fetch_reaped(pid_t p, int st)
{
    if (F.pid <= 0 || p != F.pid)
        return 0;
    F.reaped = 1;
    F.status = st;
    return 1;
}

/* The child's word on each image it fetched (restart_fetch's GOT). */
static void child_got(void *arg, int rank, const char *host, const char *path)
{
    dprintf(*(int *)arg, "got %d %s %s\n", rank, host, path);
}

/* Fault point snapc-fetch-hold: the fetch says so on its pipe (the coordinator reads it) and
 * waits until the file REVIVE_FETCH_HOLD exists (10 min at most) before it fetches; a SIGTERM
 * (the coordinator ending it; blocked here, as in the coordinator) ends it meanwhile. */
static void child_hold(int wfd)
{
    const char *f = getenv("REVIVE_FETCH_HOLD");
    if (!coord_fault(REVIVE_FAULT_snapc_fetch_hold) || !f || !*f)
        return;
    dprintf(wfd, "hold until %s exists (fault point snapc-fetch-hold)\n", f);
    for (int i = 0; i < 6000 && access(f, F_OK) != 0; i++) {
        sigset_t p;
        if (sigpending(&p) == 0 && sigismember(&p, SIGTERM))
            _exit(1);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void child_run(int wfd, const struct filem_meta *m, const int *ranks, int n,
                      const char *seqdir, uint64_t seq, pid_t parent)
{
    /* the fetch (its launches) ends when the coordinator is killed */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    child_hold(wfd);
    struct rlimit rl;
    int top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    for (int fd = 3; fd < top; fd++) /* the coordinator's sockets are not the fetch's */
        if (fd != wfd)
            close(fd);
    struct snapc_fetch_req req = {.seqdir = seqdir, .seq = seq, .m = m, .ranks = ranks, .n = n,
                                  .mask = &coord.launch_mask, .got = child_got, .got_arg = &wfd};
    static char err[SNAPC_TEXT_MAX * 4];
    err[0] = 0;
    int e = coord.cfg->fetch_images(coord.cfg, &req, err, sizeof err);
    dprintf(wfd, "end %d\n%s", e, err);
    _exit(0);
}

/* What the fetch's senders are told of each queued rank (m: its host, its partner's host, the
 * checksum it reported; the caches' setting), its rank in ranks[i], the list in list. */
static void request_meta(struct filem_meta *m, int *ranks, struct snapc_sbuf *list)
{
    const struct snapc_coord_cfg *cfg = coord.cfg;
    filem_meta_set(m, "ckpt.local", "%s", *cfg->local_dir ? cfg->local_dir : "default");
    for (int i = 0; i < nqueue; i++) {
        int r = queue[i].r;
        char k[64];
        ranks[i] = r;
        snapc_sb_printf(list, "%s%d", i ? "," : "", r);
        const char *h = rank_host(r), *p = coord_partner_host(r);
        if (h[0]) {
            snapc_fmt(k, sizeof k, "rank.%d.host", r);
            filem_meta_set(m, k, "%s", h);
        }
        if (p && p[0]) {
            snapc_fmt(k, sizeof k, "rank.%d.partner.host", r);
            filem_meta_set(m, k, "%s", p);
        }
        snapc_fmt(k, sizeof k, "rank.%d.checksum", r);
        filem_meta_set(m, k, "0x%016" PRIx64, coord.p.r[r].checksum);
    }
}

/* The fetch's child started, saying what it gets on a pipe: its pid, the pipe's read end in
 * *rfd; -1 with the errno in *e when it could not be. */
static pid_t start_child(const struct filem_meta *m, const int *ranks, int *rfd, int *e)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        *e = errno;
        return -1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        child_run(pfd[1], m, ranks, nqueue, coord.seqdir, coord.p.seq, parent);
    }
    close(pfd[1]);
    if (pid < 0) {
        *e = errno;
        close(pfd[0]);
        return -1;
    }
    *rfd = pfd[0];
    return pid;
}

/* Starts the fetch of every queued rank, if none runs and no local copy does (BUSY). */
void coord_fetch_kick(int busy)
{
    if (F.pid > 0 || busy || nqueue == 0)
        return;
    if (coord.p.phase != SNAPC_P_STAGE) {
        nqueue = 0; /* the epoch ended meanwhile */
        return;
    }
    struct filem_meta m;
    filem_meta_init(&m);
    int *ranks = calloc((size_t)nqueue, sizeof *ranks);
    struct snapc_sbuf list = {0};
    int rfd = -1, e = ENOMEM;
    pid_t pid = -1;
    if (ranks) {
        request_meta(&m, ranks, &list);
        pid = start_child(&m, ranks, &rfd, &e);
    }
    filem_meta_free(&m);
    free(ranks);
    if (pid < 0) {
        char own[256] = "";
        gethostname(own, sizeof own - 1);
        coord_fail_naming_lost(-ESRCH, "%s; no rank left holds a copy of rank %d's image to "
                               "stage, the coordinator's host %s has no good one (%s), and no "
                               "fetch from the other hosts' caches could be started: %s",
                               queue[0].why, queue[0].r, own, queue[0].tried, strerror(e));
        nqueue = 0;
        snapc_sb_free(&list);
        return;
    }
    fcntl(rfd, F_SETFL, O_NONBLOCK);
    revive_log_info("checkpoint %llu: fetching rank%s %s's image%s from the other hosts' caches "
                    "(process %d)", (unsigned long long)coord.p.seq, nqueue == 1 ? "" : "s",
                    list.p ? list.p : "", nqueue == 1 ? "" : "s", (int)pid);
    snapc_sb_free(&list);
    F.pid = pid;
    F.fd = rfd;
    F.reaped = F.ended = F.closed = 0;
    F.pipe_err[0] = 0;
    F.epoch = coord.p.epoch;
    F.seq = coord.p.seq;
    memset(&F.out, 0, sizeof F.out);
    F.ranks = queue;
    F.n = nqueue;
    queue = NULL;
    nqueue = 0;
}

static void fetch_done(void);

void coord_fetch_tick(void)
{
    if (nqueue > 0 && coord.p.phase != SNAPC_P_STAGE)
        nqueue = 0;
    if (F.pid > 0 && F.closed && F.reaped) {
        fetch_done(); /* it said all it will and was reaped: its outcome */
        return;
    }
    if (F.pid <= 0 || F.ended || F.reaped)
        return;
    if (F.epoch != coord.p.epoch || coord.p.phase != SNAPC_P_STAGE || coord.end_signal) {
        revive_log_info("checkpoint %llu: %s: the fetch of images from other hosts' caches is "
                        "ended", (unsigned long long)F.seq,
                        coord.end_signal ? "the job is ending" : "the checkpoint ended");
        kill(F.pid, SIGTERM);
        F.ended = 1;
    }
}

/* A "got R HOST PATH" line of the fetch's answer: rank R marked with where its copy came from. */
static void got_rank(void *arg, int r, const char *host, const char *base, size_t blen)
{
    (void)arg;
    int partner = blen >= 8 && !strncmp(base, "partner_", 8);
    for (int i = 0; i < F.n; i++)
        if (F.ranks[i].r == r) {
            F.ranks[i].got = 1;
            snapc_fmt(F.ranks[i].from, sizeof F.ranks[i].from,
                      "the %s in %s's cache, fetched by the coordinator",
                      partner ? "partner copy" : "rank's own copy", host);
        }
}

/* The fetch's lines (out): each rank got marked; then "end E" and its error to the end,
 * returned (NULL: no "end" came). */
static const char *read_lines(const char *out)
{
    return snapc_fetch_lines(out, got_rank, NULL);
}

/* The fetch said everything (its pipe closed) and was reaped: each rank fetched is staged, or
 * the sequence fails naming the lost host first and what each host answered. */
static void fetch_done(void)
{
    const char *err = read_lines(F.out.p ? F.out.p : "");
    /* no answer: why (its pipe broken, its end by a signal) */
    char how[256] = "";
    if (F.pipe_err[0])
        snapc_fmt(how, sizeof how, "its answer could not be read (%s), so it was ended",
                  F.pipe_err);
    else if (!err) {
        if (F.reaped && WIFSIGNALED(F.status))
            snapc_fmt(how, sizeof how, "the fetch ended by signal %d (%s) before its answer",
                     WTERMSIG(F.status), strsignal(WTERMSIG(F.status)));
        else
            snapc_fmt(how, sizeof how, "the fetch ended before its answer");
    }
    int failed = -1;
    for (int i = 0; i < F.n && failed < 0; i++)
        if (!F.ranks[i].got)
            failed = i;
    if (F.epoch != coord.p.epoch || coord.p.phase != SNAPC_P_STAGE) {
        revive_log_info("checkpoint %llu: the fetch of images from other hosts' caches ended "
                        "after the checkpoint did: not used", (unsigned long long)F.seq);
    } else if (failed >= 0) {
        char own[256] = "";
        const struct fetch_rank *x = &F.ranks[failed];
        gethostname(own, sizeof own - 1);
        coord_fail_naming_lost(-ESRCH, "%s; no rank left holds a copy of rank %d's image to "
                               "stage, the coordinator's host %s has no good one (%s), and the "
                               "fetch from the other hosts' caches brought none: %s",
                               x->why, x->r, own, x->tried,
                               how[0] ? how : *err ? err : "no answer");
    } else {
        for (int i = 0; i < F.n; i++) {
            revive_log_info("rank %d: image staged by the coordinator from %s",
                            F.ranks[i].r, F.ranks[i].from);
            coord_self_stage_note(F.ranks[i].r, F.ranks[i].from);
            if (snapc_proto_self_staged(&coord.p, F.ranks[i].r) < 0)
                revive_log_error("out of memory in the coordinator");
        }
        coord_run_actions(); /* the commit, when they were the last images */
    }
    if (F.fd >= 0)
        close(F.fd);
    F.fd = -1;
    F.pid = 0;
    F.closed = 0;
    snapc_sb_free(&F.out);
    free(F.ranks);
    F.ranks = NULL;
    F.n = 0;
    coord_fetch_kick(coord_self_stage_copying()); /* ranks handed over meanwhile */
}

/* The pipe said all it will: no longer polled; the outcome once the child is reaped (at once
 * when it was already: an EOF comes with its exit, its SIGCHLD mostly after). */
static void pipe_closed(void)
{
    close(F.fd);
    F.fd = -1;
    F.closed = 1;
    if (!F.reaped) {
        int st;
        if (waitpid(F.pid, &st, WNOHANG) == F.pid)
            F.reaped = 1, F.status = st;
    }
    if (F.reaped)
        fetch_done();
}

/* Its pipe cannot be read (WHY): its answer is lost. The fetch is ended (what it copied is not
 * known) and its outcome taken once it is reaped; the loop is not held meanwhile (R-L9). */
static void pipe_broken(const char *why)
{
    snapc_fmt(F.pipe_err, sizeof F.pipe_err, "%s", why);
    revive_log_warn("checkpoint %llu: the answer of the fetch from other hosts' caches cannot be "
                    "read (%s): the fetch is ended", (unsigned long long)F.seq, why);
    if (!F.reaped && !F.ended) {
        kill(F.pid, SIGTERM);
        F.ended = 1;
    }
    pipe_closed();
}

void coord_fetch_ready(void)
{
    char buf[4096];
    for (;;) {
        ssize_t k = read(F.fd, buf, sizeof buf - 1);
        if (k > 0) {
            snapc_fetch_out_add(&F.out, buf, (size_t)k);
            /* fault point snapc-fetch-pipe-error: once the fetch said it holds
             * (snapc-fetch-hold), its pipe reads as broken */
            if (F.out.p && strstr(F.out.p, "hold until ") && /* (p NULL: out of memory) */
                coord_fault(REVIVE_FAULT_snapc_fetch_pipe_error)) {
                pipe_broken("Input/output error (fault point snapc-fetch-pipe-error)");
                return;
            }
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN)
            return;
        if (k < 0)
            pipe_broken(strerror(errno));
        else
            pipe_closed(); /* EOF: the child has said all it will */
        return;
    }
}

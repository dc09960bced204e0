/* restart-mpi's fetch of rank images from other hosts' caches (restart_fetch.h). */
#define _GNU_SOURCE
#include "restart_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/procfs.h"
#include "common/text.h"
#include "filem/fetch.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "host_probe.h"
#include "probe_route.h"
#include "restart_signal.h"
#include "spawn_group.h"
#include "snapc/hosts.h"
#include "snapc/iface.h"
#include "snapc/util.h"

#define MAX_HOSTS 256
#define OUT_MAX (64 * 1024) /* of the launcher's output kept (its last bytes) */
/* A sender's line about a rank, whole: "sent PATH", or "none: " and, for each of its two
 * copies refused, the copy's path and why (the image reader's words naming it again) */
#define FETCH_LINE_MAX REVIVE_TEXT_PATHS(5)

struct host {
    char name[256];
};

/* Per missing rank: what the hosts that could hold it answered. */
struct want {
    int rank, done;
    struct snapc_sbuf why;
};

static const char *me = "restart-mpi";

static int add_host(struct host *h, int *n, const char *name)
{
    if (!name || !*name)
        return -1;
    for (int i = 0; i < *n; i++)
        if (!strcmp(h[i].name, name))
            return i;
    if (*n == MAX_HOSTS)
        return -1;
    snprintf(h[*n].name, sizeof h[*n].name, "%s", name);
    return (*n)++;
}

/* The hosts a rank's image may be cached on: its own node, its partner node. */
static const char *holder(const struct filem_meta *m, int rank, int partner)
{
    char k[64];
    snprintf(k, sizeof k, partner ? "rank.%d.partner.host" : "rank.%d.host", rank);
    return filem_meta_get(m, k);
}

/* The check's words when RANK's shared image is there but damaged (moved aside), else NULL. */
static const char *damage_of(const struct restart_fetch *f, int rank)
{
    for (int i = 0; i < f->ndamaged; i++)
        if (f->damaged[i] == rank)
            return f->damaged_why[i];
    return NULL;
}

static int holds(const struct restart_fetch *f, int rank, const char *host)
{
    const char *a = holder(f->m, rank, 0), *b = holder(f->m, rank, 1);
    return (a && !strcmp(a, host)) || (b && !strcmp(b, host));
}

/* Launcher options that place processes (dropped: the fetch places one on one host). */
static int placing_option(const char *a)
{
    return snapc_launcher_option(a, strlen(a)) & (SNAPC_LOPT_HOSTS | SNAPC_LOPT_HOSTFILE |
                                                  SNAPC_LOPT_NP | SNAPC_LOPT_PER_NODE);
}

struct argv {
    char *v[512];
    int n;
};

static int push(struct argv *a, const char *s)
{
    if (a->n + 1 >= (int)(sizeof a->v / sizeof a->v[0]))
        return -1;
    a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
    return 0;
}

/* One launch of the sender on one host. */
struct launch {
    const char *host;
    pid_t pid;                     /* the launcher, leader of its process group; 0 when ended */
    int fd;                        /* its output, -1 at its end */
    int st;                        /* its exit status; 124 ended at the bound or once every
                                    * image was there; -errno not started */
    struct snapc_sbuf out;         /* its output (the last OUT_MAX bytes) */
    struct host_probe probe;       /* is the host up? asked before the launch */
    int started;                   /* launched (the probe said up) */
    long started_ms;               /* when (ms since the fetch began) */
    int sender;                    /* the sender said it started (FILEM_FETCH_STARTED) */
    int tries;                     /* launches made (a launcher that died of SIGPIPE before
                                    * its sender said a word is started once more) */
    int sigpipe;                   /* the last launcher ended by SIGPIPE */
};

/* launch_end's status for a launch ended because its sender never started */
#define ST_NO_SENDER 125

/* Starts ARGV (the launcher) in a process group of its own, its output into L->fd. The fault
 * point fetch-launch-sigpipe makes the first launch on each host die of SIGPIPE before it
 * says a word, as MPICH's mpiexec was seen to (see relaunch()). */
static void launch_start(struct launch *l, char *const *argv)
{
    int fault = l->tries == 0 && revive_fault(REVIVE_FAULT_fetch_launch_sigpipe);
    l->tries++;
    int p[2];
    l->fd = -1;
    l->pid = 0;
    if (pipe2(p, O_CLOEXEC) < 0) {
        l->st = -errno;
        return;
    }
    /* the fault: a "launcher" that dies of SIGPIPE at once, before a word */
    static char *const dies[] = {(char *)"/bin/sh", (char *)"-c", (char *)"kill -PIPE $$", NULL};
    pid_t pid = spawn_group(fault ? dies : argv, p[1], p[1], 0);
    if (pid < 0) {
        l->st = pid;
        close(p[0]);
        close(p[1]);
        return;
    }
    close(p[1]);
    l->pid = pid;
    l->fd = p[0];
}

/* Every process's parent, as /proc shows them at one pass. */
struct proc_table {
    pid_t *ps; /* pid, parent pid, pid, parent pid, ... */
    int n, cap;
};

static long note_process(long pid, int dirfd, void *arg)
{
    struct proc_table *t = arg;
    char stat[1024];
    uint64_t ppid;
    (void)dirfd;
    if (t->n >= t->cap)
        return 1;
    if (revive_proc_read((pid_t)pid, 0, "stat", stat, sizeof stat) > 0 &&
        revive_stat_field(stat, 4, &ppid) == 0) {
        t->ps[2 * t->n] = (pid_t)pid;
        t->ps[2 * t->n + 1] = (pid_t)ppid;
        t->n++;
    }
    return 0;
}

/* The processes descended from PID, at most MAX, into OUT: how many. A launcher puts its remote
 * shells out of its process group (Hydra: a session of their own each), and a remote shell
 * that hangs outlives a launcher ended by its group's signal (seen: the bed's hung agent left
 * running once mpiexec had gone). */
static int descendants(pid_t pid, pid_t *out, int max)
{
    struct proc_table t = { malloc(2 * 32768 * sizeof(pid_t)), 0, 32768 };
    if (!t.ps)
        return 0;
    revive_proc_for_each_number("/proc", note_process, &t);
    pid_t *ps = t.ps;
    int n = t.n;
    int m = 0;
    for (int head = -1; head < m; head++) { /* breadth first from PID */
        pid_t parent = head < 0 ? pid : out[head];
        for (int i = 0; i < n && m < max; i++)
            if (ps[2 * i + 1] == parent)
                out[m++] = ps[2 * i];
    }
    free(ps);
    return m;
}

/* Ends a launch still running (SIGTERM to its group and to every process descended from it,
 * SIGKILL 3 s later) and reaps it. */
static void launch_end(struct launch *l, int kill_it)
{
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    if (!l->pid)
        return;
    if (kill_it) {
        pid_t kids[256];
        int nk = descendants(l->pid, kids, 256); /* while they are still its */
        kill(-l->pid, SIGTERM);
        for (int i = 0; i < nk; i++)
            kill(kids[i], SIGTERM);
        for (int i = 0; i < 30 && waitpid(l->pid, NULL, WNOHANG) == 0; i++)
            usleep(100 * 1000);
        kill(-l->pid, SIGKILL);
        for (int i = 0; i < nk; i++)
            kill(kids[i], SIGKILL);
    }
    int st = 0;
    while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (kill_it)
        l->st = 124;
    else
        l->st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    l->pid = 0;
}

static int worded(const char *b, const char *e)
{
    for (; b < e; b++)
        if ((*b >= 'a' && *b <= 'z') || (*b >= 'A' && *b <= 'Z'))
            return 1;
    return 0;
}

static int dashes(const char *b, const char *e)
{
    int n = 0;
    for (; b < e && *b != '\n'; b++)
        n += *b == '-';
    return n >= 10;
}

/* The launcher's word on a failure, one line of TEXT, cut to fit: Open MPI frames its
 * messages with lines of dashes and says what happened on the first line inside (the last is
 * advice); otherwise the last line with a word in it. */
static void launcher_word(const char *text, char *out, size_t len)
{
    out[0] = 0;
    const char *end = text + strlen(text), *frame[2] = {NULL, NULL}; /* the last two frames */
    for (const char *b = text; b < end;) {
        const char *e = strchr(b, '\n');
        e = e ? e : end;
        if (dashes(b, e)) {
            frame[0] = frame[1];
            frame[1] = e;
        }
        b = e < end ? e + 1 : end;
    }
    const char *from = frame[0], *to = frame[1];
    for (const char *b = from ? from + 1 : NULL; b && b < to;) {
        const char *e = strchr(b, '\n');
        e = e && e < to ? e : to;
        if (worded(b, e)) {
            while (*b == ' ')
                b++;
            snprintf(out, len, "%.*s", (int)(e - b), b);
            return;
        }
        b = e + 1;
    }
    while (end > text) {
        const char *b = end;
        while (b > text && b[-1] != '\n')
            b--;
        if (worded(b, end)) {
            size_t l = (size_t)(end - b);
            while (l && (b[l - 1] == '\n' || b[l - 1] == ' ' || b[l - 1] == '\r'))
                l--;
            snprintf(out, len, "%.*s", (int)l, b);
            return;
        }
        end = b > text ? b - 1 : b;
    }
}


/* The sender's command for HOST and the ranks of W (n) it may hold, into A (its words point
 * into F, LIST, SUMS and HOSTARG): how many ranks (0: none), or -E2BIG. */
static int fetch_argv(const struct restart_fetch *f, const char *host, const char *addr,
                      const struct want *w, int n, const char *local, struct argv *a,
                      struct snapc_sbuf *list, struct snapc_sbuf *sums, char *hostarg, size_t hlen)
{
    int count = 0;
    for (int i = 0; i < n; i++)
        if (holds(f, w[i].rank, host)) {
            char key[64];
            snprintf(key, sizeof key, "rank.%d.checksum", w[i].rank);
            const char *sum = filem_meta_get(f->m, key);
            if (f->send_sums && sum)
                snapc_sb_printf(sums, "%s%d:%s", sums->len ? "," : "", w[i].rank, sum);
            snapc_sb_printf(list, "%s%d", count++ ? "," : "", w[i].rank);
        }
    int ompi = !strcmp(f->flavor, "ompi");
    a->n = 0;
    snprintf(hostarg, hlen, ompi ? "%s:1" : "%s", host);
    int bad = push(a, f->launcher);
    if (ompi)
        bad |= push(a, "-x") | push(a, FILEM_FETCH_SECRET_ENV);
    for (int i = 0; i < f->prog0; i++) {
        if (placing_option(f->user[i])) {
            i++; /* and its value */
            continue;
        }
        bad |= push(a, f->user[i]);
    }
    bad |= push(a, ompi ? "--host" : "-hosts") | push(a, hostarg);
    bad |= push(a, ompi ? "-np" : "-n") | push(a, "1");
    bad |= push(a, f->rrank) | push(a, "--fetch-to") | push(a, addr) | push(a, "--ranks") |
           push(a, list->p ? list->p : "");
    if (local)
        bad |= push(a, "--local") | push(a, local);
    if (sums->p)
        bad |= push(a, "--sums") | push(a, sums->p);
    bad |= push(a, f->seqdir);
    return bad ? -E2BIG : count;
}

/* Starts the sender on HOST for the ranks of W (n) it may hold. */
static void fetch_start(const struct restart_fetch *f, struct launch *l, const char *addr,
                        const struct want *w, int n, const char *local)
{
    struct snapc_sbuf list = {0}, sums = {0};
    struct argv a = {.n = 0};
    char hostarg[300];
    int count = fetch_argv(f, l->host, addr, w, n, local, &a, &list, &sums, hostarg,
                           sizeof hostarg);
    if (count <= 0)
        l->st = -E2BIG, l->fd = -1, l->pid = 0;
    else
        launch_start(l, a.v);
    snapc_sb_free(&list);
    snapc_sb_free(&sums);
}

/* What the sender on L's host said about RANK last ("sent PATH", "none: WHY"), or "". */
static void said_about(const struct launch *l, int rank, char *line, size_t len)
{
    char tag[64];
    int tl = snprintf(tag, sizeof tag, "%s rank %d: ", FILEM_FETCH_TAG, rank);
    line[0] = 0;
    for (const char *p = l->out.p ? strstr(l->out.p, tag) : NULL; p; p = strstr(p + 1, tag)) {
        if (p != l->out.p && p[-1] != '\n')
            continue;
        size_t n = strcspn(p + tl, "\n");
        if (p[tl + n] != '\n')
            break; /* not whole yet */
        snprintf(line, len, "%.*s", (int)n, p + tl);
    }
}

/* A rank the sender on L's host says it sent: checked against snapshot.meta (the receiver
 * checked it against the sender's word), then done and said. */
static void take_sent(const struct restart_fetch *f, const struct launch *l, struct want *w)
{
    char line[FETCH_LINE_MAX], path[PATH_MAX + 32], key[64], verr[REVIVE_TEXT_PATHS(2)] = "";
    said_about(l, w->rank, line, sizeof line);
    snprintf(path, sizeof path, "%s/rank_%d.img", f->seqdir, w->rank);
    if (strncmp(line, "sent ", 5) != 0 || access(path, F_OK) != 0)
        return;
    uint64_t want = 0;
    snprintf(key, sizeof key, "rank.%d.checksum", w->rank);
    if (filem_meta_get_u64(f->m, key, &want) < 0 ||
        filem_stage_verify(path, want, verr, sizeof verr) < 0) {
        unlink(path);
        snapc_sb_printf(&w->why, "%s%s: the copy it sent (%s) fails its check against "
                                 "snapshot.meta (%s)", w->why.len ? "; " : "", l->host,
                        line + 5, verr);
        return;
    }
    w->done = 1;
    if (f->got)
        f->got(f->got_arg, w->rank, l->host, line + 5);
    if (damage_of(f, w->rank))
        fprintf(stderr, "%s: rank %d's image in %s is damaged: fetched the good copy from %s "
                        "(%s), verified; it replaces the damaged one, and rank %d restores from "
                        "it\n", me, w->rank, f->seqdir, l->host, line + 5, w->rank);
    else
        fprintf(stderr, "%s: rank %d's image was not in %s: fetched from %s (%s), verified\n",
                me, w->rank, f->seqdir, l->host, line + 5);
}

/* A rank whose copy the receiver kept (received whole, checked against the sender's checksum,
 * renamed) although no sender said so: its sender ended right after handing the kernel its last
 * bytes (killed, or its launcher gone), which arrived after the launch ended. Checked against
 * snapshot.meta as take_sent does, then done and said; a copy failing that is removed. */
static void take_arrived(const struct restart_fetch *f, const char *host, struct want *w)
{
    char path[PATH_MAX + 32], key[64], verr[REVIVE_TEXT_PATHS(2)] = "";
    snprintf(path, sizeof path, "%s/rank_%d.img", f->seqdir, w->rank);
    if (w->done || access(path, F_OK) != 0)
        return;
    uint64_t want = 0;
    snprintf(key, sizeof key, "rank.%d.checksum", w->rank);
    if (filem_meta_get_u64(f->m, key, &want) < 0 || filem_stage_verify(path, want, verr, sizeof verr) < 0) {
        unlink(path);
        snapc_sb_printf(&w->why, "%sthe copy that came fails its check against snapshot.meta (%s)",
                        w->why.len ? "; " : "", verr);
        return;
    }
    w->done = 1;
    if (f->got)
        f->got(f->got_arg, w->rank, host, path);
    fprintf(stderr, "%s: rank %d's image was not in %s: fetched from %s, verified (its sender ended "
                    "before it said which copy it sent)\n", me, w->rank, f->seqdir, host);
}

/* Why RANK did not come from L's host, for the message; RX: the receiver, which kept what broke
 * a copy whose sender said nothing of it (killed mid-way). */
static void why_not(const struct launch *l, int limit, int start_limit, struct want *w,
                    struct filem_partner_rx *rx)
{
    char line[FETCH_LINE_MAX], said[FETCH_LINE_MAX + 1024], rxw[600];
    said_about(l, w->rank, line, sizeof line);
    if (!strncmp(line, "sent ", 5))
        return; /* taken and refused: said by take_sent */
    if (!strncmp(line, "none: ", 6))
        snapc_fmt(said, sizeof said, "%s", line + 6);
    else if (*line)
        snapc_fmt(said, sizeof said, "%s", line);
    else if (rx && filem_partner_rx_why(rx, w->rank, rxw, sizeof rxw)) {
        /* the sender began the copy and said nothing more: it (or its host) ended mid-way */
        char ll[300] = "";
        launcher_word(l->out.p ? l->out.p : "", ll, sizeof ll);
        if (l->st == 124)
            snapc_fmt(said, sizeof said, "its sender began the copy, then %s; not done within %d s "
                      "(REVIVE_FETCH_TIMEOUT: raise it for a slow link)", rxw, limit);
        else
            snapc_fmt(said, sizeof said, "its sender began the copy and ended mid-way: %s (the "
                      "launcher: status %d%s%s)", rxw, l->st, *ll ? ": " : "", ll);
    } else if (l->sender && l->st != 124 && l->st >= 0 && l->st != ST_NO_SENDER) {
        char ll[300] = "";
        launcher_word(l->out.p ? l->out.p : "", ll, sizeof ll);
        snapc_fmt(said, sizeof said, "its sender started, then ended without a word on rank %d "
                  "(the launcher: status %d%s%s)", w->rank, l->st, *ll ? ": " : "", ll);
    }
    else if (l->probe.state == PROBE_DOWN)
        snapc_fmt(said, sizeof said, "%s", l->probe.why);
    else if (l->st == ST_NO_SENDER)
        snapc_fmt(said, sizeof said, "the launch there started no sender within %d s (its "
                  "remote shell's port answers, the launch hangs; REVIVE_FETCH_START_TIMEOUT)",
                  start_limit);
    else if (l->st == 124)
        snapc_fmt(said, sizeof said, "not reached within %d s (REVIVE_FETCH_TIMEOUT)", limit);
    else if (l->st < 0)
        snapc_fmt(said, sizeof said, "the launcher could not be started: %s", strerror(-l->st));
    else if (l->sigpipe)
        snapc_fmt(said, sizeof said, "not reached (the launcher died of SIGPIPE%s before its "
                  "sender said a word)", l->tries > 1 ? ", launched twice" : "");
    else {
        char ll[300];
        launcher_word(l->out.p ? l->out.p : "", ll, sizeof ll);
        snapc_fmt(said, sizeof said, "not reached (the launcher: status %d%s%s)", l->st,
                  *ll ? ": " : "", ll);
    }
    snapc_sb_printf(&w->why, "%s%s: %s", w->why.len ? "; " : "", l->host, said);
}

/* Whether L, whose launcher has just ended, is launched once more: MPICH's mpiexec (Hydra)
 * dies of SIGPIPE at times when the process it started ends at once (seen twice in a hundred
 * runs of `mpiexec -n 1 true` at load 12, and once in CI as a fetch's "not reached (the
 * launcher: status 141)": it writes to its proxy's socket after the proxy closed it), before
 * it passed on a word of the sender. Nothing was done then (no sender said it started), so
 * the launch is made again, once; said at REVIVE_VERBOSE=1.
 * The same for Open MPI's mpirun failing its orte_init because another mpirun started at the
 * same moment on this host made its session directory first (mkdir of $TMPDIR/ompi.HOST.UID:
 * "File exists", "orte_session_dir failed"): the fetches from two hosts are launched at once,
 * and on the test bed 1 pair in 15 failed so when the directory was not there yet (lostfs-ompi
 * failed 2 runs in 4 that way). */
static int relaunch(struct launch *l)
{
    int race = !l->sigpipe && l->st > 0 && l->out.p &&
               strstr(l->out.p, "orte_session_dir failed") != NULL;
    if ((!l->sigpipe && !race) || l->sender || l->tries >= 2)
        return 0;
    const char *v = getenv("REVIVE_VERBOSE");
    if (v && atoi(v) >= 1)
        fprintf(stderr, "%s: the launcher of the fetch on %s %s before its sender said a word: "
                        "launched again\n", me, l->host,
                race ? "failed to make its session directory (another launcher made it at "
                       "the same moment)"
                     : "died of SIGPIPE");
    snapc_sb_free(&l->out);
    memset(&l->out, 0, sizeof l->out);
    return 1;
}

/* Where the remote shell goes for each of H[0..nh), asked of ssh for all at once (probe_route.h) */
static void resolve_hosts(const char *agent, const struct host *h, int nh)
{
    const char **names = calloc((size_t)nh + 1, sizeof *names);
    if (!names)
        return;
    for (int k = 0; k < nh; k++)
        names[k] = h[k].name;
    probe_route_resolve(agent, names, nh);
    free(names);
}

/* Every host asked at once; each rank's first good copy is kept; the launches still running
 * once every image is there (a lost host's, waiting for it) are ended. */
static void fetch_all(const struct restart_fetch *f, struct host *h, int nh, const char *addr,
                      struct want *w, int n, const char *local, struct filem_partner_rx *rx)
{
    const char *lim = getenv("REVIVE_FETCH_TIMEOUT");
    int limit = lim && atoi(lim) > 0 ? atoi(lim) : 120;
    const char *clim = getenv("REVIVE_FETCH_CONNECT_TIMEOUT");
    int climit = clim && atoi(clim) > 0 ? atoi(clim) : 10;
    /* a launch whose sender has not started by then hangs (a host whose remote shell's port
     * answers but whose launch never comes up: Hydra waits for its proxy for ever); the
     * transfer that follows a start keeps the whole bound */
    const char *slim = getenv("REVIVE_FETCH_START_TIMEOUT");
    int start_limit = slim && atoi(slim) > 0 ? atoi(slim) : 30;
    if (start_limit > limit)
        start_limit = limit;
    int refused_down = host_probe_over_rsh(f->user, f->prog0, f->flavor);
    /* each host asked where the launch's remote shell goes (probe_route.h: port 22 asked
     * whatever the remote shell refused a live host reached another way, diffrev48 R-M2) */
    char agent[1024];
    probe_launch_agent(f->user, f->prog0, f->flavor, agent, sizeof agent);
    struct launch *l = calloc((size_t)nh, sizeof *l);
    if (!l)
        return;
    resolve_hosts(agent, h, nh);
    /* every host probed at once; a launch starts as soon as its host answers */
    for (int k = 0; k < nh; k++) {
        char dest[256];
        l[k].host = h[k].name;
        l[k].fd = -1;
        int port = probe_route(agent, l[k].host, dest, sizeof dest);
        host_probe_start(&l[k].probe, dest, port, refused_down);
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int left = 0, running = 0;
        if (restart_signal_pending())
            break; /* every launch is ended below; restart-mpi then ends by it */
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        for (int k = 0; k < nh; k++) {
            host_probe_step(&l[k].probe, climit * 1000);
            if (l[k].probe.state == PROBE_UP && !l[k].started) {
                l[k].started = 1;
                l[k].started_ms = ms;
                fetch_start(f, &l[k], addr, w, n, local);
            }
            if (l[k].pid && l[k].fd >= 0 && !l[k].sender &&
                ms - l[k].started_ms >= (long)start_limit * 1000) {
                launch_end(&l[k], 1);
                l[k].st = ST_NO_SENDER;
            }
        }
        for (int i = 0; i < n; i++)
            left += !w[i].done;
        for (int k = 0; k < nh; k++)
            running += l[k].pid != 0 || l[k].probe.state == PROBE_WAIT;
        if (!left || !running)
            break;
        struct pollfd pf[2 * MAX_HOSTS], probes[MAX_HOSTS];
        int idx[MAX_HOSTS], np = 0, nprobe = 0;
        for (int k = 0; k < nh; k++) {
            if (l[k].probe.state == PROBE_WAIT)
                probes[nprobe++] = (struct pollfd){.fd = l[k].probe.fd, .events = POLLOUT};
            if (!l[k].pid)
                continue;
            if (ms >= (long)limit * 1000) {
                launch_end(&l[k], 1);
                continue;
            }
            if (l[k].fd < 0) { /* output closed: its end is near */
                int st;
                pid_t r = waitpid(l[k].pid, &st, WNOHANG);
                if (r == l[k].pid) {
                    l[k].st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    l[k].sigpipe = WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE;
                    l[k].pid = 0;
                    if (relaunch(&l[k])) {
                        l[k].started_ms = ms;
                        fetch_start(f, &l[k], addr, w, n, local);
                    }
                }
                continue;
            }
            pf[np] = (struct pollfd){.fd = l[k].fd, .events = POLLIN};
            idx[np++] = k;
        }
        for (int j = 0; j < nprobe; j++) /* one poll for both kinds */
            pf[np + j] = probes[j];
        if (poll(pf, (nfds_t)(np + nprobe), 200) < 0 && errno != EINTR)
            break;
        for (int j = 0; j < np; j++) {
            if (!pf[j].revents)
                continue;
            struct launch *x = &l[idx[j]];
            char buf[4096];
            ssize_t k = read(x->fd, buf, sizeof buf - 1);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                close(x->fd);
                x->fd = -1;
                continue;
            }
            buf[k] = 0;
            if (x->out.len + (size_t)k > OUT_MAX) {
                snapc_sb_free(&x->out); /* the beginning goes: the end says what happened */
                memset(&x->out, 0, sizeof x->out);
            }
            snapc_sb_printf(&x->out, "%s", buf);
            if (!x->sender && x->out.p && strstr(x->out.p, FILEM_FETCH_STARTED "\n"))
                x->sender = 1;
            for (int i = 0; i < n; i++)
                if (!w[i].done && holds(f, w[i].rank, x->host))
                    take_sent(f, x, &w[i]);
        }
    }
    int left = 0;
    for (int i = 0; i < n; i++)
        left += !w[i].done;
    if (left) {
        /* a signal: the copies under way are ended, each removes its part; else they are
         * waited for (a sender killed after its last bytes left: they still arrive), until the
         * bound: one still coming then (a slow link) is ended too (diffrev35 R-L5) */
        if (restart_signal_pending())
            filem_partner_rx_abort(rx);
        struct timespec until = {t0.tv_sec + limit, t0.tv_nsec};
        filem_partner_rx_quiesce_until(rx, &until);
    }
    for (int k = 0; k < nh; k++) {
        int ended_by_us = l[k].pid != 0; /* still running: every image is there */
        launch_end(&l[k], ended_by_us);
        if (l[k].probe.state == PROBE_DOWN && f->down)
            f->down(l[k].host, l[k].probe.why);
        const char *v = getenv("REVIVE_VERBOSE");
        if (v && atoi(v) >= 2 && l[k].out.p) {
            char st[64];
            if (ended_by_us)
                snapc_fmt(st, sizeof st, "ended once every image was in");
            else
                snapc_fmt(st, sizeof st, "exit status %d", l[k].st);
            fprintf(stderr, "%s: the fetch on %s (%s) said:\n%s", me, l[k].host, st, l[k].out.p);
        }
        for (int i = 0; i < n; i++)
            if (!w[i].done && holds(f, w[i].rank, l[k].host)) {
                take_sent(f, &l[k], &w[i]); /* said in its last bytes */
                if (!restart_signal_pending())
                    take_arrived(f, l[k].host, &w[i]);
                if (!w[i].done)
                    why_not(&l[k], limit, start_limit, &w[i], rx);
            }
        snapc_sb_free(&l[k].out);
    }
    free(l);
}

/* Hosts in the order they are named in messages (all are asked at once): this one, the
 * hostfile's, the rest as named in snapshot.meta. */
static int order_hosts(const struct restart_fetch *f, struct want *w, int n, struct host *h)
{
    int nh = 0;
    char self[256];
    int found[MAX_HOSTS] = {0};
    struct host all[MAX_HOSTS];
    int na = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            add_host(all, &na, holder(f->m, w[i].rank, k));
    if (gethostname(self, sizeof self) == 0) {
        self[sizeof self - 1] = 0;
        for (int i = 0; i < na; i++)
            if (!strcmp(all[i].name, self) && !found[i]++)
                add_host(h, &nh, all[i].name);
    }
    FILE *hf = f->hostfile ? fopen(f->hostfile, "r") : NULL;
    char line[512];
    while (hf && fgets(line, sizeof line, hf)) {
        line[strcspn(line, " \t:\n#")] = 0;
        for (int i = 0; i < na; i++)
            if (*line && !strcmp(all[i].name, line) && !found[i]++)
                add_host(h, &nh, all[i].name);
    }
    if (hf)
        fclose(hf);
    for (int i = 0; i < na; i++)
        if (!found[i]++)
            add_host(h, &nh, all[i].name);
    return nh;
}

/* One line for what was fetched and how long it took (bench/stage/fetch.sh reads it). */
static void said_fetched(const struct restart_fetch *f, const struct want *w, int n, long ms)
{
    int got = 0;
    double mib = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 32];
        struct stat st;
        snprintf(path, sizeof path, "%s/rank_%d.img", f->seqdir, w[i].rank);
        if (w[i].done && stat(path, &st) == 0) {
            got++;
            mib += (double)st.st_size / 1048576.0;
        }
    }
    if (got)
        fprintf(stderr, "%s: fetched %d image%s (%.1f MiB) in %ld ms\n", me, got,
                got == 1 ? "" : "s", mib, ms);
}

int restart_fetch_images(const struct restart_fetch *f, const int *missing, int n, char *err,
                         size_t errlen)
{
    struct want *w = calloc((size_t)n, sizeof *w);
    struct host *h = calloc(MAX_HOSTS, sizeof *h);
    if (!w || !h) {
        free(w);
        free(h);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++)
        w[i].rank = missing[i];
    me = f->who ? f->who : "restart-mpi";
    const char *local = filem_meta_get(f->m, "ckpt.local");
    struct filem_partner_rx *rx = NULL;
    char secret[65], addr[128], ip[64];
    int e = 0;
    if (local && !strcmp(local, "none")) {
        /* the ranks wrote straight into the snapshot directory: no other copy exists */
        for (int i = 0; i < n; i++)
            snapc_sb_printf(&w[i].why, "the job kept no node-local copies (ckpt.local none)");
        goto out;
    }
    if (local && !strcmp(local, "default"))
        local = NULL; /* each host's own default cache, resolved there */
    int nh = order_hosts(f, w, n, h);
    uint8_t rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        e = -EIO;
        snprintf(err, errlen, "no random bytes for the fetch's secret: %s", strerror(errno));
        goto out;
    }
    for (int i = 0; i < 32; i++)
        snprintf(secret + 2 * i, 3, "%02x", rnd[i]);
    snapc_reach_addr(f->user, f->prog0, f->flavor, "the hosts holding cached images reach "
                     "restart-mpi", ip, sizeof ip);
    if ((e = filem_partner_rx_start_at(ip, f->seqdir, "rank_", f->seq, secret, addr, sizeof addr,
                                       &rx, err, errlen)) < 0)
        goto out;
    setenv(FILEM_FETCH_SECRET_ENV, secret, 1); /* to the sender through the launcher only */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fetch_all(f, h, nh, addr, w, n, local, rx);
    unsetenv(FILEM_FETCH_SECRET_ENV);
    filem_partner_rx_stop(rx);
    restart_signal_check(); /* one came: the launches are ended, what was made goes */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    said_fetched(f, w, n, (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
out:
    explicit_bzero(secret, sizeof secret);
    if (e == 0) {
        struct snapc_sbuf msg = {0};
        for (int i = 0; i < n; i++) {
            if (w[i].done)
                continue;
            const char *a = holder(f->m, w[i].rank, 0), *b = holder(f->m, w[i].rank, 1);
            const char *dmg = damage_of(f, w[i].rank);
            if (local && !strcmp(local, "none")) {
                /* no cache to name (newuser7b F4: "not in the cache of vm, no partner copy (the
                 * job kept no node-local copies ...)") */
                snapc_sb_printf(&msg, "%srank %d's image %s/rank_%d.img is %s%s%s, and no other copy exists: the "
                                      "job kept no node-local copies (ckpt.local none)",
                                msg.len ? "; " : "", w[i].rank, f->seqdir, w[i].rank,
                                dmg ? "damaged (" : "not there", dmg ? dmg : "", dmg ? ")" : "");
                e = -ENOENT;
                continue;
            }
            snapc_sb_printf(&msg, "%srank %d's image is in no %scopy %s can reach: "
                                  "%s%s/rank_%d.img%s%s%s, not in the cache of %s%s%s (%s)",
                            msg.len ? "; " : "", w[i].rank, dmg ? "good " : "", me,
                            dmg ? "" : "not ", f->seqdir, w[i].rank,
                            dmg ? " is damaged (" : "", dmg ? dmg : "", dmg ? ")" : "",
                            a ? a : "?",
                            b ? " nor in its partner copy on " : ", no partner copy",
                            b ? b : "", w[i].why.p ? w[i].why.p : "no host named in snapshot.meta");
            e = -ENOENT;
        }
        if (e < 0)
            snprintf(err, errlen, "%s", msg.p);
        snapc_sb_free(&msg);
    }
    for (int i = 0; i < n; i++)
        snapc_sb_free(&w[i].why);
    free(w);
    free(h);
    return e;
}

int restart_fetch_plan(const struct restart_fetch *f, const int *missing, int n, FILE *out)
{
    const char *local = filem_meta_get(f->m, "ckpt.local");
    fprintf(out, "# %d image%s not in %s: restart-mpi would fetch %s from the hosts' node-local "
                 "caches before the launch (--showme: nothing fetched, no host asked)\n",
            n, n == 1 ? "" : "s", f->seqdir, n == 1 ? "it" : "them");
    if (local && !strcmp(local, "none")) {
        fprintf(out, "#   none can be: the job kept no node-local copies (ckpt.local none); the "
                     "restart would fail\n");
        return -ENOENT;
    }
    if (local && !strcmp(local, "default"))
        local = NULL;
    struct want *w = calloc((size_t)n, sizeof *w);
    struct host *h = calloc(MAX_HOSTS, sizeof *h);
    if (!w || !h) {
        free(w);
        free(h);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++)
        w[i].rank = missing[i];
    int nh = order_hosts(f, w, n, h), e = 0;
    const char *given = getenv("REVIVE_FETCH_PROBE_PORT");
    char agent[1024];
    probe_launch_agent(f->user, f->prog0, f->flavor, agent, sizeof agent);
    resolve_hosts(agent, h, nh);
    for (int i = 0; i < n; i++)
        if (!holder(f->m, w[i].rank, 0) && !holder(f->m, w[i].rank, 1)) {
            fprintf(out, "#   rank %d: no host named in snapshot.meta holds a copy; the restart "
                         "would fail\n", w[i].rank);
            e = -ENOENT;
        }
    for (int k = 0; k < nh; k++) {
        struct snapc_sbuf line = {0}, list = {0}, sums = {0};
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 2; p++) {
                const char *x = holder(f->m, w[i].rank, p);
                if (x && !strcmp(x, h[k].name))
                    snapc_sb_printf(&line, "%srank %d (%s)", line.len ? ", " : "", w[i].rank,
                                    p ? "its partner copy" : "its node's cache");
            }
        char dest[256];
        int here = host_probe_this_host(h[k].name);
        int port = here ? 0 : probe_route(agent, h[k].name, dest, sizeof dest);
        if (port > 0)
            fprintf(out, "#   %s: %s; asked first whether it is up (port %d)\n", h[k].name,
                    line.p ? line.p : "", port);
        else
            fprintf(out, "#   %s: %s; not probed (%s%s)\n", h[k].name, line.p ? line.p : "",
                    here ? "this machine"
                    : given && *given ? "REVIVE_FETCH_PROBE_PORT="
                                      : "the remote shell's way there is not known: not ssh, "
                                        "or ssh -G names a proxy; REVIVE_FETCH_PROBE_PORT=PORT "
                                        "asks that port",
                    !here && given && *given ? given : "");
        struct argv a = {.n = 0};
        char hostarg[300];
        int c = fetch_argv(f, h[k].name, "ADDR", w, n, local, &a, &list, &sums, hostarg,
                           sizeof hostarg);
        snapc_sb_free(&line);
        if (c > 0) {
            for (int i = 0; i < a.n; i++) {
                snapc_sb_printf(&line, i ? " " : "");
                snapc_sb_shell_word(&line, a.v[i]);
            }
            fprintf(out, "#   %s: %s\n", h[k].name, line.p ? line.p : "");
        }
        snapc_sb_free(&line);
        snapc_sb_free(&list);
        snapc_sb_free(&sums);
    }
    if (nh)
        fprintf(out, "#   (every host asked at once; the first good copy of each rank kept, "
                     "checked against snapshot.meta; ADDR: restart-mpi's receiver, made at the "
                     "fetch, with its secret in %s)\n", FILEM_FETCH_SECRET_ENV);
    free(w);
    free(h);
    return e;
}

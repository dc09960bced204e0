/* The coordinator stages a lost rank's image itself (newuser9 F5): with node-local first, a
 * launcher that ends the whole job when a node goes (Open MPI's mpirun, about 2 s after the
 * node's remote shell dies) leaves no rank alive to stage the images still in the caches, nor
 * the partner copies of the lost node's ranks, although the coordinator's host (where mpirun
 * runs, most often the job's first node) may hold a verified copy of each. The coordinator
 * outlives the launcher: it copies such a copy from its own host's cache into the shared
 * sequence directory through the ranks' own staging copy (filem_stage_file: temporary name,
 * flush, every chunk and the file's checksum against the one the rank reported, rename), so
 * that the sequence commits when every image got there.
 * The copy runs in a thread of its own, one per image, and reports on a pipe the loop polls
 * (coord_self_stage_fd): an image of GBs took the coordinator's only loop for as long as it was
 * copied and hashed, while MPICH's other ranks run on and a user's ^C, a tool's request or a
 * live rank's frame waited (diffrev31 R-L10). The thread touches nothing of the coordinator:
 * it gets its paths and the checksum, and hands back the outcome; the loop then tells the
 * protocol (snapc_proto_self_staged or LOCAL_FAIL), unless the epoch ended meanwhile. The
 * loop does not end while one copies (coord_self_stage_busy). No bandwidth limit: the job has
 * ended or is ending. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "snapc/coord_int.h"

#define MAX_SELF 4096

static uint32_t from_epoch;
static char *from[MAX_SELF];

const char *coord_self_staged_from(int r)
{
    return r >= 0 && r < MAX_SELF && from_epoch == coord.p.epoch ? from[r] : NULL;
}

void coord_self_stage_meta(struct filem_meta *m)
{
    for (int r = 0; r < coord.p.nranks; r++) {
        const char *self = coord_self_staged_from(r);
        char k[64];
        snprintf(k, sizeof k, "rank.%d.staged.from", r);
        if (self)
            filem_meta_set(m, k, "%s", self);
    }
}

void coord_self_stage_note(int r, const char *text)
{
    if (from_epoch != coord.p.epoch) {
        for (int i = 0; i < MAX_SELF; i++) {
            free(from[i]);
            from[i] = NULL;
        }
        from_epoch = coord.p.epoch;
    }
    if (r >= 0 && r < MAX_SELF) {
        free(from[r]);
        from[r] = strdup(text);
    }
}

/* One image to copy: what the thread is given, and what it hands back. */
struct self_copy {
    int r, held;
    int nodir;                /* no cache to copy from (tried says why) */
    uint32_t epoch;
    uint64_t seq, checksum;
    char host[256];
    char dir[PATH_MAX];       /* this host's cached sequence */
    char seqdir[PATH_MAX];    /* the shared one */
    char why[SNAPC_TEXT_MAX];
    /* the outcome */
    int e, partner;
    int there;                /* the image was in the sequence directory already, verified */
    char src[PATH_MAX + 64];
    struct filem_stage_stats st;
    char tried[SNAPC_TEXT_MAX];
};

static int pipefd[2] = {-1, -1};
static int busy;

int coord_self_stage_fd(void)
{
    return busy ? pipefd[0] : -1;
}

int coord_self_stage_copying(void)
{
    return busy;
}

int coord_self_stage_busy(void)
{
    /* (and the hosts asked before a failure or the commit: coord_lost.c) */
    return busy || coord_fetch_busy() || coord_lost_asking();
}

/* Adds NAME to the comma-separated LIST (of LEN bytes) unless it is there. */
static void add_name(char *list, size_t len, const char *name)
{
    size_t ll = strlen(list);
    if (!coord_list_has(list, name))
        snapc_fmt(list + ll, len - ll, "%s%s", ll ? "," : "", name);
}

void coord_lost_hosts_text(char *out, size_t len)
{
    char hosts[512] = "", others[512] = "";
    size_t ol = 0;
    out[0] = 0;
    if (!coord.rank_last || len == 0)
        return;
    for (int r = 0; r < coord.nrank_conn; r++) {
        const struct rank_last *l = &coord.rank_last[r];
        int closed = coord.rank_conn && coord.rank_conn[r] < 0;
        if (l->host[0] && l->lost) /* (a rank still connected to a host cut off too) */
            add_name(hosts, sizeof hosts, l->host);
        else if (l->host[0] && closed)
            add_name(others, sizeof others, l->host);
    }
    int nlost = 0;
    for (const char *h = hosts; *h; nlost++) {
        size_t hl = strcspn(h, ",");
        char ranks[256] = "";
        int m = 0;
        for (int r = 0; r < coord.nrank_conn; r++) {
            const struct rank_last *l = &coord.rank_last[r];
            if (l->lost && strlen(l->host) == hl && !strncmp(l->host, h, hl)) {
                size_t k = strlen(ranks);
                snapc_fmt(ranks + k, sizeof ranks - k, "%s%d", m++ ? "," : "", r);
            }
        }
        ol = strlen(out);
        snapc_fmt(out + ol, len - ol, "%shost %.*s (rank%s %s)", nlost ? ", " : "", (int)hl, h,
                 m == 1 ? "" : "s", ranks);
        h += hl + (h[hl] == ',');
    }
    if (!nlost)
        return;
    ol = strlen(out);
    snapc_fmt(out + ol, len - ol, " %s lost", nlost == 1 ? "was" : "were");
    if (others[0]) {
        ol = strlen(out);
        snapc_fmt(out + ol, len - ol, "; %s then ended the ranks on %s",
                 coord.cfg->flavor && !strcmp(coord.cfg->flavor, "ompi") ? "Open MPI's mpirun"
                                                                          : "the launcher",
                 others);
    }
}

/* the failure waiting for the hosts' answers (one per epoch) */
static struct {
    int set, status;
    uint32_t epoch;
    char rest[SNAPC_TEXT_MAX * 2];
} fail_wait;

static void fail_now(int status, const char *rest)
{
    char lost[1024];
    coord_lost_hosts_text(lost, sizeof lost);
    coord_local_fail(status, "%s%s%s", lost, lost[0] ? ": " : "", rest);
}

void coord_fail_naming_lost(int status, const char *fmt, ...)
{
    char rest[sizeof fail_wait.rest];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    if (fail_wait.set && fail_wait.epoch == coord.p.epoch)
        return; /* one failure of this sequence waits already: it is the one said */
    if (coord_lost_settle(LOST_FOR_FAIL)) {
        fail_wait.set = 1;
        fail_wait.status = status;
        fail_wait.epoch = coord.p.epoch;
        snapc_fmt(fail_wait.rest, sizeof fail_wait.rest, "%s", rest);
        return;
    }
    fail_now(status, rest);
}

void coord_fail_naming_lost_resume(void)
{
    if (!fail_wait.set)
        return;
    fail_wait.set = 0;
    if (fail_wait.epoch != coord.p.epoch || coord.p.phase != SNAPC_P_STAGE)
        return; /* the sequence ended otherwise meanwhile */
    if (coord_lost_settle(LOST_FOR_FAIL)) {
        fail_wait.set = 1; /* (not reached: the verdicts are in) */
        return;
    }
    fail_now(fail_wait.status, fail_wait.rest);
}

/* Fault point snapc-selfstage-hold: the copy waits until the file REVIVE_SELFSTAGE_HOLD exists
 * (10 min at most), so that a test sees what the coordinator does meanwhile. */
static void hold(const struct self_copy *c)
{
    const char *f = getenv("REVIVE_SELFSTAGE_HOLD");
    if (!f || !*f || access(f, F_OK) == 0)
        return;
    revive_log_info("checkpoint %llu: the coordinator's copy of rank %d's image holds until %s "
                    "exists (fault point snapc-selfstage-hold)", (unsigned long long)c->seq,
                    c->r, f);
    for (int i = 0; i < 6000 && access(f, F_OK) != 0; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The copy: the rank's own copy in this host's cache, else its partner copy. No state of the
 * coordinator is read or changed here. */
static void copy_one(struct self_copy *c)
{
    size_t tl = c->nodir ? strlen(c->tried) : 0;
    if (c->held)
        hold(c);
    c->e = -ENOENT;
    /* the rank may have renamed its verified copy into place and ended before its STAGED came
     * (killed by the launcher then: the window of a rename and a directory sync): that copy is
     * checked where it is (diffrev33 R-L8: the fetch's receiver refused to overwrite it and the
     * sequence failed; a copy from this host's cache replaced it) */
    char there[PATH_MAX + 32], verr[PATH_MAX + 256] = "";
    snprintf(there, sizeof there, "%s/rank_%d.img", c->seqdir, c->r);
    if (access(there, F_OK) == 0) {
        if (filem_stage_verify(there, c->checksum, verr, sizeof verr) == 0) {
            snprintf(c->src, sizeof c->src, "%s", there);
            c->e = 0;
            c->there = 1;
            return;
        }
        tl += (size_t)snprintf(c->tried + tl, tl < sizeof c->tried ? sizeof c->tried - tl : 0,
                               "%sthe sequence directory's %s: %s", tl ? "; " : "", there, verr);
    }
    for (int partner = 0; partner < 2 && !c->nodir; partner++) {
        char name[64], err[PATH_MAX * 2 + 256] = "";
        snprintf(c->src, sizeof c->src, "%s/%s%d.img", c->dir,
                 partner ? FILEM_PARTNER_PREFIX : "rank_", c->r);
        snprintf(name, sizeof name, "rank_%d.img", c->r);
        if (access(c->src, F_OK) < 0) {
            tl += (size_t)snprintf(c->tried + tl, tl < sizeof c->tried ? sizeof c->tried - tl : 0,
                                   "%sno %s", tl ? "; " : "", c->src);
            continue;
        }
        c->e = filem_stage_file(c->src, c->seqdir, name, c->checksum, 0, &c->st, err, sizeof err);
        if (c->e == 0) {
            c->partner = partner;
            return;
        }
        tl += (size_t)snprintf(c->tried + tl, tl < sizeof c->tried ? sizeof c->tried - tl : 0,
                               "%s%s", tl ? "; " : "", err);
    }
}

static void *copy_thread(void *arg)
{
    struct self_copy *c = arg;
    copy_one(c);
    /* a pointer is written whole (fewer bytes than PIPE_BUF) */
    if (write(pipefd[1], &c, sizeof c) != (ssize_t)sizeof c)
        revive_log_error("the coordinator's copy of rank %d's image could not report: %s", c->r,
                         strerror(errno));
    return NULL;
}

/* The outcome of one copy. FROM_LOOP: reported by its thread (the actions it brings are run
 * here), else from the STAGE_SELF action itself (they run in that action loop). */
static void copy_done(struct self_copy *c, int from_loop)
{
    if (c->epoch != coord.p.epoch || coord.p.phase != SNAPC_P_STAGE) {
        revive_log_info("checkpoint %llu: the coordinator's copy of rank %d's image ended after "
                        "the checkpoint did (%s): not used", (unsigned long long)c->seq, c->r,
                        c->e == 0 ? "copied" : strerror(-c->e));
    } else if (c->e == 0) {
        char text[PATH_MAX + 300];
        if (c->there)
            snprintf(text, sizeof text, "the rank's own copy, renamed into the sequence directory "
                                        "before its end was told (verified by the coordinator)");
        else
            snprintf(text, sizeof text, "the %s in the coordinator's host %s's cache",
                     c->partner ? "partner copy" : "rank's own copy", c->host);
        coord_self_stage_note(c->r, text);
        if (c->there)
            revive_log_info("rank %d: its image %s was in the sequence directory already and "
                            "verifies: taken as staged", c->r, c->src);
        else
            revive_log_info("rank %d: image staged by the coordinator from %s on %s (%llu bytes, "
                            "copy %lld ms, verify %lld ms)",
                            c->r, c->src, c->host, (unsigned long long)c->st.bytes,
                            (long long)(c->st.copy_ns / 1000000),
                            (long long)(c->st.verify_ns / 1000000));
        if (snapc_proto_self_staged(&coord.p, c->r) < 0)
            revive_log_error("out of memory in the coordinator");
        if (from_loop)
            coord_run_actions(); /* the commit, when it was the last image */
    } else if (coord_fetch_add(c->r, c->why, c->tried) < 0) {
        /* the lost host first: the rank named may have run on a live host, ended by the
         * launcher after the loss (newuser9b N6) */
        coord_fail_naming_lost(-ESRCH, "%s; no rank left holds a copy of rank %d's image to stage, "
                                       "and the coordinator's host %s has no good one (%s)",
                               c->why, c->r, c->host, c->tried);
    }
    free(c);
}

void coord_self_stage_ready(void)
{
    struct self_copy *c;
    while (busy > 0 && read(pipefd[0], &c, sizeof c) == (ssize_t)sizeof c) {
        busy--;
        copy_done(c, 1);
    }
    coord_fetch_kick(busy); /* the images this host lacks, once its own copies are done */
}

void coord_self_stage(int r, const char *why)
{
    char local[PATH_MAX], err[PATH_MAX * 2 + 256] = "";
    struct self_copy *c = calloc(1, sizeof *c);
    if (!c) {
        coord_local_fail(-ENOMEM, "%s; the coordinator is out of memory", why);
        return;
    }
    c->r = r;
    c->epoch = coord.p.epoch;
    c->seq = coord.p.seq;
    c->checksum = r >= 0 && r < coord.p.nranks ? coord.p.r[r].checksum : 0;
    gethostname(c->host, sizeof c->host - 1);
    snprintf(c->why, sizeof c->why, "%s", why);
    snprintf(c->seqdir, sizeof c->seqdir, "%s", coord.seqdir);
    c->held = coord_fault(REVIVE_FAULT_snapc_selfstage_hold);
    revive_log_warn("checkpoint %llu: %s: the coordinator stages the copy of rank %d its host "
                    "%s's cache holds, if any", (unsigned long long)coord.p.seq, why, r, c->host);
    int e = coord_cache_dir(local, sizeof local);
    if (e < 0)
        snprintf(c->tried, sizeof c->tried, "this host's cache: %s", strerror(-e));
    else if (!coord.seqdir[0])
        snprintf(c->tried, sizeof c->tried, "no sequence directory");
    else if ((e = filem_local_seq_dir(local, coord.seqdir, 0, c->dir, sizeof c->dir, err,
                                      sizeof err)) < 0)
        snprintf(c->tried, sizeof c->tried, "%s", err);
    if (!coord.seqdir[0]) {
        c->e = -ENOENT;
        copy_done(c, 0); /* fails the epoch naming what was looked for */
        coord_fetch_kick(busy);
        return;
    }
    c->nodir = e < 0; /* the sequence directory's own copy is still looked at */
    if (pipefd[0] < 0 && pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
        pipefd[0] = pipefd[1] = -1;
    pthread_t t;
    pthread_attr_t a;
    int started = pipefd[0] >= 0 && pthread_attr_init(&a) == 0;
    if (started) {
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&t, &a, copy_thread, c) == 0;
        pthread_attr_destroy(&a);
    }
    if (started) {
        busy++;
        return; /* its outcome: coord_self_stage_ready, from the loop */
    }
    /* no thread to be had: copied here, the loop waits meanwhile as it did before */
    revive_log_info("checkpoint %llu: no thread for the copy of rank %d's image: copied in the "
                    "coordinator's loop", (unsigned long long)c->seq, r);
    c->held = 0;
    copy_one(c);
    copy_done(c, 0);
    coord_fetch_kick(busy);
}

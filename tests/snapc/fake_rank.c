/*
 * fake_rank: an MPI rank without MPI, for the snapc tests. It runs the real
 * rank agent (src/snapc/agent.c) against the real coordinator and implements
 * struct snapc_rank_ops over simulated collectives: the ranks (processes
 * started by fake_launch) run one random but globally ordered schedule of
 * collectives on a few communicators in shared memory, Barrier-like (everybody
 * waits for everybody) or Bcast-like (the root leaves at once: a rank can run
 * ahead of the others), with random pauses. The gate at each collective entry
 * is the collective clock of SNAPC.md: targets, parking at a safe point,
 * RAISE when a rank must pass a target to reach another.
 *
 * At capture each rank writes a real (small) process image holding its
 * sequence numbers in an extension section "fake"; `fake_rank --check SEQDIR
 * N` reads the N images and fails unless the cut is consistent: on every
 * communicator every member is at the same sequence, no rank inside a
 * collective.
 *
 * Options (every rank gets the same; "R:X" applies to rank R only):
 *   --iters N         collectives in the schedule (default 300)
 *   --seed S          the schedule's seed (default 1)
 *   --sleep-us U      largest pause between collectives (default 2000)
 *   --end-sleep S     seconds every rank sleeps after its work, before MPI_Finalize
 *   --end-file F      every rank waits after its work until the file F exists (10 min at
 *                     most), before MPI_Finalize
 *   --early-finalize R   rank R does not sleep: it waits in MPI_Finalize meanwhile
 *   --stall R:K       rank R stops outside MPI (sleeps 1 h) at schedule step K
 *   --die R:OP        rank R SIGKILLs itself in OP (begin seqs targets quiesce drain capture)
 *   --fail R:OP       rank R's OP fails (quiesce drain capture)
 *   --slow R:OP:MS    rank R's OP takes MS milliseconds more
 *   --hold R:OP:FILE  rank R's OP waits while FILE exists (10 min at most; FILE.in is made
 *                     once it waits, for the test to see): the test holds a
 *                     checkpoint in OP exactly as long as it needs (a fixed --slow was paid by
 *                     every checkpoint of the job, and could still be too short under load).
 *                     OP "writing": in capture, once 1 MiB of the image's temporary file
 *                     (.NAME.tmp.PID) is written
 *   --mpix K          every rank calls MPIX_Checkpoint at its K-th world collective
 *   --mpix-file F     ... once the file F exists (10 min at most), waiting outside MPI as a
 *                     long computation would; says "MPIX_Checkpoint waits for F" and then
 *                     "MPIX_Checkpoint called" on stderr
 *   --mpix-request R:K   rank R calls MPIX_Checkpoint_request at schedule step K
 *   --ready DIR       each rank creates DIR/ready.R once its agent runs
 *   --start-delay R:MS   rank R starts its agent (MPI_Init) MS milliseconds late
 *   --start-file R:FILE  rank R starts its agent (MPI_Init) once FILE exists (10 min at most)
 *   --jitter-us U     the agent thread takes up to U us to apply new targets
 *   --restart-env F   the first capture pretends a restart: the agent is handed the NAME=value
 *                     lines of F as the new launcher's environment (another coordinator)
 *   --term-exit0      a SIGTERM ends the rank with status 0 (an application that ends cleanly on
 *                     SIGTERM; with FAKE_LAUNCH_RANKS_STATUS=1 fake_launch then says 0 too)
 *   --stdin-null R    rank R's standard input is /dev/null (a launcher's other ranks')
 *   --stdin-from F    the other ranks' standard input is F (a FIFO: a launcher's pipe)
 *   --linger S        every rank sleeps S seconds after MPI_Finalize (its own clean-up) before
 *                     it ends
 *   --need-raise      (4 ranks or more) the schedule begins with a Barrier on comm 3 {odd
 *                     ranks}, then a Barrier on comm 4 {lower half}; ranks 1 and 3 hold before
 *                     the first until a checkpoint's targets are known, rank 0 creates
 *                     DIR/inside.0 (the --ready DIR) once inside the second. A checkpoint asked
 *                     for after inside.0 exists has target 1 on comm 4 (rank 0 is inside it)
 *                     and 0 on comm 3, so rank 1 must RAISE comm 3 to pass it: the raise is
 *                     arranged by conditions, not left to the pauses' luck
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "crs/base/image.h"
#include "fake_shm.h"
#include "filem/filem.h"
#include "mpix_ckpt.h"
#include "snapc/agent.h"
#include "tiny_image.h"

enum { K_BARRIER, K_BCAST };

struct comm {
    uint64_t cid;
    int members[FAKE_MAX_RANKS];
    int n;
    int mine;      /* this rank is a member */
    int idx;       /* index in shm */
};

static struct comm comms[FAKE_MAX_COMMS];
static int ncomms;
static int me, size;
static struct fake_shm *shm;

/* options */
static const char *end_file;
static int stdin_null = -1;
static const char *stdin_from;
static int iters = 300, sleep_us = 2000, end_sleep, linger, early_finalize = -1, stall_rank = -1, stall_at;
static unsigned seed = 1;
static int die_rank = -1, fail_rank = -1, slow_rank = -1, slow_ms;
static char die_op[16], fail_op[16], slow_op[16];
static int mpix_at = -1, mpixr_rank = -1, mpixr_at = -1;
static const char *mpix_file;
static const char *ready_dir;
static int delay_rank = -1, delay_ms, jitter_us;
static int hold_rank = -1, start_file_rank = -1;
static char hold_op[16];
static const char *hold_file, *start_file;
static const char *restart_env_file;
static int resumed_restarted;
static int need_raise;
static void on_term_exit0(int sig)
{
    (void)sig;
    _exit(0);
}
static unsigned jitter_seed = 99;

/* gate state (lock) */
static pthread_mutex_t G = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t GC = PTHREAD_COND_INITIALIZER;
static uint64_t seq[FAKE_MAX_COMMS];
static uint64_t target[FAKE_MAX_COMMS];
static int pending, targets_known, in_cs, finalizing, parked, gate_closed;
static uint32_t version, raised_v;
static char what[160];
/* where the schedule is (lock): the state at the top of step `top_k`, and whether that step's
 * collective has completed; what an image records so that a restore goes on from there */
static int top_k, top_done;
static unsigned top_sched, top_pause;
static uint64_t top_world;
static char opts_line[1024];

static void op_hook(const char *op)
{
    if (me == die_rank && strcmp(op, die_op) == 0) {
        fprintf(stderr, "fake_rank %d: dying in %s (as asked)\n", me, op);
        raise(SIGKILL);
    }
    if (me == slow_rank && strcmp(op, slow_op) == 0)
        usleep((useconds_t)slow_ms * 1000);
    if (me == hold_rank && strcmp(op, hold_op) == 0 && access(hold_file, F_OK) == 0) {
        char in[PATH_MAX];
        snprintf(in, sizeof in, "%s.in", hold_file);
        int fd = open(in, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        for (int t = 0; t < 30000 && access(hold_file, F_OK) == 0; t++)
            usleep(20000);
    }
}

static int op_fails(const char *op)
{
    return me == fail_rank && strcmp(op, fail_op) == 0;
}

/* ---- communicators and the schedule ---- */

static void add_comm(uint64_t cid, int (*in)(int r))
{
    struct comm *c = &comms[ncomms];
    c->cid = cid;
    c->idx = ncomms;
    for (int r = 0; r < size; r++)
        if (in(r))
            c->members[c->n++] = r;
    if (c->n == 0)
        return;
    for (int k = 0; k < c->n; k++)
        if (c->members[k] == me)
            c->mine = 1;
    ncomms++;
}

static int in_world(int r) { (void)r; return 1; }
static int in_even(int r) { return r % 2 == 0; }
static int in_odd(int r) { return r % 2 == 1; }
static int in_half(int r) { return r < (size > 1 ? size / 2 : 1); }
static int in_ends(int r) { return r == 0 || r == size - 1; }

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* ---- the gate (the collective clock) ---- */

static int all_reached(void)
{
    for (int c = 0; c < ncomms; c++)
        if (comms[c].mine && seq[c] < target[c])
            return 0;
    return 1;
}

static const char *kind_name(int k)
{
    return k == K_BCAST ? "MPI_Bcast" : "MPI_Barrier";
}

static void enter(int c, int kind)
{
    pthread_mutex_lock(&G);
    for (;;) {
        if (gate_closed) { /* quiesced: nothing enters MPI until the gate opens */
            pthread_cond_wait(&GC, &G);
            continue;
        }
        if (!pending)
            break;
        if (!targets_known) {
            snprintf(what, sizeof what, "%s on comm %llu (collective %llu), waiting for targets",
                     kind_name(kind), (unsigned long long)comms[c].cid,
                     (unsigned long long)seq[c] + 1);
            pthread_cond_wait(&GC, &G);
            continue;
        }
        if (seq[c] < target[c])
            break;
        if (all_reached()) {
            parked = 1;
            snprintf(what, sizeof what, "%s on comm %llu (collective %llu), parked",
                     kind_name(kind), (unsigned long long)comms[c].cid,
                     (unsigned long long)seq[c] + 1);
            snapc_agent_notify();
            pthread_cond_wait(&GC, &G);
            parked = 0;
            continue;
        }
        if (raised_v != version) {
            raised_v = version;
            snapc_agent_raise(comms[c].cid, seq[c] + 1);
        }
        snprintf(what, sizeof what, "%s on comm %llu (collective %llu), raised",
                 kind_name(kind), (unsigned long long)comms[c].cid, (unsigned long long)seq[c] + 1);
        snapc_agent_notify();
        pthread_cond_wait(&GC, &G);
    }
    seq[c]++;
    in_cs = 1;
    snprintf(what, sizeof what, "%s on comm %llu (collective %llu)", kind_name(kind),
             (unsigned long long)comms[c].cid, (unsigned long long)seq[c]);
    pthread_mutex_unlock(&G);
    snapc_agent_notify();
}

static void leave(void)
{
    pthread_mutex_lock(&G);
    in_cs = 0;
    top_done = 1;
    what[0] = 0;
    pthread_mutex_unlock(&G);
    snapc_agent_notify();
}

/* A rank's count of entered collectives goes to the shared mapping with publish(); wait_for()
 * waits for another's to reach v. The wait sleeps on a futex (not private: the mapping is shared
 * between processes) on the count's low half, which every publish changes and wakes: it polled
 * with usleep(30) before, and that loop was two thirds of a fake rank's CPU time (perf, snapc's
 * converge.sh: fake_rank 33% of the test's CPU, clock_nanosleep 67% of that), for ranks that
 * mostly wait. FUTEX_WAIT returns at once if the half changed since it was read; the 2 ms bound
 * covers a count stored without a wake. */
static void publish(volatile uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, (uint32_t *)p, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void wait_for(volatile uint64_t *p, uint64_t v)
{
    for (;;) {
        uint64_t now = __atomic_load_n(p, __ATOMIC_SEQ_CST);
        if (now >= v)
            return;
        struct timespec bound = {0, 2000000};
        syscall(SYS_futex, (uint32_t *)p, FUTEX_WAIT, (uint32_t)now, &bound, NULL, 0);
    }
}

static void collective(int c, int kind, int root)
{
    enter(c, kind);
    uint64_t j = seq[c];
    struct comm *cm = &comms[c];
    publish(&shm->entered[cm->idx][me], j);
    if (kind == K_BARRIER) {
        for (int k = 0; k < cm->n; k++)
            wait_for(&shm->entered[cm->idx][cm->members[k]], j);
    } else if (me != root) {
        wait_for(&shm->entered[cm->idx][root], j);
    }
    leave();
}

/* --need-raise: step 0 is a Barrier on comm 3 (odd ranks), step 1 a Barrier on comm 4 (lower
 * half). Ranks 1 and 3 hold before step 0 until a checkpoint's targets are known; rank 0, which
 * skips step 0, is then inside step 1 waiting for rank 1 (it says so with DIR/inside.0 before
 * the test asks for the checkpoint), so the targets are comm 4 at 1 (rank 0 is inside it) and
 * comm 3 at 0 (1 and 3 are held before it): rank 1 is at its target on comm 3 but short of it
 * on comm 4, and must RAISE comm 3 to go on. */
static int find_comm(uint64_t cid)
{
    for (int c = 0; c < ncomms; c++)
        if (comms[c].cid == cid)
            return c;
    return -1;
}

static void raise_scene(int k, int skip)
{
    static int held;
    int c = find_comm(k == 0 ? 3 : 4);
    if (c < 0 || !comms[c].mine || skip)
        return;
    if (k == 0 && !held) {
        held = 1;
        pthread_mutex_lock(&G);
        while (!(pending && targets_known))
            pthread_cond_wait(&GC, &G);
        pthread_mutex_unlock(&G);
    }
    enter(c, K_BARRIER);
    struct comm *cm = &comms[c];
    uint64_t j = seq[c];
    publish(&shm->entered[cm->idx][me], j);
    if (k == 1 && me == 0 && ready_dir) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/inside.0", ready_dir);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    for (int m = 0; m < cm->n; m++)
        wait_for(&shm->entered[cm->idx][cm->members[m]], j);
    leave();
}

/* ---- the ops the agent calls ---- */

static int o_begin(void *arg)
{
    (void)arg;
    op_hook("begin");
    pthread_mutex_lock(&G);
    pending = 1;
    targets_known = 0;
    raised_v = 0;
    pthread_mutex_unlock(&G);
    return 0;
}

static int o_seqs(void *arg, struct snapc_seq *out, int max)
{
    (void)arg;
    op_hook("seqs");
    pthread_mutex_lock(&G);
    int n = 0;
    for (int c = 0; c < ncomms; c++)
        if (comms[c].mine) {
            if (n == max) {
                pthread_mutex_unlock(&G);
                return -ENOSPC;
            }
            out[n].cid = comms[c].cid;
            out[n].seq = seq[c];
            n++;
        }
    pthread_mutex_unlock(&G);
    return n;
}

static void o_targets(void *arg, const struct snapc_seq *t, int n, uint32_t v)
{
    (void)arg;
    op_hook("targets");
    if (jitter_us > 0) /* a slow agent: the window where its last STATE is stale grows */
        usleep((useconds_t)(rnd(&jitter_seed) % (unsigned)jitter_us));
    pthread_mutex_lock(&G);
    for (int c = 0; c < ncomms; c++) {
        target[c] = 0;
        for (int k = 0; k < n; k++)
            if (t[k].cid == comms[c].cid)
                target[c] = t[k].seq;
        if (comms[c].mine && seq[c] > target[c]) {
            fprintf(stderr, "fake_rank %d: BUG: seq %llu on comm %llu is past its target %llu\n",
                    me, (unsigned long long)seq[c], (unsigned long long)comms[c].cid,
                    (unsigned long long)target[c]);
            abort();
        }
    }
    version = v;
    targets_known = 1;
    pthread_cond_broadcast(&GC);
    pthread_mutex_unlock(&G);
}

static void o_state(void *arg, struct snapc_rank_state *st)
{
    (void)arg;
    pthread_mutex_lock(&G);
    st->at_target = pending && targets_known && all_reached() && !in_cs;
    st->in_cs = (uint32_t)in_cs;
    st->finalizing = (uint32_t)finalizing;
    snprintf(st->what, sizeof st->what, "%s", what);
    pthread_mutex_unlock(&G);
}

static int o_quiesce(void *arg, int timeout_ms)
{
    (void)arg;
    (void)timeout_ms;
    op_hook("quiesce");
    if (op_fails("quiesce"))
        return -EIO;
    pthread_mutex_lock(&G);
    gate_closed = 1;
    pthread_mutex_unlock(&G);
    return 0;
}

static int o_drain(void *arg, struct snapc_drain_stats *st, char *err, size_t errlen)
{
    (void)arg;
    op_hook("drain");
    if (op_fails("drain")) {
        snprintf(err, errlen, "simulated drain failure");
        return -EIO;
    }
    memset(st, 0, sizeof *st);
    return 0;
}

static int write_image(const char *path, char *err, size_t errlen)
{
    /* the sequence numbers, as text, in a small real image */
    char text[4096];
    int n = snprintf(text, sizeof text, "rank %d size %d in_cs %d parked %d\nstep %d %u %u %llu %d\n",
                     me, size, in_cs, parked, top_k, top_sched, top_pause,
                     (unsigned long long)top_world, top_done);
    for (int c = 0; c < ncomms; c++)
        if (comms[c].mine)
            n += snprintf(text + n, sizeof text - (size_t)n, "comm %llu %llu\n",
                          (unsigned long long)comms[c].cid, (unsigned long long)seq[c]);
    snprintf(text + n, sizeof text - (size_t)n, "opts %s\n", opts_line); /* last */
    /* FAKE_MPI_LIBRARY: the image maps it, as a rank's maps its MPI library */
    return tiny_image_write_mapping(path, text, getenv("FAKE_MPI_LIBRARY"), err, errlen);
}

static int o_capture(void *arg, const char *path, struct snapc_capture_result *r)
{
    (void)arg;
    op_hook("capture");
    if (r->parked)
        r->parked(); /* as the MPI layer, once the process is parked (the agent notes stdin) */
    if (op_fails("capture")) {
        snprintf(r->err, sizeof r->err, "simulated capture failure (no space left on device)");
        return -ENOSPC;
    }
    if (me == hold_rank && strcmp(hold_op, "writing") == 0 && access(hold_file, F_OK) == 0) {
        /* held half way through writing its image: the partial image (.NAME.tmp.PID) is on
         * disk, as a real rank's while it writes hundreds of MB */
        struct crs_durable d;
        static char chunk[1 << 20];
        if (crs_durable_open(&d, path, 0600) == 0) {
            memset(chunk, 'x', sizeof chunk);
            ssize_t w = write(d.fd, chunk, sizeof chunk);
            (void)w;
            op_hook("writing");
            crs_durable_abort(&d);
        }
    }
    int e = write_image(path, r->err, sizeof r->err);
    if (e < 0)
        return e;
    if (restart_env_file) {
        /* pretend this process was just restarted from the image, under another coordinator
         * whose variables the hand-off gives (the file): the agent must go over to it */
        static char lines[8][512];
        static char *envp[9];
        FILE *f = fopen(restart_env_file, "r");
        int n = 0;
        while (f && n < 8 && fgets(lines[n], sizeof lines[n], f)) {
            lines[n][strcspn(lines[n], "\n")] = 0;
            envp[n] = lines[n];
            n++;
        }
        if (f)
            fclose(f);
        envp[n] = NULL;
        snapc_agent_set_restart_env(envp);
        restart_env_file = NULL;
        return 1;
    }
    return filem_image_checksum(path, &r->checksum, &r->bytes, r->err, sizeof r->err);
}

static void o_resume(void *arg, int action)
{
    (void)arg;
    pthread_mutex_lock(&G);
    pending = 0;
    targets_known = 0;
    gate_closed = 0;
    pthread_cond_broadcast(&GC);
    pthread_mutex_unlock(&G);
    if (action == SNAPC_RESUME_RESTARTED && !resumed_restarted) {
        resumed_restarted = 1;
        fprintf(stderr, "fake_rank %d: resumed as a restarted rank\n", me);
    }
}

static void o_abort(void *arg)
{
    o_resume(arg, SNAPC_RESUME_CONTINUE);
}

static int o_describe(void *arg, char *buf, size_t len)
{
    (void)arg;
    /* FAKE_MPI_LIBRARY: a file standing in for the MPI library (restart-mpi checks it) */
    const char *lib = getenv("FAKE_MPI_LIBRARY");
    return snprintf(buf, len, "mpi_version fake 1\nthread_level 0\n%s%s%s",
                    lib ? "mpi_library " : "", lib ? lib : "", lib ? "\n" : "");
}

/* ---- what the MPI layer exports for libmpix_ckpt (as src/pml_hooks does) ---- */

int revive_mpix_checkpoint(int collective, int *flag)
{
    if (flag)
        *flag = 0;
    if (finalizing)
        return -ESHUTDOWN;
    uint64_t s = seq[0];
    if (!collective)
        return snapc_agent_request(0, s);
    int rc = snapc_agent_request(1, s);
    if (rc)
        return rc;
    enter(0, K_BARRIER); /* counted as a collective on WORLD, without communication */
    leave();
    int restarted = 0;
    rc = snapc_agent_wait_epoch(s, &restarted);
    if (rc == 0 && flag)
        *flag = restarted;
    return rc;
}

/* ---- --check ---- */

static int check(const char *seqdir, int n)
{
    uint64_t v[FAKE_MAX_RANKS][32];
    uint64_t cids[32];
    int ncids = 0, bad = 0;
    memset(v, 0xff, sizeof v);
    for (int r = 0; r < n; r++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/rank_%d.img", seqdir, r);
        struct crs_image img;
        if (crs_image_open(&img, path) < 0) {
            fprintf(stderr, "check: %s\n", img.err);
            return 1;
        }
        const struct crs_image_ext *x = crs_image_extension(&img, "fake", NULL);
        if (!x) {
            fprintf(stderr, "check: %s has no 'fake' extension\n", path);
            return 1;
        }
        char text[4096];
        snprintf(text, sizeof text, "%.*s", (int)x->len, (const char *)x->data);
        crs_image_close(&img);
        int incs = 0;
        char *line = strtok(text, "\n");
        for (; line; line = strtok(NULL, "\n")) {
            unsigned long long cid, s;
            int a, b, p;
            if (sscanf(line, "rank %d size %*d in_cs %d parked %d", &a, &b, &p) == 3)
                incs = b;
            else if (sscanf(line, "comm %llu %llu", &cid, &s) == 2) {
                int k;
                for (k = 0; k < ncids && cids[k] != cid; k++)
                    ;
                if (k == ncids)
                    cids[ncids++] = cid;
                v[r][k] = s;
            }
        }
        if (incs) {
            fprintf(stderr, "check: rank %d was captured inside a collective\n", r);
            bad = 1;
        }
    }
    for (int k = 0; k < ncids; k++) {
        uint64_t ref = UINT64_MAX;
        for (int r = 0; r < n; r++) {
            if (v[r][k] == UINT64_MAX)
                continue;
            if (ref == UINT64_MAX)
                ref = v[r][k];
            else if (v[r][k] != ref) {
                fprintf(stderr, "check: comm %llu: rank %d is at collective %llu, another member at %llu\n",
                        (unsigned long long)cids[k], r, (unsigned long long)v[r][k],
                        (unsigned long long)ref);
                bad = 1;
            }
        }
        printf("comm %llu at %llu\n", (unsigned long long)cids[k], (unsigned long long)ref);
    }
    if (!bad)
        printf("consistent cut of %d ranks over %d communicators\n", n, ncids);
    return bad;
}

/* ---- main ---- */

static int rank_op(const char *arg, int *rank, char *op, size_t oplen, int *extra)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", arg);
    char *c1 = strchr(buf, ':');
    if (!c1)
        return -1;
    *c1 = 0;
    *rank = atoi(buf);
    char *c2 = strchr(c1 + 1, ':');
    if (c2) {
        *c2 = 0;
        if (extra)
            *extra = atoi(c2 + 1);
    }
    snprintf(op, oplen, "%s", c1 + 1);
    return 0;
}

/* A restarted rank (fake_rank SEQDIR, run by restart-mpi in place of revive-restart-rank):
 * its options, sequence numbers and place in the schedule from its image. */
static int restored;
static char *restore_argv[64];

static int load_image(const char *seqdir, int rank)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/rank_%d.img", seqdir, rank);
    struct crs_image img;
    if (crs_image_open(&img, path) < 0) {
        fprintf(stderr, "fake_rank %d: %s\n", rank, img.err);
        return -1;
    }
    const struct crs_image_ext *x = crs_image_extension(&img, "fake", NULL);
    static char text[4096];
    snprintf(text, sizeof text, "%.*s", x ? (int)x->len : 0, x ? (const char *)x->data : "");
    crs_image_close(&img);
    int na = 0;
    static char argv0[] = "fake_rank";
    restore_argv[na++] = argv0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long cid, sq, w;
        if (sscanf(line, "step %d %u %u %llu %d", &top_k, &top_sched, &top_pause, &w, &top_done) == 5)
            top_world = w;
        else if (sscanf(line, "comm %llu %llu", &cid, &sq) == 2) {
            for (int c = 0; c < FAKE_MAX_COMMS; c++)
                if (comms[c].cid == cid && c < ncomms)
                    seq[c] = sq;
        } else if (strncmp(line, "opts ", 5) == 0) {
            for (char *t = strtok_r(line + 5, " ", &line); t && na < 62; t = strtok_r(NULL, " ", &line))
                restore_argv[na++] = t;
            break; /* the last line */
        }
    }
    restore_argv[na] = NULL;
    restored = 1;
    return na;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--check") == 0)
        return check(argv[2], atoi(argv[3]));
    /* a restore: SEQDIR, after any --relocate OLD=NEW or --local DIR (restart-mpi gives the
     * ranks its --relocate as cr_restart's option, and the caches' directory; a fake rank has
     * no files to move and reads its image from SEQDIR) */
    int first = 1;
    while (first + 2 < argc && (!strcmp(argv[first], "--relocate") || !strcmp(argv[first], "--local")))
        first += 2;
    const char *restore_dir = argc == first + 1 && argv[first][0] != '-' ? argv[first] : NULL;
    int o = 0;
    for (int i = 1; i < argc && !restore_dir; i++)
        o += snprintf(opts_line + o, sizeof opts_line - (size_t)o, "%s%s", i > 1 ? " " : "", argv[i]);
    for (int i = 1; i < argc && !restore_dir; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        char tmp[16];
        if (!strcmp(a, "--iters")) iters = atoi(v), i++;
        else if (!strcmp(a, "--seed")) seed = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--sleep-us")) sleep_us = atoi(v), i++;
        else if (!strcmp(a, "--end-sleep")) end_sleep = atoi(v), i++;
        else if (!strcmp(a, "--linger")) linger = atoi(v), i++;
        else if (!strcmp(a, "--stdin-null")) stdin_null = atoi(v), i++;
        else if (!strcmp(a, "--stdin-from")) stdin_from = v, i++;
        else if (!strcmp(a, "--end-file")) end_file = v, i++;
        else if (!strcmp(a, "--early-finalize")) early_finalize = atoi(v), i++;
        else if (!strcmp(a, "--stall")) rank_op(v, &stall_rank, tmp, sizeof tmp, NULL), stall_at = atoi(tmp), i++;
        else if (!strcmp(a, "--die")) rank_op(v, &die_rank, die_op, sizeof die_op, NULL), i++;
        else if (!strcmp(a, "--fail")) rank_op(v, &fail_rank, fail_op, sizeof fail_op, NULL), i++;
        else if (!strcmp(a, "--slow")) rank_op(v, &slow_rank, slow_op, sizeof slow_op, &slow_ms), i++;
        else if (!strcmp(a, "--mpix")) mpix_at = atoi(v), i++;
        else if (!strcmp(a, "--mpix-file")) mpix_file = v, i++;
        else if (!strcmp(a, "--mpix-request")) rank_op(v, &mpixr_rank, tmp, sizeof tmp, NULL), mpixr_at = atoi(tmp), i++;
        else if (!strcmp(a, "--ready")) ready_dir = v, i++;
        else if (!strcmp(a, "--jitter-us")) jitter_us = atoi(v), i++;
        else if (!strcmp(a, "--restart-env")) restart_env_file = v, i++;
        else if (!strcmp(a, "--need-raise")) need_raise = 1;
        else if (!strcmp(a, "--term-exit0")) signal(SIGTERM, on_term_exit0);
        else if (!strcmp(a, "--ckpt-dir-of-the-app")) ; /* the wrapper must leave it to us */
        else if (!strcmp(a, "--start-delay")) rank_op(v, &delay_rank, tmp, sizeof tmp, NULL), delay_ms = atoi(tmp), i++;
        else if (!strcmp(a, "--hold") || !strcmp(a, "--start-file")) {
            /* R:OP:FILE, R:FILE: the file is the rest, however long (rank_op cuts at 63) */
            const char *f = strchr(v, ':');
            if (f && !strcmp(a, "--hold"))
                f = strchr(f + 1, ':');
            if (!f || !f[1]) {
                fprintf(stderr, "fake_rank: %s takes %s\n", a, strcmp(a, "--hold") ? "R:FILE" : "R:OP:FILE");
                return 2;
            }
            if (!strcmp(a, "--hold"))
                rank_op(v, &hold_rank, hold_op, sizeof hold_op, NULL), hold_file = f + 1;
            else
                start_file_rank = atoi(v), start_file = f + 1;
            i++;
        }
        else {
            fprintf(stderr, "fake_rank: unknown option %s\n", a);
            return 2;
        }
    }
    const char *rs = getenv("FAKE_RANK"), *ss = getenv("FAKE_SIZE"), *fs = getenv("FAKE_SHM_FD");
    if (!rs || !ss || !fs) {
        fprintf(stderr, "fake_rank: start me with fake_launch\n");
        return 2;
    }
    me = atoi(rs);
    jitter_seed += (unsigned)atoi(rs) * 31u;
    size = atoi(ss);
    if (need_raise && size < 4) {
        fprintf(stderr, "fake_rank: --need-raise needs 4 ranks or more\n");
        return 2;
    }
    if (restore_dir) {
        /* the communicators first (their cids), then the image, then its options */
        ncomms = 0;
        add_comm(0, in_world);
        add_comm(2, in_even);
        add_comm(3, in_odd);
        add_comm(4, in_half);
        add_comm(17, in_ends);
        /* the restore's progress for the coordinator, as revive-restart-rank and the MPI
         * layer leave it (src/snapc/coord_restart.c); FAKE_RESTORE_FAIL=1: the restore fails */
        /* by the directory's descriptor, as they do (a directory near PATH_MAX leaves no room
         * for the names in a path) */
        const char *pd = getenv("REVIVE_RESTART_DIR");
        int dfd = pd && *pd ? open(pd, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        char pf[64], done[64];
        FILE *f;
        int fd;
        snprintf(pf, sizeof pf, "begun.%d", me);
        if (dfd >= 0 && (fd = openat(dfd, pf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
            close(fd);
        /* FAKE_RESTORE_SLOW=R:S[,R:S...]: rank R's restore takes S seconds, as a big image's
         * read does (restoring.sh) */
        for (const char *sl = getenv("FAKE_RESTORE_SLOW"); sl && *sl;) {
            int r, sec;
            if (sscanf(sl, "%d:%d", &r, &sec) == 2 && r == me && sec > 0)
                sleep((unsigned)sec);
            sl = strchr(sl, ',');
            sl = sl ? sl + 1 : NULL;
        }
        const char *ff = getenv("FAKE_RESTORE_FAIL");
        int na = ff && *ff == '1' ? -1 : load_image(restore_dir, me);
        if (na < 0) {
            fprintf(stderr, "fake_rank %d: cannot restore %s\n", me, restore_dir);
            /* FAKE_PROGRESS_FILE: its bytes instead of the line (a file cut or damaged), under
             * the name FAKE_PROGRESS_NAME (failed, refused) (progress_cut.sh) */
            const char *pfile = getenv("FAKE_PROGRESS_FILE"), *pname = getenv("FAKE_PROGRESS_NAME");
            if (!pname || !*pname)
                pname = "failed";
            snprintf(pf, sizeof pf, "%s.%d.tmp", pname, me);
            snprintf(done, sizeof done, "%s.%d", pname, me);
            if (dfd >= 0 && (fd = openat(dfd, pf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0 &&
                (f = fdopen(fd, "w"))) {
                FILE *from = pfile && *pfile ? fopen(pfile, "r") : NULL;
                if (from) {
                    char b[4096];
                    size_t k;
                    while ((k = fread(b, 1, sizeof b, from)) > 0)
                        fwrite(b, 1, k, f);
                    fclose(from);
                } else {
                    fprintf(f, "rank %d: cannot restore %s\n", me, restore_dir);
                }
                fclose(f);
                renameat(dfd, pf, dfd, done);
            }
            return 1;
        }
        if (dfd >= 0 && (fd = openat(dfd, "restored", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0 &&
            (f = fdopen(fd, "a"))) {
            fprintf(f, "rank %d restored\n", me);
            fclose(f);
        }
        if (dfd >= 0)
            close(dfd);
        return main(na, restore_argv);
    }
    shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(fs), 0);
    if (shm == MAP_FAILED) {
        perror("fake_rank: mmap");
        return 1;
    }
    close(atoi(fs));
    if (!restored) {
        add_comm(0, in_world);
        add_comm(2, in_even);
        add_comm(3, in_odd);
        add_comm(4, in_half);
        add_comm(17, in_ends);
    } else {
        for (int c = 0; c < ncomms; c++)
            if (comms[c].mine)
                publish(&shm->entered[comms[c].idx][me], seq[c]);
    }

    static const struct snapc_rank_ops ops = {
        .begin = o_begin, .seqs = o_seqs, .targets = o_targets, .state = o_state,
        .quiesce = o_quiesce, .drain = o_drain, .capture = o_capture, .resume = o_resume,
        .abort = o_abort, .describe = o_describe,
    };
    if (me == delay_rank)
        usleep((useconds_t)delay_ms * 1000);
    for (int t = 0; me == start_file_rank && t < 30000 && access(start_file, F_OK) != 0; t++)
        usleep(20000);
    if (me == stdin_null || stdin_from) {
        int nfd = open(me == stdin_null ? "/dev/null" : stdin_from, O_RDONLY | O_CLOEXEC);
        if (nfd >= 0) {
            dup2(nfd, 0);
            close(nfd);
        }
    }
    int e = snapc_agent_start(&ops, me, size);
    if (e < 0) {
        fprintf(stderr, "fake_rank %d: the agent did not start: %s\n", me, strerror(-e));
        return 1;
    }
    if (ready_dir) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/ready.%d", ready_dir, me);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
    }
    unsigned sched = seed, pause_s = seed * 7919u + (unsigned)me;
    uint64_t world_done = 0;
    int k0 = 0, skip_first = 0;
    if (restored) {
        k0 = top_k;
        sched = top_sched;
        pause_s = top_pause;
        world_done = top_world;
        skip_first = top_done; /* that step's collective had completed */
    }
    for (int k = k0; k < iters; k++) {
        pthread_mutex_lock(&G);
        top_k = k;
        top_sched = sched;
        top_pause = pause_s;
        top_world = world_done;
        top_done = 0;
        pthread_mutex_unlock(&G);
        if (need_raise && k < 2) {
            raise_scene(k, k == k0 && skip_first);
            continue;
        }
        int c = (int)(rnd(&sched) % (unsigned)ncomms);
        int kind = rnd(&sched) % 3 == 0 ? K_BARRIER : K_BCAST;
        int root = comms[c].members[rnd(&sched) % (unsigned)comms[c].n];
        int skip = skip_first && k == k0;
        if (me == stall_rank && k == stall_at && !skip) {
            fprintf(stderr, "fake_rank %d: stalling outside MPI\n", me);
            sleep(3600);
        }
        if (me == mpixr_rank && k == mpixr_at && !skip) {
            e = MPIX_Checkpoint_request();
            fprintf(stderr, "fake_rank %d: MPIX_Checkpoint_request: %d\n", me, e);
        }
        if (!comms[c].mine)
            continue;
        if (c == 0 && mpix_at >= 0 && world_done == (uint64_t)mpix_at && !skip) {
            int flag = -1;
            if (mpix_file) {
                fprintf(stderr, "fake_rank %d: MPIX_Checkpoint waits for %s\n", me, mpix_file);
                for (int t = 0; t < 30000 && access(mpix_file, F_OK) != 0; t++)
                    usleep(20000);
                fprintf(stderr, "fake_rank %d: MPIX_Checkpoint called\n", me);
            }
            e = MPIX_Checkpoint(&flag);
            printf("rank %d: MPIX_Checkpoint: %d flag=%d\n", me, e, flag);
            fflush(stdout);
        }
        unsigned pause = sleep_us > 0 ? rnd(&pause_s) % (unsigned)sleep_us : 0;
        if (!skip) {
            usleep((useconds_t)pause);
            collective(c, kind, root);
        }
        if (c == 0)
            world_done++;
    }
    if (end_sleep > 0 && me != early_finalize)
        sleep((unsigned)end_sleep);
    for (int t = 0; end_file && t < 30000 && access(end_file, F_OK) != 0; t++)
        usleep(20000);
    /* MPI_Finalize: a collective on WORLD */
    enter(0, K_BARRIER);
    pthread_mutex_lock(&G);
    finalizing = 1;
    snprintf(what, sizeof what, "MPI_Finalize");
    pthread_mutex_unlock(&G);
    snapc_agent_notify();
    uint64_t j = seq[0];
    publish(&shm->entered[0][me], j);
    for (int k = 0; k < comms[0].n; k++)
        wait_for(&shm->entered[0][comms[0].members[k]], j);
    printf("rank %d done:", me);
    for (int c = 0; c < ncomms; c++)
        if (comms[c].mine)
            printf(" comm%llu=%llu", (unsigned long long)comms[c].cid, (unsigned long long)seq[c]);
    printf("\n");
    fflush(stdout);
    /* as the MPI layer's MPI_Finalize: a snapshot still staging ends first (agent.h) */
    e = snapc_agent_finalize_wait();
    if (e < 0)
        fprintf(stderr, "fake_rank %d: snapc_agent_finalize_wait: %s\n", me, strerror(-e));
    if (linger > 0) {
        printf("rank %d finalized\n", me);
        fflush(stdout);
        sleep((unsigned)linger);
    }
    return 0;
}

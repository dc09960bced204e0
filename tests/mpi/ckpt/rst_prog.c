/* A rank program for the restart tests (restart_chain.sh): builds MPI state of every kind the
 * restart must bring back, computes in steps, and may checkpoint itself at given steps without
 * a coordinator (Revive's MPI layer's pml_restart_capture, which the agent's capture uses).
 *
 *   rst_prog STEPS [DIR CKPT_STEP... [--exit]]
 *   rst_prog STEPS --sleep-ms MS       (no checkpoint of its own: a job for ckpt-mpirun)
 *   rst_prog STEPS --pace FILE MS      (the same, sleeping only while FILE exists: a test lets
 *                                       the last generation of a chain run at full speed)
 *
 * Rank 0 prints one line per step (a checksum over every rank's work with every object) and a
 * final line. At each CKPT_STEP (after that step's line) every rank writes DIR/s<step>/rank_<r>.img;
 * with --exit the job then ends (status 0) as if killed after the checkpoint, and the restarted
 * job (mpirun revive-restart-rank DIR/s<step>) goes on from there: its output continues the
 * original's, so the concatenation of a chain's outputs equals one uninterrupted run's. After a
 * restart each rank prints "restarted" lines to stderr with its generation. With RST_PROG_SIGNALS=1
 * in its environment a rank ignores SIGUSR2 and handles SIGURG (one line "rank R: SIGURG handled"
 * to stderr), as a program may: a restarted rank must keep both (sig_status.sh). With
 * RST_PROG_WTIME=1 rank 0 also prints "wtime STEP: SECONDS" (MPI_Wtime after the step's line) to
 * stderr at each step (wtime_restart.sh: what MPI_Wtime says across a restart).
 *
 * What the state covers: a split communicator, a Cartesian one made with reorder, a
 * communicator made from a group that was freed since (an ancestor), a dup with a name and an
 * error handler, an intercommunicator, derived datatypes (vector, struct, resized, one built
 * from a freed type), a user reduction, an info object, and attributes with copy/delete
 * callbacks on a communicator; threads started in every step, keeping memory of their own malloc
 * arenas (made after MPI_Init) from step to step. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "rst_step.h"


static int rank, size;
static int copies, deletes; /* attribute callbacks that ran: must not run again at a restart */

const char rst_name[] = "rst_prog";

/* ---- the state ----------------------------------------------------------------------------- */
static MPI_Comm half, cart, fromgroup, named, inter = MPI_COMM_NULL;
static MPI_Datatype vec, st, rsz, fromfreed;
static MPI_Op myop;
static MPI_Info info;
static int kv;

struct item { double d; int i[3]; };

static void addmax(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    long *a = in, *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = b[i] + 2 * a[i];
}

static int copy_fn(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag)
{
    (void)c; (void)k; (void)extra;
    copies++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

static int delete_fn(MPI_Comm c, int k, void *val, void *extra)
{
    (void)c; (void)k; (void)val; (void)extra;
    deletes++;
    return MPI_SUCCESS;
}

static void eh_fn(MPI_Comm *c, int *err, ...)
{
    (void)c;
    fprintf(stderr, "rst_prog: error handler called with %d\n", *err);
}

static long attr_value = 4242;

static void build(void)
{
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &half));
    int dims[2] = { 0, 0 }, periods[2] = { 1, 0 };
    CHECK(MPI_Dims_create(size, 2, dims));
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &cart));
    MPI_Group wg, g;
    CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int n = size > 1 ? size - 1 : 1, *ranks = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        ranks[i] = size - 1 - i; /* reversed, without rank 0 when there are two or more */
    CHECK(MPI_Group_incl(wg, n, ranks, &g));
    free(ranks);
    CHECK(MPI_Comm_create(MPI_COMM_WORLD, g, &fromgroup));
    CHECK(MPI_Group_free(&g)); /* an ancestor of fromgroup from now on */
    CHECK(MPI_Group_free(&wg));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &named));
    CHECK(MPI_Comm_set_name(named, "rst_prog named"));
    MPI_Errhandler eh;
    CHECK(MPI_Comm_create_errhandler(eh_fn, &eh));
    CHECK(MPI_Comm_set_errhandler(named, eh));
    CHECK(MPI_Errhandler_free(&eh));
    if (size >= 2) {
        /* each half's rank 0 is its largest world rank (key -rank) */
        int other = (size - 1) % 2 == rank % 2 ? size - 2 : size - 1;
        CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, other, 77, &inter));
    }
    CHECK(MPI_Type_vector(3, 2, 5, MPI_INT, &vec));
    CHECK(MPI_Type_commit(&vec));
    int bl[2] = { 1, 3 };
    MPI_Aint disp[2] = { offsetof(struct item, d), offsetof(struct item, i) };
    MPI_Datatype types[2] = { MPI_DOUBLE, MPI_INT };
    CHECK(MPI_Type_create_struct(2, bl, disp, types, &st));
    CHECK(MPI_Type_create_resized(st, 0, sizeof(struct item), &rsz));
    CHECK(MPI_Type_commit(&rsz));
    MPI_Datatype tmp;
    CHECK(MPI_Type_contiguous(2, MPI_LONG, &tmp));
    CHECK(MPI_Type_vector(2, 1, 2, tmp, &fromfreed));
    CHECK(MPI_Type_free(&tmp));
    CHECK(MPI_Type_commit(&fromfreed));
    CHECK(MPI_Op_create(addmax, 1, &myop));
    CHECK(MPI_Info_create(&info));
    CHECK(MPI_Info_set(info, "rst_prog", "yes"));
    CHECK(MPI_Comm_create_keyval(copy_fn, delete_fn, &kv, NULL));
    CHECK(MPI_Comm_set_attr(named, kv, &attr_value));
}

/* Threads of the application: started in every step (after a restart too: ld.so's thread-stack
 * lists), each keeping memory from its own malloc arena across the steps (arenas made after
 * MPI_Init must come back with the application). */
#define NWORK 6
static char *kept[NWORK];
static pthread_barrier_t wbar;
struct work { int id, s; long sum; };

static void *worker(void *arg)
{
    struct work *w = arg;
    if (!kept[w->id]) {
        kept[w->id] = malloc(100 + 300000 * (w->id % 2)); /* small (the arena) or mmapped */
        memset(kept[w->id], 'a' + w->id, 100);
    }
    pthread_barrier_wait(&wbar); /* all alive at once: each its own arena */
    long sum = 0;
    for (int i = 0; i < 100; i++)
        sum += kept[w->id][i] * (w->s + 1);
    w->sum = sum;
    return NULL;
}

static long threads_step(int s)
{
    pthread_t t[NWORK];
    struct work w[NWORK];
    pthread_barrier_init(&wbar, NULL, NWORK);
    for (int i = 0; i < NWORK; i++) {
        w[i] = (struct work){ i, s, 0 };
        if (pthread_create(&t[i], NULL, worker, &w[i]))
            rst_die("pthread_create");
    }
    long acc = 0;
    for (int i = 0; i < NWORK; i++) {
        pthread_join(t[i], NULL);
        acc += w[i].sum;
    }
    pthread_barrier_destroy(&wbar);
    return acc;
}

/* A thread of the application that lives through every checkpoint and restart: it answers
 * each step's ping (after a restart it must still be there, under its new thread id). */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick_cond = PTHREAD_COND_INITIALIZER;
static int ping, pong;

static void *ticker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&tick_lock);
    for (;;) {
        while (pong == ping)
            pthread_cond_wait(&tick_cond, &tick_lock);
        pong = ping;
        pthread_cond_broadcast(&tick_cond);
    }
    return NULL;
}

static void tick(int s)
{
    pthread_mutex_lock(&tick_lock);
    ping = s + 1;
    pthread_cond_broadcast(&tick_cond);
    while (pong != ping)
        pthread_cond_wait(&tick_cond, &tick_lock);
    pthread_mutex_unlock(&tick_lock);
}

/* One step: every object in use; the rank-0 checksum of everybody's results. */
static long step(int s)
{
    tick(s);
    long acc = threads_step(s), x = (long)(rank + 1) * (s + 3), y = 0;
    CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, half));
    acc += y;
    int hr, cr, coords[2], src, dst;
    MPI_Comm_rank(half, &hr);
    MPI_Comm_rank(cart, &cr);
    CHECK(MPI_Cart_coords(cart, cr, 2, coords));
    CHECK(MPI_Cart_shift(cart, 0, 1, &src, &dst));
    long out = cr * 100 + s, in = -1;
    CHECK(MPI_Sendrecv(&out, 1, MPI_LONG, dst, s, &in, 1, MPI_LONG, src, s, cart, MPI_STATUS_IGNORE));
    acc += in + coords[0] * 7 + coords[1] * 11 + hr;
    if (fromgroup != MPI_COMM_NULL) {
        int fr;
        MPI_Comm_rank(fromgroup, &fr);
        long v = fr + s, w = 0;
        CHECK(MPI_Allreduce(&v, &w, 1, MPI_LONG, MPI_MAX, fromgroup));
        acc += w * 3;
    }
    char name[MPI_MAX_OBJECT_NAME];
    int nl = 0, flag = 0;
    void *val = NULL;
    CHECK(MPI_Comm_get_name(named, name, &nl));
    CHECK(MPI_Comm_get_attr(named, kv, &val, &flag));
    if (strcmp(name, "rst_prog named") || !flag || val != &attr_value || *(long *)val != 4242)
        rst_die("the name or the attribute of the dup changed");
    if (inter != MPI_COMM_NULL) {
        int rsz_ = 0;
        MPI_Comm_remote_size(inter, &rsz_);
        long v = rank, w = -1;
        int ir;
        MPI_Comm_rank(inter, &ir);
        CHECK(MPI_Allreduce(&v, &w, 1, MPI_LONG, MPI_SUM, inter)); /* sum of the other group */
        acc += w * 5 + rsz_;
    }
    int buf[15], got[15];
    for (int i = 0; i < 15; i++)
        buf[i] = rank * 100 + i + s;
    memset(got, 0, sizeof got);
    CHECK(MPI_Sendrecv(buf, 1, vec, (rank + 1) % size, 1, got, 1, vec, (rank + size - 1) % size, 1,
                       named, MPI_STATUS_IGNORE));
    for (int i = 0; i < 15; i++)
        acc += got[i] * (i + 1);
    struct item items[3], items_in[3];
    for (int i = 0; i < 3; i++) {
        items[i].d = rank + i * 0.5 + s;
        items[i].i[0] = i; items[i].i[1] = rank; items[i].i[2] = s;
    }
    memset(items_in, 0, sizeof items_in);
    CHECK(MPI_Bcast(rank == 0 ? items : items_in, 3, rsz, 0, MPI_COMM_WORLD));
    if (rank == 0)
        memcpy(items_in, items, sizeof items);
    for (int i = 0; i < 3; i++)
        acc += (long)(items_in[i].d * 2) + items_in[i].i[0] + items_in[i].i[1] + items_in[i].i[2];
    long lv[8], lr[8];
    for (int i = 0; i < 8; i++)
        lv[i] = rank + i * s;
    memset(lr, 0, sizeof lr);
    CHECK(MPI_Allreduce(lv, lr, 1, fromfreed, myop, MPI_COMM_WORLD));
    for (int i = 0; i < 8; i++)
        acc += lr[i] * (i + 1);
    int tsz;
    MPI_Aint lb, ext;
    MPI_Type_size(rsz, &tsz);
    MPI_Type_get_extent(rsz, &lb, &ext);
    acc += tsz + ext;
    char iv[16];
    int iflag = 0;
    MPI_Info_get(info, "rst_prog", sizeof iv - 1, iv, &iflag);
    if (!iflag || strcmp(iv, "yes"))
        rst_die("the info object lost its key");
    long total = 0;
    CHECK(MPI_Reduce(&acc, &total, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    return total;
}

static char urg_line[64];

static void on_urg(int sig)
{
    (void)sig;
    ssize_t w = write(2, urg_line, strlen(urg_line));
    (void)w;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rst_prog STEPS [DIR CKPT_STEP... [--exit]]\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    const char *dir = argc > 2 ? argv[2] : NULL;
    int ckpt[64], nckpt = 0, exit_after = 0, sleep_ms = 0;
    const char *pace = NULL;
    if (dir && !strcmp(dir, "--sleep-ms")) {
        sleep_ms = argc > 3 ? atoi(argv[3]) : 100;
        dir = NULL;
    } else if (dir && !strcmp(dir, "--pace")) {
        pace = argc > 3 ? argv[3] : "";
        sleep_ms = argc > 4 ? atoi(argv[4]) : 100;
        dir = NULL;
    }
    for (int i = 3; i < argc && dir; i++) {
        if (!strcmp(argv[i], "--exit"))
            exit_after = 1;
        else if (nckpt < 64)
            ckpt[nckpt++] = atoi(argv[i]);
    }
    int provided;
    CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided));
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *sigs = getenv("RST_PROG_SIGNALS");
    if (sigs && !strcmp(sigs, "1")) {
        snprintf(urg_line, sizeof urg_line, "rank %d: SIGURG handled\n", rank);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_urg;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGURG, &sa, NULL);
        signal(SIGUSR2, SIG_IGN);
    }
    build();
    pthread_t tk;
    if (pthread_create(&tk, NULL, ticker, NULL))
        rst_die("pthread_create");
    int (*generation)(void) = (__typeof__(generation))dlsym(RTLD_DEFAULT, "pml_restart_generation");
    const char *wt = getenv("RST_PROG_WTIME");
    int wtime_lines = wt && !strcmp(wt, "1") && rank == 0; /* read once: kept in the image */
    for (int s = 0; s < steps; s++) {
        long total = step(s);
        if (rank == 0)
            printf("step %d: %ld\n", s, total);
        if (wtime_lines) {
            fflush(stdout);
            fprintf(stderr, "wtime %d: %.3f\n", s, MPI_Wtime());
        }
        if (sleep_ms && (!pace || access(pace, F_OK) == 0))
            usleep((useconds_t)sleep_ms * 1000);
        for (int c = 0; c < nckpt; c++) {
            if (ckpt[c] != s || !dir)
                continue;
            if (rst_checkpoint_step(dir, s, exit_after) == 1)
                fprintf(stderr, "rank %d restarted at step %d, generation %d, attribute callbacks"
                        " %d/%d\n", rank, s, generation ? generation() : -1, copies, deletes);
        }
    }
    if (copies || deletes)
        rst_die("an attribute callback ran (the program never copies or deletes its attribute)");
    CHECK(MPI_Comm_free(&half));
    CHECK(MPI_Comm_free(&cart));
    if (fromgroup != MPI_COMM_NULL)
        CHECK(MPI_Comm_free(&fromgroup));
    CHECK(MPI_Comm_free(&named));
    if (inter != MPI_COMM_NULL)
        CHECK(MPI_Comm_free(&inter));
    CHECK(MPI_Type_free(&vec));
    CHECK(MPI_Type_free(&st));
    CHECK(MPI_Type_free(&rsz));
    CHECK(MPI_Type_free(&fromfreed));
    CHECK(MPI_Op_free(&myop));
    CHECK(MPI_Info_free(&info));
    CHECK(MPI_Comm_free_keyval(&kv));
    for (int i = 0; i < NWORK; i++)
        free(kept[i]);
    if (rank == 0)
        printf("done: %d steps on %d ranks\n", steps, size);
    CHECK(MPI_Finalize());
    return 0;
}

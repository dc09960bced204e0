/* Attribute callbacks of one thread while another makes and frees a shared window
 * (MPI_THREAD_MULTIPLE). Under Revive a shared window comes with a small shared window of the
 * layer's own (src/pml_hooks/win_ckpt.c, pml_win_meet_make/free), made and freed with the
 * program's attribute callbacks kept quiet; that quiet must hold for the thread that makes it
 * alone: another thread's MPI_Comm_dup meanwhile must copy its attributes as natively.
 *
 * The main thread makes a shared window on a duplicate of MPI_COMM_WORLD that holds an attribute
 * (keyval W) and frees it, ROUNDS times. At each free, every rank but 0 sleeps SLOW_MS in W's
 * delete callback, which the library runs for the window's own duplicate of the communicator
 * after the free's synchronisation: meanwhile rank 0 waits in the layer's free of its own window
 * (quiet). All along a second thread of every rank duplicates its own communicator (a
 * duplicate of MPI_COMM_SELF with an attribute of keyval S), checks that the duplicate has the
 * attribute, and frees it. Rank 0 prints per rank the duplicates that lacked S's attribute, and
 * whether S's copies and deletes equal the duplicates made, and W's copies and deletes (the same
 * natively and under Revive: compare.sh). */
#define _GNU_SOURCE
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 2
#define SLOW_MS 600

static int me, np;
static volatile int slow_delete; /* the main thread is in MPI_Win_free */
static int s_dups, s_lost; /* the second thread's duplicates, and those without S's attribute */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int phase; /* 0: wait, 1: duplicate, 2: end */

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "FAIL rank %d: %s returned %d\n", me, what, rc);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

static void sleep_ms(long ms)
{
    struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&d, &d) != 0)
        ;
}

/* A keyval's extra state: how often its callbacks ran; W's delete is the slow one. */
struct counts {
    int copies, deletes, slow;
};
static struct counts w_counts = { .slow = 1 }, s_counts;

static int count_copy(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag)
{
    (void)c, (void)kv;
    __atomic_add_fetch(&((struct counts *)extra)->copies, 1, __ATOMIC_RELAXED);
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

static int count_delete(MPI_Comm c, int kv, void *val, void *extra)
{
    (void)c, (void)kv, (void)val;
    struct counts *k = extra;
    __atomic_add_fetch(&k->deletes, 1, __ATOMIC_RELAXED);
    if (k->slow && slow_delete && me != 0)
        sleep_ms(SLOW_MS); /* rank 0 waits for this rank in the layer's quiet free */
    return MPI_SUCCESS;
}

static void set_phase(int p)
{
    pthread_mutex_lock(&lock);
    phase = p;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

struct own {
    MPI_Comm comm; /* a duplicate of MPI_COMM_SELF holding S's attribute */
    int kv;        /* S */
};

/* The second thread: duplicates of its own communicator while the main thread makes or frees a
 * window (phase 1), each checked for S's attribute. */
static void *duplicator(void *arg)
{
    const struct own *o = arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (phase == 0)
            pthread_cond_wait(&changed, &lock);
        int p = phase;
        pthread_mutex_unlock(&lock);
        if (p == 2)
            return NULL;
        MPI_Comm d;
        void *v = NULL;
        int flag = 0;
        check(MPI_Comm_dup(o->comm, &d), "MPI_Comm_dup");
        s_dups++;
        check(MPI_Comm_get_attr(d, o->kv, &v, &flag), "MPI_Comm_get_attr");
        if (!flag || v != (void *)&s_dups)
            s_lost++;
        check(MPI_Comm_free(&d), "MPI_Comm_free");
        sleep_ms(2);
    }
}

int main(int argc, char **argv)
{
    int prov = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (prov != MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "FAIL rank %d: MPI_THREAD_MULTIPLE not provided (%d)\n", me, prov);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int kv_w, kv_s;
    MPI_Comm wc;
    struct own o;
    check(MPI_Comm_create_keyval(count_copy, count_delete, &kv_w, &w_counts), "MPI_Comm_create_keyval W");
    check(MPI_Comm_create_keyval(count_copy, count_delete, &kv_s, &s_counts), "MPI_Comm_create_keyval S");
    check(MPI_Comm_dup(MPI_COMM_WORLD, &wc), "MPI_Comm_dup WORLD");
    check(MPI_Comm_set_attr(wc, kv_w, &w_counts), "MPI_Comm_set_attr W");
    check(MPI_Comm_dup(MPI_COMM_SELF, &o.comm), "MPI_Comm_dup SELF");
    check(MPI_Comm_set_attr(o.comm, kv_s, &s_dups), "MPI_Comm_set_attr S");
    o.kv = kv_s;
    pthread_t t;
    if (pthread_create(&t, NULL, duplicator, &o) != 0) {
        fprintf(stderr, "FAIL rank %d: cannot start the second thread\n", me);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int r = 0; r < ROUNDS; r++) {
        MPI_Win win;
        long *base;
        set_phase(1);
        check(MPI_Win_allocate_shared(64, sizeof(long), MPI_INFO_NULL, wc, &base, &win),
              "MPI_Win_allocate_shared");
        base[0] = me;
        slow_delete = 1;
        check(MPI_Win_free(&win), "MPI_Win_free");
        slow_delete = 0;
        set_phase(0);
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    }
    set_phase(2);
    pthread_join(t, NULL);
    check(MPI_Comm_free(&o.comm), "MPI_Comm_free SELF");
    check(MPI_Comm_free(&wc), "MPI_Comm_free W");
    int mine[4] = { s_lost, s_counts.copies == s_dups && s_counts.deletes == s_dups + 1,
                    w_counts.copies, w_counts.deletes };
    int *all = malloc(sizeof mine * (size_t)np);
    check(MPI_Gather(mine, 4, MPI_INT, all, 4, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
    if (me == 0)
        for (int i = 0; i < np; i++)
            printf("rank %d: duplicates without their attribute %d, S's copies and deletes one "
                   "per duplicate %s, W's copies %d, deletes %d\n",
                   i, all[4 * i], all[4 * i + 1] ? "yes" : "no", all[4 * i + 2], all[4 * i + 3]);
    free(all);
    check(MPI_Comm_free_keyval(&kv_w), "MPI_Comm_free_keyval W");
    check(MPI_Comm_free_keyval(&kv_s), "MPI_Comm_free_keyval S");
    MPI_Finalize();
    return 0;
}

/* One-sided communication: every kind of window (create on MPI_Alloc_mem memory, allocate,
 * allocate_shared with shared_query and direct loads and stores, dynamic with attach/detach)
 * under every kind of epoch (fence; post/start/complete/wait and Win_test; lock/unlock shared
 * and exclusive; lock_all with the flush variants and request-based operations), Put, Get,
 * Accumulate, Get_accumulate, Fetch_and_op, Compare_and_swap, window attributes, names, info,
 * keyvals, error handlers and the Fortran handle conversions. A window kind the library refuses
 * (Open MPI's MPI_Win_create without single-copy transfers) is reported as such, natively and
 * under Revive alike. REVIVE_TEST_RMA=create runs the create and dynamic windows only (Open MPI
 * with single-copy transfers, where its allocated windows crash now and then natively). */
#include "mpitest.h"

#define N 32

static MPI_Win handled_win;
static int handled_class = -1;
static void on_win_error(MPI_Win *w, int *err, ...)
{
    handled_win = *w;
    MPI_Error_class(*err, &handled_class);
}

static int copies, deletes;
static MPI_Win seen_win;
static int copy_fn(MPI_Win w, int kv, void *extra, void *in, void *out, int *flag)
{
    (void)kv; (void)extra; (void)in; (void)out;
    seen_win = w;
    copies++;
    *flag = 0;
    return MPI_SUCCESS;
}
static int delete_fn(MPI_Win w, int kv, void *val, void *extra)
{
    (void)kv;
    seen_win = w;
    deletes += 1 + (extra == (void *)&deletes) + (val == (void *)&copies);
    return MPI_SUCCESS;
}

/* The epochs on one window whose memory is mem (N longs per rank, addressed from disp0). */
static void epochs(MPI_Win win, long *mem, MPI_Aint disp0, const char *kind)
{
    int right = (me + 1) % np, left = (me + np - 1) % np;
    long src[N], res[N];
    char name[64];
    for (int i = 0; i < N; i++)
        src[i] = me * 100 + i;

    /* fence: Put to the right, Get from the left, Accumulate into both */
    MPI_Win_fence(MPI_MODE_NOPRECEDE, win);
    for (int i = 0; i < N; i++)
        mem[i] = -1;
    MPI_Win_fence(0, win);
    CHECK(MPI_Put(src, N / 2, MPI_LONG, right, disp0, N / 2, MPI_LONG, win));
    MPI_Win_fence(0, win);
    mix(mem, N * sizeof(long));
    CHECK(MPI_Get(res, N / 2, MPI_LONG, left, disp0, N / 2, MPI_LONG, win));
    MPI_Win_fence(0, win);
    mix(res, N / 2 * sizeof(long));
    CHECK(MPI_Accumulate(src, 4, MPI_LONG, right, disp0 + N / 2, 4, MPI_LONG, MPI_SUM, win));
    CHECK(MPI_Accumulate(src, 4, MPI_LONG, left, disp0 + N / 2, 4, MPI_LONG, MPI_SUM, win));
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    mix(mem, N * sizeof(long));
    snprintf(name, sizeof name, "%s fence", kind);
    report(name);

    /* post/start/complete/wait: every rank exposes to its left, accesses its right */
    MPI_Group wg, gl, gr;
    MPI_Win_get_group(win, &wg);
    MPI_Group_incl(wg, 1, &left, &gl);
    MPI_Group_incl(wg, 1, &right, &gr);
    CHECK(MPI_Win_post(gl, 0, win));
    CHECK(MPI_Win_start(gr, 0, win));
    CHECK(MPI_Put(src, 2, MPI_LONG, right, disp0 + 2, 2, MPI_LONG, win));
    CHECK(MPI_Get_accumulate(src, 2, MPI_LONG, res, 2, MPI_LONG, right, disp0 + 20, 2, MPI_LONG,
                             MPI_SUM, win));
    CHECK(MPI_Win_complete(win));
    if (me % 2) {
        CHECK(MPI_Win_wait(win));
    } else {
        int flag = 0;
        while (!flag)
            CHECK(MPI_Win_test(win, &flag));
    }
    mix(mem, N * sizeof(long));
    MPI_Group_free(&gl);
    MPI_Group_free(&gr);
    MPI_Group_free(&wg);
    MPI_Barrier(MPI_COMM_WORLD);
    snprintf(name, sizeof name, "%s pscw", kind);
    report(name);

    /* lock/unlock: exclusive Put and Compare_and_swap, shared Fetch_and_op on rank 0 */
    CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win));
    CHECK(MPI_Put(src, 1, MPI_LONG, right, disp0 + 30, 1, MPI_LONG, win));
    CHECK(MPI_Win_unlock(right, win));
    MPI_Barrier(MPI_COMM_WORLD);
    long one = 1, old = -5, cmp = me * 100 + 0, nv = 7;
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
    CHECK(MPI_Fetch_and_op(&one, &old, MPI_LONG, 0, disp0 + 31, MPI_SUM, win));
    CHECK(MPI_Win_unlock(0, win));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, left, MPI_MODE_NOCHECK * 0, win));
    CHECK(MPI_Compare_and_swap(&nv, &cmp, &old, MPI_LONG, left, disp0 + 29, win));
    CHECK(MPI_Win_flush(left, win));
    CHECK(MPI_Win_flush_local(left, win));
    CHECK(MPI_Win_unlock(left, win));
    mixi(old);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, me, 0, win));
    mix(mem, N * sizeof(long));
    CHECK(MPI_Win_unlock(me, win));
    long total = 0;
    if (me == 0) total = mem[31];
    mixi(total);
    MPI_Barrier(MPI_COMM_WORLD);
    snprintf(name, sizeof name, "%s lock", kind);
    report(name);

    /* lock_all with requests and every flush */
    MPI_Request rq[4];
    CHECK(MPI_Win_lock_all(0, win));
    CHECK(MPI_Rput(src, 2, MPI_LONG, right, disp0 + 4, 2, MPI_LONG, win, &rq[0]));
    CHECK(MPI_Raccumulate(src, 2, MPI_LONG, left, disp0 + 6, 2, MPI_LONG, MPI_MAX, win, &rq[1]));
    CHECK(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE));
    CHECK(MPI_Win_flush_all(win));
    CHECK(MPI_Win_flush_local_all(win));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_Rget(res, 2, MPI_LONG, right, disp0 + 4, 2, MPI_LONG, win, &rq[2]));
    CHECK(MPI_Rget_accumulate(src, 1, MPI_LONG, res + 2, 1, MPI_LONG, left, disp0 + 8, 1, MPI_LONG,
                              MPI_NO_OP, win, &rq[3]));
    CHECK(MPI_Waitall(2, rq + 2, MPI_STATUSES_IGNORE));
    mix(res, 3 * sizeof(long));
    CHECK(MPI_Win_sync(win));
    CHECK(MPI_Win_unlock_all(win));
    MPI_Barrier(MPI_COMM_WORLD);
    mix(mem, N * sizeof(long));
    snprintf(name, sizeof name, "%s lockall", kind);
    report(name);
}

/* Attributes and the calls on a window itself. */
static void window_calls(MPI_Win win, void *base, MPI_Aint size, int flavor_want)
{
    void *b;
    MPI_Aint *sz;
    int *du, *fl, *model, flag;
    CHECK(MPI_Win_get_attr(win, MPI_WIN_BASE, &b, &flag)); mixi(flag); mixi(b == base);
    CHECK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &sz, &flag)); mixi(flag); mixi(*sz == size);
    CHECK(MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &du, &flag)); mixi(*du);
    CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &fl, &flag)); mixi(*fl == flavor_want);
    CHECK(MPI_Win_get_attr(win, MPI_WIN_MODEL, &model, &flag)); mixi(flag);
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    CHECK(MPI_Win_set_name(win, "revive window"));
    CHECK(MPI_Win_get_name(win, name, &len)); mix(name, (size_t)len);
    MPI_Info info;
    CHECK(MPI_Win_get_info(win, &info));
    MPI_Info_free(&info);
    MPI_Group g;
    int gs, cmp;
    MPI_Group wg;
    MPI_Comm_group(MPI_COMM_WORLD, &wg);
    CHECK(MPI_Win_get_group(win, &g));
    MPI_Group_size(g, &gs); mixi(gs);
    MPI_Group_compare(g, wg, &cmp); mixi(cmp);
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    /* a keyval with callbacks: they get the program's window */
    int kv;
    CHECK(MPI_Win_create_keyval(copy_fn, delete_fn, &kv, &deletes));
    CHECK(MPI_Win_set_attr(win, kv, &copies));
    void *v;
    CHECK(MPI_Win_get_attr(win, kv, &v, &flag)); mixi(flag); mixi(v == &copies);
    CHECK(MPI_Win_delete_attr(win, kv)); mixi(deletes); mixi(seen_win == win);
    CHECK(MPI_Win_set_attr(win, kv, &copies)); /* deleted again when the window is freed */
    CHECK(MPI_Win_free_keyval(&kv)); mixi(kv == MPI_KEYVAL_INVALID);
    /* error handlers */
    MPI_Errhandler eh, eh2;
    CHECK(MPI_Win_create_errhandler(on_win_error, &eh));
    CHECK(MPI_Win_set_errhandler(win, eh));
    CHECK(MPI_Win_get_errhandler(win, &eh2));
    MPI_Errhandler_free(&eh2);
    MPI_Win_call_errhandler(win, MPI_ERR_OTHER);
    mixi(handled_win == win); mixi(handled_class);
    MPI_Errhandler_free(&eh);
    CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_ARE_FATAL));
    MPI_Fint fw = MPI_Win_c2f(win);
    mixi(MPI_Win_f2c(fw) == win);
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Win win;
    int rc;
    const char *only = getenv("REVIVE_TEST_RMA");
    int all = !only || strcmp(only, "create");

    /* MPI_Win_create on MPI_Alloc_mem memory */
    long *mem;
    CHECK(MPI_Alloc_mem(N * sizeof(long), MPI_INFO_NULL, &mem));
    rc = MPI_Win_create(mem, N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    mixi(rc == MPI_SUCCESS);
    report("create");
    if (rc == MPI_SUCCESS) {
        window_calls(win, mem, N * sizeof(long), MPI_WIN_FLAVOR_CREATE);
        report("create calls");
        epochs(win, mem, 0, "create");
        CHECK(MPI_Win_free(&win)); mixi(win == MPI_WIN_NULL); mixi(deletes);
    }
    CHECK(MPI_Free_mem(mem));
    report("create free");

    if (!all)
        goto dynamic;
    /* MPI_Win_allocate */
    rc = MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    mixi(rc == MPI_SUCCESS);
    if (rc == MPI_SUCCESS) {
        window_calls(win, mem, N * sizeof(long), MPI_WIN_FLAVOR_ALLOCATE);
        epochs(win, mem, 0, "allocate");
        CHECK(MPI_Win_free(&win));
    }
    report("allocate");

    /* MPI_Win_allocate_shared on the ranks of a node: shared_query, loads and stores */
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nn, nr;
    MPI_Comm_size(node, &nn);
    MPI_Comm_rank(node, &nr);
    rc = MPI_Win_allocate_shared(N * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &mem, &win);
    mixi(rc == MPI_SUCCESS);
    if (rc == MPI_SUCCESS) {
        MPI_Aint qs;
        int qd;
        long *q0;
        CHECK(MPI_Win_shared_query(win, 0, &qs, &qd, &q0));
        mixi((long)qs); mixi(qd); mixi(mem - q0 == (long)nr * N); /* contiguous */
        MPI_Win_lock_all(0, win);
        for (int i = 0; i < N; i++)
            mem[i] = nr * 1000 + i;
        MPI_Win_sync(win);
        MPI_Barrier(node);
        MPI_Win_sync(win);
        long s = 0;
        for (int r = 0; r < nn; r++) {
            long *p;
            CHECK(MPI_Win_shared_query(win, r, &qs, &qd, &p));
            s += p[N - 1] + p[0];
        }
        mixi(s);
        MPI_Win_unlock_all(win);
        MPI_Barrier(node);
        if (nn == np) {
            window_calls(win, mem, N * sizeof(long), MPI_WIN_FLAVOR_SHARED);
            epochs(win, mem, 0, "shared");
        }
        CHECK(MPI_Win_free(&win));
    }
    MPI_Comm_free(&node);
    report("shared");

dynamic:
    /* MPI_Win_create_dynamic with attach/detach: addresses exchanged */
    rc = MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    mixi(rc == MPI_SUCCESS);
    if (rc == MPI_SUCCESS) {
        long *dm = calloc(N, sizeof(long));
        CHECK(MPI_Win_attach(win, dm, N * sizeof(long)));
        MPI_Aint mine, *addrs = malloc(sizeof(MPI_Aint) * (size_t)np);
        MPI_Get_address(dm, &mine);
        MPI_Allgather(&mine, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD);
        int right = (me + 1) % np;
        long v = 1000 + me;
        MPI_Win_lock_all(0, win);
        CHECK(MPI_Put(&v, 1, MPI_LONG, right, addrs[right] + 3 * (MPI_Aint)sizeof(long), 1, MPI_LONG, win));
        MPI_Win_flush_all(win);
        MPI_Win_unlock_all(win);
        MPI_Barrier(MPI_COMM_WORLD);
        mix(dm, N * sizeof(long));
        int *fl, flag;
        MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &fl, &flag); mixi(*fl == MPI_WIN_FLAVOR_DYNAMIC);
        CHECK(MPI_Win_detach(win, dm));
        CHECK(MPI_Win_free(&win));
        free(dm);
        free(addrs);
    }
    report("dynamic");
    MPI_Finalize();
    return 0;
}

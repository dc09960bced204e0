/* A stencil code as users write them, for the campaign (tests/mpi/ckpt/campaign): Conway's game
 * of life on a torus cut into blocks over a Cartesian communicator (MPI_Dims_create,
 * MPI_Cart_create with reorder, MPI_Cart_shift). Each round exchanges the halo in two phases
 * with MPI_Irecv/MPI_Isend and MPI_Waitall: first the columns (an MPI_Type_vector), while the
 * inner cells are computed (the messages are in flight during that work), then the rows with
 * their corner cells (contiguous). Every 16 rounds the population is summed (MPI_Allreduce);
 * every 64 rounds and at the end the board is gathered on rank 0 with MPI_Type_create_subarray
 * types (each rank sends its interior, rank 0 receives each block in place, itself included)
 * and compared with rank 0's own serial run of the whole board: any cell that differs is an
 * error. A checkpoint may come while a rank waits for its neighbours' halos with others still
 * computing, or while rank 0 is in its serial run and every other rank waits for it.
 * Usage: cc_halo ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

/* each rank's block: LX rows of LY cells (not square: a row taken for a column shows) */
#define LX 40
#define LY 28
#define W (LY + 2) /* a local row with its two halo cells */
enum { TAG_UP = 1, TAG_DOWN, TAG_LEFT, TAG_RIGHT };

static int alive0(int gi, int gj) { return cc_hash(gi, gj, 7) % 100 < 35; }

static int rule(int self, int n) { return n == 3 || (self && n == 2); }

/* one generation of the whole board (rank 0's reference), on the torus */
static void serial_step(const unsigned char *b, unsigned char *nb, int gx, int gy)
{
    for (int i = 0; i < gx; i++)
        for (int j = 0; j < gy; j++) {
            int n = 0;
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++)
                    if (di || dj)
                        n += b[((i + di + gx) % gx) * gy + (j + dj + gy) % gy];
            nb[i * gy + j] = (unsigned char)rule(b[i * gy + j], n);
        }
}

/* cells [i0, i1) x [j0, j1) of the local board from the old one (halo included) */
static void step_cells(const int *a, int *na, int i0, int i1, int j0, int j1)
{
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) {
            const int *c = a + i * W + j;
            int n = c[-W - 1] + c[-W] + c[-W + 1] + c[-1] + c[1] + c[W - 1] + c[W] + c[W + 1];
            na[i * W + j] = rule(*c, n);
        }
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int dims[2] = { 0, 0 }, periods[2] = { 1, 1 }, coords[2], crank;
    MPI_Comm cart;
    CHECK(MPI_Dims_create(np, 2, dims));
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &cart));
    MPI_Comm_rank(cart, &crank);
    MPI_Cart_coords(cart, crank, 2, coords);
    int up, down, left, right;
    MPI_Cart_shift(cart, 0, 1, &up, &down);
    MPI_Cart_shift(cart, 1, 1, &left, &right);
    const int gx = dims[0] * LX, gy = dims[1] * LY;

    int *a = calloc((LX + 2) * W, sizeof *a), *na = calloc((LX + 2) * W, sizeof *na);
    for (int i = 1; i <= LX; i++)
        for (int j = 1; j <= LY; j++)
            a[i * W + j] = alive0(coords[0] * LX + i - 1, coords[1] * LY + j - 1);

    MPI_Datatype col, interior;
    CHECK(MPI_Type_vector(LX, 1, W, MPI_INT, &col));
    CHECK(MPI_Type_commit(&col));
    int lsz[2] = { LX + 2, W }, sub[2] = { LX, LY }, at1[2] = { 1, 1 };
    CHECK(MPI_Type_create_subarray(2, lsz, sub, at1, MPI_ORDER_C, MPI_INT, &interior));
    CHECK(MPI_Type_commit(&interior));

    /* rank 0: the whole board, run serially, and the blocks' places in it */
    unsigned char *ref = NULL, *nref = NULL;
    int *got = NULL;
    MPI_Datatype *place = NULL;
    if (crank == 0) {
        ref = malloc((size_t)gx * gy);
        nref = malloc((size_t)gx * gy);
        got = malloc(sizeof *got * (size_t)gx * gy);
        for (int i = 0; i < gx; i++)
            for (int j = 0; j < gy; j++)
                ref[i * gy + j] = (unsigned char)alive0(i, j);
        place = malloc(sizeof *place * (size_t)np);
        int gsz[2] = { gx, gy };
        for (int r = 0; r < np; r++) {
            int c[2];
            MPI_Cart_coords(cart, r, 2, c);
            int st[2] = { c[0] * LX, c[1] * LY };
            CHECK(MPI_Type_create_subarray(2, gsz, sub, st, MPI_ORDER_C, MPI_INT, &place[r]));
            CHECK(MPI_Type_commit(&place[r]));
        }
    }
    MPI_Request *gq = malloc(sizeof *gq * (size_t)(np + 1));

    for (int r = 0; r < rounds; r++) {
        MPI_Request q[4];
        /* phase 1: the columns of the interior rows, the inner cells computed meanwhile */
        CHECK(MPI_Irecv(a + W, 1, col, left, TAG_RIGHT, cart, &q[0]));
        CHECK(MPI_Irecv(a + W + LY + 1, 1, col, right, TAG_LEFT, cart, &q[1]));
        CHECK(MPI_Isend(a + W + 1, 1, col, left, TAG_LEFT, cart, &q[2]));
        CHECK(MPI_Isend(a + W + LY, 1, col, right, TAG_RIGHT, cart, &q[3]));
        step_cells(a, na, 2, LX, 2, LY);
        CHECK(MPI_Waitall(4, q, MPI_STATUSES_IGNORE));
        /* phase 2: whole rows, halo columns included: the corners come with them */
        CHECK(MPI_Irecv(a, W, MPI_INT, up, TAG_DOWN, cart, &q[0]));
        CHECK(MPI_Irecv(a + (LX + 1) * W, W, MPI_INT, down, TAG_UP, cart, &q[1]));
        CHECK(MPI_Isend(a + W, W, MPI_INT, up, TAG_UP, cart, &q[2]));
        CHECK(MPI_Isend(a + LX * W, W, MPI_INT, down, TAG_DOWN, cart, &q[3]));
        CHECK(MPI_Waitall(4, q, MPI_STATUSES_IGNORE));
        /* the block's edge cells, which needed the halo */
        step_cells(a, na, 1, 2, 1, LY + 1);
        step_cells(a, na, LX, LX + 1, 1, LY + 1);
        step_cells(a, na, 2, LX, 1, 2);
        step_cells(a, na, 2, LX, LY, LY + 1);
        int *t = a;
        a = na;
        na = t;
        if (crank == 0) {
            serial_step(ref, nref, gx, gy);
            unsigned char *u = ref;
            ref = nref;
            nref = u;
        }
        if (r % 16 == 15 || r == rounds - 1) {
            long pop = 0, all = 0;
            for (int i = 1; i <= LX; i++)
                for (int j = 1; j <= LY; j++)
                    pop += a[i * W + j];
            CHECK(MPI_Allreduce(&pop, &all, 1, MPI_LONG, MPI_SUM, cart));
            mixi(all);
            if (crank == 0) {
                long want = 0;
                for (long k = 0; k < (long)gx * gy; k++)
                    want += ref[k];
                EXPECT(all == want, "round %d: population %ld, the serial run has %ld", r, all, want);
            }
        }
        if (r % 64 == 63 || r == rounds - 1) {
            int n = 0;
            if (crank == 0)
                for (int k = 0; k < np; k++)
                    CHECK(MPI_Irecv(got, 1, place[k], k, 99, cart, &gq[n++]));
            CHECK(MPI_Isend(a, 1, interior, 0, 99, cart, &gq[n++]));
            CHECK(MPI_Waitall(n, gq, MPI_STATUSES_IGNORE));
            if (crank == 0) {
                long bad = 0;
                for (long k = 0; k < (long)gx * gy; k++)
                    bad += got[k] != ref[k];
                EXPECT(bad == 0, "round %d: %ld cells differ from the serial run", r, bad);
            }
        }
    }
    for (int i = 1; i <= LX; i++)
        mix(a + i * W + 1, LY * sizeof *a);
    report("life");
    if (crank == 0) {
        ck = 1469598103934665603ull;
        mix(ref, (size_t)gx * gy);
        printf("board %dx%d on %dx%d ranks: %016llx\n", gx, gy, dims[0], dims[1],
               (unsigned long long)ck);
        fflush(stdout);
        for (int k = 0; k < np; k++)
            MPI_Type_free(&place[k]);
    }
    MPI_Type_free(&col);
    MPI_Type_free(&interior);
    MPI_Comm_free(&cart);
    cc_finish();
    MPI_Finalize();
    return 0;
}

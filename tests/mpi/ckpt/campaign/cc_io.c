/* Simulation output through MPI-IO as users write it, for the campaign (tests/mpi/ckpt/campaign).
 * A global 2-D array of 64-bit values is cut into blocks over the ranks (MPI_Dims_create); each
 * round updates the blocks (with an MPI_Allreduce of their sums) and writes the state into a
 * time-series file of NS records used in turn, collectively (MPI_File_set_view with an
 * MPI_Type_create_subarray file type, then MPI_File_write_all); every 8 rounds rank 0 rewrites
 * the file's header (the view set back to bytes, MPI_File_write_at) and the file is synced;
 * every 5 rounds a dump file is opened, written with MPI_File_iwrite_at_all (completed after an
 * MPI_Allreduce), and closed. At the end the ranks read every record back through the view
 * (MPI_File_read_all) and compare it with what they wrote there, rank 0 checksums the whole of
 * both files, byte by byte, read independently; the checksums are printed.
 * The files are in the working folder, named after rank 0's pid, and are left there: a job's
 * output outlives the job (a restart goes on with the files as they are: the run's output is
 * the same whether it was checkpointed, restarted, or restarted twice from one snapshot).
 * A checkpoint may come inside a collective write, with the nonblocking write in flight, or
 * while the dump file is open between its rounds.
 * Usage: cc_io ROUNDS */
#include <unistd.h>

#include "tests/mpi/ckpt/campaign/cc.h"

#define BX 12 /* each block: BX rows of BY values */
#define BY 10
#define NS 16   /* records in the time series */
#define HDR 64  /* bytes of header before the records */

static uint64_t hash_block(const uint64_t *v)
{
    uint64_t h = 0;
    for (int k = 0; k < BX * BY; k++)
        h = cc_hash((long)h, (long)v[k], k);
    return h;
}

static uint64_t file_sum(MPI_File fh, MPI_Offset *size)
{
    uint64_t h = 1469598103934665603ull;
    unsigned char buf[4096];
    CHECK(MPI_File_get_size(fh, size));
    for (MPI_Offset o = 0; o < *size; o += (MPI_Offset)sizeof buf) {
        int n = *size - o < (MPI_Offset)sizeof buf ? (int)(*size - o) : (int)sizeof buf;
        MPI_Status st;
        CHECK(MPI_File_read_at(fh, o, buf, n, MPI_BYTE, &st));
        for (int i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 1099511628211ull;
        }
    }
    return h;
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int dims[2] = { 0, 0 };
    CHECK(MPI_Dims_create(np, 2, dims));
    int cx = me / dims[1], cy = me % dims[1];
    int gsz[2] = { dims[0] * BX, dims[1] * BY }, bsz[2] = { BX, BY }, st0[2] = { cx * BX, cy * BY };
    MPI_Datatype ftype;
    CHECK(MPI_Type_create_subarray(2, gsz, bsz, st0, MPI_ORDER_C, MPI_UINT64_T, &ftype));
    CHECK(MPI_Type_commit(&ftype));
    const MPI_Offset rec = (MPI_Offset)gsz[0] * gsz[1] * 8;

    char series[64], dump[64];
    long pid = me == 0 ? (long)getpid() : 0;
    CHECK(MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD));
    snprintf(series, sizeof series, "cc_io-%ld.series", pid);
    snprintf(dump, sizeof dump, "cc_io-%ld.dump", pid);
    if (me == 0) { /* a fresh run: an old file of that name is not ours */
        MPI_File_delete(series, MPI_INFO_NULL);
        MPI_File_delete(dump, MPI_INFO_NULL);
    }
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_File fs;
    CHECK(MPI_File_open(MPI_COMM_WORLD, series, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fs));

    uint64_t v[BX * BY], slot_hash[NS] = { 0 }, dump_hash = 0;
    for (int k = 0; k < BX * BY; k++)
        v[k] = cc_hash(me, k, 1);
    int dumps = 0;
    for (int r = 0; r < rounds; r++) {
        /* the "physics": every value moves by the global sum of the last round */
        uint64_t s = 0, all = 0;
        for (int k = 0; k < BX * BY; k++)
            s += v[k];
        CHECK(MPI_Allreduce(&s, &all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD));
        for (int k = 0; k < BX * BY; k++)
            v[k] = v[k] * 6364136223846793005ull + all + (uint64_t)r;
        mixi((long)all);

        int slot = r % NS;
        CHECK(MPI_File_set_view(fs, HDR + slot * rec, MPI_UINT64_T, ftype, "native", MPI_INFO_NULL));
        MPI_Status st;
        CHECK(MPI_File_write_all(fs, v, BX * BY, MPI_UINT64_T, &st));
        int cnt = -1;
        MPI_Get_count(&st, MPI_UINT64_T, &cnt);
        EXPECT(cnt == BX * BY, "round %d: write_all wrote %d values", r, cnt);
        slot_hash[slot] = hash_block(v);

        if (r % 8 == 7) {
            CHECK(MPI_File_set_view(fs, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
            if (me == 0) {
                char h[HDR];
                memset(h, ' ', sizeof h);
                int n = snprintf(h, sizeof h, "cc_io %dx%d ranks, round %d, slot %d", dims[0], dims[1], r, slot);
                h[n] = ' ';
                h[HDR - 1] = '\n';
                CHECK(MPI_File_write_at(fs, 0, h, HDR, MPI_CHAR, MPI_STATUS_IGNORE));
            }
            CHECK(MPI_File_sync(fs));
        }
        if (r % 5 == 4) {
            MPI_File fd;
            MPI_Request q;
            CHECK(MPI_File_open(MPI_COMM_WORLD, dump, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fd));
            CHECK(MPI_File_iwrite_at_all(fd, (MPI_Offset)me * sizeof v, v, BX * BY, MPI_UINT64_T, &q));
            uint64_t d = (uint64_t)r, dall = 0;
            CHECK(MPI_Allreduce(&d, &dall, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD));
            CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE));
            CHECK(MPI_File_close(&fd));
            dump_hash = hash_block(v);
            dumps++;
        }
    }
    report("state");

    /* read back: each record through the view, then both files byte by byte */
    for (int slot = 0; slot < NS && slot < rounds; slot++) {
        uint64_t b[BX * BY];
        CHECK(MPI_File_set_view(fs, HDR + slot * rec, MPI_UINT64_T, ftype, "native", MPI_INFO_NULL));
        CHECK(MPI_File_read_all(fs, b, BX * BY, MPI_UINT64_T, MPI_STATUS_IGNORE));
        EXPECT(hash_block(b) == slot_hash[slot], "record %d differs from what was written", slot);
    }
    CHECK(MPI_File_close(&fs));
    if (dumps) {
        MPI_File fd;
        uint64_t b[BX * BY];
        CHECK(MPI_File_open(MPI_COMM_WORLD, dump, MPI_MODE_RDONLY, MPI_INFO_NULL, &fd));
        CHECK(MPI_File_read_at_all(fd, (MPI_Offset)me * sizeof b, b, BX * BY, MPI_UINT64_T, MPI_STATUS_IGNORE));
        EXPECT(hash_block(b) == dump_hash, "the dump differs from the last one written");
        CHECK(MPI_File_close(&fd));
    }
    if (me == 0) {
        const char *names[2] = { series, dump };
        for (int f = 0; f < 1 + (dumps > 0); f++) {
            MPI_File fh;
            MPI_Offset size;
            CHECK(MPI_File_open(MPI_COMM_SELF, names[f], MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
            uint64_t h = file_sum(fh, &size);
            printf("%s: %lld bytes, %016llx\n", f ? "dump" : "series", (long long)size, (unsigned long long)h);
            CHECK(MPI_File_close(&fh));
        }
        fflush(stdout);
    }
    MPI_Type_free(&ftype);
    cc_finish();
    MPI_Finalize();
    return 0;
}

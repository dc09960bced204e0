/* A rank program for rst_fcomm.sh: MPI files that outlive the objects they were opened with
 * (newuser8 F6: found with PnetCDF and a small program).
 *
 *   rst_fcomm PREFIX STEPS PACEFILE MS [PARTS]
 *
 * It opens three files, then frees what the standard lets it free while they stay open:
 *   PREFIX.a on a duplicate of MPI_COMM_WORLD, the duplicate freed at once; an error handler of
 *            its own set on it and freed; MPI_File_get_info's info object kept to the end (as
 *            PnetCDF keeps it);
 *   PREFIX.b<COLOR> on a split of MPI_COMM_WORLD (even and odd ranks), the split freed at once;
 *            MPI_File_get_group's group kept to the end and used at every step;
 *   PREFIX.c on MPI_COMM_WORLD with hints in an info object freed after the open, and a view
 *            whose filetype (a derived type) is freed after MPI_File_set_view.
 * PARTS, words joined by commas, adds objects the program frees while requests still use them:
 *   persist  persistent requests whose datatype is freed after their MPI_Send_init and
 *            MPI_Recv_init, started at every step: a send and a receive in a ring of the ranks (a
 *            vector, which a third send also used, freed before any snapshot), and a send and a
 *            receive of each rank to itself of c's filetype (the view and the two requests hold it);
 *   pcomm    a persistent send and receive in a ring on a duplicate of MPI_COMM_WORLD freed after
 *            their inits, started at every step;
 *   pend     a receive posted before the steps and pending through every step (and snapshot),
 *            on MPI_COMM_WORLD of a vector freed at once, met by an MPI_Isend after the last step
 *            (until session 42 a restart posted it again on the released handle);
 *   with both pcomm and pend, more on pcomm's duplicate, posted before it is freed: a receive of
 *            the vector, met after the last step by a persistent send on the duplicate; a
 *            persistent receive started at once (pending through every step, met by a second
 *            persistent send); an MPI_Ibcast from rank 0 completed after the last step;
 *            with pend, on a duplicate of MPI_COMM_WORLD that even ranks free at once, a receive
 *            of each even rank r from r + 1 pending through every step (r + 1 keeps the
 *            duplicate and sends after the last step: only the pending receive holds the freed
 *            duplicate at its rank); then a datatype made after the frees and kept to the end
 *            (it may take the place of a freed handle: a restart that posted the receives again
 *            with the freed handles used it).
 * Then STEPS steps: each rank writes a block to each file (collectively at explicit offsets on
 * a and b, through the view on c), reads back its block of the step before, and rank 0 prints
 * "step S: SUM GROUPSIZE POSITION" (SUM over the ranks of what they read). Between steps it
 * sleeps MS milliseconds while PACEFILE exists (the test keeps the job from ending before its
 * snapshots). At the end every file is read back through its handle and rank 0 prints
 * "done: ..." with what a's info object holds (its key count, its last key and value) and a
 * checksum of the files' contents. The lines and the files do not depend on where a
 * snapshot came: a restarted job must give an uninterrupted run's. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_pace.h"

#define B 8

static int rank, size;

static void check(int rc, const char *what, int step)
{
    if (rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int l = 0;
        MPI_Error_string(rc, s, &l);
        fprintf(stderr, "rst_fcomm rank %d: FAIL: %s at step %d: %s\n", rank, what, step, s);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

static void file_eh(MPI_File *f, int *code, ...)
{
    (void)f;
    fprintf(stderr, "rst_fcomm rank %d: FAIL: MPI error %d on file a\n", rank, *code);
    MPI_Abort(MPI_COMM_WORLD, 3);
}

/* The FNV-1a hash of a file's bytes, read through its handle on this rank. */
static uint64_t file_hash(MPI_File f)
{
    MPI_Offset n = 0;
    check(MPI_File_get_size(f, &n), "MPI_File_get_size", -1);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b) {
        fprintf(stderr, "rst_fcomm: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    check(MPI_File_read_at(f, 0, b, (int)n, MPI_BYTE, MPI_STATUS_IGNORE), "MPI_File_read_at", -1);
    uint64_t h = 1469598103934665603ull ^ (uint64_t)n;
    for (MPI_Offset k = 0; k < n; k++) {
        h ^= b[k];
        h *= 1099511628211ull;
    }
    free(b);
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: rst_fcomm PREFIX STEPS PACEFILE MS [persist,pcomm,pend]\n");
        return 2;
    }
    const char *parts = argc == 6 ? argv[5] : "";
    int persist = strstr(parts, "persist") != NULL, pcomm = strstr(parts, "pcomm") != NULL;
    int pending = strstr(parts, "pend") != NULL;
    const char *prefix = argv[1], *pace = argv[3];
    int steps = atoi(argv[2]);
    long ms = atol(argv[4]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char name[4200];
    int amode = MPI_MODE_CREATE | MPI_MODE_RDWR;

    /* a: on a duplicate freed at once; an error handler set and freed; its info kept */
    MPI_Comm dup;
    MPI_File fa, fb, fc;
    check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup", -1);
    snprintf(name, sizeof name, "%s.a", prefix);
    check(MPI_File_open(dup, name, amode, MPI_INFO_NULL, &fa), "MPI_File_open (a)", -1);
    check(MPI_Comm_free(&dup), "MPI_Comm_free (dup)", -1);
    MPI_Errhandler eh;
    check(MPI_File_create_errhandler(file_eh, &eh), "MPI_File_create_errhandler", -1);
    check(MPI_File_set_errhandler(fa, eh), "MPI_File_set_errhandler", -1);
    check(MPI_Errhandler_free(&eh), "MPI_Errhandler_free", -1);
    MPI_Info used;
    check(MPI_File_get_info(fa, &used), "MPI_File_get_info", -1);

    /* b: on a split freed at once; its group kept */
    MPI_Comm split;
    int color = rank % 2;
    check(MPI_Comm_split(MPI_COMM_WORLD, color, rank, &split), "MPI_Comm_split", -1);
    int srank, ssize;
    MPI_Comm_rank(split, &srank);
    MPI_Comm_size(split, &ssize);
    snprintf(name, sizeof name, "%s.b%d", prefix, color);
    check(MPI_File_open(split, name, amode, MPI_INFO_NULL, &fb), "MPI_File_open (b)", -1);
    check(MPI_Comm_free(&split), "MPI_Comm_free (split)", -1);
    MPI_Group grp;
    check(MPI_File_get_group(fb, &grp), "MPI_File_get_group", -1);

    /* c: on MPI_COMM_WORLD, its hints' info freed after the open, a view whose filetype is
     * freed after MPI_File_set_view (rank r's blocks of B ints, interleaved) */
    MPI_Info hints;
    check(MPI_Info_create(&hints), "MPI_Info_create", -1);
    MPI_Info_set(hints, "access_style", "read_mostly,write_once");
    snprintf(name, sizeof name, "%s.c", prefix);
    check(MPI_File_open(MPI_COMM_WORLD, name, amode, hints, &fc), "MPI_File_open (c)", -1);
    check(MPI_Info_free(&hints), "MPI_Info_free", -1);
    MPI_Datatype blk, ft;
    MPI_Type_contiguous(B, MPI_INT, &blk);
    MPI_Type_create_resized(blk, 0, (MPI_Aint)B * (MPI_Aint)sizeof(int) * size, &ft);
    MPI_Type_commit(&ft);
    check(MPI_File_set_view(fc, (MPI_Offset)rank * B * (MPI_Offset)sizeof(int), MPI_INT, ft,
                            "native", MPI_INFO_NULL), "MPI_File_set_view (c)", -1);
    MPI_Type_free(&blk);

    /* persistent requests whose datatype is freed at once: a ring (ints 0, 1, 4, 5 of 8) of a
     * vector a third request also used, freed before any snapshot; a pair to itself of the
     * view's filetype (its first 8 ints), which the view and the pair hold */
    int sring[B], rring[B], sself[B], rself[B], crecv[B], csend[B];
    int wlate[B], late[B], lsend[B];
    MPI_Request ring[6], wpend = MPI_REQUEST_NULL;
    MPI_Request pend = MPI_REQUEST_NULL, lreq = MPI_REQUEST_NULL;
    MPI_Request preq = MPI_REQUEST_NULL, psreq = MPI_REQUEST_NULL, breq = MPI_REQUEST_NULL;
    int plate[B], bc[3] = { 0, 0, 0 };
    int nring = 0, prev = (rank + size - 1) % size, next = (rank + 1) % size;
    MPI_Datatype v3; /* ints 0, 2 and 4 */
    MPI_Type_vector(3, 1, 2, MPI_INT, &v3);
    MPI_Type_commit(&v3);
    if (persist) {
        MPI_Datatype vec;
        MPI_Request spare;
        MPI_Type_vector(2, 2, 4, MPI_INT, &vec);
        MPI_Type_commit(&vec);
        check(MPI_Recv_init(rring, 1, vec, prev, 7, MPI_COMM_WORLD, &ring[0]), "MPI_Recv_init", -1);
        check(MPI_Send_init(sring, 1, vec, next, 7, MPI_COMM_WORLD, &ring[1]), "MPI_Send_init", -1);
        check(MPI_Send_init(sring, 1, vec, rank, 9, MPI_COMM_WORLD, &spare), "MPI_Send_init", -1);
        check(MPI_Type_free(&vec), "MPI_Type_free (the requests' vector)", -1);
        check(MPI_Request_free(&spare), "MPI_Request_free (a request never started)", -1);
        check(MPI_Recv_init(rself, 1, ft, rank, 8, MPI_COMM_WORLD, &ring[2]), "MPI_Recv_init", -1);
        check(MPI_Send_init(sself, 1, ft, rank, 8, MPI_COMM_WORLD, &ring[3]), "MPI_Send_init", -1);
        nring = 4;
    }
    memset(wlate, 0, sizeof wlate);
    memset(late, 0, sizeof late);
    memset(plate, 0, sizeof plate);
    if (pending) {
        /* on MPI_COMM_WORLD with v3, freed below */
        check(MPI_Irecv(wlate, 1, v3, prev, 6, MPI_COMM_WORLD, &wpend), "MPI_Irecv (world)", -1);
    }
    if (pcomm) {
        /* a ring on a duplicate freed after the inits (and with pend a receive pending on it
         * to the end, of v3, with the persistent send that meets it) */
        MPI_Comm pc;
        check(MPI_Comm_dup(MPI_COMM_WORLD, &pc), "MPI_Comm_dup (pc)", -1);
        check(MPI_Recv_init(crecv, B, MPI_INT, prev, 5, pc, &ring[nring]), "MPI_Recv_init (pc)", -1);
        check(MPI_Send_init(csend, B, MPI_INT, next, 5, pc, &ring[nring + 1]), "MPI_Send_init (pc)",
              -1);
        nring += 2;
        if (pending) {
            check(MPI_Irecv(late, 1, v3, prev, 6, pc, &pend), "MPI_Irecv (pc)", -1);
            check(MPI_Send_init(lsend, 1, v3, next, 6, pc, &lreq), "MPI_Send_init (pc, late)", -1);
            check(MPI_Recv_init(plate, 1, v3, prev, 4, pc, &preq), "MPI_Recv_init (pc, late)", -1);
            check(MPI_Send_init(lsend, 1, v3, next, 4, pc, &psreq), "MPI_Send_init (pc, late 2)",
                  -1);
            check(MPI_Start(&preq), "MPI_Start (pc, late)", -1);
            if (rank == 0)
                for (int i = 0; i < 3; i++)
                    bc[i] = 900 + i;
            check(MPI_Ibcast(bc, 3, MPI_INT, 0, pc, &breq), "MPI_Ibcast (pc)", -1);
        }
        check(MPI_Comm_free(&pc), "MPI_Comm_free (pc)", -1);
    }
    MPI_Comm half = MPI_COMM_NULL;
    int hrecv[B], hpeer = rank % 2 ? rank - 1 : rank + 1;
    MPI_Request hreq = MPI_REQUEST_NULL;
    memset(hrecv, 0, sizeof hrecv);
    if (pending) {
        check(MPI_Comm_dup(MPI_COMM_WORLD, &half), "MPI_Comm_dup (half)", -1);
        if (rank % 2 == 0 && hpeer < size) {
            check(MPI_Irecv(hrecv, B, MPI_INT, hpeer, 3, half, &hreq), "MPI_Irecv (half)", -1);
            check(MPI_Comm_free(&half), "MPI_Comm_free (half)", -1);
        }
    }
    check(MPI_Type_free(&v3), "MPI_Type_free (the pending receives' vector)", -1);
    MPI_Type_free(&ft);
    MPI_Datatype later;
    MPI_Type_contiguous(3, MPI_INT, &later);
    MPI_Type_commit(&later);
    for (int s = 0; s < steps; s++) {
        int buf[B], back[B];
        long long got = 0;
        for (int i = 0; i < B; i++)
            buf[i] = (s * size + rank) * 100 + i;
        MPI_Offset at = ((MPI_Offset)s * size + rank) * B * (MPI_Offset)sizeof(int);
        check(MPI_File_write_at_all(fa, at, buf, B, MPI_INT, MPI_STATUS_IGNORE), "write a", s);
        MPI_Offset bt = ((MPI_Offset)s * ssize + srank) * B * (MPI_Offset)sizeof(int);
        check(MPI_File_write_at_all(fb, bt, buf, B, MPI_INT, MPI_STATUS_IGNORE), "write b", s);
        check(MPI_File_write_all(fc, buf, B, MPI_INT, MPI_STATUS_IGNORE), "write c", s);
        if (s > 0) {
            MPI_Offset pa = at - (MPI_Offset)size * B * (MPI_Offset)sizeof(int);
            MPI_Offset pb = bt - (MPI_Offset)ssize * B * (MPI_Offset)sizeof(int);
            check(MPI_File_read_at(fa, pa, back, B, MPI_INT, MPI_STATUS_IGNORE), "read a", s);
            for (int i = 0; i < B; i++)
                got += back[i];
            check(MPI_File_read_at(fb, pb, back, B, MPI_INT, MPI_STATUS_IGNORE), "read b", s);
            for (int i = 0; i < B; i++)
                got += 2 * back[i];
            /* in etypes of c's view: the block of the step before */
            check(MPI_File_read_at(fc, (MPI_Offset)(s - 1) * B, back, B, MPI_INT,
                                   MPI_STATUS_IGNORE), "read c", s);
            for (int i = 0; i < B; i++)
                got += 3 * back[i];
        }
        if (nring) {
            for (int i = 0; i < B; i++) {
                sring[i] = (s + 1) * 1000 + rank * 10 + i;
                sself[i] = (s + 1) * 3000 + rank * 30 + i;
                csend[i] = (s + 1) * 5000 + rank * 50 + i;
                rring[i] = rself[i] = crecv[i] = 0;
            }
            check(MPI_Startall(nring, ring), "MPI_Startall", s);
            check(MPI_Waitall(nring, ring, MPI_STATUSES_IGNORE), "MPI_Waitall", s);
            for (int i = 0; i < B; i++)
                got += (long long)(i + 1) * rring[i] + (long long)(i + 7) * rself[i] +
                       (long long)(i + 3) * crecv[i];
        }
        int gsize = 0, grank = -1;
        MPI_Group_size(grp, &gsize);
        MPI_Group_rank(grp, &grank);
        if (grank != srank)
            check(MPI_ERR_GROUP, "MPI_Group_rank of the file's group", s);
        MPI_Offset pos = -1;
        check(MPI_File_get_position(fc, &pos), "MPI_File_get_position", s);
        long long sum = 0;
        MPI_Reduce(&got, &sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: %lld %d %lld\n", s, sum, gsize, (long long)pos);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    /* the receives pending since the start meet their sends */
    long long lsum = 0, lall = 0;
    for (int i = 0; i < B; i++)
        lsend[i] = 700000 + rank * 100 + i;
    if (pending) {
        MPI_Request q;
        check(MPI_Isend(lsend, 3, MPI_INT, next, 6, MPI_COMM_WORLD, &q), "MPI_Isend (late)", steps);
        check(MPI_Wait(&wpend, MPI_STATUS_IGNORE), "MPI_Wait (the receive pending on world)",
              steps);
        check(MPI_Wait(&q, MPI_STATUS_IGNORE), "MPI_Wait (late send)", steps);
        for (int i = 0; i < B; i++)
            lsum += (long long)(i + 5) * wlate[i];
    }
    if (pending) {
        if (hreq != MPI_REQUEST_NULL) {
            check(MPI_Wait(&hreq, MPI_STATUS_IGNORE), "MPI_Wait (the receive on half)", steps);
        } else if (rank % 2 && half != MPI_COMM_NULL) {
            check(MPI_Send(lsend, B, MPI_INT, hpeer, 3, half), "MPI_Send (half)", steps);
        }
        if (half != MPI_COMM_NULL)
            check(MPI_Comm_free(&half), "MPI_Comm_free (half, late)", steps);
        for (int i = 0; i < B; i++)
            lsum += (long long)(i + 19) * hrecv[i];
    }
    if (pcomm && pending) {
        check(MPI_Start(&lreq), "MPI_Start (late)", steps);
        check(MPI_Wait(&lreq, MPI_STATUS_IGNORE), "MPI_Wait (late send)", steps);
        check(MPI_Wait(&pend, MPI_STATUS_IGNORE), "MPI_Wait (the receive pending on pc)", steps);
        check(MPI_Start(&psreq), "MPI_Start (late 2)", steps);
        check(MPI_Wait(&psreq, MPI_STATUS_IGNORE), "MPI_Wait (late send 2)", steps);
        check(MPI_Wait(&preq, MPI_STATUS_IGNORE), "MPI_Wait (the persistent receive on pc)",
              steps);
        check(MPI_Wait(&breq, MPI_STATUS_IGNORE), "MPI_Wait (MPI_Ibcast on pc)", steps);
        for (int i = 0; i < B; i++)
            lsum += (long long)(i + 1) * late[i] + (long long)(i + 11) * plate[i];
        lsum += 7LL * bc[0] + 13LL * bc[1] + 17LL * bc[2];
    }
    MPI_Reduce(&lsum, &lall, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    /* what a's info object holds (a restart must give back the object the program kept) */
    int nkeys = -1, flag = 0;
    char key[MPI_MAX_INFO_KEY + 1] = "", val[256] = "";
    check(MPI_Info_get_nkeys(used, &nkeys), "MPI_Info_get_nkeys of a's info", steps);
    if (nkeys > 0) {
        check(MPI_Info_get_nthkey(used, nkeys - 1, key), "MPI_Info_get_nthkey of a's info", steps);
        check(MPI_Info_get(used, key, (int)sizeof val - 1, val, &flag), "MPI_Info_get of a's info",
              steps);
    }
    check(MPI_File_sync(fa), "MPI_File_sync", steps);
    check(MPI_File_sync(fb), "MPI_File_sync", steps);
    check(MPI_File_sync(fc), "MPI_File_sync", steps);
    MPI_Barrier(MPI_COMM_WORLD);
    check(MPI_File_sync(fa), "MPI_File_sync", steps);
    check(MPI_File_sync(fb), "MPI_File_sync", steps);
    check(MPI_File_sync(fc), "MPI_File_sync", steps);
    check(MPI_File_set_view(fc, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL),
          "MPI_File_set_view (bytes)", steps);
    /* a and c by rank 0, each b by its split's rank 0 */
    uint64_t h = 0, all = 0;
    if (rank == 0)
        h = file_hash(fa) * 3 + file_hash(fc);
    if (srank == 0)
        h ^= file_hash(fb) * (uint64_t)(color + 5);
    MPI_Reduce(&h, &all, 1, MPI_UINT64_T, MPI_BXOR, 0, MPI_COMM_WORLD);
    check(MPI_File_close(&fa), "MPI_File_close (a)", steps);
    check(MPI_File_close(&fb), "MPI_File_close (b)", steps);
    check(MPI_File_close(&fc), "MPI_File_close (c)", steps);
    MPI_Group_free(&grp);
    MPI_Info_free(&used);
    MPI_Type_free(&later);
    for (int i = 0; i < nring; i++)
        MPI_Request_free(&ring[i]);
    if (lreq != MPI_REQUEST_NULL)
        MPI_Request_free(&lreq);
    if (preq != MPI_REQUEST_NULL)
        MPI_Request_free(&preq);
    if (psreq != MPI_REQUEST_NULL)
        MPI_Request_free(&psreq);
    if (rank == 0)
        printf("done: %d steps on %d ranks, file a's info %d keys (%s=%s), late receives %lld,"
               " checksum %016llx\n", steps, size, nkeys, key, flag ? val : "?", lall,
               (unsigned long long)all);
    MPI_Finalize();
    return 0;
}

/* A paced job holding MPI objects of every kind the lower half keeps resources for, for
 * term_objs.sh: `ckpt-mpirun --term` must end it as if it had finished (every rank finalizes
 * and exits 0) whatever it holds at the snapshot, and a restart must go on with them.
 *
 *   term_objs STEPS PACEFILE MS [KINDS]
 *
 * Sleeps MS ms after each step while PACEFILE exists. KINDS (default "all") is a comma list of
 * what the job makes before its first step and keeps to its end:
 *   - create: MPI_Win_create on memory from MPI_Alloc_mem, fence epochs (one open between steps)
 *   - allocate: MPI_Win_allocate with MPI_Win_lock_all held from start to end
 *   - shared: MPI_Win_allocate_shared on the node's ranks, lock_all held, stores and loads
 *   - dynamic: MPI_Win_create_dynamic, a region attached, a shared lock on the right neighbour
 *   - file: a file opened on MPI_COMM_WORLD (PACEFILE.dat), each rank writing its block per step
 *   - scratch: a file opened on MPI_COMM_WORLD with MPI_MODE_DELETE_ON_CLOSE (PACEFILE.scr, a
 *     scratch file: --term leaves it open, closing it would delete it) through a view of a
 *     derived filetype the program holds (a vector of longs), each rank writing two longs of
 *     its part per step and reading them back (MPICH: "[WARNING] yaksa: 2 leaked handle pool
 *     objects" on every rank of a job ended by --term, the library's copies of the view's
 *     types never given back: diffrev47 R-L1)
 *   - persist: persistent send and receive to the neighbours (started and completed each step),
 *     and a persistent receive started at the beginning that is matched only after the last
 *     step (active, pending, at any snapshot)
 *   - allocmem: memory from MPI_Alloc_mem written every step and freed at the end
 *   - types: a vector and a struct datatype (the struct built on the vector), committed at the
 *     start, used to exchange with the neighbours every step, freed at the end (a job ended by
 *     --term never frees them: MPICH printed "yaksa: 2 leaked handle pool objects" on every rank,
 *     review19 LOW-1)
 *   - typesrecv: types, and a receive of the struct type posted at the start and matched only
 *     after the last step (pending at any snapshot: MPICH 4.0 keeps a reference to the type of a
 *     cancelled receive, and the same warning came from a --term that caught a rank waiting in
 *     the step's MPI_Sendrecv: CI of b7061c9d). Apart from types: with such a receive cancelled
 *     the layer keeps yaksa's line off stderr, and types alone must show the give-back frees
 *     the program's types (diffrev45 R-M3); a contiguous type of its own held too, in no
 *     receive: a leak of it is more than the cancelled receive's types account for, and MPICH's
 *     line then reaches stderr (term_objs.sh, fault point mpi-term-keep-types: R-L10)
 *   - hupign (never in "all"): SIGHUP ignored from MPI_Init on (term_objs.sh's fault point
 *     mpi-term-fin-hup: a hang-up while --term's MPI_Finalize holds the library's stderr must
 *     stay ignored, diffrev47 R-L2)
 *   - kfds: the rank's own kernel objects of kinds the MPI library also makes (only in "all"): a
 *     socketpair with one message always queued (its reading end moved to descriptor 200 with
 *     dup2 and the original closed), an eventfd written every step and read through a
 *     duplicate, an epoll watching the socketpair, an armed timerfd (review12 HIGH-0: these were
 *     taken for the library's and left out of the rank image; the restarted job read EBADF or
 *     another object now at that number, and exited 0)
 * Open MPI makes no MPI_Win_create or dynamic window on one rank (natively too).
 *
 * Rank 0 prints "step S: HASH" (every rank's objects hashed) per step and a "done:" line. */
#define _GNU_SOURCE
#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#define N 64

static int rank, size;

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "term_objs rank %d: FAIL: %s\n", rank, what);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}
#define CHECK(call) check((call), #call)

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int has(const char *kinds, const char *k)
{
    if (!strcmp(kinds, "all"))
        return 1;
    size_t n = strlen(k);
    for (const char *p = kinds; (p = strstr(p, k)); p += n)
        if ((p == kinds || p[-1] == ',') && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: term_objs STEPS PACEFILE MS [KINDS]\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    const char *pace = argv[2];
    int ms = atoi(argv[3]);
    const char *kinds = argc > 4 ? argv[4] : "all";
    CHECK(MPI_Init(&argc, &argv));
    /* after MPI_Init: before it, MPICH's UCX puts its own handler over it (natively too when
     * ignored from the exec, under nohup; under Revive also when ignored in main) */
    if (strcmp(kinds, "all") && has(kinds, "hupign"))
        signal(SIGHUP, SIG_IGN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int right = (rank + 1) % size, left = (rank + size - 1) % size;

    long *cmem = NULL, *amem = NULL, *smem = NULL, *sright = NULL, *dmem = NULL, *xmem = NULL;
    MPI_Win wc = MPI_WIN_NULL, wa = MPI_WIN_NULL, ws = MPI_WIN_NULL, wd = MPI_WIN_NULL;
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Aint *addrs = calloc((size_t)size, sizeof *addrs);
    if (has(kinds, "create")) {
        CHECK(MPI_Alloc_mem(N * sizeof(long), MPI_INFO_NULL, &cmem));
        memset(cmem, 0, N * sizeof(long));
        CHECK(MPI_Win_create(cmem, N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                             &wc));
        CHECK(MPI_Win_fence(0, wc));
    }
    if (has(kinds, "allocate")) {
        CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                               &amem, &wa));
        memset(amem, 0, N * sizeof(long));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Win_lock_all(0, wa));
    }
    int nrank = 0, nsize = 1;
    if (has(kinds, "shared")) {
        CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
        MPI_Comm_rank(node, &nrank);
        MPI_Comm_size(node, &nsize);
        CHECK(MPI_Win_allocate_shared(N * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &smem,
                                      &ws));
        MPI_Aint qs;
        int qd;
        CHECK(MPI_Win_shared_query(ws, (nrank + 1) % nsize, &qs, &qd, &sright));
        memset(smem, 0, N * sizeof(long));
        CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, ws));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
    }
    if (has(kinds, "dynamic")) {
        dmem = calloc(N, sizeof *dmem);
        MPI_Aint mine;
        CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &wd));
        CHECK(MPI_Win_attach(wd, dmem, N * sizeof(long)));
        CHECK(MPI_Get_address(dmem, &mine));
        CHECK(MPI_Allgather(&mine, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD));
        CHECK(MPI_Win_lock(MPI_LOCK_SHARED, right, 0, wd));
    }
    MPI_File fh = MPI_FILE_NULL;
    if (has(kinds, "file")) {
        char path[4096];
        snprintf(path, sizeof path, "%s.dat", pace);
        CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL,
                            &fh));
        CHECK(MPI_File_set_size(fh, 0));
        /* diffrev19: a view whose derived filetype the program frees at once (rst_io's pattern) */
        MPI_Datatype ft;
        CHECK(MPI_Type_contiguous(8, MPI_BYTE, &ft));
        CHECK(MPI_Type_commit(&ft));
        CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, ft, "native", MPI_INFO_NULL));
        CHECK(MPI_Type_free(&ft));
    }
    MPI_File fs = MPI_FILE_NULL;
    MPI_Datatype tview = MPI_DATATYPE_NULL;
    if (has(kinds, "scratch")) {
        char path[4096];
        snprintf(path, sizeof path, "%s.scr", pace);
        CHECK(MPI_File_open(MPI_COMM_WORLD, path,
                            MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL,
                            &fs));
        CHECK(MPI_Type_vector(2, 1, 2, MPI_LONG, &tview));
        CHECK(MPI_Type_commit(&tview));
        /* each rank's part: 2 of every 3 longs of 3 * 2 * steps longs of its own */
        MPI_Offset part = (MPI_Offset)rank * 3 * 2 * (steps + 1) * (MPI_Offset)sizeof(long);
        CHECK(MPI_File_set_view(fs, part, MPI_LONG, tview, "native", MPI_INFO_NULL));
    }
    MPI_Request pr[2] = { MPI_REQUEST_NULL, MPI_REQUEST_NULL }, late = MPI_REQUEST_NULL;
    long psend = 0, precv = 0, latebuf = -1;
    if (has(kinds, "persist")) {
        CHECK(MPI_Send_init(&psend, 1, MPI_LONG, right, 5, MPI_COMM_WORLD, &pr[0]));
        CHECK(MPI_Recv_init(&precv, 1, MPI_LONG, left, 5, MPI_COMM_WORLD, &pr[1]));
        CHECK(MPI_Recv_init(&latebuf, 1, MPI_LONG, left, 6, MPI_COMM_WORLD, &late));
        CHECK(MPI_Start(&late));
    }
    if (has(kinds, "allocmem")) {
        CHECK(MPI_Alloc_mem(1 << 20, MPI_INFO_NULL, &xmem));
        memset(xmem, 0, 1 << 20);
    }

    MPI_Datatype tvec = MPI_DATATYPE_NULL, tstruct = MPI_DATATYPE_NULL, textra = MPI_DATATYPE_NULL;
    MPI_Request tlate = MPI_REQUEST_NULL;
    long tlatebuf[5] = { 0, 0, 0, 0, 0 };
    if (has(kinds, "types") || has(kinds, "typesrecv")) {
        int blens[2] = { 1, 1 };
        MPI_Aint disps[2] = { 0, 4 * sizeof(long) };
        MPI_Datatype parts[2];
        CHECK(MPI_Type_vector(2, 1, 2, MPI_LONG, &tvec));
        CHECK(MPI_Type_commit(&tvec));
        parts[0] = tvec;
        parts[1] = MPI_LONG;
        CHECK(MPI_Type_create_struct(2, blens, disps, parts, &tstruct));
        CHECK(MPI_Type_commit(&tstruct));
        if (has(kinds, "typesrecv")) {
            CHECK(MPI_Irecv(tlatebuf, 1, tstruct, left, 7, MPI_COMM_WORLD, &tlate));
            CHECK(MPI_Type_contiguous(3, MPI_LONG, &textra));
            CHECK(MPI_Type_commit(&textra));
        }
    }

    int sp[2] = { -1, -1 }, ef = -1, ef2 = -1, ep = -1, tf = -1;
    if (has(kinds, "kfds")) {
        struct itimerspec hour = { { 3600, 0 }, { 3600, 0 } };
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x5eed };
        long first = -1;
        /* the reading end moved to a number of the program's own, as servers do (dup2, close) */
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || dup2(sp[1], 200) != 200 || close(sp[1]) ||
            (sp[1] = 200, (ef = eventfd(0, 0)) < 0) || (ef2 = dup(ef)) < 0 ||
            (ep = epoll_create1(0)) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sp[1], &ev) ||
            (tf = timerfd_create(CLOCK_MONOTONIC, 0)) < 0 || timerfd_settime(tf, 0, &hour, NULL) ||
            write(sp[0], &first, sizeof first) != sizeof first)
            check(MPI_ERR_OTHER, "kfds: making the socketpair, eventfd, epoll and timerfd");
    }

    for (int s = 0; s < steps; s++) {
        long v = (long)(s * 1000 + rank * 10 + 1);
        int k = s % N;
        uint64_t h = 1469598103934665603ull;
        if (wc != MPI_WIN_NULL) { /* fence epoch, open since the last fence */
            CHECK(MPI_Put(&v, 1, MPI_LONG, right, k, 1, MPI_LONG, wc));
            CHECK(MPI_Accumulate(&v, 1, MPI_LONG, left, (k + 1) % N, 1, MPI_LONG, MPI_SUM, wc));
            CHECK(MPI_Win_fence(0, wc));
            h = mix(h, cmem, N * sizeof(long));
        }
        if (wa != MPI_WIN_NULL) { /* passive, lock_all held */
            long old = 0;
            CHECK(MPI_Fetch_and_op(&v, &old, MPI_LONG, right, k, MPI_SUM, wa));
            CHECK(MPI_Accumulate(&old, 1, MPI_LONG, left, (k + 2) % N, 1, MPI_LONG, MPI_SUM, wa));
            CHECK(MPI_Win_flush_all(wa));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_Win_sync(wa));
            h = mix(h, amem, N * sizeof(long));
            h = mix(h, &old, sizeof old);
        }
        if (wd != MPI_WIN_NULL) { /* shared lock on the right neighbour held */
            long got = 0;
            CHECK(MPI_Put(&v, 1, MPI_LONG, right, addrs[right] + (MPI_Aint)(k * sizeof(long)), 1,
                          MPI_LONG, wd));
            CHECK(MPI_Win_flush(right, wd));
            CHECK(MPI_Get(&got, 1, MPI_LONG, right,
                          addrs[right] + (MPI_Aint)(((k + N - 1) % N) * sizeof(long)), 1,
                          MPI_LONG, wd));
            CHECK(MPI_Win_flush(right, wd));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            h = mix(h, dmem, N * sizeof(long));
            h = mix(h, &got, sizeof got);
        }
        if (ws != MPI_WIN_NULL) { /* a store into this rank's part, read by its left neighbour */
            smem[k] = v;
            CHECK(MPI_Win_sync(ws));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_Win_sync(ws));
            long seen = sright[k];
            h = mix(h, &seen, sizeof seen);
        }
        if (fh != MPI_FILE_NULL) { /* this rank's block of the step, read back from the left's */
            long blk[4] = { v, v + 1, v + 2, (long)s }, back[4];
            MPI_Offset at = ((MPI_Offset)s * size + rank) * (MPI_Offset)sizeof blk;
            MPI_Offset lat = ((MPI_Offset)s * size + left) * (MPI_Offset)sizeof blk;
            CHECK(MPI_File_write_at(fh, at, blk, 4, MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_sync(fh));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_File_sync(fh));
            CHECK(MPI_File_read_at(fh, lat, back, 4, MPI_LONG, MPI_STATUS_IGNORE));
            h = mix(h, back, sizeof back);
        }
        if (fs != MPI_FILE_NULL) { /* two longs through the view; an earlier step's two read back */
            long two[2] = { v, v * 5 }, back[2] = { 0, 0 };
            CHECK(MPI_File_write_at(fs, (MPI_Offset)s * 2, two, 2, MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_read_at(fs, (MPI_Offset)(s / 2) * 2, back, 2, MPI_LONG,
                                   MPI_STATUS_IGNORE));
            h = mix(h, back, sizeof back);
        }
        if (pr[0] != MPI_REQUEST_NULL) {
            psend = v * 3;
            CHECK(MPI_Startall(2, pr));
            MPI_Status sts[2];
            CHECK(MPI_Waitall(2, pr, sts));
            h = mix(h, &precv, sizeof precv);
        }
        if (tstruct != MPI_DATATYPE_NULL) { /* longs 0, 2 and 4 of 5 go right, come from the left */
            long out[5] = { v, -1, v + 7, -1, v * 2 }, in[5] = { 0, 0, 0, 0, 0 };
            CHECK(MPI_Sendrecv(out, 1, tstruct, right, 8, in, 1, tstruct, left, 8, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE));
            h = mix(h, in, sizeof in);
        }
        if (xmem) {
            xmem[(s * 4099) % ((1 << 20) / (int)sizeof(long))] += v;
            h = mix(h, xmem, 1 << 20);
        }
        if (ep >= 0) { /* the message queued last step comes out; this step's stays queued */
            struct epoll_event e = { 0 };
            struct itimerspec t;
            long prev = 0;
            uint64_t ev_sum = 0, w = (uint64_t)v;
            int ok = epoll_wait(ep, &e, 1, 1000) == 1 && e.data.u64 == 0x5eed &&
                     write(sp[0], &v, sizeof v) == sizeof v && read(sp[1], &prev, sizeof prev) == sizeof prev &&
                     write(ef, &w, 8) == 8 && read(ef2, &ev_sum, 8) == 8 && timerfd_gettime(tf, &t) == 0 &&
                     t.it_interval.tv_sec == 3600 && t.it_value.tv_sec > 0;
            if (!ok)
                check(MPI_ERR_OTHER, "kfds: the socketpair, eventfd, epoll or timerfd went wrong");
            h = mix(h, &prev, sizeof prev);
            h = mix(h, &ev_sum, sizeof ev_sum);
        }
        /* Allreduce, not Reduce: no rank starts the next step's one-sided operations on a
         * neighbour's window until every rank has hashed its own window for this one. With
         * MPI_Reduce a non-root rank returned at once (eager) and its next Put or Fetch_and_op
         * could land in rank 0's window while rank 0 was still hashing it: some steps' results
         * differed, more often in a restarted job (campaign-failures.md #25) */
        unsigned long long hh = h, sum = 0;
        CHECK(MPI_Allreduce(&hh, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD));
        if (rank == 0)
            printf("step %d: %016llx\n", s, sum);
        if (ms > 0 && access(pace, F_OK) == 0)
            usleep((useconds_t)ms * 1000);
    }

    long latev = 0;
    if (late != MPI_REQUEST_NULL) { /* the receive pending since the start */
        long x = 77 + rank;
        CHECK(MPI_Send(&x, 1, MPI_LONG, right, 6, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&late, MPI_STATUS_IGNORE));
        latev = latebuf;
        CHECK(MPI_Request_free(&late));
        CHECK(MPI_Request_free(&pr[0]));
        CHECK(MPI_Request_free(&pr[1]));
    }
    if (tlate != MPI_REQUEST_NULL) { /* the struct-typed receive pending since the start */
        long x[5] = { 500 + rank, -1, 600 + rank, -1, 700 + rank };
        CHECK(MPI_Send(x, 1, tstruct, right, 7, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&tlate, MPI_STATUS_IGNORE));
        latev += tlatebuf[0] + tlatebuf[2] + tlatebuf[4] + tlatebuf[1] + tlatebuf[3];
    }
    if (fh != MPI_FILE_NULL)
        CHECK(MPI_File_close(&fh));
    if (fs != MPI_FILE_NULL) {
        CHECK(MPI_File_close(&fs));
        CHECK(MPI_Type_free(&tview));
    }
    if (wd != MPI_WIN_NULL) {
        CHECK(MPI_Win_unlock(right, wd));
        CHECK(MPI_Win_detach(wd, dmem));
        CHECK(MPI_Win_free(&wd));
    }
    if (ws != MPI_WIN_NULL) {
        CHECK(MPI_Win_unlock_all(ws));
        CHECK(MPI_Win_free(&ws));
        CHECK(MPI_Comm_free(&node));
    }
    if (wa != MPI_WIN_NULL) {
        CHECK(MPI_Win_unlock_all(wa));
        CHECK(MPI_Win_free(&wa));
    }
    if (wc != MPI_WIN_NULL) {
        CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wc));
        CHECK(MPI_Win_free(&wc));
        CHECK(MPI_Free_mem(cmem));
    }
    if (xmem)
        CHECK(MPI_Free_mem(xmem));
    if (textra != MPI_DATATYPE_NULL)
        CHECK(MPI_Type_free(&textra));
    if (tstruct != MPI_DATATYPE_NULL) {
        CHECK(MPI_Type_free(&tstruct));
        CHECK(MPI_Type_free(&tvec));
    }
    long lsum = 0;
    CHECK(MPI_Reduce(&latev, &lsum, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
    if (rank == 0)
        printf("done: %d steps on %d ranks, kinds %s, late receives %ld\n", steps, size, kinds, lsum);
    free(dmem);
    free(addrs);
    CHECK(MPI_Finalize());
    return 0;
}

/* Unit tests of the coordinator's protocol state machine (src/snapc/proto.c):
 * every phase, raises, convergence with unanswered raises, timeouts, rank
 * death at every phase, a second request during an epoch, requests before
 * every HELLO and after MPI_Finalize, failures, protocol errors; node-local
 * first: a rank lost after its image was staged, and one lost before it, with
 * and without a verified partner copy; --save-files: the copy made once every image is durable,
 * before any RESUME, its failure failing the epoch, queued requests' paths merged; requests
 * waiting together: one snapshot, --term before --stop, the longest bound; a queued request
 * withdrawn takes its --term or --stop and its --save-files out; what an epoch waits for in each
 * phase (snapc_proto_waiting). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapc/proto.h"
#include "snapc_test.h"

static struct snapc_proto P;
static int64_t now;

static void reset(int nranks)
{
    snapc_proto_fini(&P);
    snapc_proto_init(&P);
    P.default_timeout_s = 10;
    P.capture_timeout_s = 100;
    now = 1000;
    for (int r = 0; r < nranks; r++) {
        struct snapc_event ev = {.type = SNAPC_EV_HELLO, .rank = r, .now_ms = now};
        ev.u.hello.world_size = (uint32_t)nranks;
        CHECK_EQ(snapc_proto_event(&P, &ev), 0);
    }
    CHECK_EQ(P.nacts, 0);
}

static void feed(struct snapc_event ev)
{
    P.nacts = 0;
    ev.now_ms = now;
    CHECK_EQ(snapc_proto_event(&P, &ev), 0);
}

/* The job's 2 ranks connect (a job reset with 0 ranks starts): the last HELLO's actions kept. */
static void two_ranks_connect(void)
{
    for (int r = 0; r < 2; r++) {
        struct snapc_event h = {.type = SNAPC_EV_HELLO, .rank = r};
        h.u.hello.world_size = 2;
        feed(h);
    }
}

/* The index of the first action of type t in the last event's actions, or -1. */
static int act(int t)
{
    for (int i = 0; i < P.nacts; i++)
        if (P.acts[i].type == t)
            return i;
    return -1;
}

static const struct snapc_action *must(int t)
{
    int i = act(t);
    if (i < 0) {
        fprintf(stderr, "missing action %d among %d:", t, P.nacts);
        for (int k = 0; k < P.nacts; k++)
            fprintf(stderr, " %d(%s)", P.acts[k].type, P.acts[k].text);
        fprintf(stderr, "\n");
        CHECK(0);
    }
    return &P.acts[i];
}

/* A tool's request (FILES: its --save-files list, or NULL) */
static void request_files(int client, uint32_t flags, const char *files)
{
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TOOL;
    ev.u.req.client = client;
    ev.u.req.flags = flags;
    ev.u.req.files = files;
    feed(ev);
}

static void request(int client, uint32_t flags)
{
    request_files(client, flags, NULL);
}

static void rank_request(int rank, uint64_t world_seq)
{
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST, .rank = rank};
    ev.u.req.source = SNAPC_SRC_RANK;
    ev.u.req.collective = 1;
    ev.u.req.world_seq = world_seq;
    feed(ev);
}

static void seqs(int rank, int n, const struct snapc_seq *t)
{
    struct snapc_event ev = {.type = SNAPC_EV_SEQS, .rank = rank};
    ev.u.seqs.t = t;
    ev.u.seqs.n = n;
    feed(ev);
}

static void state(int rank, uint32_t v, int at, int in_cs, int fin, const char *what)
{
    struct snapc_event ev = {.type = SNAPC_EV_STATE, .rank = rank};
    ev.u.state.version = v;
    ev.u.state.at_target = (uint32_t)at;
    ev.u.state.in_cs = (uint32_t)in_cs;
    ev.u.state.finalizing = (uint32_t)fin;
    ev.u.state.what = what;
    feed(ev);
}

static void simple(int type, int rank)
{
    struct snapc_event ev = {.type = type, .rank = rank};
    feed(ev);
}

static void raise_(int rank, uint64_t cid, uint64_t target)
{
    struct snapc_event ev = {.type = SNAPC_EV_RAISE, .rank = rank};
    ev.u.raise.cid = cid;
    ev.u.raise.target = target;
    feed(ev);
}

static void captured(int rank)
{
    struct snapc_event ev = {.type = SNAPC_EV_CAPTURED, .rank = rank};
    ev.u.captured.bytes = 4096;
    ev.u.captured.checksum = 0x1234 + (uint64_t)rank;
    feed(ev);
}

static void committed(int status, const char *msg)
{
    struct snapc_event ev = {.type = SNAPC_EV_COMMITTED};
    ev.u.done.status = status;
    ev.u.done.msg = msg;
    feed(ev);
}

static void held_done(uint32_t epoch, int status, const char *msg)
{
    struct snapc_event ev = {.type = SNAPC_EV_HELD_DONE};
    ev.u.held.epoch = epoch;
    ev.u.held.status = status;
    ev.u.held.msg = msg;
    feed(ev);
}

static void tick(int64_t t)
{
    now = t;
    simple(SNAPC_EV_TICK, -1);
}

/* Every rank reports seqs {0: 5+r} (different: targets = max). */
static void all_seqs(int n)
{
    for (int r = 0; r < n; r++) {
        struct snapc_seq t[2] = {{0, 5 + (uint64_t)r}, {7, 1}};
        seqs(r, 2, t);
    }
}

static void all_state(int n, uint32_t v)
{
    for (int r = 0; r < n; r++)
        state(r, v, 1, 0, 0, "");
}

static void all_simple(int n, int type)
{
    for (int r = 0; r < n; r++)
        simple(type, r);
}

/* Brings an epoch of n ranks to the given internal phase. */
static void to_phase(int n, int phase)
{
    request(1, 0);
    CHECK_EQ(P.phase, SNAPC_P_SEQS);
    if (phase == SNAPC_P_SEQS)
        return;
    all_seqs(n);
    CHECK_EQ(P.phase, SNAPC_P_CONVERGE);
    if (phase == SNAPC_P_CONVERGE)
        return;
    all_state(n, 1);
    CHECK_EQ(P.phase, SNAPC_P_QUIESCE);
    if (phase == SNAPC_P_QUIESCE)
        return;
    all_simple(n, SNAPC_EV_QUIESCED);
    CHECK_EQ(P.phase, SNAPC_P_DRAIN);
    if (phase == SNAPC_P_DRAIN)
        return;
    all_simple(n, SNAPC_EV_DRAINED);
    CHECK_EQ(P.phase, SNAPC_P_CAPTURE);
    if (phase == SNAPC_P_CAPTURE)
        return;
    for (int r = 0; r < n; r++)
        captured(r);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
}

static void test_full_epoch(void)
{
    reset(3);
    request(7, 0);
    must(SNAPC_ACT_CKPT);
    CHECK_EQ(must(SNAPC_ACT_PROGRESS)->arg, SNAPC_PHASE_REQUESTED);
    CHECK_EQ(P.seq, 0);
    for (int r = 0; r < 3; r++) {
        struct snapc_seq t[2] = {{0, 10 + (uint64_t)r}, {(uint64_t)(5 + r), 3}};
        seqs(r, 2, t);
        if (r < 2)
            CHECK_EQ(act(SNAPC_ACT_TARGETS), -1);
    }
    must(SNAPC_ACT_TARGETS);
    CHECK_EQ(P.version, 1);
    CHECK_EQ(snapc_proto_target(&P, 0), 12);
    CHECK_EQ(snapc_proto_target(&P, 5), 3);
    CHECK_EQ(snapc_proto_target(&P, 6), 3);
    CHECK_EQ(snapc_proto_target(&P, 7), 3);
    CHECK_EQ(snapc_proto_target(&P, 99), 0);
    CHECK_EQ(P.ntargets, 4);
    state(0, 1, 1, 0, 0, "");
    state(1, 1, 1, 0, 0, "");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    state(2, 1, 1, 0, 0, "");
    must(SNAPC_ACT_QUIESCE);
    simple(SNAPC_EV_QUIESCED, 1);
    simple(SNAPC_EV_QUIESCED, 0);
    CHECK_EQ(P.phase, SNAPC_P_QUIESCE);
    /* a rank may run ahead of the others' reports */
    simple(SNAPC_EV_DRAINED, 1);
    CHECK_EQ(P.phase, SNAPC_P_QUIESCE);
    simple(SNAPC_EV_QUIESCED, 2);
    CHECK_EQ(P.phase, SNAPC_P_DRAIN);
    CHECK_EQ(must(SNAPC_ACT_PROGRESS)->arg, SNAPC_PHASE_QUIESCED);
    simple(SNAPC_EV_DRAINED, 0);
    simple(SNAPC_EV_DRAINED, 2);
    CHECK_EQ(P.phase, SNAPC_P_CAPTURE);
    captured(0);
    captured(1);
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    captured(2);
    must(SNAPC_ACT_COMMIT);
    CHECK_EQ(P.r[2].checksum, 0x1236);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_CONTINUE);
    const struct snapc_action *d = must(SNAPC_ACT_DONE);
    CHECK_EQ(d->client, 7);
    CHECK_EQ(d->status, 0);
    CHECK_EQ(act(SNAPC_ACT_END_JOB), -1);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    CHECK_EQ(P.next_seq, 1);
    CHECK(P.t_phase[SNAPC_PHASE_RECOVERED] > 0);
    /* the next epoch is sequence 1, epoch 2 */
    request(8, SNAPC_TOOL_TERM);
    CHECK_EQ(P.seq, 1);
    CHECK_EQ(P.epoch, 2);
    CHECK_EQ(must(SNAPC_ACT_CKPT)->arg, SNAPC_TOOL_TERM);
    all_seqs(3);
    all_state(3, 1);
    all_simple(3, SNAPC_EV_QUIESCED);
    all_simple(3, SNAPC_EV_DRAINED);
    for (int r = 0; r < 3; r++)
        captured(r);
    must(SNAPC_ACT_HELD); /* --term holds */
    held_done(P.epoch, 0, NULL);
    must(SNAPC_ACT_COMMIT);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_TERM);
    must(SNAPC_ACT_END_JOB);
    /* --stop */
    reset(2);
    request(1, SNAPC_TOOL_STOP);
    all_seqs(2);
    all_state(2, 1);
    all_simple(2, SNAPC_EV_QUIESCED);
    all_simple(2, SNAPC_EV_DRAINED);
    captured(0);
    captured(1);
    must(SNAPC_ACT_HELD);
    held_done(P.epoch, 0, NULL);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_STOP);
}

/* The hold (SNAPC_ACT_HELD, SNAPC_EV_HELD_DONE): an epoch of --stop or --term (or every epoch with
 * one that saves files) tells the ranks to hold (the CKPT's status), and once every image is in, emits HELD once
 * and neither commits nor resumes before HELD_DONE of its epoch; a failed HELD_DONE fails the epoch
 * (ABORT releases the ranks, the sequence discarded); a rank's end while held fails it as before and
 * a late HELD_DONE changes nothing; a coordinator that never answers is bounded by the capture
 * timeout; an epoch that does not hold emits no HELD. (Node-local first, the early RESUME of a
 * holding epoch without --stop waits for HELD_DONE: test_save_files' node-local part.) */
static void hold_to_captured(int n, uint32_t flags)
{
    request(1, flags);
    all_seqs(n);
    all_state(n, 1);
    all_simple(n, SNAPC_EV_QUIESCED);
    all_simple(n, SNAPC_EV_DRAINED);
}

static void test_hold(void)
{
    /* a plain request: no hold, no HELD */
    reset(2);
    request(1, 0);
    CHECK_EQ(must(SNAPC_ACT_CKPT)->status, 0);
    all_seqs(2);
    all_state(2, 1);
    all_simple(2, SNAPC_EV_QUIESCED);
    all_simple(2, SNAPC_EV_DRAINED);
    captured(0);
    captured(1);
    CHECK_EQ(act(SNAPC_ACT_HELD), -1);
    must(SNAPC_ACT_COMMIT);
    committed(0, NULL);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* --stop: held until HELD_DONE; a stale one (another epoch) changes nothing */
    reset(2);
    request(1, SNAPC_TOOL_STOP);
    CHECK_EQ(must(SNAPC_ACT_CKPT)->status, 1);
    all_seqs(2);
    all_state(2, 1);
    all_simple(2, SNAPC_EV_QUIESCED);
    all_simple(2, SNAPC_EV_DRAINED);
    captured(0);
    CHECK_EQ(act(SNAPC_ACT_HELD), -1); /* not before every image */
    captured(1);
    must(SNAPC_ACT_HELD);
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    CHECK_EQ(act(SNAPC_ACT_RESUME), -1);
    CHECK_EQ(P.phase, SNAPC_P_CAPTURE);
    held_done(P.epoch + 7, 0, NULL);
    CHECK_EQ(P.nacts, 0);
    tick(now + 50 * 1000); /* within the bound: nothing */
    CHECK_EQ(P.nacts, 0);
    held_done(P.epoch, 0, NULL);
    must(SNAPC_ACT_COMMIT);
    CHECK_EQ(act(SNAPC_ACT_HELD), -1);
    held_done(P.epoch, 0, NULL); /* a second one: nothing */
    CHECK_EQ(P.nacts, 0);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_STOP);

    /* the work under the hold fails: the epoch fails, the ranks released by the ABORT */
    reset(2);
    hold_to_captured(2, SNAPC_TOOL_STOP);
    captured(0);
    captured(1);
    must(SNAPC_ACT_HELD);
    held_done(P.epoch, -ENOSPC, "cannot copy data/state.txt: No space left on device");
    CHECK(strstr(must(SNAPC_ACT_ABORT)->text, "No space left") != NULL);
    must(SNAPC_ACT_DISCARD);
    CHECK_EQ(must(SNAPC_ACT_DONE)->status, -ENOSPC);
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* a rank ends while held: the epoch fails (ABORT: the others let go); a late HELD_DONE
     * is stale */
    reset(3);
    hold_to_captured(3, SNAPC_TOOL_TERM);
    for (int r = 0; r < 3; r++)
        captured(r);
    must(SNAPC_ACT_HELD);
    uint32_t e = P.epoch;
    simple(SNAPC_EV_GONE, 2);
    must(SNAPC_ACT_ABORT);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    held_done(e, 0, NULL);
    CHECK_EQ(P.nacts, 0);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* no HELD_DONE at all: bounded by the capture timeout (100 s here) */
    reset(2);
    hold_to_captured(2, SNAPC_TOOL_STOP);
    captured(0);
    captured(1);
    must(SNAPC_ACT_HELD);
    tick(now + 101 * 1000);
    CHECK(strstr(must(SNAPC_ACT_ABORT)->text, "held") != NULL);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
}

static void test_raises(void)
{
    reset(3);
    request(1, 0);
    all_seqs(3);
    /* rank 1 must pass comm 7 to reach its other targets */
    state(0, 1, 1, 0, 0, "");
    state(1, 1, 0, 0, 0, "MPI_Bcast on comm 7");
    raise_(1, 7, 2);
    must(SNAPC_ACT_TARGETS);
    CHECK_EQ(P.version, 2);
    CHECK_EQ(snapc_proto_target(&P, 7), 2);
    /* rank 2's report of the old version does not count: an unanswered raise */
    state(2, 1, 1, 0, 0, "");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    /* rank 1 passed comm 7 and reached everything, the others have not read v2 yet */
    state(1, 2, 1, 0, 0, "");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    state(0, 2, 1, 0, 0, "");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    /* rank 2 (a Bcast member) still inside the raised collective */
    state(2, 2, 0, 1, 0, "MPI_Bcast on comm 7");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    state(2, 2, 1, 0, 0, "");
    must(SNAPC_ACT_QUIESCE);
    CHECK_EQ(P.raises, 1);

    /* two raises crossing: every rank must see the last version */
    reset(2);
    request(1, 0);
    all_seqs(2);
    raise_(0, 7, 2);
    raise_(1, 0, 7);
    CHECK_EQ(P.version, 3);
    state(0, 2, 1, 0, 0, "");
    state(1, 3, 1, 0, 0, "");
    CHECK_EQ(act(SNAPC_ACT_QUIESCE), -1);
    state(0, 3, 1, 0, 0, "");
    must(SNAPC_ACT_QUIESCE);
    /* a raise to a target the coordinator has already (the rank raised from a stale view)
     * changes nothing: no new version, no TARGETS (each such version made every rank
     * acknowledge again, and slow agents blocked on one another kept raising: converge.sh, 54155
     * versions in 120 s); a raise above it is a new version */
    reset(2);
    request(1, 0);
    all_seqs(2);
    raise_(0, 0, 3);
    CHECK_EQ(snapc_proto_target(&P, 0), 6);
    CHECK_EQ(P.version, 1);
    CHECK_EQ(act(SNAPC_ACT_TARGETS), -1);
    raise_(0, 0, 6);
    CHECK_EQ(P.version, 1);
    raise_(0, 0, 7);
    CHECK_EQ(snapc_proto_target(&P, 0), 7);
    CHECK_EQ(P.version, 2);
    /* a raise on a communicator created during the epoch (not in the table) */
    raise_(1, 42, 1);
    CHECK_EQ(snapc_proto_target(&P, 42), 1);
    /* a STATE claiming a version the coordinator never sent is a protocol error */
    state(0, 9, 1, 0, 0, "");
    must(SNAPC_ACT_ABORT);
    must(SNAPC_ACT_DROP_RANK);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* a raise that crossed the STATE ending the convergence (another thread of the rank reached
     * the last target meanwhile) is stale: ignored, the epoch goes on */
    reset(2);
    request(1, 0);
    all_seqs(2);
    state(0, 1, 1, 0, 0, "");
    state(1, 1, 1, 0, 0, "");
    must(SNAPC_ACT_QUIESCE);
    raise_(1, 7, 9);
    CHECK_EQ(P.phase, SNAPC_P_QUIESCE);
    CHECK_EQ(P.version, 1);
    CHECK_EQ(act(SNAPC_ACT_ABORT), -1);
    CHECK_EQ(act(SNAPC_ACT_DROP_RANK), -1);
}

static void to_captured(int n);

static void test_timeouts(void)
{
    /* no SEQS */
    reset(2);
    request(1, 0);
    struct snapc_seq t = {0, 1};
    seqs(0, 1, &t);
    tick(1000 + 9999);
    CHECK_EQ(P.nacts, 0);
    CHECK_EQ(snapc_proto_deadline(&P), 11000);
    tick(11000);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "rank 1 did not answer");
    CHECK_EQ(must(SNAPC_ACT_DONE)->status, -ETIMEDOUT);
    must(SNAPC_ACT_DISCARD);
    CHECK_EQ(snapc_proto_deadline(&P), -1);

    /* convergence: each kind of blame */
    struct { int at, in_cs, fin, v; const char *what, *want; } cases[] = {
        {0, 0, 0, 1, "", "rank 1 is outside MPI"},
        {0, 0, 0, 1, "MPI_Bcast on comm 3 (collective 57)",
         "rank 1 waits in MPI_Bcast on comm 3 (collective 57)"},
        {1, 1, 0, 1, "MPI_Allreduce on comm 0", "rank 1 is inside MPI_Allreduce on comm 0"},
        {1, 0, 0, 0, "", "rank 1 did not acknowledge target update 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reset(3);
        request(1, 0);
        all_seqs(3);
        state(0, 1, 1, 0, 0, "");
        if (cases[i].v)
            state(1, 1, cases[i].at, cases[i].in_cs, cases[i].fin, cases[i].what);
        state(2, 1, 1, 0, 0, "");
        tick(1000 + 10000);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, cases[i].want);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_DONE)->text, "targets not reached within 10 s");
        CHECK_EQ(P.phase, SNAPC_P_IDLE);
    }
    /* the rank the layer reports "is outside MPI" is named before a rank waiting for it in a
     * call (fresh-user review: rank 0 in MPI_Recv was named, rank 1 computing was the cause) */
    reset(3);
    request(1, 0);
    all_seqs(3);
    state(0, 1, 0, 0, 0, "waits in MPI_Recv from rank 1 on comm 0");
    state(1, 1, 0, 0, 0, "is outside MPI");
    state(2, 1, 0, 0, 0, "waits in MPI_Bcast on comm 0");
    tick(1000 + 10000);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "rank 1 is outside MPI");
    /* a tool's own timeout */
    reset(2);
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TOOL;
    ev.u.req.client = 3;
    ev.u.req.timeout_s = 2;
    feed(ev);
    all_seqs(2);
    tick(1000 + 1999);
    CHECK_EQ(act(SNAPC_ACT_ABORT), -1);
    tick(1000 + 2000);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "within 2 s");
    /* requests waiting together (--wait): the longest bound, a request without --timeout
     * counting as the default (10 s here); it got another's 2 s (diffrev42 R-M1), in either
     * order, and while the job starts too */
    for (int order = 0; order < 3; order++) {
        reset(order == 2 ? 0 : 2);
        if (order < 2)
            request(1, 0); /* a checkpoint in progress: the others queue behind it */
        ev.u.req.flags = SNAPC_TOOL_WAIT;
        ev.u.req.client = order ? 3 : 2;
        ev.u.req.timeout_s = 0;
        feed(ev);
        ev.u.req.client = order ? 2 : 3;
        ev.u.req.timeout_s = 2;
        feed(ev);
        CHECK_EQ(P.next_timeout_s, 10);
        if (order == 2) {
            two_ranks_connect(); /* the queued snapshot begins */
        } else {
            to_captured(2);
            committed(0, NULL);
        }
        must(SNAPC_ACT_CKPT);
        CHECK_EQ(P.timeout_s, 10);
        int64_t t0 = now;
        all_seqs(2);
        tick(t0 + 9999);
        CHECK_EQ(act(SNAPC_ACT_ABORT), -1);
        tick(t0 + 10000);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "within 10 s");
        /* a longer --timeout than the default still wins */
        request(5, 0);
        ev.u.req.client = 6;
        ev.u.req.timeout_s = 30;
        feed(ev);
        ev.u.req.client = 7;
        ev.u.req.timeout_s = 0;
        feed(ev);
        CHECK_EQ(P.next_timeout_s, 30);
    }

    /* quiesce, drain, capture: bounded by the capture timeout */
    const char *steps[] = {"did not close its gate", "did not drain its messages",
                           "did not write its image"};
    int phases[] = {SNAPC_P_QUIESCE, SNAPC_P_DRAIN, SNAPC_P_CAPTURE};
    for (int i = 0; i < 3; i++) {
        reset(2);
        to_phase(2, phases[i]);
        /* rank 0 one step further */
        if (i == 0)
            simple(SNAPC_EV_QUIESCED, 0);
        else if (i == 1)
            simple(SNAPC_EV_DRAINED, 0);
        else
            captured(0);
        tick(now + 100 * 1000 - 1);
        CHECK_EQ(act(SNAPC_ACT_ABORT), -1);
        tick(now + 1);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "rank 1");
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, steps[i]);
    }
    /* the commit has no deadline (the coordinator does it synchronously) */
    reset(2);
    to_phase(2, SNAPC_P_COMMIT);
    tick(now + 1000000);
    CHECK_EQ(P.nacts, 0);
}

static void test_rank_death(void)
{
    for (int ph = SNAPC_P_SEQS; ph <= SNAPC_P_COMMIT; ph++) {
        reset(3);
        to_phase(3, ph);
        simple(SNAPC_EV_GONE, 2);
        const struct snapc_action *a = must(SNAPC_ACT_ABORT);
        CHECK_STR_CONTAINS(a->text, "rank 2 ended during the checkpoint");
        CHECK_EQ(snapc_proto_job_end_text(a->text), 0);   /* a failure: said on the job's stderr */
        CHECK_EQ(a->rank, -1);
        must(SNAPC_ACT_DISCARD);
        CHECK_EQ(must(SNAPC_ACT_DONE)->status, -ESRCH);
        CHECK_EQ(act(SNAPC_ACT_RESUME), -1);
        CHECK_EQ(P.phase, SNAPC_P_IDLE);
        CHECK_EQ(P.ended_rank, 2);
        /* the job cannot be checkpointed any more */
        request(9, 0);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_REFUSE)->text, "rank 2 has ended");
        /* late messages of the dead epoch's ranks are ignored or dropped, never crash */
        simple(SNAPC_EV_QUIESCED, 0);
        simple(SNAPC_EV_CAPTURED, 2);
        must(SNAPC_ACT_DROP_RANK);
    }
    /* death outside an epoch after MPI_Finalize is the job ending: no message */
    reset(2);
    state(1, 0, 0, 0, 1, "MPI_Finalize");
    simple(SNAPC_EV_GONE, 1);
    CHECK_EQ(P.nacts, 0);
    CHECK_EQ(P.ended_rank, -1);
    CHECK_EQ(P.finalizing_rank, 1);
}

static void test_second_request(void)
{
    reset(2);
    request(1, 0);
    request(2, 0);
    const struct snapc_action *a = must(SNAPC_ACT_REFUSE);
    CHECK_EQ(a->client, 2);
    CHECK_EQ(a->status, -EBUSY);
    CHECK_STR_CONTAINS(a->text, "a checkpoint of this job is in progress (sequence 0)");
    /* the same connection asking twice */
    request(1, 0);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_REFUSE)->text, "already asked");
    /* one that waits, one timer tick: the timer coalesces, the waiter gets the next epoch */
    request(3, SNAPC_TOOL_WAIT | SNAPC_TOOL_STOP);
    CHECK_EQ(P.nacts, 0);
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TIMER;
    feed(ev);
    CHECK_EQ(P.nacts, 0);
    all_seqs(2);
    all_state(2, 1);
    all_simple(2, SNAPC_EV_QUIESCED);
    all_simple(2, SNAPC_EV_DRAINED);
    captured(0);
    captured(1);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_DONE)->client, 1);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_CONTINUE);
    /* the queued epoch starts at once, with its own flags */
    CHECK_EQ(must(SNAPC_ACT_CKPT)->arg, SNAPC_TOOL_STOP);
    CHECK_EQ(P.seq, 1);
    CHECK_EQ(P.nclients, 1);
    CHECK_EQ(P.clients[0], 3);
    /* the waiter goes away: its epoch goes on, nobody is told */
    ev.type = SNAPC_EV_CANCEL;
    ev.u.req.client = 3;
    feed(ev);
    CHECK_EQ(P.nclients, 0);
    CHECK_EQ(P.phase, SNAPC_P_SEQS);

    /* a queued waiter after a failed epoch still gets its own attempt */
    reset(2);
    request(1, 0);
    request(2, SNAPC_TOOL_WAIT);
    simple(SNAPC_EV_GONE, 1);
    CHECK_EQ(must(SNAPC_ACT_DONE)->client, 1);
    /* ... which is refused, the job being broken */
    CHECK_EQ(must(SNAPC_ACT_REFUSE)->client, 2);

    /* MPIX_Checkpoint: every rank asks; one epoch covers all */
    reset(3);
    rank_request(0, 4);
    must(SNAPC_ACT_CKPT);
    rank_request(1, 4);
    rank_request(2, 4);
    CHECK_EQ(P.nacts, 0);
    for (int r = 0; r < 3; r++) {
        struct snapc_seq t = {0, 4};
        seqs(r, 1, &t);
    }
    all_state(3, 1);
    all_simple(3, SNAPC_EV_QUIESCED);
    all_simple(3, SNAPC_EV_DRAINED);
    for (int r = 0; r < 3; r++)
        captured(r);
    committed(0, NULL);
    must(SNAPC_ACT_RESUME);
    CHECK_EQ(act(SNAPC_ACT_CKPT), -1); /* covered: no second epoch */
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    /* a rank request whose world seq is past the running epoch's target: another epoch */
    rank_request(0, 9);
    must(SNAPC_ACT_CKPT);
    for (int r = 0; r < 3; r++) {
        struct snapc_seq t = {0, 6};
        seqs(r, 1, &t);
    }
    rank_request(1, 12);
    all_state(3, 1);
    all_simple(3, SNAPC_EV_QUIESCED);
    all_simple(3, SNAPC_EV_DRAINED);
    for (int r = 0; r < 3; r++)
        captured(r);
    committed(0, NULL);
    must(SNAPC_ACT_RESUME);
    must(SNAPC_ACT_CKPT);
    CHECK_EQ(P.source, SNAPC_SRC_RANK);

    /* MPIX_Checkpoint in a job of one rank: no communicator counted (no targets), world seq 0;
     * the epoch covers it, no second one (before: a second snapshot later in the run) */
    reset(1);
    rank_request(0, 0);
    must(SNAPC_ACT_CKPT);
    seqs(0, 0, NULL);
    CHECK_EQ(P.ntargets, 0);
    all_state(1, 1);
    all_simple(1, SNAPC_EV_QUIESCED);
    all_simple(1, SNAPC_EV_DRAINED);
    captured(0);
    committed(0, NULL);
    must(SNAPC_ACT_RESUME);
    CHECK_EQ(act(SNAPC_ACT_CKPT), -1);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    CHECK_EQ(P.next_seq, 1);
}

static void test_not_ready(void)
{
    snapc_proto_fini(&P);
    snapc_proto_init(&P);
    now = 1;
    request(1, 0);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_REFUSE)->text, "no rank is ready yet");
    struct snapc_event ev = {.type = SNAPC_EV_HELLO, .rank = 0};
    ev.u.hello.world_size = 4;
    feed(ev);
    ev.rank = 3;
    feed(ev);
    request(1, 0);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_REFUSE)->text, "the job is starting: 2 of 4 ranks ready");
    /* a rank of another size, a rank out of range, a rank twice */
    ev.rank = 1;
    ev.u.hello.world_size = 5;
    feed(ev);
    must(SNAPC_ACT_DROP_RANK);
    ev.u.hello.world_size = 4;
    ev.rank = 4;
    feed(ev);
    must(SNAPC_ACT_DROP_RANK);
    ev.rank = 3;
    feed(ev);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_DROP_RANK)->text, "connected twice");
    /* a message from a rank that did not say HELLO */
    state(1, 0, 0, 0, 0, "");
    must(SNAPC_ACT_DROP_RANK);
    /* a tool that waits is queued until every rank is there */
    request(5, SNAPC_TOOL_WAIT);
    CHECK_EQ(P.nacts, 0);
    CHECK_EQ(P.nnext, 1);
    /* MPIX_Checkpoint before every HELLO: starts once they are all there */
    rank_request(0, 0);
    CHECK_EQ(P.nacts, 0);
    ev.rank = 1;
    feed(ev);
    CHECK_EQ(P.nacts, 0);
    ev.rank = 2;
    feed(ev);
    must(SNAPC_ACT_CKPT);
    CHECK_EQ(P.phase, SNAPC_P_SEQS);
    CHECK_EQ(P.nclients, 1);
    CHECK_EQ(P.clients[0], 5);
    CHECK_EQ(P.rank_req, 1);
}

static void test_finalize(void)
{
    reset(3);
    state(2, 0, 0, 0, 1, "MPI_Finalize");
    request(1, 0);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_REFUSE)->text, "rank 2 has called MPI_Finalize");
    /* a rank's own request is answered with an ABORT to it alone */
    rank_request(0, 3);
    const struct snapc_action *a = must(SNAPC_ACT_ABORT);
    CHECK_EQ(a->rank, 0);
    /* the timer is quiet */
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TIMER;
    feed(ev);
    CHECK_EQ(P.nacts, 0);
    /* finalize during an epoch (seqs, converge) ends it at once */
    for (int ph = SNAPC_P_SEQS; ph <= SNAPC_P_CONVERGE; ph++) {
        reset(3);
        to_phase(3, ph);
        state(1, ph == SNAPC_P_CONVERGE ? 1 : 0, 0, 1, 1, "MPI_Finalize");
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "rank 1 has called MPI_Finalize");
        /* ranks 0 and 2 run on: the job is ending, it has not ended (newuser7b F6) */
        CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "the job is ending before the snapshot");
        CHECK_EQ(strstr(must(SNAPC_ACT_ABORT)->text, "the job ended") == NULL, 1);
        /* the job's normal end: said at info, not on its stderr (newuser7f F4) */
        CHECK_EQ(snapc_proto_job_end_text(must(SNAPC_ACT_ABORT)->text), 1);
        CHECK_EQ(P.phase, SNAPC_P_IDLE);
    }
    /* review U: node-local first, the ranks run on while the sequence stages and reach
     * MPI_Finalize (their STATE comes in the staging phase); a request queued behind it
     * (--wait) is refused as the job ends once the sequence commits, never started for ranks
     * that leave (it said "rank 0 ended during the checkpoint (while it was to answer the
     * checkpoint request)") */
    reset(2);
    P.stage = 1;
    to_phase(2, SNAPC_P_CAPTURE);
    captured(0);
    captured(1);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    state(0, 0, 0, 0, 1, "MPI_Finalize");
    state(1, 0, 0, 0, 1, "MPI_Finalize");
    request(4, SNAPC_TOOL_WAIT);
    CHECK_EQ(act(SNAPC_ACT_REFUSE), -1);
    for (int r = 0; r < 2; r++) {
        struct snapc_event se = {.type = SNAPC_EV_STAGED, .rank = r};
        feed(se);
    }
    committed(0, NULL);
    CHECK_EQ(act(SNAPC_ACT_CKPT), -1);
    const struct snapc_action *rf = must(SNAPC_ACT_REFUSE);
    CHECK_EQ(rf->client, 4);
    CHECK_STR_CONTAINS(rf->text, "the job is ending before the snapshot could be taken (rank 0 has "
                                 "called MPI_Finalize)");
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    /* the same once both ranks have ended: the job ended */
    reset(2);
    P.stage = 1;
    to_phase(2, SNAPC_P_CAPTURE);
    captured(0);
    captured(1);
    state(0, 0, 0, 0, 1, "MPI_Finalize");
    state(1, 0, 0, 0, 1, "MPI_Finalize");
    request(4, SNAPC_TOOL_WAIT);
    for (int r = 0; r < 2; r++) {
        struct snapc_event se = {.type = SNAPC_EV_STAGED, .rank = r};
        feed(se);
    }
    simple(SNAPC_EV_GONE, 0);
    simple(SNAPC_EV_GONE, 1);
    committed(0, NULL);
    CHECK_EQ(act(SNAPC_ACT_CKPT), -1);
    rf = must(SNAPC_ACT_REFUSE);
    CHECK_STR_CONTAINS(rf->text, "the job ended before the snapshot could be taken (rank 0 has "
                                 "called MPI_Finalize)");
    /* a rank's agent that gets the request inside MPI_Finalize (its STATE not in yet), and a
     * rank known to be in MPI_Finalize that ends during the epoch: the job's end, said so */
    reset(2);
    request(1, 0);
    struct snapc_event fe = {.type = SNAPC_EV_FAILED, .rank = 1};
    fe.u.failed.err = ESHUTDOWN;
    fe.u.failed.phase = SNAPC_PHASE_REQUESTED;
    fe.u.failed.msg = "this rank has called MPI_Finalize";
    feed(fe);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text,
                       "the job is ending before the snapshot could be taken (rank 1 has called");
    reset(2);
    P.stage = 1;
    to_phase(2, SNAPC_P_CAPTURE);
    captured(0);
    captured(1);
    state(0, 0, 0, 0, 1, "MPI_Finalize");
    simple(SNAPC_EV_GONE, 0);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_STAGE_FAILED)->text,
                       "the job is ending before the snapshot could be taken (rank 0 called "
                       "MPI_Finalize");
}

static void test_failures(void)
{
    for (int ph = SNAPC_P_SEQS; ph <= SNAPC_P_COMMIT; ph++) {
        reset(2);
        to_phase(2, ph);
        struct snapc_event ev = {.type = SNAPC_EV_FAILED, .rank = 1};
        ev.u.failed.err = ENOSPC;
        ev.u.failed.msg = "No space left on device";
        ev.u.failed.phase = ph == SNAPC_P_DRAIN ? SNAPC_PHASE_CAPTURED : 0;
        feed(ev);
        const struct snapc_action *a = must(SNAPC_ACT_ABORT);
        CHECK_STR_CONTAINS(a->text, "rank 1 could not");
        /* the rank's own phase words the message when it is ahead of the job */
        if (ph == SNAPC_P_DRAIN)
            CHECK_STR_CONTAINS(a->text, "could not write its image");
        CHECK_STR_CONTAINS(a->text, "No space left on device");
        CHECK_EQ(must(SNAPC_ACT_DONE)->status, -ENOSPC);
        must(SNAPC_ACT_DISCARD);
        CHECK_EQ(P.phase, SNAPC_P_IDLE);
        CHECK_EQ(P.ended_rank, -1); /* the job runs on and may be checkpointed again */
        CHECK_EQ(P.next_seq, 0);
        request(2, 0);
        must(SNAPC_ACT_CKPT);
    }
    /* the commit fails */
    reset(2);
    to_phase(2, SNAPC_P_COMMIT);
    committed(-EIO, "cannot write snapshot.meta: Input/output error");
    CHECK_STR_CONTAINS(must(SNAPC_ACT_ABORT)->text, "cannot commit the snapshot");
    CHECK_EQ(act(SNAPC_ACT_RESUME), -1);
    must(SNAPC_ACT_DISCARD);
    CHECK_EQ(P.next_seq, 0);
    CHECK_EQ(P.last_status, -EIO);
    /* the coordinator cannot make the sequence directory */
    reset(2);
    request(1, 0);
    struct snapc_event ev = {.type = SNAPC_EV_LOCAL_FAIL};
    ev.u.done.status = -EACCES;
    ev.u.done.msg = "cannot create /x/0: Permission denied";
    feed(ev);
    CHECK_STR_CONTAINS(must(SNAPC_ACT_DONE)->text, "Permission denied");
    /* failures outside an epoch (stale) change nothing */
    reset(2);
    ev.type = SNAPC_EV_FAILED;
    ev.rank = 0;
    ev.u.failed.msg = "x";
    feed(ev);
    CHECK_EQ(P.nacts, 0);
}

static void test_protocol_errors(void)
{
    struct { int phase, type; } cases[] = {
        {SNAPC_P_CONVERGE, SNAPC_EV_SEQS},     {SNAPC_P_SEQS, SNAPC_EV_RAISE},
        {SNAPC_P_CONVERGE, SNAPC_EV_QUIESCED}, {SNAPC_P_QUIESCE, SNAPC_EV_DRAINED},
        {SNAPC_P_QUIESCE, SNAPC_EV_CAPTURED},  {SNAPC_P_DRAIN, SNAPC_EV_QUIESCED},
        {SNAPC_P_COMMIT, SNAPC_EV_CAPTURED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        reset(2);
        to_phase(2, cases[i].phase);
        struct snapc_event ev = {.type = cases[i].type, .rank = 1};
        struct snapc_seq t = {0, 1};
        ev.u.seqs.t = &t;
        ev.u.seqs.n = 1;
        feed(ev);
        CHECK_STR_CONTAINS(must(SNAPC_ACT_DROP_RANK)->text, "protocol error");
        CHECK_EQ(must(SNAPC_ACT_DONE)->status, -EPROTO);
        CHECK_EQ(P.phase, SNAPC_P_IDLE);
    }
    /* SEQS twice */
    reset(2);
    request(1, 0);
    struct snapc_seq t = {0, 1};
    seqs(0, 1, &t);
    seqs(0, 1, &t);
    must(SNAPC_ACT_DROP_RANK);
}

static void staged(int rank, int status)
{
    struct snapc_event ev = {.type = SNAPC_EV_STAGED, .rank = rank};
    ev.u.staged.status = status;
    ev.u.staged.msg = status < 0 ? "disk full" : "";
    feed(ev);
}

static void partnered(int rank, int holder)
{
    struct snapc_event ev = {.type = SNAPC_EV_PARTNERED, .rank = rank};
    ev.u.partnered.holder = holder;
    feed(ev);
}

static void staged_for(int holder, int rank, int status)
{
    struct snapc_event ev = {.type = SNAPC_EV_STAGED_FOR, .rank = holder};
    ev.u.staged.status = status;
    ev.u.staged.msg = status < 0 ? "partner copy damaged" : "";
    ev.u.staged.for_rank = rank;
    feed(ev);
}

/* node-local first: 4 ranks (0,1 on one node, 2,3 on the other) captured, STAGE sent */
static void to_stage(void)
{
    reset(4);
    P.stage = 1;
    to_phase(4, SNAPC_P_CAPTURE);
    for (int r = 0; r < 4; r++)
        captured(r);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
}

static void test_stage_loss(void)
{
    /* a rank that ends after its image was staged changes nothing: the sequence commits once
     * the others are staged (was: "rank 2 ended during the checkpoint") */
    to_stage();
    staged(2, 0);
    staged(3, 0);
    simple(SNAPC_EV_GONE, 2);
    simple(SNAPC_EV_GONE, 3);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    CHECK(act(SNAPC_ACT_STAGE_FAILED) < 0);
    staged(0, 0);
    staged(1, 0);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
    must(SNAPC_ACT_COMMIT);
    /* ranks that go while the commit is under way change nothing either */
    simple(SNAPC_EV_GONE, 0);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
    committed(0, NULL);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);
    CHECK_EQ(P.last_status, 0);

    /* a rank lost before its image was staged, no partner copy: the sequence fails */
    to_stage();
    staged(0, 0);
    simple(SNAPC_EV_GONE, 2);
    must(SNAPC_ACT_STAGE_FAILED);
    CHECK(strstr(P.last_error, "rank 2 ended") != NULL);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* ... with a verified partner copy on rank 0's node: rank 0 stages it in its place */
    to_stage();
    partnered(2, 0);
    partnered(3, 1);
    staged(0, 0);
    simple(SNAPC_EV_GONE, 2);
    const struct snapc_action *a = must(SNAPC_ACT_STAGE_FOR);
    CHECK_EQ(a->rank, 0);
    CHECK_EQ((int)a->arg, 2);
    CHECK(act(SNAPC_ACT_STAGE_FAILED) < 0);
    staged_for(0, 2, 0);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    /* rank 3 silent (its node's link down): after the staging bound, its copy on rank 1's node */
    staged(1, 0);
    tick(now + 100 * 1000 + 1);
    a = must(SNAPC_ACT_STAGE_FOR);
    CHECK_EQ(a->rank, 1);
    CHECK_EQ((int)a->arg, 3);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    /* its holder's STAGED_FOR commits */
    staged_for(1, 3, 0);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
    must(SNAPC_ACT_COMMIT);
    /* rank 3's own copy arriving late changes nothing */
    staged(3, 0);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
    committed(0, NULL);
    CHECK_EQ(P.last_status, 0);

    /* the holder cannot stage the copy: the sequence fails and says both ranks */
    to_stage();
    partnered(2, 0);
    simple(SNAPC_EV_GONE, 2);
    must(SNAPC_ACT_STAGE_FOR);
    staged_for(0, 2, -EBADMSG);
    must(SNAPC_ACT_STAGE_FAILED);
    CHECK(strstr(P.last_error, "rank 0 could not stage its partner copy") != NULL);

    /* the holder itself gone: no copy to stage, the sequence fails */
    to_stage();
    partnered(2, 0);
    simple(SNAPC_EV_GONE, 0);
    must(SNAPC_ACT_STAGE_FAILED);
    to_stage();
    partnered(2, 0);
    staged(0, 0);
    simple(SNAPC_EV_GONE, 0); /* staged: nothing */
    CHECK(act(SNAPC_ACT_STAGE_FAILED) < 0);
    simple(SNAPC_EV_GONE, 2);
    CHECK(act(SNAPC_ACT_STAGE_FOR) < 0);
    must(SNAPC_ACT_STAGE_FAILED);

    /* the holder silent too: the second bound fails the sequence, naming both */
    to_stage();
    partnered(2, 0);
    staged(0, 0);
    staged(1, 0);
    staged(3, 0);
    tick(now + 100 * 1000 + 1);
    must(SNAPC_ACT_STAGE_FOR);
    tick(now + 100 * 1000 + 1);
    must(SNAPC_ACT_STAGE_FAILED);
    CHECK(strstr(P.last_error, "rank 0 did not stage its partner copy") != NULL);
}


static void files_saved(int status, const char *msg)
{
    struct snapc_event ev = {.type = SNAPC_EV_FILES_SAVED};
    ev.u.done.status = status;
    ev.u.done.msg = msg;
    feed(ev);
}

/* Every rank through QUIESCED, DRAINED and CAPTURED (from an epoch just begun). */
static void to_captured(int n)
{
    all_seqs(n);
    all_state(n, 1);
    all_simple(n, SNAPC_EV_QUIESCED);
    all_simple(n, SNAPC_EV_DRAINED);
    for (int r = 0; r < n - 1; r++)
        captured(r);
    CHECK_EQ(act(SNAPC_ACT_SAVE_FILES), -1); /* not before the last image */
    captured(n - 1);
    if (snapc_proto_holds(&P)) {
        /* an epoch that saves files holds: HELD first, the copy once its work is done */
        must(SNAPC_ACT_HELD);
        CHECK_EQ(act(SNAPC_ACT_SAVE_FILES), -1);
        held_done(P.epoch, 0, NULL);
    }
}

static void test_save_files(void)
{
    /* the copy once every image is durable: nothing else until it is done */
    reset(2);
    request_files(1, 0, "a,b");
    CHECK(!strcmp(P.files, "a,b"));
    to_captured(2);
    must(SNAPC_ACT_SAVE_FILES);
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    CHECK_EQ(act(SNAPC_ACT_RESUME), -1);
    CHECK_EQ(P.phase, SNAPC_P_CAPTURE);
    tick(now + 1000 * 1000); /* a long copy is no rank's timeout */
    CHECK_EQ(P.phase, SNAPC_P_CAPTURE);
    files_saved(0, NULL);
    must(SNAPC_ACT_COMMIT);
    files_saved(0, NULL); /* stale: ignored */
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    committed(0, NULL);
    must(SNAPC_ACT_RESUME);
    CHECK_EQ(must(SNAPC_ACT_DONE)->status, 0);
    /* the next epoch without the option copies nothing */
    request(2, 0);
    CHECK(!strcmp(P.files, ""));
    to_captured(2);
    CHECK_EQ(act(SNAPC_ACT_SAVE_FILES), -1);
    must(SNAPC_ACT_COMMIT);
    committed(0, NULL);

    /* a failed copy: the epoch fails like a failed image (ranks released, sequence removed) */
    request_files(3, 0, "state.dat");
    to_captured(2);
    must(SNAPC_ACT_SAVE_FILES);
    files_saved(-ENOSPC, "cannot write /s/1/files/0: No space left on device");
    must(SNAPC_ACT_ABORT);
    must(SNAPC_ACT_DISCARD);
    CHECK_EQ(act(SNAPC_ACT_COMMIT), -1);
    const struct snapc_action *d = must(SNAPC_ACT_DONE);
    CHECK_EQ(d->status, -ENOSPC);
    CHECK(strstr(d->text, "cannot save the files named by --save-files: cannot write") != NULL);
    CHECK_EQ(P.phase, SNAPC_P_IDLE);

    /* node-local first: the copy comes before the RESUME that lets the ranks run on */
    reset(2);
    P.stage = 1;
    request_files(1, 0, "out");
    to_captured(2);
    must(SNAPC_ACT_SAVE_FILES);
    CHECK_EQ(act(SNAPC_ACT_RESUME), -1);
    CHECK_EQ(act(SNAPC_ACT_STAGE), -1);
    files_saved(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->status, 1);
    must(SNAPC_ACT_STAGE);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    /* and its failure there: ABORT (the ranks were held), no staging */
    reset(2);
    P.stage = 1;
    request_files(1, 0, "out");
    to_captured(2);
    files_saved(-EACCES, "cannot read out/x: Permission denied");
    must(SNAPC_ACT_ABORT);
    must(SNAPC_ACT_DISCARD);
    CHECK_EQ(act(SNAPC_ACT_STAGE), -1);
    CHECK_EQ(act(SNAPC_ACT_RESUME), -1);

    /* the job's own list (mpirun --ckpt-save-files): every epoch, a timer's too */
    reset(2);
    P.files_always = 1;
    struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
    ev.u.req.source = SNAPC_SRC_TIMER;
    feed(ev);
    to_captured(2);
    must(SNAPC_ACT_SAVE_FILES);

    /* queued requests (--wait): their paths merged into the next epoch's, once each */
    reset(2);
    request_files(1, 0, "a");
    request_files(2, SNAPC_TOOL_WAIT, "b,c");
    request_files(3, SNAPC_TOOL_WAIT, "c,d");
    request_files(4, SNAPC_TOOL_WAIT, NULL);
    CHECK(!strcmp(P.files, "a"));
    CHECK(!strcmp(P.next_files, "b,c,d"));
    to_captured(2);
    files_saved(0, NULL);
    committed(0, NULL);
    must(SNAPC_ACT_CKPT); /* the queued epoch began */
    CHECK(!strcmp(P.files, "b,c,d"));
    CHECK(!strcmp(P.next_files, ""));
    /* a request whose paths do not fit beside the queued ones is refused, the others stay */
    static char big[SNAPC_FILES_LIST_MAX];
    memset(big, 'x', sizeof big - 2);
    request_files(5, SNAPC_TOOL_WAIT, "e");
    request_files(6, SNAPC_TOOL_WAIT, big);
    CHECK_EQ(must(SNAPC_ACT_REFUSE)->status, -E2BIG);
    CHECK_EQ(P.nnext, 1);
    CHECK(!strcmp(P.next_files, "e"));
}

/* Requests waiting together (--wait) share one snapshot, whatever each asks: its flags are the
 * union of theirs, --term clearing --stop (they exclude each other: the job ends), and the
 * ended epoch's flags say how the job was left, for each requester's answer (newuser12 F3: a
 * --stop requester sharing with --term was told its ranks were stopped; the CKPT carried both) */
static void test_shared_wait(void)
{
    static const uint32_t asks[] = {0, SNAPC_TOOL_TERM, SNAPC_TOOL_STOP, SNAPC_TOOL_SAVE_SHARED};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            uint32_t want = asks[i] | asks[j];
            if (want & SNAPC_TOOL_TERM)
                want &= ~SNAPC_TOOL_STOP;
            for (int starting = 0; starting < 2; starting++) {
                reset(starting ? 0 : 2);
                if (!starting)
                    request(1, 0); /* running: the two queue behind it */
                request(2, SNAPC_TOOL_WAIT | asks[i]);
                /* one more, withdrawn while queued (ckpt-mpirun interrupted): nothing of it
                 * stays, neither its --term nor its --stop (before: the job was ended by the
                 * others' snapshot) */
                request(4, SNAPC_TOOL_WAIT | (j % 2 ? SNAPC_TOOL_TERM : SNAPC_TOOL_STOP));
                request(3, SNAPC_TOOL_WAIT | asks[j]);
                struct snapc_event cancel = {.type = SNAPC_EV_CANCEL};
                cancel.u.req.client = 4;
                feed(cancel);
                CHECK_EQ(P.nnext, 2);
                if (starting) {
                    two_ranks_connect();
                } else {
                    to_captured(2);
                    committed(0, NULL);
                }
                CHECK_EQ(must(SNAPC_ACT_CKPT)->arg, want);
                CHECK_EQ(P.nclients, 2);
                to_captured(2);
                committed(0, NULL);
                CHECK_EQ(P.ended.flags, want);
                CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, (want & SNAPC_TOOL_TERM)   ? SNAPC_RESUME_TERM
                                                      : (want & SNAPC_TOOL_STOP) ? SNAPC_RESUME_STOP
                                                                                 : SNAPC_RESUME_CONTINUE);
                CHECK_EQ(act(SNAPC_ACT_END_JOB) >= 0, (want & SNAPC_TOOL_TERM) != 0);
                /* both answered with the snapshot, each from `ended` */
                int done = 0;
                for (int k = 0; k < P.nacts; k++)
                    if (P.acts[k].type == SNAPC_ACT_DONE && P.acts[k].status == 0 &&
                        (P.acts[k].client == 2 || P.acts[k].client == 3))
                        done++;
                CHECK_EQ(done, 2);
            }
        }
}

/* A --term request withdrawn while it waited behind an epoch, MPIX_Checkpoint_request pending
 * too: the epoch the rank's request gets ends nothing */
static void test_withdrawn_term(void)
{
    reset(2);
    request(1, 0);
    request(2, SNAPC_TOOL_WAIT | SNAPC_TOOL_TERM);
    rank_request(0, 100);
    struct snapc_event cancel = {.type = SNAPC_EV_CANCEL};
    cancel.u.req.client = 2;
    feed(cancel);
    CHECK_EQ(P.nnext, 0);
    CHECK_EQ(P.next_flags, 0);
    to_captured(2);
    committed(0, NULL);
    CHECK_EQ(must(SNAPC_ACT_RESUME)->arg, SNAPC_RESUME_CONTINUE);
    CHECK_EQ(must(SNAPC_ACT_CKPT)->arg, 0);
    CHECK_EQ(P.source, SNAPC_SRC_RANK);
}

/* A --save-files request withdrawn while queued: its paths leave the next snapshot (diffrev46
 * R-M2: a withdrawn SECRET was copied into the next request's snapshot, and the epoch held for
 * it); the other queued requests' paths stay, in their order */
static void test_withdrawn_files(void)
{
    reset(2);
    request(1, 0);
    request_files(2, SNAPC_TOOL_WAIT, "secret");
    request_files(3, SNAPC_TOOL_WAIT, NULL);
    struct snapc_event cancel = {.type = SNAPC_EV_CANCEL};
    cancel.u.req.client = 2;
    feed(cancel);
    CHECK_EQ(P.nnext, 1);
    CHECK(!strcmp(P.next_files, ""));
    to_captured(2);
    committed(0, NULL);
    must(SNAPC_ACT_CKPT);
    CHECK(!strcmp(P.files, ""));
    CHECK_EQ(snapc_proto_holds(&P), 0);
    /* two with paths, one withdrawn: the other's stay */
    reset(2);
    request(1, 0);
    request_files(2, SNAPC_TOOL_WAIT, "a,b");
    request_files(3, SNAPC_TOOL_WAIT, "b,c");
    request_files(4, SNAPC_TOOL_WAIT, "d");
    CHECK(!strcmp(P.next_files, "a,b,c,d"));
    cancel.u.req.client = 2;
    feed(cancel);
    CHECK(!strcmp(P.next_files, "b,c,d"));
    cancel.u.req.client = 4;
    feed(cancel);
    CHECK(!strcmp(P.next_files, "b,c"));
    to_captured(2);
    committed(0, NULL);
    must(SNAPC_ACT_CKPT);
    CHECK(!strcmp(P.files, "b,c"));
}

/* What an epoch waits for, phase by phase (snapc_proto_waiting: the coordinator's notes while a
 * checkpoint takes long, newuser49 L1): the ranks that have not done the current step, its name. */
static int waiting(int *w, int max, const char **step, const char **task)
{
    return snapc_proto_waiting(&P, w, max, step, task);
}

static void test_waiting(void)
{
    int w[4];
    const char *step, *task;
    reset(3);
    CHECK_EQ(waiting(w, 4, &step, &task), 0);
    request(1, 0);
    struct snapc_seq t = {0, 1};
    seqs(0, 1, &t);
    seqs(2, 1, &t);
    CHECK_EQ(waiting(w, 4, &step, &task), 1);
    CHECK_EQ(w[0], 1);
    CHECK(!strcmp(step, "targets") && !strcmp(task, "answer the checkpoint request"));
    seqs(1, 1, &t);
    CHECK_EQ(P.phase, SNAPC_P_CONVERGE);
    state(0, 1, 1, 0, 0, "");
    state(2, 1, 1, 0, 0, "");
    CHECK_EQ(waiting(w, 4, &step, &task), 1);
    CHECK_EQ(w[0], 1);
    CHECK(!strcmp(step, "targets") && !strcmp(task, "reach the targets"));
    state(1, 1, 1, 0, 0, "");
    CHECK_EQ(P.phase, SNAPC_P_QUIESCE);
    simple(SNAPC_EV_QUIESCED, 0);
    simple(SNAPC_EV_QUIESCED, 1);
    CHECK_EQ(waiting(w, 4, &step, &task), 1);
    CHECK_EQ(w[0], 2);
    CHECK(!strcmp(step, "quiesce"));
    simple(SNAPC_EV_QUIESCED, 2);
    simple(SNAPC_EV_DRAINED, 0);
    /* two waited for, one room: the count is of all, the first named */
    CHECK_EQ(waiting(w, 1, &step, &task), 2);
    CHECK_EQ(w[0], 1);
    CHECK(!strcmp(step, "drain"));
    simple(SNAPC_EV_DRAINED, 1);
    simple(SNAPC_EV_DRAINED, 2);
    captured(0);
    captured(2);
    CHECK_EQ(waiting(w, 4, &step, &task), 1);
    CHECK_EQ(w[0], 1);
    CHECK(!strcmp(step, "capture") && !strcmp(task, "write the image"));
    /* a rank gone is not waited for */
    simple(SNAPC_EV_GONE, 1);
    CHECK_EQ(waiting(w, 4, &step, &task), 0);
    /* node-local first: the ranks not staged yet */
    to_stage();
    staged(0, 0);
    staged(2, 0);
    CHECK_EQ(P.phase, SNAPC_P_STAGE);
    CHECK_EQ(waiting(w, 4, &step, &task), 2);
    CHECK(w[0] == 1 && w[1] == 3);
    CHECK(!strcmp(step, "stage"));
    staged(1, 0);
    staged(3, 0);
    CHECK_EQ(P.phase, SNAPC_P_COMMIT);
    CHECK_EQ(waiting(w, 4, &step, &task), 0);
}

int main(void)
{
    test_full_epoch();
    test_raises();
    test_timeouts();
    test_rank_death();
    test_second_request();
    test_not_ready();
    test_finalize();
    test_failures();
    test_protocol_errors();
    test_stage_loss();
    test_save_files();
    test_hold();
    test_shared_wait();
    test_withdrawn_term();
    test_withdrawn_files();
    test_waiting();
    snapc_proto_fini(&P);
    return test_summary("test_proto");
}

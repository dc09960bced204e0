/* Synchronous sends the drain completed too early (campaign-failures.md #36). The drain takes
 * every message in flight into the receiver's drain buffer; receiving it in the lower half
 * completes the sender's MPI_Issend (MPI_Ssend, a started MPI_Ssend_init) although the receiving
 * application has not matched it, which MPI 3.4 forbids and NBX (MPI_Issend, then MPI_Ibarrier
 * once they complete) relies on. Here:
 *   - a synchronous send on the pending list counts the sends its rank posts after it to the
 *     same (receiver, communicator, tag), of any kind (its `later`: pml_sync_later, from every
 *     posting of a send: the generated blocking and nonblocking ones, started persistent ones,
 *     the halves of MPI_Sendrecv and MPI_Isendrecv);
 *   - the drain notes every synchronous send it completes (pml_owed_note), with that count;
 *   - after its barrier every rank gives every other its notes, and the count of messages it
 *     drained per (sender, communicator, tag) (pml_owed_settle, an all-gather of the epoch's
 *     exchanges), when some rank needs it: the barrier carries each rank's word (pml_owed_wanted:
 *     a note, or a notice sent since the last settle), so a job without synchronous sends at the
 *     snapshot pays no round of its own. Messages of a sender on one (communicator, tag) do not overtake each other:
 *     the k a receiver drained are the last k the sender posted there, whether they completed
 *     before the drain (an eager standard send) or in it; a noted send with later < k is the
 *     receiver's drained message k - 1 - later (the others the receiving application had
 *     matched). Such a send becomes PML_RQ_OWED (not complete for the application, its status
 *     kept), its drained message owes a notice;
 *   - the receiving application's receive of such a message (pml_dbuf_deliver: Recv, Irecv,
 *     Mrecv after a probe, Sendrecv...) sends the notice, the request's id, to the sender on the
 *     layer's private communicator (to itself: no message); the sender's completion calls take
 *     notices (pml_owed_poll) and make the request DONE;
 *   - notices in flight at a later epoch are received in its settle (the counts each rank sent
 *     are in the exchange), so none is lost across a restart: the owed request and the owing
 *     message are in the images, and the notice goes over the fresh private communicator.
 * Sends pay one load and a branch while no synchronous send is pending (pml_sync_later); the
 * completion calls ask pml_rq_nowed, one load, with the pairs'.
 * The design, and what it cannot tell, in docs/mpi.md ("Synchronous sends at a global snapshot"). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

/* The words of one entry of the settle's all-gather. */
enum { E_KIND, E_SENDER, E_RECEIVER, E_CID, E_TAG, E_VAL, E_LATER, E_WORDS };
enum { K_SEND = 1, /* a synchronous send the drain completed: val = its id, later its count */
       K_DRAINED,  /* messages drained from sender on (cid, tag): val = how many */
       K_NOTICES }; /* notices sent from sender to receiver so far: val = how many */

struct note {
    uint64_t order, cid;
    int dest, tag;
    uint32_t later; /* sends posted after it on (dest, cid, tag) */
    struct pml_req *r; /* NULL: the program had freed it */
};
static struct note *notes;
static size_t nnotes, capnotes;

struct owed {
    struct pml_req *r;
    uint64_t id;
};
static struct owed *owed;
static size_t nowed_cap;
uint32_t pml_rq_nowed;

static uint64_t *notices_sent, *notices_got; /* per world rank, since MPI_Init */
static uint32_t notices_unsettled;           /* notices sent since the last settle */
static pthread_mutex_t owed_lock = PTHREAD_MUTEX_INITIALIZER;

/* p with room for `need` elements of `size` bytes: its capacity *cap doubled (from `first`)
 * as needed; NULL when out of memory (p and *cap then as they were). */
static void *grow_try(void *p, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *n = realloc(p, c * size);
    if (n)
        *cap = c;
    return n;
}

/* grow_try, where out of memory ends the rank, naming what the room was for. */
static void *grow(void *p, size_t *cap, size_t need, size_t size, size_t first, const char *what)
{
    void *n = grow_try(p, cap, need, size, first);
    if (!n)
        pml_fatal("out of memory %s", what);
    return n;
}

static MPI_Datatype u64(void)
{
    return (MPI_Datatype)pml_v2r(PML_H(MPI_UINT64_T));
}

static int counters(void)
{
    if (notices_sent)
        return 0;
    notices_sent = calloc((size_t)pml_world_size, sizeof *notices_sent);
    notices_got = calloc((size_t)pml_world_size, sizeof *notices_got);
    return notices_sent && notices_got ? 0 : -ENOMEM;
}

static int world_of(const struct pml_comm *c, int rank)
{
    if (!c || rank < 0)
        return -1;
    int w = c->wmap ? (rank < c->nmap ? c->wmap[rank] : -1) : rank;
    return w < pml_world_size ? w : -1;
}

/* ---- the pending synchronous sends and the sends posted after them ---- */
uint32_t pml_sync_npending;
static struct pml_req **syncs;
static size_t capsyncs;
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

void pml_sync_posted(struct pml_req *r)
{
    pthread_mutex_lock(&sync_lock);
    syncs = grow(syncs, &capsyncs, (size_t)pml_sync_npending + 1, sizeof *syncs, 16,
                 "keeping the pending synchronous sends");
    r->later = 0;
    syncs[pml_sync_npending] = r;
    __atomic_store_n(&pml_sync_npending, pml_sync_npending + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&sync_lock);
}

void pml_sync_gone(struct pml_req *r)
{
    pthread_mutex_lock(&sync_lock);
    for (uint32_t i = 0; i < pml_sync_npending; i++)
        if (syncs[i] == r) {
            syncs[i] = syncs[pml_sync_npending - 1];
            __atomic_store_n(&pml_sync_npending, pml_sync_npending - 1, __ATOMIC_RELAXED);
            break;
        }
    pthread_mutex_unlock(&sync_lock);
}

void pml_sync_later_slow(struct pml_comm *c, int dest, int tag)
{
    pthread_mutex_lock(&sync_lock);
    for (uint32_t i = 0; i < pml_sync_npending; i++) {
        struct pml_req *r = syncs[i];
        if (r->comm == c && r->peer == dest && r->tag == tag)
            r->later++;
    }
    pthread_mutex_unlock(&sync_lock);
}

void pml_owed_note(struct pml_req *r, int freed)
{
    if (r->mode != PML_MODE_SYNC)
        return; /* its message, drained or not, owes nothing: the later counts tell the order */
    int dest = world_of(r->comm, r->peer);
    if (dest < 0)
        return;
    notes = grow(notes, &capnotes, nnotes + 1, sizeof *notes, 64, "noting the drain's sends");
    notes[nnotes++] = (struct note){ r->order, r->comm->cid, dest, r->tag, r->later,
                                     freed ? NULL : r };
}

/* With owed_lock held: the notice for id came; its request is complete for the application. */
static void take(uint64_t id)
{
    for (size_t i = 0; i < pml_rq_nowed; i++) {
        if (owed[i].id != id)
            continue;
        struct pml_req *r = owed[i].r;
        owed[i] = owed[pml_rq_nowed - 1];
        __atomic_sub_fetch(&pml_rq_nowed, 1, __ATOMIC_RELAXED);
        pml_rq_ndone++;
        /* one store: a thread looking sees it owed or done, never neither */
        __atomic_store_n(&r->flags, (uint16_t)((r->flags & ~PML_RQ_OWED) | PML_RQ_DONE),
                         __ATOMIC_RELEASE);
        return;
    }
    /* the program freed it meanwhile (pml_owed_free): nothing waits */
}

static void make_owed(struct pml_req *r)
{
    owed = grow(owed, &nowed_cap, (size_t)pml_rq_nowed + 1, sizeof *owed, 16,
                "keeping the owed synchronous sends");
    owed[pml_rq_nowed] = (struct owed){ r, r->order };
    __atomic_add_fetch(&pml_rq_nowed, 1, __ATOMIC_RELAXED);
    if (r->flags & PML_RQ_DONE)
        pml_rq_ndone--;
    r->flags = (uint16_t)((r->flags & ~PML_RQ_DONE) | PML_RQ_OWED | PML_RQ_ACTIVE);
}

void pml_owed_free(struct pml_req *r)
{
    pthread_mutex_lock(&owed_lock);
    for (size_t i = 0; i < pml_rq_nowed; i++)
        if (owed[i].r == r) {
            owed[i] = owed[pml_rq_nowed - 1];
            __atomic_sub_fetch(&pml_rq_nowed, 1, __ATOMIC_RELAXED);
            break;
        }
    r->flags &= (uint16_t)~(PML_RQ_OWED | PML_RQ_ACTIVE);
    pthread_mutex_unlock(&owed_lock);
}

/* Receives one notice from src (its envelope probed). */
static void receive_notice(MPI_Comm pw, int src)
{
    uint64_t id = 0;
    pml_L.MPI_Recv(&id, 1, u64(), src, PML_OWED_TAG, pw, MPI_STATUS_IGNORE);
    notices_got[src]++;
    take(id);
}

void pml_owed_poll(void)
{
    if (!__atomic_load_n(&pml_rq_nowed, __ATOMIC_RELAXED))
        return;
    if (pthread_mutex_trylock(&owed_lock))
        return; /* another thread takes them */
    MPI_Comm pw = (MPI_Comm)pml_private_world;
    for (;;) {
        int flag = 0;
        MPI_Status s;
        if (pml_L.MPI_Iprobe(MPI_ANY_SOURCE, PML_OWED_TAG, pw, &flag, &s) != MPI_SUCCESS || !flag)
            break;
        receive_notice(pw, s.MPI_SOURCE);
    }
    pthread_mutex_unlock(&owed_lock);
}

void pml_owed_notify(struct pml_dmsg *m)
{
    if (!m->owes)
        return;
    m->owes = 0;
    if (m->owed_to == pml_world_rank) { /* its own synchronous send: no message */
        pthread_mutex_lock(&owed_lock);
        take(m->owed_id);
        pthread_mutex_unlock(&owed_lock);
        return;
    }
    /* 8 bytes: eager in every transport, the send returns at once */
    pml_L.MPI_Send(&m->owed_id, 1, u64(), m->owed_to, PML_OWED_TAG, (MPI_Comm)pml_private_world);
    __atomic_add_fetch(&notices_sent[m->owed_to], 1, __ATOMIC_RELAXED);
    __atomic_store_n(&notices_unsettled, 1, __ATOMIC_RELAXED);
}

/* A key of the settle's lookups, sorted by (peer, cid, tag, ord): a drained message (peer its
 * sender, ord its arrival), a noted send's entry (peer its sender, ord its later count, val its
 * id) or a drained count (peer the receiver, val the count). Sorting, not a walk per entry: the
 * counts can be large (10^4 pending requests or drained messages; diffrev51 R-L8). */
struct skey {
    int64_t peer, tag;
    uint64_t cid, ord, val;
    struct pml_dmsg *m;
};

static int skey_cmp(const void *pa, const void *pb)
{
    const struct skey *a = pa, *b = pb;
    if (a->peer != b->peer)
        return a->peer < b->peer ? -1 : 1;
    if (a->cid != b->cid)
        return a->cid < b->cid ? -1 : 1;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static int same_key(const struct skey *a, const struct skey *b)
{
    return a->peer == b->peer && a->cid == b->cid && a->tag == b->tag;
}

/* The entries of kind `kind` of the all-gather whose side `side` (E_SENDER or E_RECEIVER) is
 * this rank, as keys on the other side, sorted (n set; NULL when none or out of memory: *oom). */
static struct skey *entries_of(const uint64_t *all, long nent, uint64_t kind, int side,
                               size_t *n, int *oom)
{
    size_t cnt = 0, cap = 0;
    struct skey *k = NULL;
    for (long i = 0; i < nent; i++) {
        const uint64_t *e = all + i * E_WORDS;
        if (e[E_KIND] != kind || (int)e[side] != pml_world_rank)
            continue;
        struct skey *x = grow_try(k, &cap, cnt + 1, sizeof *k, 16);
        if (!x) {
            *oom = 1;
            break;
        }
        k = x;
        int other = side == E_SENDER ? E_RECEIVER : E_SENDER;
        k[cnt++] = (struct skey){ (int)e[other], (int)(uint32_t)e[E_TAG], e[E_CID],
                                  kind == K_SEND ? e[E_LATER] : 0, e[E_VAL], NULL };
    }
    if (cnt)
        qsort(k, cnt, sizeof *k, skey_cmp);
    *n = cnt;
    return k;
}

static const struct skey *find(const struct skey *k, size_t n, const struct skey *want)
{
    return n ? bsearch(want, k, n, sizeof *k, skey_cmp) : NULL;
}

static void put(uint64_t **buf, size_t *n, size_t *cap, uint64_t kind, int s, int r, uint64_t cid,
                int tag, uint64_t val, uint64_t later)
{
    *buf = grow(*buf, cap, *n + E_WORDS, sizeof **buf, 16 * E_WORDS,
                "for the drain's synchronous sends");
    uint64_t *e = *buf + *n;
    e[E_KIND] = kind;
    e[E_SENDER] = (uint64_t)s;
    e[E_RECEIVER] = (uint64_t)r;
    e[E_CID] = cid;
    e[E_TAG] = (uint32_t)tag;
    e[E_VAL] = val;
    e[E_LATER] = later;
    *n += E_WORDS;
}

int pml_owed_wanted(void)
{
    return nnotes > 0 || __atomic_load_n(&notices_unsettled, __ATOMIC_RELAXED);
}

int pml_owed_settle(int any, double deadline, char *err, size_t errlen)
{
    if (!any) {
        /* no rank noted a synchronous send or sent a notice since the last settle (the drain's
         * barrier said): nothing owes, nothing is in flight */
        pml_owed_reset();
        return 0;
    }
    if (counters()) {
        snprintf(err, errlen, "drain: out of memory for the synchronous sends' notices");
        return -ENOMEM;
    }
    /* the messages this drain took, in arrival order, sorted by (sender, communicator, tag):
     * each key's run is its sender's last k there, in the order it posted them */
    size_t nmsg = 0, capmsg = 0;
    struct skey *msgs = NULL;
    for (struct pml_dmsg *m = pml_dbuf_head; m; m = m->next) {
        if (m->fresh != 1 || !m->comm)
            continue;
        msgs = grow(msgs, &capmsg, nmsg + 1, sizeof *msgs, 64, "for the drain's synchronous sends");
        msgs[nmsg] = (struct skey){ world_of(m->comm, m->source), m->tag, m->comm->cid, nmsg, 0, m };
        nmsg++;
    }
    if (nmsg)
        qsort(msgs, nmsg, sizeof *msgs, skey_cmp);
    uint64_t *mine = NULL;
    size_t nmine = 0, cap = 0;
    /* the synchronous sends it completed */
    for (size_t i = 0; i < nnotes; i++)
        put(&mine, &nmine, &cap, K_SEND, pml_world_rank, notes[i].dest, notes[i].cid,
            notes[i].tag, notes[i].order, notes[i].later);
    /* the messages this drain took, per (sender, communicator, tag) */
    for (size_t i = 0, j; i < nmsg; i = j) {
        for (j = i + 1; j < nmsg && same_key(&msgs[i], &msgs[j]); j++)
            ;
        put(&mine, &nmine, &cap, K_DRAINED, (int)msgs[i].peer, pml_world_rank, msgs[i].cid,
            (int)msgs[i].tag, j - i, 0);
    }
    for (int w = 0; w < pml_world_size; w++)
        if (notices_sent[w])
            put(&mine, &nmine, &cap, K_NOTICES, pml_world_rank, w, 0, 0, notices_sent[w], 0);
    uint64_t *all = NULL;
    long nall = 0;
    int e = pml_xchgv(PML_XCHG_OWEDCOUNTS, PML_XCHG_OWED, mine, (int)nmine, &all, &nall, deadline,
                      "drain: the synchronous sends", err, errlen);
    free(mine);
    if (e) {
        free(msgs);
        return e;
    }
    long nent = nall / E_WORDS;
    unsigned nowe = 0, nsend = 0;
    int oom = 0;
    size_t nsends, ndrained;
    struct skey *sends = entries_of(all, nent, K_SEND, E_RECEIVER, &nsends, &oom);
    struct skey *drained = entries_of(all, nent, K_DRAINED, E_SENDER, &ndrained, &oom);
    if (oom) {
        free(msgs);
        free(sends);
        free(drained);
        free(all);
        snprintf(err, errlen, "drain: out of memory for the synchronous sends");
        return -ENOMEM;
    }
    /* the receiver's side: of a key's k messages, the j-th (0 first) is the one its sender's
     * noted send with later == k - 1 - j */
    for (size_t i = 0, j; i < nmsg; i = j) {
        for (j = i + 1; j < nmsg && same_key(&msgs[i], &msgs[j]); j++)
            ;
        uint64_t k = j - i;
        for (size_t x = i; x < j; x++) {
            struct skey want = msgs[x];
            want.ord = k - 1 - (x - i);
            const struct skey *n = find(sends, nsends, &want);
            if (!n)
                continue;
            struct pml_dmsg *m = msgs[x].m;
            m->owes = 1;
            m->owed_to = (int)msgs[x].peer;
            m->owed_id = n->val;
            nowe++;
        }
    }
    free(msgs);
    free(sends);
    for (struct pml_dmsg *m = pml_dbuf_head; m; m = m->next)
        m->fresh = 0;
    /* the sender's side: the receiver drained the last k it posted on the key */
    pthread_mutex_lock(&owed_lock);
    for (size_t i = 0; i < nnotes; i++) {
        if (!notes[i].r)
            continue;
        struct skey want = { notes[i].dest, notes[i].tag, notes[i].cid, 0, 0, NULL };
        const struct skey *d = find(drained, ndrained, &want);
        if (d && notes[i].later < d->val) {
            make_owed(notes[i].r);
            nsend++;
        }
    }
    free(drained);
    /* notices sent before the cut: every one received now (an image holds none in flight) */
    MPI_Comm pw = (MPI_Comm)pml_private_world;
    for (long x = 0; x < nent && !e; x++) {
        const uint64_t *q = all + x * E_WORDS;
        if (q[E_KIND] != K_NOTICES || (int)q[E_RECEIVER] != pml_world_rank)
            continue;
        int src = (int)q[E_SENDER];
        uint32_t idle = 0;
        while (notices_got[src] < q[E_VAL]) {
            int flag = 0;
            MPI_Status s;
            if (pml_L.MPI_Iprobe(src, PML_OWED_TAG, pw, &flag, &s) != MPI_SUCCESS) {
                snprintf(err, errlen, "drain: the synchronous sends' notices: probe failed");
                e = -EIO;
                break;
            }
            if (flag) {
                receive_notice(pw, src);
                idle = 0;
                continue;
            }
            if (revive_mono_s() > deadline) {
                snprintf(err, errlen, "drain: %llu of %llu notices of rank %d's receives came"
                         " within 60 s", (unsigned long long)notices_got[src],
                         (unsigned long long)q[E_VAL], src);
                e = -ETIMEDOUT;
                break;
            }
            pml_idle_own(&idle);
        }
    }
    pthread_mutex_unlock(&owed_lock);
    free(all);
    nnotes = 0;
    if (!e)
        __atomic_store_n(&notices_unsettled, 0, __ATOMIC_RELAXED);
    if (nowe || nsend)
        revive_log_info("rank %d: %u synchronous sends wait for their receive, %u drained"
                        " messages owe their sender a notice", pml_world_rank, nsend, nowe);
    return e;
}

void pml_owed_reset(void)
{
    nnotes = 0;
    for (struct pml_dmsg *m = pml_dbuf_head; m; m = m->next)
        m->fresh = 0;
}

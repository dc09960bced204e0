/* The point-to-point drain (the agent, gate closed) and the drain buffer it fills: messages
 * that reached this rank before the cut and that no pending receive matched, kept with their
 * envelope in arrival order and served to later receive-side calls before the network. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

struct pml_dmsg *pml_dbuf_head, *pml_dbuf_tail;
volatile uint32_t pml_dbuf_n;
static uint64_t dbuf_order;

static MPI_Datatype lower_byte(void)
{
    return (MPI_Datatype)pml_v2r(PML_H(MPI_BYTE));
}

static int matches(const struct pml_dmsg *m, uintptr_t vcomm, int source, int tag)
{
    return !m->claimed && m->vcomm == vcomm && (source == MPI_ANY_SOURCE || source == m->source) &&
           (tag == MPI_ANY_TAG || tag == m->tag);
}

struct pml_dmsg *pml_dbuf_find(uintptr_t vcomm, int source, int tag)
{
    if (source == MPI_PROC_NULL)
        return NULL;
    pml_vh_lock();
    struct pml_dmsg *m = pml_dbuf_head;
    while (m && !matches(m, vcomm, source, tag))
        m = m->next;
    pml_vh_unlock();
    return m;
}

static void dbuf_append(struct pml_dmsg *m)
{
    m->order = ++dbuf_order;
    m->next = NULL;
    if (pml_dbuf_tail)
        pml_dbuf_tail->next = m;
    else
        pml_dbuf_head = m;
    pml_dbuf_tail = m;
    if (!m->claimed)
        __atomic_add_fetch(&pml_dbuf_n, 1, __ATOMIC_RELAXED);
}

void pml_dbuf_remove(struct pml_dmsg *m)
{
    pml_vh_lock();
    struct pml_dmsg **pp = &pml_dbuf_head, *prev = NULL;
    while (*pp && *pp != m) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = m->next;
        if (pml_dbuf_tail == m)
            pml_dbuf_tail = prev;
        if (!m->claimed)
            __atomic_sub_fetch(&pml_dbuf_n, 1, __ATOMIC_RELAXED);
    }
    pml_vh_unlock();
}

void pml_dbuf_status(const struct pml_dmsg *m, MPI_Status *st)
{
    pml_status_set(st, m->source, m->tag, MPI_SUCCESS, m->bytes);
}

/* The lower half unpacks: the bytes go to ourselves on a private MPI_COMM_SELF and are received
 * with the caller's buffer, count and datatype, so partial elements, MPI_ERR_TRUNCATE and the
 * status's element count are the library's own. */
int pml_dbuf_deliver(struct pml_dmsg *m, void *buf, int count, uintptr_t dtype, MPI_Status *st)
{
    if (m->bytes > INT_MAX)
        pml_fatal("a drained message of %llu bytes is too large to deliver",
                  (unsigned long long)m->bytes);
    MPI_Status ls;
    memset(&ls, 0, sizeof ls);
    MPI_Datatype t = (MPI_Datatype)pml_v2r(dtype);
    int rc = pml_L.MPI_Sendrecv(m->data, (int)m->bytes, lower_byte(), 0, 0, buf, count, t, 0, 0,
                                (MPI_Comm)pml_private_self, &ls);
    if (rc != MPI_SUCCESS) {
        int cls = rc;
        pml_L.MPI_Error_class(rc, &cls);
        rc = cls == MPI_ERR_IN_STATUS ? ls.MPI_ERROR : rc;
    }
    /* Open MPI's MPI_Sendrecv reports a truncated receive in the status only */
    MPI_Count tsize = 0;
    pml_L.MPI_Type_size_x(t, &tsize);
    if (rc == MPI_SUCCESS && (uint64_t)tsize * (uint64_t)(count > 0 ? count : 0) < m->bytes)
        rc = MPI_ERR_TRUNCATE;
    ls.MPI_SOURCE = m->source;
    ls.MPI_TAG = m->tag;
    ls.MPI_ERROR = rc;
    if (st && st != MPI_STATUS_IGNORE)
        *st = ls;
    /* the application matched it: a synchronous sender waiting for that hears of it (owed.c) */
    if (m->owes)
        pml_owed_notify(m);
    free(m->data);
    free(m);
    return rc;
}

/* A receive posted (Irecv, Recv, a persistent Start) while the buffer holds a message for it:
 * the request completes at once (its status saved), as if the message had been there. */
int pml_dbuf_irecv(struct pml_req *r, void *buf, int count, uintptr_t dtype, int source, int tag,
                   uintptr_t vcomm)
{
    struct pml_dmsg *m = pml_dbuf_find(vcomm, source, tag);
    if (!m)
        return 0;
    pml_dbuf_remove(m);
    uint16_t persist = r->flags & PML_RQ_PERSIST;
    if (!persist) {
        r->real = PML_H(pml_v2r(PML_H(MPI_REQUEST_NULL)));
        if (r->v)
            pml_vh_of(r->v)->real = r->real;
    }
    pml_rq_fill(r, PML_RQ_RECV, PML_MODE_STD, buf, count, dtype, source, tag, vcomm);
    r->st.MPI_ERROR = pml_dbuf_deliver(m, buf, count, dtype, &r->st);
    r->flags = persist | PML_RQ_DONE | PML_RQ_ACTIVE | PML_RQ_NOCOUNT;
    r->order = 0;
    pml_rq_ndone++;
    return 1;
}

/* ---- the drain (agent thread, gate closed, lower half owned) ---------------------------- */
struct drain_run {
    uint64_t msgs, bytes, nbc;
};

/* Revive completed it: the application sees it complete with this status. */
static void complete_by_revive(struct pml_req *r, MPI_Request real, const MPI_Status *ls, struct drain_run *d)
{
    if (r->kind == PML_RQ_SEND) /* was its message matched, or drained? (owed.c) */
        pml_owed_note(r, (r->flags & PML_RQ_FREED) != 0);
    r->real = PML_H(real);
    if (r->v)
        pml_vh_of(r->v)->real = r->real;
    pml_rq_completed(r, ls);
    if (r->kind == PML_RQ_NBC || r->kind == PML_RQ_PCOLL)
        d->nbc++;
    if (r->flags & PML_RQ_FREED) {
        if (r->flags & PML_RQ_PERSIST)
            pml_L.MPI_Request_free(&real);
        pml_rq_nfreed--;
        pml_rq_drop(r);
        return;
    }
    r->st = *ls;
    r->flags |= PML_RQ_DONE;
    pml_rq_ndone++;
}

/* Tests every pending request once, in posting order. Returns how many completed. */
static int test_pending(struct drain_run *d)
{
    int completed = 0;
    for (struct pml_req *r = pml_rq_head, *nx; r; r = nx) {
        nx = r->next;
        MPI_Request real = (MPI_Request)r->real;
        MPI_Status ls;
        int flag = 0;
        memset(&ls, 0, sizeof ls);
        int rc = pml_L.MPI_Test(&real, &flag, &ls);
        if (rc != MPI_SUCCESS && !flag) {
            ls.MPI_ERROR = rc;
            flag = 1;
        }
        if (flag) {
            complete_by_revive(r, real, &ls, d);
            completed++;
        }
    }
    return completed;
}

/* The first pending receive (posting order) that a message (source, tag) on c would match. */
static struct pml_req *pending_match(struct pml_comm *c, int source, int tag)
{
    for (struct pml_req *r = pml_rq_head; r; r = r->next)
        if (r->kind == PML_RQ_RECV && r->comm == c && (r->peer == MPI_ANY_SOURCE || r->peer == source) &&
            (r->tag == MPI_ANY_TAG || r->tag == tag))
            return r;
    return NULL;
}

/* Receives whatever is waiting on c. Returns 1 if something moved. */
static int probe_comm(struct pml_comm *c, struct drain_run *d, double deadline)
{
    MPI_Comm real = (MPI_Comm)pml_v2r(c->v);
    int moved = 0;
    for (;;) {
        int flag = 0;
        MPI_Status ls;
        if (pml_L.MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, real, &flag, &ls) != MPI_SUCCESS || !flag)
            return moved;
        moved = 1;
        struct pml_req *r = pending_match(c, ls.MPI_SOURCE, ls.MPI_TAG);
        if (r) {
            /* the receive MPI would give it to: complete that one (keeps the matching order) */
            MPI_Request q = (MPI_Request)r->real;
            int done = 0;
            MPI_Status rs;
            uint32_t idle = 0;
            while (!done && revive_mono_s() < deadline) {
                if (pml_L.MPI_Test(&q, &done, &rs) != MPI_SUCCESS)
                    break;
                if (!done)
                    pml_idle_own(&idle);
            }
            if (!done)
                return moved;
            complete_by_revive(r, q, &rs, d);
            continue;
        }
        MPI_Message msg;
        MPI_Status ms;
        if (pml_L.MPI_Mprobe(ls.MPI_SOURCE, ls.MPI_TAG, real, &msg, &ms) != MPI_SUCCESS)
            return moved;
        MPI_Count n = 0;
        pml_L.MPI_Get_elements_x(&ms, lower_byte(), &n);
        struct pml_dmsg *m = calloc(1, sizeof *m);
        unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
        if (!m || !data)
            pml_fatal("out of memory for a drained message of %lld bytes", (long long)n);
        pml_L.MPI_Mrecv(data, (int)n, lower_byte(), &msg, &ms);
        m->vcomm = c->v;
        m->comm = c;
        m->source = ms.MPI_SOURCE;
        m->tag = ms.MPI_TAG;
        m->bytes = (uint64_t)n;
        m->data = data;
        m->fresh = 1;
        dbuf_append(m);
        pml_count_add(&pml_received, 1);
        d->msgs++;
        d->bytes += (uint64_t)n;
    }
}

/* Messages matched by MPI_Mprobe/Improbe but not yet received: into the buffer, behind their
 * message handle (counted when matched). */
static void drain_matched(struct drain_run *d)
{
    MPI_Message null = (MPI_Message)pml_v2r(PML_H(MPI_MESSAGE_NULL));
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        if (h->kind != PML_MSG || h->info || h->real == PML_H(null) || !h->aux)
            continue;
        const struct pml_msginfo *mi = h->aux;
        struct pml_dmsg *m = calloc(1, sizeof *m);
        unsigned char *data = malloc(mi->bytes ? (size_t)mi->bytes : 1);
        if (!m || !data)
            pml_fatal("out of memory for a matched message of %llu bytes", (unsigned long long)mi->bytes);
        MPI_Message msg = (MPI_Message)h->real;
        MPI_Status ms;
        pml_L.MPI_Mrecv(data, (int)mi->bytes, lower_byte(), &msg, &ms);
        m->vcomm = mi->vcomm;
        m->comm = pml_comm_of(mi->vcomm);
        m->source = mi->source;
        m->tag = mi->tag;
        m->bytes = mi->bytes;
        m->data = data;
        m->claimed = 1;
        dbuf_append(m);
        h->info = m;
        h->real = PML_H(null);
        d->msgs++;
        d->bytes += mi->bytes;
    }
}

/* Sends, nonblocking collectives and receives of matched messages must complete in the drain;
 * receives nobody sent to stay posted. */
static int must_complete(void)
{
    int n = 0;
    for (struct pml_req *r = pml_rq_head; r; r = r->next)
        if (r->kind != PML_RQ_RECV)
            n++;
    return n;
}

/* The drain's final barrier, each rank's word its pml_owed_wanted: *any, whether one is 1. The
 * words live as long as the rank (a send of a barrier left on an abort may still read them). */
static int barrier_owed(double deadline, int *any, char *err, size_t errlen)
{
    static uint64_t *words;
    if (!words && !(words = calloc(2 * (size_t)pml_world_size, sizeof *words))) {
        snprintf(err, errlen, "drain: out of memory");
        return -ENOMEM;
    }
    uint64_t w = (uint64_t)pml_owed_wanted(), *got = words + pml_world_size;
    for (int i = 0; i < pml_world_size; i++)
        words[i] = w;
    int e = pml_xchg(PML_XCHG_DRAINED, words, got, deadline, "drain: the final barrier", err, errlen);
    *any = 0;
    for (int i = 0; !e && i < pml_world_size; i++)
        *any |= got[i] != 0;
    return e;
}

static uint64_t sum_sent(void)
{
    uint64_t s = 0;
    for (int i = 0; i < pml_world_size; i++)
        s += pml_sent_to[i];
    return s;
}

int pml_drain_run(struct snapc_drain_stats *st, char *err, size_t errlen)
{
    uint64_t expected = 0;
    struct drain_run d = { 0, 0, 0 };
    memset(st, 0, sizeof *st);
    double deadline = revive_mono_s() + 60;
    uint64_t *counts = calloc((size_t)pml_world_size, sizeof *counts);
    if (!counts) {
        snprintf(err, errlen, "drain: out of memory");
        return -ENOMEM;
    }
    int e = pml_xchg(PML_XCHG_COUNTS, pml_sent_to, counts, deadline, "drain: the message counts",
                     err, errlen);
    for (int i = 0; i < pml_world_size; i++)
        expected += counts[i];
    free(counts);
    if (e)
        return e;
    pml_owed_reset();
    drain_matched(&d);
    uint32_t idle = 0; /* turns that found nothing: with REVIVE_MPI_YIELD_WHEN_IDLE, not spun */
    for (;;) {
        int moved = test_pending(&d);
        for (struct pml_comm *c = pml_comms; c; c = c->next)
            if (!(c->flags & PML_COMM_FREED) && c->v && pml_comm_probed(c))
                moved |= probe_comm(c, &d, deadline);
        uint64_t got = __atomic_load_n(&pml_received, __ATOMIC_RELAXED);
        if (got > expected) {
            snprintf(err, errlen, "received %llu messages but %llu were sent to this rank",
                     (unsigned long long)got, (unsigned long long)expected);
            return -EPROTO;
        }
        if (got == expected && !must_complete())
            break;
        if (pml_agent_running && snapc_agent_poll_abort()) {
            snprintf(err, errlen, "drain: the epoch was aborted");
            return -ECANCELED;
        }
        if (revive_mono_s() > deadline) {
            snprintf(err, errlen, "drain: %llu of %llu messages received, %d sends or collectives "
                     "pending after 60 s", (unsigned long long)got, (unsigned long long)expected,
                     must_complete());
            return -ETIMEDOUT;
        }
        if (moved)
            idle = 0;
        else
            pml_idle_own(&idle);
    }
    /* everybody's sends complete only with the receivers' progress: keep it going until every
     * rank is done. Each rank's word says whether the synchronous sends' settle is needed: a
     * job without them at the snapshot pays no round of its own (owed.c) */
    int any;
    e = barrier_owed(deadline, &any, err, errlen);
    if (e)
        return e;
    /* which synchronous sends it completed before their receive (owed.c) */
    e = pml_owed_settle(any, deadline, err, errlen);
    if (e)
        return e;
    st->sent = sum_sent();
    st->received = pml_received;
    st->expected = expected;
    st->drained_msgs = d.msgs;
    st->drained_bytes = d.bytes;
    st->nbc_completed = d.nbc;
    for (struct pml_req *r = pml_rq_head; r; r = r->next)
        if (r->kind == PML_RQ_RECV)
            st->pending_recvs++;
    return 0;
}

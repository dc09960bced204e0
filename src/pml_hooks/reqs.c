/* The request table and the calls that complete requests (Wait, Test and their any/some/all
 * forms, Request_get_status, Cancel, Request_free, Start, Startall): every one of them sees the
 * requests Revive completed during a drain (PML_RQ_DONE, status saved) as completed, with the
 * right index, before it asks the lower half. Blocking completion is Revive's wait loop: test,
 * and between tests park if the gate is closed. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/objs.h" /* pml_vh_ref */

#include <string.h>
#include <sys/mman.h>

struct pml_req *pml_rq_tab;
struct pml_req *pml_rq_head, *pml_rq_tail;
uint64_t pml_rq_order;
uint32_t pml_rq_npending, pml_rq_ndone, pml_rq_nfreed;

void pml_rq_init(void)
{
    if (pml_rq_tab)
        return;
    void *p = mmap(NULL, (size_t)PML_VH_CAP * sizeof(struct pml_req), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        pml_fatal("cannot reserve the request table");
    pml_rq_tab = p;
}

static inline MPI_Request lower_null(void)
{
    return (MPI_Request)pml_v2r(PML_H(MPI_REQUEST_NULL));
}

struct pml_req *pml_rq_new(uintptr_t *v)
{
    *v = pml_new_raw(PML_REQ, PML_H(lower_null()));
    struct pml_vh *h = pml_vh_of(*v);
    struct pml_req *r = &pml_rq_tab[h - pml_vh_tab];
    /* no memset (a rep stos costs more than the rest): what posting does not set */
    r->v = *v;
    r->flags = 0;
    r->holds = 0;
    r->prev = r->next = NULL;
    r->order = 0;
    r->real = h->real;
    return r;
}

uint32_t pml_rq_hold_locked(uintptr_t v, struct pml_vh *h)
{
    uint32_t n = 0;
    int type = h->kind == PML_TYPE;
    uint8_t bit = type ? PML_RQ_HOLD_TYPE : PML_RQ_HOLD_COMM;
    for (struct pml_req *r = pml_rq_head; r; r = r->next) {
        /* a persistent one holds both from its init; a blocking call's own request cannot
         * outlive the call (the program frees nothing it waits on) */
        if (r->kind != PML_RQ_RECV || !r->v || (r->flags & PML_RQ_PERSIST) || (r->holds & bit) ||
            (type ? r->dtype : r->vcomm) != v)
            continue;
        r->holds |= bit;
        n++;
    }
    if (n && !type && h->info)
        ((struct pml_comm *)h->info)->rholds += n;
    return n;
}

void pml_rq_let_go(struct pml_req *r)
{
    if (__builtin_expect(!r->holds, 1))
        return;
    pml_vh_lock();
    uint8_t held = r->holds;
    r->holds = 0;
    struct pml_comm *c = NULL;
    if (held & PML_RQ_HOLD_COMM) {
        struct pml_vh *h = pml_vh_of(r->vcomm);
        c = h && h->kind == PML_COMM ? h->info : NULL;
        if (c && c->rholds)
            c->rholds--;
    }
    pml_vh_unlock();
    if (held & PML_RQ_HOLD_TYPE)
        pml_vh_unref(r->dtype);
    if (held & PML_RQ_HOLD_COMM) {
        pml_vh_unref(r->vcomm); /* the last one: the handle goes, its clock after an epoch */
        if (pml_comm_of(r->vcomm) != c)
            r->comm = NULL; /* no error handler of it to call (take_done) */
    }
}

void pml_rq_drop(struct pml_req *r)
{
    uintptr_t v = r->v;
    pml_rq_let_go(r);
    if ((r->flags & PML_RQ_PERSIST) && (r->kind == PML_RQ_SEND || r->kind == PML_RQ_RECV)) {
        /* its template's datatype and communicator (pml_rq_posted) */
        pml_vh_unref(r->dtype);
        pml_vh_unref(r->vcomm);
    }
    if (r->kind == PML_RQ_PCOLL) {
        pml_rq_npcoll--;
        r->kind = PML_RQ_NONE;
    }
    r->v = 0;
    r->flags = 0;
    if (v)
        pml_vh_release(v);
}

#define set_real pml_rq_set_real

void pml_rq_link(struct pml_req *r)
{
    pml_vh_lock();
    r->order = ++pml_rq_order;
    r->next = NULL;
    r->prev = pml_rq_tail;
    if (pml_rq_tail)
        pml_rq_tail->next = r;
    else
        pml_rq_head = r;
    pml_rq_tail = r;
    r->flags |= PML_RQ_ACTIVE | PML_RQ_PENDING;
    pml_rq_npending++;
    pml_vh_unlock();
    if (r->kind == PML_RQ_SEND && r->mode == PML_MODE_SYNC)
        pml_sync_posted(r); /* counts the sends posted after it (owed.c) */
}

void pml_rq_unlink(struct pml_req *r)
{
    if (!(r->flags & PML_RQ_PENDING))
        return;
    pml_vh_lock();
    if (r->prev)
        r->prev->next = r->next;
    else
        pml_rq_head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        pml_rq_tail = r->prev;
    r->prev = r->next = NULL;
    r->flags &= (uint16_t)~PML_RQ_PENDING;
    pml_rq_npending--;
    pml_vh_unlock();
    if (r->kind == PML_RQ_SEND && r->mode == PML_MODE_SYNC)
        pml_sync_gone(r);
}

void pml_rq_fill(struct pml_req *r, int kind, int mode, void *buf, int count, uintptr_t dtype,
                 int peer, int tag, uintptr_t vcomm)
{
    r->kind = (uint8_t)kind;
    r->mode = (uint8_t)mode;
    r->buf = buf;
    r->count = count;
    r->dtype = dtype;
    r->peer = peer;
    r->tag = tag;
    r->vcomm = vcomm;
    r->comm = pml_comm_of(vcomm);
    r->holds = 0;
}

void pml_rq_posted(struct pml_req *r, uintptr_t real, int active, int kind, int mode, void *buf,
                   int count, uintptr_t dtype, int peer, int tag, uintptr_t vcomm)
{
    r->flags = active ? 0 : PML_RQ_PERSIST;
    set_real(r, real);
    pml_rq_fill(r, kind, mode, buf, count, dtype, peer, tag, vcomm);
    if (!active) {
        /* a template a restart makes again with its datatype and communicator, which the
         * program may free at once (the library keeps them for the request): the layer keeps
         * their handles too (a communicator's clock stays, and the drain probes it) */
        pml_vh_ref(dtype);
        pml_vh_ref(vcomm);
        return;
    }
    if (kind == PML_RQ_SEND) {
        pml_count_send(r->comm, peer, 1);
        pml_sync_later(r->comm, peer, tag); /* before r itself is a pending one */
    }
    pml_rq_link(r);
    if (__builtin_expect(pml_rq_nfreed > 64, 0))
        pml_rq_test_freed();
}

uintptr_t pml_rq_wrap(int kind, uintptr_t real, uintptr_t vcomm)
{
    uintptr_t v;
    struct pml_req *r = pml_rq_new(&v);
    set_real(r, real);
    pml_rq_fill(r, kind, PML_MODE_STD, NULL, 0, 0, -1, 0, vcomm);
    pml_rq_link(r);
    return v;
}

/* A request completed with `done`: counted once, off the pending list. */
void pml_rq_completed(struct pml_req *r, const MPI_Status *st)
{
    pml_rq_unlink(r);
    int cancelled = 0;
    if ((r->flags & PML_RQ_CANCEL) && st && st != MPI_STATUS_IGNORE)
        pml_L.MPI_Test_cancelled(st, &cancelled);
    if (!(r->flags & PML_RQ_NOCOUNT)) {
        if (r->kind == PML_RQ_RECV && !cancelled && r->peer != MPI_PROC_NULL)
            pml_count_add(&pml_received, 1);
        else if (r->kind == PML_RQ_SEND && cancelled)
            pml_count_send(r->comm, r->peer, -1);
    }
    pml_rq_let_go(r);
}

/* Revive completed it: the saved status, once. Returns its error code. */
static int take_done(struct pml_req *r, MPI_Status *st)
{
    int err = r->st.MPI_ERROR;
    if (st && st != MPI_STATUS_IGNORE)
        *st = r->st;
    r->flags &= (uint16_t)~PML_RQ_DONE;
    pml_rq_ndone--;
    if (err != MPI_SUCCESS && r->comm)
        pml_L.MPI_Comm_call_errhandler((MPI_Comm)pml_v2r(r->vcomm), err);
    return err;
}

/* The application is done with it: a persistent request goes inactive, another is freed. */
static void finish(struct pml_req *r, MPI_Request *handle)
{
    if (r->kind == PML_RQ_GREQ) {
        pml_greq_finish(r); /* its free_fn */
        if (handle)
            *handle = MPI_REQUEST_NULL;
        return;
    }
    if (r->flags & PML_RQ_PERSIST) {
        r->flags &= (uint16_t)~(PML_RQ_ACTIVE | PML_RQ_CANCEL | PML_RQ_NOCOUNT);
        return;
    }
    pml_rq_drop(r);
    if (handle)
        *handle = MPI_REQUEST_NULL;
}

void pml_rq_test_freed(void)
{
    for (struct pml_req *r = pml_rq_head, *nx; r && pml_rq_nfreed; r = nx) {
        nx = r->next;
        if (!(r->flags & PML_RQ_FREED))
            continue;
        MPI_Request real = (MPI_Request)r->real;
        int flag = 0;
        MPI_Status st;
        pml_L.MPI_Test(&real, &flag, &st);
        if (!flag)
            continue;
        set_real(r, PML_H(real));
        pml_rq_completed(r, &st);
        if (r->flags & PML_RQ_PERSIST)
            pml_L.MPI_Request_free(&real);
        pml_rq_nfreed--;
        pml_rq_drop(r);
    }
}

int pml_rq_wait(struct pml_req *r, MPI_Status *st, struct pml_slot *t, uint32_t fid)
{
    uint32_t w0 = t->w;
    t->w = w0 | PML_T_WAIT;
    pml_idle_start(t);
    int rc;
    for (;;) {
        if (r->kind == PML_RQ_PAIR)
            pml_pair_progress(r);
        else if (r->kind == PML_RQ_GREQ)
            pml_greq_progress(r);
        else if (__builtin_expect(r->flags & PML_RQ_OWED, 0))
            pml_owed_progress(r);
        if (r->flags & PML_RQ_DONE) {
            rc = take_done(r, st);
            break;
        }
        if (r->kind == PML_RQ_PAIR || r->kind == PML_RQ_GREQ || (r->flags & PML_RQ_OWED)) {
            /* tested above */
            if (r->kind == PML_RQ_GREQ)
                pml_greq_poke();
            pml_rq_turn_end(1, t, fid);
            continue;
        }
        int flag = 0;
        MPI_Status ls, *sp = (r->flags & PML_RQ_CANCEL) && st == MPI_STATUS_IGNORE ? &ls : st;
        MPI_Request real = (MPI_Request)r->real;
        rc = pml_L.MPI_Test(&real, &flag, sp);
        if (flag || rc != MPI_SUCCESS) {
            set_real(r, PML_H(real));
            pml_rq_completed(r, sp);
            break;
        }
        pml_rq_turn_end(1, t, fid);
    }
    t->w = w0;
    return rc;
}

int pml_rq_wait_recv(struct pml_req *r, MPI_Status *st, struct pml_slot *t, uint32_t fid)
{
#ifdef PML_MPICH
    /* MPICH's MPI_Test reports a failed request to MPI_COMM_WORLD's handler: while a blocking
     * receive on a communicator whose errors return waits, MPI_COMM_WORLD's errors return too,
     * and the receive's communicator gets the error afterwards */
    struct pml_comm *c = r->comm;
    if (c && !c->eh_fatal && pml_comm_world.eh_fatal) {
        MPI_Comm w = (MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD));
        MPI_Errhandler old;
        pml_L.MPI_Comm_get_errhandler(w, &old);
        pml_L.MPI_Comm_set_errhandler(w, (MPI_Errhandler)pml_v2r(PML_H(MPI_ERRORS_RETURN)));
        int rc = pml_rq_wait(r, st, t, fid);
        pml_L.MPI_Comm_set_errhandler(w, old);
        pml_L.MPI_Errhandler_free(&old);
        if (rc != MPI_SUCCESS && !(r->flags & PML_RQ_NOCOUNT))
            pml_L.MPI_Comm_call_errhandler((MPI_Comm)pml_v2r(r->vcomm), rc);
        return rc;
    }
#endif
    return pml_rq_wait(r, st, t, fid);
}

void pml_status_set(MPI_Status *st, int source, int tag, int error, uint64_t bytes)
{
    if (!st || st == MPI_STATUS_IGNORE)
        return;
    memset(st, 0, sizeof *st);
    pml_L.MPI_Status_set_elements_x(st, (MPI_Datatype)pml_v2r(PML_H(MPI_BYTE)), (MPI_Count)bytes);
    pml_L.MPI_Status_set_cancelled(st, 0);
    st->MPI_SOURCE = source;
    st->MPI_TAG = tag;
    st->MPI_ERROR = error;
}

/* ---- entry points ----------------------------------------------------------------------- */
/* before MPI_Init (the table entry NAME of the lower half the call needs is still NULL): the
 * rank stopped naming the program's call itself, not NAME (MPI_Grequest_start was "MPI_Wait was
 * called before MPI_Init": diffrev46 R-L6) */
#define READY(name)                                                                           \
    if (__builtin_expect(pml_L.name == NULL, 0))                                              \
    return pml_not_ready(__func__)

int MPI_Wait(MPI_Request *request, MPI_Status *status)
{
    READY(MPI_Wait);
    PML_GATE_ENTER(PML_FID_MPI_Wait);
    int rc;
    struct pml_req *r = pml_rq_of(PML_H(*request));
    if (!r || !(r->flags & PML_RQ_ACTIVE)) {
        /* null, an inactive persistent request, or one the table does not know */
        MPI_Request real = (MPI_Request)pml_v2r(PML_H(*request));
        rc = pml_L.MPI_Wait(&real, status);
        if (!r)
            *request = (MPI_Request)pml_req_done(PML_H(*request), PML_H(real));
    } else {
        rc = pml_rq_wait(r, status, t_, PML_FID_MPI_Wait);
        finish(r, request);
    }
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Test(MPI_Request *request, int *flag, MPI_Status *status)
{
    READY(MPI_Test);
    PML_GATE_ENTER(PML_FID_MPI_Test);
    int rc = MPI_SUCCESS;
    struct pml_req *r = pml_rq_of(PML_H(*request));
    if (r && r->kind == PML_RQ_PAIR)
        pml_pair_progress(r);
    else if (r && r->kind == PML_RQ_GREQ)
        pml_greq_progress(r);
    else if (r && (r->flags & PML_RQ_OWED))
        pml_owed_progress(r);
    if (!r || !(r->flags & PML_RQ_ACTIVE)) {
        MPI_Request real = (MPI_Request)pml_v2r(PML_H(*request));
        rc = pml_L.MPI_Test(&real, flag, status);
        if (!r)
            *request = (MPI_Request)pml_req_done(PML_H(*request), PML_H(real));
    } else if (r->flags & PML_RQ_DONE) {
        *flag = 1;
        rc = take_done(r, status);
        finish(r, request);
    } else if (r->kind == PML_RQ_PAIR || r->kind == PML_RQ_GREQ || (r->flags & PML_RQ_OWED)) {
        *flag = 0;
        if (r->kind == PML_RQ_GREQ)
            pml_greq_poke();
        pml_idle_test();
    } else {
        MPI_Status ls, *sp = (r->flags & PML_RQ_CANCEL) && status == MPI_STATUS_IGNORE ? &ls : status;
        MPI_Request real = (MPI_Request)r->real;
        rc = pml_L.MPI_Test(&real, flag, sp);
        if (*flag || rc != MPI_SUCCESS) {
            set_real(r, PML_H(real));
            pml_rq_completed(r, sp);
            finish(r, request);
        } else {
            pml_idle_test();
        }
    }
    if (pml_rq_nfreed)
        pml_rq_test_freed();
    PML_GATE_LEAVE();
    return rc;
}

/* The lower half's handles for an array of the application's; Revive-completed ones as null. */
static void reals_of(int n, const MPI_Request *v, MPI_Request *real)
{
    MPI_Request null = lower_null();
    for (int i = 0; i < n; i++) {
        struct pml_req *r = pml_rq_of(PML_H(v[i]));
        if (!r)
            real[i] = (MPI_Request)pml_v2r(PML_H(v[i]));
        else /* (a persistent collective is tested alone: pml_pcoll_progress) */
            real[i] = (r->flags & (PML_RQ_DONE | PML_RQ_OWED)) || r->kind == PML_RQ_PCOLL
                          ? null : (MPI_Request)r->real;
    }
}

/* Request i completed in the lower half (real[i] is its handle now). */
static void completed_at(MPI_Request *v, MPI_Request *real, int i, MPI_Status *st)
{
    struct pml_req *r = pml_rq_of(PML_H(v[i]));
    if (!r) {
        v[i] = (MPI_Request)pml_req_done(PML_H(v[i]), PML_H(real[i]));
        return;
    }
    if (!(r->flags & PML_RQ_ACTIVE))
        return; /* inactive persistent: nothing happened */
    set_real(r, PML_H(real[i]));
    pml_rq_completed(r, st);
    finish(r, &v[i]);
}

/* The first request of the array that Revive completed, or -1. */
static int first_done(int n, const MPI_Request *v)
{
    if (!pml_rq_ndone)
        return -1;
    for (int i = 0; i < n; i++) {
        struct pml_req *r = pml_rq_of(PML_H(v[i]));
        if (r && (r->flags & PML_RQ_DONE))
            return i;
    }
    return -1;
}

static MPI_Request *tmp_reqs(int n, MPI_Request *stack)
{
    return n <= PML_STACK_HANDLES ? stack : pml_tmp_heap(n, sizeof(MPI_Request));
}

/* The scratch arrays of a completion loop, when they were not its stack arrays. */
static void scratch_free(MPI_Request *real, MPI_Request *stack, MPI_Status *ls, MPI_Status *sstack)
{
    if (real != stack)
        free(real);
    if (ls != sstack)
        free(ls);
}

static int any(int count, MPI_Request *v, int *index, int *flag, MPI_Status *status, int wait,
               struct pml_slot *t, uint32_t fid)
{
    MPI_Request s[PML_STACK_HANDLES], *real = tmp_reqs(count, s);
    uint32_t w0 = t->w;
    if (wait) {
        t->w = w0 | PML_T_WAIT;
        pml_idle_start(t);
    }
    int rc = MPI_SUCCESS, fresh = 0;
    *flag = 0;
    for (;;) {
        int pairs = pml_rq_special() && pml_pairs_progress(count, v);
        int i = first_done(count, v);
        if (i >= 0) {
            struct pml_req *r = pml_rq_of(PML_H(v[i]));
            *index = i;
            *flag = 1;
            rc = take_done(r, status);
            finish(r, &v[i]);
            break;
        }
        if (!fresh) {
            reals_of(count, v, real);
            fresh = 1;
        }
        MPI_Status ls;
        rc = pml_L.MPI_Testany(count, real, &i, flag, &ls);
        if (*flag && i == MPI_UNDEFINED && pairs && rc == MPI_SUCCESS)
            *flag = 0; /* only the pairs are active: not complete yet */
        if (*flag || rc != MPI_SUCCESS) {
            *index = i;
            if (i != MPI_UNDEFINED && i >= 0) {
                if (status != MPI_STATUS_IGNORE)
                    *status = ls;
                completed_at(v, real, i, &ls);
            } else if (status != MPI_STATUS_IGNORE) {
                *status = ls;
            }
            break;
        }
        int go = pml_rq_turn_end(wait, t, fid);
        if (go < 0)
            break;
        fresh &= go;
    }
    t->w = w0;
    scratch_free(real, s, NULL, NULL);
    return rc;
}

int MPI_Waitany(int count, MPI_Request array_of_requests[], int *index, MPI_Status *status)
{
    READY(MPI_Waitany);
    PML_GATE_ENTER(PML_FID_MPI_Waitany);
    int flag;
    int rc = any(count, array_of_requests, index, &flag, status, 1, t_, PML_FID_MPI_Waitany);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Testany(int count, MPI_Request array_of_requests[], int *index, int *flag, MPI_Status *status)
{
    READY(MPI_Testany);
    PML_GATE_ENTER(PML_FID_MPI_Testany);
    int rc = any(count, array_of_requests, index, flag, status, 0, t_, PML_FID_MPI_Testany);
    if (!*flag && rc == MPI_SUCCESS)
        *index = MPI_UNDEFINED;
    PML_GATE_LEAVE();
    return rc;
}

static int all(int count, MPI_Request *v, int *flag, MPI_Status *sts, int wait, struct pml_slot *t,
               uint32_t fid)
{
    MPI_Request s[PML_STACK_HANDLES], *real = tmp_reqs(count, s);
    MPI_Status ss[PML_STACK_HANDLES];
    MPI_Status *ls = count <= PML_STACK_HANDLES ? ss : pml_tmp_heap(count, sizeof *ls);
    uint32_t w0 = t->w;
    if (wait) {
        t->w = w0 | PML_T_WAIT;
        pml_idle_start(t);
    }
    int rc = MPI_SUCCESS, fresh = 0;
    *flag = 0;
    for (;;) {
        if (pml_rq_special() && pml_pairs_progress(count, v)) {
            /* the lower Testall would complete (and free) the others before the pairs */
            int go = pml_rq_turn_end(wait, t, fid);
            if (go < 0)
                break;
            fresh &= go;
            continue;
        }
        if (!fresh) {
            reals_of(count, v, real);
            fresh = 1;
        }
        rc = pml_L.MPI_Testall(count, real, flag, ls);
        if (*flag || rc == MPI_ERR_IN_STATUS) {
            int err = 0;
            for (int i = 0; i < count; i++) {
                struct pml_req *r = pml_rq_of(PML_H(v[i]));
                if (r && (r->flags & PML_RQ_DONE)) {
                    if (take_done(r, &ls[i]) != MPI_SUCCESS)
                        err = 1;
                    finish(r, &v[i]);
                } else {
                    completed_at(v, real, i, &ls[i]);
                }
                if (sts != MPI_STATUSES_IGNORE)
                    sts[i] = ls[i];
            }
            if (err)
                rc = MPI_ERR_IN_STATUS;
            *flag = 1;
            break;
        }
        if (rc != MPI_SUCCESS)
            break;
        int go = pml_rq_turn_end(wait, t, fid);
        if (go < 0)
            break;
        fresh &= go;
    }
    t->w = w0;
    scratch_free(real, s, ls, ss);
    return rc;
}

int MPI_Waitall(int count, MPI_Request array_of_requests[], MPI_Status array_of_statuses[])
{
    READY(MPI_Waitall);
    PML_GATE_ENTER(PML_FID_MPI_Waitall);
    int flag;
    int rc = all(count, array_of_requests, &flag, array_of_statuses, 1, t_, PML_FID_MPI_Waitall);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Testall(int count, MPI_Request array_of_requests[], int *flag, MPI_Status array_of_statuses[])
{
    READY(MPI_Testall);
    PML_GATE_ENTER(PML_FID_MPI_Testall);
    int rc = all(count, array_of_requests, flag, array_of_statuses, 0, t_, PML_FID_MPI_Testall);
    PML_GATE_LEAVE();
    return rc;
}

static int some(int incount, MPI_Request *v, int *outcount, int *idx, MPI_Status *sts, int wait,
                struct pml_slot *t, uint32_t fid)
{
    MPI_Request s[PML_STACK_HANDLES], *real = tmp_reqs(incount, s);
    MPI_Status ss[PML_STACK_HANDLES];
    MPI_Status *ls = incount <= PML_STACK_HANDLES ? ss : pml_tmp_heap(incount, sizeof *ls);
    uint32_t w0 = t->w;
    if (wait) {
        t->w = w0 | PML_T_WAIT;
        pml_idle_start(t);
    }
    int rc = MPI_SUCCESS, fresh = 0;
    for (;;) {
        int k = 0, err = 0, pairs = pml_rq_special() && pml_pairs_progress(incount, v);
        if (pml_rq_ndone)
            for (int i = 0; i < incount; i++) {
                struct pml_req *r = pml_rq_of(PML_H(v[i]));
                if (!r || !(r->flags & PML_RQ_DONE))
                    continue;
                if (take_done(r, &ls[k]) != MPI_SUCCESS)
                    err = 1;
                if (sts != MPI_STATUSES_IGNORE)
                    sts[k] = ls[k];
                idx[k++] = i;
                finish(r, &v[i]);
            }
        if (k) {
            *outcount = k;
            rc = err ? MPI_ERR_IN_STATUS : MPI_SUCCESS;
            break;
        }
        if (!fresh) {
            reals_of(incount, v, real);
            fresh = 1;
        }
        int out = 0;
        rc = pml_L.MPI_Testsome(incount, real, &out, idx, ls);
        if (out == MPI_UNDEFINED && pairs)
            out = 0; /* only the pairs are active: none complete yet */
        if (out == MPI_UNDEFINED) {
            *outcount = MPI_UNDEFINED;
            break;
        }
        if (out > 0) {
            for (int j = 0; j < out; j++) {
                completed_at(v, real, idx[j], &ls[j]);
                if (sts != MPI_STATUSES_IGNORE)
                    sts[j] = ls[j];
            }
            *outcount = out;
            break;
        }
        if (rc != MPI_SUCCESS || !wait) {
            *outcount = 0;
            break;
        }
        fresh &= pml_rq_turn_end(1, t, fid);
    }
    t->w = w0;
    scratch_free(real, s, ls, ss);
    return rc;
}

int MPI_Waitsome(int incount, MPI_Request array_of_requests[], int *outcount,
                 int array_of_indices[], MPI_Status array_of_statuses[])
{
    READY(MPI_Waitsome);
    PML_GATE_ENTER(PML_FID_MPI_Waitsome);
    int rc = some(incount, array_of_requests, outcount, array_of_indices, array_of_statuses, 1, t_,
                  PML_FID_MPI_Waitsome);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Testsome(int incount, MPI_Request array_of_requests[], int *outcount,
                 int array_of_indices[], MPI_Status array_of_statuses[])
{
    READY(MPI_Testsome);
    PML_GATE_ENTER(PML_FID_MPI_Testsome);
    int rc = some(incount, array_of_requests, outcount, array_of_indices, array_of_statuses, 0, t_,
                  PML_FID_MPI_Testsome);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Request_get_status(MPI_Request request, int *flag, MPI_Status *status)
{
    READY(MPI_Request_get_status);
    PML_GATE_ENTER(PML_FID_MPI_Request_get_status);
    int rc;
    struct pml_req *r = pml_rq_of(PML_H(request));
    if (r && r->kind == PML_RQ_PAIR && (r->flags & PML_RQ_ACTIVE) && !pml_pair_progress(r)) {
        *flag = 0;
        rc = MPI_SUCCESS;
    } else if (r && (r->flags & PML_RQ_OWED) && !pml_owed_progress(r)) {
        *flag = 0; /* its receiver has not matched it yet (owed.c) */
        rc = MPI_SUCCESS;
    } else if (r && (r->flags & PML_RQ_DONE)) {
        *flag = 1;
        if (status != MPI_STATUS_IGNORE)
            *status = r->st;
        rc = MPI_SUCCESS;
    } else if (r && r->kind == PML_RQ_GREQ) {
        /* query_fn at each call while it is complete, the request left as it is */
        rc = MPI_SUCCESS;
        *flag = pml_greq_peek(r, status, &rc);
    } else {
        rc = pml_L.MPI_Request_get_status(r ? (MPI_Request)r->real : (MPI_Request)pml_v2r(PML_H(request)),
                                          flag, status);
    }
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Cancel(MPI_Request *request)
{
    READY(MPI_Cancel);
    PML_GATE_ENTER(PML_FID_MPI_Cancel);
    int rc = MPI_SUCCESS;
    struct pml_req *r = pml_rq_of(PML_H(*request));
    if (!r) {
        MPI_Request real = (MPI_Request)pml_v2r(PML_H(*request));
        rc = pml_L.MPI_Cancel(&real);
    } else if (r->kind == PML_RQ_PAIR) {
        if (r->flags & PML_RQ_ACTIVE)
            pml_pair_cancel(r);
    } else if (r->kind == PML_RQ_GREQ) {
        rc = pml_greq_cancel(r); /* complete or not, the program's cancel_fn decides */
    } else if (r->flags & PML_RQ_OWED) {
        /* its message is in the receiver's drain buffer: the cancel fails (MPI allows it), and
         * the request completes, not cancelled, once the receiver matches the message */
        r->flags |= PML_RQ_CANCEL;
    } else if (!(r->flags & PML_RQ_DONE)) {
        /* completed by Revive: too late to cancel, as for a request MPI completed */
        r->flags |= PML_RQ_CANCEL;
        MPI_Request real = (MPI_Request)r->real;
        rc = pml_L.MPI_Cancel(&real);
    }
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Request_free(MPI_Request *request)
{
    READY(MPI_Request_free);
    PML_GATE_ENTER(PML_FID_MPI_Request_free);
    int rc = MPI_SUCCESS;
    struct pml_req *r = pml_rq_of(PML_H(*request));
    if (!r) {
        uintptr_t v = PML_H(*request);
        MPI_Request real = (MPI_Request)pml_v2r(v);
        rc = pml_L.MPI_Request_free(&real);
        if (rc == MPI_SUCCESS) {
            pml_vh_release(v);
            *request = MPI_REQUEST_NULL;
        }
    } else if (r->kind == PML_RQ_GREQ) {
        rc = pml_greq_free(r); /* free_fn now or at MPI_Grequest_complete, as the library */
        *request = MPI_REQUEST_NULL;
    } else if (r->kind == PML_RQ_PAIR && (r->flags & PML_RQ_ACTIVE) && !(r->flags & PML_RQ_DONE)) {
        pml_pair_free(r); /* its halves are completed and freed as any request freed while active */
        *request = MPI_REQUEST_NULL;
    } else if ((r->flags & PML_RQ_ACTIVE) && !(r->flags & (PML_RQ_DONE | PML_RQ_OWED))) {
        /* still running: Revive keeps it (the drain needs it) and frees it once complete */
        r->flags |= PML_RQ_FREED;
        pml_rq_nfreed++;
        *request = MPI_REQUEST_NULL;
    } else {
        if (r->flags & PML_RQ_OWED)
            pml_owed_free(r); /* complete for the lower half: nothing left to wait for */
        if (r->flags & PML_RQ_DONE) {
            r->flags &= (uint16_t)~PML_RQ_DONE;
            pml_rq_ndone--;
        }
        if (r->flags & PML_RQ_PERSIST) {
            MPI_Request real = (MPI_Request)r->real;
            rc = pml_L.MPI_Request_free(&real);
        }
        pml_rq_drop(r);
        *request = MPI_REQUEST_NULL;
    }
    PML_GATE_LEAVE();
    return rc;
}

/* A persistent receive whose message the drain buffer holds is served from it. */
static int start_one(MPI_Request *request)
{
    struct pml_req *r = pml_rq_of(PML_H(*request));
    if (!r) {
        uintptr_t v = PML_H(*request);
        MPI_Request real = (MPI_Request)pml_v2r(v);
        int rc = pml_L.MPI_Start(&real);
        pml_vh_update(v, PML_H(real));
        return rc;
    }
    if (r->kind == PML_RQ_RECV && pml_dbuf_n) {
        uint16_t keep = r->flags;
        if (pml_dbuf_irecv(r, r->buf, r->count, r->dtype, r->peer, r->tag, r->vcomm)) {
            r->flags |= keep | PML_RQ_ACTIVE;
            return MPI_SUCCESS;
        }
    }
    MPI_Request real = (MPI_Request)r->real;
    int rc = pml_L.MPI_Start(&real);
    if (rc != MPI_SUCCESS)
        return rc;
    set_real(r, PML_H(real));
    if (r->kind == PML_RQ_SEND) {
        pml_count_send(r->comm, r->peer, 1);
        pml_sync_later(r->comm, r->peer, r->tag);
    }
    pml_rq_link(r);
    return rc;
}

/* A persistent collective's start is a collective (pcoll.c): counted at its own entry, which
 * the kind (never changed once made) tells before the gate. */
static inline struct pml_req *pcoll_of(MPI_Request q)
{
    struct pml_req *r = pml_rq_of(PML_H(q));
    return r && r->kind == PML_RQ_PCOLL ? r : NULL;
}

int MPI_Start(MPI_Request *request)
{
    READY(MPI_Start);
    struct pml_req *pc = pcoll_of(*request);
    if (pc)
        return pml_pcoll_start(pc, PML_FID_MPI_Start);
    PML_GATE_ENTER(PML_FID_MPI_Start);
    int rc = start_one(request);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Startall(int count, MPI_Request array_of_requests[])
{
    READY(MPI_Startall);
    int rc = MPI_SUCCESS;
    for (int i = 0; i < count && rc == MPI_SUCCESS;) {
        struct pml_req *pc = pcoll_of(array_of_requests[i]);
        if (pc) {
            rc = pml_pcoll_start(pc, PML_FID_MPI_Startall);
            i++;
            continue;
        }
        /* a run of point-to-point requests in one pass of the gate */
        PML_GATE_ENTER(PML_FID_MPI_Startall);
        for (; i < count && rc == MPI_SUCCESS && !pcoll_of(array_of_requests[i]); i++)
            rc = start_one(&array_of_requests[i]);
        PML_GATE_LEAVE();
    }
    return rc;
}

int PMPI_Wait(MPI_Request *, MPI_Status *) __attribute__((alias("pml_own_MPI_Wait")));
int PMPI_Test(MPI_Request *, int *, MPI_Status *) __attribute__((alias("pml_own_MPI_Test")));
int PMPI_Waitany(int, MPI_Request[], int *, MPI_Status *) __attribute__((alias("pml_own_MPI_Waitany")));
int PMPI_Testany(int, MPI_Request[], int *, int *, MPI_Status *) __attribute__((alias("pml_own_MPI_Testany")));
int PMPI_Waitall(int, MPI_Request[], MPI_Status[]) __attribute__((alias("pml_own_MPI_Waitall")));
int PMPI_Testall(int, MPI_Request[], int *, MPI_Status[]) __attribute__((alias("pml_own_MPI_Testall")));
int PMPI_Waitsome(int, MPI_Request[], int *, int[], MPI_Status[]) __attribute__((alias("pml_own_MPI_Waitsome")));
int PMPI_Testsome(int, MPI_Request[], int *, int[], MPI_Status[]) __attribute__((alias("pml_own_MPI_Testsome")));
int PMPI_Request_get_status(MPI_Request, int *, MPI_Status *) __attribute__((alias("pml_own_MPI_Request_get_status")));
int PMPI_Cancel(MPI_Request *) __attribute__((alias("pml_own_MPI_Cancel")));
int PMPI_Request_free(MPI_Request *) __attribute__((alias("pml_own_MPI_Request_free")));
int PMPI_Start(MPI_Request *) __attribute__((alias("pml_own_MPI_Start")));
int PMPI_Startall(int, MPI_Request[]) __attribute__((alias("pml_own_MPI_Startall")));

/* MPI_Isendrecv and MPI_Isendrecv_replace (MPI-4) and their large-count forms: a request of two
 * halves. The layer posts the receive and the send as MPI_Irecv and MPI_Isend would (Irecv
 * first, as MPI_Sendrecv does), each an entry of the request table with a handle of the
 * layer's own: they are counted, drained (the send completes, the receive completes or is held
 * by the drain buffer) and re-posted at a restart like any other. The application's request is
 * a third entry (PML_RQ_PAIR) that is never on the pending list and whose real handle is the
 * lower null request; the completion calls (reqs.c) test its halves (pml_pair_progress) and see
 * it complete, with the receive's status, once both are. The lower library's own
 * MPI_Isendrecv would give one request for both, which a drain cannot complete halfway nor a
 * restart post again as only its receive. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <limits.h>
#include <string.h>

uint32_t pml_rq_npairs;

/* before MPI_Init (the table entry NAME of the lower half the call needs is still NULL): the
 * rank stopped naming the program's call itself, not NAME (MPI_Grequest_start was "MPI_Wait was
 * called before MPI_Init": diffrev46 R-L6) */
#define READY(name)                                                                           \
    if (__builtin_expect(pml_L.name == NULL, 0))                                              \
    return pml_not_ready(__func__)

/* Half i completed (Revive's DONE or the lower half's): its status taken, its entry dropped. */
static void half_done(struct pml_req *p, int i, const MPI_Status *st)
{
    struct pml_req *h = p->half[i];
    if (i == 1)
        p->st = *st;
    else if (st->MPI_ERROR != MPI_SUCCESS && p->st.MPI_ERROR == MPI_SUCCESS)
        p->st.MPI_ERROR = st->MPI_ERROR;
    p->half[i] = NULL;
    pml_rq_drop(h); /* the replace form's copy goes with the send's handle */
}

int pml_pair_progress(struct pml_req *p)
{
    if (p->flags & PML_RQ_DONE)
        return 1;
    if (!(p->flags & PML_RQ_ACTIVE))
        return 0;
    for (int i = 0; i < 2; i++) {
        struct pml_req *h = p->half[i];
        if (!h)
            continue;
        MPI_Status ls;
        memset(&ls, 0, sizeof ls);
        if (h->flags & PML_RQ_DONE) {
            ls = h->st;
            h->flags &= (uint16_t)~PML_RQ_DONE;
            pml_rq_ndone--;
            half_done(p, i, &ls);
            continue;
        }
        int flag = 0;
        MPI_Request real = (MPI_Request)h->real;
        int rc = pml_L.MPI_Test(&real, &flag, &ls);
        if (!flag && rc == MPI_SUCCESS)
            continue;
        if (rc != MPI_SUCCESS)
            ls.MPI_ERROR = rc;
        pml_rq_set_real(h, PML_H(real));
        pml_rq_completed(h, &ls);
        half_done(p, i, &ls);
    }
    if (p->half[0] || p->half[1])
        return 0;
    p->flags |= PML_RQ_DONE;
    pml_rq_ndone++;
    pml_rq_npairs--;
    return 1;
}

int pml_pairs_progress(int n, const MPI_Request *v)
{
    int waiting = 0, greqs = 0;
    for (int i = 0; i < n; i++) {
        struct pml_req *r = pml_rq_of(PML_H(v[i]));
        if (!r || !(r->flags & PML_RQ_ACTIVE))
            continue;
        if (r->flags & PML_RQ_OWED)
            waiting |= !pml_owed_progress(r); /* a synchronous send the drain took (owed.c) */
        else if (r->kind == PML_RQ_PAIR)
            waiting |= !pml_pair_progress(r);
        else if (r->kind == PML_RQ_PCOLL)
            waiting |= !pml_pcoll_progress(r);
        else if (r->kind == PML_RQ_GREQ && !pml_greq_progress(r)) {
            waiting = 1;
            greqs = 1;
        }
    }
    if (greqs)
        pml_greq_poke();
    return waiting;
}

void pml_pair_cancel(struct pml_req *p)
{
    for (int i = 0; i < 2; i++) {
        struct pml_req *h = p->half[i];
        if (!h || (h->flags & PML_RQ_DONE))
            continue;
        h->flags |= PML_RQ_CANCEL;
        MPI_Request real = (MPI_Request)h->real;
        pml_L.MPI_Cancel(&real);
    }
}

void pml_pair_free(struct pml_req *p)
{
    for (int i = 0; i < 2; i++) {
        struct pml_req *h = p->half[i];
        if (!h)
            continue;
        p->half[i] = NULL;
        if (h->flags & PML_RQ_DONE) {
            h->flags &= (uint16_t)~PML_RQ_DONE;
            pml_rq_ndone--;
            pml_rq_drop(h);
        } else {
            h->flags |= PML_RQ_FREED; /* completed and dropped by pml_rq_test_freed */
            pml_rq_nfreed++;
        }
    }
    pml_rq_npairs--;
    pml_rq_drop(p);
}

/* ---- generalized requests (MPI_Grequest_start, MPI_Grequest_complete) ------------------------
 * The layer's alone: the lower half never has one, so that there is nothing to start again in
 * a fresh library at a restart, nothing for the drain, and a wait on one that never completes
 * is Revive's wait loop, which parks at the gate. Everything about one (its functions, extra
 * state, whether the program completed or freed it, the status query_fn gave) is in the
 * request table, which the rank's image holds. The program's functions are called in the
 * completion calls, with the thread inside MPI (as the libraries do): query_fn when a
 * completion call finds the request complete (its status and return code are the request's),
 * free_fn once it is complete and the program let it go (Wait/Test or MPI_Request_free),
 * cancel_fn at every MPI_Cancel with whether MPI_Grequest_complete had been called. */
uint32_t pml_rq_ngreq;

/* The program's functions of a request started from Fortran (MPICH: MPI_GREQUEST_START calls
 * MPII_Grequest_set_lang_f77): extra state as the binding passed it, every argument by
 * reference, the error code last; MPICH's Fortran status is its C status, integer by integer */
typedef void f77_query_fn(void *, MPI_Fint *, MPI_Fint *);
typedef void f77_free_fn(void *, MPI_Fint *);
typedef void f77_cancel_fn(void *, MPI_Fint *, MPI_Fint *);

static inline int greq_f77(const struct pml_req *r)
{
    return (__atomic_load_n(&r->gstate, __ATOMIC_ACQUIRE) & PML_GREQ_F77) != 0;
}

static int greq_query(struct pml_req *r, MPI_Status *st)
{
    memset(st, 0, sizeof *st);
    if (!r->gfn[0])
        return MPI_SUCCESS;
    if (greq_f77(r)) {
        MPI_Fint ierr = MPI_SUCCESS;
        ((f77_query_fn *)r->gfn[0])(r->buf, (MPI_Fint *)st, &ierr);
        return (int)ierr;
    }
    return ((MPI_Grequest_query_function *)r->gfn[0])(r->buf, st);
}

static int greq_free_fn(struct pml_req *r)
{
    if (!r->gfn[1])
        return MPI_SUCCESS;
    if (greq_f77(r)) {
        MPI_Fint ierr = MPI_SUCCESS;
        ((f77_free_fn *)r->gfn[1])(r->buf, &ierr);
        return (int)ierr;
    }
    return ((MPI_Grequest_free_function *)r->gfn[1])(r->buf);
}

static int greq_cancel_fn(struct pml_req *r, int complete)
{
    if (!r->gfn[2])
        return MPI_SUCCESS;
    if (greq_f77(r)) {
        MPI_Fint ierr = MPI_SUCCESS, c = complete;
        ((f77_cancel_fn *)r->gfn[2])(r->buf, &c, &ierr);
        return (int)ierr;
    }
    return ((MPI_Grequest_cancel_function *)r->gfn[2])(r->buf, complete);
}

void pml_greq_set_f77(uintptr_t v)
{
    struct pml_req *r = pml_rq_of(v);
    if (r && r->kind == PML_RQ_GREQ)
        __atomic_fetch_or(&r->gstate, PML_GREQ_F77, __ATOMIC_RELEASE);
}

static int greq_release(struct pml_req *r)
{
    int rc = (__atomic_load_n(&r->gstate, __ATOMIC_ACQUIRE) & PML_GREQ_FREEFN) ? MPI_SUCCESS : greq_free_fn(r);
    r->kind = PML_RQ_NONE;
    pml_rq_drop(r);
    __atomic_sub_fetch(&pml_rq_ngreq, 1, __ATOMIC_RELAXED);
    return rc;
}

int pml_greq_progress(struct pml_req *r)
{
    if (r->flags & PML_RQ_DONE)
        return 1;
    if (!(r->flags & PML_RQ_ACTIVE) || !(__atomic_load_n(&r->gstate, __ATOMIC_ACQUIRE) & PML_GREQ_COMPLETE))
        return 0;
    int rc = greq_query(r, &r->st);
    if (rc != MPI_SUCCESS)
        r->st.MPI_ERROR = rc;
    r->flags |= PML_RQ_DONE;
    pml_rq_ndone++;
    return 1;
}

void pml_greq_poke(void)
{
    /* a program waiting only on generalized requests still drives the library's progress, as
     * its own wait would (a send of this rank's that a peer waits for meanwhile) */
    int flag;
    if (pml_private_self)
        pml_L.MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, (MPI_Comm)pml_private_self, &flag, MPI_STATUS_IGNORE);
}

int pml_greq_peek(struct pml_req *r, MPI_Status *st, int *rc)
{
    if (!(__atomic_load_n(&r->gstate, __ATOMIC_ACQUIRE) & PML_GREQ_COMPLETE))
        return 0;
    MPI_Status ls;
    *rc = greq_query(r, st && st != MPI_STATUS_IGNORE ? st : &ls);
    return 1;
}

int pml_greq_cancel(struct pml_req *r)
{
    int complete = (r->flags & PML_RQ_DONE) ||
                   (__atomic_load_n(&r->gstate, __ATOMIC_ACQUIRE) & PML_GREQ_COMPLETE);
    return greq_cancel_fn(r, complete);
}

int pml_greq_free(struct pml_req *r)
{
    if (r->flags & PML_RQ_DONE) {
        r->flags &= (uint16_t)~PML_RQ_DONE;
        pml_rq_ndone--;
        return greq_release(r);
    }
    int rc = MPI_SUCCESS;
#ifdef PML_MPICH
    /* as MPICH 4.0 does: free_fn at once (Open MPI 4.1 calls it at MPI_Grequest_complete;
     * measured natively, both) */
    rc = greq_free_fn(r);
    __atomic_fetch_or(&r->gstate, PML_GREQ_FREEFN, __ATOMIC_RELEASE);
#endif
    /* MPI_Grequest_complete, in another thread maybe, drops it if it comes second */
    uint8_t old = __atomic_fetch_or(&r->gstate, PML_GREQ_FREED, __ATOMIC_ACQ_REL);
    if (old & PML_GREQ_COMPLETE) {
        int frc = greq_release(r);
        rc = rc != MPI_SUCCESS ? rc : frc;
    }
    return rc;
}

int pml_greq_finish(struct pml_req *r)
{
    return greq_release(r);
}

int MPI_Grequest_start(MPI_Grequest_query_function *query_fn, MPI_Grequest_free_function *free_fn,
                       MPI_Grequest_cancel_function *cancel_fn, void *extra_state,
                       MPI_Request *request)
{
    READY(MPI_Wait);
    PML_GATE_ENTER(PML_FID_MPI_Grequest_start);
    uintptr_t v;
    struct pml_req *r = pml_rq_new(&v);
    pml_rq_fill(r, PML_RQ_GREQ, PML_MODE_STD, extra_state, 0, 0, MPI_UNDEFINED, MPI_UNDEFINED,
                PML_H(MPI_COMM_WORLD)); /* its errors go to MPI_COMM_WORLD's handler, as in both libraries */
    memset(&r->st, 0, sizeof r->st);
    r->gfn[0] = (void *)query_fn;
    r->gfn[1] = (void *)free_fn;
    r->gfn[2] = (void *)cancel_fn;
    r->gstate = 0;
    r->flags = PML_RQ_ACTIVE;
    __atomic_add_fetch(&pml_rq_ngreq, 1, __ATOMIC_RELAXED);
    *request = (MPI_Request)v;
    PML_GATE_LEAVE();
    return MPI_SUCCESS;
}

int MPI_Grequest_complete(MPI_Request request)
{
    READY(MPI_Wait);
    PML_GATE_ENTER(PML_FID_MPI_Grequest_complete);
    int rc = MPI_SUCCESS;
    struct pml_req *r = pml_rq_of(PML_H(request));
    if (!r || r->kind != PML_RQ_GREQ) {
        rc = MPI_ERR_REQUEST;
    } else {
        uint8_t old = __atomic_fetch_or(&r->gstate, PML_GREQ_COMPLETE, __ATOMIC_ACQ_REL);
        if (old & PML_GREQ_COMPLETE)
            rc = MPI_ERR_REQUEST; /* completed twice */
        else if (old & PML_GREQ_FREED)
            rc = greq_release(r); /* the program freed it already: nobody will wait on it */
    }
    if (rc == MPI_ERR_REQUEST)
        pml_L.MPI_Comm_call_errhandler((MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD)), rc);
    PML_GATE_LEAVE();
    return rc;
}

int PMPI_Grequest_start(MPI_Grequest_query_function *, MPI_Grequest_free_function *,
                        MPI_Grequest_cancel_function *, void *, MPI_Request *)
    __attribute__((alias("pml_own_MPI_Grequest_start")));
int PMPI_Grequest_complete(MPI_Request) __attribute__((alias("pml_own_MPI_Grequest_complete")));

#if MPI_VERSION >= 4 /* Open MPI 4.1 has no MPI_Isendrecv */
/* The pair: receive, then send from sbuf (a copy of the buffer for the replace form, freed
 * with the send's handle). */
static int post_pair(const void *sbuf, int scount, MPI_Datatype stype, int dest, int stag,
                     void *rbuf, int rcount, MPI_Datatype rtype, int source, int rtag, MPI_Comm comm,
                     MPI_Request *request, void *copy, struct pml_slot *t, uint32_t fid)
{
    uintptr_t vp, vr, vs;
    struct pml_req *p = pml_rq_new(&vp);
    struct pml_req *rr = pml_rq_new(&vr);
    int rc = pml_core_MPI_Irecv(rbuf, rcount, rtype, source, rtag, comm, rr);
    if (rc != MPI_SUCCESS) {
        pml_rq_drop(rr);
        pml_rq_drop(p);
        free(copy);
        return rc;
    }
    struct pml_req *sr = pml_rq_new(&vs);
    rc = pml_core_MPI_Isend(sbuf, scount, stype, dest, stag, comm, sr);
    if (rc != MPI_SUCCESS) {
        /* as MPI_Sendrecv: the receive is taken back */
        rr->flags |= PML_RQ_CANCEL;
        if (!(rr->flags & PML_RQ_DONE)) {
            MPI_Request real = (MPI_Request)rr->real;
            pml_L.MPI_Cancel(&real);
        }
        pml_rq_wait(rr, MPI_STATUS_IGNORE, t, fid);
        pml_rq_drop(rr);
        pml_rq_drop(sr);
        pml_rq_drop(p);
        free(copy);
        return rc;
    }
    if (copy)
        pml_vh_attach(vs, copy, NULL);
    pml_rq_fill(p, PML_RQ_PAIR, PML_MODE_STD, rbuf, rcount, PML_H(rtype), source, rtag, PML_H(comm));
    memset(&p->st, 0, sizeof p->st);
    p->half[0] = sr;
    p->half[1] = rr;
    p->flags = PML_RQ_ACTIVE;
    pml_rq_npairs++;
    *request = (MPI_Request)vp;
    return MPI_SUCCESS;
}

static int isendrecv(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype, int dest,
                     int sendtag, void *recvbuf, MPI_Count recvcount, MPI_Datatype recvtype,
                     int source, int recvtag, MPI_Comm comm, MPI_Request *request, uint32_t fid,
                     const char *name)
{
    PML_GATE_ENTER(fid);
    /* the request table counts elements in an int, as for the other _c forms */
    if (__builtin_expect(sendcount > INT_MAX || recvcount > INT_MAX, 0))
        pml_fatal("%s with more than INT_MAX elements is not supported under Revive", name);
    int rc = post_pair(sendbuf, (int)sendcount, sendtype, dest, sendtag, recvbuf, (int)recvcount,
                       recvtype, source, recvtag, comm, request, NULL, t_, fid);
    PML_GATE_LEAVE();
    return rc;
}

/* The message sent is a copy of the buffer (same layout, same datatype), as MPI_Sendrecv_replace
 * does; the reply is received into the buffer itself. */
static int isendrecv_replace(void *buf, MPI_Count count, MPI_Datatype datatype, int dest,
                             int sendtag, int source, int recvtag, MPI_Comm comm,
                             MPI_Request *request, uint32_t fid, const char *name)
{
    PML_GATE_ENTER(fid);
    if (__builtin_expect(count > INT_MAX, 0))
        pml_fatal("%s with more than INT_MAX elements is not supported under Revive", name);
    MPI_Aint lo, hi;
    pml_span_of((int)count, (MPI_Datatype)pml_v2r(PML_H(datatype)), &lo, &hi);
    char *copy = malloc(hi > lo ? (size_t)(hi - lo) : 1);
    if (!copy)
        pml_fatal("out of memory for %s of %ld bytes", name, (long)(hi - lo));
    if (hi > lo)
        memcpy(copy, (char *)buf + lo, (size_t)(hi - lo));
    int rc = post_pair(copy - lo, (int)count, datatype, dest, sendtag, buf, (int)count, datatype,
                       source, recvtag, comm, request, copy, t_, fid);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Isendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag,
                  void *recvbuf, int recvcount, MPI_Datatype recvtype, int source, int recvtag,
                  MPI_Comm comm, MPI_Request *request)
{
    READY(MPI_Irecv);
    return isendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype,
                     source, recvtag, comm, request, PML_FID_MPI_Isendrecv, "MPI_Isendrecv");
}

int MPI_Isendrecv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype, int dest,
                    int sendtag, void *recvbuf, MPI_Count recvcount, MPI_Datatype recvtype,
                    int source, int recvtag, MPI_Comm comm, MPI_Request *request)
{
    READY(MPI_Irecv);
    return isendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype,
                     source, recvtag, comm, request, PML_FID_MPI_Isendrecv_c, "MPI_Isendrecv_c");
}

int MPI_Isendrecv_replace(void *buf, int count, MPI_Datatype datatype, int dest, int sendtag,
                          int source, int recvtag, MPI_Comm comm, MPI_Request *request)
{
    READY(MPI_Irecv);
    return isendrecv_replace(buf, count, datatype, dest, sendtag, source, recvtag, comm, request,
                             PML_FID_MPI_Isendrecv_replace, "MPI_Isendrecv_replace");
}

int MPI_Isendrecv_replace_c(void *buf, MPI_Count count, MPI_Datatype datatype, int dest,
                            int sendtag, int source, int recvtag, MPI_Comm comm,
                            MPI_Request *request)
{
    READY(MPI_Irecv);
    return isendrecv_replace(buf, count, datatype, dest, sendtag, source, recvtag, comm, request,
                             PML_FID_MPI_Isendrecv_replace_c, "MPI_Isendrecv_replace_c");
}

int PMPI_Isendrecv(const void *, int, MPI_Datatype, int, int, void *, int, MPI_Datatype, int, int,
                   MPI_Comm, MPI_Request *) __attribute__((alias("pml_own_MPI_Isendrecv")));
int PMPI_Isendrecv_c(const void *, MPI_Count, MPI_Datatype, int, int, void *, MPI_Count,
                     MPI_Datatype, int, int, MPI_Comm, MPI_Request *)
    __attribute__((alias("pml_own_MPI_Isendrecv_c")));
int PMPI_Isendrecv_replace(void *, int, MPI_Datatype, int, int, int, int, MPI_Comm, MPI_Request *)
    __attribute__((alias("pml_own_MPI_Isendrecv_replace")));
int PMPI_Isendrecv_replace_c(void *, MPI_Count, MPI_Datatype, int, int, int, int, MPI_Comm,
                             MPI_Request *) __attribute__((alias("pml_own_MPI_Isendrecv_replace_c")));
#endif

/* Point-to-point calls written by hand: the ones that combine operations (Sendrecv,
 * Sendrecv_replace) and the receive side that must see drained messages before the network
 * (Probe, Iprobe, Mprobe, Improbe, Mrecv, Imrecv). The simple sends and receives and their
 * blocking forms are generated (gen_mpi.py, classes @isend, @irecv, @block). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <limits.h>
#include <string.h>

/* before MPI_Init (the table entry NAME of the lower half the call needs is still NULL): the
 * rank stopped naming the program's call itself, not NAME (MPI_Grequest_start was "MPI_Wait was
 * called before MPI_Init": diffrev46 R-L6) */
#define READY(name)                                                                           \
    if (__builtin_expect(pml_L.name == NULL, 0))                                              \
    return pml_not_ready(__func__)

int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag,
                 void *recvbuf, int recvcount, MPI_Datatype recvtype, int source, int recvtag,
                 MPI_Comm comm, MPI_Status *status)
{
    READY(MPI_Sendrecv);
    PML_GATE_ENTER(PML_FID_MPI_Sendrecv);
    struct pml_req rr, sr;
    rr.v = sr.v = 0;
    int rc = pml_core_MPI_Irecv(recvbuf, recvcount, recvtype, source, recvtag, comm, &rr);
    if (rc == MPI_SUCCESS) {
        rc = pml_core_MPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, &sr);
        if (rc != MPI_SUCCESS) {
            MPI_Request real = (MPI_Request)rr.real;
            rr.flags |= PML_RQ_CANCEL;
            if (!(rr.flags & PML_RQ_DONE))
                pml_L.MPI_Cancel(&real);
            pml_rq_wait(&rr, MPI_STATUS_IGNORE, t_, PML_FID_MPI_Sendrecv);
        } else {
            int rs = pml_rq_wait(&sr, MPI_STATUS_IGNORE, t_, PML_FID_MPI_Sendrecv);
            rc = pml_rq_wait_recv(&rr, status, t_, PML_FID_MPI_Sendrecv);
            if (rc == MPI_SUCCESS)
                rc = rs;
        }
    }
    PML_GATE_LEAVE();
    return rc;
}

/* The bytes count elements of type t cover, relative to the buffer: [lo, hi). */
void pml_span_of(int count, MPI_Datatype t, MPI_Aint *lo, MPI_Aint *hi)
{
    MPI_Aint lb, ext, tlb, text;
    pml_L.MPI_Type_get_extent(t, &lb, &ext);
    pml_L.MPI_Type_get_true_extent(t, &tlb, &text);
    (void)lb;
    if (count <= 0) {
        *lo = *hi = 0;
    } else if (ext >= 0) {
        *lo = tlb;
        *hi = (MPI_Aint)(count - 1) * ext + tlb + text;
    } else {
        *lo = (MPI_Aint)(count - 1) * ext + tlb;
        *hi = tlb + text;
    }
}

/* The message sent is a copy of the buffer (same layout, same datatype); the reply is received
 * into the buffer itself. */
int MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype datatype, int dest, int sendtag,
                         int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    READY(MPI_Sendrecv_replace);
    PML_GATE_ENTER(PML_FID_MPI_Sendrecv_replace);
    MPI_Aint lo, hi;
    pml_span_of(count, (MPI_Datatype)pml_v2r(PML_H(datatype)), &lo, &hi);
    char *copy = malloc(hi > lo ? (size_t)(hi - lo) : 1);
    if (!copy)
        pml_fatal("out of memory for MPI_Sendrecv_replace of %ld bytes", (long)(hi - lo));
    if (hi > lo)
        memcpy(copy, (char *)buf + lo, (size_t)(hi - lo));
    struct pml_req rr, sr;
    rr.v = sr.v = 0;
    int rc = pml_core_MPI_Irecv(buf, count, datatype, source, recvtag, comm, &rr);
    if (rc == MPI_SUCCESS) {
        rc = pml_core_MPI_Isend(copy - lo, count, datatype, dest, sendtag, comm, &sr);
        if (rc != MPI_SUCCESS) {
            MPI_Request real = (MPI_Request)rr.real;
            rr.flags |= PML_RQ_CANCEL;
            if (!(rr.flags & PML_RQ_DONE))
                pml_L.MPI_Cancel(&real);
            pml_rq_wait(&rr, MPI_STATUS_IGNORE, t_, PML_FID_MPI_Sendrecv_replace);
        } else {
            int rs = pml_rq_wait(&sr, MPI_STATUS_IGNORE, t_, PML_FID_MPI_Sendrecv_replace);
            rc = pml_rq_wait_recv(&rr, status, t_, PML_FID_MPI_Sendrecv_replace);
            if (rc == MPI_SUCCESS)
                rc = rs;
        }
    }
    free(copy);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status)
{
    READY(MPI_Iprobe);
    PML_GATE_ENTER(PML_FID_MPI_Iprobe);
    int rc = MPI_SUCCESS;
    struct pml_dmsg *m = pml_dbuf_n ? pml_dbuf_find(PML_H(comm), source, tag) : NULL;
    if (m) {
        *flag = 1;
        pml_dbuf_status(m, status);
    } else {
        rc = pml_L.MPI_Iprobe(source, tag, (MPI_Comm)pml_v2r(PML_H(comm)), flag, status);
        if (!*flag)
            pml_idle_test();
    }
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
    READY(MPI_Iprobe);
    PML_GATE_ENTER(PML_FID_MPI_Probe);
    t_->w |= PML_T_WAIT;
    pml_idle_start(t_);
    int rc;
    for (;;) {
        struct pml_dmsg *m = pml_dbuf_n ? pml_dbuf_find(PML_H(comm), source, tag) : NULL;
        if (m) {
            pml_dbuf_status(m, status);
            rc = MPI_SUCCESS;
            break;
        }
        int flag = 0;
        rc = pml_L.MPI_Iprobe(source, tag, (MPI_Comm)pml_v2r(PML_H(comm)), &flag, status);
        if (flag || rc != MPI_SUCCESS)
            break;
        if (__builtin_expect(pml_ck_flags & PML_CK_GATE, 0))
            pml_gate_park(t_, PML_FID_MPI_Probe);
        else
            pml_idle(t_);
    }
    PML_GATE_LEAVE();
    return rc;
}

/* A matched message: a drained one (claimed: only its handle reaches it now) or the lower
 * half's (received for the counts as soon as it is matched: nobody else can receive it). */
static int improbe_once(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message,
                        MPI_Status *status)
{
    struct pml_dmsg *m = pml_dbuf_n ? pml_dbuf_find(PML_H(comm), source, tag) : NULL;
    if (m) {
        pml_dbuf_status(m, status);
        m->claimed = 1;
        __atomic_sub_fetch(&pml_dbuf_n, 1, __ATOMIC_RELAXED);
        uintptr_t v = pml_new_raw(PML_MSG, PML_H(pml_v2r(PML_H(MPI_MESSAGE_NULL))));
        pml_vh_of(v)->info = m;
        *message = (MPI_Message)v;
        *flag = 1;
        return MPI_SUCCESS;
    }
    MPI_Message r = (MPI_Message)pml_v2r(PML_H(MPI_MESSAGE_NULL));
    MPI_Status ls, *sp = status == MPI_STATUS_IGNORE ? &ls : status;
    int rc = pml_L.MPI_Improbe(source, tag, (MPI_Comm)pml_v2r(PML_H(comm)), flag, &r, sp);
    if (rc == MPI_SUCCESS && *flag) {
        if (pml_real_is_predef(PML_H(r))) { /* MPI_MESSAGE_NO_PROC */
            *message = (MPI_Message)pml_r2v_predef(PML_H(r));
        } else {
            uintptr_t v = pml_new_raw(PML_MSG, PML_H(r));
            struct pml_msginfo *mi = malloc(sizeof *mi);
            if (!mi)
                pml_fatal("out of memory for a matched message");
            MPI_Count n = 0;
            pml_L.MPI_Get_elements_x(sp, (MPI_Datatype)pml_v2r(PML_H(MPI_BYTE)), &n);
            mi->vcomm = PML_H(comm);
            mi->source = sp->MPI_SOURCE;
            mi->tag = sp->MPI_TAG;
            mi->bytes = (uint64_t)n;
            pml_vh_attach(v, mi, NULL);
            *message = (MPI_Message)v;
            pml_count_add(&pml_received, 1);
        }
    }
    return rc;
}

int MPI_Improbe(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message, MPI_Status *status)
{
    READY(MPI_Improbe);
    PML_GATE_ENTER(PML_FID_MPI_Improbe);
    int rc = improbe_once(source, tag, comm, flag, message, status);
    if (!*flag)
        pml_idle_test();
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Mprobe(int source, int tag, MPI_Comm comm, MPI_Message *message, MPI_Status *status)
{
    READY(MPI_Improbe);
    PML_GATE_ENTER(PML_FID_MPI_Mprobe);
    t_->w |= PML_T_WAIT;
    pml_idle_start(t_);
    int rc, flag = 0;
    for (;;) {
        rc = improbe_once(source, tag, comm, &flag, message, status);
        if (flag || rc != MPI_SUCCESS)
            break;
        if (__builtin_expect(pml_ck_flags & PML_CK_GATE, 0))
            pml_gate_park(t_, PML_FID_MPI_Mprobe);
        else
            pml_idle(t_);
    }
    PML_GATE_LEAVE();
    return rc;
}

struct pml_dmsg *pml_msg_drained(uintptr_t vmsg)
{
    struct pml_vh *h = pml_vh_of(vmsg);
    return h && h->kind == PML_MSG ? (struct pml_dmsg *)h->info : NULL;
}

/* Receives a matched message into rq (zeroed, or a fresh table entry): served from the drain
 * buffer or posted in the lower half. The message handle is used up. */
static int imrecv_core(void *buf, int count, MPI_Datatype datatype, MPI_Message *message,
                       struct pml_req *rq)
{
    uintptr_t v = PML_H(*message);
    struct pml_dmsg *m = pml_msg_drained(v);
    if (m) {
        pml_rq_fill(rq, PML_RQ_MRECV, PML_MODE_STD, buf, count, PML_H(datatype), m->source, m->tag,
                    m->vcomm);
        rq->real = PML_H(pml_v2r(PML_H(MPI_REQUEST_NULL)));
        pml_vh_of(v)->info = NULL;
        pml_dbuf_remove(m);
        rq->st.MPI_ERROR = pml_dbuf_deliver(m, buf, count, PML_H(datatype), &rq->st);
        rq->flags |= PML_RQ_DONE | PML_RQ_ACTIVE | PML_RQ_NOCOUNT;
        pml_rq_ndone++;
        pml_vh_release(v);
        *message = MPI_MESSAGE_NULL;
        return MPI_SUCCESS;
    }
    MPI_Message r = (MPI_Message)pml_v2r(v);
    MPI_Request q = (MPI_Request)pml_v2r(PML_H(MPI_REQUEST_NULL));
    int rc = pml_L.MPI_Imrecv(buf, count, (MPI_Datatype)pml_v2r(PML_H(datatype)), &r, &q);
    if (rc != MPI_SUCCESS)
        return rc;
    pml_rq_fill(rq, PML_RQ_MRECV, PML_MODE_STD, buf, count, PML_H(datatype), MPI_ANY_SOURCE,
                MPI_ANY_TAG, 0);
    rq->real = PML_H(q);
    if (rq->v)
        pml_vh_of(rq->v)->real = rq->real;
    rq->flags |= PML_RQ_NOCOUNT; /* counted when it was matched */
    pml_rq_link(rq);
    *message = (MPI_Message)pml_req_done(v, PML_H(r));
    return rc;
}

int MPI_Mrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message, MPI_Status *status)
{
    READY(MPI_Imrecv);
    PML_GATE_ENTER(PML_FID_MPI_Mrecv);
    struct pml_req rq;
    memset(&rq, 0, sizeof rq);
    int rc = imrecv_core(buf, count, datatype, message, &rq);
    if (rc == MPI_SUCCESS)
        rc = pml_rq_wait(&rq, status, t_, PML_FID_MPI_Mrecv);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Imrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message, MPI_Request *request)
{
    READY(MPI_Imrecv);
    PML_GATE_ENTER(PML_FID_MPI_Imrecv);
    uintptr_t v;
    struct pml_req *rq = pml_rq_new(&v);
    int rc = imrecv_core(buf, count, datatype, message, rq);
    if (rc == MPI_SUCCESS)
        *request = (MPI_Request)v;
    else
        pml_rq_drop(rq);
    PML_GATE_LEAVE();
    return rc;
}

int PMPI_Sendrecv(const void *, int, MPI_Datatype, int, int, void *, int, MPI_Datatype, int, int,
                  MPI_Comm, MPI_Status *) __attribute__((alias("pml_own_MPI_Sendrecv")));
int PMPI_Sendrecv_replace(void *, int, MPI_Datatype, int, int, int, int, MPI_Comm, MPI_Status *)
    __attribute__((alias("pml_own_MPI_Sendrecv_replace")));
int PMPI_Iprobe(int, int, MPI_Comm, int *, MPI_Status *) __attribute__((alias("pml_own_MPI_Iprobe")));
int PMPI_Probe(int, int, MPI_Comm, MPI_Status *) __attribute__((alias("pml_own_MPI_Probe")));
int PMPI_Improbe(int, int, MPI_Comm, int *, MPI_Message *, MPI_Status *) __attribute__((alias("pml_own_MPI_Improbe")));
int PMPI_Mprobe(int, int, MPI_Comm, MPI_Message *, MPI_Status *) __attribute__((alias("pml_own_MPI_Mprobe")));
int PMPI_Mrecv(void *, int, MPI_Datatype, MPI_Message *, MPI_Status *) __attribute__((alias("pml_own_MPI_Mrecv")));
int PMPI_Imrecv(void *, int, MPI_Datatype, MPI_Message *, MPI_Request *) __attribute__((alias("pml_own_MPI_Imrecv")));

#if MPI_VERSION >= 4
/* The large-count forms of the calls above: the same calls once the counts fit in an int (the
 * request table and the drain buffer count elements in an int, as for the generated _c forms). */
static void fits(MPI_Count a, MPI_Count b, const char *name)
{
    if (__builtin_expect(a > INT_MAX || b > INT_MAX, 0))
        pml_fatal("%s with more than INT_MAX elements is not supported under Revive", name);
}

int MPI_Sendrecv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype, int dest,
                   int sendtag, void *recvbuf, MPI_Count recvcount, MPI_Datatype recvtype,
                   int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    fits(sendcount, recvcount, "MPI_Sendrecv_c");
    return MPI_Sendrecv(sendbuf, (int)sendcount, sendtype, dest, sendtag, recvbuf, (int)recvcount,
                        recvtype, source, recvtag, comm, status);
}

int MPI_Sendrecv_replace_c(void *buf, MPI_Count count, MPI_Datatype datatype, int dest,
                           int sendtag, int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    fits(count, 0, "MPI_Sendrecv_replace_c");
    return MPI_Sendrecv_replace(buf, (int)count, datatype, dest, sendtag, source, recvtag, comm,
                                status);
}

int MPI_Mrecv_c(void *buf, MPI_Count count, MPI_Datatype datatype, MPI_Message *message,
                MPI_Status *status)
{
    fits(count, 0, "MPI_Mrecv_c");
    return MPI_Mrecv(buf, (int)count, datatype, message, status);
}

int MPI_Imrecv_c(void *buf, MPI_Count count, MPI_Datatype datatype, MPI_Message *message,
                 MPI_Request *request)
{
    fits(count, 0, "MPI_Imrecv_c");
    return MPI_Imrecv(buf, (int)count, datatype, message, request);
}

int PMPI_Sendrecv_c(const void *, MPI_Count, MPI_Datatype, int, int, void *, MPI_Count,
                    MPI_Datatype, int, int, MPI_Comm, MPI_Status *) __attribute__((alias("pml_own_MPI_Sendrecv_c")));
int PMPI_Sendrecv_replace_c(void *, MPI_Count, MPI_Datatype, int, int, int, int, MPI_Comm,
                            MPI_Status *) __attribute__((alias("pml_own_MPI_Sendrecv_replace_c")));
int PMPI_Mrecv_c(void *, MPI_Count, MPI_Datatype, MPI_Message *, MPI_Status *)
    __attribute__((alias("pml_own_MPI_Mrecv_c")));
int PMPI_Imrecv_c(void *, MPI_Count, MPI_Datatype, MPI_Message *, MPI_Request *)
    __attribute__((alias("pml_own_MPI_Imrecv_c")));
#endif

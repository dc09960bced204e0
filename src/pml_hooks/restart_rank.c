/* The restart of a rank, the rank side's state on the fresh lower half (restart.h,
 * pml_rank_restart; called by pml_restart_complete after the replay and the checks, in the
 * agent thread with the gate closed):
 *   - the layer's private duplicates of MPI_COMM_WORLD and MPI_COMM_SELF (the drain's counts and
 *     barrier, delivery of drained messages) are made again;
 *   - every request of the request table (reqs.c) loses its dead real handle: receives that were
 *     pending at the checkpoint are posted again in their original posting order (so that they
 *     match incoming messages as they would have), persistent requests get their template back
 *     (and are started again when they were active receives), requests the drain completed keep
 *     their saved status.
 * After a drain no send, nonblocking collective or matched-message receive is pending: one that
 * is means the image was not taken at a drained point, and the restart stops with a message. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/restart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uintptr_t lower_null_request(void)
{
    return pml_v2r(PML_H(MPI_REQUEST_NULL));
}

static void set_real(struct pml_req *r, uintptr_t real)
{
    r->real = real;
    if (r->v && pml_vh_of(r->v))
        pml_vh_of(r->v)->real = real;
}

/* A persistent request's template on the fresh lower half. */
static int remake_template(struct pml_req *r)
{
    MPI_Request q = (MPI_Request)lower_null_request();
    MPI_Datatype t = (MPI_Datatype)pml_v2r(r->dtype);
    MPI_Comm c = (MPI_Comm)pml_v2r(r->vcomm);
    int rc;
    if (r->kind == PML_RQ_RECV)
        rc = pml_L.MPI_Recv_init(r->buf, r->count, t, r->peer, r->tag, c, &q);
    else if (r->mode == PML_MODE_BUF)
        rc = pml_L.MPI_Bsend_init(r->buf, r->count, t, r->peer, r->tag, c, &q);
    else if (r->mode == PML_MODE_SYNC)
        rc = pml_L.MPI_Ssend_init(r->buf, r->count, t, r->peer, r->tag, c, &q);
    else if (r->mode == PML_MODE_READY)
        rc = pml_L.MPI_Rsend_init(r->buf, r->count, t, r->peer, r->tag, c, &q);
    else
        rc = pml_L.MPI_Send_init(r->buf, r->count, t, r->peer, r->tag, c, &q);
    if (rc == MPI_SUCCESS)
        set_real(r, PML_H(q));
    return rc;
}

static const char *kind_name(int k)
{
    switch (k) {
    case PML_RQ_SEND: return "send";
    case PML_RQ_RECV: return "receive";
    case PML_RQ_NBC: return "nonblocking collective";
    case PML_RQ_PCOLL: return "persistent collective";
    case PML_RQ_MRECV: return "receive of a matched message";
    default: return "request";
    }
}

int pml_rank_restart(char *err, size_t errlen)
{
    /* the kernel forgot this process's membarrier registration (the restarter's process is a
     * new one), and the threads that call MPI have new ids: their slots follow them */
    pml_gate_init();
    /* the new launcher's setting, not the snapshot's */
    pml_idle_configure(pml_restart_getenv("REVIVE_MPI_YIELD_WHEN_IDLE"), "the restart's environment");
    for (int i = 0; i < PML_MAX_SLOTS; i++)
        if (pml_slots[i].used) {
            int now = pml_restart_new_tid(pml_slots[i].tid);
            if (now)
                pml_slots[i].tid = now;
            else if (!(pml_slots[i].w & (PML_T_IN | PML_T_PARK)))
                pml_slots[i].used = 0; /* its thread was the lower half's, or is gone */
        }
    /* the private communicators */
    MPI_Comm pw = MPI_COMM_NULL, ps = MPI_COMM_NULL;
    if (pml_L.MPI_Comm_dup((MPI_Comm)pml_lower_world(), &pw) != MPI_SUCCESS ||
        pml_L.MPI_Comm_dup((MPI_Comm)pml_v2r(PML_H(MPI_COMM_SELF)), &ps) != MPI_SUCCESS) {
        snprintf(err, errlen, "cannot make the layer's private communicators again");
        return -EIO;
    }
    MPI_Errhandler ret = (MPI_Errhandler)pml_v2r(PML_H(MPI_ERRORS_RETURN));
    pml_L.MPI_Comm_set_errhandler(pw, ret);
    pml_L.MPI_Comm_set_errhandler(ps, ret);
    pml_private_world = PML_H(pw);
    pml_private_self = PML_H(ps);

    /* every request first loses its dead real handle */
    uintptr_t null = lower_null_request();
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        if (h->kind != PML_REQ)
            continue;
        struct pml_req *r = &pml_rq_tab[i];
        if (r->v == pml_vh_handle(i) && r->kind == PML_RQ_PCOLL)
            r->real = h->real; /* a persistent collective: made again by the replay */
        else if (r->v == pml_vh_handle(i))
            set_real(r, null);
        else
            h->real = null; /* a handle only translated (Fortran): no entry */
    }
    for (struct pml_req *r = pml_rq_head; r; r = r->next)
        if (r->kind != PML_RQ_PCOLL)
            set_real(r, null);

    /* the pending list, in posting order: receives posted again, persistent ones started */
    unsigned reposted = 0, restarted = 0, templates = 0, pcolls = 0;
    for (struct pml_req *r = pml_rq_head; r; r = r->next) {
        if (r->flags & PML_RQ_DONE) {
            /* completed by the drain: its status waits for the application; a persistent one
             * needs its template for the next MPI_Start */
            int rc = (r->flags & PML_RQ_PERSIST) ? remake_template(r) : MPI_SUCCESS;
            if (rc != MPI_SUCCESS) {
                snprintf(err, errlen, "cannot make a persistent request (tag %d, peer %d) again"
                         " (error %d)", r->tag, r->peer, rc);
                return -EIO;
            }
            templates += (r->flags & PML_RQ_PERSIST) != 0;
            continue;
        }
        if (r->kind != PML_RQ_RECV) {
            snprintf(err, errlen, "a %s (tag %d, peer %d) was still pending at the checkpoint:"
                     " the image was not taken after a drain", kind_name(r->kind), r->tag, r->peer);
            return -EINVAL;
        }
        int rc;
        if (r->flags & PML_RQ_PERSIST) {
            rc = remake_template(r);
            if (rc == MPI_SUCCESS) {
                MPI_Request q = (MPI_Request)r->real;
                rc = pml_L.MPI_Start(&q);
                set_real(r, PML_H(q));
                templates++;
                restarted++;
            }
        } else {
            MPI_Request q = (MPI_Request)null;
            rc = pml_L.MPI_Irecv(r->buf, r->count, (MPI_Datatype)pml_v2r(r->dtype), r->peer, r->tag,
                                 (MPI_Comm)pml_v2r(r->vcomm), &q);
            if (rc == MPI_SUCCESS)
                set_real(r, PML_H(q));
            reposted++;
        }
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "cannot post again a receive (tag %d, source %d) pending at the"
                     " checkpoint (error %d)", r->tag, r->peer, rc);
            return -EIO;
        }
    }
    /* persistent requests that were not active: their templates */
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_req *r = &pml_rq_tab[i];
        if (pml_vh_tab[i].kind != PML_REQ || r->v != pml_vh_handle(i) || !(r->flags & PML_RQ_PERSIST) ||
            (r->flags & PML_RQ_PENDING))
            continue;
        if (r->kind == PML_RQ_PCOLL) {
            /* the replay made it again (its record entry is a live handle's) */
            if (r->real == null) {
                snprintf(err, errlen, "a persistent collective request #%u did not come back from"
                         " the replay", i);
                return -EINVAL;
            }
            pcolls++;
            continue;
        }
        int rc = remake_template(r);
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "cannot make a persistent request (tag %d, peer %d) again (error %d)",
                     r->tag, r->peer, rc);
            return -EIO;
        }
        templates++;
    }
    revive_log_info("rank %d: %u receives posted again, %u persistent requests made again (%u of"
                    " them started), %u persistent collectives", pml_world_rank, reposted, templates,
                    restarted, pcolls);
    return 0;
}

/* Persistent collectives (MPI-4: MPI_Allreduce_init ... MPI_Neighbor_alltoallw_init and their
 * _c forms). The init call is generated (gen_mpi.py, class @pcoll): counted on its
 * communicator's clock like the nonblocking collective it plans, its request a persistent entry
 * of the table (PML_RQ_PCOLL, inactive), its call recorded, so that a restart makes it again in
 * the fresh lower half (replay.c: a request made by a @pcoll entry is a live handle). Each
 * MPI_Start of it is a collective operation (MPI-4): counted on the clock as the nonblocking
 * collective it starts, the request then pending like one (the drain completes it: every
 * member started it before the snapshot's targets). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <string.h>

uint32_t pml_rq_npcoll;

uintptr_t pml_rq_wrap_pcoll(uintptr_t real, uintptr_t vcomm)
{
    uintptr_t v;
    struct pml_req *r = pml_rq_new(&v);
    pml_rq_set_real(r, real);
    pml_rq_fill(r, PML_RQ_PCOLL, PML_MODE_STD, NULL, 0, 0, -1, 0, vcomm);
    r->flags = PML_RQ_PERSIST;
    pml_rq_npcoll++;
    return v;
}

/* MPICH 4.0.2's MPI_Testall returns MPI_ERR_IN_STATUS for a set that holds an active persistent
 * collective (every status saying no error; natively its MPI_Waitall does not, but the layer's
 * completion loops test): the completion calls over arrays test such a request alone here and
 * give the lower half's array calls a null request in its place (reqs.c). */
int pml_pcoll_progress(struct pml_req *r)
{
    if (r->flags & PML_RQ_DONE)
        return 1;
    MPI_Status ls;
    memset(&ls, 0, sizeof ls);
    int flag = 0;
    MPI_Request real = (MPI_Request)r->real;
    int rc = pml_L.MPI_Test(&real, &flag, &ls);
    if (!flag && rc == MPI_SUCCESS)
        return 0;
    if (rc != MPI_SUCCESS)
        ls.MPI_ERROR = rc;
    pml_rq_set_real(r, PML_H(real));
    pml_rq_completed(r, &ls);
    r->st = ls;
    r->flags |= PML_RQ_DONE;
    pml_rq_ndone++;
    return 1;
}

int pml_pcoll_start(struct pml_req *r, uint32_t fid)
{
    /* its communicator's clock (kept when the program freed the communicator meanwhile) */
    struct pml_comm *c = r->comm && !pml_comm_single(r->comm) ? r->comm : NULL;
    PML_COLL_ENTER_C(fid, c, 0);
    MPI_Request real = (MPI_Request)r->real;
    int rc = pml_L.MPI_Start(&real);
    if (rc == MPI_SUCCESS) {
        pml_rq_set_real(r, PML_H(real));
        pml_rq_link(r);
    }
    PML_COLL_LEAVE(0);
    return rc;
}

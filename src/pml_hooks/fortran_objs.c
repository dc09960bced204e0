/* Open MPI's Fortran bindings that reach into the C object behind a handle, replaced by the
 * layer. Most of libmpi_mpifh converts with PMPI_X_f2c/c2f (fortran_handles.c), but some
 * binding functions read or write a field of the object instead; with Revive the C handle is a
 * virtual handle (a struct pml_vh, 40 bytes, in pml_vh_tab), so such an access lands in other
 * table entries. Found by disassembling the bindings (tests/mpi/upper_paths.py --fields lists
 * every access past an object's header through a register and fails on one not covered here):
 *   requests   MPI_WAIT, TEST, WAITANY, TESTANY, WAITALL, TESTALL, WAITSOME, TESTSOME read the
 *              Fortran index out of the request (req_f_to_c_index) after completion: a
 *              persistent request became MPI_REQUEST_NULL in the program after its first
 *              completion (campaign-failures.md entry 1)
 *   groups     MPI_GROUP_UNION, INTERSECTION, DIFFERENCE, INCL, EXCL, RANGE_INCL, RANGE_EXCL read
 *              the new group's index (grp_f_to_c_index)
 *   comms      MPI_ALLTOALLW, MPI_IALLTOALLW (and MPIX_ALLTOALLW_INIT) read the communicator's
 *              flags and its group's size to know how many datatypes to convert
 *   ops        MPI_OP_CREATE sets a flag in the new op (o_flags: a Fortran function, called with
 *              the datatype as a Fortran integer): the write went into another table entry,
 *              and the program's function got a meaningless datatype
 * The replacements do what the binding does with the layer's C entry points and conversions,
 * under every name of the binding (fortran_ompi.h); the C path is untouched. What is left
 * (error paths reading the predefined objects, MPI_REQUEST_FREE reading MPI_REQUEST_NULL's
 * index) is listed with its reason by upper_paths.py. MPI_GREQUEST_START marks its new request
 * as Fortran in the object: replaced too (below). MPICH's handles are integers: nothing to do there. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"

#ifdef PML_OMPI
#include "pml_hooks/fortran_ompi.h"

/* The Fortran sentinels (common blocks of mpif.h, defined by libmpi and the program): the
 * bindings compare addresses with them, and so do the replacements. */
extern F mpi_fortran_status_ignore_[] __attribute__((weak));
extern F mpi_fortran_statuses_ignore_[] __attribute__((weak));
extern F mpi_fortran_in_place_[] __attribute__((weak));
extern F mpi_fortran_bottom_[] __attribute__((weak));

#define FSTATUS ((int)(sizeof(MPI_Status) / sizeof(F))) /* MPI_STATUS_SIZE */

static int status_ignored(const F *s)
{
    return s == mpi_fortran_status_ignore_;
}

static int statuses_ignored(const F *s)
{
    return s == mpi_fortran_statuses_ignore_;
}

/* ierr is optional when libmpi_usempif08 calls (the bindings check it too). */
static void set_ierr(F *ierr, int rc)
{
    if (ierr)
        *ierr = rc;
}

static void *f_buf(void *b)
{
    return b == (void *)mpi_fortran_bottom_ ? MPI_BOTTOM : b;
}

/* An array of count C handles: on the stack when small, else the heap (as the bindings do).
 * NULL (and the program's error handler called, as the binding would) when memory is short. */
static void *handles(void *stack, size_t stack_bytes, int count, size_t each, F *ierr)
{
    size_t need = (size_t)(count > 0 ? count : 0) * each;
    if (need <= stack_bytes)
        return stack;
    void *p = malloc(need);
    if (!p) {
        MPI_Comm_call_errhandler(MPI_COMM_WORLD, MPI_ERR_NO_MEM);
        set_ierr(ierr, MPI_ERR_NO_MEM);
    }
    return p;
}

static void handles_free(void *p, void *stack)
{
    if (p != stack)
        free(p);
}

/* ---- requests: the Fortran index of what the completion call left in the C handle -------- */
void ompi_wait_f(F *request, F *status, F *ierr);
void ompi_wait_f(F *request, F *status, F *ierr)
{
    MPI_Request c = MPI_Request_f2c(*request);
    MPI_Status cs;
    int rc = MPI_Wait(&c, &cs);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS) {
        *request = MPI_Request_c2f(c);
        if (!status_ignored(status))
            MPI_Status_c2f(&cs, status);
    }
}
OMPI_F_NAMES(ompi_wait_f, wait, WAIT, Wait)

void ompi_test_f(F *request, F *flag, F *status, F *ierr);
void ompi_test_f(F *request, F *flag, F *status, F *ierr)
{
    MPI_Request c = MPI_Request_f2c(*request);
    MPI_Status cs;
    int rc = MPI_Test(&c, flag, &cs); /* a Fortran LOGICAL is an int, .TRUE. is 1 */
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS && *flag) {
        *request = MPI_Request_c2f(c);
        if (!status_ignored(status))
            MPI_Status_c2f(&cs, status);
    }
}
OMPI_F_NAMES(ompi_test_f, test, TEST, Test)

/* WAITANY and TESTANY: the completed request's index, counted from 1 in Fortran. */
static void any_done(int rc, F *requests, MPI_Request *c, F *index, MPI_Status *cs, F *status)
{
    if (rc != MPI_SUCCESS)
        return;
    if (*index != MPI_UNDEFINED) {
        requests[*index] = MPI_Request_c2f(c[*index]);
        ++*index;
    }
    if (!status_ignored(status))
        MPI_Status_c2f(cs, status);
}

void ompi_waitany_f(F *count, F *requests, F *index, F *status, F *ierr);
void ompi_waitany_f(F *count, F *requests, F *index, F *status, F *ierr)
{
    MPI_Request s[PML_STACK_HANDLES], *c = handles(s, sizeof s, *count, sizeof *c, ierr);
    if (!c)
        return;
    for (int i = 0; i < *count; i++)
        c[i] = MPI_Request_f2c(requests[i]);
    MPI_Status cs;
    int rc = MPI_Waitany(*count, c, index, &cs);
    set_ierr(ierr, rc);
    any_done(rc, requests, c, index, &cs, status);
    handles_free(c, s);
}
OMPI_F_NAMES(ompi_waitany_f, waitany, WAITANY, Waitany)

void ompi_testany_f(F *count, F *requests, F *index, F *flag, F *status, F *ierr);
void ompi_testany_f(F *count, F *requests, F *index, F *flag, F *status, F *ierr)
{
    MPI_Request s[PML_STACK_HANDLES], *c = handles(s, sizeof s, *count, sizeof *c, ierr);
    if (!c)
        return;
    for (int i = 0; i < *count; i++)
        c[i] = MPI_Request_f2c(requests[i]);
    MPI_Status cs;
    int rc = MPI_Testany(*count, c, index, flag, &cs);
    set_ierr(ierr, rc);
    any_done(rc, requests, c, index, &cs, status);
    handles_free(c, s);
}
OMPI_F_NAMES(ompi_testany_f, testany, TESTANY, Testany)

/* WAITALL and TESTALL (when it completed them all): every request and status. */
static void all_done(int n, F *requests, MPI_Request *c, MPI_Status *cs, F *statuses)
{
    for (int i = 0; i < n; i++) {
        requests[i] = MPI_Request_c2f(c[i]);
        if (cs && !status_ignored(&statuses[i * FSTATUS]))
            MPI_Status_c2f(&cs[i], &statuses[i * FSTATUS]);
    }
}

/* The C requests, then (unless the program ignores them) as many C statuses, in one array. */
struct reqstat {
    MPI_Request r;
    MPI_Status s;
};

/* The C requests of the N Fortran ones in STACK (stack_bytes) or the heap (handles), followed
 * by room for N C statuses unless the program ignores them (*cs; else NULL). NULL, with *ierr
 * set, when out of memory. */
static MPI_Request *c_requests(struct reqstat *stack, size_t stack_bytes, int n, const F *requests,
                               const F *statuses, MPI_Status **cs, F *ierr)
{
    MPI_Request *c = handles(stack, stack_bytes, n, sizeof *stack, ierr);
    if (!c)
        return NULL;
    *cs = statuses_ignored(statuses) ? NULL : (MPI_Status *)(c + (n > 0 ? n : 0));
    for (int i = 0; i < n; i++)
        c[i] = MPI_Request_f2c(requests[i]);
    return c;
}

void ompi_waitall_f(F *count, F *requests, F *statuses, F *ierr);
void ompi_waitall_f(F *count, F *requests, F *statuses, F *ierr)
{
    struct reqstat s[PML_STACK_HANDLES];
    int n = *count;
    MPI_Status *cs;
    MPI_Request *c = c_requests(s, sizeof s, n, requests, statuses, &cs, ierr);
    if (!c)
        return;
    int rc = MPI_Waitall(n, c, cs ? cs : MPI_STATUSES_IGNORE);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS)
        all_done(n, requests, c, cs, statuses);
    handles_free(c, s);
}
OMPI_F_NAMES(ompi_waitall_f, waitall, WAITALL, Waitall)

void ompi_testall_f(F *count, F *requests, F *flag, F *statuses, F *ierr);
void ompi_testall_f(F *count, F *requests, F *flag, F *statuses, F *ierr)
{
    struct reqstat s[PML_STACK_HANDLES];
    int n = *count;
    MPI_Status *cs;
    MPI_Request *c = c_requests(s, sizeof s, n, requests, statuses, &cs, ierr);
    if (!c)
        return;
    int rc = MPI_Testall(n, c, flag, cs ? cs : MPI_STATUSES_IGNORE);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS && *flag)
        all_done(n, requests, c, cs, statuses);
    handles_free(c, s);
}
OMPI_F_NAMES(ompi_testall_f, testall, TESTALL, Testall)

/* WAITSOME and TESTSOME: the completed ones, indices counted from 1. */
static void some_done(F *requests, MPI_Request *c, F *outcount, F *indices, MPI_Status *cs,
                      F *statuses)
{
    if (*outcount == MPI_UNDEFINED)
        return;
    for (int i = 0; i < *outcount; i++) {
        requests[indices[i]] = MPI_Request_c2f(c[indices[i]]);
        ++indices[i];
        if (cs && !status_ignored(&statuses[i * FSTATUS]))
            MPI_Status_c2f(&cs[i], &statuses[i * FSTATUS]);
    }
}

#define OMPI_SOME(x, X, Mx)                                                                    \
    void ompi_##x##_f(F *incount, F *requests, F *outcount, F *indices, F *statuses, F *ierr); \
    void ompi_##x##_f(F *incount, F *requests, F *outcount, F *indices, F *statuses, F *ierr)  \
    {                                                                                          \
        struct reqstat s[PML_STACK_HANDLES];                                                   \
        int n = *incount;                                                                      \
        MPI_Status *cs;                                                                        \
        MPI_Request *c = c_requests(s, sizeof s, n, requests, statuses, &cs, ierr);            \
        if (!c)                                                                                \
            return;                                                                            \
        int rc = MPI_##Mx(n, c, outcount, indices, cs ? cs : MPI_STATUSES_IGNORE);             \
        set_ierr(ierr, rc);                                                                    \
        if (rc == MPI_SUCCESS)                                                                 \
            some_done(requests, c, outcount, indices, cs, statuses);                           \
        handles_free(c, s);                                                                    \
    }                                                                                          \
    OMPI_F_NAMES(ompi_##x##_f, x, X, Mx)
OMPI_SOME(waitsome, WAITSOME, Waitsome)
OMPI_SOME(testsome, TESTSOME, Testsome)

/* ---- groups: the new group's Fortran index ----------------------------------------------- */
static void new_group(int rc, const MPI_Group *g, F *newgroup, F *ierr)
{
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS)
        *newgroup = MPI_Group_c2f(*g);
}

#define OMPI_GROUP2(x, X, Mx)                                                                  \
    void ompi_group_##x##_f(F *g1, F *g2, F *newgroup, F *ierr);                               \
    void ompi_group_##x##_f(F *g1, F *g2, F *newgroup, F *ierr)                                \
    {                                                                                          \
        MPI_Group g;                                                                           \
        int rc = MPI_Group_##x(MPI_Group_f2c(*g1), MPI_Group_f2c(*g2), &g);                    \
        new_group(rc, &g, newgroup, ierr);                                                     \
    }                                                                                          \
    OMPI_F_NAMES(ompi_group_##x##_f, group_##x, GROUP_##X, Group_##x)
OMPI_GROUP2(union, UNION, Union)
OMPI_GROUP2(intersection, INTERSECTION, Intersection)
OMPI_GROUP2(difference, DIFFERENCE, Difference)

#define OMPI_GROUPN(x, X, RANKS)                                                                  \
    void ompi_group_##x##_f(F *group, F *n, RANKS, F *newgroup, F *ierr);                   \
    void ompi_group_##x##_f(F *group, F *n, RANKS, F *newgroup, F *ierr)                    \
    {                                                                                          \
        MPI_Group g;                                                                           \
        int rc = MPI_Group_##x(MPI_Group_f2c(*group), *n, ranks, &g);                          \
        new_group(rc, &g, newgroup, ierr);                                                     \
    }                                                                                          \
    OMPI_F_NAMES(ompi_group_##x##_f, group_##x, GROUP_##X, Group_##x)
OMPI_GROUPN(incl, INCL, F ranks[])
OMPI_GROUPN(excl, EXCL, F ranks[])
OMPI_GROUPN(range_incl, RANGE_INCL, F ranks[][3])
OMPI_GROUPN(range_excl, RANGE_EXCL, F ranks[][3])

/* ---- MPI_ALLTOALLW, MPI_IALLTOALLW: one datatype per rank of the (remote) group ------------ */
static int w_count(MPI_Comm c)
{
    int inter = 0, n = 0;
    MPI_Comm_test_inter(c, &inter);
    if (inter)
        MPI_Comm_remote_size(c, &n);
    else
        MPI_Comm_size(c, &n);
    return n;
}

/* Converts the datatypes (the send ones unless sending in place) into one array of 2n. */
static MPI_Datatype *w_types(MPI_Datatype *stack, size_t stack_bytes, int n, int inplace,
                             const F *st, const F *rt, F *ierr)
{
    MPI_Datatype *t = handles(stack, stack_bytes, 2 * n, sizeof *t, ierr);
    if (!t)
        return NULL;
    for (int i = 0; i < n; i++) {
        t[i] = inplace ? MPI_DATATYPE_NULL : MPI_Type_f2c(st[i]);
        t[n + i] = MPI_Type_f2c(rt[i]);
    }
    return t;
}

void ompi_alltoallw_f(char *sendbuf, F *sendcounts, F *sdispls, F *sendtypes, char *recvbuf,
                      F *recvcounts, F *rdispls, F *recvtypes, F *comm, F *ierr);
void ompi_alltoallw_f(char *sendbuf, F *sendcounts, F *sdispls, F *sendtypes, char *recvbuf,
                      F *recvcounts, F *rdispls, F *recvtypes, F *comm, F *ierr)
{
    MPI_Comm c = MPI_Comm_f2c(*comm);
    int n = w_count(c), inplace = sendbuf == (char *)mpi_fortran_in_place_;
    MPI_Datatype s[2 * PML_STACK_HANDLES];
    MPI_Datatype *t = w_types(s, sizeof s, n, inplace, sendtypes, recvtypes, ierr);
    if (!t)
        return;
    set_ierr(ierr, MPI_Alltoallw(inplace ? MPI_IN_PLACE : f_buf(sendbuf), sendcounts, sdispls,
                                 inplace ? NULL : t, f_buf(recvbuf), recvcounts, rdispls, t + n, c));
    handles_free(t, s);
}
OMPI_F_NAMES(ompi_alltoallw_f, alltoallw, ALLTOALLW, Alltoallw)

void ompi_ialltoallw_f(char *sendbuf, F *sendcounts, F *sdispls, F *sendtypes, char *recvbuf,
                       F *recvcounts, F *rdispls, F *recvtypes, F *comm, F *request, F *ierr);
void ompi_ialltoallw_f(char *sendbuf, F *sendcounts, F *sdispls, F *sendtypes, char *recvbuf,
                       F *recvcounts, F *rdispls, F *recvtypes, F *comm, F *request, F *ierr)
{
    MPI_Comm c = MPI_Comm_f2c(*comm);
    int n = w_count(c), inplace = sendbuf == (char *)mpi_fortran_in_place_;
    MPI_Datatype s[2 * PML_STACK_HANDLES];
    MPI_Datatype *t = w_types(s, sizeof s, n, inplace, sendtypes, recvtypes, ierr);
    if (!t)
        return;
    MPI_Request r;
    /* the layer keeps its own copy of the datatypes until the request completes */
    int rc = MPI_Ialltoallw(inplace ? MPI_IN_PLACE : f_buf(sendbuf), sendcounts, sdispls,
                            inplace ? NULL : t, f_buf(recvbuf), recvcounts, rdispls, t + n, c, &r);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS)
        *request = MPI_Request_c2f(r);
    handles_free(t, s);
}
OMPI_F_NAMES(ompi_ialltoallw_f, ialltoallw, IALLTOALLW, Ialltoallw)

/* Persistent collectives are not supported yet (their C entry points stop naming the call);
 * this binding would read the communicator before getting there. */
void ompix_alltoallw_init_f(void);
void ompix_alltoallw_init_f(void)
{
    pml_unsupported_from("MPIX_ALLTOALLW_INIT", NULL);
}
OMPIX_F_NAMES(ompix_alltoallw_init_f, alltoallw_init, ALLTOALLW_INIT, Alltoallw_init)

/* ---- MPI_OP_CREATE: the program's function is a Fortran one ---------------------------------
 * The binding marks the new op as Fortran (a flag in the object) so that the library passes the
 * datatype as a Fortran integer. The layer's C entry point makes the op (virtual handle, record)
 * with a trampoline that does that conversion instead. */
typedef void fop(void *in, void *inout, F *len, F *type);
/* the thunks' target (thunk.c): the program's Fortran function with the Fortran datatype */
static void fop_target(void *in, void *inout, int *len, MPI_Datatype *dt, const struct pml_thunk *t)
{
    F ft = MPI_Type_c2f(*dt);
    ((fop *)t->ctx)(in, inout, len, &ft);
}
static struct pml_thunk_set fop_thunks;

void ompi_op_create_f(fop *fn, F *commute, F *op, F *ierr);
void ompi_op_create_f(fop *fn, F *commute, F *op, F *ierr)
{
    MPI_Op o;
    int rc = MPI_Op_create((MPI_User_function *)pml_thunk_for(&fop_thunks, (void *)fop_target, (void *)fn),
                           *commute, &o);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS)
        *op = MPI_Op_c2f(o);
}
OMPI_F_NAMES(ompi_op_create_f, op_create, OP_CREATE, Op_create)

/* ---- MPI_GREQUEST_START: the program's functions are Fortran ones ---------------------------
 * The binding marks the new request as Fortran (a field of the object) so that the library
 * calls them with Fortran arguments; the layer's generalized request is its own (pairs.c) and
 * is marked there, called as Open MPI would (extra state as passed here, a status of
 * MPI_STATUS_SIZE integers that is the C status, LOGICAL complete, the error code last). */
void ompi_grequest_start_f(void *query_fn, void *free_fn, void *cancel_fn, MPI_Aint *extra_state,
                           F *request, F *ierr);
void ompi_grequest_start_f(void *query_fn, void *free_fn, void *cancel_fn, MPI_Aint *extra_state,
                           F *request, F *ierr)
{
    MPI_Request c;
    int rc = MPI_Grequest_start((MPI_Grequest_query_function *)query_fn,
                                (MPI_Grequest_free_function *)free_fn,
                                (MPI_Grequest_cancel_function *)cancel_fn, extra_state, &c);
    set_ierr(ierr, rc);
    if (rc == MPI_SUCCESS) {
        pml_greq_set_f77(PML_H(c));
        *request = MPI_Request_c2f(c);
    }
}
OMPI_F_NAMES(ompi_grequest_start_f, grequest_start, GREQUEST_START, Grequest_start)
#endif /* PML_OMPI */

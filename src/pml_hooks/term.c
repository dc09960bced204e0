/* ckpt-mpirun --term: what the lower half holds for the application is given back before the
 * agent finalizes it (rank_ops.c, term_finalize), so that MPI_Finalize ends cleanly whatever the
 * program held at the snapshot. The snapshot is committed already; nothing here changes it.
 *
 * Measured (issue 7 review, finding C): MPICH 4.0 over UCX registers a window's memory with UCX
 * (MPI_Win_create, MPI_Win_allocate...); MPI_Finalize with such a window still there ends in
 * ucp_cleanup's assertion "rcache.c:409 region->refcount == 0" on every rank, and Hydra
 * prints BAD TERMINATION. A program that frees its objects before MPI_Finalize never meets this;
 * a program stopped by --term at its snapshot still holds them.
 *
 * Given back, in this order:
 *   - receives still posted (the application's, pending at the snapshot): cancelled (MPICH over
 *     UCX prints a warning on stdout for each request left at MPI_Finalize);
 *   - persistent requests (templates, and active ones once cancelled): freed;
 *   - windows: their locks released (lock_all, shared locks: exclusive locks and post/start
 *     epochs are never open at a safe point), an open fence epoch closed with a last fence
 *     (MPI_MODE_NOSUCCEED), then freed; then the layer's meeting places of shared windows;
 *   - files: closed, except one opened with MPI_MODE_DELETE_ON_CLOSE (closing it would delete
 *     it; MPICH's MPI_Finalize leaves it be, Open MPI's closes and so deletes it: the snapshot
 *     holds its bytes either way, and a restart writes it back: objs_ckpt.c keep_scratch): its
 *     view made one of bytes, so that the library lets go of the view's types;
 *   - derived datatypes the program still held: freed, last (a file's view holds its own): MPICH
 *     4.0 printed "[WARNING] yaksa: N leaked handle pool objects" on every rank of a job ended by
 *     --term (review19 LOW-1), which users take for a leak of Revive's.
 * MPICH 4.0 (Debian's, over UCX) never gives back the datatype reference of a receive cancelled
 * or freed before it matched: natively too, a program that posts MPI_Irecv with a derived type,
 * cancels it, waits and frees the type gets the same warning from MPI_Finalize (measured:
 * /work/lead45/yaksa/cancel.c, 2 of 2 ranks; leaving the receive pending or MPI_Request_free
 * adds UCX's "was not returned to mpool ucp_requests"). A --term that finds such a receive
 * pending (a rank waiting in MPI_Sendrecv of a derived type, or holding one posted ahead: CI of
 * b7061c9d, term_objs-mpich) cancels it, so the type outlives its last free. That one line is
 * the library's report of the cancellation Revive made, not of the program: pml_term_finalize
 * keeps it off stderr, and only then (MPICH, a receive of a derived type cancelled here).
 * Windows and files are collective over their group: every rank goes through its objects in the
 * order of their clock ids, the same on every member (as pml_objs_settle), objects of one rank
 * (no clock) first. MPI_Alloc_mem memory is the application's (win.c): nothing to give back.
 * A failure is said and the rest goes on: MPI_Finalize comes anyway. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/fd_guard.h"
#include "common/log.h"

/* receives of a derived datatype cancelled by release_requests (see the comment above), and the
 * derived datatypes their types are made of (each one of yaksa's handle pool objects, which
 * MPICH keeps for good: a struct of a vector 2, as natively, /work/lead45/yaksa/cancel.c) */
static int cancelled_derived;
static long leak_bound;

/* The derived datatypes of t's construction, t among them (MPI_Type_get_contents, 8 levels at
 * most); a type whose contents do not fit the arrays counts for itself alone. On the stack: the
 * application's threads are parked and may hold its malloc lock. A bound too low only lets
 * yaksa's line through. */
static long derived_in(MPI_Datatype t, int depth)
{
    int ni = 0, na = 0, nd = 0, comb = 0, large = 0;
    if (depth > 8 || pml_type_library_owned(PML_H(t)))
        return 0;
    /* a large-count type's contents only come through MPI_Type_get_contents_c: itself alone */
    if (pml_type_envelope(PML_H(t), &ni, &na, &nd, &comb, &large) != MPI_SUCCESS || large ||
        nd <= 0 || ni > 256 || na > 256 || nd > 16)
        return 1;
    int is[256];
    MPI_Aint as[256];
    MPI_Datatype ds[16];
    long n = 1;
    if (pml_L.MPI_Type_get_contents(t, ni, na, nd, is, as, ds) != MPI_SUCCESS)
        return n;
    for (int i = 0; i < nd; i++) {
        n += derived_in(ds[i], depth + 1);
        if (!pml_type_library_owned(PML_H(ds[i])))
            pml_L.MPI_Type_free(&ds[i]); /* get_contents' new handle */
    }
    return n;
}

static void said(int rc, const char *what)
{
    if (rc != MPI_SUCCESS)
        revive_log_warn("rank %d: --term: %s failed (MPI error %d); MPI_Finalize follows", pml_world_rank,
                        what, rc);
}

static void release_requests(void)
{
    for (struct pml_req *r = pml_rq_head; r; r = r->next) {
        if (!r->real || r->kind != PML_RQ_RECV || (r->flags & PML_RQ_DONE))
            continue;
        MPI_Request q = (MPI_Request)r->real;
        if (pml_L.MPI_Cancel(&q) == MPI_SUCCESS) {
            pml_L.MPI_Wait(&q, MPI_STATUS_IGNORE);
            if (pml_vh_of(r->dtype)) { /* not predefined: one of the program's types */
                cancelled_derived++;
                leak_bound += derived_in((MPI_Datatype)pml_v2r(r->dtype), 0);
            }
        }
    }
    /* persistent requests: the table holds every request the application has */
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_req *r = &pml_rq_tab[i];
        if (pml_vh_tab[i].kind != PML_REQ || r->v != pml_vh_handle(i) || !(r->flags & PML_RQ_PERSIST) ||
            !r->real)
            continue;
        MPI_Request q = (MPI_Request)r->real;
        said(pml_L.MPI_Request_free(&q), "MPI_Request_free of a persistent request");
    }
}

static void release_win(struct pml_win *w)
{
    MPI_Win r = (MPI_Win)pml_v2r(w->v);
    if (w->lock_all)
        said(pml_L.MPI_Win_unlock_all(r), "MPI_Win_unlock_all");
    for (int t = 0; t < w->comm_size && w->nlocks; t++)
        if (w->locks[t])
            said(pml_L.MPI_Win_unlock(t, r), "MPI_Win_unlock");
    if (w->fence_open)
        said(pml_L.MPI_Win_fence(MPI_MODE_NOSUCCEED, r), "the fence closing a window's epoch");
    said(pml_L.MPI_Win_free(&r), "MPI_Win_free");
}

/* A file left open (MPI_MODE_DELETE_ON_CLOSE) still holds its view's types in the library:
 * ROMIO keeps copies of a derived etype and filetype (and through them the program's types),
 * which MPICH's MPI_Finalize, not closing the file, never frees: yaksa's "N leaked handle pool
 * objects" on every rank (diffrev47 R-L1). A view of bytes lets them go, the file staying open.
 * Collective over the file's group like the close (every member walks its files in the same
 * clock order), so asked by the open mode alone, the same on every member (MPI 4.0 14.2.1),
 * never by this rank's view, which may differ from another's; a sequential file's displacement
 * must be MPI_DISPLACEMENT_CURRENT (MPI 4.0 14.3). */
static void release_view(struct pml_file *f, MPI_File r)
{
    MPI_Offset disp = (f->amode & MPI_MODE_SEQUENTIAL) ? MPI_DISPLACEMENT_CURRENT : 0;
    MPI_Datatype byte = (MPI_Datatype)pml_v2r(PML_H(MPI_BYTE));
    said(pml_L.MPI_File_set_view(r, disp, byte, byte, "native",
                                 (MPI_Info)pml_v2r(PML_H(MPI_INFO_NULL))),
         "MPI_File_set_view giving back a kept file's view");
}

static void release_file(struct pml_file *f)
{
    /* the view's references to its datatypes go first: a type the program freed then leaves the
     * table (release_types must not free it again), one it still holds is freed once there */
    pml_file_view_release(f);
    MPI_File r = (MPI_File)pml_v2r(f->v);
    if (f->amode & MPI_MODE_DELETE_ON_CLOSE)
        release_view(f, r);
    else
        said(pml_L.MPI_File_close(&r), "MPI_File_close");
}

static void release_types(void)
{
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        /* one the program freed that only the layer still references (a persistent request's,
         * freed above: objs.h pml_vh_ref) went with its last user: freed again, a double free
         * (diffrev40 R-H1: Open MPI's heap corrupted, MPICH aborted, at every --term) */
        if (h->kind != PML_TYPE || !h->real || (h->lrefs && h->flags + 1u <= h->lrefs) ||
            pml_type_library_owned(h->real))
            continue;
        MPI_Datatype t = (MPI_Datatype)h->real;
        pml_L.MPI_Type_free(&t);   /* quietly: the snapshot is taken, MPI_Finalize follows */
    }
}

/* Fault point mpi-term-errors: an error raised through an object's error handler, as a failing
 * call of the give-back raises it. Nothing when the handler is MPI_ERRORS_ARE_FATAL (the job
 * would abort: no test to make of it). 1 when raised. */
#define RAISE(K, obj)                                                                              \
    do {                                                                                           \
        MPI_Errhandler e;                                                                          \
        if (pml_L.MPI_##K##_get_errhandler((obj), &e) != MPI_SUCCESS)                             \
            break;                                                                                 \
        if (PML_H(e) != pml_v2r(PML_H(MPI_ERRORS_ARE_FATAL))) {                                    \
            pml_L.MPI_##K##_call_errhandler((obj), MPI_ERR_OTHER);                                 \
            raised++;                                                                              \
        }                                                                                          \
        pml_L.MPI_Errhandler_free(&e);                                                             \
    } while (0)

static void raise_errors(const struct pml_obj_ref *refs, int n)
{
    int raised = 0;
    RAISE(Comm, (MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD)));
    RAISE(Comm, (MPI_Comm)pml_v2r(PML_H(MPI_COMM_SELF)));
    for (int i = 0; i < n; i++) {
        if (refs[i].w)
            RAISE(Win, (MPI_Win)pml_v2r(refs[i].w->v));
        else
            RAISE(File, (MPI_File)pml_v2r(refs[i].f->v));
    }
    revive_log_warn("rank %d: --term: fault point mpi-term-errors: MPI_ERR_OTHER raised through %d "
                    "error handlers", pml_world_rank, raised);
}

void pml_term_release(void)
{
    release_requests();
    int n;
    struct pml_obj_ref *refs = pml_objs_in_clock_order(&n);
    if (n < 0)
        revive_log_warn("rank %d: --term: out of memory for the list of open MPI files and windows;"
                        " MPI_Finalize follows with them", pml_world_rank);
    if (revive_fault(REVIVE_FAULT_mpi_term_errors))
        raise_errors(refs, n);
    for (int i = 0; i < n; i++) {
        if (refs[i].w)
            release_win(refs[i].w);
        else
            release_file(refs[i].f);
    }
    free(refs);
    pml_win_meets_release(1); /* the windows' meeting places (win_ckpt.c), in creation order */
    if (!revive_fault(REVIVE_FAULT_mpi_term_keep_types)) /* (a layer that leaks them) */
        release_types();
}

#ifdef PML_MPICH
/* N when line[0..len) (no newline) is yaksa's "[WARNING] yaksa: N leaked handle pool objects",
 * else -1. By hand, not regcomp: held threads of the application may hold the upper half's
 * malloc lock; and from a signal handler (fin_fatal). */
static long yaksa_leak_line(const char *line, size_t len)
{
    static const char head[] = "[WARNING] yaksa: ", tail[] = " leaked handle pool objects";
    size_t h = sizeof head - 1, t = sizeof tail - 1;
    if (len <= h + t || len - h - t > 12 || memcmp(line, head, h) || memcmp(line + len - t, tail, t))
        return -1;
    long n = 0;
    for (size_t i = h; i < len - t; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        n = n * 10 + (line[i] - '0');
    }
    return n;
}

/* Writes what MPI_Finalize wrote on stderr (the memory file mf) to the real stderr, but yaksa's
 * line of leaked handles when they are no more than the cancelled receives' types hold: one of
 * more is a leak of its own (a type Revive should have freed: diffrev45 R-L10), passed on.
 * Async-signal-safe (fin_fatal). */
static void pass_on_stderr(int mf)
{
    off_t n = lseek(mf, 0, SEEK_END);
    if (n <= 0)
        return;
    char *text = mmap(NULL, (size_t)n, PROT_READ, MAP_PRIVATE, mf, 0);
    if (text == MAP_FAILED)
        return;
    for (char *line = text, *end = text + n; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        long leaked = yaksa_leak_line(line, len - (nl != NULL));
        int drop = leaked >= 0 && leaked <= leak_bound;
        for (size_t done = 0; !drop && done < len;) {
            ssize_t k = write(2, line + done, len - done);
            if (k <= 0)
                break;
            done += (size_t)k;
        }
        line += len;
    }
    munmap(text, (size_t)n);
}
#endif

#ifdef PML_MPICH
/* While the lower half's MPI_Finalize runs with stderr held (fin_hold): the saved stderr, the
 * memory file, and 1 until what it wrote is passed on. A library that aborts, crashes or exits
 * inside MPI_Finalize (the state a cancelled receive leaves is an unusual one) must still have
 * its last words on the job's stderr (diffrev45 R-L9: the memory file went with the process):
 * passed on by the fatal signals' handlers and at exit, whichever comes, once. _exit and SIGKILL
 * cannot be seen: what was written is then lost as before. */
static int fin_keep = -1, fin_mf = -1;
static volatile sig_atomic_t fin_held;
static const int fin_sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT, SIGHUP};
#define FIN_NSIGS (sizeof fin_sigs / sizeof fin_sigs[0])
static struct sigaction fin_old[FIN_NSIGS];
static unsigned char fin_armed[FIN_NSIGS]; /* 1: fin_fatal is its handler, fin_old its own */
static int fin_at_exit_set;                /* fin_at_exit registered (pml_term_init) */

static void fin_release(void)
{
    if (!fin_held)
        return;
    fin_held = 0;
    dup2(fin_keep, 2);
    pass_on_stderr(fin_mf);
}

/* a fatal signal inside MPI_Finalize: what the library wrote passed on, then the signal taken as
 * the process would have taken it (its own action again; blocked here, it comes on return) */
static void fin_fatal(int sig)
{
    int e = errno;
    fin_release();
    for (size_t i = 0; i < FIN_NSIGS; i++)
        if (fin_sigs[i] == sig && fin_armed[i]) {
            sigaction(sig, &fin_old[i], NULL);
            fin_armed[i] = 0;
        }
    raise(sig);
    errno = e;
}

static void fin_at_exit(void)
{
    fin_release();
}

static void fin_sigs_restore(void)
{
    for (size_t i = 0; i < FIN_NSIGS; i++)
        if (fin_armed[i]) {
            sigaction(fin_sigs[i], &fin_old[i], NULL);
            fin_armed[i] = 0;
        }
}

/* fin_fatal armed over each signal the process does not ignore: one it ignores (SIGHUP under
 * nohup, SIGINT of a background job) stays ignored, as natively, not made a way out that lets
 * the held stderr go early (diffrev47 R-L2). SA_RESTART: a signal taken and returned from (its
 * action blocked until then) does not break the library's blocking calls with EINTR, which
 * natively it would not meet either; SA_ONSTACK: on the thread's alternate stack if it has one
 * (a stack overflow's SIGSEGV). No allocation: the application's threads are parked. */
static void fin_sigs_arm(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fin_fatal;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < FIN_NSIGS; i++) {
        fin_armed[i] = 0;
        if (sigaction(fin_sigs[i], NULL, &fin_old[i]) != 0 ||
            (!(fin_old[i].sa_flags & SA_SIGINFO) && fin_old[i].sa_handler == SIG_IGN))
            continue;
        fin_armed[i] = sigaction(fin_sigs[i], &sa, NULL) == 0;
    }
}

/* fd 2 made a memory file, with the ways out armed: 1, or 0 when it could not be (stderr as it
 * is then) */
static int fin_hold(void)
{
    revive_fd_enter();
    fin_keep = fcntl(2, F_DUPFD_CLOEXEC, 3);
    fin_mf = memfd_create("revive-term-stderr", MFD_CLOEXEC);
    revive_fd_own(fin_keep);
    revive_fd_own(fin_mf);
    revive_fd_leave();
    if (fin_keep < 0 || fin_mf < 0 || !fin_at_exit_set)
        return 0;
    fin_sigs_arm();
    fin_held = 1;
    if (dup2(fin_mf, 2) == 2)
        return 1;
    fin_held = 0;
    fin_sigs_restore();
    return 0;
}

/* fault point mpi-term-fin-abort: the stand-in of a library failing inside MPI_Finalize */
static int fin_abort_standin(void)
{
    static const char line[] = "revive: fault point mpi-term-fin-abort: MPI_Finalize aborts\n";
    ssize_t k = write(2, line, sizeof line - 1);
    (void)k;
    abort();
}

/* fin_at_exit registered at MPI_Init, by the thread that calls it, never at --term: atexit may
 * allocate (glibc's first 32 functions have a static block, then it callocs one; every C++
 * global with a destructor takes one), and at --term the application's threads are parked, one
 * perhaps inside malloc with the lock the agent would need (diffrev47 R-L2). It does nothing
 * unless --term's MPI_Finalize holds stderr. */
void pml_term_init(void)
{
    if (!fin_at_exit_set)
        fin_at_exit_set = atexit(fin_at_exit) == 0;
}
#else
void pml_term_init(void)
{
}
#endif

void pml_term_finalize(int (*fin)(void))
{
#ifdef PML_MPICH
    /* the library's stderr (its own libc's, unbuffered: fd 2) into a memory file for the call;
     * the application's threads are parked, Revive's log lines pass on after it */
    if (cancelled_derived && fin_hold()) {
        if (revive_fault(REVIVE_FAULT_mpi_term_fin_abort))
            fin = fin_abort_standin;
        if (revive_fault(REVIVE_FAULT_mpi_term_fin_hup))
            raise(SIGHUP); /* a hang-up while stderr is held (taken on return: not blocked) */
        fin();
        fin_release();
        fin_sigs_restore();
    } else {
        fin();
    }
    revive_close_owned(fin_keep);
    revive_close_owned(fin_mf);
    fin_keep = fin_mf = -1;
#else
    fin();
#endif
}

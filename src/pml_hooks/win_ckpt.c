/* Windows at a global snapshot and after a restart (see objs.h and win.c).
 *
 * Memory. A window made with MPI_Win_create or MPI_Win_create_dynamic (and its attached
 * regions), or on MPICH with MPI_Win_allocate(_shared) on one rank (win.c serves that memory
 * from the application's), lies in the application's memory: the rank image holds it at its
 * address. A window made with MPI_Win_allocate or MPI_Win_allocate_shared on two or more ranks,
 * or on Open MPI on one rank, lies in the library's memory, which no image holds: a shared
 * mapping, a segment both libraries map for two or more ranks, or for Open MPI's window of one
 * rank the mapping the lower half's root served its malloc from while the layer made the window
 * (lower_winmem.h; the replay arms the root again). That it is shared is checked at the
 * snapshot; a restart from a snapshot where it was not is refused. The snapshot copies this rank's part
 * into application memory (w->saved), and the restart maps the fresh library's segment at the
 * addresses the program knows too (a shared mapping: mremap with old size 0 makes a second view
 * of the same pages), after keeping those addresses free while the fresh library loads
 * (pml_objs_restart_reserve); the fresh segment must have the same layout (size, each part's
 * offset, offset in its page). The library's own addresses (MPI_Win_shared_query, the
 * MPI_WIN_BASE attribute) are given back as the program knew them (pml_win_addr_out).
 *
 * Stores outside MPI. The program stores into the window's memory between its MPI calls,
 * another member's part too (shared windows), up to where its threads are parked for the image.
 * So the copy is made with every thread of the rank parked (capture.c's after_park), and the
 * members of a shared window meet first (each has parked) and after (each has copied) in a
 * small shared window of the layer's own: one per communicator, made at its first shared window
 * and kept for the next ones (pml_win_meet_make; made again by the replay); once every member
 * freed the communicator (their votes, struct pml_meet), freed with its last window, adopted by
 * the next communicator of the same members, or freed at the next shared window made or freed by
 * all its members, else before MPI_Finalize; a restarted rank's
 * threads are held until every part is back (capture.c). Made with each window, as until
 * session 40, it doubled the library's collective work of every MPI_Win_allocate_shared (2.6-3x
 * native; bench/mpi/README.md, "Shared windows, session 40").
 *
 * Order. Each window is made again by the replay of the creation record, in its place among
 * the other collective calls (the program's order, the same on every member), so that its
 * attachments, name, error handler, info and attributes replayed after it find it. A window in
 * a fence epoch at the snapshot (the snapshot's own fence opened one) gets a fence at once, by
 * every member; a deadlock-free order stays one when each member moves the same fence next to
 * the same collective creation. Locks held at the snapshot (shared ones and lock_all: the only
 * ones a snapshot happens under) are taken again after the replay (pml_objs_restart_wins).
 *
 * Refused, in one message: a window that was freed but is needed as the ancestor of a live
 * group (MPI_Win_get_group), and library memory that was not a shared mapping at the snapshot
 * (the lower root could not serve it, or an image of an older Revive; the job may continue from
 * such a snapshot) or that the fresh library lays out differently. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/fault.h"
#include "common/fd_guard.h"
#include "common/procfs.h"
#include "pml_hooks/halves_internal.h"
#include "pml_hooks/objs.h"
#include "pml_hooks/replay.h"
#include "pml_hooks/restart.h" /* pml_attr_quiet */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *pml_win_addr_out(const struct pml_win *w, void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (w->moved && a >= w->lib_lo && a < w->lib_hi)
        return (void *)(a - (uintptr_t)w->moved);
    return p;
}

void pml_win_segment(MPI_Win r, int n, uintptr_t *lo, uintptr_t *hi)
{
    *lo = UINTPTR_MAX;
    *hi = 0;
    for (int i = 0; i < n; i++) {
        MPI_Aint sz = 0;
        int du = 0;
        void *b = NULL;
        if (pml_L.MPI_Win_shared_query(r, i, &sz, &du, &b) != MPI_SUCCESS || sz <= 0 || !b)
            continue;
        if ((uintptr_t)b < *lo)
            *lo = (uintptr_t)b;
        if ((uintptr_t)b + (uintptr_t)sz > *hi)
            *hi = (uintptr_t)b + (uintptr_t)sz;
    }
    if (*hi == 0)
        *lo = 0;
}

static int lib_segment(const struct pml_win *w)
{
    return !w->own_mem && w->seg_hi > w->seg_lo;
}

struct shared_q {
    uintptr_t lo, hi;
    int ok;
};

static int in_shared(const struct revive_maps_entry *e, void *arg)
{
    struct shared_q *q = arg;
    if (q->lo >= e->start && q->lo < e->end) {
        q->ok = e->shared && q->hi <= e->end;
        return 1;
    }
    return 0;
}

static uintptr_t page_down(uintptr_t a)
{
    return a & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
}

static uintptr_t page_up(uintptr_t a)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    return (a + pg - 1) & ~(pg - 1);
}

/* Whether the library's memory of w lies in one shared mapping (the restart maps the fresh
 * library's pages a second time: only a shared mapping can): w->private_mem set when not. */
static void memory_look(struct pml_win *w)
{
    struct shared_q q = { page_down(w->seg_lo), w->seg_hi, 0 };
    /* the one mapping asked of the kernel (PROCMAP_QUERY): at every MPI_Win_allocate of the
     * program's, where a walk of the ~360 mappings of /proc/self/maps cost ~0.5 ms (diffrev37
     * R-L13); the walk where the kernel has no such ioctl (before Linux 6.11) */
    uint64_t start, end;
    int shared;
    int e = revive_maps_query(q.lo, &start, &end, &shared);
    if (!e)
        q.ok = shared && q.hi <= end;
    else if (e != -ENOENT)
        pml_maps_each(in_shared, &q);
    w->private_mem = !q.ok || revive_fault(REVIVE_FAULT_mpi_winmem_private);
}

void pml_win_memory_check(struct pml_win *w)
{
    if (!lib_segment(w) || w->size <= 0)
        return;
    revive_fd_enter(); /* /proc/self/maps open: no fork copies it (common/fd_guard.h) */
    memory_look(w);
    revive_fd_leave();
    if (w->private_mem)
        revive_log_info("the memory the MPI library gave a window (%lld bytes at %p) is no shared "
                        "mapping: no checkpoint is taken while it is open", (long long)w->size,
                        w->base);
}

/* The first window of library memory that is no shared mapping: the refusal in err, 1; else 0.
 * Fault point mpi-winpriv-commit: never (a Revive before the refusal). */
static int private_refusal(const struct pml_win *w, char *err, size_t errlen)
{
    if (!w->private_mem || revive_fault(REVIVE_FAULT_mpi_winpriv_commit))
        return 0;
    snprintf(err, errlen, "it holds an MPI window (%s on %d ranks, %lld bytes at %p) whose memory "
             "the MPI library took from memory of its own that is no shared mapping (as Open "
             "MPI's osc/pt2pt or osc/ucx may): no restart could put it back at its address, so "
             "no snapshot is taken while the window is open; the job runs on. To checkpoint "
             "such a job, give the window memory of the program's (MPI_Alloc_mem and "
             "MPI_Win_create) or let the MPI library choose its one-sided component",
             w->flavor == MPI_WIN_FLAVOR_SHARED ? "MPI_Win_allocate_shared" : "MPI_Win_allocate",
             w->comm_size, (long long)w->size, w->base);
    return 1;
}

int pml_win_refusal(char *err, size_t errlen)
{
    int r = 0;
    pml_vh_lock();
    for (struct pml_win *w = pml_wins; w && !r; w = w->next)
        r = private_refusal(w, err, errlen);
    pml_vh_unlock();
    return r;
}

/* ---- at a snapshot ------------------------------------------------------------------------- */
int pml_win_save_memory(char *err, size_t errlen)
{
    for (struct pml_win *w = pml_wins; w; w = w->next) {
        if (!lib_segment(w) || w->size <= 0)
            continue;
        memory_look(w); /* again: the check at the window's creation may not have seen it so */
        if (private_refusal(w, err, errlen))
            return -ENOTRECOVERABLE; /* the epoch fails, the job runs on */
        if (w->private_mem) {
            /* mpi-winpriv-commit: committed, and a restart from it is refused */
            revive_log_info("the memory the MPI library gave a window (%lld bytes at %p) is not a "
                            "shared mapping: a restart from this snapshot will be refused",
                            (long long)w->size, w->base);
            continue;
        }
        /* its own mapping (the application's memory, in the image), unmapped once the image is
         * written: glibc's malloc kept a freed block this size in its heap, resident */
        if (!w->saved) {
            void *m = mmap(NULL, (size_t)w->size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) {
                snprintf(err, errlen, "no memory for a copy of a window's memory (%lld bytes): %s",
                         (long long)w->size, strerror(errno));
                return -ENOMEM;
            }
            w->saved = m;
        }
    }
    return 0;
}

/* The copy itself, with every thread of the rank parked (capture.c, libcr's after_park) and
 * after every member's flushes completed (the barrier that ends pml_objs_settle): an
 * application thread outside MPI runs on through the settle and may store into the window
 * until it is parked, and another rank's operations land here until its own flush returned;
 * copied before, such stores were in the rank's state but not in its window (campaign-failures.md
 * #25). No allocation, no lock: memory copies only. */
/* How long the members of a shared window wait for each other at a snapshot: 30 s, or
 * REVIVE_WIN_MEET_S (2-3600; a test of a member that never comes, shstore.sh, waited out the 30 s
 * each time). Read when a meeting window is made, in an ordinary call: at the meeting every other
 * thread is parked, perhaps inside setenv. */
static int meet_s = 30;

/* A communicator's meeting place: a shared window of the layer's own of MEET_ROWS x size slots
 * (row, then member) in rank 0's part, used by every shared window of the program on the
 * communicator. Kept while the communicator lives (vcomm) or a window uses it (nwin); in the
 * rank's image (the application's memory), its window in the lower half's, which a restart
 * makes anew.
 *
 * Rows 0 and 1: the snapshot's two phases (pml_win_copy_saved). Rows 2 and 3: votes, by
 * parity. Whether a member freed the place's communicator is its own business (MPI_Comm_free
 * is local in both libraries: members free it at different points of their programs), so no
 * member may free or adopt a place on its own word: the library's free of its window is a
 * collective (one member would wait there for the others, or make a window the others never
 * make). At a call that returns on no member before every member of the communicator entered it
 * (MPI_Win_allocate_shared, MPI_Win_free: both gather from every member), every place whose
 * members all take part gets each member's vote before the library's call (pml_win_meets_vote)
 * and counts them after it: the same count on every member. A place every member had orphaned
 * and no window uses is freed there (or adopted by the new window's communicator of the same
 * members), by every member alike. */
enum { MEET_PHASES = 2, MEET_ROWS = 4 };

struct pml_meet {
    uintptr_t vcomm;            /* the program's communicator, 0 once it freed it */
    uintptr_t win;              /* the library's window, 0: none (yet) */
    volatile uint64_t *slots;   /* NULL: no meeting (none made, or its making failed) */
    int tried;                  /* made, or tried (a failure is not tried again: collective) */
    int nwin;                   /* the program's windows using it */
    int *wmap;                  /* the world rank of each member (NULL: unknown, never voted on) */
    int n, me;                  /* its members, this rank's place among them */
    uint32_t votes;             /* votes counted on it: the same number on every member */
    uint32_t voted;             /* the call (its token) that cast this rank's vote, not counted */
    uint32_t agreed;            /* the call whose count found every member had orphaned it */
    struct pml_meet *next;      /* every place, in creation order (the same on every member) */
};

static struct pml_meet *meets; /* under pml_vh_lock */

/* Waits until every member of w has reached phase ph of the meeting of epoch gen. Only memory
 * reads and nanosleep: every other thread of the rank (the library's too) is parked. */
static int meet(struct pml_win *w, int ph, uint64_t gen, const struct timespec *end)
{
    volatile uint64_t *slot = w->meet->slots + (size_t)ph * (size_t)w->comm_size;
    __atomic_store_n(&slot[w->comm_rank], gen, __ATOMIC_SEQ_CST);
    for (;;) {
        int all = 1;
        for (int i = 0; i < w->comm_size && all; i++)
            all = __atomic_load_n(&slot[i], __ATOMIC_SEQ_CST) >= gen;
        if (all)
            return 0;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end->tv_sec || (now.tv_sec == end->tv_sec && now.tv_nsec > end->tv_nsec))
            return -ETIMEDOUT;
        struct timespec d = { 0, 100 * 1000 };
        nanosleep(&d, NULL);
    }
}

int pml_win_copy_saved(uint32_t epoch, char *err, size_t errlen)
{
    /* phase 0: every member is parked (none stores any more); copies; phase 1: every member
     * copied (none runs on before). Epoch numbers grow within a coordinator's life; a restarted
     * job's meeting windows are new (zeros). A capture tried again in the same epoch
     * (capture.c) finds the others' slots set already. */
    uint64_t gen = (uint64_t)epoch + 1;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += meet_s;
    for (int ph = 0; ph < 2; ph++) {
        if (ph == 1)
            for (struct pml_win *w = pml_wins; w; w = w->next)
                if (w->saved && w->size > 0)
                    memcpy(w->saved, w->base, (size_t)w->size);
        for (struct pml_win *w = pml_wins; w; w = w->next) {
            /* every member alike: one whose part is empty too; the windows of one communicator
             * meet at one place, the second and later at once */
            if (!epoch || !w->meet || !w->meet->slots)
                continue;
            if (meet(w, ph, gen, &end)) {
                snprintf(err, errlen, "the ranks sharing a window's memory did not all %s for the "
                         "snapshot within %d s", ph ? "copy their parts" : "stop", meet_s);
                return -ETIMEDOUT;
            }
        }
    }
    return 0;
}

/* Makes m's window on the library's communicator rcomm (of w, a member of size w->comm_size). */
static void meet_open(struct pml_meet *m, const struct pml_win *w, MPI_Comm rcomm)
{
    m->tried = 1;
    const char *ms = getenv("REVIVE_WIN_MEET_S");
    long s = ms && *ms ? strtol(ms, NULL, 10) : 0;
    meet_s = s >= 2 && s <= 3600 ? (int)s : 30;
    MPI_Aint sz = w->comm_rank == 0 ? (MPI_Aint)(MEET_ROWS * (size_t)w->comm_size * sizeof(uint64_t)) : 0;
    MPI_Win r = (MPI_Win)pml_v2r(PML_H(MPI_WIN_NULL));
    void *b = NULL, *b0 = NULL;
    MPI_Aint qs = 0;
    int qd = 0;
    /* The library duplicates rcomm for this window too: the program's copy callbacks must not
     * run for the layer's own window (they did: a Fortran or C program counting them saw one
     * copy more at each shared window and one delete more at its free, under ft-enable-cr
     * only; rst_fmany). Quiet: nothing copied to its duplicate, so nothing deleted either. */
    int quiet = pml_attr_quiet_begin();
    int rc = pml_L.MPI_Win_allocate_shared(sz, 1, (MPI_Info)pml_v2r(PML_H(MPI_INFO_NULL)), rcomm,
                                           &b, &r);
    pml_attr_quiet_end(quiet);
    if (rc == MPI_SUCCESS)
        rc = pml_L.MPI_Win_shared_query(r, 0, &qs, &qd, &b0);
    if (rc != MPI_SUCCESS || !b0) {
        revive_log_warn("no meeting place for the ranks of a shared window (MPI error %d): a "
                        "store of one into another's part while a snapshot is taken may be lost",
                        rc);
        if (rc == MPI_SUCCESS)
            m->win = PML_H(r); /* freed with the place */
        return;
    }
    volatile uint64_t *sl = b0;
    if (w->comm_rank == 0)
        memset(b0, 0, MEET_PHASES * (size_t)w->comm_size * sizeof(uint64_t));
    /* each member its own votes: a member may cast its next one before rank 0 got here */
    for (int row = MEET_PHASES; row < MEET_ROWS; row++)
        __atomic_store_n(&sl[(size_t)row * (size_t)w->comm_size + (size_t)w->comm_rank], 0,
                         __ATOMIC_SEQ_CST);
    m->win = PML_H(r);
    m->slots = sl;
    /* rank 0 zeroed the phases before any member uses them: the window's creation (or the
     * replay's next collective) orders it before the next snapshot. Slots reused by later windows
     * hold the numbers of earlier epochs, which are lower (epochs grow within a coordinator's
     * life; a restart makes every place anew). */
}

/* m's window freed (collective over its communicator) and m itself; m is unlinked. */
static void meet_close(struct pml_meet *m)
{
    if (m->win) {
        MPI_Win r = (MPI_Win)m->win;
        int quiet = pml_attr_quiet_begin(); /* its duplicate got none of the program's attributes */
        pml_L.MPI_Win_free(&r);
        pml_attr_quiet_end(quiet);
    }
    free(m->wmap);
    free(m);
}

/* The world rank of each member of w's communicator, calloc'd; NULL when unknown. */
static int *world_ranks(const struct pml_win *w)
{
    const struct pml_comm *c = pml_comm_of(w->vcomm);
    if (!c || c->inter || c->size != w->comm_size || (c->wmap && c->nmap != w->comm_size))
        return NULL;
    int *r = calloc((size_t)w->comm_size, sizeof *r);
    for (int i = 0; r && i < w->comm_size; i++)
        r[i] = c->wmap ? c->wmap[i] : i;
    return r;
}

/* m unlinked from the list (under pml_vh_lock) */
static void meet_unlink(struct pml_meet *m)
{
    for (struct pml_meet **pp = &meets; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            return;
        }
}

/* ---- votes (see struct pml_meet) ------------------------------------------------------------ */
/* The token of this thread's call that cast votes: another thread's call on other members may
 * count its own meanwhile (under pml_vh_lock). */
static uint32_t vote_serial;
static __thread uint32_t vote_token;

static volatile uint64_t *vote_row(const struct pml_meet *m)
{
    return m->slots + (size_t)(MEET_PHASES + (m->votes & 1)) * (size_t)m->n;
}

/* This member's vote on m: the number of the vote, and whether it orphaned m. A member ahead
 * casts its next vote in the other row: it cannot pass the next such call before this one counted. */
static void vote_cast(struct pml_meet *m)
{
    uint64_t v = (uint64_t)(m->votes + 1) << 1 | (m->vcomm == 0);
    __atomic_store_n(&vote_row(m)[m->me], v, __ATOMIC_SEQ_CST);
    m->voted = vote_token;
}

/* Every member's vote on m counted (each cast it before the call that brought this member here
 * returned: the wait is for form's sake). */
static void vote_count(struct pml_meet *m)
{
    volatile uint64_t *row = vote_row(m);
    uint64_t tag = (uint64_t)(m->votes + 1);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += meet_s;
    int yes = 1;
    for (int i = 0; i < m->n; i++) {
        uint64_t v;
        while ((v = __atomic_load_n(&row[i], __ATOMIC_SEQ_CST)) >> 1 < tag) {
            struct timespec now, d = { 0, 100 * 1000 };
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > end.tv_sec)
                break;
            nanosleep(&d, NULL);
        }
        yes = yes && v == (tag << 1 | 1);
    }
    m->votes++;
    m->voted = 0;
    m->agreed = yes ? vote_token : 0;
}

/* The votes this thread's call cast counted (agreed: this call's token where every member
 * orphaned the place). */
static void votes_count(void)
{
    if (!vote_token)
        return;
    for (struct pml_meet *m = meets; m; m = m->next)
        if (m->voted == vote_token)
            vote_count(m);
}

/* This thread's call is over: its token no longer names a vote. */
static void votes_done(void)
{
    vote_token = 0;
}

/* Places every member orphaned that no window uses, but keep: unlinked into *out (in creation
 * order: every member frees them in one order). Under pml_vh_lock. */
static void agreed_take(struct pml_meet *keep, struct pml_meet **out)
{
    struct pml_meet **tail = out;
    for (struct pml_meet **pp = &meets; *pp;) {
        struct pml_meet *m = *pp;
        if (m != keep && vote_token && m->agreed == vote_token && !m->nwin) {
            *pp = m->next;
            m->next = NULL;
            *tail = m;
            tail = &m->next;
        } else
            pp = &m->next;
    }
}

static void agreed_close(struct pml_meet *m)
{
    while (m) {
        struct pml_meet *next = m->next;
        meet_close(m); /* every member: voted alike, in one order */
        m = next;
    }
}

/* Whether world rank r is among wr[0..n) (NULL: 0..n-1). */
static int among(int r, const int *wr, int n)
{
    if (!wr)
        return r >= 0 && r < n;
    for (int i = 0; i < n; i++)
        if (wr[i] == r)
            return 1;
    return 0;
}

void pml_win_meets_vote(uintptr_t vcomm, const struct pml_win *w)
{
    int n = 0;
    const int *wr = NULL;
    if (w) {
        if (!w->meet || !w->meet->wmap)
            return;
        wr = w->meet->wmap;
        n = w->meet->n;
    } else {
        const struct pml_comm *c = pml_comm_of(vcomm);
        if (!c || c->inter || (c->wmap && c->nmap != c->size))
            return;
        n = c->size;
        wr = c->wmap;
    }
    if (n < 2)
        return;
    pml_vh_lock();
    if (!++vote_serial)
        vote_serial = 1;
    vote_token = vote_serial;
    for (struct pml_meet *m = meets; m; m = m->next) {
        if (!m->slots || !m->wmap || m->n > n)
            continue;
        int all = 1;
        for (int i = 0; i < m->n && all; i++)
            all = among(m->wmap[i], wr, n);
        if (all)
            vote_cast(m);
    }
    pml_vh_unlock();
}

void pml_win_meets_unvote(void)
{
    pml_vh_lock();
    for (struct pml_meet *m = meets; m; m = m->next)
        if (m->voted == vote_token)
            m->voted = 0;
    votes_done();
    pml_vh_unlock();
}

void pml_win_meet_make(struct pml_win *w, MPI_Comm rcomm)
{
    if (w->flavor != MPI_WIN_FLAVOR_SHARED || w->own_mem || w->comm_size < 2) {
        w->meet = NULL;
        return;
    }
    struct pml_meet *m = w->meet; /* the replay's: the place it had at the snapshot */
    if (!m) {
        /* the communicator's place, else a new one. Collectives on one communicator are never
         * concurrent (MPI), so no other thread looks for this one meanwhile. */
        int *wr = world_ranks(w);
        struct pml_meet *gone = NULL;
        pml_vh_lock();
        votes_count();
        struct pml_meet **pp = &meets;
        for (; *pp; pp = &(*pp)->next)
            if ((*pp)->vcomm == w->vcomm)
                break;
        m = *pp;
        /* else a place every member orphaned, of the same members in the same order (a loop of
         * MPI_Comm_dup, a shared window, MPI_Comm_free), adopted: at MPI_Comm_free nothing is
         * freed (it counts on no clock: a collective there could hold a checkpoint) */
        for (struct pml_meet *o = meets; !m && o; o = o->next)
            if (vote_token && o->agreed == vote_token && !o->nwin && wr && o->n == w->comm_size &&
                !memcmp(o->wmap, wr, (size_t)o->n * sizeof *wr))
                m = o;
        if (m && !m->vcomm)
            m->vcomm = w->vcomm;
        /* the other such places (members that never come together again) go now */
        agreed_take(m, &gone);
        if (!m && (m = calloc(1, sizeof *m))) {
            m->vcomm = w->vcomm;
            m->wmap = wr;
            m->n = w->comm_size;
            m->me = w->comm_rank;
            wr = NULL;
            for (pp = &meets; *pp; pp = &(*pp)->next)
                ;
            *pp = m;
        }
        if (m)
            m->nwin++;
        votes_done();
        pml_vh_unlock();
        free(wr);
        agreed_close(gone);
        if (!m) {
            revive_log_warn("no memory for the meeting place of a shared window's ranks: a store "
                            "of one into another's part while a snapshot is taken may be lost");
            return;
        }
        w->meet = m;
    }
    if (!m->tried)
        meet_open(m, w, rcomm);
}

void pml_win_meet_free(struct pml_win *w)
{
    struct pml_meet *m = w->meet, *gone = NULL;
    w->meet = NULL;
    pml_vh_lock();
    votes_count();
    if (m)
        --m->nwin;
    /* its own place too, when every member had freed its communicator */
    agreed_take(NULL, &gone);
    votes_done();
    pml_vh_unlock();
    agreed_close(gone);
}

void pml_win_meet_comm_freed(uintptr_t vcomm)
{
    if (!vcomm)
        return;
    pml_vh_lock();
    struct pml_meet *m = meets;
    while (m && m->vcomm != vcomm)
        m = m->next;
    /* only orphaned (its handle may be reused for another communicator): freed or adopted once
     * every member has orphaned it (its votes), or freed before MPI_Finalize. Not here:
     * MPI_Comm_free counts on no clock, and the library's collective free could hold a rank
     * that a checkpoint waits for (diffrev40 R-M1), and made MPI_Comm_free synchronizing */
    if (m)
        m->vcomm = 0;
    pml_vh_unlock();
}

void pml_win_meets_release(int all)
{
    if (all) {
        /* --term: the agent's thread alone, the program's parked for good (no lock: one may be
         * parked holding it) */
        for (struct pml_win *w = pml_wins; w; w = w->next)
            w->meet = NULL;
        while (meets) {
            struct pml_meet *m = meets;
            meets = m->next;
            meet_close(m);
        }
        return;
    }
    for (;;) {
        pml_vh_lock();
        struct pml_meet *m = meets;
        while (m && m->nwin)
            m = m->next;
        if (m)
            meet_unlink(m);
        pml_vh_unlock();
        if (!m)
            return;
        meet_close(m);
    }
}

/* After a restart, before the fresh lower half loads: the places' windows were the dead half's.
 * A place no window uses goes (the next shared window on its communicator makes one, on every
 * member alike); the others are made again by the replay of their first window (made()). */
static void meets_restart(void)
{
    struct pml_meet **pp = &meets;
    while (*pp) {
        struct pml_meet *m = *pp;
        if (!m->nwin) {
            *pp = m->next;
            free(m->wmap);
            free(m);
            continue;
        }
        m->win = 0;
        m->slots = NULL;
        m->tried = 0;
        m->votes = 0; /* on every member: the places' memory is new */
        m->voted = m->agreed = 0;
        vote_token = 0;
        pp = &m->next;
    }
}

const char *pml_win_memory_kind(const struct pml_win *w)
{
    if (!lib_segment(w) || w->size <= 0)
        return "program";
    return w->private_mem ? "private" : "shared";
}

int pml_win_lib_memory(void)
{
    for (struct pml_win *w = pml_wins; w; w = w->next)
        if (lib_segment(w) && w->size > 0)
            return 1;
    return 0;
}

/* Once the image is written (the job goes on) or the restart put it back: the copies are freed.
 * Kept, they doubled a shared window's memory for the rest of the run (bench/mpi/shwin.sh,
 * rssgrow); each snapshot now maps its copy again (fresh pages). */
void pml_win_drop_copies(void)
{
    for (struct pml_win *w = pml_wins; w; w = w->next) {
        if (w->saved)
            munmap(w->saved, (size_t)w->size);
        w->saved = NULL;
    }
}

/* Once the library freed a window that a restart mapped at the program's addresses too: that
 * second view goes with it (kept, it held the pages of every such window freed after a
 * restart for the rest of the run). */
void pml_win_view_drop(struct pml_win *w)
{
    if (!w->moved || !lib_segment(w))
        return;
    uintptr_t nlo = page_down(w->lib_lo), len = page_up(w->lib_hi) - nlo;
    munmap((void *)page_down(w->seg_lo), len);
    w->moved = 0;
}

/* ---- after a restart ------------------------------------------------------------------------ */
void pml_objs_restart_reserve(void)
{
    meets_restart();
    for (struct pml_win *w = pml_wins; w; w = w->next) {
        w->reserved = 0;
        if (!lib_segment(w))
            continue;
        uintptr_t lo = page_down(w->seg_lo), hi = page_up(w->seg_hi);
        void *m = mmap((void *)lo, hi - lo, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (m == (void *)lo)
            w->reserved = 1;
        else if (m != MAP_FAILED)
            munmap(m, hi - lo); /* a kernel without MAP_FIXED_NOREPLACE put it elsewhere */
    }
}

/* The fresh library's memory of a window (mine: this rank's part) seen at the program's
 * addresses, and this rank's part as the snapshot saved it. */
/* Where the fresh library's memory of window w lies ([lo, hi); mine: this rank's part); 0 when
 * it can be seen at the program's addresses, else -1 with the reason in why. Such a refusal is
 * this restart's, not the snapshot's (made() below). */
static int layout_check(struct pml_win *w, MPI_Win r, void *mine, uintptr_t *plo, uintptr_t *phi,
                        char *why, size_t len)
{
    uintptr_t lo = (uintptr_t)mine, hi = lo + (uintptr_t)w->size;
    if (w->flavor == MPI_WIN_FLAVOR_SHARED)
        pml_win_segment(r, w->comm_size, &lo, &hi);
    *plo = lo;
    *phi = hi;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (hi - lo != w->seg_hi - w->seg_lo || lo % pg != w->seg_lo % pg ||
        (w->size > 0 && (uintptr_t)mine - lo != (uintptr_t)w->base - w->seg_lo)) {
        snprintf(why, len, "the fresh MPI laid out a window's memory otherwise "
                 "(%lu bytes, this rank's part at %lu; at the snapshot %lu bytes, part at %lu)",
                 (unsigned long)(hi - lo), (unsigned long)((uintptr_t)mine - lo),
                 (unsigned long)(w->seg_hi - w->seg_lo),
                 (unsigned long)((uintptr_t)w->base - w->seg_lo));
        return -1;
    }
    if (lo != w->seg_lo && !w->reserved) {
        snprintf(why, len, "the addresses of a window's memory (%#lx-%#lx) were taken before "
                 "the fresh MPI made it again", (unsigned long)w->seg_lo,
                 (unsigned long)w->seg_hi);
        return -1;
    }
    return 0;
}

static int remap_shared(struct pml_rp *P, struct pml_win *w, MPI_Win r, void *mine)
{
    char why[512];
    uintptr_t lo, hi;
    if (layout_check(w, r, mine, &lo, &hi, why, sizeof why)) {
        pml_rp_refuse(P, why);
        return -1;
    }
    w->moved = (intptr_t)(lo - w->seg_lo);
    w->lib_lo = lo;
    w->lib_hi = hi;
    if (w->moved) {
        uintptr_t nlo = page_down(lo), len = page_up(hi) - nlo;
        /* the system call itself: UCX's memory hooks (libucm) patch mremap and lose its fifth
         * argument (measured: the copy landed at address 0, or EINVAL) */
        void *m = (void *)syscall(SYS_mremap, nlo, 0, len, MREMAP_MAYMOVE | MREMAP_FIXED,
                                  page_down(w->seg_lo));
        if (m == MAP_FAILED) {
            snprintf(why, sizeof why, "the fresh MPI's memory of a window (%#lx-%#lx) "
                     "cannot be mapped at the program's addresses %#lx-%#lx (%s)",
                     (unsigned long)lo, (unsigned long)hi, (unsigned long)w->seg_lo,
                     (unsigned long)w->seg_hi, strerror(errno));
            pml_rp_refuse(P, why);
            return -1;
        }
        w->reserved = 0;
        /* the library's memory under a second name: left out of images like the first (the
         * layer's own mremap registered it as the application's) */
        pml_reg_put(page_down(w->seg_lo), page_down(w->seg_lo) + len, PML_HALF_LOWER,
                    PML_W_LMMAP);
    }
    if (w->saved && w->size > 0)
        memcpy(w->base, w->saved, (size_t)w->size);
    return 0;
}

/* Common tail of the four replays: the window made (r, rc) for the entry's virtual handle. */
static int made(struct pml_rp *P, uintptr_t v, MPI_Win r, void *base, MPI_Comm comm, int rc)
{
    if (rc != MPI_SUCCESS)
        return rc;
    pml_rp_o(P, PML_WIN, PML_H(r));
    struct pml_win *w = pml_win_of(v);
    /* Whether every member's part can come back: 0 yes; 1 not in this restart (the fresh MPI
     * laid the memory out otherwise, or its addresses were taken: another restart may do, so
     * the snapshot is not marked as failed: pml_restart_refused); 2 never (the library's memory
     * was no shared mapping at the snapshot: marked, so that restart-mpi of the directory takes
     * an earlier snapshot). The members agree, and the lowest rank with the worst says why. */
    char why[600] = "";
    struct { int verdict, rank; } mine = { 0, w->comm_rank }, worst;
    uintptr_t lo, hi;
    if (lib_segment(w) && w->private_mem) {
        /* revive-restart-rank refuses such an image before this (tools/restart_wincheck.c),
         * unless it could not read its "mpi-objs" section */
        snprintf(why, sizeof why, "the memory the MPI library gave this window (%lld bytes at "
                 "%p) was not a shared mapping at the snapshot: no restart can put it back at "
                 "its address; restart from an earlier snapshot or run the job again",
                 (long long)w->size, w->base);
        mine.verdict = 2;
    } else if (lib_segment(w) && layout_check(w, r, base, &lo, &hi, why, sizeof why - 100)) {
        mine.verdict = 1;
    } else if (lib_segment(w) && pml_world_rank % 2 && revive_fault(REVIVE_FAULT_mpi_winremap_refused)) {
        snprintf(why, sizeof why, "the fresh MPI's memory of a window cannot be seen at the "
                 "program's addresses (fault point mpi-winremap-refused)");
        mine.verdict = 1;
    }
    if (mine.verdict == 1)
        snprintf(why + strlen(why), sizeof why - strlen(why), "; the snapshot itself is fine: "
                 "another restart (with as many ranks on each node) may bring it back");
    rc = pml_L.MPI_Allreduce(&mine, &worst, 1, (MPI_Datatype)pml_v2r(PML_H(MPI_2INT)),
                             (MPI_Op)pml_v2r(PML_H(MPI_MAXLOC)), comm);
    if (rc != MPI_SUCCESS)
        return rc;
    if (worst.verdict) {
        char msg[700];
        if (worst.rank == w->comm_rank)
            snprintf(msg, sizeof msg, "%s", why);
        else
            snprintf(msg, sizeof msg, "rank %d of an MPI window's communicator cannot bring "
                     "its part of the window back%s", worst.rank, worst.verdict == 1 ?
                     " in this restart (see its message)" : "");
        if (worst.verdict == 1) {
            pml_restart_refused(worst.rank != w->comm_rank, msg);
            /* every member's word is with the coordinator before one exits (objs_restart.c);
             * without that meeting the refusal may be taken for the snapshot's failure */
            if (pml_L.MPI_Barrier(comm) != MPI_SUCCESS)
                revive_log_warn("rank %d: the members of an MPI window's communicator could not "
                                "meet before refusing the restart (MPI_Barrier failed): the "
                                "refusal may be recorded as a failure of the snapshot",
                                pml_world_rank);
        }
        pml_rp_refuse(P, msg);
        return MPI_ERR_OTHER;
    }
    if (lib_segment(w) && remap_shared(P, w, r, base))
        return MPI_ERR_OTHER;
    pml_win_meet_make(w, comm); /* as right after the program's creation (win.c) */
    if (w->fence_open)
        rc = pml_L.MPI_Win_fence(0, r);
    return rc;
}

/* The window this entry made, if it was still open at the snapshot. */
static struct pml_win *live_win(struct pml_rp *P, uintptr_t *v)
{
    *v = pml_rp_peek_out(P);
    struct pml_vh *h = pml_vh_of(*v);
    if (h && h->kind == PML_WIN && h->rec == pml_rp_entry(P) && h->info)
        return h->info;
    pml_rp_refuse(P, "a window freed before the snapshot is needed to make a group again "
                  "(MPI_Win_get_group of a freed window): not supported");
    return NULL;
}

static int rp_create(struct pml_rp *P)
{
    uintptr_t v;
    void *base = pml_rp_p(P);
    MPI_Aint size;
    int du;
    pml_rp_i(P, &size, sizeof size);
    pml_rp_i(P, &du, sizeof du);
    MPI_Info info = (MPI_Info)pml_rp_h(P);
    MPI_Comm comm = (MPI_Comm)pml_rp_h(P);
    struct pml_win *w = live_win(P, &v);
    if (!w || pml_rp_failed(P))
        return MPI_ERR_OTHER;
    MPI_Win r = (MPI_Win)0;
    int rc = pml_dupattr_handback_begin(&w->dup, comm);
    if (rc == MPI_SUCCESS)
        rc = pml_L.MPI_Win_create(base, size, du, info, comm, &r);
    pml_dupattr_handback_end(&w->dup, comm);
    return made(P, v, r, NULL, comm, rc);
}

static int rp_allocate(struct pml_rp *P)
{
    uintptr_t v;
    MPI_Aint size;
    int du;
    pml_rp_i(P, &size, sizeof size);
    pml_rp_i(P, &du, sizeof du);
    MPI_Info info = (MPI_Info)pml_rp_h(P);
    MPI_Comm comm = (MPI_Comm)pml_rp_h(P);
    pml_rp_p(P);
    struct pml_win *w = live_win(P, &v);
    if (!w || pml_rp_failed(P))
        return MPI_ERR_OTHER;
    MPI_Win r = (MPI_Win)0;
    void *base = NULL;
    /* the library's duplicate of comm gets what the old one had (dup_attrs.c) */
    int rc = pml_dupattr_handback_begin(&w->dup, comm);
    if (rc != MPI_SUCCESS)
        ;
    else if (w->own_mem) /* the layer's memory, in the image (win.c) */
        rc = pml_L.MPI_Win_create(w->base, size, du, info, comm, &r);
    else {
        /* as at the program's call (win.c) */
        int arm = pml_win_armed(w->flavor == MPI_WIN_FLAVOR_SHARED, w->comm_size, size);
        const char *call = w->flavor == MPI_WIN_FLAVOR_SHARED ? "MPI_Win_allocate_shared"
                                                              : "MPI_Win_allocate";
        if (arm)
            pml_win_arm((size_t)size);
        if (w->flavor == MPI_WIN_FLAVOR_SHARED)
            rc = pml_L.MPI_Win_allocate_shared(size, du, info, comm, &base, &r);
        else
            rc = pml_L.MPI_Win_allocate(size, du, info, comm, &base, &r);
        if (arm)
            pml_win_disarm(call, rc);
    }
    pml_dupattr_handback_end(&w->dup, comm);
    return made(P, v, r, base, comm, rc);
}

static int rp_dynamic(struct pml_rp *P)
{
    uintptr_t v;
    MPI_Info info = (MPI_Info)pml_rp_h(P);
    MPI_Comm comm = (MPI_Comm)pml_rp_h(P);
    struct pml_win *w = live_win(P, &v);
    if (!w || pml_rp_failed(P))
        return MPI_ERR_OTHER;
    MPI_Win r = (MPI_Win)0;
    int rc = pml_dupattr_handback_begin(&w->dup, comm);
    if (rc == MPI_SUCCESS)
        rc = pml_L.MPI_Win_create_dynamic(info, comm, &r);
    pml_dupattr_handback_end(&w->dup, comm);
    return made(P, v, r, NULL, comm, rc);
}

pml_rp_fn pml_rp_win_fn(int fid)
{
    switch (fid) {
    case PML_FID_MPI_Win_create: return rp_create;
    case PML_FID_MPI_Win_allocate:
    case PML_FID_MPI_Win_allocate_shared: return rp_allocate;
    case PML_FID_MPI_Win_create_dynamic: return rp_dynamic;
    default: return NULL;
    }
}

/* After the replay and the files: the locks held at the snapshot, taken again. */
int pml_objs_restart_wins(char *err, size_t errlen)
{
    for (struct pml_win *w = pml_wins; w; w = w->next) {
        MPI_Win r = (MPI_Win)pml_v2r(w->v);
        if (w->access_open || w->exposure_open) {
            snprintf(err, errlen, "a window was in a post/start epoch at the snapshot (a "
                     "snapshot never happens inside one): the image is not one Revive wrote");
            return -EINVAL;
        }
        int rc = MPI_SUCCESS;
        if (w->lock_all)
            rc = pml_L.MPI_Win_lock_all(w->lock_all - 1, r);
        for (int t = 0; t < w->comm_size && rc == MPI_SUCCESS && w->nlocks; t++) {
            if (w->locks[t] == 2) {
                snprintf(err, errlen, "a window held an exclusive lock at the snapshot (a "
                         "snapshot never happens under one): the image is not one Revive wrote");
                return -EINVAL;
            }
            if (w->locks[t])
                rc = pml_L.MPI_Win_lock(MPI_LOCK_SHARED, t, w->lock_asserts[t], r);
        }
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "the locks a window held at the snapshot cannot be taken "
                     "again (MPI error %d)", rc);
            return -EIO;
        }
    }
    return 0;
}

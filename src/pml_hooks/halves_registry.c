/* Knowing the halves apart: the registry. Address intervals, each with its half and the rule
 * that put it there (sorted, non-overlapping, adjacent entries of the same half and reason
 * merged), and the table of threads whose half is known; one lock for both.
 *
 * The registry is never read half-updated. Every section that holds the lock, writer or reader,
 * runs inside crs_park_defer_enter/leave: a checkpoint does not park a thread while it holds
 * the lock (the thread parks when it leaves the section), so once every other thread is parked
 * the lock is free, and the checkpoint thread's queries take it like anyone else's. This holds
 * for the lower half's threads too: their reports come in through lower_root.c and the same
 * sections (they are parked like every thread, only left out of the image). The lock is the
 * holder's thread id, so a signal handler that interrupts its own thread inside a section (a
 * handler that maps memory) is recognised: its changes are queued and applied by the holder
 * before it lets go (or by the next holder), and a query it makes answers from names alone
 * (PML_W_BUSY) instead of reading the array its own thread is changing. A fork (pthread_atfork) happens
 * with the lock held by the forking thread, so the child's copy is whole; in the child, fork
 * handlers that run before ours (libcr's) may use the registry: the lock is then taken over.
 *
 * REVIVE_HALVES_CHECK=1 (tests, debugging): every query first checks the registry's
 * invariants (each entry non-empty with a known half and reason, entries sorted and
 * non-overlapping) and stops the process with a message if one does not hold. */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the lock and the queue of changes made by signal handlers -------------------------- */
static _Atomic pid_t reg_owner; /* 0: free */

enum { Q_PUT = 1, Q_DEL, Q_FILL, Q_SHMDT, Q_THR };
struct qop {
    uint64_t lo, hi;
    int32_t a, b; /* half and why; for Q_THR tid and half */
    uint8_t kind;
    _Atomic uint8_t ready;
};
/* Handlers that change the registry inside their own thread's section more often than this
 * before the section ends lose changes (counted: pml_reg_lost, shown in the dump). Ordinary
 * signals do not pile up (one pending at a time); realtime ones sent faster than a handler
 * runs, to a thread that waits for the CPU inside a section, could. */
#define Q_MAX 256
static struct qop queue[Q_MAX];
static _Atomic int nqueue;  /* slots taken (may pass Q_MAX: those ops are lost) */
static _Atomic int nlost;   /* changes lost for lack of room in the queue */
static int check_mode;

static void apply(int kind, uint64_t lo, uint64_t hi, int a, int b);
static int fork_takeover(pid_t owner, pid_t me);

/* Applies what handlers queued; the caller holds the lock. A handler of the caller's own
 * thread may interrupt this and queue more: it has finished by the time we look again. */
static void queue_drain(void)
{
    int done = 0;
    for (;;) {
        int n = atomic_load(&nqueue);
        if (done >= n || done >= Q_MAX) {
            if (atomic_compare_exchange_strong(&nqueue, &n, 0))
                return;
            continue;
        }
        struct qop *o = &queue[done++];
        if (!atomic_load(&o->ready))
            continue; /* its handler left without finishing (longjmp): lost */
        apply(o->kind, o->lo, o->hi, o->a, o->b);
        atomic_store(&o->ready, 0);
    }
}

/* Only while the lock is held by the calling thread, i.e. from a signal handler that
 * interrupted one of its sections. */
static void queue_op(int kind, uint64_t lo, uint64_t hi, int a, int b)
{
    int i = atomic_fetch_add(&nqueue, 1);
    if (i >= Q_MAX) {
        atomic_fetch_add(&nlost, 1);
        return;
    }
    queue[i].lo = lo;
    queue[i].hi = hi;
    queue[i].a = a;
    queue[i].b = b;
    queue[i].kind = (uint8_t)kind;
    atomic_store(&queue[i].ready, 1);
}

/* Enters a section: 1 with the lock held, 0 if this thread holds it already (we are in a
 * signal handler that interrupted a section of our own). Either way, pair with lock_drop. */
static int lock_take(pid_t me)
{
    crs_park_defer_enter();
    if (atomic_load(&reg_owner) == me)
        return 0;
    for (unsigned n = 0;; n++) {
        pid_t v = 0;
        if (atomic_compare_exchange_weak(&reg_owner, &v, me))
            break;
        if (n == 0 && v && fork_takeover(v, me))
            break;
        if (n > 64)
            sched_yield();
    }
    queue_drain(); /* changes a handler queued after the previous holder last looked */
    return 1;
}

static void lock_drop(pid_t me, int taken)
{
    while (taken) {
        queue_drain();
        atomic_store(&reg_owner, 0);
        /* a handler that ran between the drain and the store queued a change: apply it now,
         * unless another thread took the lock (it drains when it does) */
        pid_t v = 0;
        taken = atomic_load(&nqueue) != 0 && atomic_compare_exchange_strong(&reg_owner, &v, me);
    }
    crs_park_defer_leave();
}

/* A change: applied under the lock, or queued when a handler interrupted our own section. */
static void change(int kind, uint64_t lo, uint64_t hi, int a, int b)
{
    pid_t me = pml_my_tid();
    int t = lock_take(me);
    if (t)
        apply(kind, lo, hi, a, b);
    else
        queue_op(kind, lo, hi, a, b);
    lock_drop(me, t);
}

/* A fork happens with the lock held by the forking thread (prepare), so that the child's copy
 * is whole; both processes let go in their atfork handlers. In the child, handlers registered
 * before ours (libcr's starts a checkpoint thread) run first, while the lock still holds the
 * parent's thread id: a thread that finds it so takes it over (fork_takeover), and our child
 * handler then only ends the forking thread's park deferral section. */
static _Atomic int fork_took;     /* 1 from prepare until the lock is let go or taken over */
static _Atomic pid_t fork_tid, fork_pid; /* who held it across the fork, in which process */
static _Atomic int fork_taken;    /* the child's lock was taken over: its section still open */

/* libcr's fork guard (crs/libcr/fork_guard.h), taken before the lock: a Revive thread inside a
 * guard section may take the lock (a maps walk's question about a region), so the order is the
 * guard, then the lock; libcr registered its handlers before ours, so its prepare would run
 * after ours. Weak: the halves are also linked without libcr (tests). */
void crs_fork_guard_prepare(void) __attribute__((weak));
void crs_fork_guard_parent(void) __attribute__((weak));
void crs_fork_guard_child(void) __attribute__((weak));

static void fork_prepare(void)
{
    if (crs_fork_guard_prepare)
        crs_fork_guard_prepare();
    pid_t me = pml_my_tid();
    int took = lock_take(me);
    if (!took) {
        crs_park_defer_leave(); /* fork from a handler inside our own section: leave it be */
        return;
    }
    atomic_store(&fork_tid, me);
    atomic_store(&fork_pid, (pid_t)syscall(SYS_getpid));
    atomic_store(&fork_took, 1);
}

static void fork_parent(void)
{
    if (atomic_exchange(&fork_took, 0))
        lock_drop(pml_my_tid(), 1);
    if (crs_fork_guard_parent)
        crs_fork_guard_parent();
}

static void fork_child(void)
{
    if (atomic_exchange(&fork_took, 0))
        lock_drop(pml_my_tid(), 1); /* the child's thread has a new id: the lock goes by value */
    else if (atomic_exchange(&fork_taken, 0))
        crs_park_defer_leave(); /* the section prepare entered on this thread */
    if (crs_fork_guard_child)
        crs_fork_guard_child();
}

/* In a forked child before our child handler ran: the lock held by `owner` is the parent's,
 * held across the fork with the registry whole. Takes it over for `me`; 1 if it did. */
static int fork_takeover(pid_t owner, pid_t me)
{
    if (!atomic_load(&fork_took) || owner != atomic_load(&fork_tid) ||
        (pid_t)syscall(SYS_getpid) == atomic_load(&fork_pid))
        return 0;
    pid_t v = owner;
    if (!atomic_compare_exchange_strong(&reg_owner, &v, me))
        return 0;
    atomic_store(&fork_took, 0);
    atomic_store(&fork_taken, 1);
    return 1;
}

__attribute__((constructor(102))) static void registry_init(void)
{
    const char *v = getenv("REVIVE_HALVES_CHECK");
    check_mode = v && *v == '1';
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- the intervals ------------------------------------------------------------------------- */
#define REG_MAX 16384
struct hreg {
    uint64_t lo, hi;
    uint16_t half, why;
};
static struct hreg reg[REG_MAX];
static int nreg, reg_overflow;

static int reg_first(uint64_t a) /* the first entry ending after a */
{
    int l = 0, h = nreg;
    while (l < h) {
        int m = (l + h) / 2;
        if (reg[m].hi <= a)
            l = m + 1;
        else
            h = m;
    }
    return l;
}

static void reg_carve(uint64_t lo, uint64_t hi)
{
    int i = reg_first(lo);
    while (i < nreg && reg[i].lo < hi) {
        struct hreg *e = &reg[i];
        if (e->lo < lo && e->hi > hi) {
            if (nreg == REG_MAX) {
                reg_overflow = 1;
                e->hi = lo;
                return;
            }
            memmove(&reg[i + 2], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
            reg[i + 1] = *e;
            reg[i + 1].lo = hi;
            e->hi = lo;
            nreg++;
            return;
        }
        if (e->lo < lo) {
            e->hi = lo;
            i++;
        } else if (e->hi > hi) {
            e->lo = hi;
            return;
        } else {
            memmove(&reg[i], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
            nreg--;
        }
    }
}

static void reg_put_locked(uint64_t lo, uint64_t hi, int half, int why)
{
    if (lo >= hi)
        return;
    reg_carve(lo, hi);
    int i = reg_first(lo);
    int left = i > 0 && reg[i - 1].hi == lo && reg[i - 1].half == half && reg[i - 1].why == why;
    int right = i < nreg && reg[i].lo == hi && reg[i].half == half && reg[i].why == why;
    if (left && right) {
        reg[i - 1].hi = reg[i].hi;
        memmove(&reg[i], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
        nreg--;
    } else if (left) {
        reg[i - 1].hi = hi;
    } else if (right) {
        reg[i].lo = lo;
    } else if (nreg == REG_MAX) {
        reg_overflow = 1;
    } else {
        memmove(&reg[i + 1], &reg[i], (size_t)(nreg - i) * sizeof *reg);
        reg[i] = (struct hreg){ lo, hi, (uint16_t)half, (uint16_t)why };
        nreg++;
    }
}

static void fill_locked(uint64_t lo, uint64_t hi, int half, int why)
{
    uint64_t cur = lo;
    while (cur < hi) {
        int i = reg_first(cur);
        if (i < nreg && reg[i].lo <= cur) {
            cur = reg[i].hi;
            continue;
        }
        uint64_t end = i < nreg && reg[i].lo < hi ? reg[i].lo : hi;
        reg_put_locked(cur, end, half, why);
        cur = end;
    }
}

static void shmdt_locked(uint64_t addr)
{
    int i = reg_first(addr);
    if (i < nreg && reg[i].lo <= addr && reg[i].why == PML_W_USHM)
        reg_carve(addr, reg[i].hi);
}

static void thr_set_locked(pid_t tid, int half);

static void apply(int kind, uint64_t lo, uint64_t hi, int a, int b)
{
    switch (kind) {
    case Q_PUT:
        reg_put_locked(lo, hi, a, b);
        break;
    case Q_DEL:
        reg_carve(lo, hi);
        break;
    case Q_FILL:
        fill_locked(lo, hi, a, b);
        break;
    case Q_SHMDT:
        shmdt_locked(lo);
        break;
    case Q_THR:
        thr_set_locked((pid_t)a, b);
        break;
    default:
        break;
    }
}

void pml_reg_put(uint64_t lo, uint64_t hi, int half, int why)
{
    if (lo < hi)
        change(Q_PUT, lo, hi, half, why);
}

void pml_reg_del(uint64_t lo, uint64_t hi)
{
    if (lo < hi)
        change(Q_DEL, lo, hi, 0, 0);
}

void pml_reg_fill(uint64_t lo, uint64_t hi, int half, int why)
{
    if (lo < hi)
        change(Q_FILL, lo, hi, half, why);
}

void pml_reg_shmdt(uint64_t addr)
{
    change(Q_SHMDT, addr, addr, 0, 0);
}

/* ---- the invariants (REVIVE_HALVES_CHECK=1) --------------------------------------------- */
static char *put_hex(char *p, uint64_t v)
{
    char t[16];
    int n = 0;
    do
        t[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4));
    while (n)
        *p++ = t[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* Stops the process: the registry was found torn. No stdio, no allocation. */
static void broken(int i, const char *what)
{
    char msg[512], *p = msg;
    p = put_str(p, "revive: mpi: halves: the registry is torn (REVIVE_HALVES_CHECK): ");
    p = put_str(p, what);
    p = put_str(p, " at entry 0x");
    p = put_hex(p, (uint64_t)i);
    p = put_str(p, " of 0x");
    p = put_hex(p, (uint64_t)nreg);
    for (int k = i > 0 ? i - 1 : 0; k <= i + 1 && k < nreg; k++) {
        p = put_str(p, "; [");
        p = put_hex(p, reg[k].lo);
        p = put_str(p, "-");
        p = put_hex(p, reg[k].hi);
        p = put_str(p, " half ");
        p = put_hex(p, reg[k].half);
        p = put_str(p, " why ");
        p = put_hex(p, reg[k].why);
        p = put_str(p, "]");
    }
    *p++ = '\n';
    ssize_t w = write(2, msg, (size_t)(p - msg));
    (void)w;
    abort();
}

static void verify(void)
{
    if (nreg < 0 || nreg > REG_MAX)
        broken(0, "count out of range");
    for (int i = 0; i < nreg; i++) {
        if (reg[i].lo >= reg[i].hi)
            broken(i, "empty or reversed entry");
        if (reg[i].half != PML_HALF_UPPER && reg[i].half != PML_HALF_LOWER)
            broken(i, "entry without a half");
        if (reg[i].why == PML_W_NONE || reg[i].why >= PML_W_COUNT)
            broken(i, "entry without a reason");
        if (i > 0 && reg[i - 1].hi > reg[i].lo)
            broken(i, "entry overlaps or comes before the previous one");
    }
}

/* ---- reading ------------------------------------------------------------------------------ */
int pml_reg_walk(uint64_t start, uint64_t end, pml_reg_piece_fn *fn, void *arg)
{
    pid_t me = pml_my_tid();
    int t = lock_take(me);
    if (!t) {
        lock_drop(me, t);
        return -1;
    }
    if (check_mode)
        verify();
    uint64_t a = start;
    int i = reg_first(start);
    while (a < end) {
        uint64_t b;
        if (i < nreg && reg[i].lo <= a) {
            b = reg[i].hi < end ? reg[i].hi : end;
            fn(arg, a, b, reg[i].half, reg[i].why);
            i++;
        } else {
            b = i < nreg && reg[i].lo < end ? reg[i].lo : end;
            fn(arg, a, b, 0, PML_W_NONE);
        }
        a = b;
    }
    lock_drop(me, t);
    return 0;
}

int pml_reg_entries(void)
{
    return nreg;
}

int pml_reg_overflowed(void)
{
    return reg_overflow;
}

int pml_reg_capacity(void)
{
    return REG_MAX;
}

int pml_reg_lost(void)
{
    return atomic_load(&nlost);
}

/* ---- threads ------------------------------------------------------------------------------- */
#define THR_MAX 4096
static struct {
    pid_t tid;
    int half;
} thr[THR_MAX];
static int nthr;

static void thr_set_locked(pid_t tid, int half)
{
    int i;
    for (i = 0; i < nthr && thr[i].tid != tid; i++)
        ;
    if (half) {
        if (i == nthr && nthr < THR_MAX)
            nthr++;
        if (i < nthr) {
            thr[i].tid = tid;
            thr[i].half = half;
        }
    } else if (i < nthr) {
        thr[i] = thr[--nthr];
    }
}

void pml_thr_set(pid_t tid, int half)
{
    change(Q_THR, 0, 0, (int)tid, half);
}

int pml_thr_half(pid_t tid)
{
    pid_t me = pml_my_tid();
    int t = lock_take(me), h = 0;
    if (!t)
        h = -1;
    for (int i = 0; t && i < nthr; i++)
        if (thr[i].tid == tid)
            h = thr[i].half;
    lock_drop(me, t);
    return h;
}

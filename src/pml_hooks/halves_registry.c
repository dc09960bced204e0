/* Knowing the halves apart: the registry. Address intervals, each with its half and the rule
 * that put it there (sorted, non-overlapping, adjacent entries of the same half and reason
 * merged), and the table of threads whose half is known; one lock for both.
 *
 * The lock: writers and readers alike; a reader that cannot get it within a bounded wait (its
 * holder is parked by a checkpoint) reads without it. */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the lock ------------------------------------------------------------------------------ */
static volatile int reg_lock;
static volatile pid_t reg_owner;

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* 1: locked by us, release later; 0: not locked (recursion from a signal handler, or gave up) */
static int lock_take(int bounded)
{
    pid_t me = my_tid();
    if (reg_owner == me)
        return 0;
    for (unsigned long n = 0; __atomic_exchange_n(&reg_lock, 1, __ATOMIC_ACQUIRE); n++) {
        if (bounded && n > (1ul << 16))
            return 0;
        if (n > 64)
            sched_yield();
    }
    reg_owner = me;
    return 1;
}

static void lock_drop(int taken)
{
    if (!taken)
        return;
    reg_owner = 0;
    __atomic_store_n(&reg_lock, 0, __ATOMIC_RELEASE);
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

void pml_reg_put(uint64_t lo, uint64_t hi, int half, int why)
{
    int t = lock_take(0); /* 0: a signal handler interrupted an update of ours; drop it */
    if (t)
        reg_put_locked(lo, hi, half, why);
    lock_drop(t);
}

void pml_reg_del(uint64_t lo, uint64_t hi)
{
    int t = lock_take(0);
    if (t)
        reg_carve(lo, hi);
    lock_drop(t);
}

void pml_reg_fill(uint64_t lo, uint64_t hi, int half, int why)
{
    int t = lock_take(0);
    if (!t)
        return;
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
    lock_drop(t);
}

void pml_reg_shmdt(uint64_t addr)
{
    int t = lock_take(0);
    int i = reg_first(addr);
    if (t && i < nreg && reg[i].lo <= addr && reg[i].why == PML_W_USHM)
        reg_carve(addr, reg[i].hi);
    lock_drop(t);
}

void pml_reg_walk(uint64_t start, uint64_t end, pml_reg_piece_fn *fn, void *arg)
{
    int t = lock_take(1);
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
    lock_drop(t);
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

/* ---- threads ------------------------------------------------------------------------------- */
#define THR_MAX 4096
static struct {
    pid_t tid;
    int half;
} thr[THR_MAX];
static int nthr;

void pml_thr_set(pid_t tid, int half)
{
    int t = lock_take(0);
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
    lock_drop(t);
}

int pml_thr_half(pid_t tid)
{
    int t = lock_take(1), h = 0;
    for (int i = 0; i < nthr; i++)
        if (thr[i].tid == tid)
            h = thr[i].half;
    lock_drop(t);
    return h;
}

/* The fork guard (fork_guard.h): one word, the count of open sections (one per thread, however
 * nested) and a bit set while a fork copies the process; a bitmap of the descriptors Revive owns. */
#define _GNU_SOURCE
#include "crs/libcr/fork_guard.h"
#include "crs/base/capture_filter.h"
#include "common/fault.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CRS_TLS __thread __attribute__((tls_model("initial-exec")))
#define FORKING 0x80000000u

static _Atomic uint32_t word;      /* sections open (threads) | FORKING */
static CRS_TLS int depth;          /* this thread's sections, nested */
static CRS_TLS int counted;        /* its outermost section is in word's count */
/* 1 while this thread changes its count in word (the compare-exchange or the decrement) and
 * `counted` together: a signal handler that forks meanwhile (_Fork, fork_raw.c) cannot tell
 * whether the count is in word yet, since the interrupted thread cannot finish either before the
 * handler returns (diffrev33 R-L10: it waited for its own count for ever) */
static CRS_TLS volatile int unsure;
static CRS_TLS int fork_depth;     /* this thread is forking (prepare .. parent/child), nested */
static CRS_TLS int close_due;      /* the child's first handler closes the owned descriptors */
static _Atomic uint64_t owned[CRS_FORK_GUARD_FDS / 64];
/* what each owned number held when owned: a number closed without a disown and used again for
 * another object is not closed in a child (an eventfd's, epoll's, timerfd's key is their shared
 * anonymous inode: only those may be taken for one another) */
static uint64_t owned_key[CRS_FORK_GUARD_FDS];

static uint64_t key_of(int fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0)
        return 0;
    return ((uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40)) | 1;
}

/* A turn of a wait: yield at first, then sleep 50 us (the other side runs on another core or
 * needs this one). */
static void pause_turn(unsigned n)
{
    if (n < 64) {
        sched_yield();
        return;
    }
    struct timespec t = { 0, 50 * 1000 };
    syscall(SYS_nanosleep, &t, NULL);
}

void crs_fork_guard_enter(void)
{
    if (depth++ > 0 || fork_depth > 0) {
        /* nested, or inside this thread's own fork handlers (which hold the guard) */
        crs_park_defer_enter();
        return;
    }
    for (unsigned n = 0;; n++) {
        crs_park_defer_enter();
        uint32_t v = atomic_load(&word);
        if (!(v & FORKING)) {
            int was = unsure; /* (a handler's section inside the window of an exit) */
            unsure = 1;
            atomic_signal_fence(memory_order_seq_cst);
            int in = atomic_compare_exchange_strong(&word, &v, v + 1);
            counted = in;
            atomic_signal_fence(memory_order_seq_cst);
            unsure = was;
            if (in)
                return;
        }
        /* a fork is copying the process: wait outside the deferral (the forking thread is in one
         * and ends it soon; this thread may be parked meanwhile, holding nothing) */
        crs_park_defer_leave();
        pause_turn(n);
    }
}

void crs_fork_guard_leave(void)
{
    if (depth <= 0)
        return;
    if (depth == 1 && counted) {
        int was = unsure;
        unsure = 1;
        atomic_signal_fence(memory_order_seq_cst);
        depth = 0;
        counted = 0;
        /* never below 0: in a child forked from a handler inside this very window, the child's
         * word did not count this section (crs_fork_guard_child) */
        uint32_t v = atomic_load(&word);
        while ((v & ~FORKING) != 0 && !atomic_compare_exchange_weak(&word, &v, v - 1))
            ;
        atomic_signal_fence(memory_order_seq_cst);
        unsure = was;
    } else {
        depth--;
    }
    crs_park_defer_leave();
}

void crs_fork_guard_own(int fd)
{
    if (fd < 0 || fd >= CRS_FORK_GUARD_FDS)
        return;
    __atomic_store_n(&owned_key[fd], key_of(fd), __ATOMIC_RELAXED);
    atomic_fetch_or(&owned[fd / 64], 1ull << (fd % 64));
}

int crs_fork_guard_owns(int fd)
{
    return fd >= 0 && fd < CRS_FORK_GUARD_FDS && (atomic_load(&owned[fd / 64]) >> (fd % 64) & 1);
}

void crs_fork_guard_disown(int fd)
{
    if (fd >= 0 && fd < CRS_FORK_GUARD_FDS)
        atomic_fetch_and(&owned[fd / 64], ~(1ull << (fd % 64)));
}

void crs_fork_guard_prepare(void)
{
    if (fork_depth++ > 0)
        return; /* the halves registry's handler took it for this fork already */
    close_due = 1;
    /* a fork from a signal handler that interrupted a section of this thread: that section is
     * this thread's own count, not waited for; one that interrupted the thread's entry or exit
     * (unsure) cannot know whether word holds its count, and takes the guard with at most one
     * section open: its own, or another thread's (whose descriptor the child may then hold, as it
     * holds one of its own thread's interrupted section) */
    uint32_t own = unsure || (depth > 0 && counted) ? 1 : 0;
    for (unsigned n = 0;; n++) {
        crs_park_defer_enter();
        if (n == 0 && revive_fault(REVIVE_FAULT_fork_prepare_late)) {
            /* (tests) a park signal now is put off (this section) and, once the checkpoint
             * thread's own section (its walk of /proc/self/task, where it signals) is over, the
             * fork goes on: the child is a copy of a thread whose park is due (crs_forkpark.sh) */
            struct timespec late = { 0, 200 * 1000 * 1000 };
            while (syscall(SYS_nanosleep, &late, &late) != 0)
                ;
        }
        uint32_t v = atomic_load(&word);
        if (!(v & FORKING) && v <= own && atomic_compare_exchange_strong(&word, &v, v | FORKING))
            return;
        crs_park_defer_leave();
        pause_turn(n);
    }
}

void crs_fork_guard_parent(void)
{
    if (fork_depth <= 0 || --fork_depth > 0)
        return;
    close_due = 0;
    atomic_fetch_and(&word, ~FORKING);
    crs_park_defer_leave();
}

/* In the child. Its first call (libcr's handler, registered before any other of Revive's) closes
 * the owned descriptors: no thread of Revive's runs here. Only the first: the handlers after it
 * make descriptors of the child's own (libcr's new listener, owned through the MPI layer's
 * socket wrapper), which a second pass closed (the child's checkpoint thread then did not
 * answer a tree capture: rank_forkloop). */
void crs_fork_guard_child(void)
{
    for (int i = 0; close_due && i < CRS_FORK_GUARD_FDS / 64; i++) {
        uint64_t m = atomic_exchange(&owned[i], 0);
        while (m) {
            int fd = i * 64 + __builtin_ctzll(m);
            m &= m - 1;
            if (key_of(fd) == owned_key[fd])
                syscall(SYS_close, fd);
        }
    }
    close_due = 0;
    if (fork_depth <= 0 || --fork_depth > 0)
        return;
    /* the other threads' sections are not in this process: only this thread's own, if the fork
     * came from a signal handler inside one; none when the handler came inside its entry or exit
     * (unsure): an entry's compare-exchange then fails or counts it, an exit's decrement stops
     * at 0 */
    atomic_store(&word, !unsure && depth > 0 && counted ? 1u : 0u);
    crs_park_defer_leave();
}

/* A restarted process (libcr's restart hook, runtime.c): the descriptors owned at the capture were
 * not saved (their numbers may be the application's now), and only the restoring thread may be
 * inside a section (every other one was parked outside any). */
void crs_fork_guard_restarted(void)
{
    for (int i = 0; i < CRS_FORK_GUARD_FDS / 64; i++)
        atomic_store(&owned[i], 0);
    fork_depth = 0;
    atomic_store(&word, depth > 0 && counted ? 1u : 0u);
}

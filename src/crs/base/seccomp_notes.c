/* The seccomp filters the program installed (seccomp_notes.h). */
#define _GNU_SOURCE
#include "crs/base/seccomp_notes.h"
#include "crs/base/capture_filter.h"
#include "common/procfs.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <string.h>

static atomic_flag lock = ATOMIC_FLAG_INIT;
static int inherited = -1;              /* -1: libcr did not see the process start */
static size_t nnotes;
static struct crs_seccomp_note notes[CRS_SECCOMP_NOTES_MAX];
static struct sock_filter insns[CRS_SECCOMP_INSNS_MAX];
static uint32_t ninsns;
static const char *broken;              /* why the notes no longer describe the filters */

/* Which notes each thread runs under, in memory: a thread's `mine_n` is
 * right while its `mine_gen` equals `gen`; each TSYNC install bumps `gen`
 * and puts every thread under the first `synced` notes. mine_gen 0: a thread
 * libcr did not see start (its creator's count never reached it). In the
 * process's memory, so a restarted process has them again, each thread its
 * own. */
static uint32_t gen = 1, synced;
static __thread uint32_t mine_n __attribute__((tls_model("initial-exec")));
static __thread uint32_t mine_gen __attribute__((tls_model("initial-exec")));

int crs_seccomp_status_count(const char *st, int *strict)
{
    uint64_t mode = 0, count = 0;
    if (revive_status_u64(st, "Seccomp", &mode))
        return -1;
    if (strict)
        *strict = mode == 1;
    if (revive_status_u64(st, "Seccomp_filters", &count))
        return mode ? -1 : 0;   /* a kernel before 5.9: none when the mode is 0 */
    return (int)count;
}

int crs_seccomp_thread_count(int *strict)
{
    char st[4096];
    long r = revive_read_file("/proc/thread-self/status", st, sizeof st);
    return r > 0 || r == -ENOSPC ? crs_seccomp_status_count(st, strict) : -1;
}

void crs_seccomp_notes_start(void)
{
    if (inherited < 0)
        inherited = crs_seccomp_thread_count(NULL);
    mine_n = 0;   /* the thread that starts libcr: under none of the program's yet */
    mine_gen = gen;
}

/* The notes the calling thread runs under, or -1 when libcr cannot tell.
 * Under the lock. */
static long mine_now(void)
{
    if (mine_gen == gen)
        return mine_n;
    if (mine_gen)
        return synced;   /* a TSYNC install since its own put it under the installer's */
    return nnotes ? -1 : 0;   /* unseen thread: under none when there are none */
}

struct crs_seccomp_mine crs_seccomp_thread_mine(void)
{
    crs_park_defer_enter();
    crs_park_lock_take(&lock);
    long n = mine_now();
    struct crs_seccomp_mine m = { n < 0 ? 0 : (uint32_t)n, n < 0 ? 0 : gen };
    crs_park_lock_drop(&lock);
    crs_park_defer_leave();
    return m;
}

void crs_seccomp_thread_begin(struct crs_seccomp_mine m)
{
    mine_n = m.n;
    mine_gen = m.gen;
}

void crs_seccomp_notes_add(unsigned flags, const struct sock_fprog *prog)
{
    crs_park_defer_enter();
    crs_park_lock_take(&lock);
    long before = mine_now();
    if (before < 0 || inherited < 0) {
        broken = inherited < 0 ? "a filter went in where /proc could not tell how many the process had at its start"
                               : "a filter went in in a thread libcr did not see start (not made by "
                                 "pthread_create), whose filters it cannot tell";
    } else if ((size_t)before != nnotes) {
        if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && (size_t)before < nnotes)
            nnotes = (size_t)before;   /* every thread runs under the caller's: the rest is gone */
        else
            broken = "threads installed filters of their own (the chains of filters fork)";
    }
    if (!broken && (nnotes == CRS_SECCOMP_NOTES_MAX || prog->len > CRS_SECCOMP_INSNS_MAX - ninsns))
        broken = "more filters than Revive keeps (64 filters, 32768 instructions)";
    if (!broken) {
        /* drop the instructions of notes cut off above */
        ninsns = nnotes ? notes[nnotes - 1].first + notes[nnotes - 1].len : 0;
        struct crs_seccomp_note *n = &notes[nnotes];
        n->flags = flags;
        n->len = prog->len;
        n->first = ninsns;
        memcpy(&insns[ninsns], prog->filter, prog->len * sizeof *insns);
        ninsns += prog->len;
        nnotes++;
    }
    /* its count (once the notes broke, no count matters: the capture refuses) */
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) {
        gen++;
        synced = (uint32_t)nnotes;
    }
    mine_n = (uint32_t)nnotes;
    mine_gen = gen;
    crs_park_lock_drop(&lock);
    crs_park_defer_leave();
}

const struct crs_seccomp_note *crs_seccomp_notes(int *inh, size_t *n, const char **why)
{
    *inh = inherited;
    *n = nnotes;
    *why = broken;
    return broken ? NULL : notes;
}

const struct sock_filter *crs_seccomp_notes_insns(void)
{
    return insns;
}

int crs_seccomp_notes_any(void)
{
    return nnotes > 0 && !broken;
}

int crs_seccomp_notes_installed(void)
{
    return nnotes > 0 || broken;
}

static int waiting;

int crs_seccomp_restore_waiting(void)
{
    return waiting;
}

void crs_seccomp_restore_set_waiting(int on)
{
    waiting = on;
}

void crs_seccomp_notes_restarted(int inh)
{
    inherited = inh;
}

long crs_seccomp_install(unsigned flags, uint32_t first, uint32_t len)
{
    struct sock_fprog prog = { .len = (unsigned short)len, .filter = &insns[first] };
    long r;
    /* the kernel's call itself: libcr's syscall() would note the filter again */
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)SYS_seccomp), "D"((long)SECCOMP_SET_MODE_FILTER), "S"((long)flags), "d"(&prog)
                     : "rcx", "r11", "memory");
    return r;
}

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
}

void crs_seccomp_notes_add(int before, unsigned flags, const struct sock_fprog *prog)
{
    crs_park_defer_enter();
    crs_park_lock_take(&lock);
    if (before < 0 || inherited < 0) {
        broken = "a filter went in where /proc could not tell how many the thread had";
    } else if ((size_t)before != (size_t)inherited + nnotes) {
        if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && before >= inherited && (size_t)(before - inherited) < nnotes)
            nnotes = (size_t)(before - inherited);   /* every thread runs under the caller's: the rest is gone */
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

/* The program's seccomp filters installed again (seccomp_restore.h). */
#define _GNU_SOURCE
#include "crs/uspace/seccomp_restore.h"
#include "crs/uspace/park.h"
#include "crs/base/seccomp_notes.h"
#define REVIVE_LOG_SUBSYS "crs"
#include "common/log.h"

#include <linux/seccomp.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The filters every thread ran under, which the checkpoint thread
 * installed for all: each thread installs the ones after them. */
static uint32_t common;

/* Flags a filter goes in with again: not TSYNC (given where wanted) nor a
 * listener (refused at the checkpoint). */
#define KEPT_FLAGS (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

/* 0, or with TSYNC the id of a thread that could not be synchronised. */
static long install_or_die(const struct crs_seccomp_note *notes, uint32_t i, unsigned extra)
{
    long r = crs_seccomp_install((notes[i].flags & KEPT_FLAGS) | extra, notes[i].first, notes[i].len);
    if (r >= 0)
        return r;
    revive_log_error("restarted process %d: cannot install its seccomp filter %u again in thread %ld: %s; it "
                     "must not run without it, so it ends here (restart it as root, or from a process with "
                     "no_new_privs where the program had it)", getpid(), i, (long)syscall(SYS_gettid),
                     strerror((int)-r));
    syscall(SYS_kill, getpid(), SIGKILL);
    return r;
}

/* The filters every restored thread ran under: read while the threads'
 * records are valid (before they are released). */
static uint32_t least_of_all(const struct crs_rec_thread_attr *self, size_t n)
{
    uint32_t least = self->seccomp;
    size_t nrec;
    crs_park_records(&nrec);
    for (size_t i = 0; i < nrec; i++) {
        /* not a thread the image left out (an MPI rank's lower-half one): its record is gone */
        const struct crs_rec_thread_attr *a = crs_park_restored(i) ? crs_park_attr(i) : NULL;
        if (a && a->seccomp < least)
            least = a->seccomp;
    }
    return least > n ? (uint32_t)n : least;
}

static void install_common(uint32_t least)
{
    int inherited;
    size_t n;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inherited, &n, &why);
    common = 0;
    if (!notes)
        return;
    /* the restored process runs under cr_restart's filters, beneath the program's */
    int now = crs_seccomp_thread_count(NULL);
    crs_seccomp_notes_restarted(now < 0 ? 0 : now);
    for (uint32_t i = 0; i < least; i++)
        if (install_or_die(notes, i, SECCOMP_FILTER_FLAG_TSYNC) > 0) {
            /* a thread the kernel would not synchronise (the first goes in for all or
             * none): each thread installs every one of its own */
            revive_log_info("restarted process %d: its threads take their seccomp filters one by one",
                            getpid());
            least = i;
            break;
        }
    common = least;
}

void crs_seccomp_restore_common(const struct crs_rec_thread_attr *self)
{
    int inherited;
    size_t n;
    const char *why;
    common = 0;
    if (!crs_seccomp_notes(&inherited, &n, &why))
        return;
    install_common(least_of_all(self, n));
}

/* The checkpoint thread's attributes and id while the filters wait. */
static struct crs_rec_thread_attr late_self;
static pid_t late_tid;
static uint32_t late_least;   /* least_of_all, while the records were valid */

void crs_seccomp_restore_defer(const struct crs_rec_thread_attr *self)
{
    int inherited;
    size_t n;
    const char *why;
    if (!crs_seccomp_notes(&inherited, &n, &why) || !n) {
        common = 0;   /* nothing to install */
        return;
    }
    late_self = *self;
    late_least = least_of_all(self, n);
    late_tid = (pid_t)syscall(SYS_gettid);
    common = UINT32_MAX;   /* no thread installs its own before the common ones */
    crs_seccomp_restore_set_waiting(1);
}

void crs_seccomp_restore_late(void)
{
    if (!crs_seccomp_restore_waiting())
        return;
    if ((pid_t)syscall(SYS_gettid) != late_tid) {
        revive_log_error("restarted process %d: its seccomp filters were to go in from thread %d, the one "
                         "that took the checkpoint, not from thread %ld; it ends here rather than run "
                         "without them", getpid(), (int)late_tid, (long)syscall(SYS_gettid));
        syscall(SYS_kill, getpid(), SIGKILL);
        return;
    }
    install_common(late_least);
    crs_seccomp_restore_own(&late_self);
    crs_seccomp_restore_set_waiting(0);
}

void crs_seccomp_restore_own(const struct crs_rec_thread_attr *a)
{
    int inherited;
    size_t n;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inherited, &n, &why);
    for (uint32_t i = common; notes && i < a->seccomp && i < n; i++)
        install_or_die(notes, i, 0);
}

/* Per-thread scheduling and prctl attributes: described by each thread as it
 * parks, set again by it after a restart (thread_attr.h). */
#define _GNU_SOURCE
#include "crs/uspace/thread_attr.h"
#define REVIVE_LOG_SUBSYS "crs"
#include "common/log.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The launcher's attributes (those of the main thread when libcr started). */
static struct crs_rec_thread_attr launcher;
static int have_launcher;

/* The calling thread's attributes, every one read (flags: none yet). */
static void read_own(struct crs_rec_thread_attr *a)
{
    memset(a, 0, sizeof *a);
    a->tid = (int32_t)syscall(SYS_gettid);
    /* getpriority(PRIO_PROCESS, 0) is the calling thread's on Linux: the
     * raw call returns 20 - nice, never negative, so errors are told apart */
    long pr = syscall(SYS_getpriority, PRIO_PROCESS, 0);
    a->nice = pr > 0 ? (int32_t)(20 - pr) : 0;
    int pol = sched_getscheduler(0);
    struct sched_param sp = { 0 };
    if (pol >= 0 && sched_getparam(0, &sp) == 0) {
        a->policy = (uint32_t)pol;
        a->priority = (uint32_t)sp.sched_priority;
    }
    /* the kernel's mask, at most CRS_TATTR_CPUS_MAX CPUs (the raw call
     * returns the bytes it wrote) */
    if (syscall(SYS_sched_getaffinity, 0, sizeof a->cpus, a->cpus) < 0)
        memset(a->cpus, 0, sizeof a->cpus);
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    a->timerslack_ns = slack > 0 ? (uint64_t)slack : 0;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        a->flags |= CRS_TATTR_F_NNP;
    a->personality = (uint32_t)personality(0xffffffff);
}

void crs_thread_attr_baseline(void)
{
    if (have_launcher)
        return;
    read_own(&launcher);
    have_launcher = 1;
}

void crs_thread_attr_describe(struct crs_rec_thread_attr *a)
{
    read_own(a);
    if (!have_launcher)
        return;
    const struct crs_rec_thread_attr *l = &launcher;
    uint32_t nnp = a->flags & CRS_TATTR_F_NNP;
    a->flags = nnp && !(l->flags & CRS_TATTR_F_NNP) ? CRS_TATTR_F_NNP : 0;
    if (a->nice != l->nice)
        a->flags |= CRS_TATTR_F_NICE;
    if (a->policy != l->policy || a->priority != l->priority)
        a->flags |= CRS_TATTR_F_SCHED;
    if (memcmp(a->cpus, l->cpus, sizeof a->cpus) != 0 && (a->cpus[0] || a->cpus[1]))
        a->flags |= CRS_TATTR_F_AFFINITY;
    if (a->timerslack_ns != l->timerslack_ns && a->timerslack_ns)
        a->flags |= CRS_TATTR_F_SLACK;
    if (a->personality != l->personality)
        a->flags |= CRS_TATTR_F_PERSONALITY;
}

/* Each kind of shortfall said once per process (threads share the words). */
static atomic_int said_nice, said_sched, said_cpus, said_nnp, said_pers;
#define SAY_ONCE(said, ...)                      \
    do {                                         \
        if (atomic_exchange(&(said), 1) == 0)    \
            revive_log_warn(__VA_ARGS__);        \
    } while (0)

void crs_thread_attr_reinstate(const struct crs_rec_thread_attr *a)
{
    int tid = (int)syscall(SYS_gettid);
    if (a->flags & CRS_TATTR_F_SCHED) {
        struct sched_param sp = { .sched_priority = (int)a->priority };
        if (sched_setscheduler(0, (int)a->policy, &sp) != 0)
            SAY_ONCE(said_sched, "restarted thread %d: cannot take scheduling policy %ld (priority %ld) again without "
                     "CAP_SYS_NICE or RLIMIT_RTPRIO; it runs under the policy cr_restart had",
                     tid, (long)(a->policy & 0xff), (long)a->priority);
    }
    if (a->flags & CRS_TATTR_F_NICE) {
        if (setpriority(PRIO_PROCESS, 0, a->nice) != 0) {
            /* lower than cr_restart's needs CAP_SYS_NICE or RLIMIT_NICE:
             * as low as allowed */
            long now = syscall(SYS_getpriority, PRIO_PROCESS, 0);
            int cur = now > 0 ? (int)(20 - now) : 0;
            for (int n = cur - 1; n >= a->nice && setpriority(PRIO_PROCESS, 0, n) == 0; n--)
                ;
            long got = syscall(SYS_getpriority, PRIO_PROCESS, 0);
            SAY_ONCE(said_nice, "restarted thread %d: its nice value %ld needs CAP_SYS_NICE or a higher RLIMIT_NICE "
                     "(a lower value than cr_restart's); it runs at %ld",
                     tid, (long)a->nice, got > 0 ? 20 - got : 0);
        }
    }
    if (a->flags & CRS_TATTR_F_AFFINITY) {
        /* the CPUs of this machine it may run on: the saved mask's that exist here */
        uint64_t here[CRS_TATTR_CPUS_MAX / 64] = { 0 }, want[CRS_TATTR_CPUS_MAX / 64];
        int any = 0, lost = 0;
        long nconf = sysconf(_SC_NPROCESSORS_CONF);
        for (long c = 0; c < nconf && c < (long)CRS_TATTR_CPUS_MAX; c++)
            here[c / 64] |= 1ull << (c % 64);
        for (unsigned w = 0; w < CRS_TATTR_CPUS_MAX / 64; w++) {
            want[w] = a->cpus[w] & here[w];
            any |= want[w] != 0;
            lost |= (a->cpus[w] & ~here[w]) != 0;
        }
        if (any && syscall(SYS_sched_setaffinity, 0, sizeof want, want) != 0)
            any = 0;
        if (!any)
            SAY_ONCE(said_cpus, "restarted thread %d: none of the CPUs of its affinity mask (%ld of them) can be used on "
                     "this machine (%ld CPUs); it runs on cr_restart's",
                     tid, (long)__builtin_popcountll(a->cpus[0]), nconf);
        else if (lost)
            SAY_ONCE(said_cpus, "restarted thread %d: its CPU affinity names CPUs this machine lacks (it has %ld); "
                     "it runs on the others of its mask", tid, nconf);
    }
    if (a->flags & CRS_TATTR_F_SLACK)
        prctl(PR_SET_TIMERSLACK, (unsigned long)a->timerslack_ns, 0, 0, 0);
    /* after the restorer's mappings: READ_IMPLIES_EXEC would have made them executable */
    if ((a->flags & CRS_TATTR_F_PERSONALITY) && personality(a->personality) < 0)
        SAY_ONCE(said_pers, "restarted thread %d: cannot take its personality %#x again: %s", tid, a->personality,
                 strerror(errno));
    if ((a->flags & CRS_TATTR_F_NNP) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        SAY_ONCE(said_nnp, "restarted thread %d: cannot set no_new_privs again: %s", tid, strerror(errno));
}

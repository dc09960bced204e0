/*
 * State test: the attributes a program sets on its process and its threads
 * (review of issue 10, MEDIUM-3: after a restart they were cr_restart's).
 * The main thread and a worker thread each set their own nice value,
 * scheduling policy, CPU affinity, timer slack and name; the worker alone
 * sets no_new_privs (per thread); the process sets its personality, umask,
 * dumpable, child-subreaper, parent-death signal, transparent-huge-page
 * switch, keepcaps (as root) and limits (RLIMIT_CORE 0/0, a lower
 * RLIMIT_MSGQUEUE). Each check prints them all; a restart must print the
 * same. The worker reads its own (timer slack and no_new_privs are shown to
 * the thread only) when the main thread asks. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int asked, answered, worker_ready;
static char worker_report[512];

static int first_cpu, last_cpu;   /* of the mask the program started with */

/* The calling thread's attributes as one line. */
static void own_attrs(const char *who, char *out, size_t cap)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, (id_t)tid);
    int pol = sched_getscheduler(tid);
    struct sched_param sp = { 0 };
    sched_getparam(tid, &sp);
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(tid, sizeof set, &set);
    char cpus[64] = "";
    size_t n = 0;
    for (int c = 0; c < 64 && n + 4 < sizeof cpus; c++)
        if (CPU_ISSET(c, &set))
            n += (size_t)snprintf(cpus + n, sizeof cpus - n, "%s%d", n ? "," : "", c);
    char name[17] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    snprintf(out, cap, "%s: name %s, nice %d, policy %d%s priority %d, cpus %s, timer slack %d ns, no_new_privs %d",
             who, name, nice, pol & ~SCHED_RESET_ON_FORK, (pol & SCHED_RESET_ON_FORK) ? " (reset on fork)" : "",
             sp.sched_priority, cpus, prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void *worker(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "procattr-wrk", 0, 0, 0);
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 7);
    struct sched_param sp = { 0 };
    if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
        crt_die("sched_setscheduler SCHED_IDLE: %s", strerror(errno));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(last_cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        crt_die("sched_setaffinity: %s", strerror(errno));
    prctl(PR_SET_TIMERSLACK, 777000, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        crt_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    pthread_mutex_lock(&mu);
    worker_ready = 1;
    pthread_cond_broadcast(&cv);
    for (;;) {
        while (asked == answered)
            pthread_cond_wait(&cv, &mu);
        own_attrs("worker", worker_report, sizeof worker_report);
        answered = asked;
        pthread_cond_broadcast(&cv);
    }
    return NULL;
}

static void check(const char *when)
{
    char line[512];
    own_attrs("main", line, sizeof line);
    crt_say("%s %s", when, line);
    pthread_mutex_lock(&mu);
    asked++;
    pthread_cond_broadcast(&cv);
    while (answered != asked)
        pthread_cond_wait(&cv, &mu);
    crt_say("%s %s", when, worker_report);
    pthread_mutex_unlock(&mu);
    mode_t um = umask(0);
    umask(um);
    int subreaper = -1, pdeath = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0);
    prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    struct rlimit core, mq;
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_MSGQUEUE, &mq);
    crt_say("%s process: personality %#x, umask %04o, dumpable %d, subreaper %d, pdeathsig %d, thp_disable %d, "
            "keepcaps %d, core %llu/%llu, msgqueue %llu/%llu",
            when, (unsigned)personality(0xffffffff), (unsigned)um, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), subreaper,
            pdeath, prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0),
            (unsigned long long)core.rlim_cur, (unsigned long long)core.rlim_max,
            (unsigned long long)mq.rlim_cur, (unsigned long long)mq.rlim_max);
}

int main(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        crt_die("sched_getaffinity: %s", strerror(errno));
    first_cpu = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            if (first_cpu < 0)
                first_cpu = c;
            last_cpu = c;
        }
    /* the main thread's own */
    prctl(PR_SET_NAME, "procattr-main", 0, 0, 0);
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5) != 0)
        crt_die("setpriority: %s", strerror(errno));
    struct sched_param sp = { 0 };
    if (sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp) != 0)
        crt_die("sched_setscheduler SCHED_BATCH: %s", strerror(errno));
    CPU_ZERO(&set);
    CPU_SET(first_cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        crt_die("sched_setaffinity: %s", strerror(errno));
    prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0);
    /* the process's */
    if (personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0)
        crt_die("personality: %s", strerror(errno));
    umask(027);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGURG, 0, 0, 0);
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    if (geteuid() == 0)
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    struct rlimit none = { 0, 0 }, mq;
    setrlimit(RLIMIT_CORE, &none);
    getrlimit(RLIMIT_MSGQUEUE, &mq);
    mq.rlim_cur = mq.rlim_max = mq.rlim_max < 65536 ? mq.rlim_max / 2 : 65536;
    setrlimit(RLIMIT_MSGQUEUE, &mq);

    pthread_t th;
    if (pthread_create(&th, NULL, worker, NULL) != 0)
        crt_die("pthread_create");
    pthread_mutex_lock(&mu);
    while (!worker_ready)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    crt_check_around_points(check);
}

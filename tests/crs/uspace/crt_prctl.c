/*
 * State test: what prctl and capset leave on a process (issue 10).
 *   - PR_SET_PDEATHSIG, per thread: SIGUSR1 on the main thread, SIGUSR2 on
 *     a second thread (a launcher's child sets it before exec, so that it
 *     dies with its parent); a third thread has none
 *   - PR_SET_CHILD_SUBREAPER (orphaned descendants come to the process)
 *   - CRT_PRCTL=caps (as root): the process drops CAP_NET_RAW from its
 *     effective and permitted sets, as daemons drop what they no longer
 *     need; it must not have it again after a restart (cr_restart refuses
 *     to restart it with that capability, crs_prctl.sh)
 * Each is checked after each point: the values as they were set.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int drop_caps;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage, answered[2], seen[2];

static int pdeathsig(void)
{
    int s = -1;
    prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
    return s;
}

/* thread k (0, 1) answers each stage with its pdeathsig */
static void *worker(void *arg)
{
    int k = (int)(long)arg;
    if (k == 0 && prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) != 0)
        crt_die("PR_SET_PDEATHSIG: %s", strerror(errno));
    pthread_mutex_lock(&m);
    for (int done = 0; done < 3; done++) {
        while (stage == done)
            pthread_cond_wait(&cv, &m);
        seen[k] = pdeathsig();
        answered[k] = stage;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&m);
    return NULL;
}

static uint64_t cap_word(int which)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return ~0ull;
    return which == 0 ? (d[0].effective | (uint64_t)d[1].effective << 32)
                      : (d[0].permitted | (uint64_t)d[1].permitted << 32);
}

static void check(const char *when)
{
    char name[160];
    pthread_mutex_lock(&m);
    stage++;
    pthread_cond_broadcast(&cv);
    while (answered[0] != stage || answered[1] != stage)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    snprintf(name, sizeof name, "the main thread's parent-death signal %s", when);
    CRT_CHECK_U64(name, pdeathsig(), SIGUSR1);
    snprintf(name, sizeof name, "the second thread's parent-death signal %s", when);
    CRT_CHECK_U64(name, seen[0], SIGUSR2);
    snprintf(name, sizeof name, "the third thread has none %s", when);
    CRT_CHECK_U64(name, seen[1], 0);
    int sub = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);
    snprintf(name, sizeof name, "a child subreaper %s", when);
    CRT_CHECK_U64(name, sub, 1);
    if (drop_caps) {
        snprintf(name, sizeof name, "CAP_NET_RAW neither effective nor permitted %s", when);
        crt_check(name, !((cap_word(0) | cap_word(1)) & (1ull << CAP_NET_RAW)), "effective %llx, permitted %llx",
                  (unsigned long long)cap_word(0), (unsigned long long)cap_word(1));
    }
}

int main(void)
{
    const char *mode = getenv("CRT_PRCTL");
    drop_caps = mode && !strcmp(mode, "caps");
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) != 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        crt_die("prctl: %s", strerror(errno));
    if (drop_caps) {
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) != 0)
            crt_die("capget: %s", strerror(errno));
        d[0].effective &= ~(1u << CAP_NET_RAW);
        d[0].permitted &= ~(1u << CAP_NET_RAW);
        if (syscall(SYS_capset, &h, d) != 0)
            crt_die("capset: %s", strerror(errno));
    }
    pthread_t t[2];
    for (long k = 0; k < 2; k++)
        if (pthread_create(&t[k], NULL, worker, (void *)k) != 0)
            crt_die("pthread_create");
    crt_say("parent-death signals SIGUSR1 (main thread), SIGUSR2 (a thread), a child subreaper%s",
            drop_caps ? ", CAP_NET_RAW dropped" : "");
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    crt_finish();
}

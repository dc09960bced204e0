/*
 * State test: what prctl and capset leave on a process (issue 10).
 *   - PR_SET_PDEATHSIG, per thread: SIGUSR1 on the main thread, SIGUSR2 on
 *     a second thread (a launcher's child sets it before exec, so that it
 *     dies with its parent); a third thread has none
 *   - PR_SET_CHILD_SUBREAPER (orphaned descendants come to the process)
 *   - CRT_PRCTL=caps (as root): the process drops CAP_NET_RAW from its
 *     effective and permitted sets, as daemons drop what they no longer
 *     need, CAP_SYS_BOOT from its bounding set, and keeps
 *     CAP_NET_BIND_SERVICE in its inheritable and ambient sets (for the
 *     programs it starts): every thread's five sets must be as they were
 *     after a restart
 *   - CRT_PRCTL=threadcaps (as root): caps, and the second thread drops
 *     CAP_NET_ADMIN on its own (capset is per thread); the main thread sets
 *     SECBIT_NO_SETUID_FIXUP before the threads start, and the third thread
 *     SECBIT_KEEP_CAPS on its own (securebits are per thread too): every
 *     thread's sets and securebits must be its own again after a restart
 * Each is checked after each point: the values as they were set.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int drop_caps, thread_drop;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage, answered[2], seen[2];

static int pdeathsig(void)
{
    int s = -1;
    prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
    return s;
}

/* The calling thread's five sets, as text. */
static void caps_text(char *out, size_t len)
{
    char st[4096] = "", path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)syscall(SYS_gettid));
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
    if (f)
        fclose(f);
    st[n] = 0;
    out[0] = 0;
    size_t o = 0;
    for (const char *l = st; (l = strstr(l, "\nCap")) != NULL; l++) {
        const char *e = strchr(l + 1, '\n');
        int k = e ? (int)(e - l - 1) : (int)strlen(l + 1);
        o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%.*s; ", k, l + 1);
    }
    snprintf(out + o, o < len ? len - o : 0, "securebits 0x%x", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
}

static char caps_start[3][512];   /* main thread, worker 0, worker 1 */
static char caps_seen[2][512];

/* thread k (0, 1) answers each stage with its pdeathsig */
static void *worker(void *arg)
{
    int k = (int)(long)arg;
    if (k == 0 && prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) != 0)
        crt_die("PR_SET_PDEATHSIG: %s", strerror(errno));
    if (k == 0 && thread_drop) {   /* this thread alone */
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) != 0)
            crt_die("capget: %s", strerror(errno));
        d[0].effective &= ~(1u << CAP_NET_ADMIN);
        d[0].permitted &= ~(1u << CAP_NET_ADMIN);
        if (syscall(SYS_capset, &h, d) != 0)
            crt_die("capset: %s", strerror(errno));
    }
    if (k == 1 && thread_drop &&
        prctl(PR_SET_SECUREBITS, (unsigned long)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) | SECBIT_KEEP_CAPS, 0, 0, 0) != 0)
        crt_die("PR_SET_SECUREBITS: %s", strerror(errno));
    pthread_mutex_lock(&m);
    for (int done = 0; done < 3; done++) {
        while (stage == done)
            pthread_cond_wait(&cv, &m);
        seen[k] = pdeathsig();
        caps_text(caps_seen[k], sizeof caps_seen[k]);
        if (done == 0)
            snprintf(caps_start[1 + k], sizeof caps_start[1 + k], "%s", caps_seen[k]);
        answered[k] = stage;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&m);
    return NULL;
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
        char now[512];
        caps_text(now, sizeof now);
        snprintf(name, sizeof name, "the main thread's capability sets %s as at start", when);
        crt_check(name, !strcmp(now, caps_start[0]), "%s (at start %s)", now, caps_start[0]);
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "thread %d's capability sets %s as at start", k + 2, when);
            crt_check(name, !strcmp(caps_seen[k], caps_start[1 + k]), "%s (at start %s)", caps_seen[k],
                      caps_start[1 + k]);
        }
    }
}

int main(void)
{
    const char *mode = getenv("CRT_PRCTL");
    thread_drop = mode && !strcmp(mode, "threadcaps");
    drop_caps = thread_drop || (mode && !strcmp(mode, "caps"));
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) != 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        crt_die("prctl: %s", strerror(errno));
    if (drop_caps) {
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) != 0)
            crt_die("capget: %s", strerror(errno));
        d[0].effective &= ~(1u << CAP_NET_RAW);
        d[0].permitted &= ~(1u << CAP_NET_RAW);
        d[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
        if (syscall(SYS_capset, &h, d) != 0)
            crt_die("capset: %s", strerror(errno));
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0 ||
            prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) != 0)
            crt_die("ambient or bounding set: %s", strerror(errno));
        if (thread_drop && prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) != 0)
            crt_die("PR_SET_SECUREBITS: %s", strerror(errno));
        caps_text(caps_start[0], sizeof caps_start[0]);
    }
    pthread_t t[2];
    for (long k = 0; k < 2; k++)
        if (pthread_create(&t[k], NULL, worker, (void *)k) != 0)
            crt_die("pthread_create");
    crt_say("parent-death signals SIGUSR1 (main thread), SIGUSR2 (a thread), a child subreaper%s",
            drop_caps ? ", CAP_NET_RAW and CAP_SYS_BOOT dropped, CAP_NET_BIND_SERVICE ambient" : "");
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    crt_finish();
}

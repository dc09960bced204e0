/*
 * State test: threads. CRT_THREADS (default 8) workers pass a token around a
 * ring with a mutex and a condition variable, each folding its thread-local
 * state into a shared chain hash. At each checkpoint point most workers are
 * blocked in pthread_cond_wait and two are blocked in pthread_mutex_lock on a
 * mutex the main thread holds. After the checkpoint every worker checks its
 * TLS (initialised .tdata, zeroed .tbss, pthread_key data), the locals on its
 * stack, its signal mask and pthread_self; pthread_kill must reach each one
 * (glibc's cached thread ids must be right), the ring must go on, every
 * thread must be joinable, and new threads must start. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAXT 64
#define ROUNDS 200

static int nt;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER; /* held by main while parked */
static pthread_key_t key;
static int turn, rounds_left, parked, phase, kill_acked;
static uint64_t chain;
static pthread_t threads[MAXT];
static pid_t tids[MAXT];

static __thread uint64_t tls_val = 0x1234567890abcdefULL; /* .tdata */
static __thread char tls_buf[512];                        /* .tbss */
static __thread int tls_id = -1;
static __thread volatile sig_atomic_t tls_got_usr1;

struct report {
    uint64_t tls_val;
    int ok_tls, ok_buf, ok_key, ok_self, ok_mask, ok_stack;
};
static struct report rep[MAXT];

static void on_usr1(int sig)
{
    (void)sig;
    tls_got_usr1 = 1;
}

static void ring(int id)
{
    pthread_mutex_lock(&m);
    for (;;) {
        while (turn != id && rounds_left > 0)
            pthread_cond_wait(&cv, &m);
        if (rounds_left <= 0)
            break;
        chain = crt_mix(chain ^ tls_val ^ (uint64_t)id);
        tls_val = crt_mix(tls_val + (uint64_t)id);
        tls_buf[(size_t)rounds_left % sizeof(tls_buf)] ^= (char)id;
        if (id == nt - 1)
            rounds_left--;
        turn = (id + 1) % nt;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&m);
}

/* Parks the calling worker until main sets `phase` to `ph` or more; workers 1
 * and 2 first block in pthread_mutex_lock(&gate), which main holds. */
static void park(int id, int ph)
{
    pthread_mutex_lock(&m);
    parked++;
    pthread_cond_broadcast(&cv);
    if (id == 1 || id == 2) {
        pthread_mutex_unlock(&m);
        pthread_mutex_lock(&gate); /* blocks: main holds it */
        pthread_mutex_unlock(&gate);
        pthread_mutex_lock(&m);
    }
    while (phase < ph)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
}

static void verify_self(int id, uint64_t expect_tls, uint64_t expect_buf,
                        const unsigned char *stack_data, size_t n, uint64_t stack_sum)
{
    struct report *r = &rep[id];
    uint64_t *kv = pthread_getspecific(key);
    sigset_t cur;
    r->tls_val = tls_val;
    r->ok_tls = tls_val == expect_tls && tls_id == id;
    r->ok_buf = crt_hash(tls_buf, sizeof(tls_buf), 0) == expect_buf;
    r->ok_key = kv != NULL && *kv == crt_mix((uint64_t)id + 77);
    r->ok_self = pthread_equal(pthread_self(), threads[id]);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    r->ok_mask = sigismember(&cur, SIGUSR2) == (id % 2 == 1) && !sigismember(&cur, SIGUSR1);
    r->ok_stack = crt_hash(stack_data, n, (uint64_t)id) == stack_sum;
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    unsigned char stack_data[2048]; /* must survive on this thread's stack */
    uint64_t stack_sum;
    uint64_t *kv = malloc(sizeof(*kv));
    sigset_t set;

    tls_id = id;
    tids[id] = (pid_t)syscall(SYS_gettid);
    *kv = crt_mix((uint64_t)id + 77);
    pthread_setspecific(key, kv);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(id % 2 ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    crt_fill(stack_data, sizeof(stack_data), 100 + (uint64_t)id);
    stack_sum = crt_hash(stack_data, sizeof(stack_data), (uint64_t)id);

    /* After checkpoint point p main sets phase 2p (release), then 2p+1 (go on). */
    for (int p = 1; p <= 2; p++) {
        uint64_t expect_tls, expect_buf;
        ring(id);
        expect_tls = tls_val;
        expect_buf = crt_hash(tls_buf, sizeof(tls_buf), 0);
        park(id, 2 * p);
        verify_self(id, expect_tls, expect_buf, stack_data, sizeof(stack_data), stack_sum);
        tids[id] = (pid_t)syscall(SYS_gettid); /* new after a restart without the old ids */
        while (!tls_got_usr1) /* main's pthread_kill */
            crt_sleep_ms(1);
        tls_got_usr1 = 0;
        pthread_mutex_lock(&m);
        kill_acked++;
        pthread_cond_broadcast(&cv);
        while (phase < 2 * p + 1)
            pthread_cond_wait(&cv, &m);
        pthread_mutex_unlock(&m);
    }
    return (void *)(long)(id + 1000);
}

static void *short_worker(void *arg)
{
    tls_val += (uint64_t)(long)arg;
    return (void *)(uintptr_t)(tls_val & 0xffff);
}

/* Main waits until every worker is parked and workers 1 and 2 sit in a futex
 * wait (blocked on `gate`), so the checkpoint finds them blocked. */
static void wait_parked(void)
{
    pthread_mutex_lock(&m);
    while (parked < nt)
        pthread_cond_wait(&cv, &m);
    parked = 0;
    pthread_mutex_unlock(&m);
    for (int id = 1; id <= 2 && id < nt; id++) {
        char path[64], buf[64];
        for (int tries = 0; tries < 60000; tries++) {
            FILE *f;
            snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tids[id]);
            f = fopen(path, "re");
            buf[0] = 0;
            if (f) {
                if (!fgets(buf, sizeof(buf), f))
                    buf[0] = 0;
                fclose(f);
            }
            if (atoi(buf) == SYS_futex)
                break;
            crt_sleep_ms(1);
        }
    }
}

static void release_and_check(int p)
{
    int all;
    pthread_mutex_lock(&m);
    phase = 2 * p;
    kill_acked = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    pthread_mutex_unlock(&gate);

    /* every worker must get its own SIGUSR1 */
    crt_sleep_ms(20);
    for (int id = 0; id < nt; id++) {
        int e = pthread_kill(threads[id], SIGUSR1);
        if (e)
            crt_fail("pthread_kill", "thread %d: %s", id, strerror(e));
    }
    pthread_mutex_lock(&m);
    /* a bound for a broken run only (120 s of waits): under load the answers take long */
    for (int waited = 0; kill_acked < nt && waited < 120000; waited += 10) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&cv, &m, &ts);
    }
    all = kill_acked;
    pthread_mutex_unlock(&m);
    crt_check("pthread_kill reached every thread", all == nt, "%d of %d answered", all, nt);

    {
        int tls = 0, buf = 0, key_ok = 0, self = 0, mask = 0, stack = 0;
        uint64_t h = 0;
        for (int id = 0; id < nt; id++) {
            tls += rep[id].ok_tls;
            buf += rep[id].ok_buf;
            key_ok += rep[id].ok_key;
            self += rep[id].ok_self;
            mask += rep[id].ok_mask;
            stack += rep[id].ok_stack;
            h = crt_mix(h ^ rep[id].tls_val);
        }
        crt_check("thread-local variables intact", tls == nt, "%d of %d threads", tls, nt);
        crt_check("zero-initialised TLS intact", buf == nt, "%d of %d threads", buf, nt);
        crt_say("thread-local values hash %016llx", (unsigned long long)h);
        crt_check("pthread keys intact", key_ok == nt, "%d of %d threads", key_ok, nt);
        crt_check("pthread_self intact", self == nt, "%d of %d threads", self, nt);
        crt_check("per-thread signal masks intact", mask == nt, "%d of %d threads", mask, nt);
        crt_check("thread stacks intact", stack == nt, "%d of %d threads", stack, nt);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    nt = (int)crt_env_long("CRT_THREADS", 8);
    if (nt < 3 || nt > MAXT)
        crt_die("CRT_THREADS must be 3..%d", MAXT);
    pthread_key_create(&key, free);
    pthread_mutex_lock(&gate);
    pthread_mutex_lock(&m);
    rounds_left = ROUNDS;
    pthread_mutex_unlock(&m);
    for (int id = 0; id < nt; id++)
        if (pthread_create(&threads[id], NULL, worker, (void *)(long)id))
            crt_die("pthread_create failed");
    crt_say("%d worker threads, %d rounds per phase", nt, ROUNDS);
    wait_parked();
    crt_say("ring 1 chain hash %016llx", (unsigned long long)chain);

    crt_checkpoint_point(1);

    release_and_check(1);
    /* second ring; workers park again, 1 and 2 on the gate */
    pthread_mutex_lock(&gate);
    pthread_mutex_lock(&m);
    turn = 0;
    rounds_left = ROUNDS;
    phase = 3;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    wait_parked();
    crt_say("ring 2 chain hash %016llx", (unsigned long long)chain);

    crt_checkpoint_point(2);

    release_and_check(2);
    pthread_mutex_lock(&m);
    phase = 5;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);

    {
        int joined = 0, right = 0;
        for (int id = 0; id < nt; id++) {
            void *ret;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 120;   /* a bound for a broken run only, not a timing */
            if (pthread_timedjoin_np(threads[id], &ret, &ts) == 0) {
                joined++;
                right += (long)ret == id + 1000;
            }
        }
        crt_check("every worker joined", joined == nt, "%d of %d joined within 120 s", joined, nt);
        crt_check("join values right", right == nt, "%d of %d", right, nt);
    }
    {
        pthread_t t[16];
        int ok = 0;
        uint64_t h = 0;
        for (int i = 0; i < 16; i++)
            if (pthread_create(&t[i], NULL, short_worker, (void *)(long)i) == 0)
                ok++;
        for (int i = 0; i < ok; i++) {
            void *r;
            pthread_join(t[i], &r);
            h = crt_mix(h ^ (uint64_t)(uintptr_t)r);
        }
        crt_check("new threads start after the checkpoint", ok == 16, "%d of 16 created", ok);
        crt_say("new threads hash %016llx", (unsigned long long)h);
    }
    pthread_key_delete(key);
    crt_finish();
}

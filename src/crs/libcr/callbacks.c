/*
 * BLCR callbacks. Each registered callback runs until it calls
 * cr_checkpoint(); that call runs the next callback, and the innermost one
 * lets the checkpoint happen. So the code before cr_checkpoint() runs in
 * registration order and the code after it in reverse order.
 * Thread-context callbacks run in a thread made for the checkpoint; signal-
 * context callbacks run in the park signal handler of the thread that
 * registered them, which then parks inside the innermost cr_checkpoint().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/libcr/runtime.h"

#define MAX_CALLBACKS 64
#define RESULT_UNSET INT_MIN

struct callback {
    cr_callback_t func;
    void *arg;
    int flags;
    pthread_t owner;   /* for signal context: the thread it runs in */
};

static struct callback callbacks[MAX_CALLBACKS];
static _Atomic int ncallbacks;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* One level of the chain in the thread running it. */
struct frame {
    int index, kind;
    int result;
    struct frame *prev;
};
static __thread struct frame *current;

/* The thread-context chain and the checkpoint thread meet here. */
static _Atomic uint32_t ready;        /* 1: the chain reached its innermost point, 2: cancelled */
static _Atomic uint32_t outcome_gen;
static int outcome;
static int cancel_errno;
static _Atomic int signal_cancel;

static void fwait(_Atomic uint32_t *w, uint32_t v)
{
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void fwake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

cr_callback_id_t cr_register_callback(cr_callback_t func, void *arg, int flags)
{
    int kind = flags & (CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT);
    if (!func || (kind != CR_THREAD_CONTEXT && kind != CR_SIGNAL_CONTEXT)) {
        errno = EINVAL;
        return -1;
    }
    crs_runtime_start();
    pthread_mutex_lock(&reg_lock);
    int n = atomic_load(&ncallbacks);
    if (n == MAX_CALLBACKS) {
        pthread_mutex_unlock(&reg_lock);
        errno = ENOMEM;
        return -1;
    }
    callbacks[n] = (struct callback){ func, arg, kind, pthread_self() };
    atomic_store(&ncallbacks, n + 1);
    pthread_mutex_unlock(&reg_lock);
    return n;
}

int cr_replace_callback(cr_callback_id_t id, cr_callback_t func, void *arg, int flags)
{
    int kind = flags & (CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT);
    if (id < 0 || id >= atomic_load(&ncallbacks) || (kind != CR_THREAD_CONTEXT && kind != CR_SIGNAL_CONTEXT)) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&reg_lock);
    callbacks[id].func = func;
    callbacks[id].arg = arg;
    callbacks[id].flags = kind;
    pthread_mutex_unlock(&reg_lock);
    return 0;
}

static int next_callback(int from, int kind)
{
    int n = atomic_load(&ncallbacks);
    for (int i = from; i < n; i++) {
        if (!callbacks[i].func || callbacks[i].flags != kind)
            continue;
        if (kind == CR_SIGNAL_CONTEXT && !pthread_equal(callbacks[i].owner, pthread_self()))
            continue;
        return i;
    }
    return -1;
}

/* The point where the checkpoint happens, seen from a chain. */
static int innermost(int kind)
{
    if (kind == CR_SIGNAL_CONTEXT) {
        int restarted = crs_runtime_component()->park_here();
        if (restarted)
            return 1;
        if (crs_runtime_last_status) {
            errno = -crs_runtime_last_status;
            return -1;
        }
        return 0;
    }
    uint32_t gen = atomic_load(&outcome_gen);
    atomic_store(&ready, 1);
    fwake(&ready);
    while (atomic_load(&outcome_gen) == gen)
        fwait(&outcome_gen, gen);
    if (outcome < 0) {
        errno = -outcome;
        return -1;
    }
    return outcome;
}

static int chain(int from, int kind)
{
    int i = next_callback(from, kind);
    if (i < 0)
        return innermost(kind);
    struct frame f = { i, kind, RESULT_UNSET, current };
    current = &f;
    callbacks[i].func(callbacks[i].arg);
    current = f.prev;
    if (f.result == RESULT_UNSET)   /* it never called cr_checkpoint(): go on */
        return chain(i + 1, kind);
    return f.result;
}

int cr_checkpoint(int flags)
{
    struct frame *f = current;
    if (!f || f->result != RESULT_UNSET) {
        errno = ENOTSUP;
        return -1;
    }
    if (flags & (CR_CHECKPOINT_TEMP_FAILURE | CR_CHECKPOINT_PERM_FAILURE)) {
        int e = flags & CR_CHECKPOINT_PERM_FAILURE ? EPERM : EAGAIN;
        if (f->kind == CR_THREAD_CONTEXT) {
            cancel_errno = e;
            atomic_store(&ready, 2);
            fwake(&ready);
            f->result = -1;
            errno = e;
            return -1;
        }
        /* a signal-context callback cannot stop the other threads any more:
         * it parks, and the checkpoint fails before the image is written */
        atomic_store(&signal_cancel, e);
    }
    int r = chain(f->index + 1, f->kind);
    f->result = r;
    return r;
}

static void *callback_thread(void *arg)
{
    (void)arg;
    crs_runtime_block_signals();
    chain(0, CR_THREAD_CONTEXT);
    return NULL;
}

int crs_callbacks_before(struct crs_cb_run *run)
{
    memset(run, 0, sizeof *run);
    atomic_store(&signal_cancel, 0);
    if (next_callback(0, CR_THREAD_CONTEXT) < 0)
        return 0;
    atomic_store(&ready, 0);
    cancel_errno = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, callback_thread, NULL) != 0)
        return -EAGAIN;
    run->active = 1;
    run->thread = (unsigned long)t;
    uint32_t v;
    while ((v = atomic_load(&ready)) == 0)
        fwait(&ready, 0);
    if (v == 2) {
        pthread_join(t, NULL);
        run->active = 0;
        return -(cancel_errno ? cancel_errno : EAGAIN);
    }
    return 0;
}

void crs_callbacks_after(struct crs_cb_run *run, int result)
{
    if (!run->active)
        return;
    outcome = result;
    atomic_fetch_add(&outcome_gen, 1);
    fwake(&outcome_gen);
    pthread_join((pthread_t)run->thread, NULL);
    run->active = 0;
}

int crs_callbacks_cancelled(void)
{
    return atomic_load(&signal_cancel);
}

/* Runs this thread's signal-context callbacks from the park handler. */
static int signal_hook(void)
{
    if (next_callback(0, CR_SIGNAL_CONTEXT) < 0)
        return 0;
    chain(0, CR_SIGNAL_CONTEXT);
    return 1;
}

void crs_callbacks_init(void)
{
    crs_runtime_component()->set_park_hook(signal_hook);
}

/* Checkpoint and restart hooks, the hand-off blob: see hooks.h. */
#define _GNU_SOURCE
#include "crs/base/hooks.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static struct crs_hook hooks[CRS_MAX_HOOKS];
static _Atomic int nhooks;
static atomic_flag reg_lock = ATOMIC_FLAG_INIT;

static int ran;          /* hooks told of the checkpoint under way (kept in the image) */
static const void *handoff_p;
static size_t handoff_len;
static int in_restart;

int crs_hook_register(const struct crs_hook *h)
{
    if (!h || !h->fn)
        return -EINVAL;
    while (atomic_flag_test_and_set_explicit(&reg_lock, memory_order_acquire))
        ;
    int n = atomic_load_explicit(&nhooks, memory_order_relaxed);
    int e = 0;
    if (n == CRS_MAX_HOOKS) {
        e = -ENOSPC;
    } else {
        hooks[n] = *h;
        atomic_store_explicit(&nhooks, n + 1, memory_order_release);   /* published whole */
    }
    atomic_flag_clear_explicit(&reg_lock, memory_order_release);
    return e;
}

static pid_t (*tid_map)(pid_t old);

void crs_hooks_set_tid_map(pid_t (*map)(pid_t old))
{
    tid_map = map;
}

pid_t crs_restart_tid(pid_t old)
{
    return in_restart && tid_map ? tid_map(old) : old;
}

int crs_restart_handoff(const void **p, size_t *len)
{
    if (!in_restart)
        return -ENOENT;
    *p = handoff_p;
    *len = handoff_len;
    return 0;
}

static void continue_from(int n, int status)
{
    for (int i = n - 1; i >= 0; i--)
        hooks[i].fn(hooks[i].arg, CRS_HOOK_CONTINUE, status);
}

int crs_hooks_checkpoint(char *err, size_t errlen)
{
    int n = atomic_load_explicit(&nhooks, memory_order_acquire);
    ran = 0;
    for (int i = 0; i < n; i++) {
        int e = hooks[i].fn(hooks[i].arg, CRS_HOOK_CHECKPOINT, 0);
        if (e) {
            if (e > 0)
                e = -e;
            snprintf(err, errlen, "the %s checkpoint hook refused the checkpoint: %s",
                     hooks[i].owner ? hooks[i].owner : "(unnamed)", strerror(-e));
            continue_from(i, e);
            return e;
        }
        ran = i + 1;
    }
    return 0;
}

static crs_blocked_fn *_Atomic blocked_fn;

void crs_hooks_set_blocked(crs_blocked_fn *fn)
{
    atomic_store(&blocked_fn, fn);
}

int crs_hooks_blocked(pid_t proc_tid, char *err, size_t errlen)
{
    crs_blocked_fn *fn = atomic_load(&blocked_fn);
    return fn && ran ? fn(proc_tid, err, errlen) : 0;
}

void crs_hooks_continue(int status)
{
    continue_from(ran, status);
    ran = 0;
}

void crs_hooks_restart(const void *handoff, size_t len)
{
    handoff_p = handoff;
    handoff_len = handoff ? len : 0;
    in_restart = 1;
    for (int i = ran - 1; i >= 0; i--)
        hooks[i].fn(hooks[i].arg, CRS_HOOK_RESTART, 0);
    ran = 0;
    in_restart = 0;
    handoff_p = NULL;
    handoff_len = 0;
}

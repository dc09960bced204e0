/* Capture filters, park deferral, extension producers: see capture_filter.h.
 * The tables are filled by any thread at any time and read by the checkpoint
 * thread while the others are parked, maybe in the middle of a
 * registration: an entry is published whole by raising the count (release)
 * after it is written, and registrations exclude each other with a spin lock
 * taken inside a park-deferral section (never parked while held). */
#define _GNU_SOURCE
#include "crs/base/capture_filter.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/clock.h"

static struct crs_capture_filter filters[CRS_MAX_FILTERS];
static _Atomic int nfilters;

struct producer {
    const char *owner;
    int (*produce)(void *, struct crs_ext_sink *);
    void *arg;
};
static struct producer producers[CRS_MAX_EXT_PRODUCERS];
static _Atomic int nproducers;

static atomic_flag reg_lock = ATOMIC_FLAG_INIT;

int crs_capture_filter_register(const struct crs_capture_filter *f)
{
    if (!f || (!f->region_exclude && !f->thread_exclude && !f->fd_exclude && !f->regions_begin))
        return -EINVAL;
    int e = 0;
    crs_park_lock_take(&reg_lock);
    int n = atomic_load_explicit(&nfilters, memory_order_relaxed);
    if (n == CRS_MAX_FILTERS) {
        e = -ENOSPC;
    } else {
        filters[n] = *f;
        atomic_store_explicit(&nfilters, n + 1, memory_order_release);
    }
    crs_park_lock_drop(&reg_lock);
    return e;
}

static int span_cmp_less(const struct crs_span *a, const struct crs_span *b)
{
    return a->start < b->start;
}

int crs_capture_filter_region(uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max,
                              char *err, size_t errlen)
{
    int n = atomic_load_explicit(&nfilters, memory_order_acquire), k = 0;
    struct crs_span got[CRS_FILTER_MAX_SPANS];
    for (int i = 0; i < n; i++) {
        const struct crs_capture_filter *f = &filters[i];
        if (!f->region_exclude)
            continue;
        int m = f->region_exclude(f->arg, start, end, path ? path : "", got, CRS_FILTER_MAX_SPANS);
        if (m < 0 || m > CRS_FILTER_MAX_SPANS) {
            snprintf(err, errlen, "the %s capture filter failed on the memory at 0x%llx-0x%llx (%s): %s",
                     f->owner ? f->owner : "(unnamed)", (unsigned long long)start, (unsigned long long)end,
                     path && *path ? path : "anonymous", m < 0 ? strerror(-m) : "too many pieces");
            return m < 0 ? m : -E2BIG;
        }
        for (int j = 0; j < m; j++) {
            uint64_t s = got[j].start > start ? got[j].start : start;
            uint64_t e = got[j].end < end ? got[j].end : end;
            if (s >= e)
                continue;
            if (k == max) {
                snprintf(err, errlen, "the capture filters cut the memory at 0x%llx-0x%llx into more than %d "
                         "pieces", (unsigned long long)start, (unsigned long long)end, max);
                return -E2BIG;
            }
            /* insertion sort by start: a handful of spans */
            int at = k++;
            struct crs_span sp = { s, e };
            while (at > 0 && span_cmp_less(&sp, &out[at - 1])) {
                out[at] = out[at - 1];
                at--;
            }
            out[at] = sp;
        }
    }
    /* merge what overlaps or touches */
    int w = 0;
    for (int r = 0; r < k; r++) {
        if (w && out[r].start <= out[w - 1].end) {
            if (out[r].end > out[w - 1].end)
                out[w - 1].end = out[r].end;
        } else {
            out[w++] = out[r];
        }
    }
    return w;
}

int crs_capture_filter_wants_map(void)
{
    int n = atomic_load_explicit(&nfilters, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (filters[i].regions_begin)
            return 1;
    return 0;
}

int crs_capture_filter_regions_begin(const struct crs_filter_map *maps, size_t nmaps, char *err, size_t errlen)
{
    int n = atomic_load_explicit(&nfilters, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const struct crs_capture_filter *f = &filters[i];
        if (!f->regions_begin)
            continue;
        err[0] = 0;
        int e = f->regions_begin(f->arg, maps, nmaps, err, errlen);
        if (e) {
            if (!err[0])
                snprintf(err, errlen, "the %s capture filter failed on the memory map: %s",
                         f->owner ? f->owner : "(unnamed)", strerror(e < 0 ? -e : e));
            return e < 0 ? e : -e;
        }
    }
    return 0;
}

int crs_capture_filter_thread(pid_t tid)
{
    int n = atomic_load_explicit(&nfilters, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (filters[i].thread_exclude && filters[i].thread_exclude(filters[i].arg, tid))
            return 1;
    return 0;
}

int crs_capture_filter_fd(int fd)
{
    int n = atomic_load_explicit(&nfilters, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (filters[i].fd_exclude && filters[i].fd_exclude(filters[i].arg, fd))
            return 1;
    return 0;
}

/* ---- park deferral ---- */

/* initial-exec: libcr.so is loaded at start (preloaded or linked), and a
 * signal handler must not be the first to touch a dynamic TLS block. */
#define CRS_TLS __thread __attribute__((tls_model("initial-exec")))
static CRS_TLS int defer_depth;
static CRS_TLS int defer_pending;
static CRS_TLS uint32_t defer_round;
static void (*late_park)(uint32_t round);

void crs_park_defer_enter(void)
{
    defer_depth++;
    atomic_signal_fence(memory_order_seq_cst);
}

void crs_park_defer_leave(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (defer_depth <= 0)
        return;
    if (--defer_depth > 0)
        return;
    atomic_signal_fence(memory_order_seq_cst);
    /* A park signal that arrives from here on parks us in its handler; one
     * that came inside the section left word here. */
    if (defer_pending) {
        defer_pending = 0;
        atomic_signal_fence(memory_order_seq_cst);
        void (*late)(uint32_t) = late_park;
        if (late)
            late(defer_round);
    }
}

int crs_park_defer_pending(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    return defer_depth > 0 && defer_pending;
}

void crs_park_lock_take(atomic_flag *lock)
{
    crs_park_defer_enter();
    while (atomic_flag_test_and_set_explicit(lock, memory_order_acquire))
        ;
}

void crs_park_lock_drop(atomic_flag *lock)
{
    atomic_flag_clear_explicit(lock, memory_order_release);
    crs_park_defer_leave();
}

int crs_park_defer_note(uint32_t round)
{
    if (defer_depth <= 0)
        return 0;
    defer_round = round;
    defer_pending = 1;
    return 1;
}

void crs_park_defer_init(void (*late)(uint32_t round))
{
    late_park = late;
}

/* ---- calls Linux never restarts ---- */

static CRS_TLS int call_inside;
static CRS_TLS uint32_t call_interrupted, call_restarts, call_signals;
static CRS_TLS int64_t call_parked_ns;   /* CLOCK_MONOTONIC when the park interrupted the call */

void crs_park_call_begin(struct crs_park_call *c)
{
    c->interrupted = call_interrupted;
    c->restarts = call_restarts;
    c->signals = call_signals;
    call_inside = 1;
    atomic_signal_fence(memory_order_seq_cst);
}

void crs_park_call_end(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    call_inside = 0;
}

int crs_park_call_again(const struct crs_park_call *c, int64_t *deadline_ns)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (call_interrupted == c->interrupted || call_signals != c->signals)
        return 0;
    if (call_restarts == c->restarts)
        return 1;
    /* the time the image waited is not the program's: the call has what it had left when it parked */
    if (deadline_ns)
        *deadline_ns = revive_mono_ns() + (*deadline_ns - call_parked_ns);
    return 2;
}

int crs_park_call_inside(void)
{
    return call_inside;
}

void crs_park_call_interrupted(void)
{
    call_parked_ns = revive_mono_ns();
    call_interrupted++;
}

void crs_park_call_restarted(void)
{
    call_restarts++;
}

void crs_park_call_signals(uint64_t mask, int park_signal)
{
    uint64_t pending = 0;
    if (syscall(SYS_rt_sigpending, &pending, 8) != 0)
        return;
    pending &= ~mask;
    if (park_signal > 0)
        pending &= ~(1ull << (park_signal - 1));
    /* only a handler makes the call return EINTR (a SIGCONT after --stop,
     * default action, does not) */
    for (int sig = 1; sig <= 64 && pending; sig++) {
        struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } act;
        if (!(pending & (1ull << (sig - 1))) || syscall(SYS_rt_sigaction, sig, NULL, &act, 8) != 0)
            continue;
        if (act.handler != (void *)SIG_DFL && act.handler != (void *)SIG_IGN) {
            call_signals++;
            return;
        }
    }
}

/* ---- extensions ---- */

int crs_ext_write(struct crs_ext_sink *sink, const void *bytes, size_t len)
{
    if (!sink || (!bytes && len))
        return -EINVAL;
    return len ? sink->append(sink->ctx, bytes, len) : 0;
}

static int owner_ok(const char *owner)
{
    size_t n = owner ? strlen(owner) : 0;
    if (n < 1 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (owner[i] <= ' ' || owner[i] > '~')
            return 0;
    return 1;
}

int crs_capture_extension_register(const char *owner, int (*produce)(void *arg, struct crs_ext_sink *sink),
                                   void *arg)
{
    if (!produce || !owner_ok(owner))
        return -EINVAL;
    int e = 0;
    crs_park_lock_take(&reg_lock);
    int n = atomic_load_explicit(&nproducers, memory_order_relaxed);
    if (n == CRS_MAX_EXT_PRODUCERS) {
        e = -ENOSPC;
    } else {
        producers[n] = (struct producer){ owner, produce, arg };
        atomic_store_explicit(&nproducers, n + 1, memory_order_release);
    }
    crs_park_lock_drop(&reg_lock);
    return e;
}

int crs_capture_extension_count(void)
{
    return atomic_load_explicit(&nproducers, memory_order_acquire);
}

int crs_capture_extension_get(int i, const char **owner, int (**produce)(void *, struct crs_ext_sink *),
                              void **arg)
{
    if (i < 0 || i >= crs_capture_extension_count())
        return -EINVAL;
    *owner = producers[i].owner;
    *produce = producers[i].produce;
    *arg = producers[i].arg;
    return 0;
}

/* ---- inotify watches ---- */

struct inotify_note {
    int fd, wd;
    uint64_t dev, ino;
    char *path;
};

static struct inotify_note notes[CRS_MAX_INOTIFY_NOTES];
static atomic_flag notes_lock = ATOMIC_FLAG_INIT;

void crs_inotify_note(int fd, int wd, const char *path, uint64_t dev, uint64_t ino)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    char *old = NULL;
    crs_park_lock_take(&notes_lock);
    int slot = -1;
    for (int i = 0; i < CRS_MAX_INOTIFY_NOTES; i++) {
        if (notes[i].path && notes[i].fd == fd && notes[i].wd == wd) {
            slot = i;
            break;
        }
        if (!notes[i].path && slot < 0)
            slot = i;
    }
    if (slot >= 0) {
        old = notes[slot].path;
        notes[slot] = (struct inotify_note){ fd, wd, dev, ino, copy };
        copy = NULL;
    }
    crs_park_lock_drop(&notes_lock);
    free(old);
    free(copy);
}

void crs_inotify_forget(int fd, int wd)
{
    char *old = NULL;
    crs_park_lock_take(&notes_lock);
    for (int i = 0; i < CRS_MAX_INOTIFY_NOTES && !old; i++)
        if (notes[i].path && notes[i].fd == fd && notes[i].wd == wd) {
            old = notes[i].path;
            notes[i].path = NULL;
        }
    crs_park_lock_drop(&notes_lock);
    free(old);
}

const char *crs_inotify_path(int fd, int wd, uint64_t dev, uint64_t ino)
{
    /* the threads are parked and none inside the lock (a deferral section) */
    const char *other = NULL;
    for (int i = 0; i < CRS_MAX_INOTIFY_NOTES; i++)
        if (notes[i].path && notes[i].dev == dev && notes[i].ino == ino) {
            if (notes[i].fd == fd && notes[i].wd == wd)
                return notes[i].path;
            /* the notes go by the number the watch was added through: a copy
             * (dup, dup2, F_DUPFD) that outlived that number has none of its
             * own, and any path noted for that inode names it */
            if (!other)
                other = notes[i].path;
        }
    return other;
}

/* ---- standard streams the program replaced ---- */

static volatile sig_atomic_t streams_replaced[3];

void crs_stream_note_replaced(int fd)
{
    if (fd >= 0 && fd <= 2)
        streams_replaced[fd] = 1;
}

int crs_stream_replaced(int fd)
{
    return fd >= 0 && fd <= 2 && streams_replaced[fd];
}

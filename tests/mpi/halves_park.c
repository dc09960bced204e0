/* The halves registry is never read half-updated, even when a checkpoint parks the threads
 * that change it (src/pml_hooks/halves_registry.c).
 *
 * The program links the MPI-free part of the layer (registry, queries, maps reader, hooks), so
 * its own mmap/munmap/mremap/pthread_create are the layer's hooks, and stands in for libcr: a
 * park signal whose handler puts the thread to sleep until released, unless the thread is
 * inside crs_park_defer_enter/leave (then it parks on leaving), as the team plan specifies.
 *   - Hammer threads unmap and map back pages near the start of a registry of some 2000
 *     entries, so that most of their time is spent inside the registry's memmoves.
 *   - A pest thread sends them a signal whose handler maps or unmaps a page of its own: the
 *     handler often interrupts its thread inside a registry section (its change must be queued,
 *     not lost, and must not deadlock).
 *   - A checkpoint thread (every signal blocked, like libcr's) parks the hammers, then asks the
 *     queries about every region and thread while they are parked, then releases them; again
 *     and again. REVIVE_HALVES_CHECK=1 (set here) makes every query check the registry's
 *     invariants (sorted, non-overlapping, each entry with a half and reason) and abort if one
 *     fails; a query that waits for the lock of a parked thread is caught by a watchdog.
 * At the end the registry must agree with every handler page (mapped: "mapped by the
 * application"; unmapped: not), and the deferral and the handler-inside-a-section paths must
 * have been taken. Prints PASS with the counts, or FAIL with what went wrong. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pml_hooks/halves.h"
#include "pml_hooks/halves_internal.h"

#define PG 4096ul
#define NHAMMER 2
#define NFILL 2048      /* registry entries made up front (every other page of an area) */
#define HAMMER_PAGES 64 /* pages each hammer toggles, at the front of that area */
#define HPAGES 16       /* pages each hammer's signal handler toggles */
#define SECONDS 4
#define ROUND_LIMIT_S 10

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    _exit(1);
}

static pid_t gettid_raw(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static void futex_wait(_Atomic int *a, int v)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    syscall(SYS_futex, a, FUTEX_WAIT_PRIVATE, v, &ts, NULL, 0);
}

static void futex_wake(_Atomic int *a)
{
    syscall(SYS_futex, a, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

/* ---- the stand-in for libcr's park and its deferral -------------------------------------- */
/* crs_park_defer_enter/leave as crs/base/capture_filter.h declares them: libcr is not linked */

static int park_sig, pest_sig;
static __thread volatile sig_atomic_t defer_depth, park_pending;
static _Atomic int nparked, release_gen, ndeferred, nnested_handler;
static __thread volatile sig_atomic_t in_pest_handler;

static void park(void)
{
    /* parked threads run nothing until released, not even a handler (libcr blocks all) */
    sigset_t all, old;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(long));
    int gen = atomic_load(&release_gen);
    atomic_fetch_add(&nparked, 1);
    futex_wake(&nparked);
    while (atomic_load(&release_gen) == gen)
        futex_wait(&release_gen, gen);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(long));
}

void crs_park_defer_enter(void)
{
    if (in_pest_handler && defer_depth > 0)
        atomic_fetch_add(&nnested_handler, 1);
    defer_depth = defer_depth + 1;
    atomic_signal_fence(memory_order_seq_cst);
}

void crs_park_defer_leave(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    defer_depth = defer_depth - 1;
    atomic_signal_fence(memory_order_seq_cst);
    if (defer_depth == 0 && park_pending) {
        park_pending = 0;
        park();
    }
}

static void park_handler(int sig)
{
    (void)sig;
    int e = errno;
    if (defer_depth > 0) {
        park_pending = 1;
        atomic_fetch_add(&ndeferred, 1);
    } else {
        park();
    }
    errno = e;
}

/* No lower namespace in this program (the hooks call this after a dlopen in it). */
void pml_halves_walk_lower_objects(void)
{
}

/* ---- the hammers and their signal handler's pages ---------------------------------------- */
static char *fill_area, *hpage_area;
static _Atomic int stop, nops;
static _Atomic pid_t hammer_tid[NHAMMER], pest_tid;
static unsigned char hmapped[NHAMMER][HPAGES]; /* what each handler left mapped */
static __thread int my_index = -1;
static __thread unsigned hseed;

static char *hpage(int h, int k)
{
    return hpage_area + ((size_t)h * HPAGES + (size_t)k) * 2 * PG;
}

static void pest_handler(int sig)
{
    (void)sig;
    int e = errno;
    in_pest_handler = 1;
    int h = my_index;
    if (h >= 0) {
        int k = (int)(rand_r(&hseed) % HPAGES);
        char *p = hpage(h, k);
        if (hmapped[h][k]) {
            if (munmap(p, PG) == 0)
                hmapped[h][k] = 0;
        } else if (mmap(p, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == p) {
            hmapped[h][k] = 1;
        }
    }
    in_pest_handler = 0;
    errno = e;
}

static void *hammer(void *arg)
{
    int h = (int)(long)arg;
    my_index = h;
    hseed = (unsigned)h * 7919u + 1;
    hammer_tid[h] = gettid_raw();
    unsigned seed = (unsigned)h + 17;
    while (!atomic_load(&stop)) {
        /* the hammer's pages sit at the front of the filled area: each change moves the
         * thousands of entries after it */
        size_t k = (size_t)h * HAMMER_PAGES + rand_r(&seed) % HAMMER_PAGES;
        char *p = fill_area + k * 2 * PG;
        if (munmap(p, PG) != 0)
            fail("hammer %d: munmap: %s", h, strerror(errno));
        if (rand_r(&seed) % 8 == 0) {
            /* through mremap: map two pages elsewhere, shrink to one, move it into place */
            char *q = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                fail("hammer %d: mmap: %s", h, strerror(errno));
            if (mremap(q, 2 * PG, PG, 0) != q)
                fail("hammer %d: mremap (shrink): %s", h, strerror(errno));
            if (mremap(q, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p)
                fail("hammer %d: mremap (move): %s", h, strerror(errno));
        } else if (mmap(p, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p) {
            fail("hammer %d: mmap: %s", h, strerror(errno));
        }
        atomic_fetch_add(&nops, 1);
    }
    return NULL;
}

static void *pest(void *arg)
{
    (void)arg;
    pest_tid = gettid_raw();
    struct timespec ts = { 0, 20 * 1000 };
    while (!atomic_load(&stop)) {
        for (int h = 0; h < NHAMMER; h++)
            if (hammer_tid[h])
                syscall(SYS_tgkill, getpid(), hammer_tid[h], pest_sig);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- the checkpoint thread ------------------------------------------------------------------- */
static _Atomic int round_done;
static int rounds, nregions, nmixed;

static int ask_region(const struct revive_maps_entry *m, void *arg)
{
    (void)arg;
    struct pml_half_span s[64];
    int n = pml_halves_split(m->start, m->end, m->name, s, 64);
    if (n < 1)
        fail("region %lx-%lx %s: no answer", (unsigned long)m->start, (unsigned long)m->end, m->name);
    uint64_t at = m->start;
    for (int i = 0; i < n && i < 64; i++) {
        if (s[i].start != at || s[i].end <= s[i].start || !s[i].why ||
            (s[i].half != PML_HALF_UPPER && s[i].half != PML_HALF_LOWER))
            fail("region %lx-%lx %s: bad piece %d", (unsigned long)m->start, (unsigned long)m->end, m->name, i);
        at = s[i].end;
    }
    if (n <= 64 && at != m->end)
        fail("region %lx-%lx: pieces end at %lx", (unsigned long)m->start, (unsigned long)m->end, (unsigned long)at);
    nregions++;
    nmixed += n > 1;
    return 0;
}

static void *checkpointer(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        atomic_store(&nparked, 0);
        pid_t who[NHAMMER + 1];
        int n = 0;
        for (int h = 0; h < NHAMMER; h++)
            who[n++] = hammer_tid[h];
        who[n++] = pest_tid;
        for (int i = 0; i < n; i++)
            syscall(SYS_tgkill, getpid(), who[i], park_sig);
        for (int waited = 0; atomic_load(&nparked) < n; waited++) {
            if (waited > 500)
                fail("round %d: %d of %d threads parked after 5 s", rounds, atomic_load(&nparked), n);
            futex_wait(&nparked, atomic_load(&nparked));
        }
        /* everybody else is parked: what a capture does */
        pml_maps_each(ask_region, NULL);
        for (int h = 0; h < NHAMMER; h++) {
            const char *why;
            if (pml_half_of_thread(hammer_tid[h], &why) != PML_HALF_UPPER)
                fail("hammer thread %d is not upper: %s", hammer_tid[h], why);
        }
        atomic_fetch_add(&release_gen, 1);
        futex_wake(&release_gen);
        rounds++;
        atomic_store(&round_done, rounds);
        struct timespec pause = { 0, 2 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - t0.tv_sec < SECONDS);
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!getenv("REVIVE_HALVES_CHECK")) { /* the registry reads it when it loads */
        setenv("REVIVE_HALVES_CHECK", "1", 1);
        execv("/proc/self/exe", argv);
        fail("cannot run myself again: %s", strerror(errno));
    }
    park_sig = SIGRTMIN + 5;
    pest_sig = SIGUSR2; /* an ordinary signal: one pending at a time */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = park_handler;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(park_sig, &sa, NULL);
    sa.sa_handler = pest_handler;
    sigemptyset(&sa.sa_mask); /* a park may interrupt the pest's handler */
    sigaction(pest_sig, &sa, NULL);

    /* areas reserved with the raw system call, so that the registry knows nothing of them */
    size_t fill_len = (size_t)NFILL * 2 * PG, hp_len = (size_t)NHAMMER * HPAGES * 2 * PG;
    fill_area = (char *)syscall(SYS_mmap, NULL, fill_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    hpage_area = (char *)syscall(SYS_mmap, NULL, hp_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fill_area == MAP_FAILED || hpage_area == MAP_FAILED)
        fail("cannot reserve the test areas");
    int before = pml_reg_entries();
    for (size_t i = 0; i < NFILL; i++) /* through the hooks: one entry each (gaps between) */
        if (mmap(fill_area + i * 2 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            fail("mmap of the fill area: %s", strerror(errno));
    if (pml_reg_entries() < before + NFILL)
        fail("the hooks made %d registry entries for %d mappings (are the hooks linked in?)",
             pml_reg_entries() - before, NFILL);

    pthread_t th[NHAMMER], pt, ct;
    for (int h = 0; h < NHAMMER; h++)
        pthread_create(&th[h], NULL, hammer, (void *)(long)h);
    for (int h = 0; h < NHAMMER; h++)
        while (!hammer_tid[h])
            sched_yield();
    pthread_create(&pt, NULL, pest, NULL);
    while (!pest_tid)
        sched_yield();
    pthread_create(&ct, NULL, checkpointer, NULL);

    /* the watchdog: a query that waits for a parked thread's lock never comes back */
    int last = -1;
    struct timespec since, now;
    clock_gettime(CLOCK_MONOTONIC, &since);
    for (;;) {
        struct timespec tick = { 0, 50 * 1000 * 1000 };
        nanosleep(&tick, NULL);
        int r = atomic_load(&round_done);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (r != last) {
            last = r;
            since = now;
        } else if (now.tv_sec - since.tv_sec > ROUND_LIMIT_S) {
            fail("checkpoint round %d did not finish in %d s: a query waits for the registry lock"
                 " of a parked thread?", r + 1, ROUND_LIMIT_S);
        }
        if (pthread_tryjoin_np(ct, NULL) == 0)
            break;
    }
    atomic_store(&stop, 1);
    pthread_join(pt, NULL);
    for (int h = 0; h < NHAMMER; h++)
        pthread_join(th[h], NULL);

    /* every change the handlers made reached the registry */
    const char *ummap = pml_why_str(PML_W_UMMAP);
    int nmapped = 0;
    for (int h = 0; h < NHAMMER; h++)
        for (int k = 0; k < HPAGES; k++) {
            const char *why;
            uint64_t a = (uint64_t)hpage(h, k);
            pml_half_of_region(a, a + PG, "", &why);
            int reg_says = !strcmp(why, ummap);
            if (reg_says != hmapped[h][k])
                fail("handler page %d of hammer %d is %s but the registry says \"%s\"", k, h,
                     hmapped[h][k] ? "mapped" : "unmapped", why);
            nmapped += hmapped[h][k];
        }
    if (pml_reg_lost())
        fail("%d changes made by signal handlers were lost", pml_reg_lost());
    if (!atomic_load(&ndeferred))
        fail("no park arrived inside a registry section in %d rounds: the test proved nothing", rounds);
    if (!atomic_load(&nnested_handler))
        fail("no signal handler changed the registry inside its thread's section: the test"
             " proved nothing");
    printf("PASS: %d checkpoint rounds, %d region queries (%d split), %d map changes by the hammers;"
           " %d parks deferred to the end of a registry section; %d handler changes inside a section"
           " queued; %d handler pages mapped at the end, registry agrees\n",
           rounds, nregions, nmixed, atomic_load(&nops), atomic_load(&ndeferred),
           atomic_load(&nnested_handler), nmapped);
    return 0;
}

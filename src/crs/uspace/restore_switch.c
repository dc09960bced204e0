/*
 * The last step of a restore. The plan is built with libc; switch_main runs on
 * the plan's own stack after cr_restart's memory is gone and therefore uses
 * only raw system calls: no libc, no TLS, no stack protector.
 */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/uspace/cpu_context.h"
#include "crs/uspace/epoll_settle.h"
#include "crs/uspace/maps.h"
#include "common/fault.h"
#include "common/procfs.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef RSEQ_FLAG_UNREGISTER
#define RSEQ_FLAG_UNREGISTER 1
#endif

/* Everything below runs with no TLS, so no stack protector, which reads its
 * canary there (cr_restart is built without it anyway; libcr.so may not be). */
#if defined(__has_attribute)
#if __has_attribute(no_stack_protector)
#define NO_SSP __attribute__((no_stack_protector))
#endif
#endif
#ifndef NO_SSP
#define NO_SSP
#endif

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* Counted through a volatile read: GCC 12 turns a plain counting loop into a call of libc's
 * strlen, which is unmapped here, so every message after the point of no return died of
 * SIGSEGV without a word (CI at aa626e1, crs_heap_1g.sh: a region move refused, then the
 * jump into cr_restart's gone libc). */
NO_SSP static void say(const char *s)
{
    size_t n = 0;
    while (((const volatile char *)s)[n])
        n++;
    sys6(SYS_write, 2, (long)s, (long)n, 0, 0, 0);
}

NO_SSP static void die(const char *what)
{
    say("cr_restart: the restore failed after the point of no return: ");
    say(what);
    say("\n");
    sys6(SYS_exit_group, 1, 0, 0, 0, 0, 0);
    for (;;)
        ;
}

NO_SSP static void move(uint64_t from, uint64_t len, uint64_t to, const char *what)
{
    if (from == to)
        return;
    long r = sys6(SYS_mremap, (long)from, (long)len, (long)len, MREMAP_MAYMOVE | MREMAP_FIXED, (long)to, 0);
    if (r != (long)to)
        die(what);
}

NO_SSP static void switch_main(void *arg)
{
    struct crs_switch_plan *p = arg;
    for (uint32_t i = 0; i < p->nunmap; i++)
        sys6(SYS_munmap, (long)p->unmap[i].from, (long)p->unmap[i].len, 0, 0, 0, 0);
    if (p->nvdso) {
        /* in two steps, through a spare range, so no move lands on a piece
         * that has not moved yet */
        uint64_t lo = p->vdso[0].from;
        for (uint32_t i = 1; i < p->nvdso; i++)
            if (p->vdso[i].from < lo)
                lo = p->vdso[i].from;
        for (uint32_t i = 0; i < p->nvdso; i++)
            move(p->vdso[i].from, p->vdso[i].len, p->vdso_spare + (p->vdso[i].from - lo), "moving the vdso aside");
        for (uint32_t i = 0; i < p->nvdso; i++)
            move(p->vdso_spare + (p->vdso[i].from - lo), p->vdso[i].len, p->vdso[i].to, "moving the vdso into place");
        /* what is left of the spare room goes now: a hole left for the restored process to
         * unmap would take along whatever it maps there first (its fork page, its arena) */
        sys6(SYS_munmap, (long)p->vdso_spare, (long)p->vdso_spare_len, 0, 0, 0, 0);
    }
    if (p->fault_no_return)
        die("fault injected before the regions move (REVIVE_FAULT=restore-no-return)");
    for (uint32_t i = 0; i < p->nmove; i++)
        move(p->move[i].from, p->move[i].len, p->move[i].to, "moving a region into place");
    if (sys6(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&p->mm, sizeof p->mm, 0, 0) != 0)
        say("cr_restart: warning: the kernel refused the saved memory layout (brk, arguments); "
            "the process runs on, but its heap may not grow through brk\n");
    struct crs_switch_thread *main_thread = &p->threads[0];
    sys6(SYS_set_tid_address, (long)main_thread->clear_child_tid, 0, 0, 0, 0, 0);
    for (uint32_t i = 1; i < p->nthreads; i++) {
        struct crs_switch_thread *t = &p->threads[i];
        struct clone_args ca;   /* the kernel's (linux/sched.h), as restore_pidfd.c and children.c */
        uint64_t tid = (uint64_t)t->tid;
        volatile char *c = (volatile char *)&ca;   /* no memset call either (see say) */
        for (size_t k = 0; k < sizeof ca; k++)
            c[k] = 0;
        ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                   CLONE_SETTLS | CLONE_CHILD_CLEARTID;
        ca.child_tid = t->clear_child_tid;
        ca.tls = t->fsbase;
        if (p->restore_tids) {
            ca.set_tid = (uint64_t)&tid;
            ca.set_tid_size = 1;
        }
        long r = crs_clone3_resume(&ca, sizeof ca, &t->ctx, (long)&p->info);
        if (r < 0 && p->restore_tids) {
            ca.set_tid = 0;
            ca.set_tid_size = 0;
            p->info.ids_changed = 1;
            r = crs_clone3_resume(&ca, sizeof ca, &t->ctx, (long)&p->info);
        }
        if (r < 0)
            die("recreating a thread");
        t->tid = (int32_t)r;
    }
    /* Signals pending at the checkpoint: every thread still blocks all of
     * them here, so they wait until each thread is back on its own mask. */
    long pid = sys6(SYS_getpid, 0, 0, 0, 0, 0, 0);
    main_thread->tid = (int32_t)pid;
    /* queued real-time signals with their siginfo, in their order (from the
     * main thread the kernel takes any si_code); their bits need no kill.
     * One queued to a thread (tid set) goes to that thread, now by its new
     * id. */
    uint64_t queued = 0;
    for (uint32_t i = 0; i < p->nsiginfos; i++) {
        int32_t s;
        __builtin_memcpy(&s, p->siginfos[i].info, sizeof s);
        if (s < 1 || s > 64)
            continue;
        int32_t old = p->siginfos[i].tid;
        if (!old) {
            if (sys6(SYS_rt_sigqueueinfo, pid, s, (long)p->siginfos[i].info, 0, 0, 0) == 0)
                queued |= 1ull << (s - 1);
            continue;
        }
        int32_t code;
        __builtin_memcpy(&code, p->siginfos[i].info + 8, sizeof code);
        for (uint32_t k = 0; k < p->nthreads; k++) {
            if (p->threads[k].old_tid != old)
                continue;
            /* a code >= 0 or SI_TKILL only the thread itself may queue (to
             * itself): libcr's park does, once the thread is back */
            if ((code >= 0 || code == SI_TKILL) && p->threads[k].tid != pid)
                p->threads[k].pending &= ~(1ull << (s - 1));
            else if (sys6(SYS_rt_tgsigqueueinfo, pid, p->threads[k].tid, s, (long)p->siginfos[i].info, 0, 0) == 0)
                p->threads[k].pending &= ~(1ull << (s - 1));
        }
    }
    for (uint32_t i = 0; i < p->nthreads; i++)
        for (int s = 1; s <= 64; s++)
            if ((p->threads[i].pending >> (s - 1)) & 1)
                sys6(SYS_tgkill, pid, p->threads[i].tid, s, 0, 0, 0);
    for (int s = 1; s <= 64; s++)
        if (((p->shared_pending & ~queued) >> (s - 1)) & 1)
            sys6(SYS_kill, pid, s, 0, 0, 0, 0);
    crs_ctx_resume_tls(&main_thread->ctx, (long)&p->info, main_thread->fsbase);
}

static int add_range(struct crs_switch_plan *p, uint64_t from, uint64_t len)
{
    if (!len)
        return 0;
    if (p->nunmap == p->unmap_cap)
        return -E2BIG;
    p->unmap[p->nunmap].from = from;
    p->unmap[p->nunmap].len = len;
    p->nunmap++;
    return 0;
}

struct keep { uint64_t lo, hi; };

static int cmp_keep(const void *a, const void *b)
{
    const struct keep *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Unmaps what maps shows minus what must stay (sorted keep intervals). Both
 * lists ascend, so one walk over each: any number of mappings (up to
 * vm.max_map_count) costs linear time and no table of the map. */
static int plan_unmaps(struct crs_restore *r, struct crs_switch_plan *p, struct keep *keep, size_t nkeep)
{
    char buf[CRS_MAPS_LINE_MAX];
    struct revive_maps_reader rd;
    struct revive_maps_entry m;
    int e = revive_maps_open(&rd, 0, 0, buf, sizeof buf);
    size_t k0 = 0;
    int more = 0;
    while (!e && (more = revive_maps_next(&rd, &m)) == 1) {
        if (!strcmp(m.name, "[vsyscall]") || !strcmp(m.name, "[vdso]") || !strncmp(m.name, "[vvar", 5))
            continue;
        while (k0 < nkeep && keep[k0].hi <= m.start)
            k0++;
        uint64_t s = m.start;
        for (size_t k = k0; k < nkeep && keep[k].lo < m.end && s < m.end && !e; k++) {
            if (keep[k].hi <= s)
                continue;
            if (keep[k].lo > s)
                e = add_range(p, s, keep[k].lo - s);
            if (keep[k].hi > s)
                s = keep[k].hi;
        }
        if (!e && s < m.end)
            e = add_range(p, s, m.end - s);
    }
    if (!e && more < 0)
        e = more;
    revive_maps_close(&rd);
    if (e)
        crs_restore_error(r, "cannot plan how to clear cr_restart's own memory (%s)", strerror(-e));
    return e;
}

/* Where the switch puts something: a region's own address when it was loaded aside, and the
 * image's vdso addresses. */
static int is_target(const struct crs_restore *r, uint64_t lo, uint64_t hi)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if ((g->kind == CRS_REGION_VDSO || r->cur[i] != g->start) && g->start < hi && g->end > lo)
            return 1;
    }
    return 0;
}

/* Memory the switch keeps (its plan and stack, the vdso's spare room) where no move lands. A
 * region goes aside when cr_restart's own memory holds its address (the image reader's
 * buffers, a malloc heap); that memory may be freed since, and the kernel then hands the
 * address out again: the switch's move of the region took the plan from under switch_main
 * (a restarted MPI rank died of SIGSEGV in switch_main, 1 restart in about 30 at 4 ranks).
 * A place on a target is kept mapped while the next is asked for (switch_main unmaps it with
 * the rest of cr_restart's memory, before any move). With REVIVE_FAULT=restore-aside the first
 * place offered is a target, so the tests that move every region go through this. */
#define MAP_CLEAR_TRIES 64

/* Fault point restore-plan-inside: the kernel's offer number `k` is a place inside a
 * destination (the k-th len-sized piece of the first aside region that has one), kept mapped
 * as refused offers are; so the fallback below must find the room. */
static void offer_inside(const struct crs_restore *r, size_t len, int prot, int flags, size_t k)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind == CRS_REGION_VDSO || r->cur[i] == g->start || g->end - g->start < (k + 1) * len)
            continue;
        void *want = (void *)(g->start + k * len);
        void *p = mmap(want, len, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED && p != want)
            munmap(p, len);
        return;
    }
}

static void *map_clear(const struct crs_restore *r, size_t len, int prot, int flags)
{
    const struct crs_image *img = r->img;
    int offer = revive_fault(REVIVE_FAULT_restore_aside);
    int inside = revive_fault(REVIVE_FAULT_restore_plan_inside);
    for (int tries = 0; tries < MAP_CLEAR_TRIES; tries++) {
        if (inside) {
            offer_inside(r, len, prot, flags, (size_t)tries);
            continue; /* refused, as a place inside a destination is */
        }
        void *p = MAP_FAILED;
        for (size_t i = 0; offer && i < img->nregions && p == MAP_FAILED; i++) {
            const struct crs_rec_region *g = &img->regions[i];
            if (g->kind != CRS_REGION_VDSO && r->cur[i] != g->start && g->end - g->start >= len)
                p = mmap((void *)g->start, len, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
        }
        offer = 0;
        if (p == MAP_FAILED)
            p = mmap(NULL, len, prot, flags, -1, 0);
        if (p == MAP_FAILED || !is_target(r, (uint64_t)p, (uint64_t)p + len))
            return p;
    }
    /* The kernel kept offering room inside one destination: each refusal only moves its next
     * offer down by len, and a destination larger than the tries span is never left (a CI
     * restart failed so: "cannot allocate the restore plan"). Room right after or right before
     * a destination is free of it. */
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        uint64_t cand[2] = {g->end, g->start > len ? g->start - len : 0};
        for (int k = 0; k < 2; k++) {
            if (!cand[k] || is_target(r, cand[k], cand[k] + len))
                continue;
            void *p = mmap((void *)cand[k], len, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == (void *)cand[k])
                return p;
            if (p != MAP_FAILED)
                munmap(p, len);
        }
    }
    errno = ENOMEM;
    return MAP_FAILED;
}

/* Pairs the kernel's vdso pieces here with the image's, by name. */
static int plan_vdso(struct crs_restore *r, struct crs_switch_plan *p)
{
    const struct crs_image *img = r->img;
    uint64_t img_vdso = 0, cur_vdso = 0;
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind != CRS_REGION_VDSO)
            continue;
        const char *name = crs_image_str(img, g->name);
        /* the kernel's pieces here, read line by line: cr_restart may hold
         * tens of thousands of mappings by now (the image's) */
        char buf[CRS_MAPS_LINE_MAX];
        struct revive_maps_reader rd;
        struct revive_maps_entry m;
        int k = revive_maps_open(&rd, 0, 0, buf, sizeof buf);
        if (k < 0) {
            crs_restore_error(r, "cannot read cr_restart's memory map: %s", strerror(-k));
            return k;
        }
        int found = 0;
        while (!found && (k = revive_maps_next(&rd, &m)) == 1)
            found = !strcmp(m.name, name);
        revive_maps_close(&rd);
        if (k < 0) {
            crs_restore_error(r, "cannot read cr_restart's memory map: %s", strerror(-k));
            return k;
        }
        if (!found || m.end - m.start != g->end - g->start || p->nvdso == 4) {
            crs_restore_error(r, "the kernel's %s here differs from the image's (%s); the image comes from "
                              "another kernel and cannot be restarted here", name, found ? "size" : "missing");
            return -EINVAL;
        }
        p->vdso[p->nvdso].from = m.start;
        p->vdso[p->nvdso].to = g->start;
        p->vdso[p->nvdso].len = g->end - g->start;
        p->nvdso++;
        if (!strcmp(name, "[vdso]")) {
            img_vdso = g->start;
            cur_vdso = m.start;
        }
    }
    for (uint32_t i = 0; i < p->nvdso; i++)
        if (p->vdso[i].to - img_vdso != p->vdso[i].from - cur_vdso) {
            crs_restore_error(r, "the kernel lays out [vvar] and [vdso] differently from the image's kernel");
            return -EINVAL;
        }
    if (p->nvdso) {
        uint64_t lo = p->vdso[0].from, hi = 0;
        for (uint32_t i = 0; i < p->nvdso; i++) {
            if (p->vdso[i].from < lo) lo = p->vdso[i].from;
            if (p->vdso[i].from + p->vdso[i].len > hi) hi = p->vdso[i].from + p->vdso[i].len;
        }
        void *spare = map_clear(r, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        if (spare == MAP_FAILED) {
            crs_restore_error(r, "cannot reserve room to move the vdso: %s", strerror(errno));
            return -ENOMEM;
        }
        p->vdso_spare = (uint64_t)spare;
        p->vdso_spare_len = hi - lo;
    }
    return 0;
}

/* The last look before the point of no return: nothing the switch keeps where it is (a region
 * loaded aside, the plan and its stack, the vdso's spare room, cr_restart's program) lies where
 * a region or the vdso moves to. A move there would take it away (a region lost, switch_main's
 * own stack) or be refused for overlapping itself, with no way back; here it is still an error
 * message. Both lists ascend (the image's regions are sorted), so one walk. */
static int check_moves(struct crs_restore *r, const struct keep *keep, size_t nkeep)
{
    const struct crs_image *img = r->img;
    size_t k = 0;
    for (size_t i = 0; i < img->nregions && k < nkeep; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (g->kind != CRS_REGION_VDSO && r->cur[i] == g->start)
            continue;   /* in place already: no move lands there */
        while (k < nkeep && keep[k].hi <= g->start)
            k++;
        if (k < nkeep && keep[k].lo < g->end) {
            crs_restore_error(r, "cannot restart: memory the last step keeps (0x%llx-0x%llx) lies where the image's "
                              "region 0x%llx-0x%llx goes; the restorer placed it wrongly (a bug), nothing was moved",
                              (unsigned long long)keep[k].lo, (unsigned long long)keep[k].hi,
                              (unsigned long long)g->start, (unsigned long long)g->end);
            return -EFAULT;
        }
    }
    return 0;
}

int crs_restore_switch(struct crs_restore *r, int pid_is_original)
{
    const struct crs_image *img = r->img;
    if (!img->nthreads || !(img->threads[0].flags & CRS_THREAD_F_MAIN)) {
        crs_restore_error(r, "the image has no main thread record; it is corrupt");
        return -EINVAL;
    }
    size_t nmove = 0;
    for (size_t i = 0; i < img->nregions; i++)
        if (img->regions[i].kind != CRS_REGION_VDSO && r->cur[i] != img->regions[i].start)
            nmove++;
    /* What to unmap: pieces of cr_restart's mappings between the kept ones,
     * at most one more than the kept intervals inside each mapping; room for
     * the few mappings made from here on (this plan, the vdso's spare room and
     * the places map_clear turned down, malloc's) too. */
    long nmaps = crs_count_maps();
    if (nmaps < 0) {
        crs_restore_error(r, "cannot read cr_restart's memory map: %s", strerror((int)-nmaps));
        return (int)nmaps;
    }
    size_t unmap_cap = (size_t)nmaps + img->nregions + 256 + 2 * MAP_CLEAR_TRIES;
    size_t len = sizeof(struct crs_switch_plan) + (nmove + unmap_cap) * sizeof(struct crs_switch_range) +
                 img->nthreads * sizeof(struct crs_switch_thread) + img->ntimers * sizeof(struct crs_rec_timer) +
                 img->nsiginfos * sizeof(struct crs_rec_siginfo) + r->handoff_len + 16 +
                 crs_restore_thread_pidfds(img, NULL) * sizeof(struct crs_restart_tpidfd) + 16 +
                 img->nthread_caps * sizeof(struct crs_rec_thread_caps) + 16 +
                 img->nfdowns * sizeof(struct crs_rec_fdown) + 16 +
                 r->nepoll_settle * (sizeof(struct crs_epoll_settle_watch) + sizeof(struct epoll_event)) + 16;
    len = (len + 4095) & ~(size_t)4095;
    struct crs_switch_plan *p = map_clear(r, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (p == MAP_FAILED) {
        crs_restore_error(r, "cannot allocate the restore plan: %s", strerror(errno));
        return -ENOMEM;
    }
    p->arena_start = (uint64_t)p;
    p->arena_len = len;
    p->move = (struct crs_switch_range *)(p + 1);
    p->unmap = p->move + nmove;
    p->unmap_cap = (uint32_t)unmap_cap;
    p->threads = (struct crs_switch_thread *)(p->unmap + unmap_cap);
    for (size_t i = 0; i < img->nregions; i++)
        if (img->regions[i].kind != CRS_REGION_VDSO && r->cur[i] != img->regions[i].start) {
            p->move[p->nmove].from = r->cur[i];
            p->move[p->nmove].to = img->regions[i].start;
            p->move[p->nmove].len = img->regions[i].end - img->regions[i].start;
            p->nmove++;
        }
    for (size_t i = 0; i < img->nthreads; i++) {
        p->threads[i].ctx = img->threads[i].ctx;
        p->threads[i].fsbase = img->threads[i].fsbase;
        p->threads[i].clear_child_tid = img->threads[i].clear_child_tid;
        p->threads[i].tid = img->threads[i].tid;
        p->threads[i].old_tid = img->threads[i].tid;
        p->threads[i].pending = img->threads[i].pending;
    }
    p->nthreads = (uint32_t)img->nthreads;
    struct crs_rec_timer *timers = (struct crs_rec_timer *)(p->threads + img->nthreads);
    if (img->ntimers) {
        /* for the restored process, before the plan is unmapped */
        memcpy(timers, img->timers, img->ntimers * sizeof *timers);
        p->info.timers = (uint64_t)timers;
        p->info.ntimers = img->ntimers;
    }
    struct crs_rec_siginfo *sq = (struct crs_rec_siginfo *)(timers + img->ntimers);
    if (img->nsiginfos)
        memcpy(sq, img->siginfos, img->nsiginfos * sizeof *sq);
    p->siginfos = sq;
    p->nsiginfos = (uint32_t)img->nsiginfos;
    unsigned char *blob = (unsigned char *)(sq + img->nsiginfos);
    if (r->handoff_len) {
        /* the restored process reads it from a restart hook, before the
         * plan is unmapped */
        memcpy(blob, r->handoff, r->handoff_len);
        p->info.handoff = (uint64_t)blob;
        p->info.handoff_len = r->handoff_len;
    }
    /* likewise the pidfds of its threads, opened once they are back */
    struct crs_restart_tpidfd *tp =
        (struct crs_restart_tpidfd *)(((uintptr_t)(blob + r->handoff_len) + 15) & ~(uintptr_t)15);
    p->info.ntpidfds = crs_restore_thread_pidfds(img, tp);
    p->info.tpidfds = p->info.ntpidfds ? (uint64_t)tp : 0;
    /* likewise the threads' own capability sets, which each takes as it is reinstated */
    struct crs_rec_thread_caps *tc =
        (struct crs_rec_thread_caps *)(((uintptr_t)(tp + p->info.ntpidfds) + 15) & ~(uintptr_t)15);
    if (img->nthread_caps) {
        memcpy(tc, img->thread_caps, img->nthread_caps * sizeof *tc);
        p->info.tcaps = (uint64_t)tc;
        p->info.ntcaps = img->nthread_caps;
    }
    /* likewise the descriptors' I/O signal owners, given again once the threads are back */
    struct crs_rec_fdown *fo =
        (struct crs_rec_fdown *)(((uintptr_t)(tc + img->nthread_caps) + 15) & ~(uintptr_t)15);
    if (img->nfdowns) {
        memcpy(fo, img->fdowns, img->nfdowns * sizeof *fo);
        p->info.fdowns = (uint64_t)fo;
        p->info.nfdowns = img->nfdowns;
    }
    /* likewise the epolls to settle once every signal is queued again (and
     * room for their events behind them) */
    struct crs_epoll_settle_watch *es =
        (struct crs_epoll_settle_watch *)(((uintptr_t)(fo + img->nfdowns) + 15) & ~(uintptr_t)15);
    if (r->nepoll_settle) {
        memcpy(es, r->epoll_settle, r->nepoll_settle * sizeof *es);
        p->info.epsettle = (uint64_t)es;
        p->info.nepsettle = r->nepoll_settle;
    }
    p->restore_tids = r->restore_ids && pid_is_original;
    p->old_pid = img->process->pid;
    p->shared_pending = img->process->shared_pending;

    const struct crs_rec_process *pr = img->process;
    p->mm.start_code = pr->start_code;
    p->mm.end_code = pr->end_code;
    p->mm.start_data = pr->start_data;
    p->mm.end_data = pr->end_data;
    p->mm.start_brk = pr->start_brk;
    p->mm.brk = pr->brk;
    p->mm.start_stack = pr->start_stack;
    p->mm.arg_start = pr->arg_start;
    p->mm.arg_end = pr->arg_end;
    p->mm.env_start = pr->env_start;
    p->mm.env_end = pr->env_end;
    size_t nauxv = img->nauxv < 128 ? img->nauxv : 128;
    memcpy(p->auxv, img->auxv, nauxv * sizeof(uint64_t));
    p->mm.auxv = (__u64 *)p->auxv;
    p->mm.auxv_size = (uint32_t)(nauxv * sizeof(uint64_t));
    p->mm.exe_fd = (uint32_t)-1;

    p->info.magic = CRS_RESTART_MAGIC;
    p->info.old_pid = pr->pid;
    p->info.new_pid = getpid();
    p->info.outer_pid = r->outer_pid;
    p->info.ids_changed = !pid_is_original;
    if (pr->flags & CRS_PROC_F_CAPSET) {
        p->info.caps = 1;
        p->info.keepcaps = r->keepcaps;
        p->info.cap_eff = pr->cap_eff, p->info.cap_prm = pr->cap_prm, p->info.cap_inh = pr->cap_inh;
        p->info.cap_amb = pr->cap_amb, p->info.cap_bnd = pr->cap_bnd;
    }
    uint64_t exe_lo, exe_hi;
    crs_restorer_extent(&exe_lo, &exe_hi);
    p->info.unmap[p->info.nunmap].start = exe_lo;
    p->info.unmap[p->info.nunmap++].len = exe_hi - exe_lo;
    p->info.unmap[p->info.nunmap].start = p->arena_start;
    p->info.unmap[p->info.nunmap++].len = p->arena_len;

    int e = plan_vdso(r, p);
    if (e)
        return e;
    p->fault_no_return = revive_fault(REVIVE_FAULT_restore_no_return);
    struct keep *keep = calloc(img->nregions + 4, sizeof *keep);
    if (!keep)
        return -ENOMEM;
    size_t nkeep = 0;
    keep[nkeep++] = (struct keep){ exe_lo, exe_hi };
    keep[nkeep++] = (struct keep){ p->arena_start, p->arena_start + p->arena_len };
    if (p->vdso_spare)
        keep[nkeep++] = (struct keep){ p->vdso_spare, p->vdso_spare + p->vdso_spare_len };
    for (size_t i = 0; i < img->nregions; i++)
        if (img->regions[i].kind != CRS_REGION_VDSO)
            keep[nkeep++] = (struct keep){ r->cur[i], r->cur[i] + img->regions[i].end - img->regions[i].start };
    qsort(keep, nkeep, sizeof *keep, cmp_keep);
    e = check_moves(r, keep, nkeep);
    if (!e)
        e = plan_unmaps(r, p, keep, nkeep);
    free(keep);
    if (e)
        return e;

    /* Our descriptors (the image, memfd originals) go now; the restored ones stay, and so do
     * those the caller keeps (between them the ranges close). */
    unsigned from = (unsigned)r->work_fd_min;
    for (;;) {
        unsigned next = ~0u;
        for (int i = 0; i < r->nkeep_fds; i++)
            if ((unsigned)r->keep_fds[i] >= from && (unsigned)r->keep_fds[i] < next)
                next = (unsigned)r->keep_fds[i];
        if (next > from)
            syscall(SYS_close_range, from, next == ~0u ? ~0u : next - 1, 0);
        if (next == ~0u)
            break;
        from = next + 1;
    }
    /* The kernel must stop writing into cr_restart's rseq area, which is about to go. */
    if (__rseq_size > 0)
        syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, 32, RSEQ_FLAG_UNREGISTER,
                0x53053053);
    crs_call_on_stack(switch_main, p, p->stack + sizeof p->stack);
}

/* crs/base/capture_filter.c and hooks.c without a process to checkpoint:
 * region spans from several filters come back clipped, sorted and merged;
 * the capture's map to the filters that ask for it (regions_begin, its failure);
 * thread and descriptor answers; registration limits; extension owners;
 * park-deferral bookkeeping (nesting, the late park, a stale round); hooks
 * in BLCR's order, a refusing CHECKPOINT hook telling the ones before it;
 * the hand-off blob only inside RESTART hooks. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs/base/capture_filter.h"
#include "crs/base/hooks.h"

#include "../../unit_assert.h"

/* filter 1: two spans out of order, one crossing the start */
static int f1(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)arg; (void)start; (void)end; (void)max;
    if (strcmp(path, "/x"))
        return 0;
    out[0] = (struct crs_span){ 0x7000, 0x8000 };
    out[1] = (struct crs_span){ 0x0, 0x2000 };
    return 2;
}

/* filter 2: overlaps filter 1's second span and touches another */
static int f2(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)arg; (void)start; (void)end; (void)path; (void)max;
    out[0] = (struct crs_span){ 0x6000, 0x7800 };
    out[1] = (struct crs_span){ 0x8000, 0x9000 };
    out[2] = (struct crs_span){ 0x20000, 0x30000 };   /* outside: clipped away */
    return 3;
}

static int failing_filter(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)start; (void)end; (void)path; (void)out; (void)max;
    return *(int *)arg ? -EIO : 0;
}

/* regions_begin: counts the mappings it was given, fails when asked to */
static size_t seen_maps;
static uint64_t seen_first;
static int begin_f(void *arg, const struct crs_filter_map *maps, size_t n, char *err, size_t errlen)
{
    seen_maps = n;
    seen_first = n ? maps[0].start : 0;
    if (*(int *)arg == 1)
        snprintf(err, errlen, "begin_f says no");
    return *(int *)arg ? -EPERM : 0;
}

static int thread_f(void *arg, pid_t tid) { (void)arg; return tid == 42; }
static int fd_f(void *arg, int fd) { (void)arg; return fd == 7; }

static char order[64];
static int refuse_at = -1;

static int hook(void *arg, enum crs_hook_event ev, int status)
{
    int id = (int)(long)arg;
    char c = ev == CRS_HOOK_CHECKPOINT ? 'C' : ev == CRS_HOOK_CONTINUE ? (status ? 'x' : 'c') : 'r';
    size_t n = strlen(order);
    order[n] = c;
    order[n + 1] = (char)('0' + id);
    order[n + 2] = 0;
    if (ev == CRS_HOOK_RESTART && id == 0) {
        const void *p;
        size_t len;
        ASSERT_EQ(crs_restart_handoff(&p, &len), 0);
        ASSERT_EQ(len, 5);
        ASSERT_TRUE(!memcmp(p, "blob", 5));
    }
    return ev == CRS_HOOK_CHECKPOINT && id == refuse_at ? -EBUSY : 0;
}

static int late_calls;
static uint32_t late_round;

static void late(uint32_t round)
{
    late_calls++;
    late_round = round;
}

static int produce(void *arg, struct crs_ext_sink *s) { (void)arg; (void)s; return 0; }

int main(void)
{
    char err[512];
    struct crs_span out[16];

    /* no filter: nothing left out */
    ASSERT_EQ(crs_capture_filter_region(0x1000, 0x9000, "/x", out, 16, err, sizeof err), 0);
    ASSERT_EQ(crs_capture_filter_register(NULL), -EINVAL);
    struct crs_capture_filter none = { .owner = "none" };
    ASSERT_EQ(crs_capture_filter_register(&none), -EINVAL);

    struct crs_capture_filter a = { .owner = "a", .region_exclude = f1, .thread_exclude = thread_f },
                              b = { .owner = "b", .region_exclude = f2, .fd_exclude = fd_f };
    ASSERT_EQ(crs_capture_filter_register(&a), 0);
    ASSERT_EQ(crs_capture_filter_register(&b), 0);
    int n = crs_capture_filter_region(0x1000, 0x9000, "/x", out, 16, err, sizeof err);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(out[0].start, 0x1000);   /* clipped to the mapping */
    ASSERT_EQ(out[0].end, 0x2000);
    ASSERT_EQ(out[1].start, 0x6000);   /* 0x6000-0x7800, 0x7000-0x8000, 0x8000-0x9000 merged */
    ASSERT_EQ(out[1].end, 0x9000);
    n = crs_capture_filter_region(0x1000, 0x9000, "/y", out, 16, err, sizeof err);
    ASSERT_EQ(n, 2);                   /* filter 2 alone: a gap between its spans */
    ASSERT_EQ(out[0].end, 0x7800);
    ASSERT_EQ(out[1].start, 0x8000);
    /* more pieces than the caller has room for */
    ASSERT_EQ(crs_capture_filter_region(0x1000, 0x9000, "/x", out, 2, err, sizeof err), -E2BIG);
    ASSERT_TRUE(strstr(err, "more than 2 pieces") != NULL);

    ASSERT_EQ(crs_capture_filter_thread(42), 1);
    ASSERT_EQ(crs_capture_filter_thread(43), 0);
    ASSERT_EQ(crs_capture_filter_fd(7), 1);
    ASSERT_EQ(crs_capture_filter_fd(8), 0);

    /* a failing filter names itself */
    int fail = 1;
    struct crs_capture_filter c = { .owner = "failing", .region_exclude = failing_filter, .arg = &fail };
    ASSERT_EQ(crs_capture_filter_register(&c), 0);
    ASSERT_EQ(crs_capture_filter_region(0x1000, 0x9000, "", out, 16, err, sizeof err), -EIO);
    ASSERT_TRUE(strstr(err, "the failing capture filter failed") != NULL);
    fail = 0;

    /* the capture's map, once, to a filter that asks for it: its failure (its message, else one
     * naming the filter) fails the capture */
    ASSERT_EQ(crs_capture_filter_wants_map(), 0);
    int begin_fail = 0;
    struct crs_capture_filter d = { .owner = "mapper", .regions_begin = begin_f, .arg = &begin_fail };
    ASSERT_EQ(crs_capture_filter_register(&d), 0);
    ASSERT_EQ(crs_capture_filter_wants_map(), 1);
    const struct crs_filter_map maps[2] = { { 0x1000, 0x3000, 3, 0, "" }, { 0x5000, 0x6000, 1, 1, "/x" } };
    ASSERT_EQ(crs_capture_filter_regions_begin(maps, 2, err, sizeof err), 0);
    ASSERT_EQ(seen_maps, 2);
    ASSERT_EQ(seen_first, 0x1000);
    begin_fail = 1;
    ASSERT_EQ(crs_capture_filter_regions_begin(maps, 2, err, sizeof err), -EPERM);
    ASSERT_TRUE(strstr(err, "begin_f says no") != NULL);
    begin_fail = 2;
    ASSERT_EQ(crs_capture_filter_regions_begin(maps, 2, err, sizeof err), -EPERM);
    ASSERT_TRUE(strstr(err, "the mapper capture filter failed") != NULL);
    begin_fail = 0;
    int filled = 4;
    while (crs_capture_filter_register(&a) == 0)
        filled++;
    ASSERT_EQ(filled, CRS_MAX_FILTERS);

    /* extension producers */
    ASSERT_EQ(crs_capture_extension_register("mpi", produce, NULL), 0);
    ASSERT_EQ(crs_capture_extension_register("", produce, NULL), -EINVAL);
    ASSERT_EQ(crs_capture_extension_register("with space", produce, NULL), -EINVAL);
    ASSERT_EQ(crs_capture_extension_register("sixteen-chars-xx", produce, NULL), -EINVAL);
    ASSERT_EQ(crs_capture_extension_register("mpi", NULL, NULL), -EINVAL);
    ASSERT_EQ(crs_capture_extension_count(), 1);

    /* park deferral: outside a section nothing is deferred */
    crs_park_defer_init(late);
    ASSERT_EQ(crs_park_defer_note(5), 0);
    crs_park_defer_enter();
    crs_park_defer_enter();
    ASSERT_EQ(crs_park_defer_note(5), 1);    /* the park signal came inside */
    crs_park_defer_leave();
    ASSERT_EQ(late_calls, 0);               /* still in the outer section */
    crs_park_defer_leave();
    ASSERT_EQ(late_calls, 1);               /* parks on the way out, for round 5 */
    ASSERT_EQ(late_round, 5);
    crs_park_defer_enter();
    crs_park_defer_leave();
    ASSERT_EQ(late_calls, 1);               /* no park signal this time */
    crs_park_defer_leave();                 /* unmatched: ignored */
    crs_park_defer_enter();
    ASSERT_EQ(crs_park_defer_note(6), 1);
    crs_park_defer_leave();
    ASSERT_EQ(late_calls, 2);

    /* hooks: C in order, c/x/r in reverse */
    const void *p;
    size_t len;
    ASSERT_EQ(crs_restart_handoff(&p, &len), -ENOENT);
    for (long i = 0; i < 3; i++) {
        struct crs_hook h = { "t", hook, (void *)i };
        ASSERT_EQ(crs_hook_register(&h), 0);
    }
    ASSERT_EQ(crs_hooks_checkpoint(err, sizeof err), 0);
    crs_hooks_continue(0);
    ASSERT_TRUE(!strcmp(order, "C0C1C2c2c1c0"));
    order[0] = 0;
    refuse_at = 1;
    ASSERT_EQ(crs_hooks_checkpoint(err, sizeof err), -EBUSY);
    ASSERT_TRUE(strstr(err, "the t checkpoint hook refused the checkpoint") != NULL);
    ASSERT_TRUE(!strcmp(order, "C0C1x0"));
    order[0] = 0;
    refuse_at = -1;
    ASSERT_EQ(crs_hooks_checkpoint(err, sizeof err), 0);
    crs_hooks_restart("blob", 5);
    ASSERT_TRUE(!strcmp(order, "C0C1C2r2r1r0"));
    ASSERT_EQ(crs_restart_handoff(&p, &len), -ENOENT);
    printf("PASS capture filters, park deferral bookkeeping, hooks\n");
    return 0;
}

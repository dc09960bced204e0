/* Fault points (see fault.h): REVIVE_FAULT parsed once into a bit set. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "fault"
#include "common/fault.h"
#include "common/log.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const point_names[REVIVE_FAULT_COUNT] = {
#define REVIVE_FAULT_POINT(id, name, what) [REVIVE_FAULT_##id] = name,
#include "common/fault_points.def"
#undef REVIVE_FAULT_POINT
};

#define NWORDS ((REVIVE_FAULT_COUNT + 63) / 64)

/* Two threads may parse at the same time: both set the same bits, and
 * `reported` lets only one of them print the unknown names. */
static _Atomic uint64_t armed[NWORDS];
static atomic_int parsed;
static atomic_int reported;

const char *revive_fault_name(enum revive_fault_point p)
{
    return (unsigned)p < REVIVE_FAULT_COUNT ? point_names[p] : NULL;
}

/* Appends s (at most n bytes of it) to buf at *len, cutting at the buffer's end. */
static void append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = 0;
}

/* The known names, after the error line, in lines of at most KNOWN_LINE bytes: one line held
 * them until the table passed 29 points (half a line), then 56 (a whole line: the last names came
 * out cut, test_fault); the buffers stay small, as a rank's thread may be the first to parse. */
#define KNOWN_LINE (REVIVE_LOG_LINE_MAX / 2)

static void report_unknown(const char *unknown)
{
    /* An error, not a warning: a test that arms a misspelt point would
     * otherwise pass without the fault it meant to inject. */
    revive_log_error("REVIVE_FAULT names no fault point: %s; the known points follow", unknown);
    char known[KNOWN_LINE];
    size_t len = 0;
    known[0] = 0;
    for (int i = 0; i < REVIVE_FAULT_COUNT; i++) {
        size_t n = strlen(point_names[i]);
        if (len && len + 2 + n >= sizeof known) {
            revive_log_error("known: %s", known);
            len = 0;
            known[0] = 0;
        }
        if (len)
            append(known, sizeof known, &len, ", ", 2);
        append(known, sizeof known, &len, point_names[i], n);
    }
    if (len)
        revive_log_error("known: %s", known);
}

static void parse(void)
{
    const char *v = getenv("REVIVE_FAULT");
    char unknown[REVIVE_LOG_LINE_MAX / 4];
    size_t ulen = 0;
    unknown[0] = 0;
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t l = end ? (size_t)(end - v) : strlen(v);
        if (l) {
            int i = 0;
            while (i < REVIVE_FAULT_COUNT && (strlen(point_names[i]) != l || memcmp(point_names[i], v, l)))
                i++;
            if (i < REVIVE_FAULT_COUNT) {
                atomic_fetch_or(&armed[i / 64], UINT64_C(1) << (i % 64));
            } else {
                if (ulen)
                    append(unknown, sizeof unknown, &ulen, ", ", 2);
                append(unknown, sizeof unknown, &ulen, "'", 1);
                append(unknown, sizeof unknown, &ulen, v, l);
                append(unknown, sizeof unknown, &ulen, "'", 1);
            }
        }
        v = end ? end + 1 : NULL;
    }
    if (ulen && !atomic_exchange(&reported, 1))
        report_unknown(unknown);
    atomic_store_explicit(&parsed, 1, memory_order_release);
}

void revive_fault_reread(void)
{
    for (int i = 0; i < NWORDS; i++)
        atomic_store(&armed[i], 0);
    atomic_store(&reported, 0);
    atomic_store(&parsed, 0);
}

int revive_fault(enum revive_fault_point p)
{
    if ((unsigned)p >= REVIVE_FAULT_COUNT)
        return 0;
    if (!atomic_load_explicit(&parsed, memory_order_acquire))
        parse();
    return (int)((atomic_load(&armed[p / 64]) >> (p % 64)) & 1);
}

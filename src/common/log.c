/* The logger (see log.h): level from REVIVE_VERBOSE, one write(2) per line. */
#define _GNU_SOURCE
#include "common/log.h"
#include "common/log_long.h"
#include "common/text.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* -1 until REVIVE_VERBOSE is read. Relaxed atomics: two threads racing on the
 * first call read the same variable and store the same value. */
static atomic_int log_level = -1;

static int parse_level(const char *v)
{
    if (!v)
        return REVIVE_LOG_WARN;
    int neg = *v == '-';
    if (*v == '-' || *v == '+')
        v++;
    if (*v < '0' || *v > '9')
        return REVIVE_LOG_WARN;
    int n = 0;
    while (*v >= '0' && *v <= '9' && n <= REVIVE_LOG_DEBUG)
        n = n * 10 + (*v++ - '0');
    if (neg)
        return REVIVE_LOG_ERROR;
    return n > REVIVE_LOG_DEBUG ? REVIVE_LOG_DEBUG : n;
}

int revive_log_level(void)
{
    int l = atomic_load_explicit(&log_level, memory_order_relaxed);
    if (l < 0) {
        l = parse_level(getenv("REVIVE_VERBOSE"));
        atomic_store_explicit(&log_level, l, memory_order_relaxed);
    }
    return l;
}

/* __FILE__ holds the source path as the build named it (absolute in an out-of-tree
 * build): keep it from the tree's top folder on, "src/crs/uspace/park.c". */
static const char *tree_path(const char *file)
{
    static const char *const tops[] = { "src/", "tools/", "tests/", "bench/" };
    const char *best = file;
    for (const char *p = file; *p; p++) {
        if (p != file && p[-1] != '/')
            continue;
        for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
            if (!strncmp(p, tops[i], strlen(tops[i])))
                best = p;
    }
    return best;
}

/* One line into buf (cap bytes) and out: "..." where it is cut, so that a cut never passes for
 * the whole message. */
static void log_line(char *buf, size_t cap, const char *subsys, const char *file, int line,
                     const char *fmt, va_list ap)
{
    int n;
    if (revive_log_level() >= REVIVE_LOG_DEBUG && file)
        n = snprintf(buf, cap, "revive: %s: [%s:%d] ", subsys, tree_path(file), line);
    else
        n = snprintf(buf, cap, "revive: %s: ", subsys);
    if (n < 0)
        return;
    if ((size_t)n < cap) {
        int m = vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
        if (m < 0)
            return;
        n += m;
    }
    /* cut to the buffer, keeping room for the newline; the dots on a character boundary */
    if ((size_t)n > cap - 1) {
        buf[cap - 1] = 0;
        revive_text_cut(buf, cap);
        n = (int)strlen(buf);
    }
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w; /* nowhere to report a failing stderr */
}

void revive_log_vat(int level, const char *subsys, const char *file, int line, const char *fmt, va_list ap)
{
    char buf[REVIVE_LOG_LINE_MAX];
    (void)level; /* the caller decided; the level does not show in the line */
    log_line(buf, sizeof buf, subsys, file, line, fmt, ap);
}

void revive_log_long_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
{
    char buf[REVIVE_LOG_LONG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)level;
    log_line(buf, sizeof buf, subsys, file, line, fmt, ap);
    va_end(ap);
}

void revive_log_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    revive_log_vat(level, subsys, file, line, fmt, ap);
    va_end(ap);
}

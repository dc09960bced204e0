#define _GNU_SOURCE
#include "crs/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int revive_log_level(void)
{
    static int level = -1;
    if (level < 0) {
        const char *v = getenv("REVIVE_VERBOSE");
        level = v && *v ? atoi(v) : CRS_LOG_WARN;
    }
    return level;
}

void revive_log_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
{
    /* Formatted on the stack and written with one write(2): safe while other
     * threads are frozen holding stdio or malloc locks. */
    char buf[1024];
    int n;
    if (level >= CRS_LOG_DEBUG)
        n = snprintf(buf, sizeof buf, "revive: %s: [%s:%d] ", subsys, file, line);
    else
        n = snprintf(buf, sizeof buf, "revive: %s: ", subsys);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof buf)
        n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf - 1)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(2, buf, n);
    (void)w;
}

int revive_fault(const char *name)
{
    const char *v = getenv("REVIVE_FAULT");
    if (!v || !*v)
        return 0;
    size_t len = strlen(name);
    while (*v) {
        const char *end = strchr(v, ',');
        size_t l = end ? (size_t)(end - v) : strlen(v);
        if (l == len && !memcmp(v, name, len))
            return 1;
        if (!end)
            break;
        v = end + 1;
    }
    return 0;
}

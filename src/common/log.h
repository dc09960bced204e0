/* The one logger of Revive: a subsystem prefix per file, one level scale.
 *
 * Each .c file that logs names its subsystem before using the calls:
 *
 *     #define REVIVE_LOG_SUBSYS "crs"
 *     #include "common/log.h"
 *     ...
 *     revive_log_warn("cannot listen for requests: %s", strerror(-e));
 *
 * A message goes to stderr as "revive: <subsys>: text\n"; when the level is
 * debug, every message also names its source: "revive: crs: [src/x.c:12] text".
 *
 * The level comes from REVIVE_VERBOSE, read once: 0 errors only, 1 warnings
 * (the default, also for an empty or non-numeric value), 2 info, 3 debug
 * (larger values count as 3, negative ones as 0). Errors are always printed.
 *
 * Safe where threads may be frozen holding locks (a checkpoint parks them
 * anywhere, even inside malloc): a message is formatted on the stack with
 * vsnprintf (Revive's formats never need its allocating paths: no %ls, no
 * positional arguments, no huge widths) and written with one write(2), so
 * lines from several threads or processes sharing a pipe do not mix. Lines
 * longer than REVIVE_LOG_LINE_MAX bytes are cut. */
#ifndef REVIVE_COMMON_LOG_H
#define REVIVE_COMMON_LOG_H

#include <stdarg.h>

enum {
    REVIVE_LOG_ERROR = 0,
    REVIVE_LOG_WARN = 1,
    REVIVE_LOG_INFO = 2,
    REVIVE_LOG_DEBUG = 3,
};

/* Longest line written, newline included. */
#define REVIVE_LOG_LINE_MAX 1024

/* The level from REVIVE_VERBOSE (read at the first call). */
int revive_log_level(void);

/* Writes one message of `level` (callers check the level first; the macros
 * below do). file and line are printed at debug level; file may be NULL. */
void revive_log_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void revive_log_vat(int level, const char *subsys, const char *file, int line, const char *fmt,
                    va_list ap) __attribute__((format(printf, 5, 0)));

/* Formats nothing unless the level is on. */
#define revive_log_(lvl, ...)                                                                  \
    do {                                                                                       \
        if ((lvl) <= revive_log_level())                                                       \
            revive_log_at((lvl), REVIVE_LOG_SUBSYS, __FILE__, __LINE__, __VA_ARGS__);          \
    } while (0)

#define revive_log_error(...) revive_log_(REVIVE_LOG_ERROR, __VA_ARGS__)
#define revive_log_warn(...) revive_log_(REVIVE_LOG_WARN, __VA_ARGS__)
#define revive_log_info(...) revive_log_(REVIVE_LOG_INFO, __VA_ARGS__)
#define revive_log_debug(...) revive_log_(REVIVE_LOG_DEBUG, __VA_ARGS__)

#endif

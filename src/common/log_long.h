/* A log line that may carry a whole message of another process (a rank's restart failure, up
 * to REVIVE_RESTART_TEXT_MAX, with what the caller says around it: the job directory twice): as log.h's, formatted on a
 * stack buffer of REVIVE_LOG_LONG_MAX bytes, "..." where it is cut. For processes with an
 * ordinary stack (the coordinator), not for code that may run on a rank's small thread stacks
 * or with threads frozen anywhere (log.h's lines stay at REVIVE_LOG_LINE_MAX there). */
#ifndef REVIVE_COMMON_LOG_LONG_H
#define REVIVE_COMMON_LOG_LONG_H

#include "common/log.h"
#include "common/text.h"

/* Longest line written, newline included. */
#define REVIVE_LOG_LONG_MAX (REVIVE_RESTART_TEXT_MAX + REVIVE_TEXT_PATHS(2))

void revive_log_long_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define revive_log_error_long(...)                                                            \
    revive_log_long_at(REVIVE_LOG_ERROR, REVIVE_LOG_SUBSYS, __FILE__, __LINE__, __VA_ARGS__)

#endif

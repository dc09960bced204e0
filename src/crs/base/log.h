/* One logging idiom for all of Revive, and fault points for tests. */
#ifndef REVIVE_LOG_H
#define REVIVE_LOG_H

#include <stdarg.h>

enum { CRS_LOG_ERROR = 0, CRS_LOG_WARN = 1, CRS_LOG_INFO = 2, CRS_LOG_DEBUG = 3 };

/* Level from REVIVE_VERBOSE (default: warnings). Messages go to stderr as
 * "revive: <subsys>: text"; at debug level with file:line. Uses no malloc. */
void revive_log_at(int level, const char *subsys, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int revive_log_level(void);

#define crs_log(level, subsys, ...) \
    do { if ((level) <= revive_log_level()) revive_log_at((level), (subsys), __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define crs_debug(subsys, ...) crs_log(CRS_LOG_DEBUG, subsys, __VA_ARGS__)
#define crs_info(subsys, ...) crs_log(CRS_LOG_INFO, subsys, __VA_ARGS__)
#define crs_warn(subsys, ...) crs_log(CRS_LOG_WARN, subsys, __VA_ARGS__)

/* True when REVIVE_FAULT names this step ("name" or "name,other"): tests use
 * it to make one step fail and check that nothing earlier is damaged. */
int revive_fault(const char *name);

#endif

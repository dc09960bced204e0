/* The one-line error of a command-line tool, formatted the same way by restart-mpi,
 * ckpt-mpirun and revive-restart-rank (each had its own copy of the same vsnprintf and
 * fprintf): "WHO: MESSAGE" on standard error, then, for tool_vdie, the exit status the tool's
 * manual gives (1 refused or failed, 2 wrong usage). Tools with cleanup to do before they exit
 * (restart-mpi removes what it re-created) call tool_vsay, clean up, and exit themselves. */
#ifndef REVIVE_TOOLS_TOOL_DIE_H
#define REVIVE_TOOLS_TOOL_DIE_H

#include <stdarg.h>
#include <stddef.h>

/* fmt and ap formatted into msg (len bytes, cut short when longer) and written as one line
 * "WHO: MESSAGE" on standard error; returns msg (for a progress file that repeats it). */
const char *tool_vsay(const char *who, char *msg, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* tool_vsay with a buffer of its own, then exit(status). */
void tool_vdie(int status, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0), noreturn));

#endif

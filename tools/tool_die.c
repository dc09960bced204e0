/* The one-line error of a command-line tool (tool_die.h). */
#include "tools/tool_die.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tool_vsay(const char *who, char *msg, size_t len, const char *fmt, va_list ap)
{
    int n = vsnprintf(msg, len, fmt, ap);
    if (n > 0 && (size_t)n >= len && len > 4)
        memcpy(msg + len - 4, "...", 4); /* a cut never passes for the whole message */
    fprintf(stderr, "%s: %s\n", who, msg);
    return msg;
}

void tool_vdie(int status, const char *who, const char *fmt, va_list ap)
{
    char msg[4096]; /* the longest any of the tools had: two paths and the advice */
    tool_vsay(who, msg, sizeof msg, fmt, ap);
    exit(status);
}

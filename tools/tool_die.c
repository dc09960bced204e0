/* The one-line error of a command-line tool (tool_die.h). */
#include "tools/tool_die.h"

#include <stdio.h>
#include <stdlib.h>

const char *tool_vsay(const char *who, char *msg, size_t len, const char *fmt, va_list ap)
{
    vsnprintf(msg, len, fmt, ap);
    fprintf(stderr, "%s: %s\n", who, msg);
    return msg;
}

void tool_vdie(int status, const char *who, const char *fmt, va_list ap)
{
    char msg[4096]; /* the longest any of the tools had: two paths and the advice */
    tool_vsay(who, msg, sizeof msg, fmt, ap);
    exit(status);
}

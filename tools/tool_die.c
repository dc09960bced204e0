/* The one-line error of a command-line tool (tool_die.h). */
#include "tools/tool_die.h"
#include "common/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tool_vsay(const char *who, char *msg, size_t len, const char *fmt, va_list ap)
{
    int n = vsnprintf(msg, len, fmt, ap);
    if (n > 0 && (size_t)n >= len)
        revive_text_cut(msg, len); /* a cut never passes for the whole message */
    fprintf(stderr, "%s: %s\n", who, msg);
    return msg;
}

void tool_vdie(int status, const char *who, const char *fmt, va_list ap)
{
    char msg[REVIVE_TEXT_PATHS(4)]; /* paths up to PATH_MAX and the advice after them */
    tool_vsay(who, msg, sizeof msg, fmt, ap);
    exit(status);
}

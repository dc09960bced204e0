/* The visible cut of a long message; text appended to a fixed buffer (text.h). */
#include "common/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void revive_text_cut(char *buf, size_t len)
{
    if (len < 4)
        return;
    size_t at = len - 4;
    /* back to the first byte of the character at `at` (continuation bytes are 10xxxxxx) */
    while (at > 0 && ((unsigned char)buf[at] & 0xC0) == 0x80)
        at--;
    memcpy(buf + at, "...", 4);
}

int revive_text_put(char *buf, size_t len, size_t *used, int err, const char *fmt, ...)
{
    if (!buf || *used >= len)
        return err;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= len - *used) {
        buf[*used] = 0;
        return err;
    }
    *used += (size_t)w;
    return 0;
}

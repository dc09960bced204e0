/* The visible cut of a long message (text.h). */
#include "common/text.h"

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

/* size_arg.c — sizes such as 512M or 4G (size_arg.h). */
#include "common/size_arg.h"

#include <stdlib.h>

int revive_size_arg(const char *s, uint64_t *bytes)
{
    if (!s || *s < '0' || *s > '9')
        return -1; /* strtoull would take " 5", "+5" and "-5" */
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    switch (*end) {
    case 0: break;
    case 'K': case 'k': mul = 1ull << 10; break;
    case 'M': case 'm': mul = 1ull << 20; break;
    case 'G': case 'g': mul = 1ull << 30; break;
    case 'T': case 't': mul = 1ull << 40; break;
    default: return -1;
    }
    if ((mul != 1 && end[1]) || v > (1ull << 44) / mul)
        return -1;
    *bytes = v * mul;
    return 0;
}

/* host:port split into its parts (hostport.h). */
#include "common/hostport.h"

#include <errno.h>
#include <string.h>

int revive_hostport_split(const char *s, char *host, size_t len, const char **port)
{
    /* the last ':': an IPv6 address in brackets holds more of them before it */
    const char *end = port ? strrchr(s, ':') : s + strlen(s);
    if (!end || end == s || (size_t)(end - s) >= len)
        return -EINVAL;
    if (port)
        *port = end + 1;
    size_t hl = (size_t)(end - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    memcpy(host, s, hl);
    host[hl] = 0;
    return 0;
}

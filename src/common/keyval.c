/* "KEY value" lines (keyval.h). */
#include "common/keyval.h"

#include <string.h>

int revive_kv_value(const char *text, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t ll = nl ? (size_t)(nl - s) : strlen(s);
        if (ll > kl && !strncmp(s, key, kl) && s[kl] == ' ') {
            size_t vl = ll - kl - 1;
            if (len) {
                if (vl >= len)
                    vl = len - 1;
                memcpy(out, s + kl + 1, vl);
                out[vl] = 0;
            }
            return 1;
        }
        s = nl ? nl + 1 : NULL;
    }
    return 0;
}

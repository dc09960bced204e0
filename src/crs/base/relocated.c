/* The --relocate rule (relocated.h): one for the ranks' restores, cr_restart and restart-mpi. */
#include "crs/base/relocated.h"

#include <stdio.h>
#include <string.h>

const char *crs_relocated(const char *const *relocate, size_t nrelocate, const char *path, char *buf, size_t cap)
{
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < nrelocate; i++) {
        const char *eq = strchr(relocate[i], '=');
        size_t n = eq ? (size_t)(eq - relocate[i]) : 0;
        while (n > 1 && relocate[i][n - 1] == '/')   /* "OLD/" means OLD */
            n--;
        if (n && n > best_len && !strncmp(path, relocate[i], n) && (path[n] == '/' || !path[n])) {
            best = i;
            best_len = n;
        }
    }
    if (!best_len)
        return path;
    const char *to = strchr(relocate[best], '=') + 1;
    size_t tn = strlen(to);
    while (tn > 1 && to[tn - 1] == '/')
        tn--;
    int w = snprintf(buf, cap, "%.*s%s", (int)tn, to, path + best_len);
    return w > 0 && (size_t)w < cap ? buf : path;
}

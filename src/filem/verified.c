/* The stamps of the rank images restart-mpi verified, as text for the ranks (verified.h). */
#define _GNU_SOURCE
#include "filem/verified.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int filem_verified_format(const struct crs_file_stamp *stamps, uint64_t n, char *out, size_t len)
{
    size_t at = 0;
    int count = 0;
    if (len)
        out[0] = 0;
    for (uint64_t r = 0; r < n; r++) {
        const struct crs_file_stamp *s = &stamps[r];
        if (!s->size)
            continue;
        int k = snprintf(out + at, len - at, "%s%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRId64
                         ":%" PRId64, count ? "," : "", r, s->dev, s->ino, s->size, s->ctime_sec,
                         s->ctime_nsec);
        if (k < 0 || (size_t)k >= len - at) {
            if (len)
                out[0] = 0;
            return -ENOSPC;
        }
        at += (size_t)k;
        count++;
    }
    return count;
}

/* One unsigned decimal field ended by END ('\0' also ends the last): 0, or -EINVAL. */
static int field(const char **p, char end, uint64_t *v)
{
    char *e;
    if (**p < '0' || **p > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long x = strtoull(*p, &e, 10);
    if (errno || (*e != end && !(end == ',' && *e == 0)))
        return -EINVAL;
    *v = x;
    *p = *e ? e + 1 : e;
    return 0;
}

int filem_verified_find(const char *text, int r, struct crs_file_stamp *s)
{
    if (!text || r < 0)
        return -ENOENT;
    const char *p = text;
    while (*p) {
        uint64_t f[6];
        for (int i = 0; i < 6; i++)
            if (field(&p, i < 5 ? ':' : ',', &f[i]) < 0)
                return -EINVAL;
        if (f[3] == 0 || f[5] >= 1000000000u || f[4] > INT64_MAX)
            return -EINVAL;
        if (f[0] == (uint64_t)r) {
            *s = (struct crs_file_stamp){.dev = f[1], .ino = f[2], .size = f[3],
                                         .ctime_sec = (int64_t)f[4], .ctime_nsec = (int64_t)f[5]};
            return 0;
        }
    }
    return -ENOENT;
}

int filem_verified_usable(const struct crs_file_stamp *before, const struct crs_file_stamp *after,
                          int64_t now_sec)
{
    /* a file changed within the last second: not handed on (crs_file_stamp_settled) */
    return before->size && crs_file_stamp_same(before, after) && crs_file_stamp_settled(after, now_sec);
}

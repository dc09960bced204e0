/* The build ids of mapped files, remembered between captures (build_id_cache.h). One capture
 * runs at a time in a process (the other threads parked); a forked child gets a copy, which is
 * as right for it. */
#include "crs/uspace/build_id_cache.h"
#include "crs/base/image_format.h"

#include <string.h>

#define CACHE_MAX 256
static struct entry {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    uint32_t len;
    uint8_t id[CRS_BUILD_ID_MAX];
} cache[CACHE_MAX];
static unsigned used, next; /* entries filled; where the next one goes */

static int same(const struct entry *e, const struct stat *st)
{
    return e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino && e->size == (uint64_t)st->st_size &&
           e->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec &&
           e->ctime_ns == (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

int crs_build_id_recall(const struct stat *st, uint8_t *out)
{
    for (unsigned i = 0; i < used; i++)
        if (same(&cache[i], st)) {
            memcpy(out, cache[i].id, cache[i].len);
            return (int)cache[i].len;
        }
    return -1;
}

void crs_build_id_remember(const struct stat *st, const uint8_t *id, uint32_t len)
{
    if (len > CRS_BUILD_ID_MAX)
        return;
    struct entry *e = &cache[next];
    next = (next + 1) % CACHE_MAX;
    if (used < CACHE_MAX)
        used++;
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->size = (uint64_t)st->st_size;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
    e->len = len;
    memcpy(e->id, id, len);
}

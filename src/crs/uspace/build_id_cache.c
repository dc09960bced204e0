/* The build ids of mapped files, remembered between captures (build_id_cache.h). One capture
 * runs at a time in a process (the other threads parked); a forked child gets a copy, which is
 * as right for it. */
#include "crs/uspace/build_id_cache.h"
#include "crs/base/image.h"
#include "crs/base/image_format.h"

#include <string.h>
#include <time.h>

#define CACHE_MAX 256
static struct entry {
    struct crs_file_stamp stamp;
    uint32_t len;
    uint8_t id[CRS_BUILD_ID_MAX];
} cache[CACHE_MAX];
static unsigned used, next; /* entries filled; where the next one goes */

int crs_build_id_recall(const struct stat *st, uint8_t *out)
{
    struct crs_file_stamp s;
    crs_file_stamp_from(st, &s);
    for (unsigned i = 0; i < used; i++)
        if (crs_file_stamp_same(&cache[i].stamp, &s)) {
            memcpy(out, cache[i].id, cache[i].len);
            return (int)cache[i].len;
        }
    return -1;
}

void crs_build_id_remember(const struct stat *st, const uint8_t *id, uint32_t len)
{
    struct crs_file_stamp s;
    crs_file_stamp_from(st, &s);
    /* a file changed within the last second could be rewritten in place within the same tick
     * of its change time: its stamp would not tell, and a later capture would write the old
     * build id (diffrev34 R-L2) */
    if (len > CRS_BUILD_ID_MAX || !crs_file_stamp_settled(&s, (int64_t)time(NULL)))
        return;
    struct entry *e = &cache[next];
    next = (next + 1) % CACHE_MAX;
    if (used < CACHE_MAX)
        used++;
    e->stamp = s;
    e->len = len;
    memcpy(e->id, id, len);
}

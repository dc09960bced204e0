/* The memory map as an array (see maps.h), over common/procfs.h's line reader. */
#define _GNU_SOURCE
#include "crs/uspace/maps.h"

#include <errno.h>
#include <string.h>

#include "common/procfs.h"

long crs_maps_read(char *buf, size_t buflen, struct crs_map *maps, size_t cap)
{
    if (buflen < CRS_MAPS_LINE_MAX + 1)
        return -ENOSPC;
    /* names from the front, the line buffer at the back */
    size_t names_cap = buflen - CRS_MAPS_LINE_MAX, used = 0;
    struct revive_maps_reader r;
    struct revive_maps_entry e;
    int k = revive_maps_open(&r, 0, 0, buf + names_cap, CRS_MAPS_LINE_MAX);
    if (k < 0)
        return k;
    size_t n = 0;
    long ret = 0;
    while ((k = revive_maps_next(&r, &e)) == 1) {
        size_t len = strlen(e.name) + 1;
        if (e.name_cut) {
            ret = -ENAMETOOLONG;
            break;
        }
        if (n == cap || used + len > names_cap) {
            ret = -ENOSPC;
            break;
        }
        memcpy(buf + used, e.name, len);
        maps[n] = (struct crs_map){
            .start = e.start, .end = e.end, .pgoff = e.offset, .dev = e.dev, .ino = e.inode,
            .prot = (uint32_t)e.prot, .shared = e.shared, .name = buf + used,
        };
        used += len;
        n++;
    }
    revive_maps_close(&r);
    if (!ret && k < 0)
        ret = k;
    return ret ? ret : (long)n;
}

long crs_max_map_count(void)
{
    char buf[64];
    const char *p = buf;
    uint64_t v;
    if (revive_read_file("/proc/sys/vm/max_map_count", buf, sizeof buf) <= 0 || revive_parse_u64(&p, &v) ||
        v > (1u << 30))
        return -1;
    return (long)v;
}

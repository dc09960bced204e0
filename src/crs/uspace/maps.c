/* The memory map as an array (see maps.h), over common/procfs.h's line reader. */
#define _GNU_SOURCE
#include "crs/uspace/maps.h"

#include <errno.h>
#include <string.h>

#include "common/procfs.h"
#include "crs/base/image_format.h"

/* Appends a parsed mapping to maps[*n], its name to buf's names (at *used, up to names_cap):
 * 0, or -ENOSPC when either is full. */
static long map_append(char *buf, size_t *used, size_t names_cap, struct crs_map *maps, size_t *n, size_t cap,
                       const struct revive_maps_entry *e)
{
    size_t len = strlen(e->name) + 1;
    if (*n == cap || *used + len > names_cap)
        return -ENOSPC;
    memcpy(buf + *used, e->name, len);
    maps[*n] = (struct crs_map){
        .start = e->start, .end = e->end, .pgoff = e->offset, .dev = e->dev, .ino = e->inode,
        .prot = (uint32_t)e->prot, .shared = e->shared, .name = buf + *used,
    };
    *used += len;
    (*n)++;
    return 0;
}

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
        if (e.name_cut) {
            ret = -ENAMETOOLONG;
            break;
        }
        if ((ret = map_append(buf, &used, names_cap, maps, &n, cap, &e)))
            break;
    }
    revive_maps_close(&r);
    if (!ret && k < 0)
        ret = k;
    return ret ? ret : (long)n;
}

/* The advice codes of "VmFlags:" the image keeps (image_format.h, CRS_MADV_*). */
static const struct { char code[2]; uint32_t bit; } vmflags[] = {
    { "hg", CRS_MADV_HUGEPAGE }, { "nh", CRS_MADV_NOHUGEPAGE }, { "dc", CRS_MADV_DONTFORK },
    { "dd", CRS_MADV_DONTDUMP }, { "wf", CRS_MADV_WIPEONFORK }, { "mg", CRS_MADV_MERGEABLE },
    { "sr", CRS_MADV_SEQUENTIAL }, { "rr", CRS_MADV_RANDOM },
};

/* "Name:   N kB" or "Name: N": N, else 0 */
static uint64_t field_u64(const char *line, size_t namelen)
{
    const char *p = line + namelen;
    uint64_t v = 0;
    while (*p == ' ')
        p++;
    return revive_parse_u64(&p, &v) ? 0 : v;
}

/* One of smaps' lines of a mapping's own into *m (the others are not read). */
static void more_line(const char *line, struct crs_map_more *m)
{
    if (line[0] == 'K' && !strncmp(line, "KernelPageSize:", 15)) {
        uint64_t v = field_u64(line, 15);
        uint32_t shift = 0;
        if (v < 8)
            return;
        v *= 1024;
        while ((1ull << shift) < v)
            shift++;
        m->page_shift = shift > 12 ? shift : 0;
    } else if (line[0] == 'V' && !strncmp(line, "VmFlags:", 8)) {
        m->flags_seen = 1;
        for (const char *p = line + 8; *p; p++) {
            if (p[-1] != ' ' || !p[1] || (p[2] != ' ' && p[2]))
                continue;
            for (size_t f = 0; f < sizeof vmflags / sizeof vmflags[0]; f++)
                if (p[0] == vmflags[f].code[0] && p[1] == vmflags[f].code[1])
                    m->madvise |= vmflags[f].bit;
            if (p[0] == 'm' && p[1] == 'w')
                m->may_write = 1;
        }
    } else if (line[0] == 'P' && !strncmp(line, "ProtectionKey:", 14)) {
        m->pkey = field_u64(line, 14);
    } else if (line[0] == 'S' && !strncmp(line, "Shared_", 7) &&
               (!strncmp(line + 7, "Clean:", 6) || !strncmp(line + 7, "Dirty:", 6))) {
        m->shared_kb += field_u64(line, 13);
    }
}

long crs_smaps_read(char *buf, size_t buflen, struct crs_map *maps, struct crs_map_more *more, size_t cap)
{
    /* a line buffer of its own size: smaps has some twenty lines a mapping */
    size_t line_buf = CRS_MAPS_LINE_MAX + (128u << 10);
    if (buflen < line_buf + 1)
        return -ENOSPC;
    size_t names_cap = buflen - line_buf, used = 0;
    struct revive_maps_reader r;
    struct revive_maps_entry e;
    int k = revive_smaps_open(&r, 0, 0, buf + names_cap, line_buf);
    if (k < 0)
        return k;
    size_t n = 0;
    long ret = 0;
    char *line;
    int cut;
    while ((k = revive_maps_next_line(&r, &line, &cut)) == 1) {
        /* a mapping's line begins with its address in lower-case hex, its own lines with a name */
        int head = (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
        if (!head) {
            if (!cut && n)
                more_line(line, &more[n - 1]);
            continue;
        }
        /* A mapping's line the parser refuses fails the read, as crs_maps_read does: skipping
         * it would leave that memory out of the image and give its lines to the one before. */
        if (cut) {
            ret = -ENAMETOOLONG;
            break;
        }
        if (revive_maps_parse_line(line, &e) != 0) {
            ret = -EIO;
            break;
        }
        if ((ret = map_append(buf, &used, names_cap, maps, &n, cap, &e)))
            break;
        memset(&more[n - 1], 0, sizeof more[n - 1]);
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

/* The whole memory map of the process as an array, read without allocating (capture runs
 * while threads are frozen; cr_restart plans its own unmapping with it). Line by line
 * reading and the other /proc readers are in common/procfs.h. */
#ifndef REVIVE_CRS_MAPS_H
#define REVIVE_CRS_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct crs_map {
    uint64_t start, end, pgoff;
    uint64_t dev, ino;
    uint32_t prot;      /* PROT_* */
    int shared;         /* 's' in the flags column */
    const char *name;   /* inside the caller's buffer; "" for anonymous */
};

/* Reads /proc/self/maps into up to cap entries; the names are kept in buf (NUL-terminated).
 * buf also serves as the line buffer: it needs CRS_MAPS_LINE_MAX bytes more than the names.
 * Returns the entry count, or -errno: -ENOSPC when buf or cap is too small, -ENAMETOOLONG
 * for a line longer than CRS_MAPS_LINE_MAX (no path is: PATH_MAX, each byte escaped). */
#define CRS_MAPS_LINE_MAX (4 * 4096 + 512)
long crs_maps_read(char *buf, size_t buflen, struct crs_map *maps, size_t cap);

/* What /proc/self/smaps says of a mapping besides its maps line. */
struct crs_map_more {
    uint32_t page_shift;   /* log2 of "KernelPageSize:" when above 4 KiB, else 0 */
    uint32_t madvise;      /* CRS_MADV_* of the advice codes in "VmFlags:" */
    int flags_seen;        /* a "VmFlags:" line came */
    int may_write;         /* "mw" among them: mprotect may make it writable */
    uint64_t pkey;         /* "ProtectionKey:" (x86 pku), 0 when none */
    uint64_t shared_kb;    /* "Shared_Clean:" + "Shared_Dirty:": its pages another process maps too
                            * (a private mapping's: shared copy-on-write with a parent or child) */
};

/* As crs_maps_read, from /proc/self/smaps (the same lines, each followed by the mapping's own):
 * more[i] for maps[i] too. One read for the map and what smaps adds (both were read before).
 * Returns the entry count or -errno as crs_maps_read does; the open's -errno when smaps cannot be
 * read (no CONFIG_PROC_PAGE_MONITOR: the caller reads maps). */
long crs_smaps_read(char *buf, size_t buflen, struct crs_map *maps, struct crs_map_more *more, size_t cap);

/* vm.max_map_count (how many mappings a process may have), or -1 when it cannot be read. */
long crs_max_map_count(void);

#endif

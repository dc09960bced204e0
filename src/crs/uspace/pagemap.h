/* Which pages of a range are present, swapped or file-backed, as /proc/self/pagemap tells them,
 * for the capture's page walk (capture_write.c). */
#ifndef REVIVE_CRS_PAGEMAP_H
#define REVIVE_CRS_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

/* The bits of a pagemap entry the walk uses (Documentation/admin-guide/mm/pagemap.rst). */
#define CRS_PM_PRESENT (1ULL << 63)
#define CRS_PM_SWAPPED (1ULL << 62)
#define CRS_PM_FILE (1ULL << 61)

struct crs_pagemap {
    int fd;            /* /proc/self/pagemap */
    size_t page;       /* the page size */
    int scan;          /* 1: PAGEMAP_SCAN answers (Linux 6.7); 0: not asked yet or refused */
    int asked;
    int no_file;       /* 1: CRS_PM_FILE not wanted (not asked of PAGEMAP_SCAN, left 0) */
    void *vec;         /* the ioctl's ranges (scratch) */
    size_t vec_len;
};

/* pm[i] for the pages base + i * page, i < n: CRS_PM_PRESENT, CRS_PM_SWAPPED and CRS_PM_FILE
 * exactly as /proc/self/pagemap gives them (no other bit). With the PAGEMAP_SCAN ioctl (Linux
 * 6.7) the kernel reports only the runs of present or swapped pages, skipping what was never
 * touched (a read of pagemap fills 8 bytes for each such page: a third of its cost in a rank);
 * where the ioctl is unknown (ENOTTY, EINVAL: older kernels) a pread of pagemap as before.
 * With p->no_file set the scan does not ask for the file bit (CRS_PM_FILE stays 0): to tell it the
 * kernel looks up every present page (vm_normal_page, the page's anon bit), which only a walk of a
 * private file mapping's pages needs; the pread fallback reports it whatever no_file says.
 * Returns 0, or -errno of the read. */
int crs_pagemap_get(struct crs_pagemap *p, uint64_t *pm, uint64_t base, size_t n);

#endif

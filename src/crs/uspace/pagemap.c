/* The page walk's view of /proc/self/pagemap (pagemap.h): the PAGEMAP_SCAN ioctl where the kernel
 * has it, a pread of the entries otherwise. The ioctl's argument and categories are Linux's uapi
 * (linux/fs.h since 6.7), spelled out here for older headers. */
#define _GNU_SOURCE
#include "crs/uspace/pagemap.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct crs_page_region {
    uint64_t start, end, categories;
};

struct crs_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
        category_anyof_mask, return_mask;
};

#define CRS_PAGEMAP_SCAN _IOWR('f', 16, struct crs_pm_scan_arg)
#define CRS_PAGE_IS_FILE (1ULL << 2)
#define CRS_PAGE_IS_PRESENT (1ULL << 3)
#define CRS_PAGE_IS_SWAPPED (1ULL << 4)

static int by_pread(struct crs_pagemap *p, uint64_t *pm, uint64_t base, size_t n)
{
    ssize_t want = (ssize_t)(n * 8);
    ssize_t got = pread(p->fd, pm, (size_t)want, (off_t)(base / p->page * 8));
    if (got == want)
        return 0;
    return got < 0 ? -errno : -EIO;
}

/* The kernel's categories of a page and the entry bits the walk reads agree: present (a present
 * pte), swapped (any other non-empty pte, as pagemap's swap bit), file (the page is not
 * anonymous); a VM_PFNMAP mapping is skipped by both (pagemap reports it as a hole). */
int crs_pagemap_get(struct crs_pagemap *p, uint64_t *pm, uint64_t base, size_t n)
{
    if (!p->asked || p->scan) {
        memset(pm, 0, n * 8);
        const struct crs_page_region *v = p->vec;
        uint64_t at = base, end = base + (uint64_t)n * p->page;
        while (at < end) {
            struct crs_pm_scan_arg a = {
                .size = sizeof a, .start = at, .end = end, .vec = (uint64_t)(uintptr_t)p->vec,
                .vec_len = p->vec_len, .category_anyof_mask = CRS_PAGE_IS_PRESENT | CRS_PAGE_IS_SWAPPED,
                .return_mask = CRS_PAGE_IS_PRESENT | CRS_PAGE_IS_SWAPPED | (p->no_file ? 0 : CRS_PAGE_IS_FILE),
            };
            long k = ioctl(p->fd, CRS_PAGEMAP_SCAN, &a);
            if (k < 0 && !p->asked && (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP)) {
                p->asked = 1;   /* a kernel before 6.7: the entries read */
                return by_pread(p, pm, base, n);
            }
            p->asked = 1;
            if (k < 0)
                return -errno;
            p->scan = 1;
            for (long i = 0; i < k; i++) {
                uint64_t bits = (v[i].categories & CRS_PAGE_IS_PRESENT ? CRS_PM_PRESENT : 0) |
                                (v[i].categories & CRS_PAGE_IS_SWAPPED ? CRS_PM_SWAPPED : 0) |
                                (v[i].categories & CRS_PAGE_IS_FILE ? CRS_PM_FILE : 0);
                uint64_t s = v[i].start < base ? base : v[i].start, e = v[i].end > end ? end : v[i].end;
                for (uint64_t x = s; x < e; x += p->page)
                    pm[(x - base) / p->page] = bits;
            }
            if (a.walk_end <= at)
                return -EIO;   /* no progress: never from a kernel that keeps its word */
            at = a.walk_end;
        }
        return 0;
    }
    return by_pread(p, pm, base, n);
}

/* src/crs/uspace/pagemap.c: the page walk's present, swapped and file bits through PAGEMAP_SCAN are
 * those a read of /proc/self/pagemap gives, page by page, for memory of every kind the walk reads:
 * private anonymous pages written, read (the zero page) and never touched, a private file mapping
 * read (file pages) and written (its anonymous copies), shared anonymous memory, a large reservation
 * never touched (holes), a range across two mappings and the gap between them; with a vector of
 * two ranges (the ioctl called again from where it stopped) as well as a large one; with no_file set
 * the scan leaves the file bit out (the kernel is not asked for it). Where the kernel
 * refuses PAGEMAP_SCAN (before Linux 6.7) the read itself is checked and that is said. */
#define _GNU_SOURCE
#include "crs/uspace/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../unit_assert.h"

#define BITS (CRS_PM_PRESENT | CRS_PM_SWAPPED | CRS_PM_FILE)
#define MAXP 65536

static uint64_t vec[4096 * 3];
static uint64_t by_scan[MAXP], by_read[MAXP];

/* the bits of pages [a, a + n * 4096) both ways; returns 1 when the scan answered */
static int compare(int pm_fd, uint64_t a, size_t n, size_t vec_len)
{
    struct crs_pagemap scan = { .fd = pm_fd, .page = 4096, .vec = vec, .vec_len = vec_len };
    struct crs_pagemap rd = { .fd = pm_fd, .page = 4096, .asked = 1 };   /* the read, as after a refusal */
    ASSERT_EQ(crs_pagemap_get(&rd, by_read, a, n), 0);
    ASSERT_EQ(crs_pagemap_get(&scan, by_scan, a, n), 0);
    for (size_t i = 0; i < n; i++)
        if ((by_scan[i] & BITS) != (by_read[i] & BITS) || (by_scan[i] & ~BITS))
            FAILF("page %#llx: %#llx through PAGEMAP_SCAN, %#llx read", (unsigned long long)(a + i * 4096),
                  (unsigned long long)by_scan[i], (unsigned long long)(by_read[i] & BITS));
    return scan.scan;
}

int main(void)
{
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        printf("SKIP: no /proc/self/pagemap: %s\n", strerror(errno));
        return 77;
    }
    /* private anonymous: pages written, one read only (the zero page), the rest untouched */
    char *anon = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(anon != MAP_FAILED);
    for (int i = 40; i < 64; i++)
        anon[i * 4096] = 1;
    anon[0] = anon[4096] = anon[5 * 4096] = 7;
    volatile char c = anon[9 * 4096];
    (void)c;
    /* a private file mapping, read and partly written */
    char path[] = "/tmp/revive-pagemap.XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    unlink(path);
    char page[4096];
    memset(page, 'x', sizeof page);
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(write(fd, page, sizeof page), 4096);
    char *file = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ASSERT_TRUE(file != MAP_FAILED);
    close(fd);
    for (int i = 0; i < 4; i++)
        c = file[i * 4096];
    file[2 * 4096] = 'y';
    file[10 * 4096] = 'z';
    /* shared anonymous (shmem: its pages are not anonymous ones) */
    char *shm = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(shm != MAP_FAILED);
    shm[0] = shm[3 * 4096] = 1;
    /* a reservation never touched, and two mappings with a gap between them */
    size_t big = 256u << 20;
    char *res = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_TRUE(res != MAP_FAILED);
    res[big / 2] = 1;
    char *two = mmap(NULL, 12 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(two != MAP_FAILED);
    ASSERT_EQ(munmap(two + 4 * 4096, 4 * 4096), 0);
    two[0] = two[3 * 4096] = two[8 * 4096] = two[11 * 4096] = 1;

    int scan = compare(pm, (uint64_t)anon, 64, 4096);
    ASSERT_TRUE(by_read[0] & CRS_PM_PRESENT);
    ASSERT_TRUE(by_read[9] & CRS_PM_PRESENT);   /* the zero page */
    ASSERT_TRUE(!(by_read[20] & (CRS_PM_PRESENT | CRS_PM_SWAPPED)));
    ASSERT_TRUE(!(by_read[0] & CRS_PM_FILE));
    compare(pm, (uint64_t)anon, 64, 2);
    compare(pm, (uint64_t)file, 16, 4096);
    ASSERT_TRUE((by_read[0] & CRS_PM_FILE) && (by_read[0] & CRS_PM_PRESENT));   /* read: the file's page */
    ASSERT_TRUE((by_read[2] & CRS_PM_PRESENT) && !(by_read[2] & CRS_PM_FILE));  /* written: a copy */
    compare(pm, (uint64_t)file, 16, 2);
    /* no_file (a walk with no private file mapping's copies to tell): the file bit is not asked
     * of the kernel, which would look up every present page for it; present stays as read */
    struct crs_pagemap nf = { .fd = pm, .page = 4096, .vec = vec, .vec_len = 4096, .no_file = 1 };
    ASSERT_EQ(crs_pagemap_get(&nf, by_scan, (uint64_t)file, 16), 0);
    for (int i = 0; nf.scan && i < 16; i++)
        if ((by_scan[i] & CRS_PM_FILE) || (by_scan[i] & CRS_PM_PRESENT) != (by_read[i] & CRS_PM_PRESENT))
            FAILF("no_file, page %d of the file mapping: %#llx through PAGEMAP_SCAN, %#llx read", i,
                  (unsigned long long)by_scan[i], (unsigned long long)(by_read[i] & BITS));
    compare(pm, (uint64_t)shm, 8, 4096);
    ASSERT_TRUE((by_read[3] & CRS_PM_PRESENT) && (by_read[3] & CRS_PM_FILE));
    compare(pm, (uint64_t)res, MAXP, 4096);
    compare(pm, (uint64_t)res + big - (uint64_t)MAXP * 4096, MAXP, 2);
    compare(pm, (uint64_t)two, 12, 4096);
    compare(pm, (uint64_t)two, 12, 2);
    if (scan)
        printf("PASS: PAGEMAP_SCAN gives the bits a read of /proc/self/pagemap gives\n");
    else
        printf("PASS: the kernel refused PAGEMAP_SCAN (before Linux 6.7): /proc/self/pagemap read, as the "
               "walk then does (SKIP-PART: PAGEMAP_SCAN against the read)\n");
    return 0;
}

/*
 * The facts about the writing machine that an image records in its header,
 * so that a restart on a machine that cannot run the process (another
 * kernel, fewer CPU state components, another page size) can be refused
 * with a clear message instead of failing later in odd ways.
 *
 * Safe in the frozen process: uname, sysconf and CPUID do not allocate.
 */
#include <cpuid.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "crs/base/image.h"

/* XCR0: which state components (x87, SSE, AVX, AVX-512, ...) the kernel
 * enabled; a process may use them all, so all must exist at restart. */
static uint64_t read_xcr0(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Bytes XSAVE needs for the components enabled in XCR0. */
static uint32_t read_xsave_size(void)
{
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 0xd || !__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
        return 0;
    return b;
}

void crs_host_facts(struct crs_image_header *h)
{
    struct utsname u;
    memset(h->kernel_release, 0, sizeof(h->kernel_release));
    memset(h->machine, 0, sizeof(h->machine));
    if (uname(&u) == 0) {
        /* longer names are cut; the fields stay NUL-terminated (zeroed above) */
        memcpy(h->kernel_release, u.release, strnlen(u.release, sizeof(h->kernel_release) - 1));
        memcpy(h->machine, u.machine, strnlen(u.machine, sizeof(h->machine) - 1));
    }
    h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    h->xfeatures = read_xcr0();
    h->xsave_size = read_xsave_size();
}

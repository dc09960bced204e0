#define _GNU_SOURCE
#include "crs/uspace/scratch.h"

#include <errno.h>
#include <sys/mman.h>

int crs_scratch_init(struct crs_scratch *s, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    s->base = p;
    s->size = size;
    s->used = 0;
    return 0;
}

void *crs_scratch_alloc(struct crs_scratch *s, size_t n)
{
    size_t at = (s->used + 63) & ~(size_t)63;
    if (at > s->size || n > s->size - at)
        return NULL;
    s->used = at + n;
    return s->base + at;
}

size_t crs_scratch_left(const struct crs_scratch *s)
{
    size_t at = (s->used + 63) & ~(size_t)63;
    return at >= s->size ? 0 : s->size - at;
}

void crs_scratch_reset(struct crs_scratch *s)
{
    if (s->used)
        madvise(s->base, s->used, MADV_DONTNEED);
    s->used = 0;
}

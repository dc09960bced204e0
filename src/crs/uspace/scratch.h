/* A bump allocator over one private mapping that is left out of images: the
 * capture code's only memory, since malloc may be locked by a frozen thread. */
#ifndef REVIVE_CRS_SCRATCH_H
#define REVIVE_CRS_SCRATCH_H

#include <stddef.h>

struct crs_scratch {
    char *base;
    size_t size, used;
};

int crs_scratch_init(struct crs_scratch *s, size_t size); /* 0 or -errno */
void *crs_scratch_alloc(struct crs_scratch *s, size_t n); /* 64-byte aligned; NULL when full */
size_t crs_scratch_left(const struct crs_scratch *s);
/* Forgets every allocation and gives the touched pages back to the kernel. */
void crs_scratch_reset(struct crs_scratch *s);

#endif

/* The memory of a tree's checkpoint (tree_alloc.c). Run inside its caller's
 * park window (crs_tree_checkpoint_self, tree_self.h), the requester must not
 * call malloc: a thread of the caller parked inside malloc or free keeps an
 * arena locked, and the requester's malloc would wait for it for ever, the
 * descendants parked too (diffrev25 R-M1; the uspace capture uses its
 * scratch memory for the same reason). The tree_ckpt files and
 * tree_objects.c allocate through these: libc's allocator, but while
 * crs_tmem_private is on, a private mapping of their own (free does
 * nothing then; crs_tmem_private(0) unmaps it all). One tree
 * checkpoint at a time uses it (tree_here.c's lock). */
#ifndef REVIVE_CRS_BASE_TREE_ALLOC_H
#define REVIVE_CRS_BASE_TREE_ALLOC_H

#include <stddef.h>

void *crs_tmem_malloc(size_t n);
void *crs_tmem_calloc(size_t n, size_t size);
void *crs_tmem_realloc(void *p, size_t n);
void crs_tmem_free(void *p);
char *crs_tmem_strdup(const char *s);
/* on: later allocations come from the private mapping; off: it is unmapped
 * (every pointer it gave is dead), libc's allocator again. */
void crs_tmem_private(int on);

#endif

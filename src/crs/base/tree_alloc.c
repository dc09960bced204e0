/* The memory of a tree's checkpoint (tree_alloc.h): libc's allocator, or a
 * private bump allocator over mappings of its own while the requester runs
 * inside its caller's park window. Each block starts with its size (for
 * realloc); blocks are never given back one by one, only all at once. */
#define _GNU_SOURCE
#include "crs/base/tree_alloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK (1u << 20)
#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t size, used;            /* of the whole mapping, this header included */
};

static int private_on;
static struct chunk *chunks;

static int in_private(const void *p)
{
    for (const struct chunk *c = chunks; c; c = c->next)
        if ((const char *)p > (const char *)c && (const char *)p < (const char *)c + c->size)
            return 1;
    return 0;
}

static void *bump(size_t n)
{
    size_t need = (n + ALIGN + ALIGN - 1) & ~(size_t)(ALIGN - 1);   /* the size header, rounded */
    if (need < n)
        return NULL;
    struct chunk *c = chunks;
    if (!c || c->size - c->used < need) {
        size_t first = (sizeof *c + ALIGN - 1) & ~(size_t)(ALIGN - 1);
        size_t size = need + first > CHUNK ? (need + first + 4095) & ~(size_t)4095 : CHUNK;
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        c = m;
        c->size = size;
        c->used = first;
        c->next = chunks;
        chunks = c;
    }
    char *b = (char *)c + c->used;
    c->used += need;
    *(size_t *)b = n;
    return b + ALIGN;   /* mmap'd memory reads as zeros */
}

void *crs_tmem_malloc(size_t n)
{
    return private_on ? bump(n) : malloc(n);
}

void *crs_tmem_calloc(size_t n, size_t size)
{
    if (!private_on)
        return calloc(n, size);
    if (size && n > SIZE_MAX / size)
        return NULL;
    return bump(n * size);
}

void *crs_tmem_realloc(void *p, size_t n)
{
    if (!private_on && (!p || !in_private(p)))
        return realloc(p, n);
    void *q = private_on ? bump(n) : malloc(n);
    if (q && p) {
        size_t old = in_private(p) ? *(const size_t *)((const char *)p - ALIGN) : malloc_usable_size(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

void crs_tmem_free(void *p)
{
    if (p && !private_on && !in_private(p))
        free(p);
}

char *crs_tmem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = crs_tmem_malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

void crs_tmem_private(int on)
{
    private_on = on;
    if (on)
        return;
    while (chunks) {
        struct chunk *c = chunks;
        chunks = c->next;
        munmap(c, c->size);
    }
}

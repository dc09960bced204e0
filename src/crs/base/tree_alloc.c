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

/* A block's header: the size asked and the room it has (for realloc). */
struct block {
    size_t n, cap;
};

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* n bytes with room for cap (>= n). */
static void *bump_cap(size_t n, size_t cap)
{
    cap = round_up(cap);
    size_t need = cap + ALIGN;   /* the header, ALIGN bytes */
    if (cap < n || need < cap)
        return NULL;
    struct chunk *c = chunks;
    if (!c || c->size - c->used < need) {
        size_t first = round_up(sizeof *c);
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
    *(struct block *)b = (struct block){ n, cap };
    return b + ALIGN;   /* mmap'd memory reads as zeros */
}

static void *bump(size_t n)
{
    return bump_cap(n, n);
}

/* Private block p grown to n: in place when it has the room, or is the
 * newest chunk's last block and the chunk has it; else a new block with
 * twice the room, so that growing by small steps (a queue appended to
 * message by message) stays linear (diffrev25 R-L3). */
static void *grow(void *p, size_t n)
{
    struct block *h = (struct block *)((char *)p - ALIGN);
    struct chunk *c = chunks;
    if (n <= h->cap) {
        h->n = n;
        return p;
    }
    size_t cap = round_up(n);
    if (cap >= n && (char *)p + h->cap == (char *)c + c->used && c->size - c->used >= cap - h->cap) {
        c->used += cap - h->cap;
        h->n = n;
        h->cap = cap;
        return p;
    }
    void *q = bump_cap(n, n > SIZE_MAX / 2 ? n : (2 * h->cap > n ? 2 * h->cap : n));
    if (q)
        memcpy(q, p, h->n < n ? h->n : n);
    return q;
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
    if (p && in_private(p))
        return grow(p, n);
    if (!private_on)
        return realloc(p, n);
    void *q = bump(n);
    if (q && p) {
        size_t old = malloc_usable_size(p);
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

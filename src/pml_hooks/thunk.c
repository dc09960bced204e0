/* Thunks: function pointers that carry a context. The library calls the program's reduction
 * functions and error handlers through plain function pointers, and the layer must put a
 * function of its own in between (to give the program its virtual handles, or a Fortran
 * function its Fortran arguments) that knows which of the program's functions to call. A fixed
 * set of compiled trampolines limited the program to 32 or 64 distinct functions (issue 8);
 * thunks are made at run time, as many as there are functions:
 *
 *     endbr64                 (a valid target of an indirect jump under CET)
 *     movabs $slot, %r8       (the 5th integer argument: free in callbacks of at most 4)
 *     jmp    *8(%r8)          (slot->target)
 *
 * so target(a1, a2, a3, a4, slot) runs with the caller's four arguments and return address,
 * and reads slot->ctx. Code pages are written once, full of thunks whose slots (ordinary heap
 * memory) are filled as thunks are handed out, then made read-only and executable; they are
 * the application's memory, in every image, back at the same address after a restart. x86_64
 * only, as Revive (configure.ac). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define THUNK_BYTES 32
#define PAGE_BYTES 4096
#define PER_PAGE (PAGE_BYTES / THUNK_BYTES)

static unsigned char *page;     /* the page being handed out */
static struct pml_thunk *slots; /* its slots */
static int used = PER_PAGE;

static void new_page(void)
{
    unsigned char *p = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct pml_thunk *s = calloc(PER_PAGE, sizeof *s);
    if (p == MAP_FAILED || !s)
        pml_fatal("no memory for the trampolines of the program's MPI callbacks");
    memset(p, 0xcc, PAGE_BYTES); /* int3 between thunks */
    for (int i = 0; i < PER_PAGE; i++) {
        unsigned char *c = p + i * THUNK_BYTES;
        uint64_t a = (uint64_t)(uintptr_t)&s[i];
        static const unsigned char head[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0xb8 };
        static const unsigned char tail[] = { 0x41, 0xff, 0x60, (unsigned char)offsetof(struct pml_thunk, target) };
        memcpy(c, head, sizeof head);
        memcpy(c + sizeof head, &a, sizeof a);
        memcpy(c + sizeof head + sizeof a, tail, sizeof tail);
    }
    if (mprotect(p, PAGE_BYTES, PROT_READ | PROT_EXEC) != 0)
        pml_fatal("cannot make the trampolines of the program's MPI callbacks executable: %s"
                  " (a policy forbidding executable memory?)", strerror(errno));
    page = p;
    slots = s;
    used = 0;
}

/* Under the handle table's lock. */
static void *thunk_new(void *target, void *ctx)
{
    if (used == PER_PAGE)
        new_page();
    struct pml_thunk *t = &slots[used];
    t->ctx = ctx;
    t->target = target;
    void *code = page + used * THUNK_BYTES;
    used++;
    return code;
}

void *pml_thunk_for(struct pml_thunk_set *set, void *target, void *fn)
{
    pml_vh_lock();
    for (int i = 0; i < set->n; i++)
        if (set->fn[i] == fn) {
            void *c = set->code[i];
            pml_vh_unlock();
            return c;
        }
    if (set->n == set->cap) {
        int cap = set->cap ? set->cap * 2 : 16;
        void **f = realloc(set->fn, (size_t)cap * sizeof *f);
        if (f)
            set->fn = f;
        void **c = f ? realloc(set->code, (size_t)cap * sizeof *c) : NULL;
        if (!c)
            pml_fatal("out of memory for the trampolines of the program's MPI callbacks");
        set->code = c;
        set->cap = cap;
    }
    void *code = thunk_new(target, fn);
    set->fn[set->n] = fn;
    set->code[set->n] = code;
    set->n++;
    pml_vh_unlock();
    return code;
}

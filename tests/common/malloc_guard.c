/* malloc, calloc, realloc and free interposed for the tests of allocation-free code
 * (common_test.h, ct_no_malloc): the code under test runs where other threads may be frozen
 * inside malloc, so a call to it there fails the test at once. */
#define _GNU_SOURCE
#include "common_test.h"

#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

atomic_int ct_no_malloc;

/* The message without malloc (stdio could allocate): raw writes. */
static void no_malloc(void)
{
    static const char a[] = "FAIL: ", b[] = " called malloc/free\n";
    syscall(SYS_write, 2, a, sizeof a - 1);
    syscall(SYS_write, 2, ct_no_malloc_what, strlen(ct_no_malloc_what));
    syscall(SYS_write, 2, b, sizeof b - 1);
    abort();
}

void *malloc(size_t n) { if (ct_no_malloc) no_malloc(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (ct_no_malloc) no_malloc(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (ct_no_malloc) no_malloc(); return __libc_realloc(p, n); }
void free(void *p) { if (ct_no_malloc && p) no_malloc(); __libc_free(p); }

/* A dlsym defined outside the C library, as tracing tools and profilers define it (in a library
 * they preload) and as some programs do: it counts the calls under a lock and forwards to the C
 * library's, found once with dlvsym(RTLD_NEXT, "dlsym", version), the usual way for such a
 * wrapper. The count is crt_own_dlsym_calls(). Linked into crt_owndlsym, and built as a library
 * to preload by crs_owndlsym.sh. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

unsigned long crt_own_dlsym_calls(void);

typedef void *dlsym_fn(void *, const char *);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dlsym_fn *next_dlsym;
static unsigned long calls;

void *dlsym(void *restrict handle, const char *restrict name)
{
    pthread_mutex_lock(&lock);
    if (!next_dlsym)
        next_dlsym = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!next_dlsym)
        next_dlsym = (dlsym_fn *)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    dlsym_fn *f = next_dlsym;
    pthread_mutex_unlock(&lock);
    /* counted once answered, as a tool records what it found: the forward is a call, not a
     * jump, so the C library's dlsym sees this wrapper as its caller (RTLD_NEXT: after it) */
    void *found = f ? f(handle, name) : NULL;
    pthread_mutex_lock(&lock);
    calls++;
    pthread_mutex_unlock(&lock);
    return found;
}

unsigned long crt_own_dlsym_calls(void)
{
    pthread_mutex_lock(&lock);
    unsigned long n = calls;
    pthread_mutex_unlock(&lock);
    return n;
}

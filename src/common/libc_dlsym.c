/* The C library's dlsym through a pointer: libc_dlsym.h says why. */
#define _GNU_SOURCE
#include "common/libc_dlsym.h"

#include <dlfcn.h>
#include <stddef.h>

static revive_dlsym_fn *libc_dlsym;

revive_dlsym_fn *revive_libc_dlsym(void)
{
    revive_dlsym_fn *f = __atomic_load_n(&libc_dlsym, __ATOMIC_ACQUIRE);
    if (f)
        return f;
    /* RTLD_NEXT first (libc after this object, as preloaded); RTLD_DEFAULT when this object comes
     * after libc (linked, or loaded late). dlvsym itself is not interposed by anything of ours. */
    static const char *const vers[] = { "GLIBC_2.34", "GLIBC_2.2.5" };
    void *const scopes[] = { RTLD_NEXT, RTLD_DEFAULT };
    for (size_t s = 0; s < sizeof scopes / sizeof scopes[0] && !f; s++)
        for (size_t v = 0; v < sizeof vers / sizeof vers[0] && !f; v++)
            f = (revive_dlsym_fn *)dlvsym(scopes[s], "dlsym", vers[v]);
    if (!f) {
        dlerror(); /* ours, not the program's */
        return NULL;
    }
    __atomic_store_n(&libc_dlsym, f, __ATOMIC_RELEASE);
    return f;
}

void *revive_dlsym(void *handle, const char *name)
{
    revive_dlsym_fn *f = revive_libc_dlsym();
    return f ? f(handle, name) : dlsym(handle, name);
}

void *revive_dlsym_next(const char *name)
{
    return revive_dlsym(RTLD_NEXT, name);
}

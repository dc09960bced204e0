/* dl_mpi_dlerror LIBRARY NAME: dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL), then the usual check of a
 * lookup: dlerror(); p = dlsym(handle, NAME); dlerror() must be NULL when p is not (POSIX's
 * pattern, Julia's jl_dlsym decides "found" by it). Prints "found, no error" (exit 0) or what
 * dlerror said (exit 1). dl_mpi.sh runs it under Revive's layer (diffrev38 R-L2: the layer's own
 * lookup that found nothing left glibc's "undefined symbol" behind a lookup that succeeded). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dl_mpi_dlerror LIBRARY NAME\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    dlerror();
    void *p = dlsym(h, argv[2]);
    const char *e = dlerror();
    if (p && !e) {
        printf("found, no error\n");
        return 0;
    }
    printf("%s: %s\n", p ? "found, but dlerror says" : "not found", e ? e : "(no error)");
    return 1;
}

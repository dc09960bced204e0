/* dl_mpi_dlerror LIBRARY NAME [global]: dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL, or RTLD_GLOBAL as
 * R loads Rmpi.so), then the usual check of a lookup: dlerror(); p = dlsym(handle, NAME);
 * dlerror() must be NULL when p is not (POSIX's pattern, Julia's jl_dlsym decides "found" by it),
 * and p must be LIBRARY's own function, and so must LIBRARY's own pointer "registered" if it has one. Prints "found, no error" (exit 0) or what went wrong
 * (exit 1). dl_mpi.sh runs it under Revive's layer (diffrev38 R-L2: the layer's own lookup that
 * found nothing left glibc's "undefined symbol" behind a lookup that succeeded; newuser10 F1:
 * Rmpi.so's mpi_wait, loaded RTLD_GLOBAL, was answered with the layer's Fortran MPI_WAIT). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dl_mpi_dlerror LIBRARY NAME\n");
        return 2;
    }
    int global = argc > 3 && !strcmp(argv[3], "global");
    void *h = dlopen(argv[1], RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    dlerror();
    void *p = dlsym(h, argv[2]);
    const char *e = dlerror();
    if (p && !e) {
        Dl_info di;
        char want[PATH_MAX], got[PATH_MAX];
        if (!dladdr(p, &di) || !di.dli_fname || !realpath(argv[1], want) ||
            !realpath(di.dli_fname, got) || strcmp(want, got)) {
            printf("found, but in %s, not in %s\n", dladdr(p, &di) && di.dli_fname ? di.dli_fname : "?",
                   argv[1]);
            return 1;
        }
        /* LIBRARY's own pointer to it (R's registration of Rmpi's .Call entry points), when it
         * has one ("registered"): bound by ld.so through the global scope, where a preloaded
         * object defining NAME comes first */
        void **reg = global ? dlsym(h, "registered") : NULL;
        if (reg && *reg != p) {
            printf("found, but LIBRARY's own pointer to it is bound to %s\n",
                   dladdr(*reg, &di) && di.dli_fname ? di.dli_fname : "?");
            return 1;
        }
        printf("found, no error\n");
        return 0;
    }
    printf("%s: %s\n", p ? "found, but dlerror says" : "not found", e ? e : "(no error)");
    return 1;
}

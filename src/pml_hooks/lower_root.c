/* The root of the lower half's link-map namespace. Revive's MPI layer dlmopen()s this library
 * into a new namespace; it depends on the real MPI library, which therefore loads beside it with
 * its own copy of libc. It comes first in the namespace's symbol scope, so the definitions
 * below take precedence over libc's for every library in the namespace.
 *
 * dlopen: Open MPI's component loader opens its plugins with RTLD_GLOBAL; from a secondary
 * namespace that crashes inside glibc 2.36 (measured), so RTLD_GLOBAL is cleared here. The
 * plugins still resolve libmpi's symbols through their own dependencies. */
#define _GNU_SOURCE
#include <dlfcn.h>

void *dlopen(const char *file, int flags)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    return real(file, flags & ~RTLD_GLOBAL);
}

/* A reference to the MPI library, so that the linker keeps it as a dependency even where it
 * drops unused ones (--as-needed). */
extern int PMPI_Init(int *, char ***);
int (*const revive_lower_mpi_init)(int *, char ***) = PMPI_Init;

/* The C library's dlsym, called through a pointer, never through the symbol dlsym.
 *
 * A program (or a library it preloads, as profilers and tracing tools do) may define dlsym
 * itself and forward to the C library's (found with dlvsym(RTLD_NEXT, "dlsym", ...)). A lookup
 * with RTLD_NEXT then runs relative to the object that called the C library's dlsym, the
 * program's, not the object that asked: libcr's "next close" was libcr's own close (endless
 * recursion, SIGSEGV) and the MPI layer's next mmap the layer's own (diffrev38 R-L8). Revive's
 * shared objects link this file (libcommon, hidden): each has its own copy, so a call made here
 * has a return address inside the object that wants the definition after itself.
 *
 * Found at the first call, and thread-safe: dlvsym(RTLD_NEXT/RTLD_DEFAULT, "dlsym", version),
 * whose versioned lookup passes over every dlsym defined without the C library's version (the
 * program's, a preloaded tool's, the MPI layer's own). Not for a signal handler (ld.so's lock). */
#ifndef REVIVE_COMMON_LIBC_DLSYM_H
#define REVIVE_COMMON_LIBC_DLSYM_H

typedef void *revive_dlsym_fn(void *handle, const char *name);

/* The C library's dlsym (GLIBC_2.34 or GLIBC_2.2.5), or NULL when this C library has neither
 * (the caller then says so, or falls back to the symbol dlsym). Never sets dlerror(). */
revive_dlsym_fn *revive_libc_dlsym(void);

/* dlsym(handle, name) of the C library, made from this object: RTLD_NEXT is the definition after
 * the calling shared object. Falls back to the symbol dlsym when revive_libc_dlsym() is NULL.
 * Returns and dlerror() as dlsym. */
void *revive_dlsym(void *handle, const char *name);

/* revive_dlsym(RTLD_NEXT, name): the definition after this object (libc's, for an interposed
 * call). */
void *revive_dlsym_next(const char *name);

#endif

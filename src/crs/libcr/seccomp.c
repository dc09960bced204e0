/* The program's own seccomp filters: prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)
 * and syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER) (libseccomp's
 * seccomp_load makes the second) are interposed so that each filter that
 * goes in is noted with its program (crs/base/seccomp_notes.h): the kernel
 * gives it back to no one but a tracer with CAP_SYS_ADMIN, and a restart must
 * install it again. Every other call goes straight to the kernel, as glibc's
 * would (a raw system call here: no lookup of libc's, which a park handler
 * could not make). A filter installed without libc (an inline system call)
 * is not noted: the capture sees the kernel's count differ and refuses.
 * Which filters a thread runs under is kept in memory (seccomp_notes.h), so
 * pthread_create is wrapped too: a new thread runs under its creator's. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef REVIVE_LIBCR_STATIC
#include <dlfcn.h>
#endif

#include "crs/base/capture_filter.h"
#include "crs/base/seccomp_notes.h"
#include "crs/libcr/runtime.h"

#ifdef REVIVE_LIBCR_STATIC
long __wrap_syscall(long nr, ...);
int __wrap_prctl(int option, ...);
int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int __wrap_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
#endif

/* glibc's syscall(2): the kernel's call, -1 with errno from its -errno. */
static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* An install of a filter, noted when it went in: 0, or with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER a descriptor (noted too: the capture
 * refuses a process with one, the supervisor is another process); with
 * TSYNC a thread id > 0 says it did not go in. */
static long install(long nr, long a, long b, long c, unsigned flags, const struct sock_fprog *prog)
{
    long r = raw6(nr, a, b, c, 0, 0, 0);
    int e = errno;
    if (prog && (r == 0 || (r > 0 && (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))))
        crs_seccomp_notes_add(flags, prog);
    errno = e;
    return r;
}

long CRS_INTERPOSE(syscall)(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long),
         e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_seccomp && a == SECCOMP_SET_MODE_FILTER)
        return install(nr, a, b, c, (unsigned)b, (const struct sock_fprog *)c);
    if (nr == SYS_prctl && a == PR_SET_SECCOMP && b == SECCOMP_MODE_FILTER)
        return install(nr, a, b, c, 0, (const struct sock_fprog *)c);
    return raw6(nr, a, b, c, d, e, f);
}

int CRS_INTERPOSE(prctl)(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long), c = va_arg(ap, unsigned long),
                  d = va_arg(ap, unsigned long);
    va_end(ap);
    if (option == PR_SET_SECCOMP && a == SECCOMP_MODE_FILTER)
        return (int)install(SYS_prctl, option, (long)a, (long)b, 0, (const struct sock_fprog *)b);
    return (int)raw6(SYS_prctl, option, (long)a, (long)b, (long)c, (long)d, 0);
}

/* A new thread runs under its creator's filters: it learns which first. */
struct start {
    void *(*fn)(void *);
    void *arg;
    struct crs_seccomp_mine mine;
};

static void *start_thread(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    crs_seccomp_thread_begin(s.mine);
    return s.fn(s.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int CRS_INTERPOSE(pthread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static pthread_create_fn real;
    pthread_create_fn next = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!next) {
        next = CRS_NEXT(pthread_create_fn, pthread_create);
        if (!next)
            return EAGAIN;
        __atomic_store_n(&real, next, __ATOMIC_RELEASE);
    }
    struct start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    s->mine = crs_seccomp_thread_mine();
    int e = next(t, attr, start_thread, s);
    if (e)
        free(s);
    return e;
}

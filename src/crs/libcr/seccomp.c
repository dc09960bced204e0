/* The program's own seccomp filters: prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)
 * and syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER) (libseccomp's
 * seccomp_load makes the second) are interposed so that each filter that
 * goes in is noted with its program (crs/base/seccomp_notes.h): the kernel
 * gives it back to no one but a tracer with CAP_SYS_ADMIN, and a restart must
 * install it again. Every other call goes straight to the kernel, as glibc's
 * would (a raw system call here: no lookup of libc's, which a park handler
 * could not make). A filter installed without libc (an inline system call)
 * is not noted: the capture sees the kernel's count differ and refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/base/seccomp_notes.h"
#include "crs/libcr/runtime.h"

#ifdef REVIVE_LIBCR_STATIC
long __wrap_syscall(long nr, ...);
int __wrap_prctl(int option, ...);
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

/* An install of a filter, noted when it went in. */
static long install(long nr, long a, long b, long c, unsigned flags, const struct sock_fprog *prog)
{
    int before = crs_seccomp_thread_count(NULL);
    long r = raw6(nr, a, b, c, 0, 0, 0);
    int e = errno;
    /* SECCOMP_FILTER_FLAG_NEW_LISTENER returns a descriptor: noted too (the
     * capture refuses a process with one: the supervisor is another process) */
    if (r >= 0 && prog)
        crs_seccomp_notes_add(before, flags, prog);
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

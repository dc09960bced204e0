/* The descriptors the process had when it was executed: its launcher's (API in exec_fds.h).
 *
 * A preloaded library's constructor cannot tell them on its own: glibc runs the constructors of
 * the libraries a program needs (and of those preloaded after it) before those of the libraries
 * preloaded ahead of them (libcr, Revive's MPI layer), so by then a library of the application
 * may have opened a file in its constructor (OpenFOAM's libOpenFOAM opens /dev/null for its global
 * Snull; any C++ library with a global ofstream or log, or a connection to a server). Taken for
 * the launcher's, such a descriptor was left out of every MPI rank's image (the layer) or
 * recorded as inherited, to be reconnected to whatever the restart has under its number (libcr):
 * at a restart the application's next write failed or went into a pipe the fresh MPI library or
 * the launcher had been given under that number (newuser8 F1).
 *
 * ld.so relocates every object of the program before it runs any constructor, and it resolves
 * an object's IFUNC (R_*_IRELATIVE) while relocating it: the resolver below lists the table then,
 * when only what the process inherited across execve is open (ld.so closes the libraries it read;
 * no constructor has run). It runs before the object's other relocations are known to be done and
 * before any libc call is safe, so it uses raw system calls, static buffers and no library
 * function (nor any the compiler could call for it: no loops that fill or copy memory). */
#define _GNU_SOURCE
#include "common/exec_fds.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define EXEC_FD_LIMIT 65536 /* numbers above are not listed (none is inherited in practice) */

#define EXEC_FDS_MAX 1024
static int exec_fd[EXEC_FDS_MAX];
static uint64_t exec_dev[EXEC_FDS_MAX], exec_ino[EXEC_FDS_MAX];
static int n_exec_fds;
static int exec_fds_state; /* 0: not listed (no resolver ran), 1: listed, 2: more than it keeps */

#if defined(__x86_64__)
static long raw_call(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
#define HAVE_RAW_CALL 1
#elif defined(__aarch64__)
static long raw_call(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#define HAVE_RAW_CALL 1
#endif

#ifdef HAVE_RAW_CALL
struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};
static char dir_buf[4096] __attribute__((aligned(8)));
static struct stat st_buf;

static void note(int fd)
{
    if (n_exec_fds == EXEC_FDS_MAX) {
        exec_fds_state = 2;
        return;
    }
    if (raw_call(SYS_newfstatat, fd, (long)"", (long)&st_buf, AT_EMPTY_PATH) != 0)
        return;
    exec_fd[n_exec_fds] = fd;
    exec_dev[n_exec_fds] = st_buf.st_dev;
    exec_ino[n_exec_fds] = st_buf.st_ino;
    n_exec_fds++;
}

static void list_exec_fds(void)
{
    long dir = raw_call(SYS_openat, AT_FDCWD, (long)"/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0)
        return; /* no /proc: not listed, the constructor's view stands (revive_fd_open_at_exec) */
    exec_fds_state = 1;
    long got;
    while ((got = raw_call(SYS_getdents64, dir, (long)dir_buf, sizeof dir_buf, 0)) > 0) {
        for (long off = 0; off < got;) {
            const struct dirent64_raw *e = (const struct dirent64_raw *)(void *)(dir_buf + off);
            off += e->d_reclen;
            long n = 0;
            const char *c = e->d_name;
            if (*c < '0' || *c > '9')
                continue; /* . and .. */
            while (*c >= '0' && *c <= '9' && n < EXEC_FD_LIMIT)
                n = n * 10 + (*c++ - '0');
            if (!*c && n != dir && n < EXEC_FD_LIMIT)
                note((int)n);
        }
    }
    if (got < 0)
        exec_fds_state = 0; /* a partial list would take the launcher's for the application's */
    raw_call(SYS_close, dir, 0, 0, 0);
}
#else
static void list_exec_fds(void)
{
}
#endif

/* The IFUNC: its resolver runs once, while ld.so relocates the object, and lists the table. The
 * function it resolves to does nothing; the pointer below makes ld.so resolve it (the reference
 * is an IRELATIVE relocation of the object's own, resolved eagerly even with lazy binding). */
static void exec_fds_anchor_impl(void)
{
}

__attribute__((no_stack_protector, used)) static void (*exec_fds_resolve(void))(void)
{
    if (!exec_fds_state)
        list_exec_fds();
    return exec_fds_anchor_impl;
}

static void exec_fds_anchor(void) __attribute__((ifunc("exec_fds_resolve")));
__attribute__((used)) static void (*volatile exec_fds_pointer)(void) = exec_fds_anchor;

int revive_fd_open_at_exec(int fd, const struct stat *st)
{
    if (!exec_fds_state)
        return -1;
    for (int i = 0; i < n_exec_fds; i++)
        if (exec_fd[i] == fd)
            return exec_dev[i] == (uint64_t)st->st_dev && exec_ino[i] == (uint64_t)st->st_ino;
    return exec_fds_state == 1 ? 0 : -1;
}

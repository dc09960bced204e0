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
#include <errno.h>

static void objects_changed(void);
static int fd_section(int enter);

void *dlopen(const char *file, int flags)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    int sec = fd_section(1);
    void *h = real(file, flags & ~RTLD_GLOBAL);
    if (sec)
        fd_section(0);
    if (h)
        objects_changed();
    return h;
}

int dlclose(void *h)
{
    static int (*real)(void *);
    if (!real)
        real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    int rc = real(h);
    objects_changed();
    return rc;
}

/* A reference to the MPI library, so that the linker keeps it as a dependency even where it
 * drops unused ones (--as-needed). */
extern int PMPI_Init(int *, char ***);
__attribute__((used)) static int (*const revive_lower_mpi_init)(int *, char ***) = PMPI_Init;

/* ---- knowing the halves apart (halves.h): the MPI library's own mmap/mremap/munmap/shmat/
 * shmdt calls, the threads it starts and the objects it opens are reported to the layer once
 * it has handed over its callbacks; threads started before that are kept and reported then.
 * What the lower libc maps for itself (malloc arenas, thread stacks) does not come through
 * here; the layer attributes it by when it appeared and by the thread stacks reported here. */
#include "pml_hooks/halves.h"
#include "pml_hooks/lower_inner.h"
#include "pml_hooks/lower_libc.h"
#include "pml_hooks/lower_waits.h"
#include "pml_hooks/lower_winmem.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <malloc.h> /* memalign, malloc_usable_size, defined below */
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct pml_lower_cb *cb;

/* The layer's fork guard section around a dlopen (halves.h); 1 when entered. */
static int fd_section(int enter)
{
    const struct pml_lower_cb *c = cb;
    if (!c || !c->fd_section)
        return 0;
    c->fd_section(enter);
    return 1;
}
#define PEND_MAX 64
static struct { pid_t tid; uint64_t lo, hi; } pend[PEND_MAX];
static int npend;

/* The chunks the lower libc mapped for itself before the callbacks came (the constructors that
 * dlmopen runs): kept and reported then, for the layer's rule on the application's chunks
 * (halves_moments.c): a chunk of the library's never reported would be taken for one. More than
 * PEND_CHUNKS: said lost (the layer then takes no unexplained mapping for the application's). */
#define PEND_CHUNKS 512
static struct { uint64_t lo, hi; int mapped; } pend_chunk[PEND_CHUNKS];
static int npend_chunk;

void revive_lower_set_cb(const struct pml_lower_cb *c)
{
    for (int i = 0; i < npend_chunk && i < PEND_CHUNKS; i++)
        c->mem(pend_chunk[i].lo, pend_chunk[i].hi, pend_chunk[i].mapped);
    if (npend_chunk > PEND_CHUNKS)
        c->mem(0, 0, -1);
    npend_chunk = 0;
    cb = c;
    for (int i = 0; i < npend; i++)
        cb->thread(pend[i].tid, pend[i].lo, pend[i].hi, 1);
    npend = 0;
}

static void chunk_pend(uint64_t lo, uint64_t hi, int mapped)
{
    int i = __atomic_fetch_add(&npend_chunk, 1, __ATOMIC_RELAXED);
    if (i < PEND_CHUNKS)
        pend_chunk[i].lo = lo, pend_chunk[i].hi = hi, pend_chunk[i].mapped = mapped;
}

static void objects_changed(void)
{
    if (cb)
        cb->objects();
}

/* ---- UCX's progress: MPICH 4.0 over UCX (ch4:ucx) waits inside the library (an exclusive lock,
 * a post/start/complete/wait epoch, an unlock or a fence) by calling ucp_worker_progress flat
 * out, with no setting that yields (measured: perf of a rank waiting in MPI_Win_lock, all of it
 * in ucp_worker_progress and libuct). Defined here, it comes first in the namespace, so the
 * library's calls go through it; each turn is told to the layer, which gives the core away
 * while a thread waits in such a call with REVIVE_MPI_YIELD_WHEN_IDLE=1 (idle.c) and otherwise
 * does nothing. Open MPI's UCX components reach it the same way. */
struct ucp_worker;
static unsigned (*ucp_progress_real)(struct ucp_worker *);

/* The first turn (finds UCX's function), and every turn told to the layer. */
static __attribute__((noinline)) unsigned progress_slow(struct ucp_worker *worker)
{
    if (!ucp_progress_real) {
        unsigned (*real)(struct ucp_worker *) =
            (unsigned (*)(struct ucp_worker *))dlsym(RTLD_NEXT, "ucp_worker_progress");
        if (!real) { /* loaded by a plugin of its own (RTLD_LOCAL): ask the library */
            void *h = dlopen("libucp.so.0", RTLD_LAZY | RTLD_NOLOAD);
            if (h)
                real = (unsigned (*)(struct ucp_worker *))dlsym(h, "ucp_worker_progress");
        }
        if (!real) { /* nothing called it unless it is loaded: say so rather than stop silently */
            static const char m[] = "revive: the MPI library called ucp_worker_progress, but the MPI layer's "
                                    "wrapper (src/pml_hooks/lower_root.c) found UCX's neither after it nor in "
                                    "libucp.so.0; the rank stops. Report it with the MPI library's and UCX's "
                                    "versions\n";
            ssize_t w = write(2, m, sizeof m - 1);
            (void)w;
            abort();
        }
        ucp_progress_real = real;
    }
    void (*told)(unsigned) = cb ? __atomic_load_n(&cb->progress, __ATOMIC_ACQUIRE) : NULL;
    unsigned n = ucp_progress_real(worker);
    if (told)
        told(n);
    return n;
}

/* The turn itself: with nobody told (cb->progress NULL: REVIVE_MPI_YIELD_WHEN_IDLE off, set or
 * cleared only by the layer's configuration, idle.c, at load and at a restart) a jump to UCX's.
 * Measured (callgrind, MPICH, 2 ranks in MPI_Allreduce, ~155 instructions per real turn): the
 * wrapper with a call of the layer's forwarding function in every turn was 27 instructions a
 * turn, 17 with the forwarding gone; this fast path is bench/mpi/README.md's figure. */
unsigned ucp_worker_progress(struct ucp_worker *worker);
unsigned ucp_worker_progress(struct ucp_worker *worker)
{
    unsigned (*real)(struct ucp_worker *) = ucp_progress_real;
    if (__builtin_expect(real && !(cb && __atomic_load_n(&cb->progress, __ATOMIC_ACQUIRE)), 1))
        return real(worker);
    return progress_slow(worker);
}

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static uint64_t pg_up(uint64_t n)
{
    return (n + 4095) & ~(uint64_t)4095;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    REAL(mmap);
    void *p = real_mmap ? real_mmap(addr, len, prot, flags, fd, off)
                        : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && cb)
        cb->mem((uint64_t)p, (uint64_t)p + pg_up(len), 1);
    return p;
}
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len)
{
    REAL(munmap);
    int rc = real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
    if (rc == 0 && cb)
        cb->mem((uint64_t)addr, (uint64_t)addr + pg_up(len), 0);
    return rc;
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    REAL(mremap);
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    void *p = real_mremap ? real_mremap(old, old_len, new_len, flags, want)
                          : (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
    if (p != MAP_FAILED && cb) {
        if (p != old || new_len < old_len)
            cb->mem((uint64_t)old, (uint64_t)old + pg_up(old_len), 0);
        cb->mem((uint64_t)p, (uint64_t)p + pg_up(new_len), 1);
    }
    return p;
}

void *shmat(int id, const void *addr, int flags)
{
    REAL(shmat);
    void *p = real_shmat(id, addr, flags);
    struct shmid_ds ds;
    if (p != (void *)-1 && cb && shmctl(id, IPC_STAT, &ds) == 0)
        cb->mem((uint64_t)p, (uint64_t)p + pg_up(ds.shm_segsz), 1);
    return p;
}

struct lstart {
    void *(*fn)(void *);
    void *arg;
};

static void *lower_thread(void *p)
{
    struct lstart s = *(struct lstart *)p;
    free(p);
    revive_lower_thread_locale(); /* the application's libc started it (lower_libc.h) */
    pid_t tid = (pid_t)syscall(SYS_gettid);
    uint64_t lo = 0, hi = 0;
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr;
        size_t size, guard = 0;
        if (!pthread_attr_getstack(&a, &addr, &size)) {
            pthread_attr_getguardsize(&a, &guard);
            lo = ((uint64_t)addr - guard) & ~(uint64_t)4095;
            hi = pg_up((uint64_t)addr + size);
            pml_guard_readable((uint64_t)addr, guard); /* halves.h says why */
        }
        pthread_attr_destroy(&a);
    }
    if (cb)
        cb->thread(tid, lo, hi, 1);
    else if (npend < PEND_MAX) {
        int i = __atomic_fetch_add(&npend, 1, __ATOMIC_RELAXED);
        if (i < PEND_MAX)
            pend[i].tid = tid, pend[i].lo = lo, pend[i].hi = hi;
    }
    void *r = s.fn(s.arg);
    if (cb)
        cb->thread(tid, 0, 0, 0);
    return r;
}

/* POSIX AIO (Open MPI's fbtl/posix and MPICH's ROMIO for nonblocking file access): the lower
 * libc starts its helper threads by itself, with no pthread_create seen here, so their stacks'
 * guard pages are made read-only after each call like those of the threads below (halves.h,
 * pml_guard_readable; the layer walks ld.so's list of threads: lower_reset.h). aio.h is left
 * out: with large-file names it would make these definitions the ...64 ones. */
struct aiocb;
struct sigevent;

static void guards_after(void)
{
    if (cb && cb->guards)
        cb->guards();
}

#define AIO_WRAP(name)                                                                         \
    int name(struct aiocb *a);                                                                 \
    int name(struct aiocb *a)                                                                  \
    {                                                                                          \
        static int (*real)(struct aiocb *);                                                    \
        if (!real)                                                                             \
            real = (int (*)(struct aiocb *))dlsym(RTLD_NEXT, #name);                           \
        int rc = real ? real(a) : (errno = ENOSYS, -1);                                        \
        guards_after();                                                                        \
        return rc;                                                                             \
    }
AIO_WRAP(aio_read)
AIO_WRAP(aio_write)
AIO_WRAP(aio_read64)
AIO_WRAP(aio_write64)

#define AIO_FSYNC_WRAP(name)                                                                   \
    int name(int op, struct aiocb *a);                                                         \
    int name(int op, struct aiocb *a)                                                          \
    {                                                                                          \
        static int (*real)(int, struct aiocb *);                                               \
        if (!real)                                                                             \
            real = (int (*)(int, struct aiocb *))dlsym(RTLD_NEXT, #name);                      \
        int rc = real ? real(op, a) : (errno = ENOSYS, -1);                                    \
        guards_after();                                                                        \
        return rc;                                                                             \
    }
AIO_FSYNC_WRAP(aio_fsync)
AIO_FSYNC_WRAP(aio_fsync64)

#define LIO_WRAP(name)                                                                         \
    int name(int mode, struct aiocb *const list[], int n, struct sigevent *sig);              \
    int name(int mode, struct aiocb *const list[], int n, struct sigevent *sig)               \
    {                                                                                          \
        static int (*real)(int, struct aiocb *const[], int, struct sigevent *);                \
        if (!real)                                                                             \
            real = (int (*)(int, struct aiocb *const[], int, struct sigevent *))dlsym(         \
                RTLD_NEXT, #name);                                                             \
        int rc = real ? real(mode, list, n, sig) : (errno = ENOSYS, -1);                       \
        guards_after();                                                                        \
        return rc;                                                                             \
    }
LIO_WRAP(lio_listio)
LIO_WRAP(lio_listio64)

/* The library's threads are started by the application's libc (lower_libc.h says why), wrapped
 * so that they are reported. */
int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    pml_pthread_create_fn *create = revive_lower_upper_pthread_create();
    if (!create) {
        REAL(pthread_create);
        create = real_pthread_create;
    }
    struct lstart *s = malloc(sizeof *s);
    if (!s)
        return create(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = create(th, attr, lower_thread, s);
    if (rc)
        free(s);
    return rc;
}

/* Descriptors the MPI library opens that are of kinds an application also owns (pipes, files,
 * duplicates of stdio, memfds): reported so that they are not taken for the application's. */
#include <fcntl.h>
#include <sys/mman.h>

static int fd_opened(int fd)
{
    if (fd >= 0 && cb)
        cb->fd(fd, 1);
    return fd;
}

/* Each call below that makes or closes a descriptor without waiting runs inside a fork guard
 * section with its report (the layer's fd_section, common/fd_guard.h): a fork of the
 * application's between the system call and the report copied the descriptor unmarked, so the
 * child's handler did not take it (pml_fd_lower_release) and the child held a file the library
 * had open for a moment (sysfs files hwloc or UCX read while a snapshot drained, or the fresh
 * library's MPI_Init at a restart: rank_forkloop-mpich). Not around a call that may wait
 * (accept, popen, pclose, fcntl's locks, and an open or close that lower_waits.h finds may wait
 * by what it opens or closes: a FIFO, a terminal, a lingering socket): those keep the moment.
 * errno is the call's. */
static int fd_enter(void)
{
    return fd_section(1);
}

/* a section unless the call may wait (lower_waits.h) */
static int fd_enter_unless(int waits)
{
    return waits ? 0 : fd_enter();
}

static void fd_leave(int sec)
{
    if (sec) {
        int e = errno;
        fd_section(0);
        errno = e;
    }
}

/* for lower_inner.c (lower_inner.h) */
int revive_lower_fd_enter(void)
{
    return fd_enter();
}

void revive_lower_fd_leave(int sec)
{
    fd_leave(sec);
}

/* A call that makes one descriptor, as its return value, without waiting: the real call inside
 * a section, its descriptor reported. Those that take varargs (open, openat), report two
 * (pipe) or may wait (below) are written out. _UNLESS: one that waits on some files only
 * (lower_waits.h): no section when WAITS says so. */
#define LOWER_FD_WRAP_UNLESS(ret, name, params, args, waits) \
    ret name params \
    { \
        REAL(name); \
        int sec = fd_enter_unless(waits); \
        ret rc = fd_opened(real_##name args); \
        fd_leave(sec); \
        return rc; \
    }
#define LOWER_FD_WRAP(ret, name, params, args) LOWER_FD_WRAP_UNLESS(ret, name, params, args, 0)
/* a call that may wait (a blocking accept): no section */
#define LOWER_FD_WRAP_WAITS(ret, name, params, args) \
    ret name params \
    { \
        REAL(name); \
        return fd_opened(real_##name args); \
    }

int pipe(int p[2])
{
    REAL(pipe);
    int sec = fd_enter();
    int rc = real_pipe(p);
    if (rc == 0)
        fd_opened(p[0]), fd_opened(p[1]);
    fd_leave(sec);
    return rc;
}

int pipe2(int p[2], int flags)
{
    REAL(pipe2);
    int sec = fd_enter();
    int rc = real_pipe2(p, flags);
    if (rc == 0)
        fd_opened(p[0]), fd_opened(p[1]);
    fd_leave(sec);
    return rc;
}

LOWER_FD_WRAP(int, dup, (int fd), (fd))
LOWER_FD_WRAP(int, dup2, (int fd, int to), (fd, to))
LOWER_FD_WRAP(int, dup3, (int fd, int to, int flags), (fd, to, flags))

int fcntl(int fd, int cmd, ...)
{
    REAL(fcntl);
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long); /* int or pointer alike in the x86_64 ABI */
    va_end(ap);
    int dupfd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
    int sec = dupfd ? fd_enter() : 0; /* (F_SETLKW waits: no section) */
    int rc = real_fcntl(fd, cmd, arg);
    if (dupfd)
        fd_opened(rc);
    fd_leave(sec);
    return rc;
}

int open(const char *path, int flags, ...)
{
    REAL(open);
    va_list ap;
    va_start(ap, flags);
    int mode = va_arg(ap, int);
    va_end(ap);
    int sec = fd_enter_unless(pml_lower_open_waits(AT_FDCWD, path, flags));
    int rc = fd_opened(real_open(path, flags, mode));
    fd_leave(sec);
    return rc;
}
int open64(const char *, int, ...) __attribute__((alias("open")));

int openat(int dir, const char *path, int flags, ...)
{
    REAL(openat);
    va_list ap;
    va_start(ap, flags);
    int mode = va_arg(ap, int);
    va_end(ap);
    int sec = fd_enter_unless(pml_lower_open_waits(dir, path, flags));
    int rc = fd_opened(real_openat(dir, path, flags, mode));
    fd_leave(sec);
    return rc;
}
int openat64(int, const char *, int, ...) __attribute__((alias("openat")));

int __open_2(const char *path, int flags);
LOWER_FD_WRAP_UNLESS(int, __open_2, (const char *path, int flags), (path, flags),
                     pml_lower_open_waits(AT_FDCWD, path, flags))
int __open64_2(const char *, int) __attribute__((alias("__open_2")));

LOWER_FD_WRAP(int, memfd_create, (const char *name, unsigned flags), (name, flags))

int close(int fd)
{
    REAL(close);
    int sec = fd_enter_unless(pml_lower_close_waits(fd));
    if (cb)
        cb->fd(fd, 0);
    int rc = real_close(fd);
    fd_leave(sec);
    return rc;
}

/* Every other call glibc exports that makes a descriptor: what the library makes while it runs is
 * its own, whatever the kind (halves_query.c's rule: an unmarked descriptor is the
 * application's). Those its libc makes inside another call (fopen's open, popen's pipe, opendir,
 * mkstemp) are reported through the exported call that returned them; those it opens and closes
 * inside one call (NSS, getaddrinfo, getifaddrs, sysconf...) are in lower_inner.c. */
#include <dirent.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

LOWER_FD_WRAP(int, socket, (int domain, int type, int protocol), (domain, type, protocol))
LOWER_FD_WRAP_WAITS(int, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
LOWER_FD_WRAP_WAITS(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int flags), (fd, a, l, flags))
LOWER_FD_WRAP(int, eventfd, (unsigned int initval, int flags), (initval, flags))
LOWER_FD_WRAP(int, epoll_create, (int size), (size))
LOWER_FD_WRAP(int, epoll_create1, (int flags), (flags))
LOWER_FD_WRAP(int, timerfd_create, (int clockid, int flags), (clockid, flags))
LOWER_FD_WRAP(int, signalfd, (int fd, const sigset_t *mask, int flags), (fd, mask, flags))
LOWER_FD_WRAP(int, inotify_init, (void), ())
LOWER_FD_WRAP(int, inotify_init1, (int flags), (flags))
LOWER_FD_WRAP(int, shm_open, (const char *name, int flags, mode_t mode), (name, flags, mode))
LOWER_FD_WRAP(int, mkstemp, (char *t), (t))
LOWER_FD_WRAP(int, mkostemp, (char *t, int flags), (t, flags))
LOWER_FD_WRAP(int, mkstemps, (char *t, int suffixlen), (t, suffixlen))
LOWER_FD_WRAP(int, mkostemps, (char *t, int suffixlen, int flags), (t, suffixlen, flags))
/* creat opens a FIFO that is already there for writing: it may wait */
LOWER_FD_WRAP_UNLESS(int, creat, (const char *path, mode_t mode), (path, mode),
                     pml_lower_open_waits(AT_FDCWD, path, O_WRONLY))
int mkstemp64(char *) __attribute__((alias("mkstemp")));
int mkostemp64(char *, int) __attribute__((alias("mkostemp")));
int mkstemps64(char *, int) __attribute__((alias("mkstemps")));
int mkostemps64(char *, int, int) __attribute__((alias("mkostemps")));
int creat64(const char *, mode_t) __attribute__((alias("creat")));

int pidfd_open(pid_t pid, unsigned int flags);
int pidfd_open(pid_t pid, unsigned int flags)
{
    static int (*real)(pid_t, unsigned int);
    if (!real)
        real = (int (*)(pid_t, unsigned int))dlsym(RTLD_NEXT, "pidfd_open");
    int sec = fd_enter();
    int rc = fd_opened(real ? real(pid, flags) : (int)syscall(SYS_pidfd_open, pid, flags));
    fd_leave(sec);
    return rc;
}

int socketpair(int domain, int type, int protocol, int sv[2])
{
    REAL(socketpair);
    int sec = fd_enter();
    int rc = real_socketpair(domain, type, protocol, sv);
    if (rc == 0)
        fd_opened(sv[0]), fd_opened(sv[1]);
    fd_leave(sec);
    return rc;
}

static FILE *file_opened(FILE *f)
{
    if (f)
        fd_opened(fileno(f));
    return f;
}

/* WAITS: whether the open may wait (lower_waits.h) */
#define LOWER_FILE_WRAP(name, params, args, waits) \
    FILE *name params \
    { \
        REAL(name); \
        int sec = fd_enter_unless(waits); \
        FILE *f_ = file_opened(real_##name args); \
        fd_leave(sec); \
        return f_; \
    }
LOWER_FILE_WRAP(fopen, (const char *path, const char *mode), (path, mode), pml_lower_fopen_waits(path, mode, -1))
LOWER_FILE_WRAP(freopen, (const char *path, const char *mode, FILE *f), (path, mode, f),
                pml_lower_fopen_waits(path, mode, f ? fileno(f) : -1))
LOWER_FILE_WRAP(tmpfile, (void), (), 0)
/* hwloc reads /proc/mounts through setmntent, whose fopen is libc's own (no fopen of ours): a
 * child the application forked meanwhile held it unmarked (rank_forkloop-mpich in CI) */
LOWER_FILE_WRAP(setmntent, (const char *path, const char *mode), (path, mode),
                pml_lower_fopen_waits(path, mode, -1))
/* popen starts a process (no section) */
FILE *popen(const char *cmd, const char *mode)
{
    REAL(popen);
    return file_opened(real_popen(cmd, mode));
}
FILE *fopen64(const char *, const char *) __attribute__((alias("fopen")));
FILE *freopen64(const char *, const char *, FILE *) __attribute__((alias("freopen")));
FILE *tmpfile64(void) __attribute__((alias("tmpfile")));

DIR *opendir(const char *path)
{
    REAL(opendir);
    int sec = fd_enter();
    DIR *d = real_opendir(path);
    if (d)
        fd_opened(dirfd(d));
    fd_leave(sec);
    return d;
}

/* their closes, which close the descriptor inside libc */
static void file_closing(int fd)
{
    if (fd >= 0 && cb)
        cb->fd(fd, 0);
}

int fclose(FILE *f)
{
    REAL(fclose);
    /* a section only for a file on disk (its flush does not wait; a pipe's may) */
    struct stat st;
    int sec = f && fstat(fileno(f), &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) ? fd_enter() : 0;
    if (f)
        file_closing(fileno(f));
    int rc = real_fclose(f);
    fd_leave(sec);
    return rc;
}

/* endmntent's fclose is libc's own too */
int endmntent(FILE *f)
{
    REAL(endmntent);
    int sec = f ? fd_enter() : 0;
    if (f)
        file_closing(fileno(f));
    int rc = real_endmntent(f);
    fd_leave(sec);
    return rc;
}

int pclose(FILE *f)
{
    REAL(pclose);
    if (f)
        file_closing(fileno(f));
    return real_pclose(f);
}

int closedir(DIR *d)
{
    REAL(closedir);
    int sec = fd_enter();
    file_closing(dirfd(d));
    int rc = real_closedir(d);
    fd_leave(sec);
    return rc;
}

/* The MPI library's malloc: the lower libc maps large chunks with mmap internally, and frees
 * them with munmap, neither through the calls above. Every malloc-family call in the namespace
 * (the lower libc's own included: glibc calls malloc through its PLT so that it can be
 * replaced) comes here first; a chunk glibc mapped for itself carries IS_MMAPPED (2) in its
 * size word, and prev_size holds its offset from the start of the mapping. Reported as mapped
 * when made and as unmapped before it is freed, so that the address, once reused by the
 * application's libc, is not taken for the library's. While the layer makes a window of one
 * rank (Open MPI), allocations of the window's size are served from mappings of their own
 * instead, and recognised when freed (lower_winmem.h).
 *
 * The common case, a small allocation or the free of a chunk glibc did not map, is a compare
 * and a jump to the lower libc's function through its GOT entry (noplt: no PLT stub between):
 * malloc 3 instructions, free 5 (4 on MPICH, whose root serves no window memory: lower_winmem.c),
 * calloc 5. MPICH allocates and frees ~20 times in a lock epoch of one rank; the wrappers were
 * ~150 of the ~450 instructions the layer added to it (bench/mpi/README.md, 2026-12-03). The
 * per-thread state of the lower libc (its tcache, its arenas) is untouched: the calls still go
 * to the lower libc, only the wrapper around them is shorter. */
extern void *__libc_malloc(size_t) __attribute__((noplt));
extern void __libc_free(void *) __attribute__((noplt));
extern void *__libc_calloc(size_t, size_t) __attribute__((noplt));
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

/* inline: the slow paths' report of a chunk glibc mapped for itself */
static inline __attribute__((always_inline)) void chunk_note(void *p, int mapped)
{
    if (!p)
        return;
    size_t sz = ((size_t *)p)[-1];
    if (!(sz & 2))
        return;
    size_t off = ((size_t *)p)[-2];
    uint64_t c = (uint64_t)p - 2 * sizeof(size_t);
    if (cb)
        cb->mem(c - off, c + (sz & ~(size_t)7), mapped);
    else
        chunk_pend(c - off, c + (sz & ~(size_t)7), mapped);
}

/* Below this many bytes glibc never maps a chunk of its own: its mmap threshold is 128 KiB and
 * only grows, unless a program lowers it (mallopt, caught below; or the environment, read at
 * load). Such an allocation goes straight to the lower libc as a tail call. One case is not
 * seen: glibc maps a small chunk of its own when it cannot make an arena for a new thread (out
 * of address space); such a chunk is still reported unmapped when freed.
 * fast_below is the bound the fast path compares with: direct_below, or 0 while a thread is
 * armed for window memory (lower_winmem.h), so that one load and compare decide both; set under
 * fast_lock by whoever changed either (revive_lower_fast_update), so the last setter saw both. */
static size_t direct_below = 65536;
static size_t fast_below = 65536;
static int fast_lock;

void revive_lower_fast_update(void)
{
    while (__atomic_exchange_n(&fast_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    size_t v = revive_winmem_maybe() ? 0 : __atomic_load_n(&direct_below, __ATOMIC_RELAXED);
    __atomic_store_n(&fast_below, v, __ATOMIC_RELAXED);
    __atomic_store_n(&fast_lock, 0, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void direct_init(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (getenv("MALLOC_MMAP_THRESHOLD_") || (t && strstr(t, "mmap_threshold"))) {
        direct_below = 0;
        revive_lower_fast_update();
    }
}

static inline int direct(size_t n)
{
    return n < __atomic_load_n(&fast_below, __ATOMIC_RELAXED);
}

extern int __libc_mallopt(int, int);
int mallopt(int param, int value)
{
    if (param == M_MMAP_THRESHOLD && (value < 0 || (size_t)value < direct_below)) {
        __atomic_store_n(&direct_below, value < 0 ? 0 : (size_t)value, __ATOMIC_RELAXED);
        revive_lower_fast_update();
    }
    return __libc_mallopt(param, value);
}

/* The slow paths out of line: inline, their frames were set up before the test of the fast
 * path, whose tail call they also prevented */
static __attribute__((noinline)) void *malloc_noted(size_t n)
{
    if (revive_winmem_maybe()) { /* a one-rank window being made (lower_winmem.h) */
        void *w = revive_winmem_take(n, 0);
        if (w)
            return w;
    }
    void *p = __libc_malloc(n);
    chunk_note(p, 1);
    return p;
}

void *malloc(size_t n)
{
    if (__builtin_expect(direct(n), 1))
        return __libc_malloc(n);
    return malloc_noted(n);
}

static __attribute__((noinline)) void free_noted(void *p)
{
    if (revive_winmem_may_own(p) && revive_winmem_release(p))
        return;
    chunk_note(p, 0);
    __libc_free(p);
}

void free(void *p)
{
#ifndef PML_LOWER_NO_WINMEM
    /* one of lower_winmem.c's chunks may be out (page-aligned: its size word would lie in the
     * page before its mapping, which may not be mapped) */
    if (__builtin_expect(__atomic_load_n(&revive_winmem_out, __ATOMIC_RELAXED) != 0, 0)) {
        free_noted(p);
        return;
    }
#endif
    /* not a chunk glibc mapped for itself (IS_MMAPPED) */
    if (__builtin_expect(!p || !(((size_t *)p)[-1] & 2), 1)) {
        __libc_free(p);
        return;
    }
    free_noted(p);
}

static __attribute__((noinline)) void *calloc_noted(size_t n, size_t m)
{
    size_t t;
    if (revive_winmem_maybe() && !__builtin_mul_overflow(n, m, &t)) {
        void *w = revive_winmem_take(t, 0); /* a fresh mapping: zeroed */
        if (w)
            return w;
    }
    void *p = __libc_calloc(n, m);
    chunk_note(p, 1);
    return p;
}

void *calloc(size_t n, size_t m)
{
    size_t t;
    if (__builtin_expect(!__builtin_mul_overflow(n, m, &t) && direct(t), 1))
        return __libc_calloc(n, m);
    return calloc_noted(n, m);
}

void *realloc(void *old, size_t n)
{
    size_t len = revive_winmem_may_own(old) ? revive_winmem_len(old) : 0;
    if (len) { /* one of lower_winmem.c's chunks: realloc's contract kept by hand */
        if (n == 0) {
            revive_winmem_release(old);
            return NULL;
        }
        if (n <= len)
            return old;
        void *p = malloc(n);
        if (p) {
            memcpy(p, old, len);
            revive_winmem_release(old);
        }
        return p;
    }
    chunk_note(old, 0);
    void *p = __libc_realloc(old, n);
    if (p)
        chunk_note(p, 1);
    else if (old && n)
        chunk_note(old, 1); /* failed: the old block stays */
    return p;
}

/* glibc's reallocarray calls its realloc directly (not through the PLT): one of lower_winmem.c's
 * chunks would go to the lower libc's realloc */
void *reallocarray(void *old, size_t n, size_t m)
{
    size_t t;
    if (__builtin_mul_overflow(n, m, &t)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, t);
}

void *memalign(size_t al, size_t n)
{
    if (revive_winmem_maybe()) {
        void *w = revive_winmem_take(n, al);
        if (w)
            return w;
    }
    void *p = __libc_memalign(al, n);
    chunk_note(p, 1);
    return p;
}
void *aligned_alloc(size_t, size_t) __attribute__((alias("memalign")));

int posix_memalign(void **out, size_t al, size_t n)
{
    if (al < sizeof(void *) || (al & (al - 1)))
        return EINVAL;
    void *p = memalign(al, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign(4096, n);
}

size_t malloc_usable_size(void *p)
{
    size_t len = revive_winmem_may_own(p) ? revive_winmem_len(p) : 0;
    if (len)
        return len;
    REAL(malloc_usable_size);
    return real_malloc_usable_size(p);
}

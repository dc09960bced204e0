/* Knowing the halves apart: interposition, where the registry learns who maps what.
 *   - the upper half's mmap/munmap/mremap/shmat/shmdt (defined here: the layer is preloaded, so
 *     every upper object calls these), shm_open, socket, socketpair, accept(4), eventfd,
 *     epoll_create(1) and timerfd_create (their descriptors are the application's; close, dup
 *     and F_DUPFD follow them), and
 *     pthread_create (its threads and their stacks are upper);
 *   - what the lower half reports through its namespace's root library (lower_root.c calls the
 *     callbacks in pml_halves_lower_cb): its mmaps, malloc's mmapped chunks, threads, stacks and
 *     descriptors, all lower;
 *   - libucm's memory events (UCX patches the mmap family in both namespaces, see below). */
#define _GNU_SOURCE
#include "common/libc_dlsym.h"
#include "pml_hooks/halves_internal.h"
#include "common/fd_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The calling thread's stack with its guard, which becomes read-only (halves.h,
 * pml_guard_readable): called once, as the thread starts. */
void pml_stack_of_self(uint64_t *lo, uint64_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size, guard = 0;
    *lo = *hi = 0;
    if (pthread_getattr_np(pthread_self(), &a))
        return;
    if (!pthread_attr_getstack(&a, &addr, &size)) {
        pthread_attr_getguardsize(&a, &guard);
        *lo = pml_page_down((uint64_t)addr - guard);
        *hi = pml_page_up((uint64_t)addr + size);
        pml_guard_readable((uint64_t)addr, guard);
    }
    pthread_attr_destroy(&a);
}

/* ---- the upper half's calls ---------------------------------------------------------------- */
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static void *(*real_shmat)(int, const void *, int);
static int (*real_shmdt)(const void *);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

__attribute__((constructor(101))) static void halves_resolve(void)
{
    real_mmap = (__typeof__(real_mmap))revive_dlsym_next("mmap");
    real_munmap = (__typeof__(real_munmap))revive_dlsym_next("munmap");
    real_mremap = (__typeof__(real_mremap))revive_dlsym_next("mremap");
    real_shmat = (__typeof__(real_shmat))revive_dlsym_next("shmat");
    real_shmdt = (__typeof__(real_shmdt))revive_dlsym_next("shmdt");
    real_pthread_create = (__typeof__(real_pthread_create))revive_dlsym_next("pthread_create");
    pml_thr_learn();
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = real_mmap ? real_mmap(addr, len, prot, flags, fd, off)
                        : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        pml_reg_put((uint64_t)p, (uint64_t)p + pml_page_up(len), PML_HALF_UPPER, PML_W_UMMAP);
    return p;
}
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len)
{
    int rc = real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
    if (rc == 0)
        pml_reg_del((uint64_t)addr, (uint64_t)addr + pml_page_up(len));
    return rc;
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    void *p = real_mremap ? real_mremap(old, old_len, new_len, flags, want)
                          : (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
    if (p != MAP_FAILED) {
        if (p != old || new_len < old_len)
            pml_reg_del((uint64_t)old, (uint64_t)old + pml_page_up(old_len));
        pml_reg_put((uint64_t)p, (uint64_t)p + pml_page_up(new_len), PML_HALF_UPPER, PML_W_UMMAP);
    }
    return p;
}

void *shmat(int id, const void *addr, int flags)
{
    if (!real_shmat)
        real_shmat = (__typeof__(real_shmat))revive_dlsym_next("shmat");
    void *p = real_shmat(id, addr, flags);
    struct shmid_ds ds;
    if (p != (void *)-1 && shmctl(id, IPC_STAT, &ds) == 0)
        pml_reg_put((uint64_t)p, (uint64_t)p + pml_page_up(ds.shm_segsz), PML_HALF_UPPER, PML_W_USHM);
    return p;
}

int shmdt(const void *addr)
{
    if (!real_shmdt)
        real_shmdt = (__typeof__(real_shmdt))revive_dlsym_next("shmdt");
    int rc = real_shmdt(addr);
    if (rc == 0)
        pml_reg_shmdt((uint64_t)addr);
    return rc;
}

int shm_open(const char *name, int flags, mode_t mode)
{
    static int (*real)(const char *, int, mode_t);
    if (!real)
        real = (int (*)(const char *, int, mode_t))revive_dlsym_next("shm_open");
    int fd = real(name, flags, mode);
    if (fd >= 0)
        pml_fd_mark(fd, PML_HALF_UPPER, 1);
    return fd;
}

/* Descriptors of kinds the MPI library also makes (sockets, eventfds, epolls, timerfds): marked
 * by their maker. A caller in the application's namespace: the application's (an unmarked one is
 * the application's too, halves_query.c's rule; the mark keeps it so when the number is reused).
 * Revive's own code (this layer, libcr: their agent's socket and eventfd, a capture's sockets)
 * or an object of another namespace that reached these: not the application's, left out of the
 * image. A caller that cannot be told: no mark. The application's close and dup calls keep the
 * marks right by number. */
enum { CALLER_UNKNOWN, CALLER_APP, CALLER_NOT_APP };

static int caller_kind(void *ra)
{
    static void *own_base, *libcr_base;
    Dl_info info;
    struct link_map *lm = NULL;
    /* during a capture only libcr makes descriptors, and a parked thread may hold ld.so's lock,
     * which dladdr takes */
    if (pml_halves_is_capturing())
        return CALLER_NOT_APP;
    if (!own_base && dladdr((void *)caller_kind, &info))
        own_base = info.dli_fbase;
    if (!libcr_base) {
        void *f = revive_dlsym(RTLD_DEFAULT, "cr_request_checkpoint");
        if (f && dladdr(f, &info))
            libcr_base = info.dli_fbase;
    }
    if (!dladdr1(ra, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return CALLER_UNKNOWN;
    if (info.dli_fbase == own_base || info.dli_fbase == libcr_base)
        return CALLER_NOT_APP;
    for (const struct link_map *m = _r_debug.r_map; m; m = m->l_next) /* the base namespace */
        if (m == lm)
            return CALLER_APP;
    return CALLER_NOT_APP;
}

static void mark_made(int fd, int k)
{
    if (k == CALLER_APP)
        pml_fd_mark(fd, PML_HALF_UPPER, 1);
    else if (k == CALLER_NOT_APP) {
        pml_fd_mark_by(fd, PML_FD_BY_REVIVE, 1);
        revive_fd_own(fd); /* closed in a child the application forks (common/fd_guard.h) */
    }
}

/* Revive's own calls are made inside a fork guard section, with their mark: a child the
 * application forks holds none of Revive's sockets, eventfds, epolls or timerfds (the agent's
 * connection to the coordinator: the coordinator never saw it close while such a child lived). */
static int made_enter(void *ra)
{
    int k = caller_kind(ra);
    if (k != CALLER_APP)
        revive_fd_enter();
    return k;
}

static void made_leave(int k)
{
    if (k != CALLER_APP)
        revive_fd_leave();
}

/* Their libc functions, found when the layer loads (a first dlsym inside a capture would take
 * ld.so's lock, which a parked thread may hold), else at first use (a constructor before ours). */
static int (*real_socket)(int, int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_eventfd)(unsigned int, int);
static int (*real_epoll_create)(int);
static int (*real_epoll_create1)(int);
static int (*real_timerfd_create)(int, int);
static int (*real_socketpair)(int, int, int, int *);
static int (*real_close)(int);
static int (*real_close_range)(unsigned int, unsigned int, int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
#define REAL(name)                                                               \
    do {                                                                         \
        if (!real_##name)                                                        \
            real_##name = (__typeof__(real_##name))revive_dlsym_next(#name);      \
    } while (0)

__attribute__((constructor)) static void fd_wrappers_resolve(void)
{
    REAL(socket);
    REAL(accept);
    REAL(accept4);
    REAL(eventfd);
    REAL(epoll_create);
    REAL(epoll_create1);
    REAL(timerfd_create);
    REAL(socketpair);
    REAL(close);
    REAL(close_range);
    REAL(dup);
    REAL(dup2);
    REAL(dup3);
    REAL(fcntl);
}

/* A vfork child (Python's subprocess, a program's own vfork before its exec) runs in the rank's
 * memory with a descriptor table of its own: its closes, dups and opens must leave the registry
 * (and Revive's fd guard) alone, or they unmark the rank's own descriptors (Python's child closes
 * every one above 2 with close_range: the library's TCP connection to its launcher was then taken
 * for the application's and every later checkpoint refused; newuser7e F3). */
#define VFORK_CHILD_PASS(call)                                                   \
    do {                                                                         \
        if (pml_in_vfork_child())                                                \
            return call;                                                         \
    } while (0)

#define UPPER_FD_WRAP(name, params, args)                                        \
    int name params                                                              \
    {                                                                            \
        REAL(name);                                                              \
        VFORK_CHILD_PASS(real_##name args);                                      \
        int k = made_enter(__builtin_return_address(0));                         \
        int made = real_##name args;                                             \
        int e = errno;                                                           \
        if (made >= 0)                                                           \
            mark_made(made, k);                                                  \
        made_leave(k);                                                           \
        errno = e;                                                               \
        return made;                                                             \
    }
UPPER_FD_WRAP(socket, (int domain, int type, int protocol), (domain, type, protocol))
UPPER_FD_WRAP(accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
UPPER_FD_WRAP(accept4, (int fd, struct sockaddr *a, socklen_t *l, int flags), (fd, a, l, flags))
UPPER_FD_WRAP(eventfd, (unsigned int initval, int flags), (initval, flags))
UPPER_FD_WRAP(epoll_create, (int size), (size))
UPPER_FD_WRAP(epoll_create1, (int flags), (flags))
UPPER_FD_WRAP(timerfd_create, (int clockid, int flags), (clockid, flags))

int socketpair(int domain, int type, int protocol, int sv[2])
{
    REAL(socketpair);
    VFORK_CHILD_PASS(real_socketpair(domain, type, protocol, sv));
    int k = made_enter(__builtin_return_address(0));
    int rc = real_socketpair(domain, type, protocol, sv);
    int e = errno;
    if (rc == 0) {
        mark_made(sv[0], k);
        mark_made(sv[1], k);
    }
    made_leave(k);
    errno = e;
    return rc;
}

int close(int fd)
{
    REAL(close);
    VFORK_CHILD_PASS(real_close(fd));
    pml_fd_mark(fd, PML_HALF_UPPER, 0);
    if (!revive_fd_owned(fd))
        return real_close(fd);
    /* Revive's: no longer closed in a forked child, and no child forked before it is closed */
    revive_fd_enter();
    revive_fd_disown(fd);
    int rc = real_close(fd);
    int e = errno;
    revive_fd_leave();
    errno = e;
    return rc;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
    REAL(close_range);
    VFORK_CHILD_PASS(real_close_range(first, last, flags));
    int rc = real_close_range(first, last, flags);
    if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned int fd = first; fd <= last && fd < PML_FD_TRACK; fd++)
            pml_fd_mark((int)fd, PML_HALF_UPPER, 0);
    return rc;
}

int dup(int fd)
{
    REAL(dup);
    VFORK_CHILD_PASS(real_dup(fd));
    int to = real_dup(fd);
    if (to >= 0)
        pml_fd_upper_dup(fd, to);
    return to;
}

int dup2(int fd, int to)
{
    REAL(dup2);
    VFORK_CHILD_PASS(real_dup2(fd, to));
    int rc = real_dup2(fd, to);
    if (rc >= 0)
        pml_fd_upper_dup(fd, rc);
    return rc;
}

int dup3(int fd, int to, int flags)
{
    REAL(dup3);
    VFORK_CHILD_PASS(real_dup3(fd, to, flags));
    int rc = real_dup3(fd, to, flags);
    if (rc >= 0)
        pml_fd_upper_dup(fd, rc);
    return rc;
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long); /* int or pointer alike in the x86_64 ABI */
    va_end(ap);
    REAL(fcntl);
    int rc = real_fcntl(fd, cmd, arg);
    if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && !pml_in_vfork_child())
        pml_fd_upper_dup(fd, rc);
    return rc;
}
int fcntl64(int, int, ...) __attribute__((alias("fcntl")));
#undef REAL

struct ustart {
    void *(*fn)(void *);
    void *arg;
};

/* The layer's (upper_libc.c): the lower libc's per-thread locale state for a new thread
 * (lower_libc.h). Weak: the halves files are also linked without the layer (tests). */
void pml_libc_thread_start(void) __attribute__((weak));

static void *upper_thread(void *p)
{
    struct ustart s = *(struct ustart *)p;
    free(p);
    if (pml_libc_thread_start)
        pml_libc_thread_start();
    uint64_t lo, hi;
    pid_t tid = pml_my_tid();
    pml_thr_set(tid, PML_HALF_UPPER);
    pml_stack_of_self(&lo, &hi);
    if (lo < hi)
        pml_reg_put(lo, hi, PML_HALF_UPPER, PML_W_USTACK);
    void *r = s.fn(s.arg);
    pml_thr_set(tid, 0);
    return r;
}

/* ---- whose thread, by glibc's descriptor ---------------------------------------------------
 * A thread is parked wherever the park signal finds it: a new one right where glibc's thread
 * start unblocks signals, before upper_thread registers it (a restart lost an application
 * thread that way); an ending one after upper_thread unregistered it; one that called
 * pthread_exit never unregisters (its id, reused by a thread of the MPI library, would count as
 * the application's). The registry cannot know these moments; the thread's descriptor does:
 * glibc sets its start routine before the clone and the kernel its id at the clone (and clears
 * it when the thread ends). So a thread whose descriptor starts upper_thread is the
 * application's, any other thread with a descriptor is not, and the registry decides only for a
 * thread found on no list. The lists are ld.so's (one for every namespace), walked without a
 * lock (a capture asks with every other thread parked, one may be parked in a list update:
 * every read is checked, and a list that does not close within THR_NODES nodes finds nothing).
 * The offsets are those libc publishes for debuggers, looked up before the first thread is
 * started (dlsym takes ld.so's lock, which a parked thread may hold during a capture). */
#define THR_NODES 4096
static struct {
    int ok;
    uintptr_t heads[2];            /* _dl_stack_used, _dl_stack_user */
    size_t list, tid, start;       /* in struct pthread */
} td;

void pml_thr_learn(void)
{
    if (__atomic_load_n(&td.ok, __ATOMIC_ACQUIRE))
        return;
    const uint32_t *l = (const uint32_t *)revive_dlsym(RTLD_DEFAULT, "_thread_db_pthread_list"),
                   *t = (const uint32_t *)revive_dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"),
                   *st = (const uint32_t *)revive_dlsym(RTLD_DEFAULT, "_thread_db_pthread_start_routine"),
                   *u = (const uint32_t *)revive_dlsym(RTLD_DEFAULT, "_thread_db_rtld_global__dl_stack_used"),
                   *uu = (const uint32_t *)revive_dlsym(RTLD_DEFAULT, "_thread_db_rtld_global__dl_stack_user");
    char *rg = (char *)revive_dlsym(RTLD_DEFAULT, "_rtld_global");
    if (!l || !t || !st || !u || !uu || !rg || l[0] != 128 || t[0] != 32 || st[0] != 64)
        return; /* then the registry alone decides */
    td.heads[0] = (uintptr_t)(rg + u[2]);
    td.heads[1] = (uintptr_t)(rg + uu[2]);
    td.list = l[2];
    td.tid = t[2];
    td.start = st[2];
    __atomic_store_n(&td.ok, 1, __ATOMIC_RELEASE);
}

/* The calling thread's id as glibc keeps it in the thread's descriptor, the field its own
 * recursive mutexes and pthread_kill trust: the kernel writes it at the thread's clone and at a
 * fork's, _Fork's too (CLONE_CHILD_SETTID, before any fork handler runs in the child), and a
 * restart that changes ids corrects it before the thread runs on (crs_thread_reinstate). Every
 * section of the registry asks for it: as a system call that was ~1200 gettid calls a rank per
 * capture (one or two a mapping). A vfork child reads its parent thread's id: it runs on that
 * thread, which waits meanwhile. Where libc does not publish the offset: the system call. */
pid_t pml_my_tid(void)
{
    if (__atomic_load_n(&td.ok, __ATOMIC_ACQUIRE)) {
        pid_t id;
        memcpy(&id, (const char *)pthread_self() + td.tid, sizeof id);
        if (id > 0)
            return id;
    }
    return (pid_t)syscall(SYS_gettid);
}

/* 1 in a vfork child: it runs on its parent thread's descriptor (pml_my_tid), which holds the
 * parent's id, not the child's; 0 elsewhere (a fork's child has its own id there), and where libc
 * does not publish the offset (then as before). One gettid system call. */
int pml_in_vfork_child(void)
{
    if (!__atomic_load_n(&td.ok, __ATOMIC_ACQUIRE))
        return 0;
    pid_t id;
    memcpy(&id, (const char *)pthread_self() + td.tid, sizeof id);
    return id > 0 && id != (pid_t)syscall(SYS_gettid);
}

/* Reads n bytes at p without faulting: 0, or -1 when any of it is not mapped. */
static int peek(uintptr_t p, void *out, size_t n)
{
    struct iovec local = { out, n }, remote = { (void *)p, n };
    return syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

int pml_thr_by_descriptor(pid_t tid)
{
    if (!__atomic_load_n(&td.ok, __ATOMIC_ACQUIRE) || tid <= 0)
        return 0;
    for (int h = 0; h < 2; h++) {
        uintptr_t head = td.heads[h], node, prev = head;
        if (peek(head, &node, sizeof node))
            continue;
        for (int n = 0; node != head && n < THR_NODES; n++) {
            uintptr_t pd = node - td.list, next[2], start;
            pid_t id;
            if (peek(node, next, sizeof next) || next[1] != prev || peek(pd + td.tid, &id, sizeof id))
                break; /* not a consistent list (a thread parked in an update): ask no further */
            if (id == tid)
                return peek(pd + td.start, &start, sizeof start) ? 0
                     : start == (uintptr_t)upper_thread ? PML_HALF_UPPER : PML_HALF_LOWER;
            prev = node;
            node = next[0];
        }
    }
    return 0;
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!real_pthread_create) {
        pml_thr_learn();
        real_pthread_create = (__typeof__(real_pthread_create))revive_dlsym_next("pthread_create");
    }
    struct ustart *s = malloc(sizeof *s);
    if (!s)
        return real_pthread_create(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    /* Nothing is held around glibc's pthread_create: it takes ld.so's thread-stack lock (held by
     * a checkpoint from before its park to the image's end, pml_ldso_freeze) and malloc's locks
     * (a parked thread may hold one), so a creator that could not be parked meanwhile kept a
     * checkpoint from ever parking it ("stayed inside a section that defers checkpoints", seen
     * in e2e_chain). The new thread is known by its descriptor until it registers. */
    int rc = real_pthread_create(th, attr, upper_thread, s);
    if (rc)
        free(s);
    return rc;
}

/* ---- what the lower half reports (through lower_root.c) ---------------------------------- */
static int lower_chunks_lost; /* the lower root could not keep every report of its libc's chunks */

int pml_lower_chunks_whole(void)
{
    return !__atomic_load_n(&lower_chunks_lost, __ATOMIC_RELAXED);
}

static void cb_mem(uint64_t start, uint64_t end, int mapped)
{
    if (mapped < 0) {
        __atomic_store_n(&lower_chunks_lost, 1, __ATOMIC_RELAXED);
        return;
    }
    if (mapped)
        pml_reg_put(pml_page_down(start), pml_page_up(end), PML_HALF_LOWER, PML_W_LMMAP);
    else
        pml_reg_del(pml_page_down(start), pml_page_up(end));
}

static void cb_thread(pid_t tid, uint64_t lo, uint64_t hi, int alive)
{
    pml_thr_set(tid, alive ? PML_HALF_LOWER : 0);
    if (alive && lo < hi)
        pml_reg_put(lo, hi, PML_HALF_LOWER, PML_W_LSTACK);
}

static void cb_fd(int fd, int open)
{
    if (open && fd >= 0 && pml_fd_lower_ran())
        revive_fd_window(); /* fork-window-wide: the moment between the library's call and its mark */
    pml_fd_mark(fd, PML_HALF_LOWER, open);
}

static void cb_objects(void)
{
    pml_halves_walk_lower_objects();
}

/* lower_reset.c's walk of ld.so's threads, given once it has learned ld.so's layout (not in
 * the halves' own tests) */
static int (*guards_fn)(void);

void pml_halves_guards_with(int (*fn)(void))
{
    __atomic_store_n(&guards_fn, fn, __ATOMIC_RELEASE);
}

static void cb_guards(void)
{
    int (*fn)(void) = __atomic_load_n(&guards_fn, __ATOMIC_ACQUIRE);
    if (fn)
        fn();
}

/* The progress callback is the function itself, NULL while nobody wants the turns (idle.c with
 * REVIVE_MPI_YIELD_WHEN_IDLE off): lower_root.c's ucp_worker_progress then makes no call after
 * UCX's. A forwarding function checked for it in every turn: 27 of the wrapper's instructions
 * per turn, the real turn ~170 (MPICH, 2 ranks in MPI_Allreduce; bench/mpi/README.md). */
void pml_halves_progress_with(void (*fn)(unsigned))
{
    __atomic_store_n(&pml_halves_lower_cb.progress, fn, __ATOMIC_RELEASE);
}

/* The library's dlopen, often on the agent's thread at a snapshot (Open MPI opens components
 * lazily): ld.so's descriptors of the object's file held inside a fork guard section (a child
 * forked meanwhile held mca_ess_pmi.so: rank_forkloop-ompi). The section covers the whole call,
 * the loaded objects' constructors too: why that cannot hang, and what it costs, is in
 * src/crs/libcr/fork_guard.h (diffrev32 R-L8). */
static void cb_fd_section(int enter)
{
    if (enter)
        revive_fd_enter();
    else
        revive_fd_leave();
}

struct pml_lower_cb pml_halves_lower_cb = { cb_mem, cb_thread, cb_objects, cb_fd, cb_guards, NULL, cb_fd_section };

/* ---- UCX's memory hooks -------------------------------------------------------------------
 * Measured (MPICH 4.0 with UCX 1.13, Debian 12): libucm, a dependency of libmpich, patches at
 * load the code of the mmap/munmap/mremap/shmat/shmdt its namespace resolves (in the upper
 * namespace: the definitions above; in the lower one: lower_root.c's) with a jump into its own
 * handlers, which make the system call themselves: the hooks above are never reached. Each copy
 * of libucm reports what it intercepts to registered handlers, so the layer registers one with
 * each copy (without asking it to install anything it has not installed already). */
#define UCM_MMAP 1
#define UCM_MUNMAP 2
#define UCM_MREMAP 4
#define UCM_SHMAT 8
#define UCM_SHMDT 16
#define UCM_NO_INSTALL (1 << 24)
union ucm_ev {
    struct { void *result, *address; size_t size; int prot, flags, fd; off_t offset; } mmap;
    struct { int result; void *address; size_t size; } munmap;
    struct { void *result, *address; size_t old_size, new_size; int flags; } mremap;
    struct { void *result; int shmid; const void *shmaddr; int shmflg; } shmat;
    struct { int result; const void *shmaddr; } shmdt;
};
typedef int ucm_set_fn(int events, int priority, void (*cb)(int, union ucm_ev *, void *), void *arg);

static void ucm_event(int type, union ucm_ev *e, void *arg)
{
    int half = (int)(intptr_t)arg;
    int why = half == PML_HALF_UPPER ? PML_W_UMMAP : PML_W_LMMAP;
    struct shmid_ds ds;
    switch (type) {
    case UCM_MMAP:
        if (e->mmap.result != MAP_FAILED)
            pml_reg_put((uint64_t)e->mmap.result, (uint64_t)e->mmap.result + pml_page_up(e->mmap.size),
                        half, why);
        break;
    case UCM_MUNMAP:
        if (e->munmap.result == 0)
            pml_reg_del((uint64_t)e->munmap.address,
                        (uint64_t)e->munmap.address + pml_page_up(e->munmap.size));
        break;
    case UCM_MREMAP:
        if (e->mremap.result != MAP_FAILED) {
            pml_reg_del((uint64_t)e->mremap.address,
                        (uint64_t)e->mremap.address + pml_page_up(e->mremap.old_size));
            pml_reg_put((uint64_t)e->mremap.result,
                        (uint64_t)e->mremap.result + pml_page_up(e->mremap.new_size), half, why);
        }
        break;
    case UCM_SHMAT:
        if (e->shmat.result != (void *)-1 && shmctl(e->shmat.shmid, IPC_STAT, &ds) == 0)
            pml_reg_put((uint64_t)e->shmat.result, (uint64_t)e->shmat.result + pml_page_up(ds.shm_segsz),
                        half, half == PML_HALF_UPPER ? PML_W_USHM : PML_W_LMMAP);
        break;
    default:
        break; /* shmdt: the segment's entry stays; an address reused later is registered anew */
    }
}

int pml_halves_ucm_register(void *scope, int half)
{
    ucm_set_fn *set = (ucm_set_fn *)revive_dlsym(scope, "ucm_set_event_handler");
    if (!set)
        return 1;
    int rc = set(UCM_MMAP | UCM_MUNMAP | UCM_MREMAP | UCM_SHMAT | UCM_NO_INSTALL, 1000, ucm_event,
                 (void *)(intptr_t)half);
    return rc == 0 ? 0 : -1;
}

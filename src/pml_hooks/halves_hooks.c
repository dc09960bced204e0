/* Knowing the halves apart: interposition, where the registry learns who maps what.
 *   - the upper half's mmap/munmap/mremap/shmat/shmdt (defined here: the layer is preloaded, so
 *     every upper object calls these), shm_open (its descriptor is the application's), and
 *     pthread_create (its threads and their stacks are upper);
 *   - what the lower half reports through its namespace's root library (lower_root.c calls the
 *     callbacks in pml_halves_lower_cb): its mmaps, malloc's mmapped chunks, threads, stacks and
 *     descriptors, all lower;
 *   - libucm's memory events (UCX patches the mmap family in both namespaces, see below). */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

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
    real_mmap = (__typeof__(real_mmap))dlsym(RTLD_NEXT, "mmap");
    real_munmap = (__typeof__(real_munmap))dlsym(RTLD_NEXT, "munmap");
    real_mremap = (__typeof__(real_mremap))dlsym(RTLD_NEXT, "mremap");
    real_shmat = (__typeof__(real_shmat))dlsym(RTLD_NEXT, "shmat");
    real_shmdt = (__typeof__(real_shmdt))dlsym(RTLD_NEXT, "shmdt");
    real_pthread_create = (__typeof__(real_pthread_create))dlsym(RTLD_NEXT, "pthread_create");
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
        real_shmat = (__typeof__(real_shmat))dlsym(RTLD_NEXT, "shmat");
    void *p = real_shmat(id, addr, flags);
    struct shmid_ds ds;
    if (p != (void *)-1 && shmctl(id, IPC_STAT, &ds) == 0)
        pml_reg_put((uint64_t)p, (uint64_t)p + pml_page_up(ds.shm_segsz), PML_HALF_UPPER, PML_W_USHM);
    return p;
}

int shmdt(const void *addr)
{
    if (!real_shmdt)
        real_shmdt = (__typeof__(real_shmdt))dlsym(RTLD_NEXT, "shmdt");
    int rc = real_shmdt(addr);
    if (rc == 0)
        pml_reg_shmdt((uint64_t)addr);
    return rc;
}

int shm_open(const char *name, int flags, mode_t mode)
{
    static int (*real)(const char *, int, mode_t);
    if (!real)
        real = (int (*)(const char *, int, mode_t))dlsym(RTLD_NEXT, "shm_open");
    int fd = real(name, flags, mode);
    if (fd >= 0)
        pml_fd_mark(fd, PML_HALF_UPPER, 1);
    return fd;
}

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
    pid_t tid = my_tid();
    pml_thr_set(tid, PML_HALF_UPPER);
    pml_stack_of_self(&lo, &hi);
    if (lo < hi)
        pml_reg_put(lo, hi, PML_HALF_UPPER, PML_W_USTACK);
    void *r = s.fn(s.arg);
    pml_thr_set(tid, 0);
    return r;
}

/* A new thread's id, from glibc's descriptor of it (clone writes it there before pthread_create
 * returns), at the offset libc publishes for debuggers; 0 when libc does not say. */
static pid_t new_thread_tid(pthread_t th)
{
    static const uint32_t *d;
    static int looked;
    if (!looked) {
        d = (const uint32_t *)dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid");
        looked = 1;
    }
    if (!d || d[0] != 32 || !th)
        return 0;
    return *(volatile const pid_t *)(const void *)((const char *)th + d[2]);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!real_pthread_create)
        real_pthread_create = (__typeof__(real_pthread_create))dlsym(RTLD_NEXT, "pthread_create");
    struct ustart *s = malloc(sizeof *s);
    if (!s)
        return real_pthread_create(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    /* The new thread may be parked before it reaches upper_thread; a thread of no known half
     * counts as the lower half's and is left out of the image (a restart lost an application
     * thread that way, and whoever waited for it hung). So its creator registers it too, and is
     * not parked in between: the capture starts once every thread is parked, by then the new
     * one is registered. */
    crs_park_defer_enter();
    int rc = real_pthread_create(th, attr, upper_thread, s);
    if (rc == 0) {
        pid_t t = new_thread_tid(*th);
        if (t > 0)
            pml_thr_set(t, PML_HALF_UPPER);
    }
    crs_park_defer_leave();
    if (rc)
        free(s);
    return rc;
}

/* ---- what the lower half reports (through lower_root.c) ---------------------------------- */
static void cb_mem(uint64_t start, uint64_t end, int mapped)
{
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
    pml_fd_mark(fd, PML_HALF_LOWER, open);
}

static void cb_objects(void)
{
    pml_halves_walk_lower_objects();
}

const struct pml_lower_cb pml_halves_lower_cb = { cb_mem, cb_thread, cb_objects, cb_fd };

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
    ucm_set_fn *set = (ucm_set_fn *)dlsym(scope, "ucm_set_event_handler");
    if (!set)
        return 1;
    int rc = set(UCM_MMAP | UCM_MUNMAP | UCM_MREMAP | UCM_SHMAT | UCM_NO_INSTALL, 1000, ucm_event,
                 (void *)(intptr_t)half);
    return rc == 0 ? 0 : -1;
}

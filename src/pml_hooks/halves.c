/* Knowing the halves apart: which memory, threads and file descriptors of a rank belong to the
 * application (upper half) and which to the MPI library (lower half). API and guarantees in
 * halves.h; the method, and why, in docs/mpi.md ("Knowing the halves apart").
 *
 * Memory is kept in a registry of address intervals, each with its half and the reason, fed at
 * the moments the owner is known for certain:
 *   - at load (the layer's constructor) and again just before the lower half is loaded, every
 *     region then mapped is the application's (the kernel's exec set-up, the upper namespace's
 *     objects, the heap, whatever the program allocated before MPI_Init);
 *   - the upper half's mmap/mremap/munmap/shmat/shmdt (defined here; the layer is preloaded, so
 *     every upper object calls these) and the stacks of threads started by the upper
 *     pthread_create (wrapped here) are upper;
 *   - the lower namespace's objects (its link map, walked after load and after each dlopen in
 *     it), the lower half's own mmap/mremap/munmap/shmat/shmdt and its threads' stacks (reported
 *     by the namespace's root library, lower_root.c, which comes first in the namespace's
 *     symbol scope) are lower;
 *   - whatever appeared between "just before the lower half was loaded" and "MPI_Init
 *     returned" and is not explained by the above (the lower libc's malloc arenas and thread
 *     stacks, MPI's segments) is lower.
 * What the registry does not cover is decided at query time from the mapping's name: [heap],
 * [stack] and the kernel's regions are upper; /dev/shm, SysV segments, hugepages and RDMA
 * devices are lower; other files are upper; anonymous memory that appeared later without an
 * explained creator is upper (saving memory the MPI library no longer uses is harmless; leaving
 * out memory the application uses is not).
 *
 * Threads: the main thread and every thread started through the upper pthread_create are upper;
 * every other one is the MPI library's. Descriptors: by what they are (halves.h). */
#define _GNU_SOURCE
#include "pml_hooks/layer.h"
#include "pml_hooks/halves.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- reasons ------------------------------------------------------------------------------ */
enum {
    W_NONE, W_START, W_PRE, W_UMMAP, W_USHM, W_USTACK, W_LOBJ, W_LMMAP, W_LSTACK, W_INIT,
    W_HEAP, W_STACK, W_KERNEL, W_SHMNAME, W_DEV, W_FILE, W_ANON, W_NW
};
static const char *const why_str[W_NW] = {
    [W_NONE] = "?",
    [W_START] = "mapped when the program started",
    [W_PRE] = "mapped before the MPI library was loaded",
    [W_UMMAP] = "mapped by the application (upper mmap/mremap/shmat)",
    [W_USHM] = "attached by the application (upper shmat)",
    [W_USTACK] = "stack of an application thread",
    [W_LOBJ] = "object of the lower namespace",
    [W_LMMAP] = "mapped by the MPI library (lower mmap/mremap/shmat)",
    [W_LSTACK] = "stack of an MPI library thread",
    [W_INIT] = "appeared while the MPI library was loaded and initialised",
    [W_HEAP] = "brk heap",
    [W_STACK] = "main thread stack",
    [W_KERNEL] = "set up by the kernel",
    [W_SHMNAME] = "shared-memory segment (/dev/shm or SysV)",
    [W_DEV] = "device or hugepage memory (RDMA, hugetlbfs)",
    [W_FILE] = "file mapping outside the lower namespace",
    [W_ANON] = "anonymous memory of no known creator, kept with the application",
};

const char *pml_half_name(int half)
{
    return half == PML_HALF_UPPER ? "upper" : half == PML_HALF_LOWER ? "lower"
         : half == PML_HALF_MIXED ? "mixed" : "?";
}

/* ---- the lock: writers and readers alike; a reader that cannot get it within a bounded wait
 * (its holder is parked by a checkpoint) reads without it ---------------------------------- */
static volatile int reg_lock;
static volatile pid_t reg_owner;

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* 1: locked by us, release later; 0: not locked (recursion from a signal handler, or gave up) */
static int lock_take(int bounded)
{
    pid_t me = my_tid();
    if (reg_owner == me)
        return 0;
    for (unsigned long n = 0; __atomic_exchange_n(&reg_lock, 1, __ATOMIC_ACQUIRE); n++) {
        if (bounded && n > (1ul << 16))
            return 0;
        if (n > 64)
            sched_yield();
    }
    reg_owner = me;
    return 1;
}

static void lock_drop(int taken)
{
    if (!taken)
        return;
    reg_owner = 0;
    __atomic_store_n(&reg_lock, 0, __ATOMIC_RELEASE);
}

/* ---- the registry of intervals ----------------------------------------------------------- */
#define REG_MAX 16384
struct hreg {
    uint64_t lo, hi;
    uint16_t half, why;
};
static struct hreg reg[REG_MAX];
static int nreg, reg_overflow;

static int reg_first(uint64_t a) /* the first entry ending after a */
{
    int l = 0, h = nreg;
    while (l < h) {
        int m = (l + h) / 2;
        if (reg[m].hi <= a)
            l = m + 1;
        else
            h = m;
    }
    return l;
}

static void reg_carve(uint64_t lo, uint64_t hi)
{
    int i = reg_first(lo);
    while (i < nreg && reg[i].lo < hi) {
        struct hreg *e = &reg[i];
        if (e->lo < lo && e->hi > hi) {
            if (nreg == REG_MAX) {
                reg_overflow = 1;
                e->hi = lo;
                return;
            }
            memmove(&reg[i + 2], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
            reg[i + 1] = *e;
            reg[i + 1].lo = hi;
            e->hi = lo;
            nreg++;
            return;
        }
        if (e->lo < lo) {
            e->hi = lo;
            i++;
        } else if (e->hi > hi) {
            e->lo = hi;
            return;
        } else {
            memmove(&reg[i], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
            nreg--;
        }
    }
}

static void reg_put_locked(uint64_t lo, uint64_t hi, int half, int why)
{
    if (lo >= hi)
        return;
    reg_carve(lo, hi);
    int i = reg_first(lo);
    int left = i > 0 && reg[i - 1].hi == lo && reg[i - 1].half == half && reg[i - 1].why == why;
    int right = i < nreg && reg[i].lo == hi && reg[i].half == half && reg[i].why == why;
    if (left && right) {
        reg[i - 1].hi = reg[i].hi;
        memmove(&reg[i], &reg[i + 1], (size_t)(nreg - i - 1) * sizeof *reg);
        nreg--;
    } else if (left) {
        reg[i - 1].hi = hi;
    } else if (right) {
        reg[i].lo = lo;
    } else if (nreg == REG_MAX) {
        reg_overflow = 1;
    } else {
        memmove(&reg[i + 1], &reg[i], (size_t)(nreg - i) * sizeof *reg);
        reg[i] = (struct hreg){ lo, hi, (uint16_t)half, (uint16_t)why };
        nreg++;
    }
}

static void reg_put(uint64_t lo, uint64_t hi, int half, int why)
{
    int t = lock_take(0); /* 0: a signal handler interrupted an update of ours; drop it */
    if (t)
        reg_put_locked(lo, hi, half, why);
    lock_drop(t);
}

static void reg_del(uint64_t lo, uint64_t hi)
{
    int t = lock_take(0);
    if (t)
        reg_carve(lo, hi);
    lock_drop(t);
}

/* [lo, hi) where the registry has nothing yet */
static void reg_fill(uint64_t lo, uint64_t hi, int half, int why)
{
    int t = lock_take(0);
    if (!t)
        return;
    uint64_t cur = lo;
    while (cur < hi) {
        int i = reg_first(cur);
        if (i < nreg && reg[i].lo <= cur) {
            cur = reg[i].hi;
            continue;
        }
        uint64_t end = i < nreg && reg[i].lo < hi ? reg[i].lo : hi;
        reg_put_locked(cur, end, half, why);
        cur = end;
    }
    lock_drop(t);
}

static uint64_t page_up(uint64_t n)
{
    return (n + 4095) & ~(uint64_t)4095;
}

/* ---- /proc/self/maps without malloc ------------------------------------------------------ */
struct mline {
    uint64_t lo, hi;
    char perms[5];
    const char *path; /* "" for anonymous memory */
};

static const char *hex(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (;; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0)
            break;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return s;
}

static int parse_line(char *s, struct mline *m)
{
    s = (char *)hex(s, &m->lo);
    if (*s++ != '-')
        return -1;
    s = (char *)hex(s, &m->hi);
    if (*s++ != ' ')
        return -1;
    memcpy(m->perms, s, 4);
    m->perms[4] = 0;
    /* perms offset dev inode, then spaces up to the path */
    for (int f = 0; f < 4; f++) {
        while (*s && *s != ' ')
            s++;
        while (*s == ' ')
            s++;
    }
    m->path = s;
    return 0;
}

/* Calls cb for each line; cb returns non-zero to stop. */
static int maps_each(int (*cb)(const struct mline *, void *), void *arg)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[8192 + 1];
    size_t have = 0;
    int stop = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            *nl = 0;
            struct mline m;
            if (!stop && parse_line(buf + pos, &m) == 0)
                stop = cb(&m, arg);
            pos = (size_t)(nl + 1 - buf);
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (have == sizeof buf - 1)
            have = 0; /* a line longer than the buffer: drop it */
    }
    close(fd);
    return 0;
}

/* ---- rules by name ----------------------------------------------------------------------- */
static int starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* The half a mapping's name decides on its own, or 0 (anonymous or an ordinary file). */
static int name_rule(const char *path, int *why)
{
    if (!strcmp(path, "[heap]"))
        return *why = W_HEAP, PML_HALF_UPPER;
    if (!strcmp(path, "[stack]"))
        return *why = W_STACK, PML_HALF_UPPER;
    if (!strcmp(path, "[vdso]") || starts(path, "[vvar") || !strcmp(path, "[vsyscall]"))
        return *why = W_KERNEL, PML_HALF_UPPER;
    if (starts(path, "/dev/shm/") || starts(path, "/SYSV"))
        return *why = W_SHMNAME, PML_HALF_LOWER;
    if (starts(path, "/dev/infiniband/") || starts(path, "/dev/hugepages") ||
        starts(path, "/anon_hugepage") || starts(path, "/dev/knem") || starts(path, "/dev/xpmem") ||
        starts(path, "/dev/cxi") || starts(path, "/dev/hfi") || starts(path, "/dev/kfi"))
        return *why = W_DEV, PML_HALF_LOWER;
    return 0;
}

static int lower_loaded;

/* What decides a piece the registry does not cover. */
static int gap_rule(const char *path, int *why)
{
    int h = name_rule(path, why);
    if (h)
        return h;
    if (*path && *path != '[')
        return *why = W_FILE, PML_HALF_UPPER;
    *why = lower_loaded ? W_ANON : W_PRE;
    return PML_HALF_UPPER;
}

/* ---- queries ----------------------------------------------------------------------------- */
struct path_q {
    uint64_t addr;
    char *out;
    size_t cap;
};

static int find_path(const struct mline *m, void *arg)
{
    struct path_q *q = arg;
    if (q->addr < m->lo || q->addr >= m->hi)
        return 0;
    size_t n = strlen(m->path);
    if (n >= q->cap)
        n = q->cap - 1;
    memcpy(q->out, m->path, n);
    q->out[n] = 0;
    return 1;
}

int pml_halves_split(uint64_t start, uint64_t end, const char *path, struct pml_half_span *out,
                     int max)
{
    char pbuf[512];
    if (!path) {
        pbuf[0] = 0;
        struct path_q q = { start, pbuf, sizeof pbuf };
        maps_each(find_path, &q);
        path = pbuf;
    }
    int gw, gh = gap_rule(path, &gw);
    int n = 0;
    struct pml_half_span cur = { start, start, 0, NULL };
    int t = lock_take(1);
    uint64_t a = start;
    int i = reg_first(start);
    while (a < end) {
        uint64_t b;
        int h, w;
        if (i < nreg && reg[i].lo <= a) {
            b = reg[i].hi < end ? reg[i].hi : end;
            h = reg[i].half;
            w = reg[i].why;
            /* the registry does not overrule names that are certain */
            if (gh == PML_HALF_UPPER && (gw == W_HEAP || gw == W_STACK || gw == W_KERNEL))
                h = gh, w = gw;
            i++;
        } else {
            b = i < nreg && reg[i].lo < end ? reg[i].lo : end;
            h = gh;
            w = gw;
        }
        if (cur.half == h && cur.why == why_str[w]) {
            cur.end = b;
        } else {
            if (cur.half) {
                if (n < max)
                    out[n] = cur;
                n++;
            }
            cur = (struct pml_half_span){ a, b, h, why_str[w] };
        }
        a = b;
    }
    lock_drop(t);
    if (cur.half) {
        if (n < max)
            out[n] = cur;
        n++;
    }
    return n;
}

int pml_half_of_region(uint64_t start, uint64_t end, const char *path, const char **why)
{
    struct pml_half_span s[8];
    int n = pml_halves_split(start, end, path, s, 8);
    if (n <= 0) {
        if (why)
            *why = "empty region";
        return PML_HALF_UPPER;
    }
    int h = s[0].half;
    for (int i = 1; i < n && i < 8; i++)
        if (s[i].half != h)
            h = PML_HALF_MIXED;
    if (why)
        *why = h == PML_HALF_MIXED ? "parts differ (see pml_halves_split)" : s[0].why;
    return h;
}

/* ---- threads ----------------------------------------------------------------------------- */
#define THR_MAX 4096
static struct {
    pid_t tid;
    int half;
} thr[THR_MAX];
static int nthr;

static void thr_set(pid_t tid, int half)
{
    int t = lock_take(0);
    int i;
    for (i = 0; i < nthr && thr[i].tid != tid; i++)
        ;
    if (half) {
        if (i == nthr && nthr < THR_MAX)
            nthr++;
        if (i < nthr) {
            thr[i].tid = tid;
            thr[i].half = half;
        }
    } else if (i < nthr) {
        thr[i] = thr[--nthr];
    }
    lock_drop(t);
}

int pml_half_of_thread(pid_t tid, const char **why)
{
    if (tid == getpid()) {
        if (why)
            *why = "main thread";
        return PML_HALF_UPPER;
    }
    int t = lock_take(1), h = 0;
    for (int i = 0; i < nthr; i++)
        if (thr[i].tid == tid)
            h = thr[i].half;
    lock_drop(t);
    if (why)
        *why = h == PML_HALF_UPPER ? "started by the application (upper pthread_create)"
             : h == PML_HALF_LOWER ? "started by the MPI library (lower pthread_create)"
                                   : "not started by the application";
    return h ? h : PML_HALF_LOWER;
}

static void stack_of_self(uint64_t *lo, uint64_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size, guard = 0;
    *lo = *hi = 0;
    if (pthread_getattr_np(pthread_self(), &a))
        return;
    if (!pthread_attr_getstack(&a, &addr, &size)) {
        pthread_attr_getguardsize(&a, &guard);
        *lo = ((uint64_t)addr - guard) & ~(uint64_t)4095;
        *hi = page_up((uint64_t)addr + size);
    }
    pthread_attr_destroy(&a);
}

/* ---- descriptors ------------------------------------------------------------------------- */
#define FD_TRACK 65536
static uint64_t fd_lower_ino[FD_TRACK]; /* non-zero: opened by the lower half (its inode | 1) */
static uint64_t fd_upper_ino[FD_TRACK]; /* non-zero: a /dev/shm object the application opened */

static uint64_t ino_key(const struct stat *st)
{
    return ((uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 40)) | 1;
}

static char *put_num(char *p, long v)
{
    char t[24];
    int n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = t[--n];
    *p = 0;
    return p;
}

static int fd_target(int fd, char *out, size_t cap)
{
    char p[40] = "/proc/self/fd/";
    put_num(p + strlen(p), fd);
    ssize_t n = readlink(p, out, cap - 1);
    if (n < 0)
        return -1;
    out[n] = 0;
    return 0;
}

int pml_half_of_fd(int fd, const char **why)
{
    struct stat st;
    const char *w;
    int h;
    char tgt[512];
    if (fstat(fd, &st) < 0) {
        if (why)
            *why = "not open";
        return -1;
    }
    if (fd_target(fd, tgt, sizeof tgt) < 0)
        tgt[0] = 0;
    if (fd >= 0 && fd < FD_TRACK && fd_lower_ino[fd] == ino_key(&st)) {
        h = PML_HALF_LOWER, w = "opened by the MPI library";
    } else if (fd >= 0 && fd < FD_TRACK && fd_upper_ino[fd] == ino_key(&st)) {
        h = PML_HALF_UPPER, w = "shared-memory object opened by the application (upper shm_open)";
    } else if (S_ISSOCK(st.st_mode)) {
        h = PML_HALF_LOWER, w = "socket";
    } else if (!strcmp(tgt, "anon_inode:[eventfd]")) {
        h = PML_HALF_LOWER, w = "eventfd";
    } else if (!strcmp(tgt, "anon_inode:[eventpoll]")) {
        h = PML_HALF_LOWER, w = "epoll";
    } else if (!strcmp(tgt, "anon_inode:[timerfd]")) {
        h = PML_HALF_LOWER, w = "timerfd";
    } else if (starts(tgt, "/dev/shm/")) {
        h = PML_HALF_LOWER, w = "shared-memory file (/dev/shm)";
    } else if (starts(tgt, "/dev/infiniband/") || starts(tgt, "/dev/knem") ||
               starts(tgt, "/dev/xpmem") || starts(tgt, "/dev/cxi") || starts(tgt, "/dev/hfi")) {
        h = PML_HALF_LOWER, w = "RDMA or shared-memory device";
    } else if (strstr(tgt, "/ompi.") || strstr(tgt, "/openmpi-sessions") || strstr(tgt, "/pmix-") ||
               strstr(tgt, "/pmix.") || strstr(tgt, "/mpich_")) {
        h = PML_HALF_LOWER, w = "file in an MPI session directory";
    } else if (S_ISFIFO(st.st_mode)) {
        h = PML_HALF_UPPER, w = "pipe";
    } else if (S_ISCHR(st.st_mode)) {
        h = PML_HALF_UPPER, w = "terminal or character device";
    } else if (S_ISDIR(st.st_mode)) {
        h = PML_HALF_UPPER, w = "directory";
    } else if (starts(tgt, "/memfd:")) {
        h = PML_HALF_UPPER, w = "memfd";
    } else if (S_ISREG(st.st_mode)) {
        h = PML_HALF_UPPER, w = "regular file";
    } else {
        h = PML_HALF_UPPER, w = "other descriptor kind an application owns";
    }
    if (why)
        *why = w;
    return h;
}

/* ---- the lower namespace ----------------------------------------------------------------- */
static int obj_extent(const void *fbase, uint64_t *lo, uint64_t *hi)
{
    struct pml_span q;
    if (pml_elf_span(fbase, &q) != 0)
        return -1;
    *lo = q.lo & ~(uint64_t)4095;
    *hi = page_up(q.hi);
    return 0;
}

static int upper_has_ld(const void *ld)
{
    for (struct link_map *m = _r_debug.r_map; m; m = m->l_next)
        if (m->l_ld == ld)
            return 1;
    return 0;
}

static int n_lower_objects;
#define LOBJ_MAX 1024
static struct { uint64_t lo, hi; } lobj[LOBJ_MAX], lobj_new[LOBJ_MAX];

/* After the lower half loaded or closed objects: the extent of each object in its link map is
 * lower; the extent of an object that is gone (Open MPI closes the components it does not
 * select) is given up, since the application's libc may map something there next. */
static void walk_lower_objects(void)
{
    struct link_map *lm = NULL;
    if (!pml_lower_handle || dlinfo(pml_lower_handle, RTLD_DI_LINKMAP, &lm) || !lm)
        return;
    while (lm->l_prev)
        lm = lm->l_prev;
    int n = 0;
    for (; lm && n < LOBJ_MAX; lm = lm->l_next) {
        Dl_info di;
        uint64_t lo, hi;
        if (upper_has_ld(lm->l_ld)) /* ld.so: one copy shared by every namespace */
            continue;
        if (!dladdr(lm->l_ld, &di) || !di.dli_fbase || obj_extent(di.dli_fbase, &lo, &hi))
            continue;
        lobj_new[n].lo = lo;
        lobj_new[n].hi = hi;
        n++;
    }
    for (int i = 0; i < n_lower_objects; i++) {
        int kept = 0;
        for (int j = 0; j < n && !kept; j++)
            kept = lobj[i].lo == lobj_new[j].lo && lobj[i].hi == lobj_new[j].hi;
        if (!kept)
            reg_del(lobj[i].lo, lobj[i].hi);
    }
    for (int j = 0; j < n; j++)
        reg_put(lobj_new[j].lo, lobj_new[j].hi, PML_HALF_LOWER, W_LOBJ);
    memcpy(lobj, lobj_new, (size_t)n * sizeof *lobj);
    n_lower_objects = n;
}

/* ---- what the lower half reports (through lower_root.c) ---------------------------------- */
static void cb_mem(uint64_t start, uint64_t end, int mapped)
{
    if (mapped)
        reg_put(start & ~(uint64_t)4095, page_up(end), PML_HALF_LOWER, W_LMMAP);
    else
        reg_del(start & ~(uint64_t)4095, page_up(end));
}

static void cb_thread(pid_t tid, uint64_t lo, uint64_t hi, int alive)
{
    thr_set(tid, alive ? PML_HALF_LOWER : 0);
    if (alive && lo < hi)
        reg_put(lo, hi, PML_HALF_LOWER, W_LSTACK);
}

static void cb_fd(int fd, int open)
{
    struct stat st;
    if (fd < 0 || fd >= FD_TRACK)
        return;
    fd_lower_ino[fd] = open && fstat(fd, &st) == 0 ? ino_key(&st) : 0;
}

static const struct pml_lower_cb lower_cb = { cb_mem, cb_thread, walk_lower_objects, cb_fd };

/* ---- UCX's memory hooks -------------------------------------------------------------------
 * Measured (MPICH 4.0 with UCX 1.13, Debian 12): libucm, a dependency of libmpich, patches at
 * load the code of the mmap/munmap/mremap/shmat/shmdt its namespace resolves (in the upper
 * namespace: the definitions below; in the lower one: lower_root.c's) with a jump into its own
 * handlers, which make the system call themselves: the hooks here are never reached. Each copy
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
    int why = half == PML_HALF_UPPER ? W_UMMAP : W_LMMAP;
    struct shmid_ds ds;
    switch (type) {
    case UCM_MMAP:
        if (e->mmap.result != MAP_FAILED)
            reg_put((uint64_t)e->mmap.result, (uint64_t)e->mmap.result + page_up(e->mmap.size), half, why);
        break;
    case UCM_MUNMAP:
        if (e->munmap.result == 0)
            reg_del((uint64_t)e->munmap.address, (uint64_t)e->munmap.address + page_up(e->munmap.size));
        break;
    case UCM_MREMAP:
        if (e->mremap.result != MAP_FAILED) {
            reg_del((uint64_t)e->mremap.address, (uint64_t)e->mremap.address + page_up(e->mremap.old_size));
            reg_put((uint64_t)e->mremap.result, (uint64_t)e->mremap.result + page_up(e->mremap.new_size),
                    half, why);
        }
        break;
    case UCM_SHMAT:
        if (e->shmat.result != (void *)-1 && shmctl(e->shmat.shmid, IPC_STAT, &ds) == 0)
            reg_put((uint64_t)e->shmat.result, (uint64_t)e->shmat.result + page_up(ds.shm_segsz),
                    half, half == PML_HALF_UPPER ? W_USHM : W_LMMAP);
        break;
    default:
        break; /* shmdt: the segment's entry stays; an address reused later is registered anew */
    }
}

static int ucm_upper_done;

static void ucm_register(void *scope, int half)
{
    ucm_set_fn *set = (ucm_set_fn *)dlsym(scope, "ucm_set_event_handler");
    if (!set)
        return;
    int rc = set(UCM_MMAP | UCM_MUNMAP | UCM_MREMAP | UCM_SHMAT | UCM_NO_INSTALL, 1000, ucm_event,
                 (void *)(intptr_t)half);
    pml_log(1, "halves: UCX memory events of the %s half %s", pml_half_name(half),
            rc == 0 ? "reported to the layer" : "could not be registered");
}

/* ---- snapshots ---------------------------------------------------------------------------- */
struct snap_q {
    int half, why;
};

static int snap_line(const struct mline *m, void *arg)
{
    struct snap_q *q = arg;
    int w;
    if (q->half == PML_HALF_LOWER && name_rule(m->path, &w) == PML_HALF_UPPER)
        return 0; /* the heap, the main stack and the kernel's regions grow or move but stay upper */
    reg_fill(m->lo, m->hi, q->half, q->why);
    return 0;
}

static void snapshot(int half, int why)
{
    struct snap_q q = { half, why };
    maps_each(snap_line, &q);
}

void pml_halves_init(void)
{
    snapshot(PML_HALF_UPPER, W_START);
}

void pml_halves_before_lower(void)
{
    snapshot(PML_HALF_UPPER, W_PRE);
    if (!ucm_upper_done) {
        ucm_upper_done = 1;
        ucm_register(RTLD_DEFAULT, PML_HALF_UPPER);
    }
}

void pml_halves_lower_loaded(void *handle)
{
    lower_loaded = 1;
    pml_lower_set_cb_fn *set = (pml_lower_set_cb_fn *)dlsym(handle, PML_LOWER_SET_CB);
    if (set)
        set(&lower_cb);
    else
        pml_log(1, "the lower half's root has no %s: what it maps later is not tracked",
                PML_LOWER_SET_CB);
    ucm_register(handle, PML_HALF_LOWER);
    walk_lower_objects();
}

void pml_halves_lower_ready(void)
{
    walk_lower_objects();
    snapshot(PML_HALF_LOWER, W_INIT);
    pml_log(1, "halves: %d lower objects, %d registry entries", n_lower_objects, nreg);
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
        reg_put((uint64_t)p, (uint64_t)p + page_up(len), PML_HALF_UPPER, W_UMMAP);
    return p;
}
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len)
{
    int rc = real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
    if (rc == 0)
        reg_del((uint64_t)addr, (uint64_t)addr + page_up(len));
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
            reg_del((uint64_t)old, (uint64_t)old + page_up(old_len));
        reg_put((uint64_t)p, (uint64_t)p + page_up(new_len), PML_HALF_UPPER, W_UMMAP);
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
        reg_put((uint64_t)p, (uint64_t)p + page_up(ds.shm_segsz), PML_HALF_UPPER, W_USHM);
    return p;
}

int shmdt(const void *addr)
{
    if (!real_shmdt)
        real_shmdt = (__typeof__(real_shmdt))dlsym(RTLD_NEXT, "shmdt");
    int rc = real_shmdt(addr);
    if (rc == 0) {
        int t = lock_take(0);
        int i = reg_first((uint64_t)addr);
        if (t && i < nreg && reg[i].lo <= (uint64_t)addr && reg[i].why == W_USHM)
            reg_carve((uint64_t)addr, reg[i].hi);
        lock_drop(t);
    }
    return rc;
}

int shm_open(const char *name, int flags, mode_t mode)
{
    static int (*real)(const char *, int, mode_t);
    if (!real)
        real = (int (*)(const char *, int, mode_t))dlsym(RTLD_NEXT, "shm_open");
    int fd = real(name, flags, mode);
    struct stat st;
    if (fd >= 0 && fd < FD_TRACK && fstat(fd, &st) == 0)
        fd_upper_ino[fd] = ino_key(&st);
    return fd;
}

struct ustart {
    void *(*fn)(void *);
    void *arg;
};

static void *upper_thread(void *p)
{
    struct ustart s = *(struct ustart *)p;
    free(p);
    uint64_t lo, hi;
    pid_t tid = my_tid();
    thr_set(tid, PML_HALF_UPPER);
    stack_of_self(&lo, &hi);
    if (lo < hi)
        reg_put(lo, hi, PML_HALF_UPPER, W_USTACK);
    void *r = s.fn(s.arg);
    thr_set(tid, 0);
    return r;
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
    int rc = real_pthread_create(th, attr, upper_thread, s);
    if (rc)
        free(s);
    return rc;
}

/* ---- the dump ---------------------------------------------------------------------------- */
static int dump_line(const struct mline *m, void *arg)
{
    FILE *f = arg;
    struct pml_half_span s[64];
    int n = pml_halves_split(m->lo, m->hi, m->path, s, 64);
    for (int i = 0; i < n && i < 64; i++)
        fprintf(f, "region %012llx-%012llx %s %s why: %s; %s\n", (unsigned long long)s[i].start,
                (unsigned long long)s[i].end, m->perms, pml_half_name(s[i].half), s[i].why,
                *m->path ? m->path : "(anonymous)");
    return 0;
}

void pml_halves_dump(FILE *f)
{
    maps_each(dump_line, f);
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        char p[64], comm[64] = "";
        snprintf(p, sizeof p, "/proc/self/task/%d/comm", (int)tid);
        FILE *c = fopen(p, "r");
        if (c) {
            if (fgets(comm, sizeof comm, c))
                comm[strcspn(comm, "\n")] = 0;
            fclose(c);
        }
        const char *w;
        int h = pml_half_of_thread(tid, &w);
        fprintf(f, "thread %d %s why: %s; %s\n", (int)tid, pml_half_name(h), w, comm);
    }
    if (d)
        closedir(d);
    d = opendir("/proc/self/fd");
    int skip = d ? dirfd(d) : -1;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd == skip)
            continue;
        char tgt[512];
        const char *w;
        int h = pml_half_of_fd(fd, &w);
        if (h < 0)
            continue;
        if (fd_target(fd, tgt, sizeof tgt) < 0)
            strcpy(tgt, "?");
        fprintf(f, "fd %d %s why: %s; %s\n", fd, pml_half_name(h), w, tgt);
    }
    if (d)
        closedir(d);
    if (reg_overflow)
        fprintf(f, "note: the registry overflowed (%d entries); some answers fell back to names\n",
                REG_MAX);
}

void pml_halves_dump_to(const char *prefix, int rank)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.%d", prefix, rank);
    FILE *f = fopen(path, "w");
    if (!f) {
        pml_log(0, "cannot write %s: %s", path, strerror(errno));
        return;
    }
    pml_halves_dump(f);
    fclose(f);
}

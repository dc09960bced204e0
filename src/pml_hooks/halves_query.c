/* Knowing the halves apart: the rules and the queries (API and guarantees in halves.h).
 *
 * Memory: the registry (halves_registry.c) says what it was told at the moments the owner was
 * certain; what it does not cover is decided here from the mapping's name: [heap], [stack] and
 * the kernel's regions are upper; /dev/shm, SysV segments, hugepages and RDMA devices are
 * lower; other files are upper; anonymous memory that appeared later without an explained
 * creator is upper (saving memory the MPI library no longer uses is harmless; leaving out
 * memory the application uses is not). Names that are certain ([heap], [stack], the kernel's)
 * overrule the registry.
 *
 * Threads: the main thread and every thread started through the upper pthread_create are
 * upper; every other one is the MPI library's. Which start a thread had is read from its glibc
 * descriptor (halves_hooks.c), the registry decides for a thread found on none of ld.so's
 * lists. Descriptors: by what they are (halves.h).
 *
 * Nothing here allocates; only system calls (fstat, readlink, /proc/self/maps). */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- reasons ------------------------------------------------------------------------------ */
static const char *const why_str[PML_W_COUNT] = {
    [PML_W_NONE] = "?",
    [PML_W_START] = "mapped when the program started",
    [PML_W_PRE] = "mapped before the MPI library was loaded",
    [PML_W_UMMAP] = "mapped by the application (upper mmap/mremap/shmat)",
    [PML_W_USHM] = "attached by the application (upper shmat)",
    [PML_W_USTACK] = "stack of an application thread",
    [PML_W_LOBJ] = "object of the lower namespace",
    [PML_W_LMMAP] = "mapped by the MPI library (lower mmap/mremap/shmat)",
    [PML_W_LSTACK] = "stack of an MPI library thread",
    [PML_W_INIT] = "appeared while the MPI library was loaded and initialised",
    [PML_W_HEAP] = "brk heap",
    [PML_W_STACK] = "main thread stack",
    [PML_W_KERNEL] = "set up by the kernel",
    [PML_W_SHMNAME] = "shared-memory segment (/dev/shm or SysV)",
    [PML_W_DEV] = "device or hugepage memory (RDMA, hugetlbfs)",
    [PML_W_FILE] = "file mapping outside the lower namespace",
    [PML_W_ANON] = "anonymous memory of no known creator, kept with the application",
    [PML_W_BUSY] = "decided by name: asked from a signal handler while its thread changed the registry",
    [PML_W_ARENA] = "a malloc arena of the application's libc (ld.so allocates with it for every namespace)",
    [PML_W_UCHUNK] = "a chunk the application's malloc mapped while MPI_Init ran (the library's own are reported)",
    [PML_W_UOBJ] = "object of the application's namespace (on ld.so's list)",
};

const char *pml_why_str(int why)
{
    return why > 0 && why < PML_W_COUNT ? why_str[why] : why_str[PML_W_NONE];
}

const char *pml_half_name(int half)
{
    return half == PML_HALF_UPPER ? "upper" : half == PML_HALF_LOWER ? "lower"
         : half == PML_HALF_MIXED ? "mixed" : "?";
}

/* ---- rules by name ------------------------------------------------------------------------ */
static int starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

int pml_name_rule(const char *path, int *why)
{
    if (!strcmp(path, "[heap]"))
        return *why = PML_W_HEAP, PML_HALF_UPPER;
    if (!strcmp(path, "[stack]"))
        return *why = PML_W_STACK, PML_HALF_UPPER;
    if (!strcmp(path, "[vdso]") || starts(path, "[vvar") || !strcmp(path, "[vsyscall]"))
        return *why = PML_W_KERNEL, PML_HALF_UPPER;
    if (starts(path, "/dev/shm/") || starts(path, "/SYSV"))
        return *why = PML_W_SHMNAME, PML_HALF_LOWER;
    if (starts(path, "/dev/infiniband/") || starts(path, "/dev/hugepages") ||
        starts(path, "/anon_hugepage") || starts(path, "/dev/knem") || starts(path, "/dev/xpmem") ||
        starts(path, "/dev/cxi") || starts(path, "/dev/hfi") || starts(path, "/dev/kfi"))
        return *why = PML_W_DEV, PML_HALF_LOWER;
    return 0;
}

static int lower_present;

void pml_halves_set_lower_present(void)
{
    lower_present = 1;
}

/* What decides a piece the registry does not cover. */
static int gap_rule(const char *path, int *why)
{
    int h = pml_name_rule(path, why);
    if (h)
        return h;
    if (*path && *path != '[')
        return *why = PML_W_FILE, PML_HALF_UPPER;
    *why = lower_present ? PML_W_ANON : PML_W_PRE;
    return PML_HALF_UPPER;
}

/* ---- memory ------------------------------------------------------------------------------- */
int pml_maps_each(int (*cb)(const struct revive_maps_entry *e, void *arg), void *arg)
{
    char buf[4096 + 256];
    struct revive_maps_reader r;
    int rc = revive_maps_open(&r, 0, 0, buf, sizeof buf);
    if (rc < 0)
        return rc;
    struct revive_maps_entry e;
    while ((rc = revive_maps_next(&r, &e)) != 0) {
        if (rc == -EIO)
            continue; /* not a maps line: skip it */
        if (rc < 0 || cb(&e, arg))
            break;
    }
    revive_maps_close(&r);
    return rc < 0 ? rc : 0;
}

struct path_q {
    uint64_t addr;
    char *out;
    size_t cap;
};

static int find_path(const struct revive_maps_entry *m, void *arg)
{
    struct path_q *q = arg;
    if (q->addr < m->start || q->addr >= m->end)
        return 0;
    size_t n = strlen(m->name);
    if (n >= q->cap)
        n = q->cap - 1;
    memcpy(q->out, m->name, n);
    q->out[n] = 0;
    return 1;
}

/* pml_halves_split's state while it walks the registry */
struct split_q {
    int gh, gw;                  /* what the name decides (gap rule) */
    struct pml_half_span cur;    /* the piece being grown */
    struct pml_half_span *out;
    int max, n;
};

static void split_piece(void *arg, uint64_t a, uint64_t b, int half, int why)
{
    struct split_q *q = arg;
    int h = half, w = why;
    if (!h) {
        h = q->gh;
        w = q->gw;
    } else if (q->gh == PML_HALF_UPPER &&
               (q->gw == PML_W_HEAP || q->gw == PML_W_STACK || q->gw == PML_W_KERNEL)) {
        h = q->gh; /* the registry does not overrule names that are certain */
        w = q->gw;
    }
    if (q->cur.half == h && q->cur.why == why_str[w]) {
        q->cur.end = b;
        return;
    }
    if (q->cur.half) {
        if (q->n < q->max)
            q->out[q->n] = q->cur;
        q->n++;
    }
    q->cur = (struct pml_half_span){ a, b, h, why_str[w] };
}

int pml_halves_split(uint64_t start, uint64_t end, const char *path, struct pml_half_span *out,
                     int max)
{
    char pbuf[512];
    if (!path) {
        pbuf[0] = 0;
        struct path_q pq = { start, pbuf, sizeof pbuf };
        pml_maps_each(find_path, &pq);
        path = pbuf;
    }
    struct split_q q = { .cur = { start, start, 0, NULL }, .out = out, .max = max };
    q.gh = gap_rule(path, &q.gw);
    if (pml_reg_walk(start, end, split_piece, &q) != 0) {
        q.gw = PML_W_BUSY;
        split_piece(&q, start, end, 0, PML_W_NONE);
    }
    if (q.cur.half) {
        if (q.n < max)
            out[q.n] = q.cur;
        q.n++;
    }
    return q.n;
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

/* ---- threads ------------------------------------------------------------------------------ */
int pml_half_of_thread(pid_t tid, const char **why)
{
    if (tid == getpid()) {
        if (why)
            *why = "main thread";
        return PML_HALF_UPPER;
    }
    int d = pml_thr_by_descriptor(tid);
    if (d) {
        if (why)
            *why = d == PML_HALF_UPPER ? "started by the application (its descriptor: upper pthread_create)"
                                       : "not started by the application (its descriptor)";
        return d;
    }
    int h = pml_thr_half(tid);
    if (h < 0) {
        if (why)
            *why = "unknown: asked from a signal handler while its thread changed the table; "
                   "counted as the application's";
        return PML_HALF_UPPER;
    }
    if (why)
        *why = h == PML_HALF_UPPER ? "started by the application (upper pthread_create)"
             : h == PML_HALF_LOWER ? "started by the MPI library (lower pthread_create)"
                                   : "not started by the application";
    return h ? h : PML_HALF_LOWER;
}

/* ---- descriptors --------------------------------------------------------------------------
 * The rule (review 13 HIGH-2): a descriptor is the MPI library's when it was made while the lower
 * half ran, the application's when it was made while the application ran. What the lower half
 * runs is known: its namespace's calls that make descriptors come through lower_root.c (every
 * one glibc exports: open, socket, eventfd, fopen, popen, mkstemp, signalfd, inotify, ...),
 * and what it made without such a call (inside its libc, by a raw system call) while MPI_Init
 * ran is found by comparing the table before and after (pml_fd_lower_started). Revive's own code
 * (the agent, libcr, a capture) marks what it makes through the same wrappers (halves_hooks.c).
 * Anything else appeared while the application ran, whatever its kind, even made by a raw
 * system call or by its libc on its behalf: it is the application's, restored or refused by
 * name, never left out unseen. (Until then an unmarked socket, eventfd, epoll or timerfd was
 * taken for the library's by its type, and a raw syscall's socketpair was silently lost.) Not
 * seen: a raw system call of another application thread while MPI_Init runs (taken for the
 * library's), and one of the library after MPI_Init outside its libc's exported calls (taken for
 * the application's: refused by name when it cannot be restored). */
static uint64_t fd_lower_ino[PML_FD_TRACK]; /* non-zero: opened by the lower half (its inode | 1) */
static uint8_t fd_lower_why[PML_FD_TRACK];  /* PML_FD_BY_... */
static uint64_t fd_before[PML_FD_TRACK / 64]; /* open just before the lower half started */
static uint64_t fd_upper_ino[PML_FD_TRACK]; /* non-zero: opened by the application (halves_hooks.c) */
static int fd_upper_top;                    /* above the highest fd ever marked upper */

static uint64_t ino_key(const struct stat *st)
{
    return ((uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 40)) | 1;
}

/* What a mark of the object at fd holds: its inode; but every eventfd, epoll, timerfd and
 * signalfd shares one anonymous inode, so for those only the kind is known. Marks are kept
 * right by number (the application's close and dup calls, halves_hooks.c; the lower half's
 * opens and closes, lower_root.c); the key guards against a number reused unseen. */
static uint64_t fd_key(int fd, const struct stat *st)
{
    char tgt[64];
    if (S_ISSOCK(st->st_mode) || pml_fd_target(fd, tgt, sizeof tgt) < 0 || strncmp(tgt, "anon_inode:", 11))
        return ino_key(st);
    uint64_t h = 1469598103934665603ull;
    for (const char *c = tgt; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h | 1;
}

void pml_fd_mark_by(int fd, int by, int open)
{
    struct stat st;
    if (fd < 0 || fd >= PML_FD_TRACK)
        return;
    int ok = open && fstat(fd, &st) == 0;
    fd_lower_ino[fd] = ok ? ino_key(&st) : 0;
    fd_lower_why[fd] = (uint8_t)by;
    fd_upper_ino[fd] = 0; /* the number is the library's (or Revive's) now */
    /* The library's descriptors close at an exec: a command the application runs (popen, system:
     * glibc spawns them without fork handlers) inherited them, and a snapshot that took that
     * command along with its rank (children.c) held the library's listening socket in its image;
     * the restart bound that port again and met the fresh library holding it ("another process
     * holds that address", rank_alone-ompi in CI). No rank execs itself, and no library hands a
     * descriptor on to a command it runs. */
    int fl;
    if (ok && (by == PML_FD_BY_LIBRARY || by == PML_FD_BY_START) &&
        (fl = fcntl(fd, F_GETFD)) >= 0 && !(fl & FD_CLOEXEC))
        fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

void pml_fd_mark(int fd, int half, int open)
{
    struct stat st;
    if (fd < 0 || fd >= PML_FD_TRACK)
        return;
    if (half == PML_HALF_LOWER) {
        pml_fd_mark_by(fd, PML_FD_BY_LIBRARY, open);
    } else {
        int ok = open && fstat(fd, &st) == 0;
        fd_lower_ino[fd] = 0; /* the number is the application's now */
        fd_upper_ino[fd] = ok ? fd_key(fd, &st) : 0;
        /* raised by any thread making a descriptor: a maximum no racing thread may lower */
        int top = __atomic_load_n(&fd_upper_top, __ATOMIC_RELAXED);
        while (fd_upper_ino[fd] && fd >= top &&
               !__atomic_compare_exchange_n(&fd_upper_top, &top, fd + 1, 0, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
            ;
    }
}

void pml_fd_upper_dup(int from, int to)
{
    struct stat st;
    if (to < 0 || to >= PML_FD_TRACK)
        return;
    if (from >= 0 && from < PML_FD_TRACK && fd_lower_ino[from] && fstat(from, &st) == 0 &&
        fd_lower_ino[from] == ino_key(&st)) {
        /* a copy of the library's, the launcher's or Revive's (libcr moves its socket up with
         * F_DUPFD) is theirs too */
        pml_fd_mark_by(to, fd_lower_why[from], 1);
        return;
    }
    int marked = from >= 0 && from < fd_upper_top && fd_upper_ino[from] && fstat(from, &st) == 0 &&
                 fd_key(from, &st) == fd_upper_ino[from];
    pml_fd_mark(to, PML_HALF_UPPER, marked);
}

/* the checkpoint thread's id while it captures: the hook sets it before the other threads are
 * parked, and what they make meanwhile is still theirs */
static pid_t capturing_tid;

void pml_halves_capturing(int on)
{
    __atomic_store_n(&capturing_tid, on ? (pid_t)syscall(SYS_gettid) : 0, __ATOMIC_RELEASE);
}

int pml_halves_is_capturing(void)
{
    pid_t t = __atomic_load_n(&capturing_tid, __ATOMIC_ACQUIRE);
    return t && t == (pid_t)syscall(SYS_gettid);
}

void pml_fd_upper_prune(void)
{
    struct stat st;
    for (int fd = 0; fd < fd_upper_top; fd++)
        if (fd_upper_ino[fd] && (fstat(fd, &st) != 0 || fd_key(fd, &st) != fd_upper_ino[fd]))
            fd_upper_ino[fd] = 0;
}

void pml_fd_lower_forget(void)
{
    memset(fd_lower_ino, 0, sizeof fd_lower_ino);
}

int pml_fd_lower_release(void)
{
    struct stat st;
    int null = -1, n = 0;
    for (int fd = 0; fd < PML_FD_TRACK; fd++) {
        if (!fd_lower_ino[fd] || fstat(fd, &st) != 0 || ino_key(&st) != fd_lower_ino[fd])
            continue;
        /* the library's; and a listening socket the launcher left in the rank (restart.c) */
        int on = 0;
        socklen_t ol = sizeof on;
        if (fd_lower_why[fd] != PML_FD_BY_LIBRARY && fd_lower_why[fd] != PML_FD_BY_START &&
            !(fd_lower_why[fd] == PML_FD_BY_LAUNCHER && S_ISSOCK(st.st_mode) &&
              getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on))
            continue;
        if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
            return -errno;
        if (dup3(null, fd, O_CLOEXEC) == fd) {
            pml_fd_mark_by(fd, fd_lower_why[fd], 1); /* still the library's number: no image holds it */
            n++;
        }
    }
    if (null >= 0) {
        if (null < PML_FD_TRACK)
            fd_lower_ino[null] = 0; /* (if it was marked: a number closed since) */
        close(null);
    }
    return n;
}

static long note_before(long n, int dirfd, void *arg)
{
    (void)arg;
    if (n != dirfd && n < PML_FD_TRACK)
        fd_before[n / 64] |= 1ull << (n % 64);
    return 0;
}

static int fd_lower_running; /* MPI_Init returned: pml_fd_lower_started .. the next starting */

int pml_fd_lower_ran(void)
{
    return __atomic_load_n(&fd_lower_running, __ATOMIC_RELAXED);
}

void pml_fd_lower_starting(void)
{
    __atomic_store_n(&fd_lower_running, 0, __ATOMIC_RELAXED);
    memset(fd_before, 0, sizeof fd_before);
    revive_proc_for_each_number("/proc/self/fd", note_before, NULL);
}

static long mark_started(long n, int dirfd, void *arg)
{
    struct stat st;
    (void)arg;
    if (n == dirfd || n >= PML_FD_TRACK || (fd_before[n / 64] & (1ull << (n % 64))) || fstat((int)n, &st))
        return 0;
    if (fd_lower_ino[n] == ino_key(&st) ||
        (n < fd_upper_top && fd_upper_ino[n] && fd_upper_ino[n] == fd_key((int)n, &st)))
        return 0; /* its maker said whose it is */
    pml_fd_mark_by((int)n, PML_FD_BY_START, 1);
    return 0;
}

void pml_fd_lower_started(void)
{
    revive_proc_for_each_number("/proc/self/fd", mark_started, NULL);
    __atomic_store_n(&fd_lower_running, 1, __ATOMIC_RELAXED);
}

void pml_fd_upper_renew(void)
{
    struct stat st;
    for (int fd = 0; fd < fd_upper_top; fd++)
        if (fd_upper_ino[fd])
            fd_upper_ino[fd] = fstat(fd, &st) == 0 ? fd_key(fd, &st) : 0;
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

int pml_fd_target(int fd, char *out, size_t cap)
{
    char p[40] = "/proc/self/fd/";
    put_num(p + strlen(p), fd);
    ssize_t n = readlink(p, out, cap - 1);
    if (n < 0)
        return -1;
    out[n] = 0;
    return 0;
}

/* The half of a descriptor neither half's marks claim, by what it is and its name. */
static int fd_half_by_name(int fd, const struct stat *st, const char **why)
{
    char tgt[512];
    if (pml_fd_target(fd, tgt, sizeof tgt) < 0)
        tgt[0] = 0;
    if (starts(tgt, "/dev/infiniband/") || starts(tgt, "/dev/knem") ||
        starts(tgt, "/dev/xpmem") || starts(tgt, "/dev/cxi") || starts(tgt, "/dev/hfi"))
        return *why = "RDMA or shared-memory device", PML_HALF_LOWER;
    if (strstr(tgt, "/ompi.") || strstr(tgt, "/openmpi-sessions") || strstr(tgt, "/pmix-") ||
        strstr(tgt, "/pmix.") || strstr(tgt, "/mpich_"))
        return *why = "file in an MPI session directory", PML_HALF_LOWER;
    if (S_ISSOCK(st->st_mode) || starts(tgt, "anon_inode:"))
        *why = "socket or kernel object that appeared while the application ran (no MPI library call made it)";
    else if (S_ISFIFO(st->st_mode))
        *why = "pipe";
    else if (S_ISCHR(st->st_mode))
        *why = "terminal or character device";
    else if (S_ISDIR(st->st_mode))
        *why = "directory";
    else if (starts(tgt, "/memfd:"))
        *why = "memfd";
    else if (S_ISREG(st->st_mode))
        *why = "regular file";
    else
        *why = "other descriptor kind an application owns";
    return PML_HALF_UPPER;
}

/* The marks first: the name (a readlink of /proc/self/fd/N) only where they do not decide. */
int pml_half_of_fd(int fd, const char **why)
{
    struct stat st;
    const char *w;
    int h;
    if (fstat(fd, &st) < 0) {
        if (why)
            *why = "not open";
        return -1;
    }
    if (fd >= 0 && fd < PML_FD_TRACK && fd_lower_ino[fd] == ino_key(&st)) {
        h = PML_HALF_LOWER;
        w = fd_lower_why[fd] == PML_FD_BY_REVIVE   ? "made by Revive's own code (agent, libcr, capture)"
          : fd_lower_why[fd] == PML_FD_BY_START    ? "appeared while the MPI library started (MPI_Init)"
          : fd_lower_why[fd] == PML_FD_BY_LAUNCHER ? "the launcher's (open when the rank started)"
                                                   : "opened by the MPI library";
    } else if (fd >= 0 && fd < fd_upper_top && fd_upper_ino[fd] && fd_upper_ino[fd] == fd_key(fd, &st)) {
        h = PML_HALF_UPPER, w = "made by the application (upper shm_open, socket, eventfd, epoll, timerfd, or a dup)";
    } else {
        h = fd_half_by_name(fd, &st, &w);
    }
    if (why)
        *why = w;
    return h;
}

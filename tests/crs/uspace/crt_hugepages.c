/*
 * State test: huge pages and madvise advice (issue 10, point 8).
 *   With CRT_HUGETLB=1 (the harness reserves huge pages: root only):
 *     hp    4 MiB private MAP_HUGETLB memory (2 MiB pages) with a pattern
 *     hs    2 MiB shared MAP_HUGETLB memory with a pattern
 *   With CRT_HUGETLBFS=DIR (a hugetlbfs mount with 2 MiB pages) also:
 *     fs    DIR/crt-hshared (2 MiB) mapped shared
 *     fp    DIR/crt-hpriv (4 MiB) mapped private, its first 2 MiB written
 *     gone  DIR/crt-hgone.PID (2 MiB) mapped shared and held open, deleted
 *     mfd   a memfd on 2 MiB pages (MFD_HUGETLB) mapped shared and held open
 *     (the named files are made by the first run and only read after: the
 *     image of every later run refers to them unchanged)
 *   Always, in one 8 MiB anonymous area:
 *     2 MiB MADV_HUGEPAGE, 2 MiB MADV_NOHUGEPAGE, a page each of
 *     MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK, MADV_RANDOM,
 *     MADV_SEQUENTIAL, with a pattern in each;
 *   and prctl(PR_SET_THP_DISABLE) when CRT_THP_DISABLE=1.
 * After each point: contents, page sizes (KernelPageSize in smaps) and advice
 * (VmFlags) as before, and their effects: a forked child has no DONTFORK page
 * and a zeroed WIPEONFORK page. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4u
#endif
#define HUGETLBFS_MAGIC_ 0x958458f6

#define MB (1u << 20)
#define PG 4096u

static unsigned char *hp, *hs, *area, *fs, *fp, *gone, *mfd;
static int hugetlb, thp_off, gone_fd = -1, mfd_fd = -1;
static const char *hfs;

/* DIR/name made once (O_EXCL) with `len` bytes of pattern seed, written
 * through a shared mapping (hugetlbfs takes no write(2)); an open fd. */
static int hfs_file(const char *name, size_t len, uint64_t seed, int keep_name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", hfs, name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && keep_name)
        return open(path, O_RDWR | O_CLOEXEC);   /* an earlier run made it, with the same bytes */
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
        crt_die("%s on hugetlbfs: %s", path, strerror(errno));
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        crt_die("mmap %s: %s (are huge pages reserved?)", path, strerror(errno));
    crt_fill(p, len, seed);
    munmap(p, len);
    if (!keep_name)
        unlink(path);
    return fd;
}

static void *map_fd(int fd, size_t len, int flags)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (p == MAP_FAILED)
        crt_die("mmap on huge pages: %s (are huge pages reserved?)", strerror(errno));
    return p;
}

static int on_hugetlbfs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == HUGETLBFS_MAGIC_ && sf.f_bsize == 2 * MB;
}

/* KernelPageSize (KiB) and VmFlags of the mapping holding addr. */
static int smaps_of(const void *addr, long *kps, char *flags, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[256];
    int in = 0, found = 0;
    unsigned long lo, hi;
    *kps = 0;
    flags[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') && line[strspn(line, "0123456789abcdef")] == '-') {
            in = (unsigned long)addr >= lo && (unsigned long)addr < hi;
            found |= in;
        } else if (in && !strncmp(line, "KernelPageSize:", 15)) {
            *kps = strtol(line + 15, NULL, 10);
        } else if (in && !strncmp(line, "VmFlags:", 8)) {
            snprintf(flags, cap, "%.200s", line + 8);
        }
    }
    if (f)
        fclose(f);
    return found;
}

static int has_flag(const char *flags, const char *code)
{
    char pat[8];
    snprintf(pat, sizeof pat, " %s", code);
    const char *p = flags;
    while ((p = strstr(p, pat)) != NULL) {
        if (p[3] == ' ' || p[3] == '\n' || !p[3])
            return 1;
        p++;
    }
    return 0;
}

static const struct { size_t off, len; int advice; const char *code; } advised[] = {
    { 0, 2 * MB, MADV_HUGEPAGE, "hg" },    { 2 * MB, 2 * MB, MADV_NOHUGEPAGE, "nh" },
    { 4 * MB, PG, MADV_DONTFORK, "dc" },   { 5 * MB, PG, MADV_DONTDUMP, "dd" },
    { 6 * MB, PG, MADV_WIPEONFORK, "wf" }, { 7 * MB, PG, MADV_RANDOM, "rr" },
    { 7 * MB + 2 * PG, PG, MADV_SEQUENTIAL, "sr" },
};

static void setup(void)
{
    if (hugetlb) {
        hp = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        hs = mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (hp == MAP_FAILED || hs == MAP_FAILED)
            crt_die("MAP_HUGETLB: %s (are huge pages reserved?)", strerror(errno));
        crt_fill(hp, 4 * MB, 1);
        crt_fill(hs, 2 * MB, 2);
    }
    if (hfs) {
        char name[64];
        int fd = hfs_file("crt-hshared", 2 * MB, 3, 1);
        fs = map_fd(fd, 2 * MB, MAP_SHARED);
        close(fd);
        fd = hfs_file("crt-hpriv", 4 * MB, 4, 1);
        fp = map_fd(fd, 4 * MB, MAP_PRIVATE);
        close(fd);
        crt_fill(fp, 2 * MB, 5);
        snprintf(name, sizeof name, "crt-hgone.%d", (int)getpid());
        gone_fd = hfs_file(name, 2 * MB, 6, 0);
        gone = map_fd(gone_fd, 2 * MB, MAP_SHARED);
        mfd_fd = memfd_create("crt-huge", MFD_CLOEXEC | MFD_HUGETLB);
        if (mfd_fd < 0 || ftruncate(mfd_fd, 2 * MB) != 0)
            crt_die("memfd_create(MFD_HUGETLB): %s", strerror(errno));
        mfd = map_fd(mfd_fd, 2 * MB, MAP_SHARED);
        crt_fill(mfd, 2 * MB, 7);
    }
    area = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    for (size_t i = 0; i < sizeof advised / sizeof advised[0]; i++) {
        if (madvise(area + advised[i].off, advised[i].len, advised[i].advice) != 0)
            crt_die("madvise %d: %s", advised[i].advice, strerror(errno));
        crt_fill(area + advised[i].off, PG, 10 + i);
    }
    if (thp_off && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
        crt_die("PR_SET_THP_DISABLE: %s", strerror(errno));
}

static void check(const char *when)
{
    char name[160], flags[256];
    long kps;
    unsigned char want[PG];
#define CHECK(what, cond, ...)                             \
    do {                                                   \
        snprintf(name, sizeof name, "%s %s", what, when); \
        crt_check(name, cond, __VA_ARGS__);                \
    } while (0)
    if (hugetlb) {
        unsigned char *w = malloc(4 * MB);
        crt_fill(w, 4 * MB, 1);
        smaps_of(hp, &kps, flags, sizeof flags);
        CHECK("private MAP_HUGETLB: its bytes, on 2 MiB pages", !memcmp(hp, w, 4 * MB) && kps == 2048, "%ld KiB pages",
              kps);
        crt_fill(w, 2 * MB, 2);
        smaps_of(hs, &kps, flags, sizeof flags);
        CHECK("shared MAP_HUGETLB: its bytes, on 2 MiB pages", !memcmp(hs, w, 2 * MB) && kps == 2048, "%ld KiB pages",
              kps);
        free(w);
    } else {
        crt_say("no MAP_HUGETLB memory (CRT_HUGETLB unset)");
    }
    if (hfs) {
        unsigned char *w = malloc(4 * MB), b[PG];
        struct stat st;
        crt_fill(w, 2 * MB, 3);
        smaps_of(fs, &kps, flags, sizeof flags);
        CHECK("hugetlbfs file mapped shared: its bytes, on 2 MiB pages", !memcmp(fs, w, 2 * MB) && kps == 2048,
              "%ld KiB pages", kps);
        crt_fill(w, 4 * MB, 4);
        crt_fill(w, 2 * MB, 5);
        smaps_of(fp, &kps, flags, sizeof flags);
        CHECK("hugetlbfs file mapped private: written and unwritten bytes, on 2 MiB pages",
              !memcmp(fp, w, 4 * MB) && kps == 2048, "%ld KiB pages", kps);
        crt_fill(w, 2 * MB, 6);
        smaps_of(gone, &kps, flags, sizeof flags);
        CHECK("deleted hugetlbfs file: its bytes, on 2 MiB pages", !memcmp(gone, w, 2 * MB) && kps == 2048,
              "%ld KiB pages", kps);
        gone[100]++;
        CHECK("deleted hugetlbfs file: its descriptor on hugetlbfs, the same file as the mapping",
              on_hugetlbfs(gone_fd) && pread(gone_fd, b, PG, 0) == PG && b[100] == gone[100], "fstatfs %d",
              on_hugetlbfs(gone_fd));
        gone[100]--;
        crt_fill(w, 2 * MB, 7);
        smaps_of(mfd, &kps, flags, sizeof flags);
        CHECK("MFD_HUGETLB memfd: its bytes, on 2 MiB pages", !memcmp(mfd, w, 2 * MB) && kps == 2048,
              "%ld KiB pages", kps);
        mfd[7]++;
        CHECK("MFD_HUGETLB memfd: its descriptor on hugetlbfs, 2 MiB, the same file as the mapping",
              on_hugetlbfs(mfd_fd) && fstat(mfd_fd, &st) == 0 && st.st_size == 2 * MB &&
                  pread(mfd_fd, b, PG, 0) == PG && b[7] == mfd[7],
              "fstatfs %d", on_hugetlbfs(mfd_fd));
        mfd[7]--;
        free(w);
    } else {
        crt_say("no hugetlbfs files (CRT_HUGETLBFS unset)");
    }
    for (size_t i = 0; i < sizeof advised / sizeof advised[0]; i++) {
        smaps_of(area + advised[i].off, &kps, flags, sizeof flags);
        crt_fill(want, PG, 10 + i);
        snprintf(name, sizeof name, "madvise %s: kept, bytes as they were %s", advised[i].code, when);
        crt_check(name, has_flag(flags, advised[i].code) && !memcmp(area + advised[i].off, want, PG),
                  "VmFlags:%s", flags);
    }
    int st = 0;
    pid_t p = fork();
    if (p == 0) {
        /* the child: no DONTFORK page (SIGSEGV), a zeroed WIPEONFORK page */
        if (!crt_is_zero(area + 6 * MB, PG))
            _exit(3);
        volatile unsigned char c = area[4 * MB];
        (void)c;
        _exit(0);
    }
    waitpid(p, &st, 0);
    CHECK("a child has no DONTFORK page and a zeroed WIPEONFORK one", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
          "status 0x%x", st);
    CHECK("PR_SET_THP_DISABLE as set", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == thp_off, "%d",
          prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
#undef CHECK
}

int main(void)
{
    hugetlb = crt_env_long("CRT_HUGETLB", 0) != 0;
    thp_off = crt_env_long("CRT_THP_DISABLE", 0) != 0;
    hfs = getenv("CRT_HUGETLBFS");
    if (hfs && !*hfs)
        hfs = NULL;
    setup();
    crt_say("huge pages and advice set up");
    crt_check_around_points(check);
}

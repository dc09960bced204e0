/* The allocation-free /proc readers: numbers, paths, small files, status and stat fields,
 * maps line by line (against an independent reading of the same text, through a buffer
 * smaller than the file, with a line longer than the buffer, names with spaces, newlines and
 * " (deleted)"), smaps' lines (its maps lines the maps file's), numbered directories, which other
 * process holds a pipe, and NSpid in a pid namespace of our own. */
#define _GNU_SOURCE
#include "common/procfs.h"
#include "common_test.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

const char ct_no_malloc_what[] = "a /proc reader";

static void test_numbers(void)
{
    const char *s = "1234 x";
    uint64_t u;
    int64_t i;
    ASSERT_EQ(revive_parse_u64(&s, &u), 0);
    ASSERT_EQ(u, 1234);
    ASSERT_STREQ(s, " x");
    ASSERT_EQ(revive_parse_u64(&s, &u), -EINVAL); /* no digit: stays */
    ASSERT_STREQ(s, " x");
    s = "18446744073709551615";
    ASSERT_EQ(revive_parse_u64(&s, &u), 0);
    ASSERT_TRUE(u == UINT64_MAX && !*s);
    s = "18446744073709551616,";
    ASSERT_EQ(revive_parse_u64(&s, &u), -ERANGE);
    ASSERT_STREQ(s, ",");
    s = "7fffDEADbeef-";
    ASSERT_EQ(revive_parse_x64(&s, &u), 0);
    ASSERT_TRUE(u == 0x7fffdeadbeefull && *s == '-');
    s = "ffffffffffffffff0";
    ASSERT_EQ(revive_parse_x64(&s, &u), -ERANGE);
    s = "g";
    ASSERT_EQ(revive_parse_x64(&s, &u), -EINVAL);
    s = "-9223372036854775808";
    ASSERT_EQ(revive_parse_i64(&s, &i), 0);
    ASSERT_TRUE(i == INT64_MIN);
    s = "-9223372036854775809";
    ASSERT_EQ(revive_parse_i64(&s, &i), -ERANGE);
    s = "9223372036854775808";
    ASSERT_EQ(revive_parse_i64(&s, &i), -ERANGE);
    s = "-";
    ASSERT_EQ(revive_parse_i64(&s, &i), -EINVAL);
    s = "-17 ";
    ASSERT_EQ(revive_parse_i64(&s, &i), 0);
    ASSERT_TRUE(i == -17 && *s == ' ');
}

static void test_paths_and_files(const char *dir)
{
    char p[64];
    ASSERT_EQ(revive_proc_path(p, sizeof p, 0, 0, "maps"), 15);
    ASSERT_STREQ(p, "/proc/self/maps");
    revive_proc_path(p, sizeof p, 123, 0, NULL);
    ASSERT_STREQ(p, "/proc/123");
    revive_proc_path(p, sizeof p, 0, 4567, "status");
    ASSERT_STREQ(p, "/proc/self/task/4567/status");
    ASSERT_EQ(revive_proc_path(p, 10, 0, 0, "maps"), -ENAMETOOLONG);

    char path[4096], buf[16];
    snprintf(path, sizeof path, "%s/small", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_EQ(write(fd, "0123456789abcde", 15), 15); /* exactly cap - 1 */
    close(fd);
    ASSERT_EQ(revive_read_file(path, buf, 16), 15);
    ASSERT_STREQ(buf, "0123456789abcde");
    ASSERT_EQ(revive_read_file(path, buf, 15), -ENOSPC);
    ASSERT_STREQ(buf, "0123456789abcd");
    snprintf(path, sizeof path, "%s/missing", dir);
    ASSERT_EQ(revive_read_file(path, buf, sizeof buf), -ENOENT);
    ASSERT_EQ(revive_proc_self_pid(), getpid());
}

static void test_stat(void)
{
    /* a command name with spaces and parentheses */
    const char *t = "42 (a) b) (c) S 7 8 -2 18446744073709551615\n";
    uint64_t v;
    ASSERT_EQ(revive_stat_state(t), 'S');
    ASSERT_EQ(revive_stat_field(t, 4, &v), 0);
    ASSERT_EQ(v, 7);
    ASSERT_EQ(revive_stat_field(t, 6, &v), 0);
    ASSERT_TRUE((int64_t)v == -2);
    ASSERT_EQ(revive_stat_field(t, 7, &v), 0);
    ASSERT_TRUE(v == UINT64_MAX);
    ASSERT_EQ(revive_stat_field(t, 8, &v), -EINVAL);
    ASSERT_EQ(revive_stat_state("garbage"), 0);

    static char buf[4096];
    ct_no_malloc = 1;
    ASSERT_TRUE(revive_proc_read(0, 0, "stat", buf, sizeof buf) > 0);
    ct_no_malloc = 0;
    ASSERT_EQ(revive_stat_state(buf), 'R');
    ASSERT_EQ(revive_stat_field(buf, 4, &v), 0);
    ASSERT_EQ(v, getppid());
    ASSERT_EQ(revive_stat_field(buf, 5, &v), 0);
    ASSERT_EQ(v, getpgrp());
    ASSERT_EQ(revive_stat_field(buf, 20, &v), 0); /* num_threads */
    ASSERT_EQ(v, 1);
}

/* A process's state letter and the wait for its stop: this process runs, a stopped child
 * shows T (and the wait returns at once), a zombie Z (the wait says it ended), a reaped one is
 * gone (0). */
static void test_proc_state(void)
{
    ASSERT_EQ(revive_proc_state(0), 'R');
    ASSERT_EQ(revive_proc_state(getpid()), 'R');
    pid_t c = fork();
    ASSERT_TRUE(c >= 0);
    if (c == 0) {
        for (;;)
            pause();
    }
    ASSERT_EQ(kill(c, SIGSTOP), 0);
    ASSERT_EQ(revive_wait_stopped(c, 10000), 0);
    ASSERT_EQ(revive_proc_state(c), 'T');
    ASSERT_EQ(revive_wait_stopped(c, 0), 0);
    ASSERT_EQ(kill(c, SIGKILL), 0);
    siginfo_t si;
    ASSERT_EQ(waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT), 0); /* a zombie still */
    ASSERT_EQ(revive_proc_state(c), 'Z');
    ASSERT_EQ(revive_wait_stopped(c, 1000), -ESRCH);
    ASSERT_EQ(waitpid(c, NULL, 0), c);
    ASSERT_EQ(revive_proc_state(c), 0);
    ASSERT_EQ(revive_wait_stopped(c, 1000), -ESRCH);
}

static void test_status(void)
{
    const char *t = "Name:\tx\nPPid:\t3\nPid:\t10\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\n"
                    "NSpid:\t10\t1\nSigPnd:\t0000000000000200\nShdPnd:\t8000000000000000\n";
    uint64_t v;
    int64_t ids[4];
    ASSERT_EQ(revive_status_u64(t, "Pid", &v), 0);
    ASSERT_EQ(v, 10); /* not PPid's or TracerPid's */
    ASSERT_EQ(revive_status_u64(t, "PPid", &v), 0);
    ASSERT_EQ(v, 3);
    ASSERT_EQ(revive_status_x64(t, "SigPnd", &v), 0);
    ASSERT_EQ(v, 0x200);
    ASSERT_EQ(revive_status_x64(t, "ShdPnd", &v), 0);
    ASSERT_TRUE(v == 0x8000000000000000ull);
    ASSERT_EQ(revive_status_ids(t, "NSpid", ids, 4), 2);
    ASSERT_TRUE(ids[0] == 10 && ids[1] == 1);
    ASSERT_EQ(revive_status_ids(t, "Uid", ids, 2), 4); /* counts all, stores 2 */
    ASSERT_TRUE(ids[0] == 1000 && ids[1] == 1001);
    ASSERT_EQ(revive_status_u64(t, "Tgid", &v), -ENOENT);
    ASSERT_EQ(revive_status_u64(t, "Name", &v), -EINVAL);
    ASSERT_TRUE(revive_status_find(t, "Nam") == NULL);

    /* the real thing: blocked and pending signals of the thread and the process */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, NULL);
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
    kill(getpid(), SIGUSR2);
    static char buf[8192];
    ct_no_malloc = 1;
    ASSERT_TRUE(revive_proc_read(0, (pid_t)syscall(SYS_gettid), "status", buf, sizeof buf) > 0);
    ct_no_malloc = 0;
    ASSERT_EQ(revive_status_u64(buf, "Tgid", &v), 0);
    ASSERT_EQ(v, getpid());
    ASSERT_EQ(revive_status_x64(buf, "SigBlk", &v), 0);
    ASSERT_EQ(v & (1u << (SIGUSR1 - 1) | 1u << (SIGUSR2 - 1)), 1u << (SIGUSR1 - 1) | 1u << (SIGUSR2 - 1));
    ASSERT_EQ(revive_status_x64(buf, "SigPnd", &v), 0);
    ASSERT_EQ(v, 1u << (SIGUSR1 - 1));
    ASSERT_EQ(revive_status_x64(buf, "ShdPnd", &v), 0);
    ASSERT_EQ(v, 1u << (SIGUSR2 - 1));
    ASSERT_EQ(revive_status_ids(buf, "NSpid", ids, 4) >= 1, 1);
    ASSERT_EQ(revive_status_ids(buf, "Uid", ids, 4), 4);
    ASSERT_EQ(ids[0], getuid());
    struct timespec zero = { 0, 0 };
    sigtimedwait(&s, NULL, &zero);
    sigtimedwait(&s, NULL, &zero);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* ---- maps --------------------------------------------------------------------------------- */

#define MAXE 4096
struct saved { struct revive_maps_entry e; char name[4200]; };
static struct saved got[MAXE];
static char text[1 << 20];

/* The maps text as read with read(2) and split with sscanf: an independent reading. */
static int independent(const char *t, struct saved *out, int max)
{
    int n = 0;
    for (const char *line = t; *line && n < max; n++) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char l[8192];
        memcpy(l, line, len);
        l[len] = 0;
        unsigned long long start, end, off, ino;
        unsigned maj, min;
        char perms[5];
        int pos = 0;
        if (sscanf(l, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj, &min, &ino, &pos) != 7)
            FAILF("cannot split the maps line \"%s\"", l);
        const char *name = l + pos;
        while (*name == ' ')
            name++;
        struct saved *s = &out[n];
        memset(s, 0, sizeof *s);
        s->e.start = start;
        s->e.end = end;
        s->e.offset = off;
        s->e.dev = makedev(maj, min);
        s->e.inode = ino;
        memcpy(s->e.perms, perms, 5);
        snprintf(s->name, sizeof s->name, "%s", name);
        line = nl ? nl + 1 : line + len;
    }
    return n;
}

/* Reads our maps with a buf of cap bytes into got[]; returns the count. */
static int read_maps(pid_t pid, char *buf, size_t cap)
{
    struct revive_maps_reader r;
    struct revive_maps_entry e;
    int n = 0, k;
    ct_no_malloc = 1;
    ASSERT_EQ(revive_maps_open(&r, pid, 0, buf, cap), 0);
    while ((k = revive_maps_next(&r, &e)) == 1 && n < MAXE) {
        got[n].e = e;
        size_t l = strlen(e.name);
        if (l >= sizeof got[n].name)
            l = sizeof got[n].name - 1;
        memcpy(got[n].name, e.name, l);
        got[n].name[l] = 0;
        n++;
    }
    revive_maps_close(&r);
    ct_no_malloc = 0;
    ASSERT_EQ(k, 0);
    return n;
}

static struct saved want[MAXE];

/* Reads the maps twice (raw text, then the reader) with nothing mapped in between, and
 * compares; names of lines the reader had to cut must be the beginning of the real ones. */
static int compare_maps(size_t cap, const char *must_cut)
{
    static char buf[1 << 16];
    ct_no_malloc = 1;
    long len = revive_read_file("/proc/self/maps", text, sizeof text);
    int n = read_maps(0, buf, cap);
    ct_no_malloc = 1;
    ASSERT_TRUE(len > 0);
    ct_no_malloc = 0;
    int m = independent(text, want, MAXE);
    ASSERT_EQ(n, m);
    int cut = 0;
    for (int i = 0; i < n; i++) {
        struct revive_maps_entry *a = &got[i].e, *b = &want[i].e;
        if (a->start != b->start || a->end != b->end || a->offset != b->offset || a->dev != b->dev ||
            a->inode != b->inode || strcmp(a->perms, b->perms))
            FAILF("line %d: reader %" PRIx64 "-%" PRIx64 " %s %" PRIx64 " dev %" PRIx64 " ino %" PRIu64
                  ", sscanf %" PRIx64 "-%" PRIx64 " %s %" PRIx64 " dev %" PRIx64 " ino %" PRIu64,
                  i, a->start, a->end, a->perms, a->offset, a->dev, a->inode, b->start, b->end, b->perms,
                  b->offset, b->dev, b->inode);
        int prot = (b->perms[0] == 'r' ? PROT_READ : 0) | (b->perms[1] == 'w' ? PROT_WRITE : 0) |
                   (b->perms[2] == 'x' ? PROT_EXEC : 0);
        ASSERT_EQ(a->prot, prot);
        ASSERT_EQ(a->shared, b->perms[3] == 's');
        if (a->name_cut) {
            cut++;
            if (strncmp(want[i].name, got[i].name, strlen(got[i].name)) || strlen(got[i].name) >= strlen(want[i].name))
                FAILF("line %d: cut name \"%s\" is not the beginning of \"%s\"", i, got[i].name, want[i].name);
            if (must_cut && strcmp(want[i].name, must_cut))
                FAILF("line %d: \"%s\" was cut, expected only \"%s\"", i, want[i].name, must_cut);
        } else if (strcmp(got[i].name, want[i].name)) {
            FAILF("line %d: name \"%s\", expected \"%s\"", i, got[i].name, want[i].name);
        }
    }
    return cut;
}

static const struct saved *find(int n, const void *addr)
{
    for (int i = 0; i < n; i++)
        if (got[i].e.start == (uint64_t)(uintptr_t)addr)
            return &got[i];
    FAILF("no maps line starts at %p", addr);
}

static const struct saved *holding(int n, const void *addr)
{
    for (int i = 0; i < n; i++)
        if (got[i].e.start <= (uint64_t)(uintptr_t)addr && (uint64_t)(uintptr_t)addr < got[i].e.end)
            return &got[i];
    FAILF("no maps line holds %p", addr);
}

static void test_maps(const char *dir)
{
    static char buf[4096 + 256];
    ASSERT_EQ(compare_maps(sizeof buf, NULL), 0);
    /* a buffer far smaller than the file: many refills */
    ASSERT_EQ(compare_maps(REVIVE_MAPS_MIN_BUF, NULL), 0);
    struct revive_maps_reader r;
    ASSERT_EQ(revive_maps_open(&r, 0, 0, buf, REVIVE_MAPS_MIN_BUF - 1), -EINVAL);

    /* a file whose name has spaces, a newline and more than 300 bytes, mapped, then removed */
    char sub[1024], path[2048], want_name[2048];
    snprintf(sub, sizeof sub, "%s/%0200d", dir, 0);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/a name with  spaces\nand a newline %0150d", sub, 0);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(ftruncate(fd, 8192), 0);
    void *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 4096);
    ASSERT_TRUE(p != MAP_FAILED);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    ASSERT_EQ(unlink(path), 0);
    snprintf(want_name, sizeof want_name, "%s/a name with  spaces\\012and a newline %0150d (deleted)", sub, 0);

    int n = read_maps(0, buf, sizeof buf);
    const struct saved *s = find(n, p);
    ASSERT_STREQ(s->name, want_name);
    ASSERT_EQ(s->e.name_cut, 0);
    ASSERT_EQ(s->e.offset, 4096);
    ASSERT_EQ(s->e.inode, st.st_ino);
    ASSERT_TRUE(s->e.dev == st.st_dev);
    ASSERT_STREQ(s->e.perms, "r--s");
    ASSERT_TRUE(s->e.prot == PROT_READ && s->e.shared);
    ASSERT_EQ(compare_maps(sizeof buf, NULL), 0);

    /* the same line longer than the buffer: its beginning, then the next lines as usual */
    ASSERT_EQ(compare_maps(REVIVE_MAPS_MIN_BUF, NULL), 1);
    ASSERT_EQ(compare_maps(300, NULL), 1);
    n = read_maps(0, buf, REVIVE_MAPS_MIN_BUF);
    s = find(n, p);
    ASSERT_EQ(s->e.name_cut, 1);
    ASSERT_EQ(s->e.offset, 4096);
    munmap(p, 8192);
    rmdir(sub);

    /* an anonymous mapping named with prctl, and the reader of another process */
    void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(q != MAP_FAILED);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    n = read_maps(child, buf, sizeof buf);
    s = find(n, q);
    ASSERT_STREQ(s->name, "");
    ASSERT_STREQ(s->e.perms, "rw-p");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    munmap(q, 4096);
}

/* The one mapping that holds an address (revive_maps_query, PROCMAP_QUERY): as maps says of it,
 * for a shared and a private mapping, an address inside a mapping and one in a hole; -ENOTTY or
 * -EINVAL where the kernel has no such ioctl (before 6.11): said, not failed. Returns 1 when the
 * kernel answered. */
static int test_maps_query(void)
{
    static char buf[4096 + 256];
    uint64_t s, e;
    int sh = -1;
    /* three pages: a shared one between two private ones (three mappings), the last unmapped */
    char *a = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(a != MAP_FAILED);
    ASSERT_TRUE(mmap(a + 4096, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == a + 4096);
    ASSERT_EQ(munmap(a + 3 * 4096, 4096), 0);
    int k = revive_maps_query((uint64_t)(uintptr_t)a + 100, &s, &e, &sh);
    if (k == -ENOTTY || k == -EINVAL) {
        munmap(a, 3 * 4096);
        return 0;
    }
    ASSERT_EQ(k, 0);
    int n = read_maps(0, buf, sizeof buf);
    const struct saved *m = holding(n, a + 100);   /* the kernel may have merged it with a neighbour */
    ASSERT_TRUE(s == m->e.start && e == m->e.end && e == (uint64_t)(uintptr_t)a + 4096 && sh == 0 && !m->e.shared);
    ASSERT_EQ(revive_maps_query((uint64_t)(uintptr_t)a + 4096 + 4095, &s, &e, &sh), 0);
    m = find(n, a + 4096);
    ASSERT_TRUE(s == m->e.start && e == m->e.end && sh == 1 && m->e.shared);
    ASSERT_EQ(revive_maps_query((uint64_t)(uintptr_t)a + 2 * 4096, &s, &e, &sh), 0);
    m = find(n, a + 2 * 4096);
    ASSERT_TRUE(s == m->e.start && e == m->e.end && e == (uint64_t)(uintptr_t)a + 3 * 4096 && sh == 0);
    ASSERT_EQ(revive_maps_query((uint64_t)(uintptr_t)a + 3 * 4096 + 8, &s, &e, &sh), -ENOENT);
    munmap(a, 3 * 4096);
    return 1;
}

/* smaps read line by line: its maps lines are the maps file's (same mappings, fields and names,
 * the one with a newline in its name too), each followed by lines of the mapping's own, the last
 * of them "VmFlags:"; through a small buffer as well (many refills). */
static void test_smaps(const char *dir)
{
    static char buf[4096 + 256];
    char sub[1024], path[2048];
    snprintf(sub, sizeof sub, "%s/smaps", dir);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/with a\nnewline", sub);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(ftruncate(fd, 4096), 0);
    void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    close(fd);
    size_t caps[2] = { sizeof buf, REVIVE_MAPS_MIN_BUF };
    for (int c = 0; c < 2; c++) {
        int n = read_maps(0, buf, sizeof buf);
        struct revive_maps_reader r;
        struct revive_maps_entry e;
        char *line;
        int cut, k, m = 0, own = 0, flags_last = 1;
        ct_no_malloc = 1;
        ASSERT_EQ(revive_smaps_open(&r, 0, 0, buf, caps[c]), 0);
        while ((k = revive_maps_next_line(&r, &line, &cut)) == 1) {
            if (revive_maps_parse_line(line, &e) == 0) {
                if (m >= n || e.start != got[m].e.start || e.end != got[m].e.end || e.inode != got[m].e.inode ||
                    e.offset != got[m].e.offset || strcmp(e.perms, got[m].e.perms) ||
                    (!cut && !got[m].e.name_cut && strcmp(e.name, got[m].name)))
                    FAILF("smaps mapping %d (%s) differs from maps (%d lines)", m, line, n);
                ASSERT_TRUE(flags_last);
                m++;
                flags_last = 0;
            } else {
                ASSERT_TRUE(m > 0);
                own++;
                flags_last = !strncmp(line, "VmFlags:", 8);
            }
        }
        revive_maps_close(&r);
        ct_no_malloc = 0;
        ASSERT_EQ(k, 0);
        ASSERT_EQ(m, n);
        ASSERT_TRUE(flags_last);
        ASSERT_TRUE(own >= 10 * m);
    }
    munmap(p, 4096);
    unlink(path);
    rmdir(sub);
}

/* ---- numbered directories and pid namespaces ------------------------------------------------ */

static long count_number(long n, int dirfd, void *arg)
{
    (void)dirfd;
    long *a = arg;
    a[0]++;
    if (n == a[1])
        a[2] = 1;
    return 0;
}

static long stop_at_first(long n, int dirfd, void *arg)
{
    (void)dirfd;
    (void)arg;
    return n + 1000;
}

static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void test_dirs(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, sleeper, NULL);
    long a[3] = { 0, getpid(), 0 };
    ct_no_malloc = 1;
    ASSERT_EQ(revive_proc_for_each_number("/proc/self/task", count_number, a), 0);
    ct_no_malloc = 0;
    ASSERT_EQ(a[0], 4);
    ASSERT_EQ(a[2], 1);
    long b[3] = { 0, 2, 0 };
    ASSERT_EQ(revive_proc_for_each_number("/proc/self/fd", count_number, b), 0);
    ASSERT_TRUE(b[0] >= 3 && b[2] == 1);
    ASSERT_TRUE(revive_proc_for_each_number("/proc/self/fd", stop_at_first, NULL) >= 1000);
    ASSERT_EQ(revive_proc_for_each_number("/proc/self/nonexistent", count_number, b), -ENOENT);
    for (int i = 0; i < 3; i++)
        pthread_cancel(t[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
}

/* Which other process holds a pipe: a child keeps the read end (at a descriptor number we
 * choose), we keep the write end and are left out as `self`; a link nobody holds gives 0. */
static void test_holder(void)
{
    int p[2], go[2];
    ASSERT_EQ(pipe(p), 0);
    ASSERT_EQ(pipe(go), 0);
    int at = 57;   /* the child's descriptor for the read end */
    pid_t child = fork();
    if (child == 0) {
        if (dup2(p[0], at) != at)
            _exit(1);
        close(p[0]);
        close(p[1]);
        close(go[0]);
        if (write(go[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(p[0]);
    close(go[1]);
    char c;
    ASSERT_EQ(read(go[0], &c, 1), 1);   /* the child holds only its end now */
    close(go[0]);
    struct stat st;
    ASSERT_EQ(fstat(p[1], &st), 0);
    char link[64];
    snprintf(link, sizeof link, "pipe:[%llu]", (unsigned long long)st.st_ino);
    long fd = -1;
    ct_no_malloc = 1;
    pid_t holder = revive_proc_find_holder(link, getpid(), &fd);
    pid_t none = revive_proc_find_holder("pipe:[0]", getpid(), NULL);
    ct_no_malloc = 0;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(p[1]);
    ASSERT_EQ(holder, child);
    ASSERT_EQ(fd, at);
    ASSERT_EQ(none, 0);
}

/* In a pid namespace of its own (with a user namespace when not root), a child is pid 1;
 * /proc, still the outer one, calls it by its outer pid, and NSpid lists both. */
static int test_pid_namespace(void)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t helper = fork();
    if (helper == 0) {
        if (unshare(CLONE_NEWPID) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0)
            _exit(77);
        pid_t inner = fork();
        if (inner == 0) {
            static char buf[8192];
            int64_t ids[4];
            uint64_t tgid;
            ct_no_malloc = 1;
            long len = revive_proc_read(0, 0, "status", buf, sizeof buf);
            pid_t outer = revive_proc_self_pid();
            ct_no_malloc = 0;
            if (len <= 0 || getpid() != 1)
                _exit(1);
            int k = revive_status_ids(buf, "NSpid", ids, 4);
            revive_status_u64(buf, "Tgid", &tgid);
            /* the outer pid comes first, ours last; Tgid is /proc's (outer) view */
            int ok = k == 2 && ids[1] == 1 && ids[0] == outer && outer > 1 && (int64_t)tgid == outer;
            char msg[128];
            int n = snprintf(msg, sizeof msg, "%d %lld %lld %d %llu\n", k, (long long)ids[0], (long long)ids[1],
                             (int)outer, (unsigned long long)tgid);
            if (write(p[1], msg, (size_t)n) < 0)
                _exit(1);
            _exit(ok ? 0 : 1);
        }
        int st;
        waitpid(inner, &st, 0);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
    }
    close(p[1]);
    int st;
    waitpid(helper, &st, 0);
    char msg[128] = "";
    ssize_t n = read(p[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    close(p[0]);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        return 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        FAILF("in a pid namespace: NSpid count, ids, /proc's pid, Tgid: %s", msg);
    return 1;
}

int main(void)
{
    char dir[] = "/tmp/revive-procfs.XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    test_numbers();
    test_paths_and_files(dir);
    test_stat();
    test_proc_state();
    test_status();
    test_maps(dir);
    int mq = test_maps_query();
    test_smaps(dir);
    test_dirs();
    test_holder();
    int ns = test_pid_namespace();
    char small[4096];
    snprintf(small, sizeof small, "%s/small", dir);
    unlink(small);
    rmdir(dir);
    printf("PASS: numbers, paths, files, stat, a process's state and the wait for its stop, status, maps (long, cut, deleted, other process), %s smaps, "
           "numbered directories, a pipe's holder%s\n", mq ? "the mapping at an address (PROCMAP_QUERY)," : "", ns ? ", NSpid in a pid namespace" : "");
    if (!mq)
        printf("note: the kernel has no PROCMAP_QUERY (Linux 6.11); revive_maps_query was not checked\n");
    if (!ns)
        printf("note: no pid namespace could be made here; NSpid in one was not checked\n");
    return 0;
}

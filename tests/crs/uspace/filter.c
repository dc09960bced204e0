/* A capture filter (crs/base/capture_filter.h) leaves out a whole mapping,
 * the middle of another, a thread and a descriptor, and an extension
 * producer adds 100000 bytes in two writes under owner "test"; for filter.sh.
 *   filter IMAGE [bad-producer]
 * Prints what it leaves out (for cr_info --json), checkpoints itself to IMAGE,
 * then checks: after a restart the left-out memory is not mapped, the thread
 * is gone, the descriptor closed, and everything else as it was; when
 * continuing, everything is as it was. Prints "continue ok" / "restarted ok"
 * (exit 0) or FAIL lines (exit 1). With bad-producer the producer fails, and
 * so must the checkpoint (EIO): prints "refused ok". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/capture_filter.h"

#define MB (1ul << 20)

static unsigned char *a, *b, *c;      /* a: left out; b: its middle MB left out; c: kept */
static pid_t x_tid;                   /* left out */
static int f_fd, g_fd;                /* f left out, g kept at offset 5 */
static _Atomic int stop;
static _Atomic pid_t y_tid_now, x_tid_now;
static int fails;

#define FAIL(...) do { printf("FAIL " __VA_ARGS__); printf("\n"); fails++; } while (0)

static int region_exclude(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)arg;
    (void)path;
    const struct crs_span mine[2] = { { (uint64_t)a, (uint64_t)a + MB }, { (uint64_t)b + MB, (uint64_t)b + 2 * MB } };
    int n = 0;
    for (int i = 0; i < 2 && n < max; i++)
        if (mine[i].start < end && mine[i].end > start)
            out[n++] = mine[i];
    return n;
}

static int thread_exclude(void *arg, pid_t tid)
{
    (void)arg;
    return tid == x_tid;
}

static int fd_exclude(void *arg, int fd)
{
    (void)arg;
    return fd == f_fd;
}

static void *x_main(void *arg)
{
    (void)arg;
    x_tid = (pid_t)syscall(SYS_gettid);
    for (;;) {
        atomic_store(&x_tid_now, (pid_t)syscall(SYS_gettid));
        usleep(1000);
    }
    return NULL;
}

static void *y_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_store(&y_tid_now, (pid_t)syscall(SYS_gettid));
        usleep(1000);
    }
    return NULL;
}

static int produce(void *arg, struct crs_ext_sink *sink)
{
    if (arg)
        return -EIO;
    int e = crs_ext_write(sink, "revive-test-extension", 21);
    return e ? e : crs_ext_write(sink, c, 100000 - 21);
}

static int tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int mapped(const void *p, size_t len)
{
    unsigned char vec[512];
    return mincore((void *)p, len, vec) == 0 || errno != ENOMEM;
}

static int filled(const unsigned char *p, size_t len, unsigned char v)
{
    for (size_t i = 0; i < len; i += 512)
        if (p[i] != v)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        return 2;
    int bad = argc == 3 && !strcmp(argv[2], "bad-producer");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cr_init() < 0)
        return 2;
    a = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    b = mmap(NULL, 3 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    c = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(a, 0xaa, MB);
    memset(b, 0xb0, MB);
    memset(b + MB, 0xb1, MB);
    memset(b + 2 * MB, 0xb2, MB);
    memset(c, 0xcc, MB);
    f_fd = open("excluded.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    g_fd = open("kept.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f_fd < 0 || g_fd < 0 || write(g_fd, "hello", 5) != 5)
        return 2;
    pthread_t x, y;
    pthread_create(&x, NULL, x_main, NULL);
    pthread_create(&y, NULL, y_main, NULL);
    while (!atomic_load(&x_tid_now) || !atomic_load(&y_tid_now))
        usleep(1000);
    struct crs_capture_filter flt = { .owner = "test", .region_exclude = region_exclude, .thread_exclude = thread_exclude,
                                      .fd_exclude = fd_exclude };
    if (crs_capture_filter_register(&flt) != 0 || crs_capture_extension_register("test", produce, bad ? &bad : NULL) != 0 ||
        crs_capture_extension_register("bad owner", produce, NULL) != -EINVAL)
        return 2;
    printf("left-out region 0x%llx 0x%llx\n", (unsigned long long)a, (unsigned long long)a + MB);
    printf("left-out region 0x%llx 0x%llx\n", (unsigned long long)b + MB, (unsigned long long)b + 2 * MB);
    printf("kept region 0x%llx 0x%llx\n", (unsigned long long)b, (unsigned long long)b + MB);
    printf("kept region 0x%llx 0x%llx\n", (unsigned long long)b + 2 * MB, (unsigned long long)b + 3 * MB);
    printf("kept region 0x%llx 0x%llx\n", (unsigned long long)c, (unsigned long long)c + MB);
    printf("left-out thread %d\n", (int)x_tid);
    printf("left-out fd %d\n", f_fd);
    printf("kept fd %d\n", g_fd);
    int tasks_before = tasks();

    cr_checkpoint_args_t args;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_checkpoint_handle_t h;
    if (args.cr_fd < 0 || cr_request_checkpoint(&args, &h) != 0)
        return 2;
    int r;
    while ((r = cr_poll_checkpoint(&h, NULL)) < 0 && errno == EINTR)
        ;
    if (bad) {
        int ok = r == CR_POLL_CHKPT_ERR_POST && errno == EIO;
        printf("refused %s\n", ok ? "ok" : "FAIL");
        return ok ? 0 : 1;
    }
    int restarted = r < 0 && errno == CR_ERESTARTED;
    if (!restarted && r != 1)
        FAIL("the checkpoint failed: %s", strerror(errno));

    if (!filled(b, MB, 0xb0) || !filled(b + 2 * MB, MB, 0xb2) || !filled(c, MB, 0xcc))
        FAIL("kept memory changed");
    if (lseek(g_fd, 0, SEEK_CUR) != 5)
        FAIL("kept descriptor %d not at offset 5", g_fd);
    if (restarted) {
        if (mapped(a, MB))
            FAIL("the left-out mapping is mapped after the restart");
        if (mapped(b + MB, MB))
            FAIL("the left-out middle of a mapping is mapped after the restart");
        if (fcntl(f_fd, F_GETFD) != -1 || errno != EBADF)
            FAIL("the left-out descriptor %d is open after the restart", f_fd);
        if (tasks() != tasks_before - 1)
            FAIL("%d threads after the restart, expected %d (the left-out one gone)", tasks(), tasks_before - 1);
    } else {
        if (!filled(a, MB, 0xaa) || !filled(b + MB, MB, 0xb1))
            FAIL("left-out memory changed in the original");
        if (fcntl(f_fd, F_GETFD) < 0)
            FAIL("the left-out descriptor was closed in the original");
        if (tasks() != tasks_before)
            FAIL("%d threads, expected %d", tasks(), tasks_before);
    }
    pid_t seen = atomic_load(&y_tid_now);
    atomic_store(&y_tid_now, 0);
    for (int i = 0; i < 5000 && !atomic_load(&y_tid_now); i++)
        usleep(1000);
    if (!atomic_load(&y_tid_now))
        FAIL("the kept thread does not run (last seen as %d)", (int)seen);
    atomic_store(&stop, 1);
    pthread_join(y, NULL);
    printf("%s %s\n", restarted ? "restarted" : "continue", fails ? "FAIL" : "ok");
    return fails ? 1 : 0;
}

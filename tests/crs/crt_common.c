/* The test contract shared by the state test programs: see crt_common.h. */
#define _GNU_SOURCE
#include "crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int crt_line;     /* number of the next line */
static int crt_failures; /* failed checks so far */

static void crt_vsay(const char *prefix, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    printf("%02d %s%s\n", ++crt_line, prefix, buf);
    fflush(stdout);
}

void crt_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    crt_vsay("", fmt, ap);
    va_end(ap);
}

void crt_fail(const char *name, const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    crt_failures++;
    crt_say("FAIL %s: %s", name, buf);
    fprintf(stderr, "FAIL %s: %s\n", name, buf);
}

void crt_check_u64(const char *name, uint64_t got, uint64_t expected)
{
    if (got == expected)
        crt_say("%s: ok", name);
    else
        crt_fail(name, "got 0x%llx, expected 0x%llx", (unsigned long long)got,
                 (unsigned long long)expected);
}

static void check_v(const char *name, int ok, const char *what_fmt, va_list ap)
{
    char buf[900];
    if (ok) {
        crt_say("%s: ok", name);
        return;
    }
    vsnprintf(buf, sizeof(buf), what_fmt, ap);
    crt_fail(name, "%s", buf);
}

void crt_check(const char *name, int ok, const char *what_fmt, ...)
{
    va_list ap;
    va_start(ap, what_fmt);
    check_v(name, ok, what_fmt, ap);
    va_end(ap);
}

void crt_check_when(const char *what, const char *when, int ok, const char *what_fmt, ...)
{
    char name[256];
    va_list ap;
    snprintf(name, sizeof(name), "%s %s", what, when);
    va_start(ap, what_fmt);
    check_v(name, ok, what_fmt, ap);
    va_end(ap);
}

__attribute__((noreturn)) void crt_die(const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("%02d SETUP FAILED: %s\n", ++crt_line, buf);
    fflush(stdout);
    fprintf(stderr, "setup failed: %s\n", buf);
    exit(CRT_EXIT_SETUP);
}

void crt_bind_low_port(int fd, struct sockaddr_in *a, unsigned seed, const char *what)
{
    static unsigned next;
    if (!next)
        next = (unsigned)getpid() * seed;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int tries = 0; tries < 4000; tries++) {
        a->sin_port = htons((uint16_t)(20000 + next++ % 12000));
        if (bind(fd, (struct sockaddr *)a, sizeof *a) == 0)
            return;
    }
    crt_die("%s: %s", what, strerror(errno));
}

/* Writes our PID to `path` atomically (write a temporary file, rename). */
static void crt_write_ready(const char *path)
{
    char tmp[4200], line[32];
    int fd, n;
    /* a restarted copy may run beside the original under the same pid (in a
     * pid namespace of its own): the clock keeps their temporary names apart */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld.%ld", path, (long)getpid(), (long)now.tv_nsec);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        crt_die("cannot create %s: %s", tmp, strerror(errno));
    n = snprintf(line, sizeof(line), "%ld\n", (long)syscall(SYS_getpid));
    if (write(fd, line, (size_t)n) != n)
        crt_die("cannot write %s: %s", tmp, strerror(errno));
    close(fd);
    if (rename(tmp, path) < 0)
        crt_die("cannot rename %s to %s: %s", tmp, path, strerror(errno));
}

__attribute__((noreturn)) void crt_check_around_points(void (*check)(const char *when))
{
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");
    crt_finish();
}

__attribute__((noreturn)) void crt_finish(void)
{
    const char *ready = getenv("REVIVE_TEST_READY");
    if (ready && *ready) {
        char path[4096];
        snprintf(path, sizeof(path), "%s.done", ready);
        crt_write_ready(path);
    }
    if (crt_failures == 0) {
        printf("%02d RESULT ok\n", ++crt_line);
        fflush(stdout);
        exit(CRT_EXIT_OK);
    }
    printf("%02d RESULT FAIL (%d)\n", ++crt_line, crt_failures);
    fflush(stdout);
    exit(CRT_EXIT_FAIL);
}

int64_t crt_mono_ns_syscall(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ssize_t crt_read_all(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, (char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

void crt_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

long crt_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    char *end;
    long v;
    if (!s || !*s)
        return dflt;
    v = strtol(s, &end, 0);
    return *end ? dflt : v;
}

void crt_checkpoint_point(int n)
{
    const char *ready = getenv("REVIVE_TEST_READY");
    const char *go = getenv("REVIVE_TEST_GO");
    char rpath[4096], gpath[4096];
    int64_t deadline;
    long timeout_s = crt_env_long("REVIVE_TEST_GO_TIMEOUT", 120);

    printf("-- checkpoint %d --\n", n);
    fflush(stdout);
    if (!ready || !go || !*ready || !*go)
        return;
    snprintf(rpath, sizeof(rpath), "%s.%d", ready, n);
    snprintf(gpath, sizeof(gpath), "%s.%d", go, n);
    crt_write_ready(rpath);
    /* The checkpoint normally happens somewhere in this loop. */
    deadline = crt_mono_ns_syscall() + (int64_t)timeout_s * 1000000000;
    while (access(gpath, F_OK) != 0) {
        if (crt_mono_ns_syscall() > deadline)
            crt_die("waited %lds for %s", timeout_s, gpath);
        crt_sleep_ms(5);
    }
}

uint64_t crt_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t crt_hash(const void *p, size_t len, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = crt_mix(seed ^ len), w;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    for (; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return crt_mix(h);
}

void crt_fill(void *p, size_t len, uint64_t seed)
{
    unsigned char *b = p;
    uint64_t s = crt_mix(seed) | 1, w;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        w = s * 0x2545f4914f6cdd1dULL;
        memcpy(b + i, &w, 8);
    }
    for (; i < len; i++)
        b[i] = (unsigned char)(crt_mix(seed + i) & 0xff);
}

int crt_is_zero(const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i])
            return 0;
    return 1;
}

const char *crt_map_perms(const void *addr, char buf[8])
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    unsigned long lo, hi, a = (unsigned long)addr;
    char perms[8];
    strcpy(buf, "none");
    if (!f)
        return buf;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
            memcpy(buf, perms, 5);
            buf[4] = 0;
            break;
        }
    }
    fclose(f);
    return buf;
}

long crt_page_kb(const void *addr)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    char line[512];
    long kb = -1;
    int in = 0;
    unsigned long lo, hi, a = (unsigned long)addr;
    while (f && fgets(line, sizeof line, f)) {
        /* A mapping's first line is "lo-hi ..."; its fields' lines
         * ("Name:   value") hold no '-' before their first space. */
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = a >= lo && a < hi;
        else if (in && !strncmp(line, "KernelPageSize:", 15))
            kb = strtol(line + 15, NULL, 10);
    }
    if (f)
        fclose(f);
    return kb;
}

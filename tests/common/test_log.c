/* The logger: the level scale from REVIVE_VERBOSE (read once), the line format, file:line
 * at debug level, long lines cut, one write(2) per line and no malloc. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "test"
#include "common/log.h"
#include "common/log_long.h"
#include "common_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

/* write interposed: the logger's lines must not mix with other writers' (one write(2) each);
 * and malloc (malloc_guard.c): the logger runs while other threads may be frozen in it. */
const char ct_no_malloc_what[] = "the logger";
static atomic_int writes;

ssize_t write(int fd, const void *buf, size_t n)
{
    atomic_fetch_add(&writes, 1);
    return syscall(SYS_write, fd, buf, n);
}

/* The four calls on one line, so that at debug level each names the same source line. */
#define LOG_FOUR() do { revive_log_error("error %d", 0); revive_log_warn("warn %s", "1"); \
                        revive_log_info("info %d", 2); revive_log_debug("debug %d", 3); } while (0)
enum { FOUR_LINE = __LINE__ + 5 }; /* the line of LOG_FOUR() below */
static void log_all(void *arg)
{
    (void)arg;
    ct_no_malloc = 1;
    LOG_FOUR();
    ct_no_malloc = 0;
}

/* REVIVE_VERBOSE=value shows the first `shown` of the four lines. */
static void check_level(const char *value, int shown)
{
    char out[4096], want[4096];
    ct_run_child("REVIVE_VERBOSE", value, log_all, NULL, out, sizeof out);
    const char *text[] = { "error 0", "warn 1", "info 2", "debug 3" };
    size_t len = 0;
    want[0] = 0;
    for (int i = 0; i < shown; i++) {
        /* at debug level every line names its source, as the tree names it */
        if (shown == 4)
            len += (size_t)snprintf(want + len, sizeof want - len,
                                    "revive: test: [tests/common/test_log.c:%d] %s\n", FOUR_LINE, text[i]);
        else
            len += (size_t)snprintf(want + len, sizeof want - len, "revive: test: %s\n", text[i]);
    }
    if (strcmp(out, want))
        FAILF("REVIVE_VERBOSE=%s printed:\n%s\nexpected:\n%s", value ? value : "(unset)", out, want);
}

static void read_once(void *arg)
{
    (void)arg;
    revive_log_debug("first");
    setenv("REVIVE_VERBOSE", "0", 1);
    revive_log_debug("second"); /* still debug: the level was read once */
    unsetenv("REVIVE_VERBOSE");
    revive_log_debug("third");
}

/* a line of 3000 bytes through log_long.h: whole, one write */
static void long_whole(void *arg)
{
    (void)arg;
    static char big[3001];
    memset(big, 'y', sizeof big - 1);
    revive_log_long_at(REVIVE_LOG_ERROR, "test", NULL, 0, "%s", big);
}

/* a line of 3 x PATH_MAX through log_long.h (a rank's restart failure naming a deep snapshot
 * directory, and the coordinator's words around it): whole */
static void long_paths(void *arg)
{
    (void)arg;
    static char big[3 * PATH_MAX + 1];
    memset(big, 'p', sizeof big - 1);
    revive_log_long_at(REVIVE_LOG_ERROR, "test", NULL, 0, "%s", big);
}

/* a cut line of two-byte characters ("é", one byte after the prefix): the dots on a character
 * boundary, not after the first half of one (review K-L3) */
static void long_utf8(void *arg)
{
    (void)arg;
    static char big[2 * REVIVE_LOG_LINE_MAX + 2];
    big[0] = 'a';
    for (size_t i = 1; i + 2 < sizeof big; i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    revive_log_warn("%s", big);
}

static void long_line(void *arg)
{
    (void)arg;
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    ct_no_malloc = 1;
    writes = 0;
    revive_log_warn("%s", big);
    int w = writes;
    ct_no_malloc = 0;
    if (w != 1)
        FAILF("a long line took %d writes", w);
}

#define NTHREADS 8
#define NLINES 400

static void *chatter(void *arg)
{
    long t = (long)arg;
    char pad[300];
    memset(pad, 'a' + (int)t, sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    for (int i = 0; i < NLINES; i++)
        revive_log_warn("thread %ld line %d %s end", t, i, pad);
    return NULL;
}

static void threads(void *arg)
{
    (void)arg;
    writes = 0;
    pthread_t th[NTHREADS];
    for (long t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, chatter, (void *)t);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    if (writes != NTHREADS * NLINES)
        FAILF("%d lines took %d writes", NTHREADS * NLINES, (int)writes);
}

int main(void)
{
    check_level(NULL, 2);
    check_level("", 2);
    check_level("junk", 2);
    check_level("0", 1);
    check_level("-1", 1);
    check_level("1", 2);
    check_level("2", 3);
    check_level("3", 4);
    check_level("12", 4);

    char out[1 << 17];
    ct_run_child("REVIVE_VERBOSE", "3", read_once, NULL, out, sizeof out);
    ASSERT_TRUE(strstr(out, "] first\n") && strstr(out, "] second\n") && strstr(out, "] third\n"));

    size_t len = ct_run_child("REVIVE_VERBOSE", NULL, long_line, NULL, out, sizeof out);
    ASSERT_EQ(len, REVIVE_LOG_LINE_MAX);
    ASSERT_TRUE(!strncmp(out, "revive: test: xxx", 17));
    ASSERT_EQ(out[len - 1], '\n');
    ASSERT_TRUE(!strncmp(out + len - 5, "x...", 4)); /* a cut is marked, never whole-looking */
    len = ct_run_child("REVIVE_VERBOSE", NULL, long_whole, NULL, out, sizeof out);
    ASSERT_EQ(len, strlen("revive: test: ") + 3000 + 1);
    ASSERT_EQ(out[len - 2], 'y');
    len = ct_run_child("REVIVE_VERBOSE", NULL, long_paths, NULL, out, sizeof out);
    ASSERT_EQ(len, strlen("revive: test: ") + 3 * PATH_MAX + 1);
    ASSERT_EQ(out[len - 2], 'p');
    len = ct_run_child("REVIVE_VERBOSE", NULL, long_utf8, NULL, out, sizeof out);
    ASSERT_TRUE(len <= REVIVE_LOG_LINE_MAX && len > REVIVE_LOG_LINE_MAX - 4);
    ASSERT_TRUE(!strncmp(out + len - 4, "...\n", 4));
    /* what precedes the dots is whole characters: "a" then "é"s */
    ASSERT_TRUE((len - 4 - strlen("revive: test: a")) % 2 == 0);
    ASSERT_TRUE((unsigned char)out[len - 5] == 0xa9);

    /* lines of threads writing at once come out whole, one write(2) each */
    static char many[NTHREADS * NLINES * 400 + 1];
    len = ct_run_child("REVIVE_VERBOSE", NULL, threads, NULL, many, sizeof many);
    ASSERT_TRUE(len < sizeof many - 1);
    int seen[NTHREADS] = { 0 };
    for (char *p = many; *p;) {
        char *e = strchr(p, '\n');
        ASSERT_TRUE(e != NULL);
        *e = 0;
        long t;
        int i, n = -1;
        if (sscanf(p, "revive: test: thread %ld line %d %*[a-z] end%n", &t, &i, &n) != 2 || n != e - p ||
            t < 0 || t >= NTHREADS || i != seen[t] || p[n - 5] != (char)('a' + t))
            FAILF("a mixed or lost line: \"%.120s\"", p);
        seen[t]++;
        p = e + 1;
    }
    for (int t = 0; t < NTHREADS; t++)
        ASSERT_EQ(seen[t], NLINES);
    printf("PASS: log levels, format, read once, long lines (cut on a character boundary), one write per line, no malloc\n");
    return 0;
}

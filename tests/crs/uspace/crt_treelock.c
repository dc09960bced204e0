/*
 * State test: POSIX (fcntl F_SETLK) locks in a process tree whose members
 * share the locked file's open file (inherited at fork), checkpointed with
 * --tree (crs_tree_lock.sh; newuser10 F2). A POSIX lock is its process's
 * and goes when that process closes ANY descriptor of the file: a restart
 * that takes it and later closes another descriptor of the file (a copy
 * of the tree's shared open file, above the process's own numbers) has lost
 * it, silently.
 *   - A: treelock.f, opened by the program before its forks, so that both
 *     children hold the same open file; the program holds a write lock on
 *     bytes 0-9 through A.
 *   - child H holds a write lock of its own on bytes 50-59 through its
 *     inherited A, and waits for the word to end.
 *   - child W opens the file itself and waits in F_SETLKW for byte 5, which
 *     the program's lock covers: blocked across both points (the program
 *     waits until /proc/locks shows it blocked before point 1).
 * At each check: from a second open file of its own (never closed: that
 * would release the program's locks) the program sees with F_OFD_GETLK its
 * lock on 0-9 and H's on 50-59, each under its owner's pid, and 20-49
 * free; a child made then cannot take byte 3 (F_SETLK: EAGAIN); W has not
 * got its lock after 200 ms more (it reports over a pipe the moment it
 * does). After point 2 the program lets go of 0-9: W then gets the lock
 * and reports. Every flavour where a tree applies but busy (the copy and
 * the original cannot both hold the locks; locks_busy.sh). Contract:
 * crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_NAME "treelock.f"

static int a, probe, w_report[2], h_go[2], h_ready[2];
static pid_t h_pid, w_pid;

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    int rc;
    while ((rc = fcntl(fd, cmd, &fl)) != 0 && errno == EINTR)
        ;
    return rc;
}

/* Who holds what over [start, start+len) as a write lock there would see
 * it: F_UNLCK when nobody conflicts; *pid the holder */
static int seen(off_t start, off_t len, pid_t *pid)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    if (fcntl(probe, F_OFD_GETLK, &fl) != 0)
        return -1;
    *pid = fl.l_pid;
    return fl.l_type;
}

/* A child made now, trying byte 3 with a descriptor of its own: 1 when it
 * is refused (EAGAIN or EACCES), 0 when granted, -1 on error */
static int byte3_refused(void)
{
    pid_t c = fork();
    if (c == 0) {
        int fd = open(FILE_NAME, O_RDWR);
        if (fd < 0)
            _exit(3);
        if (lock(fd, F_SETLK, F_WRLCK, 3, 1) == 0)
            _exit(0);
        _exit(errno == EAGAIN || errno == EACCES ? 1 : 4);
    }
    if (c < 0)
        return -1;
    int st;
    while (waitpid(c, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) <= 1 ? WEXITSTATUS(st) : -1;
}

/* W's report, waiting up to ms: 1 when it came ('g'), 0 when not yet */
static int w_reported(int ms)
{
    struct pollfd p = { w_report[0], POLLIN, 0 };
    int n;
    while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return 0;
    char c = 0;
    ssize_t r;
    while ((r = read(w_report[0], &c, 1)) < 0 && errno == EINTR)
        ;
    return r == 1 && c == 'g';
}

static void check(const char *when)
{
    pid_t pid = 0;
    int t;
#define CHECK(what, cond, ...) crt_check_when(what, when, cond, __VA_ARGS__)
    t = seen(0, 10, &pid);
    CHECK("the program's fcntl write lock on bytes 0-9 (an open file its children share)",
          t == F_WRLCK && pid == getpid(), "type %d pid %d (we are %d)", t, (int)pid, (int)getpid());
    t = seen(50, 10, &pid);
    CHECK("child H's fcntl write lock on bytes 50-59 (through the shared open file)", t == F_WRLCK && pid == h_pid,
          "type %d pid %d (H is %d)", t, (int)pid, (int)h_pid);
    t = seen(20, 30, &pid);
    CHECK("bytes 20-49 free", t == F_UNLCK, "type %d pid %d", t, (int)pid);
    t = byte3_refused();
    CHECK("a new child cannot take byte 3", t == 1, "%s", t == 0 ? "it got the lock" : "error");
    t = w_reported(200);
    CHECK("child W still waits in F_SETLKW for byte 5", !t, "it got the lock while the program holds it");
#undef CHECK
}

/* W blocked in F_SETLKW, as /proc/locks shows ("-> POSIX ... PID"), waiting up to 10 s; 1 when seen */
static int w_blocked(void)
{
    char want[64];
    snprintf(want, sizeof want, " %d ", (int)w_pid);
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen("/proc/locks", "r");
        char line[256];
        int found = 0;
        while (f && fgets(line, sizeof line, f))
            if (strstr(line, "-> POSIX") && strstr(line, want))
                found = 1;
        if (f)
            fclose(f);
        if (found)
            return 1;
        crt_sleep_ms(10);
    }
    return 0;
}

int main(void)
{
    a = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (a < 0 || ftruncate(a, 100) != 0)
        crt_die("%s: %s", FILE_NAME, strerror(errno));
    if (lock(a, F_SETLK, F_WRLCK, 0, 10) != 0)
        crt_die("fcntl F_SETLK: %s", strerror(errno));
    if (pipe(w_report) || pipe(h_go) || pipe(h_ready))
        crt_die("pipe: %s", strerror(errno));
    fflush(stdout);
    h_pid = fork();
    if (h_pid == 0) {
        char c = 'r';
        if (lock(a, F_SETLK, F_WRLCK, 50, 10) != 0 || write(h_ready[1], &c, 1) != 1)
            _exit(2);
        ssize_t n;
        while ((n = read(h_go[0], &c, 1)) < 0 && errno == EINTR)
            ;   /* across both points */
        _exit(n == 1 ? 0 : 3);
    }
    w_pid = fork();
    if (w_pid == 0) {
        int fd = open(FILE_NAME, O_RDWR);
        char c = 'g';
        if (fd < 0 || lock(fd, F_SETLKW, F_WRLCK, 5, 1) != 0)
            c = 'e';
        _exit(write(w_report[1], &c, 1) == 1 ? 0 : 2);
    }
    if (h_pid < 0 || w_pid < 0)
        crt_die("fork: %s", strerror(errno));
    close(w_report[1]);
    close(h_go[0]);
    close(h_ready[1]);
    char c;
    ssize_t n;
    while ((n = read(h_ready[0], &c, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1)
        crt_die("child H could not take its lock");
    probe = open(FILE_NAME, O_RDWR);
    if (probe < 0)
        crt_die("%s: %s", FILE_NAME, strerror(errno));
    if (!w_blocked())
        crt_die("child W was not seen waiting in F_SETLKW in /proc/locks within 10 s");
    crt_say("the program and child H hold their fcntl locks on an open file they share; child W waits in F_SETLKW");
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");

    if (lock(a, F_SETLK, F_UNLCK, 0, 10) != 0)
        crt_die("unlock: %s", strerror(errno));
    int got = w_reported(10000);
    crt_check("child W gets byte 5 once the program has let go", got, "no report within 10 s");
    if (write(h_go[1], "e", 1) != 1)
        crt_die("write: %s", strerror(errno));
    int st, ok = 1;
    for (int k = 0; k < 2; k++) {
        pid_t ended;
        while ((ended = wait(&st)) < 0 && errno == EINTR)
            ;
        ok &= ended > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    crt_check("children H and W ended with status 0", ok, "a child failed (status %#x)", st);
    crt_finish();
}

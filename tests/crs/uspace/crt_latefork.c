/*
 * crt_latefork KIND MS PROGRAM [ARGS...]: makes a child that starts PROGRAM
 * only after MS milliseconds (MS "file": once $REVIVE_TEST_READY.start
 * exists), the window in which a checkpoint of a child caught right after it
 * was made finds no checkpoint thread (issue 10):
 *   fork   syscall(SYS_fork), which runs no fork handlers (libcr starts its
 *          thread in one): the child has libcr loaded but does not listen
 *   vfork  vfork: the child shares this process's memory, which waits
 * Writes the child's pid to $REVIVE_TEST_READY.child as soon as it exists,
 * then waits for it; exits with its status (128 + N when killed by N). Not a
 * state program: crs_latefork.sh checkpoints the child, which becomes
 * PROGRAM (a state program) and is compared with an uninterrupted run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "fork") && strcmp(argv[1], "vfork"))) {
        fprintf(stderr, "usage: crt_latefork fork|vfork MS PROGRAM [ARGS...]\n");
        return 2;
    }
    const char *ready = getenv("REVIVE_TEST_READY");
    if (!ready || !*ready) {
        fprintf(stderr, "crt_latefork: REVIVE_TEST_READY is not set\n");
        return 2;
    }
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s.child", ready);
    snprintf(tmp, sizeof tmp, "%s.child.tmp", ready);
    /* "file": the test lets the child go once it has seen cr_checkpoint refuse it, instead of 8 s,
     * a delay longer than cr_checkpoint's 5 s wait (most of crs_latefork's time, and under load
     * it could run out before that wait did) */
    char start[4096];
    snprintf(start, sizeof start, "%s.start", ready);
    int by_file = !strcmp(argv[2], "file");
    long ms = by_file ? 10 : atol(argv[2]);
    struct timespec wait = { ms / 1000, (ms % 1000) * 1000000L };
    pid_t kid;
    if (!strcmp(argv[1], "fork")) {
        kid = (pid_t)syscall(SYS_fork);
        if (kid == 0) {
            do
                nanosleep(&wait, NULL);
            while (by_file && access(start, F_OK) != 0);
            execv(argv[3], argv + 3);
            _exit(127);
        }
    } else {
        /* the parent waits until the child execs: the child names itself */
        kid = vfork();
        if (kid == 0) {
            char line[32];
            int n = snprintf(line, sizeof line, "%d\n", (int)syscall(SYS_getpid));
            int fd = (int)syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0 && syscall(SYS_write, fd, line, n) == n && syscall(SYS_close, fd) == 0)
                syscall(SYS_rename, tmp, path);
            do
                syscall(SYS_nanosleep, &wait, NULL);
            while (by_file && syscall(SYS_faccessat, AT_FDCWD, start, F_OK, 0) != 0);
            execv(argv[3], argv + 3);
            _exit(127);
        }
    }
    if (kid < 0) {
        fprintf(stderr, "crt_latefork: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (!strcmp(argv[1], "fork")) {
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", (int)kid) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
            fprintf(stderr, "crt_latefork: cannot write %s\n", path);
            return 2;
        }
    }
    int st = 0;
    while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

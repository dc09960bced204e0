/* Helpers for the unit tests of src/common (see common_test.h). */
#define _GNU_SOURCE
#include "common_test.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

size_t ct_run_child(const char *name, const char *value, void (*fn)(void *), void *arg, char *out,
                    size_t cap)
{
    int p[2];
    if (pipe(p) != 0)
        FAILF("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        FAILF("fork: %s", strerror(errno));
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        close(p[1]);
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
        fn(arg);
        _exit(0);
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(p[0], out + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap - 1)
            break;
    }
    out[len] = 0;
    close(p[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        FAILF("child with %s=%s failed (status %#x); its stderr:\n%s", name, value ? value : "(unset)",
              st, out);
    return len;
}

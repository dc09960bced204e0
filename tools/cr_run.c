/* cr_run PROG ARGS...: runs PROG in place (same PID) with libcr preloaded, so
 * that cr_checkpoint can take it. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: cr_run PROG [ARGS...]\n"
               "Runs PROG in place of cr_run, with Revive's libcr preloaded, so that\n"
               "`cr_checkpoint PID` can checkpoint it. REVIVE_LIBCR overrides the library.\n");
}

/* The library next to an installed cr_run (../lib), or in a build tree (../.libs). */
static const char *find_libcr(char *buf, size_t len)
{
    const char *env = getenv("REVIVE_LIBCR");
    if (env && *env)
        return env;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *dir = dirname(self);
        const char *cands[] = { "../lib/libcr.so.0", "../.libs/libcr.so.0", ".libs/libcr.so.0" };
        for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
            snprintf(buf, len, "%s/%s", dir, cands[i]);
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    snprintf(buf, len, "%s/libcr.so.0", REVIVE_LIBDIR);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    int first = !strcmp(argv[1], "--") ? 2 : 1;
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    char buf[PATH_MAX];
    const char *lib = find_libcr(buf, sizeof buf);
    if (!lib) {
        fprintf(stderr, "cr_run: cannot find libcr.so.0 (looked beside cr_run and in %s); "
                        "set REVIVE_LIBCR to its path\n", REVIVE_LIBDIR);
        return 127;
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (old && *old) {
        if (asprintf(&preload, "%s:%s", lib, old) < 0)
            return 127;
    } else {
        preload = strdup(lib);
    }
    setenv("LD_PRELOAD", preload, 1);
    execvp(argv[first], argv + first);
    fprintf(stderr, "cr_run: cannot run %s: %s\n", argv[first], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

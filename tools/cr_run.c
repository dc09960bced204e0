/* cr_run PROG ARGS...: runs PROG in place (same PID) with libcr preloaded, so
 * that cr_checkpoint can take it. A static program cannot have it preloaded:
 * one linked with libcr.a runs as it is, others are refused saying what to do. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/static_exe.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: cr_run [--] PROG [ARGS...]\n"
               "Runs PROG in place of cr_run, with Revive's libcr preloaded, so that\n"
               "`cr_checkpoint PID` can checkpoint it. REVIVE_LIBCR overrides the library.\n"
               "  --   ends cr_run's options (for a PROG whose name starts with a dash)\n");
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

/* The file execvp would run for name (a path, or searched in PATH), into buf. */
static const char *resolve(const char *name, char *buf, size_t len)
{
    if (strchr(name, '/'))
        return name;
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, len, "%.*s%s%s", (int)n, path, n ? "/" : "", name);
        if (access(buf, X_OK) == 0)
            return buf;
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* A statically linked ELF program, and whether libcr.a is inside it
 * (common/static_exe.h). */
static int static_exe(const char *path, int *with_libcr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;   /* execvp says what is wrong */
    int is_static = revive_exe_is_static(fd, path);
    *with_libcr = is_static && revive_exe_has_static_libcr(fd);
    close(fd);
    return is_static;
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
    const char *exe = resolve(argv[first], buf, sizeof buf);
    int with_libcr = 0;
    if (exe && static_exe(exe, &with_libcr)) {
        if (with_libcr) {   /* checkpointable as it is: runs in place */
            execv(exe, argv + first);
            fprintf(stderr, "cr_run: cannot run %s: %s\n", exe, strerror(errno));
            return 126;
        }
        /* it would run, and every checkpoint would say it does not run under Revive */
        fprintf(stderr, "cr_run: %s is a static executable: libcr cannot be preloaded into it (only the "
                        "dynamic loader reads LD_PRELOAD), so it could never be checkpointed; link it with "
                        "libcr.a (cc -static ... -L%s @%s/libcr-static.flags, see Revive's README) and it runs "
                        "checkpointable by itself, or build it dynamically linked (cc without -static)\n", exe,
                REVIVE_LIBDIR, REVIVE_LIBDIR);
        return 126;
    }
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

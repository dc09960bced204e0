/* restart-mpi's feeding of rank 0's saved standard input (restart_stdin.h). */
#define _GNU_SOURCE
#include "restart_stdin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "snapc/util.h"

int restart_stdin_feed(const char *seqdir, const struct filem_meta *m, int dry, size_t *len,
                       char *err, size_t errlen)
{
    *len = 0;
    const char *name = filem_meta_get(m, "rank.0.stdin_saved");
    const char *sum = filem_meta_get(m, "rank.0.stdin_sum");
    uint64_t want = 0;
    if (!name)
        return 0;
    if (strcmp(name, "rank_0.stdin") != 0 || !sum ||
        filem_meta_get_u64(m, "rank.0.stdin_unread", &want) < 0 || want == 0 ||
        want > (16u << 20)) {
        snapc_fmt(err, errlen, "%s/%s names rank 0's kept standard input badly", seqdir,
                  FILEM_META_NAME);
        return -1;
    }
    char path[PATH_MAX + 32];
    snapc_fmt(path, sizeof path, "%s/%s", seqdir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        /* not a damaged snapshot: a directory re-created from a node's cache has only the
         * images (restart_cache.h); the restart runs as before the bytes were kept */
        snapc_fmt(err, errlen, "%s, rank 0's standard input it had not read (%llu bytes, the end "
                  "of its input), is not there (%s): rank 0 reads restart-mpi's standard input "
                  "instead", path, (unsigned long long)want, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    char *buf = (uint64_t)st.st_size == want ? malloc(want) : NULL;
    ssize_t got = buf ? read(fd, buf, want) : -1;
    close(fd);
    uint64_t h = got > 0 ? XXH3_64bits(buf, (size_t)got) : 0; /* as the agent computed it */
    char hs[24];
    snapc_fmt(hs, sizeof hs, "%016llx", (unsigned long long)h);
    if (got != (ssize_t)want || strcmp(hs, sum) != 0) {
        snapc_fmt(err, errlen, "%s, rank 0's standard input it had not read, is damaged (%llu "
                  "bytes, %s; the metadata says %llu, %s)", path, (unsigned long long)st.st_size,
                  got == (ssize_t)want ? hs : "unread", (unsigned long long)want, sum);
        free(buf);
        return -1;
    }
    *len = (size_t)want;
    if (dry) {
        free(buf);
        return 0;
    }
    /* a pipe that holds them all: the rank's pipe held them, so its size does */
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snapc_fmt(err, errlen, "cannot make a pipe for rank 0's standard input: %s",
                  strerror(errno));
        free(buf);
        return -1;
    }
    /* the write end does not block: when the pipe cannot be made that large (F_SETPIPE_SZ past
     * /proc/sys/fs/pipe-max-size or the user's pipe pages), a write that blocked would wait for
     * a reader that is not started yet, for ever; it says so instead */
    if (want > 65536)
        fcntl(p[1], F_SETPIPE_SZ, (int)want);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    ssize_t w = write(p[1], buf, want);
    int e = errno;
    free(buf);
    close(p[1]);
    if (w != (ssize_t)want || dup2(p[0], 0) < 0) {
        snapc_fmt(err, errlen, "cannot put rank 0's %llu bytes of standard input in a pipe: %s",
                  (unsigned long long)want,
                  w >= 0 && w != (ssize_t)want ? "the pipe cannot be made large enough "
                                                 "(/proc/sys/fs/pipe-max-size)"
                  : w != (ssize_t)want         ? strerror(e)
                                               : strerror(errno));
        close(p[0]);
        return -1;
    }
    close(p[0]);
    return 0;
}

/* The bound on a node's uncommitted cached sequences (local_bound.h). */
#define _GNU_SOURCE
#include "filem/local_bound.h"
#include "filem/local_retain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR's parent into OUT and DIR's last name's number: 0, or -EINVAL (no sequence name). */
static int split_seq(const char *dir, char *out, size_t len, long long *seq)
{
    if ((size_t)snprintf(out, len, "%s", dir) >= len)
        return -ENAMETOOLONG;
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    char *s = strrchr(out, '/');
    if (!s || s == out)
        return -EINVAL;
    *s = 0;
    *seq = filem_local_seq_name(s + 1);
    return *seq < 0 ? -EINVAL : 0;
}

int filem_local_bound_uncommitted(const char *local_seqdir, const char *shared_seqdir,
                                  int keep_newest, int *removed)
{
    char ljob[PATH_MAX], sjob[PATH_MAX];
    long long current, sseq;
    if (removed)
        *removed = 0;
    int e = split_seq(local_seqdir, ljob, sizeof ljob, &current);
    if (e == 0)
        e = split_seq(shared_seqdir, sjob, sizeof sjob, &sseq);
    if (e < 0)
        return e;
    /* the shared job directory decides what is committed: when it cannot be seen, nothing is
     * known, and the caches may hold the only copies */
    struct stat st;
    if (stat(sjob, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    /* the older uncommitted ones, newest first (a list cut short by memory: those listed,
     * and -ENOMEM once they are dealt with) */
    int jfd;
    long long *v;
    size_t all, n = 0;
    int rc = filem_local_list_below(ljob, current, &jfd, &v, &all);
    if (rc < 0)
        return rc;
    rc = rc ? -ENOMEM : 0;
    for (size_t i = 0; i < all; i++) {
        char meta[PATH_MAX + 64];
        if ((size_t)snprintf(meta, sizeof meta, "%s/%lld/snapshot.meta", sjob, v[i]) >= sizeof meta)
            continue;
        if (access(meta, F_OK) == 0 || errno != ENOENT)
            continue; /* committed (filem_local_retain's), or cannot tell: kept */
        v[n++] = v[i];
    }
    for (size_t i = keep_newest > 0 ? (size_t)keep_newest : 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%lld", v[i]);
        int r = filem_local_remove_seq(jfd, name);
        if (r > 0 && removed)
            (*removed)++;
        else if (r < 0 && r != -ENOENT && rc == 0)
            rc = r; /* ENOENT: another rank of this node removed it first */
    }
    free(v);
    close(jfd);
    return rc;
}

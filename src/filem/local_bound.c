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

int filem_local_bound_uncommitted(const char *local_seqdir, const char *shared_seqdir,
                                  int keep_newest, int *removed)
{
    char ljob[PATH_MAX], sjob[PATH_MAX];
    if (removed)
        *removed = 0;
    /* the older uncommitted ones, newest first (a list cut short by memory: those listed,
     * and -ENOMEM once they are dealt with) */
    int jfd;
    long long *v;
    size_t all, n = 0;
    int rc = filem_local_list_older(local_seqdir, shared_seqdir, ljob, sjob, &jfd, &v, &all);
    if (rc < 0)
        return rc;
    rc = rc ? -ENOMEM : 0;
    for (size_t i = 0; i < all; i++)
        if (filem_local_committed(sjob, v[i]) == 0)
            v[n++] = v[i]; /* else committed (filem_local_retain's), or cannot tell: kept */
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

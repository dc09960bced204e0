/* Room in a node's cache for the sequence about to be written (local_room.h). */
#define _GNU_SOURCE
#include "filem/local_room.h"
#include "filem/local_gc.h"
#include "filem/local_retain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Bytes of the images (NAME.img, not a temporary .NAME...) in DIR. */
static uint64_t image_bytes(const char *dir)
{
    uint64_t b = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        char p[PATH_MAX];
        struct stat st;
        if (e->d_name[0] != '.' && l > 4 && !strcmp(e->d_name + l - 4, ".img") &&
            (size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p &&
            lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            b += (uint64_t)st.st_size;
    }
    if (d)
        closedir(d);
    return b;
}

uint64_t filem_local_avail(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) < 0)
        return UINT64_MAX;
    return (uint64_t)v.f_bavail * (uint64_t)(v.f_frsize ? v.f_frsize : v.f_bsize);
}

uint64_t filem_local_last_bytes(const char *local_seqdir)
{
    char ljob[PATH_MAX], sd[PATH_MAX + 32];
    long long current;
    int jfd;
    long long *v;
    size_t n;
    if (filem_local_split_seq(local_seqdir, ljob, sizeof ljob, &current) < 0 ||
        filem_local_list_below(ljob, current, &jfd, &v, &n) < 0)
        return 0;
    close(jfd);
    uint64_t b = 0;
    for (size_t i = 0; i < n && !b; i++)   /* newest first */
        if ((size_t)snprintf(sd, sizeof sd, "%s/%lld", ljob, v[i]) < sizeof sd)
            b = image_bytes(sd);
    free(v);
    return b;
}

/* Removes the cached sequence SEQ of LJOB (opened as JFD): 1 removed (its image bytes added to
 * *BYTES), 0 locked by a reader (kept), -errno; -ENOENT also when another rank of the node
 * removed it first. */
static int drop(int jfd, const char *ljob, long long seq, uint64_t *bytes)
{
    char name[32], sd[PATH_MAX + 32];
    snprintf(name, sizeof name, "%lld", seq);
    uint64_t b = (size_t)snprintf(sd, sizeof sd, "%s/%s", ljob, name) < sizeof sd ? image_bytes(sd) : 0;
    int r = filem_local_remove_seq(jfd, name);
    if (r > 0)
        *bytes += b;
    return r;
}

int filem_local_make_room(const char *local_seqdir, const char *shared_seqdir, uint64_t need,
                          struct filem_local_room_stats *st)
{
    struct filem_local_room_stats none;
    if (!st)
        st = &none;
    memset(st, 0, sizeof *st);
    char ljob[PATH_MAX], sjob[PATH_MAX];
    int jfd;
    long long *v;
    size_t n;
    int rc = filem_local_list_older(local_seqdir, shared_seqdir, ljob, sjob, &jfd, &v, &n);
    if (rc < 0)
        return rc;
    rc = rc ? -ENOMEM : 0;
    /* v: newest first; the committed ones are kept in it, in that order */
    size_t committed = 0;
    for (size_t i = 0; i < n; i++) {
        int c = filem_local_committed(sjob, v[i]);
        if (c > 0)
            v[committed++] = v[i];
        if (c != 0)
            continue; /* committed, or cannot tell: kept */
        int r = drop(jfd, ljob, v[i], &st->bytes);
        if (r > 0)
            st->failed++;
        else if (r < 0 && r != -ENOENT && rc == 0)
            rc = r;
    }
    /* oldest first, while the room is short */
    for (size_t i = committed; i-- > 0 && need;) {
        if (need != UINT64_MAX && filem_local_avail(ljob) >= need)
            break;
        char cached[PATH_MAX + 32], shared[PATH_MAX + 32], why[PATH_MAX + 64];
        if ((size_t)snprintf(cached, sizeof cached, "%s/%lld", ljob, v[i]) >= sizeof cached ||
            (size_t)snprintf(shared, sizeof shared, "%s/%lld", sjob, v[i]) >= sizeof shared)
            continue;
        if (!filem_local_redundant(cached, shared, why, sizeof why)) {
            st->kept++; /* the only copy of a committed image: restart-mpi fetches it */
            continue;
        }
        int r = drop(jfd, ljob, v[i], &st->bytes);
        if (r > 0)
            st->committed++;
        else if (r == 0)
            st->kept++;
        else if (r != -ENOENT && rc == 0)
            rc = r;
    }
    free(v);
    close(jfd);
    return rc;
}

/* A restarted job that commits supersedes the jobs it was restarted from: each ancestor's job
 * directory gets a `superseded` file (local_retain.h: FILEM_SUPERSEDED_NAME) saying by which
 * job, and on which hosts the ancestor's node-local caches may remain (its hosts where no rank
 * of the new job runs: no agent of the chain prunes there). Any later job of the user that
 * commits on such a host removes them (filem_local_retain). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "filem/filem.h"
#include "filem/alive.h"
#include "filem/local_retain.h"

/* HOST is one of the comma-separated LIST */
static int in_list(const char *list, const char *host)
{
    size_t hl = strlen(host);
    for (const char *s = list; s && *s;) {
        size_t l = strcspn(s, ",");
        if (l == hl && !strncmp(s, host, hl))
            return 1;
        s += l + (s[l] == ',');
    }
    return 0;
}

int filem_superseded_index_add(const char *jobdir)
{
    char base[PATH_MAX], entry[PATH_MAX + 32];
    if ((size_t)snprintf(base, sizeof base, "%s", jobdir) >= sizeof base)
        return -ENAMETOOLONG;
    char *name = strrchr(base, '/');
    if (!name || name == base || !name[1])
        return -EINVAL;
    *name++ = 0;
    if (filem_superseded_index_path(base, entry, sizeof entry) < 0)
        return -ENAMETOOLONG;
    if (mkdir(entry, 0700) != 0 && errno != EEXIST)
        return -errno;
    if ((size_t)snprintf(entry + strlen(entry), sizeof entry - strlen(entry), "/%s", name) >=
        sizeof entry - strlen(entry))
        return -ENAMETOOLONG;
    int fd = open(entry, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

int filem_mark_superseded(const char *seqdir, char *err, size_t errlen)
{
    struct filem_meta m;
    filem_meta_init(&m);
    int e = filem_meta_read(seqdir, &m, err, errlen);
    if (e < 0) {
        filem_meta_free(&m);
        return e;
    }
    char by[PATH_MAX], now_hosts[4096];
    const char *h = filem_meta_get(&m, "hosts");
    snprintf(now_hosts, sizeof now_hosts, "%s", h ? h : "");
    snprintf(by, sizeof by, "%s", seqdir);
    char *cut = strrchr(by, '/');
    if (cut && cut != by)
        *cut = 0; /* the new job's directory */
    /* up the chain: parent.jobdir, parent.seq of each committed sequence */
    int rc = 0; /* the first listing that failed */
    for (int depth = 0; depth < 64; depth++) {
        const char *pj = filem_meta_get(&m, "parent.jobdir"), *ps = filem_meta_get(&m, "parent.seq");
        if (!pj || !ps || !*pj || !strcmp(pj, by))
            break;
        char pjob[PATH_MAX], pseqdir[PATH_MAX + 32], mark[PATH_MAX + 32];
        snprintf(pjob, sizeof pjob, "%s", pj);
        snprintf(pseqdir, sizeof pseqdir, "%s/%s", pjob, ps);
        snprintf(mark, sizeof mark, "%s/%s", pjob, FILEM_SUPERSEDED_NAME);
        if (access(mark, F_OK) == 0)
            break; /* marked by an earlier commit, and so are the ones above it */
        struct stat pst;
        if (stat(pjob, &pst) != 0 && errno == ENOENT)
            break; /* removed (the restart said so): no place for a mark, no chain above */
        /* a job still running beside its restart is not superseded (its own commits go on);
         * a later commit of this job marks it once it has ended */
        int alive = filem_job_alive(pjob);
        filem_meta_free(&m);
        filem_meta_init(&m);
        char e2[512];
        if (filem_meta_read(pseqdir, &m, e2, sizeof e2) < 0)
            filem_meta_init(&m); /* its hosts unknown: the mark still goes */
        /* its hosts where the new job runs no rank: nobody of the chain prunes there */
        char stale[4096] = "";
        size_t sl = 0;
        const char *ph = filem_meta_get(&m, "hosts");
        for (const char *s = ph; s && *s;) {
            size_t l = strcspn(s, ",");
            char one[256];
            if (l < sizeof one) {
                memcpy(one, s, l);
                one[l] = 0;
                if (!in_list(now_hosts, one) && sl + l + 2 < sizeof stale)
                    sl += (size_t)snprintf(stale + sl, sizeof stale - sl, "%s%s", sl ? "," : "", one);
            }
            s += l + (s[l] == ',');
        }
        if (alive)
            continue; /* its parents still get their marks (superseded by it) */
        char text[PATH_MAX + 4200];
        int n = snprintf(text, sizeof text, "superseded.by %s\nstale.caches %s\n", by, stale);
        if (n < 0 || (size_t)n >= sizeof text || crs_durable_write_file(mark, text, (size_t)n, 0600,
                                                                         err, errlen) < 0) {
            if (n < 0 || (size_t)n >= sizeof text)
                snprintf(err, errlen, "%s: path too long", mark);
            filem_meta_free(&m);
            return -EIO;
        }
        /* what the agents' sweep reads (local_retain.h): without it the mark is still honoured
         * by ckpt-info and the restart, only the caches wait for the collection (local_gc.h);
         * the jobs above still get their marks (diffrev50 R-M1: a failed listing ended the walk) */
        int ie = filem_superseded_index_add(pjob);
        if (ie < 0 && !rc) {
            snprintf(err, errlen, "%s is marked, but cannot be listed in its snapshot directory's %s%u (its "
                                  "caches on other hosts wait for the agents' collection): %s",
                     pjob, FILEM_SUPERSEDED_INDEX, (unsigned)geteuid(), strerror(-ie));
            rc = ie;
        }
    }
    filem_meta_free(&m);
    return rc;
}

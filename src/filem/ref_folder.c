/* A folder given as a snapshot reference that holds snapshot directories: the --ckpt-dir a
 * job script passes to mpirun and then to restart-mpi at every allocation (review12 LOW-2).
 * A job restarted from that folder writes its own snapshot directory beside its parent's, so
 * at the next allocation the folder holds a restart chain: the directories a restart of them
 * committed carry a `superseded` mark (supersede.c), and the chain's head is the one to take
 * (newuser14 F1: the choice by directory mtime named the superseded parent "newest", since the
 * parent's directory is touched when its restart ends). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "filem/filem.h"
#include "filem/local_retain.h"
#include "filem/ref_folder.h"

int filem_superseded_by(const char *jobdir, char *by, size_t len)
{
    char path[PATH_MAX + 32], err[256];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", jobdir, FILEM_SUPERSEDED_NAME) >= sizeof path)
        return 0;
    char *b = NULL;
    size_t n = 0;
    if (filem_read_private_file(path, FILEM_FILE_MAX, &b, &n, err, sizeof err) < 0)
        return 0;
    if (len)
        by[0] = 0;
    for (char *l = b; l && l < b + n;) {
        char *nl = memchr(l, '\n', (size_t)(b + n - l));
        size_t ll = nl ? (size_t)(nl - l) : (size_t)(b + n - l);
        if (ll > 14 && !strncmp(l, "superseded.by ", 14) && len)
            snprintf(by, len, "%.*s", (int)(ll - 14), l + 14);
        l = nl ? nl + 1 : NULL;
    }
    free(b);
    return 1;
}

static int job_dir_name(const char *b)
{
    size_t n = strlen(b), pl = strlen(FILEM_JOB_PREFIX), sl = strlen(FILEM_JOB_SUFFIX);
    return n > pl + sl && strncmp(b, FILEM_JOB_PREFIX, pl) == 0 &&
           strncmp(b + n - sl, FILEM_JOB_SUFFIX, sl) == 0;
}

struct job {
    char name[256];
    int64_t newest;   /* committed_at of its newest committed sequence; -1: none committed */
    int superseded;
    struct timespec mt;
};

/* newer first: by the newest commit (what "newest" means to a user), then by mtime */
static int newer(const struct job *a, const struct job *b)
{
    if (a->newest != b->newest)
        return a->newest > b->newest;
    if (a->mt.tv_sec != b->mt.tv_sec)
        return a->mt.tv_sec > b->mt.tv_sec;
    return a->mt.tv_nsec > b->mt.tv_nsec;
}

static int64_t newest_commit(const char *jobdir)
{
    struct filem_seq_info *v = NULL;
    int n = 0;
    char err[512];
    int64_t t = -1;
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_COMMITTED && v[i].committed_at > t)
            t = v[i].committed_at;
    free(v);
    return t;
}

#define JOBS_NAMED 3

int filem_folder_job_dir(const char *dir, const char *ref, char *jobdir, size_t len, char *err,
                         size_t errlen)
{
    struct job top[JOBS_NAMED], head = {.newest = -1};
    int n = 0, kept = 0, heads = 0, superseded = 0, empty = 0;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        char p[PATH_MAX + 256];
        struct stat st;
        if (!job_dir_name(de->d_name) || strlen(de->d_name) >= sizeof top[0].name ||
            (size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= sizeof p ||
            stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        struct job j = {.newest = newest_commit(p), .superseded = filem_superseded_by(p, NULL, 0),
                        .mt = st.st_mtim};
        snprintf(j.name, sizeof j.name, "%s", de->d_name);
        n++;
        superseded += j.superseded;
        empty += !j.superseded && j.newest < 0;
        if (!j.superseded && j.newest >= 0) {
            heads++;
            head = j;
        }
        /* keep the JOBS_NAMED newest, for the refusal's words */
        int i = kept < JOBS_NAMED ? kept++ : JOBS_NAMED;
        while (i > 0 && newer(&j, &top[i - 1])) {
            if (i < JOBS_NAMED)
                top[i] = top[i - 1];
            i--;
        }
        if (i < JOBS_NAMED)
            top[i] = j;
    }
    if (d)
        closedir(d);
    if (n == 0)
        return 1;
    const char *sep = ref[strlen(ref) - 1] == '/' ? "" : "/";
    if (n == 1 || heads == 1) {
        const struct job *j = n == 1 ? &top[0] : &head;
        if ((size_t)snprintf(jobdir, len, "%s/%s", dir, j->name) >= len)
            return -ENAMETOOLONG;
        if (n == 1)
            filem_fmt(err, errlen, "%s holds one snapshot directory: using %s%s%s", ref, ref, sep,
                      j->name);
        else {
            char why[128];
            if (superseded && empty)
                snprintf(why, sizeof why, "%d superseded by a restart of them, %d with no committed "
                         "snapshot", superseded, empty);
            else if (superseded)
                snprintf(why, sizeof why, "%d superseded by a restart of them", superseded);
            else
                snprintf(why, sizeof why, "%d with no committed snapshot", empty);
            filem_fmt(err, errlen,
                      "%s holds %d snapshot directories: using %s%s%s, the only one with a "
                      "committed snapshot that no restart superseded (%s)",
                      ref, n, ref, sep, j->name, why);
        }
        return 0;
    }
    char names[3 * PATH_MAX] = "";
    size_t o = 0;
    for (int i = 0; i < kept && o < sizeof names; i++)
        o += (size_t)snprintf(names + o, sizeof names - o, "%s%s%s%s%s", i ? ", " : "", ref, sep,
                              top[i].name,
                              top[i].superseded ? " (superseded by a restart)"
                              : top[i].newest < 0 ? " (no committed snapshot)" : "");
    if (n > kept && o < sizeof names)
        snprintf(names + o, sizeof names - o, " and %d more", n - kept);
    filem_fmt(err, errlen,
              "%s holds %d snapshot directories (newest commit first: %s): give one of them as the "
              "reference",
              ref, n, names);
    return -EINVAL;
}

/* A saved directory put back in place, entry by entry (files_merge.h). */
#define _GNU_SOURCE
#include "filem/files_merge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filem/filem.h"

static void keep_add(struct filem_files_keep *k, const char *path, int follow, const char *why)
{
    struct stat st;
    if (k->n >= FILEM_KEEP_MAX || (follow ? stat(path, &st) : lstat(path, &st)) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        return;
    for (int i = 0; i < k->n; i++)
        if (k->v[i].dev == st.st_dev && k->v[i].ino == st.st_ino)
            return;
    k->v[k->n].dev = st.st_dev;
    k->v[k->n].ino = st.st_ino;
    snprintf(k->v[k->n].why, sizeof k->v[k->n].why, "%s", why);
    k->n++;
}

void filem_files_keep_init(struct filem_files_keep *k)
{
    k->n = 0;
    /* stdout and stderr first: what a user redirects */
    keep_add(k, "/proc/self/fd/1", 1, "restart-mpi's standard output");
    keep_add(k, "/proc/self/fd/2", 1, "restart-mpi's standard error");
    keep_add(k, "/proc/self/fd/0", 1, "restart-mpi's standard input");
    keep_add(k, "/proc/self/cwd", 1, "restart-mpi's working directory");
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/cwd", (int)getppid());
    keep_add(k, p, 1, "the working directory of restart-mpi's parent");
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || fd < 3 || fd == self)
            continue;
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        keep_add(k, p, 1, "a file restart-mpi has open");
    }
    closedir(d);
}

static const char *kept_why(const struct filem_files_keep *k, const struct stat *st)
{
    for (int i = 0; k && i < k->n; i++)
        if (k->v[i].dev == st->st_dev && k->v[i].ino == st->st_ino)
            return k->v[i].why;
    return NULL;
}

/* one phrase of the summary: PATH kept, made since the snapshot, or (saved) as it is instead of
 * the snapshot's copy */
static void say(char *said, size_t saidlen, const char *path, const char *why, int saved)
{
    size_t o = said ? strlen(said) : 0;
    if (said && o < saidlen)
        filem_fmt(said + o, saidlen - o, "%skept %s, %s (%s)", o ? "; " : "", path,
                  saved ? "not the snapshot's copy" : "made since the snapshot", why);
}

/* Removes PATH (what the job made since), all but what k keeps (and the directories holding
 * it): how many entries were kept. Best effort, as the old tree's removal was. */
static int remove_but_kept(const char *path, const struct filem_files_keep *k, char *said,
                           size_t saidlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    const char *why = kept_why(k, &st);
    int kept = 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                char sub[PATH_MAX];
                int l = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                if (l > 0 && (size_t)l < sizeof sub)
                    kept += remove_but_kept(sub, k, said, saidlen);
            }
            closedir(d);
        }
        if (why) {
            say(said, saidlen, path, why, 0);
            return kept + 1;
        }
        if (!kept)
            rmdir(path);
        return kept;
    }
    if (why) {
        say(said, saidlen, path, why, 0);
        return 1;
    }
    unlink(path);
    return 0;
}

/* 1 when name is an entry of the directory DIRP (lstat) */
static int has(const char *dir, const char *name, struct stat *st)
{
    char p[PATH_MAX];
    return filem_fmt(p, sizeof p, "%s/%s", dir, name) < (int)sizeof p && lstat(p, st) == 0;
}

int filem_files_merge(const char *from, const char *into, const struct filem_files_keep *k,
                      char *said, size_t saidlen, char *err, size_t errlen)
{
    int e = 0;
    struct stat is;
    /* entries go in and out of INTO: u+w meanwhile (the saved mode is set after, by the
     * caller, with the time) */
    if (lstat(into, &is) == 0 && (is.st_mode & 0300) != 0300 &&
        chmod(into, (is.st_mode & 07777) | 0300) < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot make %s writable to put it back: %s", into, strerror(-e));
        return e;
    }
    /* 1. what INTO holds and FROM does not: made since the snapshot */
    DIR *d = opendir(into);
    if (!d) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the directory %s: %s", into, strerror(-e));
        return e;
    }
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || has(from, de->d_name, &st))
            continue;
        char p[PATH_MAX];
        if (filem_fmt(p, sizeof p, "%s/%s", into, de->d_name) < (int)sizeof p)
            remove_but_kept(p, k, said, saidlen);
    }
    closedir(d);
    /* 2. FROM's entries into INTO */
    if (!(d = opendir(from))) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the directory %s: %s", from, strerror(-e));
        return e;
    }
    while (e == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char t[PATH_MAX], p[PATH_MAX];
        struct stat ts, ds;
        if (filem_fmt(t, sizeof t, "%s/%s", from, de->d_name) >= (int)sizeof t ||
            filem_fmt(p, sizeof p, "%s/%s", into, de->d_name) >= (int)sizeof p) {
            filem_fmt(err, errlen, "%s/%s: path too long", into, de->d_name);
            e = -ENAMETOOLONG;
            break;
        }
        if (lstat(t, &ts) < 0)
            continue;
        int have = lstat(p, &ds) == 0;
        if (have && S_ISDIR(ts.st_mode) && S_ISDIR(ds.st_mode)) {
            e = filem_files_merge(t, p, k, said, saidlen, err, errlen); /* kept: the same directory */
            continue;
        }
        if (have) {
            const char *why = kept_why(k, &ds);
            if (why && S_ISREG(ds.st_mode)) {
                /* the caller's own open file has the saved entry's name: it stays */
                say(said, saidlen, p, why, 1);
                continue;
            }
            if (S_ISDIR(ds.st_mode) || S_ISDIR(ts.st_mode)) {
                /* a directory where a file or link goes, or the other way round */
                if (remove_but_kept(p, k, said, saidlen))
                    continue; /* something in use is in it: left, said */
                if (lstat(p, &ds) == 0 && unlink(p) < 0 && errno != ENOENT) {
                    e = -errno;
                    filem_fmt(err, errlen, "cannot remove %s to put it back: %s", p, strerror(-e));
                    break;
                }
            }
        }
        if (rename(t, p) < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot put %s back: %s", p, strerror(-e));
        }
    }
    closedir(d);
    /* the renames into INTO durable, as the file's own rename is */
    int fd = e == 0 ? open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    return e;
}

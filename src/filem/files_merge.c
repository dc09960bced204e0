/* A saved directory put back in place, entry by entry (files_merge.h). */
#define _GNU_SOURCE
#include "filem/files_merge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/files_remove.h"

/* The merge's summary: the kept entries' phrases go into said as they come; the removed ones
 * are gathered (a directory removed whole stands for its members) and said once at the end */
struct merge {
    const struct filem_files_keep *k;
    char *said;
    size_t saidlen;
    struct gone {
        char *path;
        int dir;
    } *gone;
    size_t ngone, cap;
};

/* Appends one phrase to the summary, "; " before it unless it is the first */
static void said_add(struct merge *mg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void said_add(struct merge *mg, const char *fmt, ...)
{
    size_t o = mg->said ? strlen(mg->said) : 0;
    if (!mg->said || o >= mg->saidlen)
        return;
    if (o) {
        filem_fmt(mg->said + o, mg->saidlen - o, "; ");
        o = strlen(mg->said);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mg->said + o, mg->saidlen - o, fmt, ap);
    va_end(ap);
}

/* one phrase of the summary: PATH kept, made since the snapshot, or (saved) as it is instead of
 * the snapshot's copy */
static void say(struct merge *mg, const char *path, const char *why, int saved)
{
    said_add(mg, "kept %s, %s (%s)", path,
             saved ? "not the snapshot's copy" : "made since the snapshot", why);
}

static const char *kept_any(const struct stat *st, void *arg)
{
    return filem_files_kept(((struct merge *)arg)->k, st);
}

static void tell(const char *path, const char *why, int dir, void *arg)
{
    struct merge *mg = arg;
    if (why) {
        say(mg, path, why, 0);
        return;
    }
    if (dir) { /* told after its members: it stands for them */
        size_t l = strlen(path), j = 0;
        for (size_t i = 0; i < mg->ngone; i++) {
            if (!strncmp(mg->gone[i].path, path, l) && mg->gone[i].path[l] == '/')
                free(mg->gone[i].path);
            else
                mg->gone[j++] = mg->gone[i];
        }
        mg->ngone = j;
    }
    if (mg->ngone == mg->cap) {
        size_t cap = mg->cap ? 2 * mg->cap : 16;
        struct gone *v = realloc(mg->gone, cap * sizeof *v);
        if (!v)
            return; /* only the summary is short of it */
        mg->gone = v;
        mg->cap = cap;
    }
    if ((mg->gone[mg->ngone].path = strdup(path)))
        mg->gone[mg->ngone++].dir = dir;
}

/* Removes NAME of INTO (INTOFD; P its path): what the job made since, all but what is in use
 * (and the directories holding it). How many entries were kept. */
static int remove_but_kept(int intofd, const char *name, const char *p, struct merge *mg)
{
    const struct filem_remove_ops ops = {.kept = kept_any, .tell = tell, .arg = mg};
    return filem_remove_at(intofd, name, p, &ops);
}

/* The removed entries in one phrase: "removed, made since the snapshot and used by no process:
 * A, B/ (with all in it), ... and N more" */
#define GONE_NAMED 10
static void say_gone(struct merge *mg)
{
    size_t o = mg->said ? strlen(mg->said) : 0;
    for (size_t i = 0; mg->said && i < mg->ngone && i < GONE_NAMED && o < mg->saidlen; i++) {
        filem_fmt(mg->said + o, mg->saidlen - o, "%s%s%s", i ? ", " : o ? "; removed, made since "
                  "the snapshot and used by no process: " : "removed, made since the snapshot "
                  "and used by no process: ", mg->gone[i].path,
                  mg->gone[i].dir ? "/ (with all in it)" : "");
        o = strlen(mg->said);
    }
    if (mg->said && mg->ngone > GONE_NAMED && o < mg->saidlen)
        filem_fmt(mg->said + o, mg->saidlen - o, " and %zu more", mg->ngone - GONE_NAMED);
    for (size_t i = 0; i < mg->ngone; i++)
        free(mg->gone[i].path);
    free(mg->gone);
    mg->gone = NULL;
    mg->ngone = mg->cap = 0;
}

/* 1 when name is an entry of the directory DIRP (lstat) */
static int has(const char *dir, const char *name, struct stat *st)
{
    char p[PATH_MAX];
    return filem_fmt(p, sizeof p, "%s/%s", dir, name) < (int)sizeof p && lstat(p, st) == 0;
}

static int merge(const char *from, const char *into, struct merge *mg, char *err, size_t errlen)
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
    int intofd = open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dfd = intofd < 0 ? -1 : fcntl(intofd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    if (!d) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the directory %s: %s", into, strerror(-e));
        if (dfd >= 0)
            close(dfd);
        if (intofd >= 0)
            close(intofd);
        return e;
    }
    /* 1. what INTO holds and FROM does not: made since the snapshot */
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || has(from, de->d_name, &st))
            continue;
        char p[PATH_MAX];
        if (filem_fmt(p, sizeof p, "%s/%s", into, de->d_name) < (int)sizeof p)
            remove_but_kept(intofd, de->d_name, p, mg);
    }
    closedir(d);
    /* 2. FROM's entries into INTO */
    if (!(d = opendir(from))) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the directory %s: %s", from, strerror(-e));
        close(intofd);
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
            e = merge(t, p, mg, err, errlen); /* kept: the same directory */
            continue;
        }
        if (have) {
            /* restart-mpi's own redirected output has the saved entry's name: it stays. Any
             * other writer (a leftover of the old job, tee) does not keep it: the restarted job
             * would run from its image with a later step's file (diffrev39 R-H1); the
             * snapshot's copy goes back and the writer is named (it writes on into the old file) */
            const struct filem_inuse *u = S_ISREG(ds.st_mode) ? filem_files_inuse(mg->k, &ds) : NULL;
            if (u && u->own_writer) {
                say(mg, p, u->why, 1);
                continue;
            }
            if (u && u->writer)
                said_add(mg, "put back the snapshot's %s although it was %s for writing (that "
                         "process writes on into the replaced file; end it if it belongs to the "
                         "old job)", p, u->why);
            if (S_ISDIR(ds.st_mode) || S_ISDIR(ts.st_mode)) {
                /* a directory where a file or link goes, or the other way round */
                if (remove_but_kept(intofd, de->d_name, p, mg))
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
    if (e == 0)
        (void)fsync(intofd);
    close(intofd);
    return e;
}

int filem_files_merge(const char *from, const char *into, const struct filem_files_keep *k,
                      char *said, size_t saidlen, char *err, size_t errlen)
{
    struct merge mg = {.k = k, .said = said, .saidlen = saidlen};
    int e = merge(from, into, &mg, err, errlen);
    say_gone(&mg);
    return e;
}

/* Renames PATH (NAME in PFD) to PATH.TAG, or PATH.TAG.2 ... when taken (renameat2 NOREPLACE: never
 * over anything). 0 with the new path in to, or -errno. */
#define ASIDE_TRIES 100
static int set_aside(int pfd, const char *name, const char *path, const char *tag, char *to,
                     size_t tolen)
{
    for (int i = 1; i <= ASIDE_TRIES; i++) {
        char nn[NAME_MAX + 1];
        int l = i == 1 ? snprintf(nn, sizeof nn, "%s.%s", name, tag)
                       : snprintf(nn, sizeof nn, "%s.%s.%d", name, tag, i);
        if (l < 0 || l >= (int)sizeof nn)
            return -ENAMETOOLONG;
        if (renameat2(pfd, name, pfd, nn, RENAME_NOREPLACE) == 0) {
            filem_fmt(to, tolen, "%.*s%s", (int)(strlen(path) - strlen(name)), path, nn);
            return 0;
        }
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int filem_files_remove_made(const char *path, const struct filem_files_keep *k, const char *tag,
                            char *said, size_t saidlen)
{
    struct merge mg = {.k = k, .said = said, .saidlen = saidlen};
    char parent[PATH_MAX];
    filem_fmt(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || !slash[1])
        return 0;
    const char *name = path + (slash - parent) + 1;
    if (slash == parent)
        slash[1] = 0; /* in / */
    else
        *slash = 0;
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return 0;
    /* used by no process: moved aside whole, so that a restart from the wrong snapshot, or one
     * that fails after this, loses nothing (diffrev46 R-L5); what a process uses must stay at
     * its name, so then the rest is removed as in a saved directory */
    char to[PATH_MAX];
    struct stat st;
    if (tag && (!k || k->n == 0) && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        int e = set_aside(pfd, name, path, tag, to, sizeof to);
        close(pfd);
        const char *slash_if_dir = S_ISDIR(st.st_mode) ? "/" : "";
        if (e == 0)
            said_add(&mg, "moved aside, made since the snapshot and used by no process: %s%s -> %s "
                     "(remove it once it is not needed)", path, slash_if_dir, to);
        else /* a name too long for the tag, a mount point (EBUSY), a parent that refuses:
              * removing it instead could empty a volume mounted there (diffrev47 R-L3) */
            said_add(&mg, "left %s%s, made since the snapshot: it cannot be moved aside to %s.%s "
                     "(%s); move it away yourself if the program must not find it", path,
                     slash_if_dir, path, tag, strerror(-e));
        return 0;
    }
    int kept = remove_but_kept(pfd, name, path, &mg);
    close(pfd);
    say_gone(&mg);
    return kept;
}

/* What running processes use under the directories a restore puts back (files_inuse.h). */
#define _GNU_SOURCE
#include "filem/files_inuse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"

struct scan {
    struct filem_files_keep *k;
    char **dirs; /* canonical */
    int n;
    long me; /* this process as /proc names it (done first, as "self") */
};

/* 1 when PATH (as the kernel names it) is one of the directories or lies in one */
static int under_dirs(const struct scan *s, const char *path)
{
    for (int i = 0; i < s->n; i++) {
        size_t l = strlen(s->dirs[i]);
        if (!strncmp(path, s->dirs[i], l) && (path[l] == '/' || !path[l] || l == 1))
            return 1;
    }
    return 0;
}

const struct filem_inuse *filem_files_inuse(const struct filem_files_keep *k, const struct stat *st)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (k->v[i].dev == st->st_dev && k->v[i].ino == st->st_ino)
            return &k->v[i];
    return NULL;
}

static void add(struct filem_files_keep *k, const struct stat *st, int writer, int own,
                const char *why)
{
    struct filem_inuse *u = (struct filem_inuse *)filem_files_inuse(k, st);
    if (u) {
        if (writer && !own && !u->writer)
            snprintf(u->why, sizeof u->why, "%s", why); /* name the writer */
        u->writer |= writer; /* else the first phrase stays: the caller's own first */
        u->own_writer |= writer && own;
        return;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        struct filem_inuse *v = realloc(k->v, cap * sizeof *v);
        if (!v)
            return; /* out of memory: left out, as the header says */
        k->v = v;
        k->cap = cap;
    }
    u = &k->v[k->n++];
    u->dev = st->st_dev;
    u->ino = st->st_ino;
    u->writer = writer;
    u->own_writer = writer && own;
    snprintf(u->why, sizeof u->why, "%s", why);
}

/* LINK (/proc/PID/fd/N or /proc/PID/cwd): added when it leads under the directories. WHO names
 * the process for the phrase; SELF_WHY (may be NULL) is the phrase for the caller's own. */
static void look(struct scan *s, const char *link, int cwd, const char *who, const char *self_why)
{
    char to[PATH_MAX];
    ssize_t l = readlink(link, to, sizeof to - 1);
    if (l <= 0)
        return;
    to[l] = 0;
    struct stat st, ls;
    if (to[0] != '/' || !under_dirs(s, to) || stat(link, &st) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        return;
    /* an fd link's own mode says how it is open: u+w for writing */
    int writer = cwd || (lstat(link, &ls) == 0 && (ls.st_mode & S_IWUSR));
    char why[128];
    if (self_why)
        snprintf(why, sizeof why, "%s", self_why);
    else
        snprintf(why, sizeof why, "%s %s", cwd ? "the working directory of" : "open by", who);
    add(s->k, &st, writer, self_why != NULL, why);
}

/* One process being looked at: P "/proc/PID" or "/proc/self" */
struct proc {
    struct scan *s;
    int self;
    char p[32], who[80];
};

static long each_fd(long fd, int dirfd, void *arg)
{
    static const char *const std_why[3] = {"restart-mpi's standard input",
                                           "restart-mpi's standard output",
                                           "restart-mpi's standard error"};
    struct proc *pr = arg;
    char link[64];
    if (pr->self && fd == dirfd)
        return 0; /* the walk's own */
    snprintf(link, sizeof link, "%s/fd/%ld", pr->p, fd);
    look(pr->s, link, 0, pr->who,
         !pr->self ? NULL : fd <= 2 ? std_why[fd] : "a file restart-mpi has open");
    return 0;
}

/* One process's descriptors and working directory (PID 0: the caller) */
static void scan_proc(struct scan *s, long pid)
{
    struct proc pr = {.s = s, .self = pid == 0};
    char f[64], comm[32] = "";
    if (pid == 0)
        snprintf(pr.p, sizeof pr.p, "/proc/self");
    else
        snprintf(pr.p, sizeof pr.p, "/proc/%ld", pid);
    snprintf(f, sizeof f, "%s/cwd", pr.p);
    if (!pid)
        snprintf(pr.who, sizeof pr.who, "restart-mpi");
    else {
        if (revive_proc_read((pid_t)pid, 0, "comm", comm, sizeof comm) > 0)
            comm[strcspn(comm, "\n")] = 0;
        snprintf(pr.who, sizeof pr.who, "%s, pid %ld", comm[0] ? comm : "a process", pid);
    }
    look(s, f, 1, pr.who, pid ? NULL : "restart-mpi's working directory");
    snprintf(f, sizeof f, "%s/fd", pr.p);
    (void)revive_proc_for_each_number(f, each_fd, &pr); /* another user's: not readable */
}

static long each_pid(long pid, int dirfd, void *arg)
{
    (void)dirfd;
    struct scan *s = arg;
    if (pid != s->me)
        scan_proc(s, pid);
    return 0;
}

void filem_files_keep_init(struct filem_files_keep *k, const char *const *dirs, int n)
{
    k->n = k->cap = 0;
    k->v = NULL;
    struct scan s = {.k = k, .dirs = calloc(n > 0 ? (size_t)n : 1, sizeof(char *))};
    if (!s.dirs)
        return;
    for (int i = 0; i < n; i++)
        if ((s.dirs[s.n] = realpath(dirs[i], NULL)))
            s.n++;
    if (s.n) {
        s.me = revive_proc_self_pid();
        scan_proc(&s, 0); /* the caller's own first: its standard output named as such */
        (void)revive_proc_for_each_number("/proc", each_pid, &s);
    }
    for (int i = 0; i < s.n; i++)
        free(s.dirs[i]);
    free(s.dirs);
}

void filem_files_keep_free(struct filem_files_keep *k)
{
    free(k->v);
    k->v = NULL;
    k->n = k->cap = 0;
}

const char *filem_files_kept(const struct filem_files_keep *k, const struct stat *st)
{
    const struct filem_inuse *u = filem_files_inuse(k, st);
    return u ? u->why : NULL;
}

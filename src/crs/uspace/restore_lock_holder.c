/* Who holds the lock a restart cannot take again, for its refusal.
 *
 * /proc/locks names, per lock, the pid that took it: -1 for an open file
 * description (OFD) lock, which belongs to no process (the old parser read
 * the "1" of "-1" and named process 1: review MEDIUM-4), and for a flock
 * lock the process that took it, which may have ended while a process that
 * inherited the descriptor holds it on. The kernel lists the locks held
 * through an open file, and by whom, in the "lock:" lines of each descriptor's
 * /proc/PID/fdinfo: a process with such a line for a descriptor of the file
 * holds a lock on it now, whatever the kind. So that first, through the
 * outer /proc when the restart runs in a pid namespace of its own; else the
 * pid /proc/locks gives, when it is a real one; else nobody is named. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct lock_search {
    int procfd;          /* the /proc to look in */
    dev_t dev;           /* the locked file, as fstat shows it */
    ino_t ino;
    pid_t self;          /* the restored process, as that /proc names it */
    pid_t pid;           /* the process being looked through */
    pid_t found;
};

/* Whether /proc/PID/fdinfo/FD has a "lock:" line: a lock held through that descriptor. */
static int fdinfo_lock(int procfd, pid_t pid, long fd)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "%d/fdinfo/%ld", (int)pid, fd);
    int f = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(f, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(f);
    buf[got] = 0;
    return !strncmp(buf, "lock:", 5) || strstr(buf, "\nlock:") != NULL;
}

static long fd_locked(long n, int dirfd, void *arg)
{
    struct lock_search *s = arg;
    char name[24];
    struct stat st;
    snprintf(name, sizeof name, "%ld", n);
    if (fstatat(dirfd, name, &st, 0) != 0 || st.st_dev != s->dev || st.st_ino != s->ino)
        return 0;
    return fdinfo_lock(s->procfd, s->pid, n);
}

static long proc_locked(long n, int dirfd, void *arg)
{
    struct lock_search *s = arg;
    (void)dirfd;
    if ((pid_t)n == s->self)
        return 0;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/self/fd/%d/%ld/fd", s->procfd, n);
    s->pid = (pid_t)n;
    if (revive_proc_for_each_number(dir, fd_locked, s) != 1)
        return 0;
    s->found = (pid_t)n;
    return 1;
}

/* The pid /proc/locks gives for a granted lock on the file with key " MAJ:MIN:INO ", when it
 * is a process (not -1, an OFD lock's), other than self, that /proc still shows; 0: none. */
static pid_t locks_pid(int procfd, const char *key, pid_t self)
{
    char buf[1 << 16];
    int lf = openat(procfd, "locks", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    ssize_t n;
    while (lf >= 0 && got < sizeof buf - 1 && (n = read(lf, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    if (lf >= 0)
        close(lf);
    buf[got] = 0;
    for (char *line = buf; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        char *k = strstr(line, key);
        /* "N: KIND MODE TYPE PID MAJ:MIN:INO START END"; a waiter's line has "->" */
        if (k && !strstr(line, "->")) {
            char *q = k;
            while (q > line && q[-1] >= '0' && q[-1] <= '9')
                q--;
            const char *p = q;   /* the pid: the number right before the key, "-1" is none */
            int64_t pid;
            struct stat st;
            char dir[24];
            if (q > line && q[-1] == ' ' && !revive_parse_i64(&p, &pid) && pid > 0 && pid != self) {
                snprintf(dir, sizeof dir, "%lld", (long long)pid);
                if (fstatat(procfd, dir, &st, 0) == 0)
                    return (pid_t)pid;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

pid_t crs_restore_lock_holder(struct crs_restore *r, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    int own = r->outer_proc_fd < 0;
    struct lock_search s = {
        .procfd = own ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : r->outer_proc_fd,
        .dev = st.st_dev,
        .ino = st.st_ino,
        .self = own ? revive_proc_self_pid() : r->outer_pid,
    };
    if (s.procfd < 0)
        return 0;
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/self/fd/%d", s.procfd);
    revive_proc_for_each_number(dir, proc_locked, &s);
    if (!s.found) {
        char key[64];
        snprintf(key, sizeof key, " %02x:%02x:%llu ", major(st.st_dev), minor(st.st_dev),
                 (unsigned long long)st.st_ino);
        s.found = locks_pid(s.procfd, key, s.self);
    }
    if (own)
        close(s.procfd);
    return s.found;
}

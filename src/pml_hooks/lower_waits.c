/* Which of the MPI library's opens and closes may wait (lower_waits.h). System calls only: the
 * lower root logs nothing and may run in any thread of the library's. errno is left as it was
 * (the call that follows is the library's). */
#define _GNU_SOURCE
#include "pml_hooks/lower_waits.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A terminal: its open may wait for the line (carrier), its close for its output to drain. Linux's
 * fixed majors: 4 (virtual consoles, serial ttyS), 5 (/dev/tty, /dev/console, /dev/ptmx), 136-143
 * (pseudo-terminal slaves, /dev/pts). */
static int tty_major(unsigned m)
{
    return m == 4 || m == 5 || (m >= 136 && m <= 143);
}

int pml_lower_kind_waits(unsigned mode, unsigned long rdev, int accmode, int closing)
{
    if (S_ISFIFO(mode)) /* the open waits for the other end (Linux's O_RDWR does not); a close never */
        return !closing && accmode != O_RDWR;
    return S_ISCHR(mode) && tty_major(major(rdev));
}

static int kind_waits(const struct stat *st, int accmode)
{
    return pml_lower_kind_waits(st->st_mode, st->st_rdev, accmode, 0);
}

int pml_lower_open_waits(int dir, const char *path, int flags)
{
    if (!path || (flags & (O_NONBLOCK | O_PATH)))
        return 0;
    int e = errno;
    struct stat st;
    int r = (int)syscall(SYS_newfstatat, dir, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0);
    errno = e;
    return r == 0 && kind_waits(&st, flags & O_ACCMODE);
}

int pml_lower_fopen_waits(const char *path, const char *mode, int fd)
{
    int acc = O_RDONLY;
    if (mode && (mode[0] == 'w' || mode[0] == 'a'))
        acc = O_WRONLY;
    for (const char *m = mode; m && *m; m++)
        if (*m == '+')
            acc = O_RDWR;
    int e = errno;
    struct stat st;
    int r = (int)(path ? syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) : syscall(SYS_fstat, fd, &st));
    errno = e;
    return r == 0 && kind_waits(&st, acc);
}

static int close_kind_waits(int fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0)
        return 0;
    if (S_ISSOCK(st.st_mode)) {
        struct linger l;
        socklen_t n = sizeof l;
        return syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_LINGER, &l, &n) == 0 && l.l_onoff && l.l_linger > 0;
    }
    return pml_lower_kind_waits(st.st_mode, st.st_rdev, 0, 1);
}

int pml_lower_close_waits(int fd)
{
    int e = errno;
    int w = close_kind_waits(fd);
    errno = e;
    return w;
}

/* ---- NSS (lower_waits.h) ---- */
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* the sources of one database's line [p, end): 1 when one may wait */
static int sources_wait(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p == '#')
            break;
        const char *t = p;
        if (*p == '[') { /* an action, [NOTFOUND=return] */
            while (p < end && *p != ']')
                p++;
            p++;
            continue;
        }
        while (p < end && !is_space(*p) && *p != '[' && *p != '#')
            p++;
        size_t n = (size_t)(p - t);
        if (!((n == 5 && !memcmp(t, "files", 5)) || (n == 2 && !memcmp(t, "db", 2)) ||
              (n == 10 && !memcmp(t, "myhostname", 10))))
            return 1;
    }
    return 0;
}

/* the line of DB in conf: its sources' start, *end set; NULL when none */
static const char *db_line(const char *conf, unsigned long len, const char *db, const char **end)
{
    size_t dl = strlen(db);
    const char *p = conf, *stop = conf + len;
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        if (!eol)
            eol = stop;
        const char *q = p;
        while (q < eol && is_space(*q))
            q++;
        if ((size_t)(eol - q) > dl && !memcmp(q, db, dl)) {
            const char *c = q + dl;
            while (c < eol && is_space(*c))
                c++;
            if (c < eol && *c == ':') {
                *end = eol;
                return c + 1;
            }
        }
        p = eol + 1;
    }
    return NULL;
}

int pml_lower_nss_rule(const char *conf, unsigned long len, const char *db)
{
    const char *end = NULL, *src = conf ? db_line(conf, len, db, &end) : NULL;
    if (!src && conf && !strcmp(db, "initgroups"))
        src = db_line(conf, len, "group", &end);
    if (!src)
        return !strcmp(db, "hosts"); /* glibc's defaults: dns [!UNAVAIL=return] files; files */
    return sources_wait(src, end);
}

static long read_small(const char *path, char *buf, unsigned long cap);

static int nss_decide(const char *db)
{
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, "/var/run/nscd/socket", &st, 0) == 0)
        return 1;
    char buf[16384];
    long n = read_small("/etc/nsswitch.conf", buf, sizeof buf);
    if (n < 0)
        return errno == ENOENT ? pml_lower_nss_rule(NULL, 0, db) : 1;
    return pml_lower_nss_rule(buf, (unsigned long)n, db);
}

int pml_lower_nss_waits(const char *db)
{
    static const char *const dbs[] = { "passwd", "group", "initgroups", "hosts", "services" };
    static int known[5]; /* 0 not read yet, else 1 + the answer */
    int e = errno;
    int i = 0;
    while (i < 5 && strcmp(dbs[i], db))
        i++;
    int w;
    if (i == 5)
        w = 1;
    else if ((w = __atomic_load_n(&known[i], __ATOMIC_RELAXED)))
        w -= 1;
    else {
        w = nss_decide(db);
        __atomic_store_n(&known[i], w + 1, __ATOMIC_RELAXED);
    }
    errno = e;
    return w;
}

int pml_lower_hosts_files_first(const char *conf, unsigned long len)
{
    const char *end = NULL, *p = conf ? db_line(conf, len, "hosts", &end) : NULL;
    if (!p)
        return 0; /* glibc's default starts with dns */
    while (p < end && is_space(*p))
        p++;
    return end - p >= 5 && !memcmp(p, "files", 5) && (end - p == 5 || is_space(p[5]) || p[5] == '[');
}

static int lower_c(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int pml_lower_hosts_lists(const char *hosts, unsigned long len, const char *name)
{
    size_t nl = strlen(name);
    const char *p = hosts, *stop = hosts + len;
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        if (!eol)
            eol = stop;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        const char *e = hash ? hash : eol;
        int field = 0;
        while (p < e) {
            while (p < e && (is_space(*p)))
                p++;
            const char *t = p;
            while (p < e && !is_space(*p))
                p++;
            if (p == t)
                break;
            if (field++ > 0 && (size_t)(p - t) == nl) { /* a name or an alias, after the address */
                size_t i = 0;
                while (i < nl && lower_c(t[i]) == lower_c(name[i]))
                    i++;
                if (i == nl)
                    return 1;
            }
        }
        p = eol + 1;
    }
    return 0;
}

/* read a whole small file (at most cap bytes) with raw system calls: its length, or -1 */
static long read_small(const char *path, char *buf, unsigned long cap)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned long len = 0;
    long k;
    while (len < cap && (k = syscall(SYS_read, fd, buf + len, cap - len)) > 0)
        len += (unsigned long)k;
    char more;
    int whole = len < cap || syscall(SYS_read, fd, &more, 1) == 0;
    syscall(SYS_close, fd);
    if (!whole)
        errno = EFBIG;
    return whole ? (long)len : -1;
}

int pml_lower_hosts_local(const char *name)
{
    int e = errno;
    int ok = 0;
    struct stat st;
    if (name && *name && syscall(SYS_newfstatat, AT_FDCWD, "/var/run/nscd/socket", &st, 0) != 0) {
        static char buf[65536]; /* one lookup at a time: the root's callers are few */
        static int busy;
        if (!__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
            long n = read_small("/etc/nsswitch.conf", buf, sizeof buf);
            if (n >= 0 && pml_lower_hosts_files_first(buf, (unsigned long)n)) {
                n = read_small("/etc/hosts", buf, sizeof buf);
                ok = n >= 0 && pml_lower_hosts_lists(buf, (unsigned long)n, name);
            }
            __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
        }
    }
    errno = e;
    return ok;
}

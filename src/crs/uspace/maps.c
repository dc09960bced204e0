#define _GNU_SOURCE
#include "crs/uspace/maps.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

long crs_read_file(const char *path, char *buf, size_t buflen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        if (len + 1 >= buflen) {
            close(fd);
            return -ENOSPC;
        }
        ssize_t r = read(fd, buf + len, buflen - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        len += r;
    }
    close(fd);
    buf[len] = 0;
    return (long)len;
}

static uint64_t parse_hex(char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9') v = v * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v = v * 16 + (c - 'A' + 10);
        else return v;
    }
}

static uint64_t parse_dec(char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (*(*p)++ - '0');
    return v;
}

long crs_maps_read(char *buf, size_t buflen, struct crs_map *maps, size_t cap)
{
    long len = crs_read_file("/proc/self/maps", buf, buflen);
    if (len < 0)
        return len;
    size_t n = 0;
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        *eol = 0;
        if (n == cap)
            return -ENOSPC;
        struct crs_map *m = &maps[n];
        m->start = parse_hex(&p);
        p++;                                   /* '-' */
        m->end = parse_hex(&p);
        p++;                                   /* ' ' */
        m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
                  (p[2] == 'x' ? PROT_EXEC : 0);
        m->shared = p[3] == 's';
        p += 5;
        m->pgoff = parse_hex(&p);
        p++;
        unsigned maj = (unsigned)parse_hex(&p);
        p++;                                   /* ':' */
        unsigned min = (unsigned)parse_hex(&p);
        m->dev = makedev(maj, min);
        p++;
        m->ino = parse_dec(&p);
        while (*p == ' ')
            p++;
        m->name = p;
        n++;
        p = eol + 1;
    }
    return (long)n;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long crs_for_each_number(const char *path, long (*fn)(long n, int dirfd, void *arg), void *arg)
{
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    char buf[8192];
    long ret = 0;
    while (!ret) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n && !ret;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            long v = 0;
            for (const char *q = d->d_name; *q >= '0' && *q <= '9'; q++)
                v = v * 10 + (*q - '0');
            ret = fn(v, dfd, arg);
        }
    }
    close(dfd);
    return ret;
}

/* Knowing the halves apart: /proc/self/maps read line by line into a caller's callback, with a
 * buffer on the stack (no malloc: the queries run while other threads are parked). To be
 * replaced by src/common's /proc reader. */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *hex(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (;; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (d < 0)
            break;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return s;
}

static int parse_line(char *s, struct pml_mline *m)
{
    s = (char *)hex(s, &m->lo);
    if (*s++ != '-')
        return -1;
    s = (char *)hex(s, &m->hi);
    if (*s++ != ' ')
        return -1;
    memcpy(m->perms, s, 4);
    m->perms[4] = 0;
    /* perms offset dev inode, then spaces up to the path */
    for (int f = 0; f < 4; f++) {
        while (*s && *s != ' ')
            s++;
        while (*s == ' ')
            s++;
    }
    m->path = s;
    return 0;
}

int pml_maps_each(int (*cb)(const struct pml_mline *, void *), void *arg)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[8192 + 1];
    size_t have = 0;
    int stop = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            *nl = 0;
            struct pml_mline m;
            if (!stop && parse_line(buf + pos, &m) == 0)
                stop = cb(&m, arg);
            pos = (size_t)(nl + 1 - buf);
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (have == sizeof buf - 1)
            have = 0; /* a line longer than the buffer: drop it */
    }
    close(fd);
    return 0;
}

/* The coordinator's fetch's answer kept and read (fetch_lines.h). */
#define _GNU_SOURCE
#include "snapc/fetch_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void snapc_fetch_out_add(struct snapc_sbuf *out, const char *buf, size_t len)
{
    char piece[1024];
    while (len) {
        size_t n = len < sizeof piece - 1 ? len : sizeof piece - 1;
        for (size_t i = 0; i < n; i++)
            piece[i] = buf[i] ? buf[i] : '?';
        piece[n] = 0;
        snapc_sb_printf(out, "%s", piece);
        buf += n;
        len -= n;
    }
}

/* LINE (LEN bytes, no newline) "got R HOST PATH": GOT called; anything else ignored */
static void got_line(const char *line, size_t len,
                     void (*got)(void *, int, const char *, const char *, size_t), void *arg)
{
    if (len < 4 || strncmp(line, "got ", 4))
        return;
    const char *p = line + 4, *end = line + len;
    char *num_end;
    long r = strtol(p, &num_end, 10);
    if (num_end == p || num_end >= end || *num_end != ' ' || r < 0 || r > 0x7fffffff)
        return;
    p = num_end + 1;
    const char *h = p;
    while (p < end && *p != ' ')
        p++;
    if (p == h || p >= end)
        return; /* no host, or no path after it */
    char host[256];
    size_t hl = (size_t)(p - h) < sizeof host - 1 ? (size_t)(p - h) : sizeof host - 1;
    memcpy(host, h, hl);
    host[hl] = 0;
    const char *path = p + 1;
    if (path >= end)
        return;
    const char *base = memrchr(path, '/', (size_t)(end - path));
    base = base ? base + 1 : path;
    got(arg, (int)r, host, base, (size_t)(end - base));
}

const char *snapc_fetch_lines(const char *out,
                              void (*got)(void *arg, int rank, const char *host, const char *base,
                                          size_t blen),
                              void *arg)
{
    for (const char *s = out; *s;) {
        size_t ll = strcspn(s, "\n");
        if (!strncmp(s, "end ", 4))
            return s[ll] ? s + ll + 1 : s + ll;
        got_line(s, ll, got, arg);
        s += ll + (s[ll] == '\n');
    }
    return NULL;
}

/* The note of writable shared file mappings left to their files (shared_note.h). Called in a
 * capture's park window too (checkpoint.c): no malloc, no stdio streams. */
#define _GNU_SOURCE
#include "crs/base/shared_note.h"

#include <stdio.h>
#include <string.h>

/* The decimal number at *p (before end), *p moved past it and one space after it. */
static unsigned long long number(const char **p, const char *end)
{
    unsigned long long v = 0;
    while (*p < end && **p >= '0' && **p <= '9')
        v = v * 10 + (unsigned)(*(*p)++ - '0');
    if (*p < end && **p == ' ')
        (*p)++;
    return v;
}

int crs_shared_note_next(const char **cursor, int with_pid, struct crs_shared_line *l)
{
    const char *s = *cursor;
    memset(l, 0, sizeof *l);
    while (s && *s == '\n')
        s++;
    if (!s || !*s)
        return 0;
    size_t n = strcspn(s, "\n");
    const char *p = s, *end = s + n;
    *cursor = end + (*end == '\n');
    if (with_pid)
        l->pid = (long)number(&p, end);
    if (p < end && *p == '+') {
        p++;
        l->more = number(&p, end);
        return 1;
    }
    l->bytes = number(&p, end);
    l->path = p;
    l->pathlen = (int)(end - p);
    return 1;
}

void crs_shared_note_open(struct crs_shared_writer *w, char *buf, size_t cap, int append)
{
    *w = (struct crs_shared_writer){ buf, cap, 0, 0 };
    if (!append || !cap) {
        if (cap)
            buf[0] = 0;
        return;
    }
    w->used = strnlen(buf, cap - 1);
    buf[w->used] = 0;
    /* its last line "+N": counted on, written again at the end */
    size_t last = w->used;
    while (last > 0 && buf[last - 1] == '\n')
        last--;
    while (last > 0 && buf[last - 1] != '\n')
        last--;
    if (buf[last] == '+') {
        const char *p = buf + last + 1;
        w->more = number(&p, buf + w->used);
        w->used = last;
        buf[last] = 0;
    }
}

void crs_shared_note_put(struct crs_shared_writer *w, long pid, unsigned long long bytes, const char *path,
                         int pathlen)
{
    size_t room = w->cap > w->used ? w->cap - w->used : 0;
    if (!w->more && room > 16) {
        int n = pid >= 0 ? snprintf(w->buf + w->used, room, "%ld %llu %.*s\n", pid, bytes, pathlen, path)
                         : snprintf(w->buf + w->used, room, "%llu %.*s\n", bytes, pathlen, path);
        /* room kept for the "+N" line of those that do not fit */
        if (n > 0 && (size_t)n + 16 < room) {
            w->used += (size_t)n;
            return;
        }
        w->buf[w->used] = 0;
    }
    w->more++;
}

void crs_shared_note_more(struct crs_shared_writer *w, unsigned long long n)
{
    w->more += n;
}

void crs_shared_note_close(struct crs_shared_writer *w)
{
    if (w->used < w->cap)
        w->buf[w->used] = 0;
    if (w->more && w->used < w->cap)
        snprintf(w->buf + w->used, w->cap - w->used, "+%llu\n", w->more);
}

int crs_shared_warning(char *out, size_t cap, const char *whom, const struct crs_shared_line *l, const char *held,
                       const char *saver, const char *lister)
{
    if (l->more)
        return snprintf(out, cap, "and %llu more such mapping%s of %s, not saved either%s%s%s", l->more,
                        l->more == 1 ? "" : "s", whom, lister ? " (" : "", lister ? lister : "",
                        lister ? " lists them)" : "");
    return snprintf(out, cap, "%s maps %.*s shared and writable (%llu bytes): its pages are not in the %s, a "
                    "restart sees the file as it is then%s%s%s", whom, l->pathlen, l->path, l->bytes, held,
                    saver ? " (" : "", saver ? saver : "", saver ? " saves them)" : "");
}

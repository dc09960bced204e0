/* Small helpers shared by the coordinator and the tools (see util.h). */
#define _GNU_SOURCE
#include "snapc/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void snapc_sb_printf(struct snapc_sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

void snapc_sb_json_str(struct snapc_sbuf *b, const char *s)
{
    snapc_sb_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            snapc_sb_printf(b, "\\%c", *c);
        else if (*c == '\n')
            snapc_sb_printf(b, "\\n");
        else if (*c < 0x20 || *c == 0x7f)
            snapc_sb_printf(b, "\\u%04x", *c);
        else
            snapc_sb_printf(b, "%c", *c);
    }
    snapc_sb_printf(b, "\"");
}

void snapc_sb_free(struct snapc_sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int snapc_sb_rank_list(struct snapc_sbuf *b, int n, int (*pick)(int r, void *arg), void *arg)
{
    int count = 0;
    for (int r = 0; r < n; r++) {
        if (!pick(r, arg))
            continue;
        if (count < SNAPC_LIST_SHOWN)
            snapc_sb_printf(b, "%s%d", count ? "," : "", r);
        else if (count == SNAPC_LIST_SHOWN)
            snapc_sb_printf(b, ",...");
        count++;
    }
    return count;
}

int64_t snapc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void snapc_wall_str(char *out, size_t len, int64_t wall_ms)
{
    snprintf(out, len, "%lld.%03lld", (long long)(wall_ms / 1000), (long long)(wall_ms % 1000));
}

void snapc_socket_dir(char *out, size_t len, unsigned uid)
{
    const char *d = getenv("REVIVE_SOCKET_DIR");
    if (d && *d)
        snprintf(out, len, "%s", d);
    else
        snprintf(out, len, "/tmp/revive-%u", uid);
}

void snapc_human_bytes(char *out, size_t len, uint64_t b)
{
    if (b < 1024)
        snprintf(out, len, "%llu B", (unsigned long long)b);
    else if (b < (1ull << 20))
        snprintf(out, len, "%.1f KiB", b / 1024.0);
    else if (b < (1ull << 30))
        snprintf(out, len, "%.1f MiB", b / 1048576.0);
    else
        snprintf(out, len, "%.2f GiB", b / 1073741824.0);
}

void snapc_fmt(char *dst, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}

static const char *json_find(const char *json, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')); p++) {
        if (strncmp(p + 1, key, kl) == 0 && p[1 + kl] == '"' && p[2 + kl] == ':')
            return p + 3 + kl;
    }
    return NULL;
}

int snapc_json_num(const char *json, const char *key, long long *out)
{
    const char *v = json ? json_find(json, key) : NULL;
    if (!v)
        return -ENOENT;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v)
        return -ENOENT;
    *out = x;
    return 0;
}

int snapc_json_str(const char *json, const char *key, char *out, size_t len)
{
    const char *v = json ? json_find(json, key) : NULL;
    if (!v || *v != '"' || len == 0)
        return -ENOENT;
    size_t o = 0;
    for (v++; *v && *v != '"'; v++) {
        char c = *v;
        if (c == '\\' && v[1]) {
            v++;
            c = *v == 'n' ? '\n' : *v == 'u' ? '?' : *v;
            if (*v == 'u')
                for (int k = 0; k < 4 && v[1]; k++)
                    v++;
        }
        if (o + 1 < len)
            out[o++] = c;
    }
    out[o] = 0;
    return 0;
}

void snapc_sb_shell_word(struct snapc_sbuf *b, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                  strlen(s)) {
        snapc_sb_printf(b, "%s", s);
        return;
    }
    snapc_sb_printf(b, "'");
    for (; *s; s++) {
        if (*s == '\'')
            snapc_sb_printf(b, "'\\''");
        else
            snapc_sb_printf(b, "%c", *s);
    }
    snapc_sb_printf(b, "'");
}

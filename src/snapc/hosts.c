/* Hosts named to the launcher are resolved before the launch (hosts.h). */
#define _GNU_SOURCE
#include "snapc/hosts.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* name[0..len) (a "user@" prefix and a ":N" suffix dropped) resolves; else err names it */
static int check_one(const char *name, size_t len, const char *where, char *err, size_t errlen)
{
    char h[256];
    const char *at = memchr(name, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - name);
        name = at + 1;
    }
    const char *colon = memchr(name, ':', len);
    if (colon)
        len = (size_t)(colon - name);
    if (len == 0)
        return 0;
    if (len >= sizeof h) {
        snprintf(err, errlen, "%s names a host name longer than %zu bytes", where, sizeof h - 1);
        return -1;
    }
    memcpy(h, name, len);
    h[len] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int e = getaddrinfo(h, NULL, &hints, &res);
    if (e != 0) {
        snprintf(err, errlen,
                 "%s names host '%s', which this machine cannot resolve (%s): correct the name "
                 "or make it known (/etc/hosts, DNS)",
                 where, h, e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

int snapc_hosts_check_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "the hostfile %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024], where[4200];
    int n = 0, lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "#\n")] = 0;
        char *h = line + strspn(line, " \t");
        size_t len = strcspn(h, " \t");
        if (!len)
            continue;
        n++;
        snprintf(where, sizeof where, "the hostfile %s (line %d)", path, lineno);
        rc = check_one(h, len, where, err, errlen);
    }
    fclose(f);
    if (rc == 0 && n == 0) {
        snprintf(err, errlen, "the hostfile %s names no host", path);
        rc = -1;
    }
    return rc;
}

int snapc_hosts_check_args(char *const *args, int n, char *err, size_t errlen)
{
    static const char *const lists[] = {"-H", "-host", "--host", "-hosts", "--hosts", NULL};
    static const char *const files[] = {"-hostfile", "--hostfile", "-machinefile", "--machinefile",
                                        "-f", "--default-hostfile", NULL};
    for (int i = 0; i < n; i++) {
        /* "OPTION VALUE", or "--OPTION=VALUE" (Open MPI takes both) */
        const char *value = i + 1 < n ? args[i + 1] : NULL;
        const char *eq = args[i][0] == '-' && args[i][1] == '-' ? strchr(args[i], '=') : NULL;
        size_t olen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        if (eq)
            value = eq + 1;
        if (!value)
            continue;
        int is_list = 0, is_file = 0;
        for (int k = 0; lists[k]; k++)
            is_list |= strlen(lists[k]) == olen && !strncmp(args[i], lists[k], olen);
        for (int k = 0; files[k]; k++)
            is_file |= strlen(files[k]) == olen && !strncmp(args[i], files[k], olen);
        if (is_file && snapc_hosts_check_file(value, err, errlen) < 0)
            return -1;
        if (!is_list)
            continue;
        char where[300];
        snprintf(where, sizeof where, "the launcher option %.*s %.200s", (int)olen, args[i], value);
        for (const char *s = value; *s;) {
            size_t l = strcspn(s, ",");
            if (check_one(s, l, where, err, errlen) < 0)
                return -1;
            s += l + (s[l] == ',');
        }
    }
    return 0;
}

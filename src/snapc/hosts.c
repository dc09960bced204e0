/* Hosts named to the launcher are resolved before the launch (hosts.h). */
#define _GNU_SOURCE
#include "snapc/hosts.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
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

int snapc_launcher_option(const char *name, size_t len)
{
    static const struct {
        const char *name;
        int kind;
    } opts[] = {
        {"-H", SNAPC_LOPT_HOSTS},
        {"-host", SNAPC_LOPT_HOSTS},
        {"--host", SNAPC_LOPT_HOSTS},
        {"-hosts", SNAPC_LOPT_HOSTS},
        {"--hosts", SNAPC_LOPT_HOSTS},
        {"-hostfile", SNAPC_LOPT_HOSTFILE},
        {"--hostfile", SNAPC_LOPT_HOSTFILE},
        {"-machinefile", SNAPC_LOPT_HOSTFILE},
        {"--machinefile", SNAPC_LOPT_HOSTFILE},
        {"-f", SNAPC_LOPT_HOSTFILE},
        {"--default-hostfile", SNAPC_LOPT_DEFAULT_HOSTFILE},
        {"-np", SNAPC_LOPT_NP},
        {"-n", SNAPC_LOPT_NP},
        {"--np", SNAPC_LOPT_NP},
        {"-c", SNAPC_LOPT_NP},
        {"--n", SNAPC_LOPT_NP},
        {"-npernode", SNAPC_LOPT_PER_NODE},
        {"--npernode", SNAPC_LOPT_PER_NODE},
        {"-N", SNAPC_LOPT_PER_NODE},
        {"-ppn", SNAPC_LOPT_PER_NODE},
        {"--ppn", SNAPC_LOPT_PER_NODE},
    };
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if (strlen(opts[k].name) == len && !strncmp(name, opts[k].name, len))
            return opts[k].kind;
    return 0;
}

int snapc_hosts_check_args(char *const *args, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        /* "OPTION VALUE", or "--OPTION=VALUE" (Open MPI takes both) */
        const char *value = i + 1 < n ? args[i + 1] : NULL;
        const char *eq = args[i][0] == '-' && args[i][1] == '-' ? strchr(args[i], '=') : NULL;
        size_t olen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        if (eq)
            value = eq + 1;
        if (!value)
            continue;
        int kind = snapc_launcher_option(args[i], olen);
        int is_list = kind == SNAPC_LOPT_HOSTS;
        int is_file = kind == SNAPC_LOPT_HOSTFILE || kind == SNAPC_LOPT_DEFAULT_HOSTFILE;
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

/* appends name[0..len) ("user@" and ":N" dropped) to out unless it is there already; 1 when it
 * does not fit (left out), else 0 */
static int add_host(const char *name, size_t len, char *out, size_t outlen)
{
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
    for (const char *s = out; *s;) {
        size_t l = strcspn(s, ",");
        if (l == len && !strncmp(s, name, len))
            return 0;
        s += l + (s[l] == ',');
    }
    size_t used = strlen(out);
    if (used + len + 2 > outlen)
        return 1;
    snprintf(out + used, outlen - used, "%s%.*s", used ? "," : "", (int)len, name);
    return 0;
}

/* snapc_hosts_list_args, adding to what out holds */
static int list_more(char *const *args, int n, char *out, size_t outlen, long *np)
{
    int cut = 0;
    *np = 0;
    for (int i = 0; i < n; i++) {
        const char *value = i + 1 < n ? args[i + 1] : NULL;
        const char *eq = args[i][0] == '-' && args[i][1] == '-' ? strchr(args[i], '=') : NULL;
        size_t olen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        if (eq)
            value = eq + 1;
        if (!value)
            continue;
        int kind = snapc_launcher_option(args[i], olen);
        if (kind == SNAPC_LOPT_NP)
            *np = atol(value);
        if (kind == SNAPC_LOPT_HOSTS)
            for (const char *s = value; *s;) {
                size_t l = strcspn(s, ",");
                cut |= add_host(s, l, out, outlen);
                s += l + (s[l] == ',');
            }
        if (kind == SNAPC_LOPT_HOSTFILE || kind == SNAPC_LOPT_DEFAULT_HOSTFILE) {
            FILE *f = fopen(value, "re");
            if (!f)
                continue;
            char line[1024];
            while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "#\n")] = 0;
                char *h = line + strspn(line, " \t");
                cut |= add_host(h, strcspn(h, " \t"), out, outlen);
            }
            fclose(f);
        }
    }
    return cut;
}

/* Hydra's placement (snapc_hosts_placed_progs): the entries of ARGS[0..n)'s host options in
 * their order, each with its slots (":N", else 1; -ppn N for every one), added to OUT as long as
 * *LEFT ranks are still to place; 1 when a host did not fit in OUT */
static int place_more(char *const *args, int n, long ppn, long *left, char *out, size_t outlen)
{
    int cut = 0;
    for (int i = 0; i + 1 < n && *left > 0; i++) {
        const char *value = args[i + 1];
        const char *eq = args[i][0] == '-' && args[i][1] == '-' ? strchr(args[i], '=') : NULL;
        size_t olen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        if (eq)
            value = eq + 1;
        int kind = snapc_launcher_option(args[i], olen);
        char line[1024];
        FILE *f = NULL;
        if (kind == SNAPC_LOPT_HOSTFILE || kind == SNAPC_LOPT_DEFAULT_HOSTFILE)
            f = fopen(value, "re");
        else if (kind != SNAPC_LOPT_HOSTS)
            continue;
        const char *s = value;
        while (*left > 0) {
            const char *h;
            size_t l;
            if (f) {
                if (!fgets(line, sizeof line, f))
                    break;
                line[strcspn(line, "#\n")] = 0;
                h = line + strspn(line, " \t");
                l = strcspn(h, " \t");
            } else {
                if (!*s)
                    break;
                h = s;
                l = strcspn(s, ",");
                s += l + (s[l] == ',');
            }
            if (!l)
                continue;
            const char *colon = memchr(h, ':', l);
            long slots = ppn > 0 ? ppn : colon ? atol(colon + 1) : 1;
            cut |= add_host(h, l, out, outlen);
            *left -= slots > 0 ? slots : 1;
        }
        if (f)
            fclose(f);
    }
    return cut;
}

int snapc_hosts_placed_progs(char *const *args, int n, const int *progs, int nprogs, char *out,
                             size_t outlen)
{
    long np = 0;
    int cut = snapc_hosts_list_progs(args, n, progs, nprogs, out, outlen, &np);
    /* the hosts of the first program's options only (another program's own host options, or a
     * number of processes not known: every host named) */
    for (int k = 1; k < nprogs; k++) {
        char other[256] = "";
        long onp;
        int from, to = snapc_prog_options(args, n, progs, nprogs, k, &from);
        if (to < 0)
            return cut;
        list_more(args + from, to - from, other, sizeof other, &onp);
        if (other[0])
            return cut;
    }
    if (np <= 0 || cut)
        return cut;
    int from, to = snapc_prog_options(args, n, progs, nprogs, 0, &from);
    long ppn = 0;
    for (int i = from; i + 1 < to; i++) {
        const char *eq = args[i][0] == '-' && args[i][1] == '-' ? strchr(args[i], '=') : NULL;
        size_t olen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        if (snapc_launcher_option(args[i], olen) == SNAPC_LOPT_PER_NODE)
            ppn = atol(eq ? eq + 1 : args[i + 1]);
    }
    char *placed = malloc(outlen);
    if (!placed)
        return cut;
    placed[0] = 0;
    long left = np;
    if (!place_more(args + from, to - from, ppn, &left, placed, outlen) && left <= 0)
        snprintf(out, outlen, "%s", placed); /* else: every host gets ranks (round robin) */
    free(placed);
    return 0;
}

int snapc_hosts_list_args(char *const *args, int n, char *out, size_t outlen, long *np)
{
    if (outlen)
        out[0] = 0;
    return list_more(args, n, out, outlen, np);
}

int snapc_prog_options(char *const *args, int n, const int *progs, int nprogs, int k, int *from)
{
    *from = 0;
    if (nprogs <= 0)
        return n;
    int to = progs[k];
    if (k == 0)
        return to;
    int f = to;
    while (f > progs[k - 1] + 1 && strcmp(args[f - 1], ":"))
        f--;
    if (f == progs[k - 1] + 1)
        return -1;
    *from = f;
    return to;
}

int snapc_hosts_check_progs(char *const *args, int n, const int *progs, int nprogs, char *err,
                            size_t errlen)
{
    for (int k = 0; k < (nprogs > 0 ? nprogs : 1); k++) {
        int from, to = snapc_prog_options(args, n, progs, nprogs, k, &from);
        if (to >= 0 && snapc_hosts_check_args(args + from, to - from, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int snapc_hosts_list_progs(char *const *args, int n, const int *progs, int nprogs, char *out,
                           size_t outlen, long *np)
{
    int cut = 0, unknown = 0;
    if (outlen)
        out[0] = 0;
    *np = 0;
    for (int k = 0; k < (nprogs > 0 ? nprogs : 1); k++) {
        long one = 0;
        int from, to = snapc_prog_options(args, n, progs, nprogs, k, &from);
        if (to >= 0)
            cut |= list_more(args + from, to - from, out, outlen, &one);
        unknown |= one <= 0;
        *np += one > 0 ? one : 0;
    }
    if (unknown)
        *np = 0;
    return cut;
}

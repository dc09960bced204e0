/* Launcher options given after `--` replace the saved ones (restart_override.h). */
#define _GNU_SOURCE
#include "restart_override.h"

#include <stdlib.h>
#include <string.h>

#include "snapc/hosts.h"
#include "snapc/util.h"

/* An option's name without its dashes nor "=VALUE", one name for the launchers' synonyms. */
static void opt_name(const char *w, char *out, size_t len)
{
    size_t l = strcspn(w, "=");
    int kind = snapc_launcher_option(w, l);
    if (kind & SNAPC_LOPT_HOSTS)
        snprintf(out, len, "host");
    else if (kind & (SNAPC_LOPT_HOSTFILE | SNAPC_LOPT_DEFAULT_HOSTFILE))
        snprintf(out, len, "hostfile");
    else if (kind & SNAPC_LOPT_NP)
        snprintf(out, len, "np");
    else if (kind & SNAPC_LOPT_PER_NODE)
        snprintf(out, len, "npernode");
    else {
        while (*w == '-' && l > 0)
            w++, l--;
        snprintf(out, len, "%.*s", (int)l, w);
    }
}

/* Options that set one of many keys: their first value (up to '=' for -x) is part of the name. */
static int keyed(const char *name)
{
    static const char *const k[] = {"mca", "gmca", "x", "env", "genv"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(name, k[i]))
            return 1;
    return 0;
}

static int is_opt(const char *w)
{
    return w[0] == '-' && w[1] != 0;
}

/* The option at W[i] (an option word): its full name (with the key when keyed) into OUT and
 * how many words it takes with its values, up to END. */
static int opt_at(char *const *w, int i, int end, char *out, size_t len)
{
    char name[256];
    opt_name(w[i], name, sizeof name);
    int k = 1;
    while (i + k < end && !is_opt(w[i + k]) && strcmp(w[i + k], ":") != 0)
        k++;
    if (keyed(name) && !strchr(w[i], '=') && k > 1)
        snprintf(out, len, "%s %.*s", name, (int)strcspn(w[i + 1], "="), w[i + 1]);
    else
        snprintf(out, len, "%s", name);
    return k;
}

/* The words W[i..i+k) as one string for a message. */
static void words(char *const *w, int i, int k, char *out, size_t len)
{
    struct snapc_sbuf b = {0};
    for (int j = 0; j < k; j++) {
        if (j)
            snapc_sb_printf(&b, " ");
        snapc_sb_shell_word(&b, w[i + j]);
    }
    snprintf(out, len, "%s", b.p ? b.p : "");
    snapc_sb_free(&b);
}

/* The option of EX named NAME: its index, or -1. */
static int given(char *const *ex, int nex, const char *name, int *kk)
{
    for (int i = 0; i < nex; i++) {
        if (!is_opt(ex[i]))
            continue;
        char n2[300];
        int k = opt_at(ex, i, nex, n2, sizeof n2);
        if (!strcmp(n2, name)) {
            *kk = k;
            return i;
        }
        i += k - 1;
    }
    return -1;
}

int restart_override(char **user, int n, int *progs, int nprogs, char *const *ex, int nex,
                     const char *me, FILE *say)
{
    int out = 0, pi = 0;
    for (int i = 0; i < n;) {
        if (pi < nprogs && progs[pi] == i) {
            /* the program and its own arguments, up to ":" (its image holds them anyway) */
            progs[pi++] = out;
            user[out++] = user[i++];
            while (i < n && strcmp(user[i], ":") != 0)
                user[out++] = user[i++];
            continue;
        }
        if (!is_opt(user[i])) {
            user[out++] = user[i++];
            continue;
        }
        int end = pi < nprogs ? progs[pi] : n;
        char name[300];
        int k = opt_at(user, i, end, name, sizeof name), kx;
        int x = given(ex, nex, name, &kx);
        if (x < 0) {
            for (int j = 0; j < k; j++)
                user[out++] = user[i++];
            continue;
        }
        char was[512], now[512];
        words(user, i, k, was, sizeof was);
        words(ex, x, kx, now, sizeof now);
        fprintf(say, "%s: the saved launcher option %s is replaced by %s, given after --\n", me,
                was, now);
        i += k;
    }
    user[out] = NULL;
    return out;
}

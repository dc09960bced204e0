#include "crs/base/component.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct crs_component *const components[] = {
    &crs_uspace_component,
};

const struct crs_component *crs_component_select(const char *name, char *err, size_t errlen)
{
    if (!name)
        name = getenv("REVIVE_CRS");
    if (!name || !*name)
        name = "uspace";
    char known[256] = "";
    for (size_t i = 0; i < sizeof components / sizeof components[0]; i++) {
        if (!strcmp(components[i]->name, name))
            return components[i];
        size_t len = strlen(known);
        snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", components[i]->name);
    }
    snprintf(err, errlen, "REVIVE_CRS=%s names no checkpoint component; there is: %s", name, known);
    return NULL;
}

int crs_restart(const struct crs_component *c, const struct crs_restart_opts *o, char *err, size_t errlen)
{
    if (!c->restart_open || !c->restart) {
        snprintf(err, errlen, "the checkpoint component %s cannot restart images", c->name);
        return -ENOTSUP;
    }
    struct crs_restart_image ri;
    int e = c->restart_open(o, &ri, err, errlen);
    if (e)
        return e;
    return c->restart(&ri, err, errlen);
}

const char *crs_relocated(const char *const *relocate, size_t nrelocate, const char *path, char *buf, size_t cap)
{
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < nrelocate; i++) {
        const char *eq = strchr(relocate[i], '=');
        size_t n = eq ? (size_t)(eq - relocate[i]) : 0;
        while (n > 1 && relocate[i][n - 1] == '/')   /* "OLD/" means OLD */
            n--;
        if (n && n > best_len && !strncmp(path, relocate[i], n) && (path[n] == '/' || !path[n])) {
            best = i;
            best_len = n;
        }
    }
    if (!best_len)
        return path;
    const char *to = strchr(relocate[best], '=') + 1;
    size_t tn = strlen(to);
    while (tn > 1 && to[tn - 1] == '/')
        tn--;
    int w = snprintf(buf, cap, "%.*s%s", (int)tn, to, path + best_len);
    return w > 0 && (size_t)w < cap ? buf : path;
}

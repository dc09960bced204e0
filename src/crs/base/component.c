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

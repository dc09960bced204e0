#include "crs/base/component.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct crs_component crs_uspace_component;

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

/* cr_info's JSON writer (cr_info_json.h). */
#include "cr_info_json.h"

#include <inttypes.h>
#include <stdio.h>

void jstr(const char *s)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

void jkey(const char *k, struct jobj *o)
{
    printf("%s\"%s\": ", o->opened ? ", " : o->open, k);
    o->opened = true;
}

void ju64(const char *k, uint64_t v, struct jobj *o) { jkey(k, o); printf("%" PRIu64, v); }
void ji64(const char *k, int64_t v, struct jobj *o) { jkey(k, o); printf("%" PRId64, v); }
void jhex(const char *k, uint64_t v, struct jobj *o) { jkey(k, o); printf("\"0x%" PRIx64 "\"", v); }
void jstrk(const char *k, const char *v, struct jobj *o) { jkey(k, o); jstr(v); }
void jbool(const char *k, bool v, struct jobj *o) { jkey(k, o); fputs(v ? "true" : "false", stdout); }

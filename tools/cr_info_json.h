/* cr_info's JSON writer: fields go to standard output as they are given, with
 * the commas and quoting JSON needs (strings escaped; control characters as
 * \u00XX). Used by the image printer (cr_info_json_image.c) and the tree printer
 * (cr_info_tree.c). */
#ifndef REVIVE_TOOLS_CR_INFO_JSON_H
#define REVIVE_TOOLS_CR_INFO_JSON_H

#include <stdbool.h>
#include <stdint.h>

/* An object being printed: `open` ("{" or ", {") goes out before its first
 * field, so that an object given no field prints nothing at all. */
struct jobj {
    const char *open;
    bool opened;
};

/* A string value, quoted and escaped. */
void jstr(const char *s);
/* The key of o's next field (opens o before its first one). */
void jkey(const char *k, struct jobj *o);
/* A field of o: unsigned, signed, hexadecimal (as a "0x..." string), string, boolean. */
void ju64(const char *k, uint64_t v, struct jobj *o);
void ji64(const char *k, int64_t v, struct jobj *o);
void jhex(const char *k, uint64_t v, struct jobj *o);
void jstrk(const char *k, const char *v, struct jobj *o);
void jbool(const char *k, bool v, struct jobj *o);

#endif

/*
 * Texts of "KEY value" lines, one a line: a rank's INFO (src/snapc: coord_tool.c reads it), the
 * placement recorded in an image (src/filem/place.c). The one reading of such a line.
 */
#ifndef REVIVE_COMMON_KEYVAL_H
#define REVIVE_COMMON_KEYVAL_H

#include <stddef.h>

/* The value of the first line of TEXT (NULL: none) that starts with KEY and a space: the rest
 * of that line, without its newline, copied into OUT (LEN bytes with its NUL; a longer value is
 * cut). 1 when there is such a line, 0 when not (OUT untouched). No allocation, no stdio. */
int revive_kv_value(const char *text, const char *key, char *out, size_t len);

#endif

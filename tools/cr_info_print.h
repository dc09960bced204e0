/* cr_info's two printers of one process image, each to standard output:
 * print_text (cr_info_text.c) and print_json (cr_info_json_image.c). PATH is
 * the name to print for the image; VERIFIED says its chunks' checksums were
 * checked (cr_info --verify). Internal to cr_info. */
#ifndef REVIVE_TOOLS_CR_INFO_PRINT_H
#define REVIVE_TOOLS_CR_INFO_PRINT_H

#include <stdbool.h>

#include "crs/base/image.h"

void print_text(const struct crs_image *img, const char *path, bool verified);
/* One JSON object and a newline. */
void print_json(const struct crs_image *img, const char *path, bool verified);

#endif

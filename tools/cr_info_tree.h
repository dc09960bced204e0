/* cr_info's view of a process tree file (crs/base/tree.h): its table of
 * members, their links and the descriptors they share, as text or as the
 * opening of the JSON object whose "images" array cr_info then fills with each
 * member's image. */
#ifndef REVIVE_TOOLS_CR_INFO_TREE_H
#define REVIVE_TOOLS_CR_INFO_TREE_H

#include "crs/base/tree.h"

/* The tree's table as text; PATH names the file. */
void tree_text(const struct crs_tree *t, const char *path);
/* The tree's table as JSON, left open after `"images": [`. */
void tree_json(const struct crs_tree *t, const char *path);

#endif

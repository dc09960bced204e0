/* What the rank sends its children's cover (revive-cover, cover_main.c; started by children.c)
 * on their socket pair: a head, then head.n entries, in the machine's byte order (the same
 * machine). The cover answers one byte once it holds the list. */
#ifndef REVIVE_PML_COVER_H
#define REVIVE_PML_COVER_H

#include <stdint.h>

#define PML_COVER_MAGIC 0x72766376u /* "vcvr" */
#define PML_COVER_MAX 1024          /* children.c's DESCENDANTS_MAX */

struct pml_cover_head {
    uint32_t magic;
    uint32_t n; /* entries that follow, at most PML_COVER_MAX */
};

struct pml_cover_entry {
    int32_t pid;
    uint32_t pad;
    uint64_t start; /* field 22 of /proc/PID/stat when stopped: a pid used again is not touched */
};

#endif

/* size_arg.h — one reading of a size such as 512M or 4G (cr_checkpoint --file-data-max, the MPI
 * ranks' REVIVE_FILE_DATA_MAX, which Revive's mpirun sets from --ckpt-file-data-max). */
#ifndef REVIVE_COMMON_SIZE_ARG_H
#define REVIVE_COMMON_SIZE_ARG_H

#include <stdint.h>

/* s: a whole number with an optional suffix K, M, G or T (powers of 1024, either case), at most
 * 16 TiB. 0 and *bytes set, or -1 (no such size: empty, a sign, another suffix, too large). */
int revive_size_arg(const char *s, uint64_t *bytes);

#endif

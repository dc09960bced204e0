/* The GNU build id of an ELF file: how an image names the exact program and
 * libraries it mapped, so a restart can tell whether they changed. */
#ifndef REVIVE_CRS_ELF_BUILD_ID_H
#define REVIVE_CRS_ELF_BUILD_ID_H

#include <stdint.h>

/* Reads the build id of the ELF file open at fd into out (up to max bytes)
 * with pread only. Returns its length, or 0 when there is none. */
uint32_t crs_elf_build_id(int fd, uint8_t *out, uint32_t max);

#endif

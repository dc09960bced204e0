/* Parsing /proc/self/maps without allocating (used while threads are frozen,
 * and by cr_restart after its own heap may be gone). */
#ifndef REVIVE_CRS_MAPS_H
#define REVIVE_CRS_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct crs_map {
    uint64_t start, end, pgoff;
    uint64_t dev, ino;
    uint32_t prot;      /* PROT_* */
    int shared;         /* 's' in the flags column */
    const char *name;   /* inside the caller's buffer; "" for anonymous */
};

/* Reads /proc/self/maps into buf (NUL-terminated, names point into it) and
 * fills up to cap entries. Returns the entry count, or -errno (-ENOSPC when
 * buf or cap is too small). */
long crs_maps_read(char *buf, size_t buflen, struct crs_map *maps, size_t cap);

/* Reads a whole small file (/proc/...) into buf, NUL-terminated. Returns the
 * length or -errno. Uses only open/read/close. */
long crs_read_file(const char *path, char *buf, size_t buflen);

/* Calls fn(n, dirfd, arg) for every entry of the directory `path` whose name
 * is a number (/proc/self/fd, /proc/self/task), reading it with getdents64:
 * no allocation. Stops at fn's first nonzero return and returns it; returns
 * 0 after the last entry, or -errno when the directory cannot be read. */
long crs_for_each_number(const char *path, long (*fn)(long n, int dirfd, void *arg), void *arg);

#endif

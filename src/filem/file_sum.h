/* The checksum a snapshot's metadata records for a rank's file (rank.N.checksum), checked
 * against the file: crs_image_file_sum's, which covers every member of a tree file (a rank with
 * running children), not its first only. A snapshot written by Revive before session 31 recorded
 * a tree file's member 0 header checksum: still accepted (its other members are checked by their
 * own checksums only, as then). The two cannot be taken for each other: the file's checksum is
 * XXH3-64 over member 0's among others. Inline: compiled into both libfilem.la and
 * libfilem_stage.la. */
#ifndef REVIVE_FILEM_FILE_SUM_H
#define REVIVE_FILEM_FILE_SUM_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "crs/base/tree.h"

/* sum (first: its member 0's) against want, as filem_file_sum_check says it */
static inline int filem_file_sum_cmp(const char *path, uint64_t sum, uint64_t first, uint64_t want,
                                     const char *who, uint64_t *have, char *err, size_t errlen)
{
    if (have)
        *have = sum;
    if (sum == want || first == want)
        return 0;
    snprintf(err, errlen, "%s has checksum %016" PRIx64 ", %s %016" PRIx64, path, sum, who, want);
    return -EBADMSG;
}

/* 0 when the file at path has the checksum want (*have: its checksum, may be NULL); -EBADMSG
 * with "PATH has checksum X, WHO says Y" in err when it has another (WHO: "the metadata",
 * "expected"); another -errno with the reader's message when its headers cannot be read. */
static inline int filem_file_sum_check(const char *path, uint64_t want, const char *who,
                                       uint64_t *have, char *err, size_t errlen)
{
    uint64_t sum, first;
    int e = crs_image_file_sum(path, &sum, &first, NULL, err, errlen);
    return e < 0 ? e : filem_file_sum_cmp(path, sum, first, want, who, have, err, errlen);
}

/* The same of the file open at fd (path: its name), crs_image_file_sum_fd's */
static inline int filem_file_sum_check_fd(int fd, const char *path, uint64_t want, const char *who,
                                          uint64_t *have, char *err, size_t errlen)
{
    uint64_t sum, first;
    int e = crs_image_file_sum_fd(fd, path, &sum, &first, NULL, err, errlen);
    return e < 0 ? e : filem_file_sum_cmp(path, sum, first, want, who, have, err, errlen);
}

#endif

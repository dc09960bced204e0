/*
 * The staging copy of one image with its verification overlapped (stage.c's real copy).
 *
 * The plan comes from the node-local image itself, opened and validated by crs's image reader
 * (its header checksum must be the one the rank reported): every byte of the image, from the
 * header to the end of the section table, is in one piece with a known XXH3-64 (the header
 * block, each section, each chunk's stored bytes, the section table) or is padding that must
 * be zero. The copy then runs in segments while a second thread reads each segment back from
 * the destination once it has reached storage (O_DIRECT; where the file system refuses it,
 * after the segment's writeback and dropping its cached pages), and checks the pieces as
 * their bytes come in. So the copy is proved to be the image the rank wrote, read from the
 * storage that holds it, at about the cost of the copy alone instead of copy plus a second
 * pass over the file.
 */
#ifndef REVIVE_FILEM_STAGE_COPY_H
#define REVIVE_FILEM_STAGE_COPY_H

#include <stddef.h>
#include <stdint.h>

struct filem_stage_stats;

/* Copies the image open as IN (SRC names it for messages) into OUT, the destination's
 * temporary file at OUT_PATH, flushes it (fsync) and verifies it as above: want_checksum is the
 * header checksum the rank reported. bw: bytes per second at most (0: no limit). Fills
 * st->bytes, copy_ns (copy and flush), verify_ns (the part of the read-back that did not
 * overlap the copy), used_cfr. 0, or -errno with a message in err (the caller removes the
 * temporary file). */
/* Tests only (tests/snapc/test_stage.c): 1 reads the copy back the buffered way (writeback,
 * dropped pages, read) even where O_DIRECT works. */
extern int filem_stage_copy_buffered;

int filem_stage_copy(int in, const char *src, int out, const char *out_path, uint64_t want_checksum,
                     uint64_t bw, struct filem_stage_stats *st, char *err, size_t errlen);

#endif

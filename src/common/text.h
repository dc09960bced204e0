/* Messages that name paths: room for them whole, and a visible cut that keeps the text valid.
 * A snapshot directory may be as deep as the system allows (PATH_MAX); a message cut inside
 * its path loses what comes after it: what went wrong and what to do. */
#ifndef REVIVE_COMMON_TEXT_H
#define REVIVE_COMMON_TEXT_H

#include <limits.h>
#include <stddef.h>

/* Bytes for a message naming N paths of up to PATH_MAX each and the words around them. */
#define REVIVE_TEXT_PATHS(n) ((n) * PATH_MAX + 1024)

/* A rank's restart failure, whole (revive-restart-rank's line and failed.<r> file, read by
 * restart-mpi's coordinator): the image's path in the restore's words and the reader's (3), a
 * relocated file's two paths, and restart-mpi's advice naming the job directory three times. */
#define REVIVE_RESTART_TEXT_MAX REVIVE_TEXT_PATHS(8)

/* BUF (LEN bytes) holds a string that was cut to LEN - 1 bytes: ends it with "..." (so that a
 * cut never passes for the whole message) placed on a character boundary, never inside a
 * UTF-8 sequence of a path (review K-L3: a fixed offset could leave half a character before
 * the dots). LEN < 4: nothing is done. */
void revive_text_cut(char *buf, size_t len);

/* Appends printf's text of FMT to BUF (LEN bytes, *USED of them in use before its string's
 * end): 0 with *USED advanced past the text; ERR (a negative errno the caller picks: what "no
 * room" means to it) when the text does not fit whole, BUF is NULL or *USED >= LEN, BUF then
 * left ending at *USED (nothing of the text kept: no half line). *USED is never moved then. */
int revive_text_put(char *buf, size_t len, size_t *used, int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

/*
 * The answer of the coordinator's fetch (coord_fetch.c) on its pipe, kept and read: what its
 * forked child says, "got R HOST PATH" for each image fetched, then "end E" and its error to
 * the end. Kept apart from the loop that reads the pipe so that the reading of the text can be
 * tested alone (tests/snapc/test_fetch_lines).
 */
#ifndef REVIVE_SNAPC_FETCH_LINES_H
#define REVIVE_SNAPC_FETCH_LINES_H

#include <stddef.h>

#include "snapc/util.h"

/* Appends the LEN bytes of BUF read from the pipe to OUT, a NUL byte taken as '?' (the answer is
 * text; with "%s", a NUL cut off what followed it in the same read, a "got" or the "end" line). */
void snapc_fetch_out_add(struct snapc_sbuf *out, const char *buf, size_t len);

/* Calls GOT(ARG, R, HOST, BASE, BLEN) for each line "got R HOST PATH" of OUT (HOST cut to 255
 * bytes, BASE: PATH's last component, BLEN bytes, not NUL-terminated), lines of any length, the
 * last one with or without its newline. Returns the text after the first "end E" line (its
 * error; "" when none), or NULL when no "end" line came. */
const char *snapc_fetch_lines(const char *out,
                              void (*got)(void *arg, int rank, const char *host, const char *base,
                                          size_t blen),
                              void *arg);

#endif

/* Helpers for the unit tests of src/common: assertions that print both sides, and a
 * child process run with a given environment whose stderr is captured. */
#ifndef REVIVE_TESTS_COMMON_TEST_H
#define REVIVE_TESTS_COMMON_TEST_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit_assert.h"

/* While set, malloc, calloc, realloc and free end the test with "FAIL: WHAT called
 * malloc/free" (malloc_guard.c, linked into the tests of allocation-free code, each of which
 * defines ct_no_malloc_what, the WHAT). */
extern atomic_int ct_no_malloc;
extern const char ct_no_malloc_what[];

/* Runs fn(arg) in a forked child whose environment has `name` set to `value` (unset
 * when value is NULL) and whose stderr goes to out (NUL-terminated, cut at cap).
 * The child's settings are read at its first use, so each child starts fresh as long
 * as the parent has not called the code under test. Fails the test unless the child
 * exits 0; returns the length captured. */
size_t ct_run_child(const char *name, const char *value, void (*fn)(void *), void *arg, char *out,
                    size_t cap);

#endif

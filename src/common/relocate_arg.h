/* relocate_arg.h — one reading of a --relocate OLD=NEW argument (cr_restart, restart-mpi). */
#ifndef REVIVE_COMMON_RELOCATE_ARG_H
#define REVIVE_COMMON_RELOCATE_ARG_H

#include <stddef.h>

/* 0 when arg is OLD=NEW with both paths absolute; else -1 with one line for the user in msg
 * (no program name, no newline): what is wrong and, for relative paths, the option as it reads
 * from the current directory. */
int revive_relocate_arg_check(const char *arg, char *msg, size_t cap);

#endif

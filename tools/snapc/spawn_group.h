/*
 * restart-mpi's start of a helper command it must be able to end whole: the remote shell that
 * asks another host for its cached metadata (restart_meta_ask.c) and the launcher of a fetch
 * of rank images (restart_fetch.c). Each runs in a process group of its own (ended as a
 * whole at a bound or on a signal; the terminal's ^C does not reach it), reads /dev/null and
 * writes into the caller's pipes.
 */
#ifndef REVIVE_TOOLS_SPAWN_GROUP_H
#define REVIVE_TOOLS_SPAWN_GROUP_H

#include <sys/types.h>

/* Starts ARGV (looked up in PATH when SEARCH_PATH, else ARGV[0] is its path) as the leader of
 * a new process group: its standard input /dev/null, its output into OUT and its errors into
 * ERR (OUT again allowed). Descriptors the caller made close-on-exec (its pipes' read ends)
 * are not passed on. A program that cannot be run says "cannot run ARGV0: why" on ERR and
 * ends with status 127. Returns the child's pid (its group's id), or -errno when fork failed;
 * the caller closes OUT and ERR afterwards. */
pid_t spawn_group(char *const *argv, int out, int err, int search_path);

#endif

/* The descriptors the process had when it was executed (its launcher's), listed before any
 * constructor ran. */
#ifndef REVIVE_COMMON_EXEC_FDS_H
#define REVIVE_COMMON_EXEC_FDS_H

#include <sys/stat.h>

/* Whether fd, open now on the file st describes (its fstat), was open on that file when the
 * process was executed. Returns 1 yes (the launcher's), 0 no (the process made it since: also a
 * constructor that ran before the caller's, as glibc runs those of the libraries a program needs,
 * and of those preloaded after the caller, before the caller's own), -1 unknown (the list could
 * not be made: no /proc/self/fd, or more than 1024 descriptors then). No allocation,
 * async-signal-safe. The list is made while the dynamic loader relocates the object that links
 * this (an IFUNC resolver: ld.so relocates every object before it runs any constructor), in a
 * static program while its start applies its IRELATIVE relocations; each shared object linking
 * libcommon has its own copy of it. */
int revive_fd_open_at_exec(int fd, const struct stat *st);

#endif

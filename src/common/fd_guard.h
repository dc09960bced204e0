/* Revive's descriptors and the application's fork: src/crs/libcr/fork_guard.h says why and how.
 * These call libcr's guard when libcr is in the process (a rank, a program under cr_run) and do
 * nothing elsewhere (Revive's tools, the static cr_restart, revive-cover: no thread of Revive's
 * beside an application's there). No allocation, async-signal-safe.
 *
 *     revive_fd_enter();
 *     int fd = open(path, O_RDONLY | O_CLOEXEC);
 *     ... read ...
 *     close(fd);
 *     revive_fd_leave();
 *
 * A descriptor kept across waits: revive_fd_own(fd) inside the section that made it,
 * revive_fd_disown(fd) inside the one that closes it. */
#ifndef REVIVE_COMMON_FD_GUARD_H
#define REVIVE_COMMON_FD_GUARD_H

void revive_fd_enter(void);
void revive_fd_leave(void);
void revive_fd_own(int fd);
void revive_fd_disown(int fd);
/* open(2) with O_CLOEXEC, the descriptor owned from its first moment (one section): for a file
 * Revive keeps open across a long read or write (a staged image). Closed by close(), which in a
 * rank disowns it (the MPI layer's close; elsewhere call revive_fd_disown first). -1 and errno
 * as open. */
int revive_open_owned(const char *path, int flags, unsigned mode);

/* Closes fd, a descriptor Revive owns (revive_fd_own, revive_open_owned), in one section: disowned
 * and closed with no fork between (a child forked before it would keep a descriptor it cannot
 * know of). Nothing for fd < 0. close's result, errno kept. */
int revive_close_owned(int fd);

/* 1 when fd is owned (0 without libcr). */
int revive_fd_owned(int fd);

/* The fault point fork-window-wide (a test's): sleeps 20 ms in a process with libcr, else returns
 * at once. Called inside a section, between an open and its close, to widen the moment a fork
 * would copy the descriptor. */
void revive_fd_window(void);

#endif

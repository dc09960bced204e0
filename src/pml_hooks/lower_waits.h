/* Part of the lower root (lower_root.c): whether one of the MPI library's opens or closes may
 * wait, decided by what the call would wait on, not by its name. Each call that makes or closes a
 * descriptor runs inside a fork guard section with its report (src/crs/libcr/fork_guard.h), and a
 * section holds every fork of the application and a checkpoint's park for as long as it lasts:
 * an open of a FIFO with no peer waits until one comes, an open of a terminal may wait for its
 * line, a close of a socket with SO_LINGER waits for its data to go, a close of a terminal for its
 * output to drain (diffrev33 R-L7). Such a call runs outside any section, as accept does (a fork
 * meanwhile may copy its descriptor unmarked: O_CLOEXEC, or an exec, closes it). Not told: a
 * regular file that waits (a hung NFS server, a lease another process holds), which keeps its
 * section. Each costs one stat (two system calls for a socket's close); async-signal-safe. */
#ifndef PML_HOOKS_LOWER_WAITS_H
#define PML_HOOKS_LOWER_WAITS_H

/* 1 when open/openat(dir, path, flags) may wait: without O_NONBLOCK or O_PATH, on a FIFO opened
 * for reading or writing only (O_RDWR does not wait on Linux), or on a device other than the
 * memory devices (/dev/null, /dev/zero, /dev/urandom...: major 1). A path that does not exist (the
 * call fails, or creates a regular file) does not wait. */
int pml_lower_open_waits(int dir, const char *path, int flags);
/* The same for fopen/freopen's mode ("r", "w+", "ae"...); path NULL (freopen of the same file): fd. */
int pml_lower_fopen_waits(const char *path, const char *mode, int fd);
/* 1 when close(fd) may wait: a socket whose SO_LINGER is on with a time, or a device other than
 * the memory devices (a terminal drains its output). */
int pml_lower_close_waits(int fd);

#endif

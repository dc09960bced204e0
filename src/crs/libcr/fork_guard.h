/* Revive's descriptors and the application's fork (issue 7, rank_child-mpich in CI: a worker the
 * rank forked while its agent thread read /proc/self/task/TID/syscall inherited that descriptor,
 * and its image recorded it as a file of the worker's to open again).
 *
 * A thread of Revive's (a rank's agent and the threads it starts, libcr's checkpoint thread, a
 * capture) opens descriptors while the application's threads run; a fork (no exec) by one of them
 * at that moment copies every one into the child, which then holds it for its life and its image
 * takes it for its own. Two rules close that, for any descriptor:
 *   - a descriptor Revive holds for a moment (open, read, close) is opened, used and closed
 *     inside a fork guard section (crs_fork_guard_enter/leave): a fork waits at its start (libc's
 *     pthread_atfork prepare handlers) until no section is open, and no section opens until the
 *     fork has copied the process (the parent's and the child's handlers);
 *   - a descriptor Revive keeps across waits (the coordinator's connection, an eventfd, a
 *     partner's socket, a staged copy) is named once made (crs_fork_guard_own, inside the section
 *     that made it) and unnamed before it is closed (crs_fork_guard_disown, inside a section too):
 *     the child's handler closes every named one still holding the object it was named with (no
 *     thread of Revive's runs in the child; what libcr's own thread held is closed by libcr's
 *     handler, runtime.c). In a rank, every socket, eventfd, epoll and timerfd Revive's code makes
 *     is named by the layer's wrappers (src/pml_hooks/halves_hooks.c), and unnamed by its close.
 * Every such open is O_CLOEXEC (SOCK_CLOEXEC, MSG_CMSG_CLOEXEC): posix_spawn, system, popen and
 * vfork run no fork handler, and their child executes a program. glibc's _Fork runs no handler
 * either: libcr.so's own _Fork (fork_raw.c) makes it under the guard.
 * Not covered: a fork by the raw system call (clone, clone3, fork, vfork made with syscall(2) or
 * in assembly: no code of Revive's runs; the child holds what the moment held, which an exec
 * closes), _Fork in a static program (libcr.a leaves it libc's), and a fork from a signal
 * handler that interrupted a section of its own thread (the section's descriptor is copied; the
 * fork does not wait for its own thread, which cannot leave the section before the handler
 * returns) or the few instructions of its entry or exit (the handler cannot tell whether the
 * guard's word counts that section yet: the fork goes on once at most one section is open, which
 * may be another thread's; before, it waited for its own count for ever: diffrev33 R-L10,
 * tests/crs/libcr/fork_guard.sh part handler). A thread of the MPI library's half forks through that half's libc, which runs none
 * of these handlers (docs/mpi.md, "fork handlers"). The library's own descriptors are made and
 * marked inside sections (src/pml_hooks/lower_root.c; those its libc opens and closes inside one
 * call, NSS, getaddrinfo, getifaddrs, sysconf: src/pml_hooks/lower_inner.c), but by its calls
 * that may wait (a lookup that may ask DNS or a daemon, accept,
 * popen, pclose, fcntl's locks, fclose of a pipe, an open of a FIFO or a terminal, a close of a
 * lingering socket or a terminal: src/pml_hooks/lower_waits.h): a fork meanwhile copies such a one
 * unmarked.
 *
 * Waiting inside a section for a thread that itself only enters sections cannot hang: a fork
 * sets FORKING only once no section is open (a fork that comes while one is open waits, with
 * nothing held, until it closes), so no thread waits at its section's entry while another
 * thread's section is open. The lower half's dlopen relies on this (diffrev32 R-L8): its whole
 * call is one section, so the constructors of what it loads run inside it, and one that starts
 * a progress thread and waits until that thread has made its eventfd (in a section of the
 * layer's wrapper) goes on (tests/crs/libcr/fork_guard.sh, part wait). Only ld.so's open of each
 * file needs the section, but ld.so opens it with its own system call and offers no hook between
 * mapping the objects and running their constructors (LD_AUDIT's la_objopen, only when set at
 * the program's start). What a section cannot do: wait for a thread that forks through the
 * application's libc (that fork waits for the section), and be long: a fork of the application
 * waits for the whole dlopen (milliseconds; more for a large object on a slow file system), and
 * a checkpoint's park for it too (within the park's timeout). The lower half's libc calls run in
 * sections the same way (lower_inner.c) and take libc's own locks inside them: one whose
 * unwrapped sibling a parked library thread holds (tzset_lock: gmtime is wrapped for that; the
 * setlocale lock, the pwent iteration: no library imports setlocale or getpwent) would hold the
 * park until its timeout, a failed checkpoint and no hang (diffrev36 R-L8).
 *
 * A section is also a park deferral section (capture_filter.h): no checkpoint parks a thread while
 * it holds one. A fork holds the guard from its prepare handler to its parent's (the child's)
 * handler, also as a park deferral section: no capture finds it held. Waits are never made inside
 * a deferral: a section that waits for a fork to end and a fork that waits for sections to close
 * do so before they enter theirs, so a checkpoint's park can always stop them.
 * Keep sections short, never wait inside one for another thread (but as above: the dlopen, whose
 * constructors are not Revive's: a checkpoint may park the thread waited for, and the park then
 * waits for the section until its timeout fails the checkpoint), and never enter one while
 * holding a lock a forking thread may take (the halves registry's: its prepare handler takes the
 * guard first, crs_fork_guard_prepare; malloc's and stdio's are taken by libc after the handlers).
 * One section is long on purpose: a rank's agent thread holds one for a whole `ckpt-mpirun
 * --stop` (src/pml_hooks/children.c, from pml_children_job_stop's stop of the processes under
 * the rank to pml_children_job_cont when the job continues: minutes or hours), so that a child
 * the application forks meanwhile is not born running in the stopped job (stop32's gap). Its
 * cost: a fork of the application's in that time (between the stop of the processes under the
 * rank and the rank's own stop, or as the rank runs again) waits in its prepare handler until the
 * job continues (man/ckpt-mpirun.1 says so).
 * No allocation, async-signal-safe; nestable per thread.
 *
 * The layer and the agent reach these through src/common/fd_guard.h (which calls them when libcr
 * is loaded and does nothing in programs without it); src/common's /proc readers use it. */
#ifndef CRS_LIBCR_FORK_GUARD_H
#define CRS_LIBCR_FORK_GUARD_H

/* Opens a section (waits while a fork copies the process); pair with crs_fork_guard_leave. */
void crs_fork_guard_enter(void);
void crs_fork_guard_leave(void);

/* fd is Revive's and stays open across waits: closed in every child forked until it is disowned.
 * Call inside the section that made it; fd < 0 or beyond CRS_FORK_GUARD_FDS is ignored (such a
 * number is left to O_CLOEXEC alone). */
#define CRS_FORK_GUARD_FDS 16384
void crs_fork_guard_own(int fd);
/* 1 when fd is owned. */
int crs_fork_guard_owns(int fd);
/* Before closing an owned fd (inside a section with the close). */
void crs_fork_guard_disown(int fd);

/* The fork handlers, registered by libcr when it loads; also called by a prepare handler that
 * must hold the guard before its own lock (the halves registry, registered after libcr: its
 * handler runs first). Nest per thread: the guard is let go at the outermost parent/child call. */
void crs_fork_guard_prepare(void);
void crs_fork_guard_parent(void);
void crs_fork_guard_child(void);

/* In a restarted process, from libcr's restart hook: no descriptor owned (those of the capture
 * were not saved), no section open but the calling thread's. */
void crs_fork_guard_restarted(void);

#endif

/*
 * libcr.h: Revive's BLCR-compatible checkpoint/restart API.
 *
 * Code written against BLCR's libcr.h compiles unchanged and links with -lcr.
 * A process that links libcr (or runs under cr_run) can be checkpointed from
 * outside (`cr_checkpoint PID`) and from inside (the requests below), and
 * brought back with `cr_restart FILE`.
 *
 * Errors: functions returning int give -1 (or a negative CR_POLL_* code) and
 * set errno, unless said otherwise. CR_ERESTARTED is the errno a request
 * made before a checkpoint reports in the restarted process; in Revive it
 * equals EINVAL, as BLCR's documentation of the day described.
 *
 * Thread safety: every call may be made from any thread. cr_checkpoint() is
 * valid only inside a callback.
 *
 * Static programs link libcr.a, with the options installed beside it (they
 * wrap the libc calls libcr interposes, ld --wrap, and take the whole archive
 * so that its checkpoint thread starts before main):
 *     cc -static -o prog prog.o -L$PREFIX/lib @$PREFIX/lib/libcr-static.flags
 * cr_run cannot preload libcr into a static executable; one linked this way
 * needs nothing preloaded.
 */
#ifndef REVIVE_LIBCR_H
#define REVIVE_LIBCR_H

#include <errno.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/types.h>

/* BLCR-era code opens images with O_LARGEFILE, which glibc declares only
 * for _GNU_SOURCE / _LARGEFILE64_SOURCE; on 64-bit Linux it is 0. */
#ifndef O_LARGEFILE
#define O_LARGEFILE 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LIBCR_VERSION_MAJOR 0
#define LIBCR_VERSION_MINOR 8
#define REVIVE_LIBCR 1

/* ---- types ---- */

/* A handle from cr_init(); passed to the critical-section calls. */
typedef int cr_client_id_t;
/* A handle from cr_register_callback(). */
typedef int cr_callback_id_t;
/* A pending checkpoint request, from cr_request_checkpoint(). */
typedef int cr_checkpoint_handle_t;
/* A callback: returns 0 (or the value of its cr_checkpoint() when > 0). */
typedef int (*cr_callback_t)(void *arg);

/* What to checkpoint (BLCR's scopes, with BLCR's values and meaning; the
 * same as cr_checkpoint's --tree, --pgid and --sid). cr_target names:
 *   CR_SCOPE_PROC  one process: its pid (0: the caller)
 *   CR_SCOPE_TREE  a process and all its descendants: the first one's pid
 *                  (0: the caller's tree)
 *   CR_SCOPE_PGRP  every process of a process group: its pgid (0: the caller's)
 *   CR_SCOPE_SESS  every process of a session: its sid (0: the caller's)
 * With a scope, every member runs under Revive (cr_run's children inherit
 * it); all are stopped before any is recorded and run on together once the
 * whole file is written (cr_signal then reaches each). The file holds every
 * member (zombies with their wait status, the pipes and open files members
 * share); `cr_restart FILE` brings them all back, `cr_info FILE` lists them.
 * The caller may be a member: the checkpoint is then run by a helper
 * cr_checkpoint process (found through $REVIVE_CR_CHECKPOINT, else the
 * installed one, else $PATH), made without an exit signal so the program
 * never sees it. */
typedef enum {
    CR_SCOPE_PROC = 1, /* a single process */
    CR_SCOPE_PGRP = 2, /* a process group */
    CR_SCOPE_SESS = 3, /* a session */
    CR_SCOPE_TREE = 4  /* a process and its descendants */
} cr_scope_t;

#define CR_CHECKPOINT_ARGS_VERSION 1

typedef struct cr_checkpoint_args_s {
    unsigned int cr_version; /* CR_CHECKPOINT_ARGS_VERSION */
    cr_scope_t cr_scope;     /* CR_SCOPE_PROC (default) or a scope above */
    pid_t cr_target;         /* 0 (or getpid()) for the caller, or another process's PID
                                (with CR_SCOPE_PGRP / CR_SCOPE_SESS: a pgid / sid) */
    int cr_fd;               /* where the image is written, from its current offset;
                                must be a regular file open for writing */
    int cr_signal;           /* sent to the target once the image is complete (0: none).
                                SIGSTOP (BLCR's cr_checkpoint --stop): the request completes
                                only once the target (each member of a scope) shows stopped,
                                waiting up to 10 s a member (one a tracer holds may take that
                                long; it stops when it can, the request is not failed) */
    unsigned int cr_timeout; /* seconds before the request fails with ETIMEDOUT (0: none) */
    unsigned int cr_flags;   /* CR_CHKPT_* */
} cr_checkpoint_args_t;

/* cr_flags. The DUMP flags are accepted for compatibility: Revive always
 * saves what restart needs (text of unchanged files by reference). */
#define CR_CHKPT_DUMP_EXEC 0x0001
#define CR_CHKPT_DUMP_PRIVATE 0x0002
#define CR_CHKPT_DUMP_SHARED 0x0004
#define CR_CHKPT_DUMP_ALL (CR_CHKPT_DUMP_EXEC | CR_CHKPT_DUMP_PRIVATE | CR_CHKPT_DUMP_SHARED)
#define CR_CHKPT_FORK 0x0100       /* Revive: a child writes the image; the process stalls only for the fork */
#define CR_CHKPT_COMPRESS 0x0200   /* Revive: zstd-compress page data */
#define CR_CHKPT_IGNORE_FDS 0x0400 /* Revive: record unrestorable descriptors as closed */

/* cr_register_callback() flags: where the callback runs. */
#define CR_THREAD_CONTEXT 0x1 /* in a thread Revive creates for the checkpoint */
#define CR_SIGNAL_CONTEXT 0x2 /* in a signal handler of the thread that registered it */

/* cr_checkpoint() flags, as BLCR's. */
#define CR_CHECKPOINT_READY 0x0
#define CR_CHECKPOINT_OMIT 0x1         /* accepted; the image is still taken */
#define CR_CHECKPOINT_TEMP_FAILURE 0x2 /* the checkpoint fails with EAGAIN */
#define CR_CHECKPOINT_PERM_FAILURE 0x4 /* the checkpoint fails with EPERM */

/* cr_poll_checkpoint() results below zero. */
#define CR_POLL_CHKPT_ERR_PRE (-1)  /* waiting failed (errno: EINVAL bad handle) */
#define CR_POLL_CHKPT_ERR_LOG (-2)  /* unused by Revive */
#define CR_POLL_CHKPT_ERR_POST (-3) /* the checkpoint failed (errno says why), or
                                       errno == CR_ERESTARTED in a restarted process */

/* errno of a request that was pending when the image was taken, seen in the
 * restarted process. */
#define CR_ERESTARTED EINVAL

/* ---- initialisation ---- */

/* Registers the calling thread as a client. Returns a client id (>= 0), or -1
 * with errno set (ENOSYS: the checkpoint machinery could not start in this
 * process; the reason is printed once on stderr). Calling it again is fine. */
extern cr_client_id_t cr_init(void);

/* ---- callbacks ---- */

/* Registers func(arg) to run when a checkpoint is taken. flags is
 * CR_THREAD_CONTEXT or CR_SIGNAL_CONTEXT. Before the image is taken, thread-
 * context callbacks run first, in registration order, each calling
 * cr_checkpoint() when ready; then signal-context callbacks of each thread, in
 * registration order. cr_checkpoint() returns after the image is taken (0)
 * or in the restarted process (> 0), and the code after it runs in the reverse
 * order. Returns a callback id, or -1 with errno EINVAL (bad flags or func) or
 * ENOMEM (more than 64 callbacks). */
extern cr_callback_id_t cr_register_callback(cr_callback_t func, void *arg, int flags);

/* Replaces a registered callback (func NULL disables it). 0, or -1 EINVAL. */
extern int cr_replace_callback(cr_callback_id_t id, cr_callback_t func, void *arg, int flags);

/* Inside a callback: lets the checkpoint proceed, then returns 0 when the
 * process continues after the checkpoint, > 0 in the restarted process, or -1
 * with errno (ENOTSUP outside a callback; the checkpoint's errno if it failed).
 * flags: CR_CHECKPOINT_READY, or a failure flag to cancel the checkpoint. */
extern int cr_checkpoint(int flags);

/* ---- critical sections ---- */

/* A critical section keeps checkpoints out: a checkpoint waits until every
 * thread has left its critical sections, and cr_enter_cs waits while a
 * checkpoint is requested or running. Returns 0. */
extern int cr_enter_cs(cr_client_id_t id);
/* Leaves a critical section. 0, or -1 EINVAL when not in one. */
extern int cr_leave_cs(cr_client_id_t id);
/* Like cr_enter_cs but never waits: 0 when entered, -1 with errno EAGAIN
 * when a checkpoint is requested or running. */
extern int cr_tryenter_cs(cr_client_id_t id);

/* ---- requests ---- */

/* Fills *args with defaults: version, CR_SCOPE_PROC, target 0 (self), fd -1,
 * no signal, no timeout, CR_CHKPT_DUMP_ALL. Returns 0. */
extern int cr_initialize_checkpoint_args_t(cr_checkpoint_args_t *args);

/* Starts a checkpoint as described by *args and returns at once; *handle
 * follows it. Returns 0, or -1 with errno EINVAL (version, scope, fd),
 * ESRCH (no such target), EPERM (target of another user), ENOSYS (the target
 * does not run under Revive), EAGAIN (too many requests pending).
 * With CR_SCOPE_TREE/PGRP/SESS the image of every member is written through
 * cr_fd from its offset (a regular file open for writing, not O_APPEND;
 * cr_flags CR_CHKPT_FORK is ignored). Refusals found once the members are
 * known come from cr_poll_checkpoint / cr_reap_checkpoint's errno, with one
 * line on stderr saying why: ENOTSUP (a member has a child outside the
 * group or session), ECONNREFUSED (a member does not run under Revive),
 * ESRCH (no such group or session, or a member ended meanwhile), EAGAIN (a
 * member is stopped), ENOENT (no cr_checkpoint to run), or the failure of a
 * member's image. In a process restarted from such a file the request
 * reports CR_ERESTARTED, as for one process. */
extern int cr_request_checkpoint(cr_checkpoint_args_t *args, cr_checkpoint_handle_t *handle);

/* Waits for a request. timeout NULL: until it completes; {0,0}: just polls.
 * Returns 1 when the image was written (the handle is reaped), 0 when the
 * timeout expired first, CR_POLL_CHKPT_ERR_PRE with errno EINVAL for an
 * unknown handle, CR_POLL_CHKPT_ERR_POST with errno = the checkpoint's
 * failure (ENOSPC, EIO, ETIMEDOUT, EACCES: the process is not dumpable, as
 * after it changed its user, see prctl(2) PR_SET_DUMPABLE; ...) or CR_ERESTARTED (EINVAL) when
 * called in the restarted process for a request made before the image. */
extern int cr_poll_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout);

/* Collects a completed request: 0, or -1 with errno EAGAIN (still running),
 * CR_ERESTARTED, the checkpoint's failure, or EINVAL (unknown handle). */
extern int cr_reap_checkpoint(cr_checkpoint_handle_t *handle);

/* Requests a checkpoint of the calling process to context.PID in the current
 * directory, returning once it is pending or done: a following cr_enter_cs()
 * waits for it. No error is reported (see cr_request_checkpoint); a failure
 * is printed on stderr. The image is written as cr_request_file() does. */
extern void cr_request(void);

/* The same, to the named file, which is never left holding part of an image:
 * the image is written under a temporary name in the same directory
 * (.NAME.tmp.PID), flushed to disk, and renamed over `filename` (mode 0600)
 * only once complete; then the directory is flushed. If the checkpoint fails,
 * or the process dies meanwhile, an earlier file under that name stays as it
 * was (a process that dies may leave the temporary file). A symbolic link
 * under that name is replaced, not followed; a name that is not a regular
 * file (a device, a directory) is refused. A relative name is resolved at
 * the call. */
extern void cr_request_file(const char *filename);

/* The same, to an open descriptor. When fd is a regular file of the caller's
 * user, open for writing (not O_APPEND) at offset 0, that still has a name
 * (the path /proc/self/fd shows), the image replaces that file by name just
 * as cr_request_file() does (mode kept); fd itself is left as it was, still
 * referring to the old file's content. Any other regular file (at another
 * offset, unlinked, O_APPEND, another user's) gets the image written through
 * fd from its current offset and flushed: after a failure or a crash it may
 * hold a partial image, which cr_restart and cr_info refuse (every piece is
 * checksummed), never one that restarts wrongly; what it held before is not
 * kept. A descriptor that is not a regular file is refused. */
extern void cr_request_fd(int fd);

/* A message for a libcr errno value. */
extern const char *cr_strerror(int errnum);

#ifdef __cplusplus
}
#endif

#endif

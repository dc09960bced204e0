/* libcr's run time inside a checkpointable process: the checkpoint thread,
 * the request slots of the BLCR API, critical sections and callbacks. */
#ifndef REVIVE_LIBCR_RUNTIME_H
#define REVIVE_LIBCR_RUNTIME_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "crs/base/component.h"
#include "crs/base/durable.h"
#ifndef REVIVE_LIBCR_STATIC
#include "common/libc_dlsym.h"
#endif

enum crs_slot_state {
    CRS_SLOT_FREE = 0,
    CRS_SLOT_QUEUED,
    CRS_SLOT_RUNNING,
    CRS_SLOT_DONE,
    CRS_SLOT_FAILED,
    CRS_SLOT_RESTARTED,
};

#define CRS_MAX_REQUESTS 64

struct crs_request_slot {
    _Atomic uint32_t state;  /* enum crs_slot_state; a futex word */
    pid_t target;            /* 0: this process; with a scope, the pid, pgid or sid */
    int scope;               /* 0 one process; CRS_TREE_SCOPE_* (crs/base/tree.h): a helper
                                cr_checkpoint writes the scope (scope.c) */
    int fd;                  /* our own dup of the caller's descriptor */
    dev_t dev;               /* and its file: the program may close the number */
    ino_t ino;
    unsigned flags;          /* CR_CHKPT_* */
    int signal;              /* sent to the target afterwards */
    unsigned timeout_s;
    int err;                 /* errno of a failure */
    /* cr_request_file/_fd: fd is this temporary file, renamed over the final
     * name once the image is written (NULL: the image goes to fd as is). */
    struct crs_durable *durable;
};

extern struct crs_request_slot crs_requests[CRS_MAX_REQUESTS];

/* Starts the run time if it is not running (the constructor does it). 0 or -errno. */
int crs_runtime_start(void);
/* Hands slot i to the checkpoint thread (self) or a helper thread (others). */
int crs_runtime_submit(int i);
/* The checkpoint's status for signal-context callbacks (0 or -errno). */
extern int crs_runtime_last_status;
/* The checkpoint component in use (NULL until the run time started). */
const struct crs_component *crs_runtime_component(void);
/* Its park signal, or 0 (no component yet, or it is installing its handler). */
int crs_runtime_park_signal(void);
/* For a thread libcr starts (timer callbacks, checkpoint callbacks, remote
 * requests): every signal blocked but the park signal (a checkpoint parks
 * it) and glibc's internal 32 and 33 (as glibc's own helper threads run), so
 * that a signal the program blocks and takes elsewhere (signalfd, sigwait)
 * is never delivered to it. */
void crs_runtime_block_signals(void);
/* Runs one checkpoint of this process from the calling thread, which writes the image to o->fd
 * and is not parked (the others are), with BLCR's critical sections and callbacks and the
 * checkpoint hooks, as the checkpoint thread does for a request; one checkpoint at a time.
 * For a library that drives its process's checkpoints from a thread of its own (the MPI
 * layer's agent). Returns res->status (0 or -errno, message in res->err), or 1 in the
 * process restarted from the image.
 * Not from the main thread (tid == pid): the image records the main thread parked, as the
 * first of its records (cr_restart refuses an image whose first record is not the main
 * thread's), and the calling thread is recorded last, not parked. Called from the main thread
 * it returns -EINVAL (res->status -EINVAL, res->err saying so) with nothing parked and no
 * callback run: start a thread and call it there, as pml_restart_capture does. */
int crs_runtime_checkpoint_here(struct crs_ckpt_opts *o, struct crs_ckpt_result *res);
/* crs_runtime_checkpoint_here for the calling process and its descendants (tree_here.c): one
 * tree file (crs/base/tree.h, read by cr_restart) written into o->fd from its offset, the
 * caller its member 0; `to` says how (scope CRS_TREE_SCOPE_TREE, id getpid(); signal_after
 * reaches the descendants only, commit makes the file durable). o->after_park, when set, runs
 * first. Returns as crs_runtime_checkpoint_here: 0, 1 in the restarted process, or -errno with
 * res->err naming the member and what to do. */
struct crs_tree_ckpt_opts;
int crs_runtime_tree_here(struct crs_ckpt_opts *o, const struct crs_tree_ckpt_opts *to, struct crs_ckpt_result *res);
/* A tree member's go word (crs/base/protocol.h) into o's tree_* fields (kept until the next
 * one). 0, or -EPROTO for a malformed one. */
struct crs_proto_go;
int crs_runtime_take_go(struct crs_ckpt_opts *o, const struct crs_proto_go *go);

/* libcr's own descriptors (runtime.c): moved to high numbers; is fd ours;
 * the program wants that number (dup2 onto it): move ours away. */
int crs_runtime_high_fd(int fd);
int crs_runtime_owns_fd(int fd);
int crs_runtime_own_fd(void);   /* the one there is now, or -1 */
void crs_runtime_give_up_fd(int fd);

/* Around an execve of the calling thread (interpose.c's exec wrappers):
 * the component's exec_enter / exec_leave (base/component.h), nothing when
 * libcr has not started. */
struct crs_exec_guard;
void crs_runtime_exec_enter(struct crs_exec_guard *g);
void crs_runtime_exec_leave(const struct crs_exec_guard *g);

/* exec_target.c: 1 when the program an exec starts loads libcr (the
 * System V notes may go with the process): dirfd and path as execveat's
 * (AT_FDCWD for execve; path "" with AT_EMPTY_PATH for fexecve's fd),
 * search: path is searched in PATH as execvp does; envp the new program's
 * environment. */
int crs_exec_loads_libcr(int dirfd, const char *path, int at_flags, char *const envp[], int search);

/* Interposing libc's calls. libcr.so defines them under their names and
 * finds libc's with the C library's dlsym(RTLD_NEXT), called through a pointer
 * (common/libc_dlsym.h): a program that defines dlsym itself must not answer
 * libcr's lookups relative to the program (diffrev38 R-L8). libcr.a (REVIVE_LIBCR_STATIC) goes into
 * a static program, where no dynamic loader interposes anything: its link
 * wraps each call (ld --wrap=NAME, listed in libcr-static.flags), so ours
 * are __wrap_NAME and libc's __real_NAME. */
#ifdef REVIVE_LIBCR_STATIC
#define CRS_INTERPOSE(name) __wrap_##name
#define CRS_NEXT(type, name) ((type)&__real_##name)
#else
#define CRS_INTERPOSE(name) name
#define CRS_NEXT(type, name) ((type)revive_dlsym_next(#name))
#endif

/* In a forked child: the parent's listening socket, the connection it served and its image file
 * closed (their numbers free for the child's own). System calls only (the child of _Fork). */
void crs_runtime_forked_raw(void);

/* interpose.c: close() past the protection of our descriptors; resolving
 * the real calls (at load). */
int crs_real_close(int fd);
void crs_interpose_init(void);
/* interpose.c: once per process on stderr, that the program's CALL (a wait for signals,
 * sigwait.c) named the park signal SIG, which it will not receive */
void crs_interpose_tell_waited(const char *call, int sig);
/* inotify_read.c: libc's read, readv, __read_chk and ioctl (at load). */
void crs_inotify_read_init(void);

/* SIGEV_THREAD timers (timers.c): after a restart (from a restart hook),
 * in a forked child. */
void crs_timers_after_restart(void);
void crs_timers_after_fork_child(void);

/* A checkpoint of a scope (scope.c): runs cr_checkpoint for slot s and
 * waits for it; 0 or -errno. */
int crs_scope_checkpoint(struct crs_request_slot *s);

/* Critical sections (cs.c). */
void crs_cs_request_pending(int delta);  /* a checkpoint is asked for (+1) or over (-1) */
/* In a forked child: no request is pending there (the parent's count was copied). */
void crs_cs_forked(void);
void crs_cs_wait_clear(void);            /* waits until no thread is inside one */

/* Callbacks (callbacks.c). */
struct crs_cb_run {
    int active;              /* a callback thread runs */
    unsigned long thread;    /* pthread_t */
};
/* Runs thread-context callbacks up to their cr_checkpoint(); 0, or -errno
 * when one of them cancelled the checkpoint. */
int crs_callbacks_before(struct crs_cb_run *run);
/* Gives them the outcome (0 continued, 1 restarted, -errno failed) and waits
 * for them to finish. */
void crs_callbacks_after(struct crs_cb_run *run, int outcome);
/* Nonzero when a signal-context callback cancelled the checkpoint. */
int crs_callbacks_cancelled(void);
void crs_callbacks_init(void);

#endif

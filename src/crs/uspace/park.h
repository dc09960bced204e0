/*
 * Parking threads: the checkpoint thread sends a signal to every other thread;
 * each one saves its state in its handler and waits there. At restart each is
 * resumed inside that handler and returns from it, which puts back its
 * registers, FPU state and signal mask (the kernel's signal frame is on its
 * stack, saved with the rest of memory).
 */
#ifndef REVIVE_CRS_PARK_H
#define REVIVE_CRS_PARK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "crs/base/image_format.h"
#include "crs/uspace/restart_info.h"

#define CRS_MAX_THREADS 4096

/* Installs the park signal handler (signal `sig`). 0 or -errno. */
int crs_park_init(int sig);
/* The park signal; 0 before crs_park_init (and while it installs the
 * handler, so that libcr's sigaction guard lets that one call through). */
int crs_park_signal(void);

/* Parks every thread but the caller. Returns the number parked, or -errno
 * (then every thread was released again) with a message in err. */
long crs_park_all(int timeout_ms, char *err, size_t errlen);

/* Real-time signals queued to one thread that the parked threads took off
 * their queues (and queued again), each with its tid, oldest first per
 * thread (valid until the next crs_park_all). */
const struct crs_rec_siginfo *crs_park_thread_siginfos(size_t *n);
/* Thread-directed POSIX timers' signals (SIGEV_THREAD_ID) the parked threads
 * took off their queues and did not queue again: the thread, the timer and
 * the overrun the delivery gave (valid until the next crs_park_all). The
 * capture makes each timer queue its signal again (capture_sigqueue.c). */
struct crs_park_timer {
    pid_t tid;
    int id;
    int overrun;
    int64_t first;   /* the expiry that queued it, on the timer's clock (crs_timer_first); 0: not known */
};
const struct crs_park_timer *crs_park_thread_timers(size_t *n);
/* Signals a checkpoint takes off the queues with their siginfo: 1-31 and
 * the real-time ones, not glibc's internal ones, SIGKILL or SIGSTOP. */
uint64_t crs_park_takeable(void);
/* Queues a signal taken off a queue again (to thread tid, 0: the process)
 * with its siginfo: now when the caller may (a code < 0, or the main
 * thread), else by the main thread as it leaves its park (crs_park_release
 * raises it bare when no main thread is parked). While parking or
 * capturing only. */
void crs_park_requeue(pid_t tid, const siginfo_t *si);
/* The parked threads' records (valid until crs_park_release). */
struct crs_rec_thread *const *crs_park_records(size_t *n);
/* The attributes of the thread of record i of crs_park_records (thread_attr.h). */
struct crs_rec_thread_attr *crs_park_attr(size_t i);
/* In a restarted process: 1 when slot i's thread was restored (a thread the
 * image left out, an MPI rank's lower-half one, was not: its slot points
 * into a stack that is not mapped). */
int crs_park_restored(size_t i);

/* The id /proc uses for a parked thread (differs inside a pid namespace). */
pid_t crs_park_proc_tid(pid_t tid);

/* The id in the process's own pid namespace of the thread /proc calls
 * `outer` (they differ in a process restarted in a namespace of its own). */
pid_t crs_park_inner_tid(pid_t outer);

/* In the restarted process: the id now of the thread that had `old` when it
 * was parked for the checkpoint (the same when ids came back). The
 * checkpoint thread's own old id is given by crs_park_set_self_tids. */
pid_t crs_park_tid_now(pid_t old);
void crs_park_set_self_tids(pid_t old, pid_t now);

/* Lets parked threads run on. */
void crs_park_release(void);
/* The same, but the threads for which hold(arg, tid) says 1 stay parked until crs_park_unhold
 * (asked here, in the caller, while every thread is still parked). */
void crs_park_release_holding(int (*hold)(void *arg, pid_t tid), void *arg);
/* In the restarted process: lets the restored threads run on, but those for which hold(arg,
 * tid now) says 1 (NULL: none) stay parked until crs_park_unhold. */
void crs_park_release_restarted(int (*hold)(void *arg, pid_t tid), void *arg);
void crs_park_unhold(void);

/* Fills a record with the calling thread's kernel-side state (tid, TLS base,
 * robust list, rseq, alternate stack). */
void crs_thread_describe(struct crs_rec_thread *rec);

/* After a restart: puts the calling thread's kernel-side state back and fixes
 * glibc's cached tid when ids changed. */
void crs_thread_reinstate(const struct crs_rec_thread *rec, const struct crs_restart_info *info);
/* After a restart, once the restore is over (its memory steps and hooks): the calling thread's
 * alternate signal stack, when it lies where nothing is mapped (memory the image left out),
 * replaced by a fresh one of its size (park_thread.c). */
void crs_thread_altstack_check(void);

/* Restart bookkeeping for the checkpoint thread: waits until all `n` parked
 * threads have reinstated themselves. */
void crs_park_wait_restored(size_t n);

/* Sets the hook that runs in a parked thread's handler before it saves its
 * state (signal-context callbacks). It returns 1 if it parked the thread
 * itself (via crs_park_here), else 0. */
void crs_park_set_hook(int (*hook)(void));

/* The component's exec_enter / exec_leave (base/component.h): the calling
 * thread is marked as inside execve, never sent the park signal, none
 * pending; a round in progress parks it first. */
struct crs_exec_guard;
void crs_park_exec_enter(struct crs_exec_guard *g);
void crs_park_exec_leave(const struct crs_exec_guard *g);

/* Parks the calling thread from inside a signal handler; returns 0 after the
 * checkpoint when continuing, 1 when the process was restarted. */
int crs_park_here(void);

#endif

/*
 * What the files of the park share (park.h is the interface): park.c parks
 * and releases a thread and owns the round's state below; park_stop.c stops
 * every other thread for a checkpoint (crs_park_all); park_sigqueue.c takes the
 * signals queued to a parking thread and queues them again; park_exec.c keeps
 * the park signal from threads inside execve; park_thread.c describes a
 * thread's own kernel state and puts it back after a restart. Internal to
 * src/crs/uspace, and hidden: libcr.so exports none of these names into the
 * program.
 */
#ifndef REVIVE_CRS_USPACE_PARK_STATE_H
#define REVIVE_CRS_USPACE_PARK_STATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crs/base/image_format.h"
#include "crs/uspace/park.h"

#pragma GCC visibility push(hidden)

enum { PHASE_IDLE = 0, PHASE_PARKING = 1 };

/* ---- park.c: the round's state (see there) and the futex helpers ---- */
extern int crs_park_park_sig;
extern _Atomic int crs_park_phase;
extern _Atomic uint32_t crs_park_nslots, crs_park_nparked, crs_park_release_gen, crs_park_nrestored;
extern _Atomic uint32_t crs_park_park_round;
/* The process whose checkpoint thread started the round (crs_park_all): a forked child's copy
 * of the round, or a vfork child's view of its parent's, is not its own round (crs_park_round_ours). */
extern _Atomic pid_t crs_park_round_pid;
/* Whether a round of this very process is on: its phase PARKING and started here. */
int crs_park_round_ours(void);
extern pid_t crs_park_deferring[CRS_MAX_THREADS];
extern unsigned char crs_park_deferring_call[CRS_MAX_THREADS];
extern _Atomic uint32_t crs_park_ndeferring;
extern struct crs_rec_thread *crs_park_slots[CRS_MAX_THREADS];
extern struct crs_rec_thread_attr *crs_park_attr_slots[CRS_MAX_THREADS];
extern pid_t crs_park_tids_now[CRS_MAX_THREADS];
extern _Atomic int crs_park_main_parked;

/* Waits while *addr holds val, at most ms milliseconds (-1: no limit). */
void crs_park_futex_wait(_Atomic uint32_t *addr, uint32_t val, long ms);
/* Wakes every waiter on addr. */
void crs_park_futex_wake(_Atomic uint32_t *addr);
/* The calling thread's id. */
pid_t crs_park_my_tid(void);
/* Whether thread tid deferred its park this round (inside a park-deferral section). */
int crs_park_is_deferring(pid_t tid);

/* ---- park_thread.c ---- */
/* Offset of the tid inside glibc's struct pthread, found at run time (0: unknown). */
extern size_t crs_park_tid_offset;
/* Finds tid_offset (crs_park_init). */
void crs_park_find_tid_offset(void);

/* ---- park_exec.c: threads inside execve, never sent the park signal ---- */
#define CRS_MAX_EXECING 64
extern _Atomic pid_t crs_park_execing[CRS_MAX_EXECING];
/* Whether thread tid is inside execve. */
int crs_park_is_execing(pid_t tid);
/* Frees the slots of threads that are not ours (any more). */
void crs_park_forget_foreign_execing(void);

/* ---- park_sigqueue.c: signals a parking thread takes off its own queue ---- */
/* How many records of signals queued to one thread are held (tq), of those
 * only the main thread may queue again (mq), of thread-directed timers (tt). */
extern _Atomic uint32_t crs_park_ntq, crs_park_nmq, crs_park_ntt;
/* This round's signals of POSIX timers, and those no thread takes (the park signal). */
extern uint64_t crs_park_tq_timers, crs_park_tq_leave;
/* The process's pending set when this round's parking began (all ones: unknown). */
extern _Atomic uint64_t crs_park_shared_at_park;
/* Takes, records and queues again the signals queued to the calling thread alone. */
void crs_park_take_own_queue(void);
/* The noted signals only the main thread may queue with their sender: queued
 * with their siginfo (the main thread) or bare. */
void crs_park_drain_mq(int bare);
/* In a restarted thread (old id `old`): its records the restart could not queue, queued to itself. */
void crs_park_requeue_own(pid_t old);
/* Signals POSIX timers of the process deliver; notes each timer's clock. */
uint64_t crs_park_timer_signals(void);

#pragma GCC visibility pop

#endif

/*
 * The CPU-time clocks across a restart (newuser8 F2). The kernel counts a process's and each
 * thread's CPU time from their creation, and no call sets it: in a process restarted from an
 * image, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, clock(), times() and getrusage()
 * started again from 0, and a program timing its CPU use across the restart got a negative
 * difference (Gerris: "assertion 't->start >= 0.' failed"). Here each thread notes, as it
 * parks for a checkpoint, the values the program could have seen (the kernel's count plus the
 * offset in force); a restarted thread sets its own offset so that its clock goes on from the
 * value it parked with, and the restart sets the process's (crs_cpu_restarted), so that the
 * process clock goes on from the largest value any thread parked with. libcr's interposed
 * calls (src/crs/libcr/cpuclock.c) add the offsets; until a restart they are 0 and the calls
 * are libc's. A fork's child starts from its own count, as natively (crs_cpu_forked).
 * Not covered: a clock named by clock_getcpuclockid/pthread_getcpuclockid (another thread's or
 * process's: the kernel's count), a program's raw system calls, and the count after an exec of
 * a restarted process (the kernel's).
 */
#ifndef REVIVE_CRS_CPU_CLOCKS_H
#define REVIVE_CRS_CPU_CLOCKS_H

#include <stdint.h>

/* Nanoseconds to add to the kernel's count. */
struct crs_cpu_offsets {
    int64_t proc, user, sys;    /* CLOCK_PROCESS_CPUTIME_ID; getrusage(RUSAGE_SELF), times() */
    int64_t cuser, csys;        /* getrusage(RUSAGE_CHILDREN), times()'s children's */
};

/* 1 once this process (or one of the images it came from) was restarted: the offsets may be
 * nonzero. A load, for the interposed calls' fast path. */
extern volatile int crs_cpu_any;
extern struct crs_cpu_offsets crs_cpu_off;

/* The kernel's user and system time of WHO (RUSAGE_SELF, _CHILDREN, _THREAD) in nanoseconds, by
 * the system call (libcr interposes getrusage). 0, or -1 with errno set by getrusage(2).
 * Async-signal-safe. */
int crs_cpu_usage_ns(int who, int64_t *user, int64_t *sys);

/* The calling thread's offsets (CLOCK_THREAD_CPUTIME_ID; getrusage(RUSAGE_THREAD) user, sys). */
void crs_cpu_thread_offsets(int64_t *cpu, int64_t *user, int64_t *sys);

/* In the park handler, before parking: the values this thread could have seen so far.
 * Async-signal-safe (system calls only). */
void crs_cpu_park_note(void);
/* In the park handler of a restarted thread, before it runs on: its own offsets. */
void crs_cpu_thread_restarted(void);
/* Once a restart has brought every thread back, before any runs on: the process's offsets. */
void crs_cpu_restarted(void);
/* In a fork's child: its counts start from 0, as natively. */
void crs_cpu_forked(void);

#endif

/*
 * The seccomp filters the program installed itself, as libcr's interposed
 * calls see them (libcr/seccomp.c: prctl(PR_SET_SECCOMP), syscall(SYS_seccomp),
 * which libseccomp uses), for the capture (uspace/seccomp_capture.c; image_format.h:
 * SECCOMP). The kernel gives a filter's program back only to a tracer with
 * CAP_SYS_ADMIN (PTRACE_SECCOMP_GET_FILTER); /proc shows only how many a
 * thread runs under (Seccomp_filters), so each one is copied here as it goes
 * in, and the capture checks the counts against these notes.
 *
 * The model: the filters a thread runs under are those it inherited when
 * the process started (its launcher's, cr_run's or cr_restart's: never
 * saved, a restart runs under cr_restart's) and then a prefix of the notes,
 * in order. That holds while every install extends the whole chain (the
 * installing thread runs under all notes so far) or synchronises every
 * thread to its own (SECCOMP_FILTER_FLAG_TSYNC, which drops the notes no
 * thread runs under any longer); an install by a thread under fewer notes
 * without TSYNC breaks it (the chains fork), and the capture refuses then.
 * Per process, in its memory (so a restarted process has them again; a
 * forked child has its parent's, as the kernel gives it its parent's
 * filters). Writers take a spin lock inside a park-deferral section.
 */
#ifndef REVIVE_CRS_SECCOMP_NOTES_H
#define REVIVE_CRS_SECCOMP_NOTES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#define CRS_SECCOMP_NOTES_MAX 64        /* filters one process may install */
#define CRS_SECCOMP_INSNS_MAX 32768u    /* their instructions in all (the kernel's limit per thread) */

/* The calling thread's filter count (/proc/thread-self/status
 * Seccomp_filters), or -1 when /proc cannot tell (not mounted, or a filter
 * forbids reading it). *strict set to 1 in SECCOMP_MODE_STRICT. Read only
 * where no filter of the program can be in the way: at libcr's start and in
 * a restored process before its filters go in again. */
int crs_seccomp_thread_count(int *strict);
/* The same from a thread's status text (/proc/.../task/TID/status). */
int crs_seccomp_status_count(const char *status, int *strict);

/* At libcr's start: the calling thread's filters are the launcher's. */
void crs_seccomp_notes_start(void);

/* After an install of `prog` with `flags` (SECCOMP_FILTER_FLAG_*) succeeded
 * in the calling thread. Which of the notes the thread ran under just before
 * is kept in memory, per thread (a thread-local count; a TSYNC install sets
 * every thread's): never read from /proc, which the program's filters may
 * forbid (diffrev19 MEDIUM-K: a program whose first filter forbids openat
 * died at its second install). */
void crs_seccomp_notes_add(unsigned flags, const struct sock_fprog *prog);

/* A thread the calling thread starts runs under the same filters:
 * crs_seccomp_thread_mine in the creator, crs_seccomp_thread_begin with it
 * first thing in the new thread (libcr/seccomp.c wraps pthread_create). */
struct crs_seccomp_mine {
    uint32_t n;     /* notes it runs under */
    uint32_t gen;   /* 0: unknown (a thread libcr did not see start) */
};
struct crs_seccomp_mine crs_seccomp_thread_mine(void);
void crs_seccomp_thread_begin(struct crs_seccomp_mine m);

/* The notes, for the capture (while every other thread is parked):
 * *inherited the launcher's count, *n the notes; returns NULL and says why
 * in why (a static string) when they cannot describe the process's filters. */
struct crs_seccomp_note {
    uint32_t flags;     /* SECCOMP_FILTER_FLAG_* as installed */
    uint32_t len;       /* instructions */
    uint32_t first;     /* into the instructions of crs_seccomp_notes_insns */
};
const struct crs_seccomp_note *crs_seccomp_notes(int *inherited, size_t *n, const char **why);
const struct sock_filter *crs_seccomp_notes_insns(void);

/* What the filters the calling thread runs under (those of the notes: not
 * the launcher's) do to system call nr with args: the 1-based index of the
 * note whose action wins and *action, when that is to fail the call or end
 * the thread or process; 0 when they allow it (or log it, or leave it to a
 * supervisor or tracer), or when the notes cannot tell (seccomp_eval.c). */
int crs_seccomp_mine_forbids(long nr, const uint64_t args[6], uint32_t *action);

/* In the restored process: it now runs under `inherited` filters of
 * cr_restart's, beneath the notes it installs again. */
void crs_seccomp_notes_restarted(int inherited);

/* 1 when the program installed filters (a restart of an image taken now
 * would install them again). */
int crs_seccomp_notes_any(void);
/* 1 when the program installed a filter through libc, described or not: its
 * threads may be forbidden what the park would do in them (park.c). */
int crs_seccomp_notes_installed(void);

/* 1 in a restarted process whose filters wait for the component's unhold
 * (crs_ckpt_opts.seccomp_later; set by seccomp_restore.c). */
int crs_seccomp_restore_waiting(void);
void crs_seccomp_restore_set_waiting(int on);

/* Installs in the calling thread (with flags, SECCOMP_FILTER_FLAG_*) the
 * program of the note whose instructions are [first, first + len) of
 * crs_seccomp_notes_insns, without noting it again. 0 or -errno. */
long crs_seccomp_install(unsigned flags, uint32_t first, uint32_t len);

#endif

/* Making a dead lower half harmless (lower_reset.c; glibc-specific, x86_64).
 *
 * After a restart the lower half's memory and threads are gone, but ld.so (which belongs to the
 * application's half and comes back with it) still lists the lower namespace's objects, their
 * TLS modules and static TLS blocks, and the lower threads' descriptors on its stack lists. A
 * fresh dlmopen, a new thread or the exit of the program would walk those entries into memory
 * that no longer exists. These calls make ld.so forget them, as a dlclose of the whole namespace
 * would, without running a destructor or touching the dead memory:
 *
 *   pml_ldso_learn    once the lower half is loaded (every entry valid): finds, with sanity
 *                     checks, where glibc keeps what the calls below change;
 *   pml_ldso_freeze   at a checkpoint, before the threads are parked: takes ld.so's stack-list
 *                     lock (no thread is created or freed until thaw/forget) and records what
 *                     the image will hold (every thread descriptor on them in list order,
 *                     the lower objects' address ranges, signal handlers of the lower half);
 *   pml_ldso_thaw     the process continues: releases the lock;
 *   pml_ldso_forget   in the restarted process, before its threads run on: empties the dead
 *                     namespace's slot, frees its TLS module ids and static TLS, rebuilds the
 *                     stack lists from the recorded descriptors the image holds (those whose
 *                     links read as recorded: the others were the lower half's), drops the thread-specific values the lower
 *                     libc left in the application's threads, closes the dead objects' entries
 *                     in the unwinder's table (_dl_find_object, lower_dlfo.h), keeps their
 *                     ranges reserved (PROT_NONE: a stale pointer into them faults at once),
 *                     resets signal handlers that pointed into the lower half, releases the lock.
 * freeze, thaw and forget allocate nothing and take no lock a parked thread may hold.
 * Each returns 0 or -errno with a message in err naming the check that failed. */
#ifndef PML_HOOKS_LOWER_RESET_H
#define PML_HOOKS_LOWER_RESET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Which half a byte of memory belongs to, as the capture will see it: 1 when it is saved. */
typedef int pml_ldso_upper_fn(uint64_t addr);

int pml_ldso_learn(void *lower_handle, long lmid, pml_ldso_upper_fn *is_upper, char *err,
                   size_t errlen);
int pml_ldso_freeze(char *err, size_t errlen);
void pml_ldso_thaw(void);
/* In a child forked while the parent was frozen: not frozen, ld.so's stack lock free (a child
 * inherited "a checkpoint is already frozen" and its tree capture was refused: rank_forkloop). */
void pml_ldso_forked(void);
/* Whether the thread /proc/self/task calls proc_tid waits (in futex) for ld.so's stack-list
 * lock: 1 or 0. While frozen, that is a thread glibc is ending: it blocks every signal first
 * (so no checkpoint can park it) and then waits for this lock to free its stack. */
int pml_ldso_stacks_waiter(pid_t proc_tid);
int pml_ldso_forget(char *err, size_t errlen);

/* Whether ld.so's three lists of thread descriptors (in use, on stacks of their own, cached)
 * each lead back to their head, consistently linked, within 4096 entries, checked under their
 * lock (waited for at most 10 s). A fresh dlmopen of a library with static TLS walks the first
 * two under that lock: on a damaged list it never returned (campaign-failures.md #33). 0, or
 * -errno with a message naming the list. */
int pml_ldso_lists_sound(char *err, size_t errlen);

/* Copies the words at the given addresses of the caller's static TLS (at most 8) to the same
 * places of every other thread on ld.so's lists (thread descriptors of threads not yet joined
 * included; the stack cache's not: a reused stack gets its TLS anew). Thread-local state a libc
 * gives only the thread that loaded it (lower_libc.h: the lower libc's ctype pointers). Takes
 * ld.so's thread-stack lock, allocates nothing; needs only the thread layout libc publishes
 * (not pml_ldso_learn). Returns the number of threads written, or -errno with a message. */
int pml_ldso_tls_spread(void *const *words, int n, char *err, size_t errlen);
/* 1 when a loader lock of ld.so is held now (by any thread: dlopen, dlclose, dlsym, dladdr...),
 * 0 when free or before a lower half taught the layout. A rank captured so cannot be restarted
 * (pml_ldso_forget refuses it), and a --term capture that holds the owner would leave the lower
 * MPI_Finalize (hwloc's and the components' dlclose) waiting for ever. */
int pml_ldso_loader_busy(void);
/* 1 when the layout is known and no loader lock of ld.so is held (dl_iterate_phdr and dladdr
 * cannot wait then, even with every other thread parked), else 0. */
int pml_ldso_loader_free(void);

/* The application's libc: libc.so.6's entry in the main namespace's list of objects, found by
 * name, or NULL. Never by the address of one of its functions (dladdr(&malloc),
 * dladdr(gnu_get_libc_version)): in a program built without -fPIE (Debian's /usr/bin/python3)
 * that address is the program's own PLT entry, which names the program (newuser7f F5, 9434b27).
 * Its l_ld lies inside libc's mapping (dladdr(l_ld) gives libc's file and base). */
struct link_map;
struct link_map *pml_main_libc(void);

/* The address ranges of the lower half's objects recorded by the last freeze (after a restart:
 * the dead ones, kept reserved by forget) and their paths; returns how many (at most max). */
int pml_ldso_dead_objects(uint64_t (*range)[2], const char **name, int max);
/* What the last forget did, for logs and tests. */
struct pml_ldso_stats {
    long lmid;                 /* the namespace emptied */
    unsigned objects;          /* its objects forgotten */
    unsigned tls_modules;      /* TLS module ids freed */
    uint64_t static_tls_freed; /* bytes of static TLS given back */
    uint64_t static_tls_used;  /* static TLS in use afterwards */
    unsigned threads_kept, threads_dropped, cache_kept, cache_dropped;
    unsigned ranges_reserved, handlers_reset;
    unsigned unwind_closed;    /* entries of the unwinder's table closed (lower_dlfo.h) */
    unsigned tsd_cleared;      /* thread-specific values of the lower libc's keys dropped */
};
void pml_ldso_last_stats(struct pml_ldso_stats *st);

/* The guard page of every thread on ld.so's list of threads in use (threads the lower libc
 * starts by itself, POSIX AIO's among them, as well as the layer's) becomes read-only, as those
 * of the threads the layer starts (halves.h, pml_guard_readable). Best effort, after a call that
 * may have started such a thread; returns how many guards it made read-only (again). */
int pml_ldso_guards_readable(void);

/* After pml_ldso_forget: the application's threads that came back, with the thread id each had
 * at the checkpoint and the one it has now (crs gave the threads new ids). Returns how many
 * (at most max written). */
int pml_ldso_thread_ids(int *old_tid, int *new_tid, int max);

#endif

/* Knowing the halves apart, inside: what the halves files share (the public API is halves.h).
 * Which file does what is in src/pml_hooks/README.md; the method in docs/mpi.md ("Knowing the
 * halves apart"). Nothing here includes mpi.h, so the registry, the rules and queries, the
 * maps reader and the hooks can be built and tested without an MPI library. */
#ifndef PML_HOOKS_HALVES_INTERNAL_H
#define PML_HOOKS_HALVES_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/procfs.h"
#include "crs/base/capture_filter.h"
#include "pml_hooks/halves.h"

/* ---- reasons (halves_query.c): which rule decided a piece of memory ------------------------ */
enum pml_why {
    PML_W_NONE, PML_W_START, PML_W_PRE, PML_W_UMMAP, PML_W_USHM, PML_W_USTACK, PML_W_LOBJ,
    PML_W_LMMAP, PML_W_LSTACK, PML_W_INIT, PML_W_HEAP, PML_W_STACK, PML_W_KERNEL, PML_W_SHMNAME,
    PML_W_DEV, PML_W_FILE, PML_W_ANON, PML_W_BUSY, PML_W_ARENA, PML_W_UCHUNK, PML_W_UOBJ,
    PML_W_COUNT
};
const char *pml_why_str(int why);

static inline uint64_t pml_page_down(uint64_t n)
{
    return n & ~(uint64_t)4095;
}

static inline uint64_t pml_page_up(uint64_t n)
{
    return (n + 4095) & ~(uint64_t)4095;
}

/* ---- the registry (halves_registry.c) -------------------------------------------------------
 * Address intervals [lo, hi) with a half and a reason, sorted and non-overlapping, and the
 * table of threads whose half is known; one lock for both, never held by a parked thread.
 * Changes made from a signal handler that interrupted its own thread's section are queued and
 * applied when that section ends. */
void pml_reg_put(uint64_t lo, uint64_t hi, int half, int why);  /* replaces what was there */
void pml_reg_del(uint64_t lo, uint64_t hi);
void pml_reg_fill(uint64_t lo, uint64_t hi, int half, int why); /* only where nothing is */
void pml_reg_shmdt(uint64_t addr); /* the upper shmat entry that starts at addr, if any */

/* Calls fn for every piece of [start, end) in address order: a registry entry (clipped to the
 * range) or a gap (half 0, why PML_W_NONE). fn runs under the registry's lock: it must not
 * call back into the registry, allocate or block. 0, or -1 without calling fn when the calling
 * thread is changing the registry (a signal handler asks inside its own thread's section). */
typedef void pml_reg_piece_fn(void *arg, uint64_t lo, uint64_t hi, int half, int why);
int pml_reg_walk(uint64_t start, uint64_t end, pml_reg_piece_fn *fn, void *arg);

void pml_thr_set(pid_t tid, int half); /* half 0: forget the thread */
int pml_thr_half(pid_t tid);           /* 0 if not known, -1 as pml_reg_walk */
/* The half of thread tid by its glibc descriptor (halves_hooks.c): PML_HALF_UPPER when it was
 * started through the upper pthread_create, PML_HALF_LOWER when by anything else, 0 when no
 * descriptor has that id (or libc does not publish its layout). No lock, no allocation. */
int pml_thr_by_descriptor(pid_t tid);
void pml_thr_learn(void); /* looks up libc's published layout (dlsym): before threads start */
/* The calling thread's id, from its glibc descriptor (no system call; halves_hooks.c). */
pid_t pml_my_tid(void);
int pml_in_vfork_child(void); /* 1 in a vfork child (the rank's memory, its own descriptors) */

int pml_reg_entries(void);    /* for logs */
int pml_reg_overflowed(void); /* 1 if an entry was ever dropped for lack of room */
int pml_reg_capacity(void);
int pml_reg_lost(void);       /* changes from signal handlers lost (more than the queue holds) */

/* ---- rules (halves_query.c) -------------------------------------------------------------- */
/* The half a mapping's name decides on its own, or 0 (anonymous or an ordinary file). */
int pml_name_rule(const char *path, int *why);
/* 1 unless the lower root lost reports of its libc's own chunks (more than it keeps before its
 * callbacks are set): then no unexplained mapping is taken for the application's malloc chunk. */
int pml_lower_chunks_whole(void);
void pml_halves_set_lower_present(void); /* the lower half is loaded: later anonymous memory of
                                            no known creator is counted as such */

/* Descriptors reported by their opener: the lower half (lower_root.c) or the application's
 * shm_open, socket, eventfd, epoll and timerfd calls (halves_hooks.c). Only numbers below
 * PML_FD_TRACK are kept (halves_query.c's tables); a mark on a higher one is dropped, so a
 * caller walking a range of numbers stops there. */
#define PML_FD_TRACK 65536
void pml_fd_mark(int fd, int half, int open);
/* Who made a descriptor that is not the application's (the reason pml_half_of_fd gives). */
enum { PML_FD_BY_LIBRARY, PML_FD_BY_REVIVE, PML_FD_BY_START, PML_FD_BY_LAUNCHER };
/* Marks fd (open: 1; closed: 0) as not the application's, made by `by` (PML_FD_BY_...). */
void pml_fd_mark_by(int fd, int by, int open);
/* Around the lower half's start (its load and MPI_Init, first or after a restart): the table
 * before, then every descriptor that appeared meanwhile and whose maker did not say whose it is
 * is the library's (made inside its libc or by a raw system call: halves_query.c's rule). */
void pml_fd_lower_starting(void);
void pml_fd_lower_started(void);
/* 1 once MPI_Init returned (pml_fd_lower_started), until a next lower half starts. */
int pml_fd_lower_ran(void);
/* After a restart, before the new launcher's are marked: the dead lower half's and launcher's
 * marks go (their descriptors are not in the image). */
void pml_fd_lower_forget(void);
/* In a child the rank forked (its atfork handler, restart.c): the MPI library's descriptors (made
 * by it, or appeared while MPI_Init ran; not Revive's; of the launcher's, a listening socket it
 * left in the rank: Hydra's proxy's) each replaced by
 * /dev/null under its number, close-on-exec, still marked the library's. The child cannot use
 * that MPI; held, its listening sockets and shared-memory files were the child's too, kept open
 * while the rank's library had closed them and taken along into a snapshot's tree. The numbers
 * stay taken: a library destructor at the child's exit finds /dev/null, not a file the
 * application opened since. How many, or -errno (no /dev/null: none replaced). */
int pml_fd_lower_release(void);
/* Before a checkpoint: marks whose descriptor the application closed since go (the number may
 * hold another object by the restart). */
void pml_fd_upper_prune(void);
/* The application duplicated from onto to (dup, dup2, dup3, F_DUPFD): to is marked as from is
 * (a mark on to that from does not have goes). Its close: pml_fd_mark(fd, PML_HALF_UPPER, 0). */
void pml_fd_upper_dup(int from, int to);
/* Set by the checkpoint hook (restart.c) from its freeze of ld.so to the capture's end, for the
 * checkpoint thread: a descriptor it makes then is libcr's, and halves_hooks.c takes no ld.so
 * lock to ask whose it is (a parked thread may hold it). */
void pml_halves_capturing(int on);
int pml_halves_is_capturing(void);
/* After a restart: the application's marked descriptors came back at their numbers as new
 * objects; their marks follow them (a mark on a number no longer open goes). */
void pml_fd_upper_renew(void);
int pml_fd_target(int fd, char *out, size_t cap); /* readlink of /proc/self/fd/N; 0 or -1 */

/* ---- /proc/self/maps (halves_query.c, with src/common's reader: no malloc) ----------------- */
/* Calls cb for each line (e->name: "" for anonymous memory); cb returns non-zero to stop.
 * 0, or -errno if the file cannot be read. */
int pml_maps_each(int (*cb)(const struct revive_maps_entry *e, void *arg), void *arg);

/* ---- interposition (halves_hooks.c) ------------------------------------------------------ */
extern struct pml_lower_cb pml_halves_lower_cb; /* handed to lower_root.c */
/* Registers the layer's handler for libucm's memory events with the copy of libucm that scope
 * (a dlopen handle or RTLD_DEFAULT) resolves, without asking libucm to install anything; events
 * count for the given half. 0 registered, 1 no libucm there, -1 libucm refused. */
int pml_halves_ucm_register(void *scope, int half);
void pml_stack_of_self(uint64_t *lo, uint64_t *hi);

/* ---- the capture filter (halves_filter.c) ------------------------------------------------- */
/* What the layer registers with libcr (crs_capture_filter_register): lower memory (mappings
 * cut into pieces where their parts differ), lower threads and lower descriptors left out. */
const struct crs_capture_filter *pml_halves_capture_filter(void);

/* ---- the moments (halves_moments.c) ------------------------------------------------------ */
void pml_halves_walk_lower_objects(void); /* after a dlopen/dlclose in the lower namespace */
/* The lower half is gone (a restart's hook): the objects the walks found were the dead half's,
 * not objects the fresh one closes, so their extents (which lower_reset.c keeps reserved for the
 * application) are not given up by the first walk of the fresh half. */
void pml_halves_lower_gone(void);
/* The filter's regions_begin: the recheck pml_halves_recheck_chunks asked for, in the capture's
 * memory map (n mappings). Always 0. */
int pml_halves_recheck_map(const struct crs_filter_map *maps, size_t n);

/* ---- glibc malloc's arenas (halves_arenas.c) ------------------------------------------------ */
/* The writable data of the application's libc and of the lower half's (their main_arena). */
void pml_arena_set_libcs(uint64_t upper_lo, uint64_t upper_hi, uint64_t lower_lo, uint64_t lower_hi);
/* The half of the malloc arena heap that `start` lies in (by the libc whose arena list holds
 * it), or 0 when it is not in one or the libcs are not known. No allocation, no fault. */
int pml_arena_half(uint64_t start);
/* 1 when an arena of the application's malloc is locked now (a thread inside malloc or free),
 * 0 when none is, -1 when its arenas cannot be found (another malloc, another layout). */
int pml_arena_locked(void);

#endif

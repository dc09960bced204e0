/* Knowing the halves apart: which memory regions, threads and file descriptors of an MPI rank
 * belong to the application (upper half, saved by a checkpoint) and which to the MPI library
 * (lower half, left out and rebuilt at restart). See docs/mpi.md, "Knowing the halves apart".
 *
 * The functions are defined by Revive's MPI layer (revive-mpi-*.so, preloaded into each rank).
 * When it loads, the layer registers with libcr a capture filter built on them
 * (halves_filter.c: lower memory, threads and descriptors left out of an image, a mapping whose
 * parts differ cut into pieces), so crs never looks them up; without the layer nothing is left
 * out. Tests and tools may find them with dlsym(RTLD_DEFAULT, "pml_half_of_region").
 *
 * The query functions never allocate and use only system calls (fstat, readlink, open/read of
 * /proc/self/maps when no path is given), so they may be called from a checkpoint thread while
 * the others are parked. They take the registry's lock, which a parked thread never holds: every
 * section that holds it runs inside libcr's crs_park_defer_enter/leave, so a thread asked to
 * park inside one parks when it leaves it. A query made from a signal handler that interrupted
 * its own thread while that thread changed the registry answers from names alone (and says so).
 * Every answer is UPPER, LOWER or (for a region) MIXED; none is "unknown": each comes with a
 * reason (a static string) saying which rule decided it. */
#ifndef PML_HOOKS_HALVES_H
#define PML_HOOKS_HALVES_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>

enum pml_half {
    PML_HALF_UPPER = 1, /* the application's: save it */
    PML_HALF_LOWER = 2, /* the MPI library's: leave it out */
    PML_HALF_MIXED = 3, /* a region whose parts differ: ask pml_halves_split */
};

/* One piece of a region with a single owner. */
struct pml_half_span {
    uint64_t start, end;
    int half;
    const char *why;
};

/* The half of the memory in [start, end). path is the mapping's name as /proc/self/maps shows
 * it ("" for anonymous memory, "[heap]", "/dev/shm/x", "/memfd:y (deleted)", ...), or NULL to
 * have it looked up in /proc/self/maps. why (may be NULL) receives the deciding rule. */
int pml_half_of_region(uint64_t start, uint64_t end, const char *path, const char **why);

/* Splits [start, end) into pieces of one half each, in address order, adjacent pieces of the
 * same half and reason merged. Returns the number of pieces (at most max are written; a larger
 * return value says how many there are). */
int pml_halves_split(uint64_t start, uint64_t end, const char *path, struct pml_half_span *out,
                     int max);

/* The half of a thread of this process (a kernel thread id, as in /proc/self/task). */
int pml_half_of_thread(pid_t tid, const char **why);

/* The half of an open file descriptor of this process (-1 if fd is not open). */
int pml_half_of_fd(int fd, const char **why);

/* "upper", "lower", "mixed". */
const char *pml_half_name(int half);

/* Every region of /proc/self/maps, thread and descriptor with its half and reason, one per
 * line ("region LO-HI PERMS HALF why: ... path", "thread TID HALF why: ... comm", "fd N HALF
 * why: ... target"). Allocates (stdio): not for a frozen process. Also written at MPI_Finalize
 * to PREFIX.RANK when REVIVE_HALVES_DUMP=PREFIX is set. */
void pml_halves_dump(FILE *f);

/* Interface between the layer and the root library of the lower namespace (lower_root.c),
 * which reports what the MPI library maps, the threads it starts and the descriptors it opens
 * through the calls it makes into its own libc. */
struct pml_lower_cb {
    void (*mem)(uint64_t start, uint64_t end, int mapped);      /* mapped 1, unmapped 0; -1: reports
                                                                   of its libc's chunks were lost */
    void (*thread)(pid_t tid, uint64_t stack_lo, uint64_t stack_hi, int alive);
    void (*objects)(void);                                      /* after a dlopen */
    void (*fd)(int fd, int open);                                /* opened 1, closed 0 */
    void (*guards)(void); /* after a call that may have started a thread of the lower libc's own */
    void (*progress)(unsigned events); /* after each ucp_worker_progress (idle.c, pml_idle_lib) */
    void (*fd_section)(int enter); /* around its dlopen: ld.so's descriptors (common/fd_guard.h) */
};
/* The function told of each of the library's UCX progress turns (events found or not), handed
 * over at load by idle.c (not in the halves' own tests, which have no idle.c). */
void pml_halves_progress_with(void (*fn)(unsigned events));
typedef void pml_lower_set_cb_fn(const struct pml_lower_cb *cb);
#define PML_LOWER_SET_CB "revive_lower_set_cb"
/* Defined in lower_root.c; the layer finds it by that name with dlsym in the lower namespace. */
pml_lower_set_cb_fn revive_lower_set_cb;

/* The function that makes the guard pages of the lower libc's own threads read-only
 * (lower_reset.h, pml_ldso_guards_readable), called after the lower half's POSIX AIO calls. */
void pml_halves_guards_with(int (*fn)(void));

/* For layer.c: the moments that tell the halves apart. */
void pml_halves_before_lower(void);        /* just before the lower half is loaded */
void pml_halves_lower_ready(void);         /* MPI_Init(_thread) succeeded */
/* At a capture (every other thread parked): the pages of the mappings that appeared while MPI_Init
 * ran and were given to the library that read as zeros then, looked at again for the application's
 * malloc chunks until first seen written (halves_moments.c). Asked for by the rank's capture (its
 * after_park); done when libcr gives the capture filter the capture's memory map, before it asks
 * the filter about any mapping (pml_halves_recheck_map). */
void pml_halves_recheck_chunks(void);
void pml_halves_dump_to(const char *prefix, int rank); /* REVIVE_HALVES_DUMP */

/* Called by each thread the layer starts (upper_thread, lower_thread), with its stack's lowest
 * usable address and its guard's size (pthread_getattr_np): the guard page below the stack
 * becomes read-only instead of inaccessible. It still stops a stack overflow (every push and
 * call writes), but no longer a read that runs a little past the end of memory mapped just
 * below it. The lower libc cannot grow its heap with brk (the application's libc owns it), so
 * its malloc maps segments one after another, each placed by the kernel right below the newest
 * mapping, often a thread stack: a chunk at the very end of a segment then ends where a guard
 * page begins. Open MPI 4.1 reads past such a chunk: deleting an attribute of a keyval made
 * from Fortran, ompi_attr_delete_impl reads the object's Fortran index through the keyval's
 * pointer (0x128 bytes into a 0x48-byte keyval; its value is not used): natively inside the
 * brk heap, harmless; under Revive, now and then in the guard page of the agent's stack
 * (SIGSEGV in MPI_Comm_free, issue 8: ~1 run in 12 with 1000 Fortran keyvals). */
static inline void pml_guard_readable(uint64_t addr, uint64_t guard)
{
    uint64_t lo = (addr - guard) & ~(uint64_t)4095, hi = addr & ~(uint64_t)4095;
    if (guard && lo < hi)
        (void)mprotect((void *)(uintptr_t)lo, hi - lo, PROT_READ); /* best effort, as before */
}

#endif

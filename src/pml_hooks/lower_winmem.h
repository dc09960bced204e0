/* The memory of a window of one rank that the MPI library takes from its malloc, served by the
 * lower namespace's root library (lower_winmem.c) while the layer asks for it.
 *
 * Why. Open MPI 4.1 gives a window of MPI_Win_allocate or MPI_Win_allocate_shared on a
 * communicator of one rank heap memory (osc/sm's one-rank branch: malloc(size)), and cannot
 * MPI_Win_create or MPI_Win_create_dynamic on one rank (measured: MPI_ERR_WIN, with
 * MPI_THREAD_MULTIPLE too), so the layer cannot serve such a window's memory itself as it does
 * on MPICH (win.c). A heap chunk of the lower libc cannot be put back at its address after a
 * restart: its pages are the library's, left out of the image, and a fresh library's malloc
 * hands out other addresses. So while the layer makes such a window (win.c, and the replay at a
 * restart: win_ckpt.c) it *arms* the root: the calling thread's allocations of exactly the
 * window's size (malloc, calloc, memalign and the aligned forms up to a page, valloc) are each
 * served from a mapping of their own, shared and anonymous, page-aligned. The library's window
 * then lies in a shared mapping, like its windows of two or more ranks, and the layer treats it
 * like those (win_ckpt.c): a snapshot copies it into the application's memory, a restart maps
 * the fresh library's (armed again) at the program's addresses too. That needs no knowledge of
 * which allocation becomes the window: whatever the library's base is, it is in such a mapping.
 * (Which one it is cannot be told in advance: the library allocates its own objects of small
 * sizes in the same call, a number that varies with its state. Measured with Open MPI 4.1.4:
 * 1 allocation for windows of 1, 32, 48 or at least 96 bytes, up to 13 for sizes of 8 to 72.)
 * Those others cost a page each (freed with the window, measured over 200 windows).
 * The same holds for MPI_Win_allocate on two or more ranks with osc/pt2pt (a user's choice,
 * OMPI_MCA_osc=pt2pt: osc/rdma crashes natively on MPI_Compare_and_swap), which mallocs the
 * window too (newuser7f F1: every snapshot of such a job was committed and none could be
 * restarted): the layer arms the root for every MPI_Win_allocate (objs.h pml_win_armed). With
 * osc/sm or osc/rdma the window lies in their shared segment as before; only allocations of the
 * library's own of exactly the window's size, during the call, get a page of their own.
 *
 * Such a chunk is recognised by free, realloc, reallocarray and malloc_usable_size (a small table,
 * looked at only while chunks are out and only for page-aligned pointers: a glibc chunk never is,
 * except memalign's) and unmapped when freed; every other call goes to the lower libc as before.
 * The mappings are the library's (reported as such through lower_root.c's mmap: left out of
 * images). After a restart the fresh library's chunks are its own table's; the dead library's
 * are gone with its memory. */
#ifndef PML_HOOKS_LOWER_WINMEM_H
#define PML_HOOKS_LOWER_WINMEM_H

#include <stddef.h>
#include <stdint.h>

/* In the lower root, found by the layer with dlsym: size > 0 arms the calling thread for
 * allocations of that size (0, or -1 when too many threads are armed at once: not armed), 0
 * disarms it and returns how many chunks were served to it while armed. */
typedef int pml_winmem_arm_fn(size_t size);
#define PML_LOWER_WINMEM_ARM "revive_lower_winmem_arm"
pml_winmem_arm_fn revive_lower_winmem_arm;

/* ---- inside the lower root (lower_root.c's malloc family) -------------------------------- */
#define PML_WINMEM_HIDDEN __attribute__((visibility("hidden")))
PML_WINMEM_HIDDEN extern int revive_winmem_armed; /* threads armed; 0: the fast path */
PML_WINMEM_HIDDEN extern int revive_winmem_out;   /* chunks served and not freed */

/* A chunk for an allocation of n bytes aligned to al (<= a page), zeroed, when the calling
 * thread is armed for size n; else, or with no room, NULL (then the lower libc serves it). */
PML_WINMEM_HIDDEN void *revive_winmem_take(size_t n, size_t al);
/* The length of p's mapping when p is such a chunk, else 0. */
PML_WINMEM_HIDDEN size_t revive_winmem_len(const void *p);
/* Unmaps p when it is such a chunk: 1, else 0. */
PML_WINMEM_HIDDEN int revive_winmem_release(void *p);

/* lower_root.c: sets the malloc family's fast-path bound again after revive_winmem_armed (or
 * the mmap threshold) changed; call after the change. */
PML_WINMEM_HIDDEN void revive_lower_fast_update(void);

static inline int revive_winmem_maybe(void)
{
    return __builtin_expect(__atomic_load_n(&revive_winmem_armed, __ATOMIC_RELAXED) != 0, 0);
}

static inline int revive_winmem_may_own(const void *p)
{
    return __builtin_expect(__atomic_load_n(&revive_winmem_out, __ATOMIC_RELAXED) != 0, 0) &&
           p && ((uintptr_t)p & 4095) == 0;
}

#endif

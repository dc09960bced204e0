/* Open MPI files and windows at a snapshot and after a restart (objs_ckpt.c, objs_restart.c),
 * for the capture and restart code, which needs nothing else of objs.h. */
#ifndef PML_HOOKS_OBJS_CKPT_H
#define PML_HOOKS_OBJS_CKPT_H

#include <stddef.h>
#include <stdint.h>

struct pml_file;
struct pml_win;

/* An open file or window and the id of the clock its collective steps count on (0: it has
 * none, its steps involve nobody else). */
struct pml_obj_ref {
    uint64_t cid;
    struct pml_file *f; /* one of f and w */
    struct pml_win *w;
};

/* Every open file and window, in the order of their clocks' ids, the same on every rank, so
 * that collective steps over them happen in one order everywhere (settle, --term's release).
 * Returns a calloc'd array of *n (the caller frees it); NULL with *n 0 when there is none, NULL
 * with *n -1 when out of memory. */
struct pml_obj_ref *pml_objs_in_clock_order(int *n);

/* At a global snapshot, after the drain: every open epoch of a window completed, split
 * collectives ended in the library, files flushed to the disk and their pointers read.
 * Collective over every rank (the agents, or every rank's pml_restart_capture at one point of
 * the program). 0 or -errno with a message. */
int pml_objs_settle(char *err, size_t errlen);

/* After a restart, once the record is replayed (which made the windows again): every file open
 * at the snapshot checked, opened again collectively and positioned; the windows' locks taken
 * again. 0 or -errno with a message. */
int pml_objs_restart(char *err, size_t errlen);

/* During a restart's replay (replay.c): the real communicator the replay made again for the
 * file whose virtual handle is vfile, open at the snapshot, as it was when the file was opened
 * (0: none came back); owned 1 when the program had freed its own handle of it (the file kept
 * the communicator alive): pml_objs_restart opens the file on it, then frees it. */
void pml_objs_file_comm(uintptr_t vfile, uintptr_t rcomm, int owned);

/* After a restart, before the fresh lower half loads: the addresses of the library's shared
 * window segments kept free, so that the restart can map the new segments there (win_ckpt.c). */
void pml_objs_restart_reserve(void);

/* ckpt-mpirun --term, after the commit, before the agent's MPI_Finalize (term.c): pending
 * receives cancelled, persistent requests freed, windows unlocked and freed, files closed, so
 * that the library finalizes cleanly. Collective over every rank; failures are logged. */
void pml_term_release(void);
/* At MPI_Init (not at a restart: the image keeps it), what --term's MPI_Finalize may need that
 * must not be made while the application's threads are parked (term.c: MPICH's exit function). */
void pml_term_init(void);
/* Calls the lower half's MPI_Finalize (fin) for --term, after pml_term_release: on MPICH, when
 * that cancelled a receive of a derived datatype, the library's one line of leaked handles it
 * caused is kept off stderr (term.c says why); everything else it writes passes on. */
void pml_term_finalize(int (*fin)(void));

#endif

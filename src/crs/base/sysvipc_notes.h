/*
 * The System V semaphore sets and message queues the program uses, as
 * libcr's interposed calls see them (libcr/sysvipc.c), for the capture
 * (uspace/capture_sysvipc.c; image_format.h: SYSVIPC). The kernel shows
 * neither which process uses a set or queue (no mapping, no descriptor)
 * nor a process's adjustments to semaphores (SEM_UNDO: what the kernel adds
 * back when it ends), so both are noted here, per process: a child made by
 * fork starts without adjustments (the kernel gives it none) and with its
 * parent's notes marked unused: only what it names itself is its own. Async-signal-safe readers; writers hold a
 * spin lock for a few instructions inside a park-deferral section.
 */
#ifndef REVIVE_CRS_SYSVIPC_NOTES_H
#define REVIVE_CRS_SYSVIPC_NOTES_H

#include <stddef.h>
#include <sys/sem.h>

#define CRS_SYSVIPC_NOTES_MAX 64   /* sets and queues one process may use */
#define CRS_SYSVIPC_UNDO_MAX 256   /* semaphores per set whose adjustments are followed */

struct crs_sysvipc_note {
    int kind;        /* CRS_SYSVIPC_SEM or _MSG (image_format.h); 0: a free slot */
    int id;          /* the kernel's: the restart rewrites it when the id changes */
    int orig;        /* the program's: the id it was noted under, which the program kept; libcr's
                      * calls translate it to id (crs_sysvipc_real) and back (crs_sysvipc_known) */
    int used;        /* named by this process (a forked child's inherited notes are not, until it names them) */
    int undo;        /* 1: some adjustment was made (adj may be all 0 again) */
    int undo_lost;   /* an adjustment of a semaphore past CRS_SYSVIPC_UNDO_MAX, or more sets than notes */
    short adj[CRS_SYSVIPC_UNDO_MAX];
};

/* The program named id (a successful call on it, or one that may wait).
 * Returns what the note was before, for crs_sysvipc_note_undo: 0 none, 1
 * inherited from the parent and unused, 2 used (or nothing to take back). */
int crs_sysvipc_note(int kind, int id);
/* The call that noted id found nothing under it: the note as it was. */
void crs_sysvipc_note_undo(int kind, int id, int before);
/* The note of id (an index), or -1; the id that note holds now (the
 * restart rewrites it when the set or queue came back under another), or -1. */
int crs_sysvipc_slot(int kind, int id);
int crs_sysvipc_slot_id(int kind, int slot);
/* The kernel's id for the id the program names: the note's id now, when a
 * restart brought that set or queue back under another id than the one the
 * program kept (a user's restart may not choose ids); else id. */
int crs_sysvipc_real(int kind, int id);
/* The program's id for one the kernel gives (semget, msgget, *_STAT): the
 * one it kept, for a set or queue a restart brought back under another. */
int crs_sysvipc_known(int kind, int id);
/* Whether the program knows another set or queue by id, which came back
 * under another id (a new one the kernel gives that id would be taken for it). */
int crs_sysvipc_taken(int kind, int id);
/* It removed it (IPC_RMID). */
void crs_sysvipc_forget(int kind, int id);
/* A semop that took effect: its SEM_UNDO operations' adjustments. */
void crs_sysvipc_semop(int id, const struct sembuf *ops, size_t n);
/* SETVAL (semnum >= 0) or SETALL (-1): the kernel drops those adjustments. */
void crs_sysvipc_setval(int id, int semnum);
/* The forked child's notes: no adjustments, no overflow; another thread's
 * descriptor of notes on their way through an execve closed. */
void crs_sysvipc_forked(void);
/* execve keeps the process's SEM_UNDO adjustments in the kernel but ends
 * the program whose memory held the notes. crs_sysvipc_any: there are notes
 * to pass on. Before an execve of a program that loads libcr: the notes in
 * a memfd the new program inherits (not close-on-exec, at a high number),
 * with this process's pid, or -1; crs_sysvipc_passed closes it when the
 * execve failed. In the new program (libcr's constructor, before anything
 * looks at inherited descriptors): the notes taken back when this process
 * passed them on (not another thread's, inherited through a fork), every
 * such descriptor closed. A child forked while a thread's descriptor is
 * open closes it (crs_sysvipc_forked), but a vfork child (posix_spawn,
 * system) that execs a program without libcr keeps it. An execve made
 * through syscall(2) passes nothing: the new program's libcr knows no set
 * and its checkpoint refuses a set this process operated on last
 * (capture_sysvipc.c). */
int crs_sysvipc_any(void);
int crs_sysvipc_pass_on(void);
void crs_sysvipc_passed(int fd);
void crs_sysvipc_take_over(void);
/* Note i (0 .. CRS_SYSVIPC_NOTES_MAX - 1) for the capture, threads parked;
 * i = CRS_SYSVIPC_NOTES_MAX gives one of kind -1 when more sets and queues
 * were named than the notes hold, else NULL. */
const struct crs_sysvipc_note *crs_sysvipc_note_at(int i);

#endif

/*
 * The ids a program kept of its System V shared memory segments, and the
 * ids a restart gave them. A user's restart may not choose ids (the
 * kernel's shm_next_id needs root or CAP_CHECKPOINT_RESTORE), nor may root's
 * when another segment holds the old one: a segment made again comes back
 * under another id, attached where it was. The program still holds the old
 * id, and its shmat, shmctl and shmget go through libcr (libcr/sysvshm.c),
 * which takes a kept id to the segment's id now and gives the kept one back.
 *
 * No call of the program tells which segment it holds by which id once it
 * is attached, so the capture (threads parked) notes, for every segment
 * attached at the checkpoint, its id and where it is attached; in the
 * restarted process (threads still parked) /proc/self/maps shows the
 * segment attached at that address under its id now. Readers take no lock
 * (async-signal-safe); writers hold a park spin lock for a few instructions.
 */
#ifndef REVIVE_CRS_SYSVSHM_IDS_H
#define REVIVE_CRS_SYSVSHM_IDS_H

#include <stdint.h>

#define CRS_SYSVSHM_IDS_MAX 64   /* segments noted: attached at a checkpoint, or renamed by a restart */

/* The capture: segment id (the kernel's now) is attached at `at` (the
 * address of its first byte: the mapping's start less its offset). */
void crs_sysvshm_attached(int id, uint64_t at);
/* After a restart, before the program runs on: the ids the segments
 * attached where they were have now. */
void crs_sysvshm_restarted(void);
/* The kernel's id for the id the program names (the same when no restart
 * changed it); the program's id for the one the kernel gives (shmget,
 * SHM_STAT); whether the program knows another segment by id (a new one
 * the kernel gives that id would be taken for it). */
int crs_sysvshm_real(int id);
int crs_sysvshm_known(int id);
int crs_sysvshm_taken(int id);
/* The program removed it (IPC_RMID, by the kernel's id). */
void crs_sysvshm_forget(int id);

#endif

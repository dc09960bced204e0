/* The replay of the creation record against a fresh lower half (replay.c, and the per-call
 * functions gen_mpi.py --replay writes into pml_replay_gen.c).
 *
 * The record (record.c) holds, in program order, every call that made an MPI object or changed
 * one, with its arguments as the application gave them (virtual handles) and the virtual handles
 * it made. After a restart the entries that matter are called again, in the same order, on the
 * new lower half: those that made a handle still alive at the checkpoint, those that changed one
 * (names, error handlers, commits, info keys...), and every entry that made a handle those
 * needed (an "ancestor": a group since freed that made a live communicator); calls that touch
 * no handle (Buffer_attach, Add_error_class) are replayed always, but for a buffer detached
 * since (its attach and detach are both left out: replay.c). The original order was a
 * schedule of the same collective calls on every rank, so the replay cannot deadlock where the
 * program did not. */
#ifndef PML_HOOKS_REPLAY_H
#define PML_HOOKS_REPLAY_H

#include "pml_hooks/layer.h"

/* One entry being replayed: a cursor over its items. */
struct pml_rp;
typedef int (*pml_rp_fn)(struct pml_rp *P);
extern const pml_rp_fn pml_rp_table[PML_NFUNCS];   /* generated; NULL: not replayed this way */
extern const unsigned char pml_rp_skip[PML_NFUNCS]; /* generated; 1: restored another way */
/* generated: the call makes a communicator, collectively over its parent (1: the first
 * argument), over a group only (2: MPI_Comm_create_group), over two groups (3:
 * MPI_Intercomm_create) */
extern const unsigned char pml_rp_comm[PML_NFUNCS];

/* Item readers, in the order the entry point recorded them (record.c's tags). */
uintptr_t pml_rp_h(struct pml_rp *P);                /* 'h': the real handle of today */
/* The real handle of today of virtual handle v (a keyval too), during the replay (made by an
 * entry replayed so far) or after it (the handle table): 0, or -1 when there is none. */
int pml_rp_real_of(uintptr_t v, uintptr_t *real);
void *pml_rp_hs(struct pml_rp *P, size_t elsize);    /* 'H': array of real handles (free it) */
void *pml_rp_a(struct pml_rp *P);                    /* 'a': the recorded array (NULL if empty) */
void *pml_rp_a_len(struct pml_rp *P, size_t *len);   /* the same, and its length in bytes */
const int *pml_rp_w(struct pml_rp *P);               /* 'w'/'W': weights or the marker */
const char *pml_rp_s(struct pml_rp *P);              /* 's' */
void pml_rp_i(struct pml_rp *P, void *out, size_t n); /* 'i' */
void *pml_rp_p(struct pml_rp *P);                    /* 'p' */
/* 'o': the call made the virtual handle recorded here; real is today's. */
void pml_rp_o(struct pml_rp *P, int kind, uintptr_t real);
/* A handle changed by the call ([ptr], MPI_Type_commit): today's value. */
void pml_rp_changed(struct pml_rp *P, uintptr_t real);
/* A scalar the call returned ('i' after the call): must equal the recorded one. */
void pml_rp_iout(struct pml_rp *P, const void *got, size_t n, const char *what);
/* A request the call made (MPI_Comm_idup): completed before the replay goes on. */
int pml_rp_wait(struct pml_rp *P, uintptr_t real_request);
/* A topology made with reorder: 1 when the new rank map differs from the saved one on some
 * rank (decided together on comm_old); *split then holds comm_old split by the saved ranks, on
 * which the call is made again without reorder (and the first result is freed). */
int pml_rp_reorder(struct pml_rp *P, uintptr_t comm_old, uintptr_t made, uintptr_t *split);
int pml_rp_failed(const struct pml_rp *P);
int32_t pml_rp_entry(const struct pml_rp *P);        /* the entry's index in the record */
void pml_rp_refuse(struct pml_rp *P, const char *why); /* the replay fails, naming the entry */
/* The virtual handle the entry made (its next 'o' item), read before the call; 0: none. */
uintptr_t pml_rp_peek_out(const struct pml_rp *P);
/* The replay of the calls that make a window (written by hand: win_ckpt.c); NULL for others. */
pml_rp_fn pml_rp_win_fn(int fid);

/* The whole replay (replay.c). 0, or -errno with a message naming the entry and the call. */
struct pml_replay_stats {
    unsigned entries, replayed, ancestors, skipped;
    unsigned for_others; /* communicators made only because another member needed them */
};
int pml_replay_run(struct pml_replay_stats *st, char *err, size_t errlen);

/* The record's compaction at a checkpoint (every rank at the same point of the drain; the
 * names are exchanged by the drain's abortable messages, pml_xchgv): the entries no later replay can need (dead
 * objects nothing live was made from, communicators no member needs any more, changes of them)
 * leave the record. *dropped: how many. 0, or -errno with a message. */
int pml_replay_compact(int *dropped, char *err, size_t errlen);

/* Saved ranks of communicators, for pml_rp_reorder (restart.c). -1: not known. */
int pml_restart_saved_rank(uintptr_t vcomm);

#endif

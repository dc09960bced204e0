/* Files (MPI-IO, io.c) and windows (one-sided communication, win.c) under Revive's MPI layer:
 * the state the layer keeps for each, beside the virtual handle (in struct pml_vh's info), so
 * that a global snapshot can record them and a restart can make them again.
 *
 * A file remembers how it was opened (communicator, path, access mode, the hints given) and
 * its view (displacement, the application's etype and filetype, data representation, hints);
 * the file pointers, the atomicity and the file's identity (device, inode, size) are read at a
 * checkpoint. The datatypes of a view hold a reference to their virtual handles, so that a
 * restart can set the view again even when the program freed them after MPI_File_set_view.
 *
 * A window remembers its kind, communicator, memory (base, size, displacement unit) and, as the
 * program opens and closes them, its epochs: fence (counted), post/start (the groups as world
 * ranks), locks held per target and lock_all.
 *
 * Collectives on a file or a window are counted on a clock of its own (struct pml_comm, made at
 * creation and appended to the communicators' list with flag PML_COMM_OBJ): its id is derived
 * from the creating communicator's id and the number of the creating collective on it, which
 * every member knows alike, so no extra message is needed. */
#ifndef PML_HOOKS_OBJS_H
#define PML_HOOKS_OBJS_H

#include "pml_hooks/ckpt.h"

#include <stdint.h>
#include <sys/types.h>

/* ---- attributes of the library's own duplicate of a window's (file's) communicator
 * (dup_attrs.c, campaign-failures.md #29) ---------------------------------------------------- */
struct pml_dup_attr {
    int vkv;     /* the program's keyval */
    int lang;    /* PML_KV_C, PML_KV_FINT, PML_KV_FAINT */
    MPI_Aint val; /* what the program's copy function gave */
};
struct pml_dup_attrs {
    int n;
    struct pml_dup_attr *a;
};
/* While into is not NULL, the copy callbacks of this thread note what the program's copy
 * functions give for a communicator (pml_dupattr_note): around the making of a window or file. */
void pml_dupattr_record(struct pml_dup_attrs *into);
void pml_dupattr_note(int vkv, int lang, MPI_Aint val);
void pml_dupattr_free(struct pml_dup_attrs *d);
/* A restart's making of a window or file on the real communicator rcomm: begin puts d's values
 * on it and makes the copy callbacks of this thread hand their input
 * through (pml_dupattr_handing_back: flag 1, the value unchanged, the program's function not
 * called); end takes them off, quietly. begin returns an MPI error code. */
int pml_dupattr_handback_begin(const struct pml_dup_attrs *d, MPI_Comm rcomm);
void pml_dupattr_handback_end(const struct pml_dup_attrs *d, MPI_Comm rcomm);
int pml_dupattr_handing_back(void);

/* ---- files --------------------------------------------------------------------------------- */
struct pml_kvpair {
    char *key, *val;
};

struct pml_hints {
    int n, cap;
    struct pml_kvpair *kv;
};

#define PML_FILE_SPLIT_READ_ALL 1
#define PML_FILE_SPLIT_READ_AT_ALL 2
#define PML_FILE_SPLIT_READ_ORDERED 3
#define PML_FILE_SPLIT_WRITE_ALL 4
#define PML_FILE_SPLIT_WRITE_AT_ALL 5
#define PML_FILE_SPLIT_WRITE_ORDERED 6

struct pml_file {
    uintptr_t v;                 /* the application's handle */
    struct pml_comm *clock;      /* its collectives (NULL: a file of one rank) */
    uintptr_t vcomm;             /* the communicator it was opened on */
    int comm_size, comm_rank;
    char *path;                  /* as the program gave it (a ROMIO prefix "ufs:" included) */
    char *abspath;               /* the file system path, absolute */
    int amode;
    struct pml_hints open_hints; /* given at MPI_File_open and MPI_File_set_info */
    /* the view (MPI_File_set_view); view_set 0: the default view */
    int view_set;
    MPI_Offset disp;
    uintptr_t etype, filetype;   /* the application's (virtual) datatypes, referenced */
    char datarep[MPI_MAX_DATAREP_STRING + 1];
    struct pml_hints view_hints;
    /* its error handler (referenced): the one set by MPI_File_set_errhandler, else MPI_FILE_NULL's
     * when it was opened; 0: the library's own default. Set again when a restart reopens it: the
     * replay cannot (files are opened after it), and the program may have freed its handle */
    uintptr_t errh;
    /* a split collective begun and not yet ended (PML_FILE_SPLIT_*), and its buffer */
    int split;
    const void *split_buf;
    int split_done;              /* a snapshot ended it in the library: split_status is its status */
    MPI_Status split_status;
    /* read at a checkpoint */
    MPI_Offset pos, pos_shared;
    int atomic;
    int have_shared;             /* the shared file pointer could be read */
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    /* birth time (statx), 0 where the file system keeps none: a file deleted after the snapshot
     * and made again at the same path often gets the freed inode number back (ext4), so device
     * and inode alone took it for the job's own file */
    int64_t btime_ns;
    /* a file opened with MPI_MODE_DELETE_ON_CLOSE, on its communicator's rank 0: its bytes at the
     * snapshot, held in the rank's memory (so in its image) from the settling until the job runs
     * on; the job's close deletes the file, and a restart writes it back from here */
    void *kept;
    size_t kept_len;
    int scratch_put;             /* this restart wrote kept back at the path (objs_restart.c) */
    struct pml_dup_attrs dup;    /* the library's duplicate of vcomm got these (dup_attrs.c) */
    /* during a restart: the real communicator the replay made again for it (vcomm may be freed
     * by the program, its handle reused), and whether the restart frees it once the file is open
     * again (pml_objs_file_comm) */
    uintptr_t restart_comm;
    int restart_comm_owned;
    struct pml_file *next, *prev; /* every open file, in opening order */
};

extern struct pml_file *pml_files;  /* the list, oldest first */

/* The birth time of the file at path in ns (statx STATX_BTIME), or 0 when the file system or the
 * kernel does not say (then identity is device and inode alone). */
int64_t pml_file_btime_ns(const char *path);
/* objs_ckpt.c, in the capture (capture.c), before the image is taken: each MPI_MODE_DELETE_ON_CLOSE
 * file this rank is rank 0 of the communicator of is copied into its memory (struct pml_file
 * kept), at most max bytes in all (0: no limit), *held set to the bytes copied. 0, or -EFBIG
 * beyond max, -ENOMEM, -errno of the read, with the reason in err and no copy kept. */
int pml_objs_keep_scratch(uint64_t max, uint64_t *held, char *err, size_t errlen);
/* objs_ckpt.c: the copies of MPI_MODE_DELETE_ON_CLOSE files a snapshot kept, freed once the job
 * runs on (the image has them) */
void pml_objs_kept_free(void);

static inline struct pml_file *pml_file_of(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    return h && h->kind == PML_FILE ? (struct pml_file *)h->info : NULL;
}

/* ---- windows ------------------------------------------------------------------------------- */
struct pml_meet; /* a communicator's meeting place at a snapshot (win_ckpt.c) */

struct pml_win {
    uintptr_t v;
    struct pml_comm *clock;      /* fences and other collectives on it (NULL: one rank) */
    int flavor;                  /* MPI_WIN_FLAVOR_* */
    uintptr_t vcomm;
    int comm_size, comm_rank;
    void *base;                  /* what the program was given (allocate: the memory) */
    MPI_Aint size;
    int disp_unit;
    /* epochs */
    uint64_t nfence;             /* fences called */
    int fence_open;              /* the last fence opened an epoch (no MPI_MODE_NOSUCCEED) */
    int access_open, exposure_open;
    int *start_ranks, nstart;    /* MPI_Win_start's group, as ranks of the window */
    int *post_ranks, npost;      /* MPI_Win_post's group */
    int start_assert, post_assert;
    uint64_t start_serial, post_serial; /* the group maps those ranks come from (0: none) */
    int lock_all;                /* MPI_Win_lock_all held (its assert + 1) */
    int nlocks;                  /* targets locked with MPI_Win_lock */
    unsigned char *locks;        /* per target: 0, or the lock type + 1 (and assert bits) */
    int *lock_asserts;
    unsigned char *xwait;        /* per target: a thread is in the library for its exclusive lock */
    /* (a thread in MPI_Win_lock for a shared lock, or in MPI_Win_lock_all: its slot's swin, ckpt.h) */
    /* allocate, and shared on one rank (MPICH): the memory is the layer's (the application's),
     * and the library's window was made with MPI_Win_create on it (win.c) */
    int own_mem;
    /* allocate and shared on two or more ranks (on Open MPI on one rank too): the library's
     * memory [seg_lo, seg_hi) as the program knows it (every member's part); after a restart the
     * library's pages lie at [lib_lo, lib_hi) and are mapped at the program's addresses too,
     * moved bytes below (win_ckpt.c). A snapshot
     * copies this rank's part into saved (application memory, in the image). */
    uintptr_t seg_lo, seg_hi;
    uintptr_t lib_lo, lib_hi;
    intptr_t moved;
    void *saved;
    int reserved;                /* [seg_lo, seg_hi) kept free while the fresh library loads */
    int private_mem;             /* the library's memory was no shared mapping: no restart */
    /* shared on two or more ranks: the meeting place of its communicator (a small shared
     * window of the layer's own, one per communicator, shared by its shared windows), where the
     * members meet at a snapshot before and after copying their parts (win_ckpt.c) */
    struct pml_meet *meet;
    struct pml_dup_attrs dup;    /* the library's duplicate of vcomm got these (dup_attrs.c) */
    struct pml_win *next, *prev;
};

extern struct pml_win *pml_wins;

static inline struct pml_win *pml_win_of(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    return h && h->kind == PML_WIN ? (struct pml_win *)h->info : NULL;
}

static inline struct pml_comm *pml_file_clock(uintptr_t v)
{
    struct pml_file *f = pml_file_of(v);
    return f ? f->clock : NULL;
}

static inline struct pml_comm *pml_win_clock(uintptr_t v)
{
    struct pml_win *w = pml_win_of(v);
    return w ? w->clock : NULL;
}

/* The clock of an object made by the collective counted on parent (NULL when the object has one
 * rank, or the parent is not counted); tag tells files from windows. */
struct pml_comm *pml_obj_clock_new(const struct pml_comm *parent, int size, int rank, int tag);

/* The extent of a shared window's segment (every member's part, by MPI_Win_shared_query on
 * the library's window r of n ranks); lo = hi = 0 when every part is empty. */
void pml_win_segment(MPI_Win r, int n, uintptr_t *lo, uintptr_t *hi);
/* At a snapshot, in pml_objs_settle: room for a copy of this rank's part of each segment of
 * the library's (w->saved), mapped. pml_win_copy_saved fills it, once every thread of the rank
 * is parked for the image (capture.c) and every member's operations completed; with epoch (the
 * coordinator's number, 0: none) the members of each shared window first wait for each other
 * there, so that no member's thread stores into another's part after that part's copy (30 s at
 * most: -ETIMEDOUT, said in err). */
int pml_win_save_memory(char *err, size_t errlen);
/* At the creation of window w (win.c): whether the library's memory it got lies in a shared
 * mapping (w->private_mem when not; a look at /proc/self/maps). */
void pml_win_memory_check(struct pml_win *w);
/* Whether a checkpoint of this rank must be refused: 1 with the reason and what to do in err
 * when it holds a window of the library's memory that is no shared mapping (no restart could put
 * it back: newuser7f F1), else 0. The agent asks before an epoch begins (rank_ops.c);
 * pml_win_save_memory refuses such a window too (-ENOTRECOVERABLE). */
int pml_win_refusal(char *err, size_t errlen);
int pml_win_copy_saved(uint32_t epoch, char *err, size_t errlen);
/* The meeting place of a shared window w made on the library's communicator rcomm (nothing for
 * other windows): its communicator's, made at the first shared window on it (a small shared
 * window of the layer's own, a collective on rcomm like w's creation) and reused by the next
 * ones; at a restart's replay, the place w had, made again by the first of its windows
 * replayed. A failure only leaves the meetings out, said once. pml_win_meet_free: w no longer
 * uses it (at w's free, collective alike); the place goes with its last window once its
 * communicator is freed (pml_win_meet_comm_freed, ckpt.h: only orphaned there). */
void pml_win_meet_make(struct pml_win *w, MPI_Comm rcomm);
void pml_win_meet_free(struct pml_win *w);
/* Before the library's MPI_Win_allocate_shared on vcomm (w NULL) or MPI_Win_free of shared
 * window w: this member's vote on every meeting place whose members all take part, whether it
 * freed the place's communicator; pml_win_meet_make / pml_win_meet_free count the votes once the
 * library's call returned (both gather from every member first), and free the places every member
 * orphaned that no window uses (or adopt one for the new window's communicator of the same
 * members), every member alike. pml_win_meets_unvote: the library's call failed, nothing counted. */
void pml_win_meets_vote(uintptr_t vcomm, const struct pml_win *w);
void pml_win_meets_unvote(void);
/* The meeting places no window uses freed (all: every one, the windows' references dropped):
 * before the lower half's MPI_Finalize (all 0) and at --term once the windows are freed (all 1,
 * the agent's thread, the program's parked).
 * Collective: every member goes through the places in their creation order, the same on every
 * member (made at collective window creations). */
void pml_win_meets_release(int all);
/* 1 when a window's memory is the library's (a shared segment mapped again at a restart): the
 * restarted application's threads are held until it is back (capture.c). */
int pml_win_lib_memory(void);
/* after the image is written, or after a restart put it back: the copies freed (win_ckpt.c) */
void pml_win_drop_copies(void);
/* after the library freed window w: the view of its memory at the program's addresses that a
 * restart made, unmapped (win_ckpt.c) */
void pml_win_view_drop(struct pml_win *w);
/* Open MPI's MPI_Win_allocate(_shared) on one rank and MPI_Win_allocate on two or more, at the
 * program's call and the replay's: the lower root serves allocations of the window's size from
 * shared mappings until disarmed (lower_winmem.h; win.c). call and rc (the library's answer)
 * are for the log. */
void pml_win_arm(size_t size);
/* Whether the layer arms the root for a window of this kind (shared: MPI_Win_allocate_shared)
 * on n ranks with this rank's size: 1 or 0 (always 0 on MPICH, whose windows of one rank are the
 * layer's memory and whose segments of more are shared). On Open MPI a window of one rank is
 * osc/sm's malloc; MPI_Win_allocate on more is the library's shared segment (osc/sm, osc/rdma
 * over vader) or, with osc/pt2pt, its malloc (newuser7f F1: such a snapshot could never be
 * restarted); MPI_Win_allocate_shared on more is always osc/sm's segment (pt2pt makes none). */
static inline int pml_win_armed(int shared, int n, MPI_Aint size)
{
#ifdef PML_OMPI
    return size > 0 && (n == 1 || !shared);
#else
    (void)shared;
    (void)n;
    (void)size;
    return 0;
#endif
}
void pml_win_disarm(const char *call, int rc);
/* After the replay: locks held at the snapshot taken again (win_ckpt.c). */
int pml_objs_restart_wins(char *err, size_t errlen);

/* An address the library gave for a window's memory, as the program knows it (after a restart
 * the library's memory may lie elsewhere; win_ckpt.c). */
void *pml_win_addr_out(const struct pml_win *w, void *p);

/* A window attribute that a Fortran MPI_WIN_GET_ATTR read from the library (fortran_paths.c:
 * the value itself in an address-sized integer, where C gets a pointer), as the C call would
 * give it: MPI_WIN_BASE as the program knows it, MPI_WIN_CREATE_FLAVOR as the program asked
 * (a window the layer made with MPI_Win_create on its own memory: win.c). vwin is the window's
 * virtual handle. */
void pml_win_fattr_out(uintptr_t vwin, int keyval, MPI_Aint *val);

/* Where a window's memory lies, for the image's "mpi-objs" section (win_ckpt.c): "program"
 * (the application's memory, in the image), "shared" (the library's, a shared mapping that a
 * restart maps again) or "private" (the library's, no shared mapping: no restart can bring it
 * back; revive-restart-rank refuses such an image before its restore). */
const char *pml_win_memory_kind(const struct pml_win *w);

/* pml_objs_settle (at a snapshot) and pml_objs_restart (after a restart) */
#include "pml_hooks/objs_ckpt.h"
void pml_objs_section_register(void); /* the extension section "mpi-objs" */
void pml_objs_progress(void);         /* the library answers other ranks' RMA (clock.c) */


/* Hints of an MPI_Info (lower half's handle) appended to h (later keys replace earlier ones). */
void pml_hints_add(struct pml_hints *h, uintptr_t real_info);
void pml_hints_free(struct pml_hints *h);
/* An MPI_Info of the lower half holding h (MPI_INFO_NULL's real handle when empty); free it with
 * pml_hints_info_free. */
uintptr_t pml_hints_info(const struct pml_hints *h);
void pml_hints_info_free(uintptr_t real_info);

/* MPI_File_set_errhandler succeeded on vfile (MPI_FILE_NULL: the default of files opened
 * later) with veh: kept, referenced, for a restart (io.c) */
void pml_file_eh_set(uintptr_t vfile, uintptr_t veh);

/* The view of f let go: its references to its datatypes and its hints (io.c; term.c before
 * the file is closed at --term). */
void pml_file_view_release(struct pml_file *f);

/* An extra reference of the layer's to a virtual handle (a datatype a view or a persistent
 * request uses, a persistent request's communicator, a file's error handler), and its release:
 * the handle lives on when the program frees it, so a restart makes its object again (its
 * record entry stays live; a communicator's other members make it for this rank: replay.c). A
 * communicator keeps its clock while the layer holds it (the drain probes it while a persistent
 * request holds it; MPI_Start counts on it): pml_comm_freed once the last reference goes. A
 * pending receive takes its references only when the program frees its datatype or communicator
 * (vhandle.c pml_vh_release, reqs.c pml_rq_hold_locked). pml_vh_ref ends the rank (pml_fatal)
 * rather than count past UINT32_MAX references to one handle. */
void pml_vh_ref(uintptr_t v);
void pml_vh_unref(uintptr_t v);
/* After a restart, once the views, persistent requests and pending receives are made again: the
 * new object of each datatype and communicator that only the layer's references hold (the
 * program freed its handle) is freed, as the program's MPI_Type_free or MPI_Comm_free did in
 * the first run (the library keeps it for its users); else no one frees it, and MPICH reports
 * "yaksa: N leaked handle pool objects" at MPI_Finalize (review11 #3). */
void pml_vh_free_layer_held(void);

#endif

/*
 * Restoring a process image in cr_restart's child:
 *   restore_check  refuse images this machine cannot bring back
 *   restore_state  descriptors, working directory, limits, signals
 *   restore_load   map every region (at its address, or aside when cr_restart
 *                  sits there) and fill it from the image
 *   restore_switch drop cr_restart's own memory, move regions and the vdso
 *                  into place, recreate the threads and jump into them
 */
#ifndef REVIVE_CRS_RESTORE_H
#define REVIVE_CRS_RESTORE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/prctl.h>

#include "crs/base/component.h"
#include "crs/base/image.h"
#include "crs/uspace/restart_info.h"

#define CRS_SWITCH_STACK (64u << 10)

struct crs_switch_thread {
    struct crs_cpu_ctx ctx;
    uint64_t fsbase, clear_child_tid;
    uint64_t pending;        /* thread-directed signals to raise again */
    int32_t tid;
    int32_t old_tid;         /* as the image has it (queued signals name it) */
};

struct crs_switch_range { uint64_t from, to, len; };

/* Everything the last step needs, in one mapping that survives the switch. */
struct crs_switch_plan {
    uint32_t nunmap, unmap_cap, nmove, nvdso, nthreads;
    int restore_tids;
    int32_t old_pid;
    uint64_t shared_pending;             /* process-directed signals to raise again */
    const struct crs_rec_siginfo *siginfos;   /* queued again instead (nsiginfos, after the threads) */
    uint32_t nsiginfos;
    struct crs_switch_range vdso[4];
    uint64_t vdso_spare, vdso_spare_len; /* a free range for moving the vdso in two steps */
    int fault_no_return;                 /* REVIVE_FAULT=restore-no-return: fail before the moves */
    struct prctl_mm_map mm;
    uint64_t auxv[128];
    struct crs_restart_info info;
    struct crs_switch_range *move;       /* nmove entries, after the plan */
    struct crs_switch_range *unmap;      /* from, len: unmap_cap entries, after the moves */
    struct crs_switch_thread *threads;   /* main thread first */
    uint64_t arena_start, arena_len;
    char stack[CRS_SWITCH_STACK] __attribute__((aligned(16)));
};

struct crs_epoll_settle_watch;

struct crs_restore {
    struct crs_image *img;
    int restore_ids;        /* try to bring back the original pid and tids */
    int ignore_kernel;      /* accept an image from another kernel release */
    uint64_t *cur;          /* per region: where it is mapped now */
    int *memfd_fds;         /* per memfd record */
    unsigned char *memfd_shared; /* per memfd record: 1 when the tree's restart made it, filled and
                                  * sealed (crs_restart_file.shmem): only mapped and opened here */
    int *pipe_fds;          /* per pipe record: read end, write end */
    int *fobj_fds;          /* per saved file: the recreated file, read-write */
    int *sysv_ids;          /* per saved file: a System V segment's id now (restore_sysv.c), else -1 */
    int *sock_fds;          /* per socket record: the socket made again */
    int *sock_tw;           /* per socket record: what ending its TIME-WAIT gave (0 or -errno,
                             * crs_restore_end_time_wait), 1: not asked (restore_sockets.c) */
    int *sysvipc_ids;       /* per SYSVIPC record: its id now (restore_sysvipc.c) */
    unsigned char *sysvipc_made; /* per SYSVIPC record: 1 when this restart made it */
    unsigned char *sysvipc_tree; /* per SYSVIPC record: 1 when the tree's restart made or took it
                                  * (crs_restore_sysvipc_share): its id is in sysvipc_ids */
    int work_fd_min;        /* our own descriptors live at or above this */
    const void *handoff;    /* for the restored process (crs_restart_opts) */
    size_t handoff_len;
    pid_t outer_pid;        /* the pid the outside world knows the process by (0: /proc tells) */
    int outer_proc_fd;      /* then the /proc that tells it (-1: none) */
    const char *const *relocate; /* "OLD=NEW" (crs_restart_opts) */
    size_t nrelocate;
    const struct crs_saved_skip *saved_skip; /* saved files left to another process (crs_restart_opts) */
    size_t nsaved_skip;
    int keep_fds[CRS_KEEP_FDS_MAX]; /* left open across the switch (crs_restart_opts) */
    int nkeep_fds;
    const int *placed_fds;  /* put in place by the caller (crs_restart_opts) */
    int nplaced_fds;
    const int *fill_fds;    /* of them, the epolls this process fills (crs_restart_opts) */
    int nfill_fds;
    const struct crs_restart_file *shared_files;   /* made by the caller (crs_restart_image) */
    size_t nshared_files;
    int keepcaps;           /* restore_creds set PR_SET_KEEPCAPS (restart_info.h) */
    char new_ids[384];      /* System V objects made under another id: "segment 5 is now 9, ..." */
    int nnew_ids;
    int nnew_held;          /* of them: the restart chose the old id, another object holds it */
    int dev_shm_private;    /* a busy /dev/shm object may be made in a /dev/shm of its own (crs_restart_opts) */
    pid_t shm_peers_parent; /* processes of this parent share its objects (crs_restart_opts) */
    int *refused_outside;   /* crs_restart_opts: set when the restart fails for what lies outside
                             * the image (a live process holds what it needs) */
    struct crs_epoll_settle_watch *epoll_settle; /* the watches of the epolls with consumed edges, inner
                                                  * epolls first, for the restored process to settle
                                                  * (restore_epoll.c, epoll_settle.h) */
    size_t nepoll_settle;
    char shm_busy[600];     /* set by crs_restore_check_shm_busy: "PATH is in use by process P (COMM)",
                             * the restart makes its /dev/shm objects in a /dev/shm of its own */
    /* the image reader's message (the image's path) or the restore's own, naming up to two
     * files of the image (a relocated one: where it was and where it is), whole */
    char err[REVIVE_TEXT_PATHS(3)];
};

int crs_restore_check(struct crs_restore *r);        /* before anything is changed */
/* /dev/shm objects of the image in use by a live process (restore_shm_busy.c): at check time
 * a refusal (-EBUSY, the message naming the object and the process), or with dev_shm_private
 * shm_busy set; then, in the process being restored, before any object is made, a /dev/shm of
 * its own (0, or -EBUSY with the message). crs_restore_shm_holder: the pid of a live process
 * (not ours, not a peer) that maps or holds open the file at path, its name in comm; 0: none;
 * *peer (when not NULL): a peer that does, 0: none. */
int crs_restore_check_shm_busy(struct crs_restore *r);
/* FIFOs (named pipes) the image reopens by path (restore_fifo.c): each must be there, a FIFO,
 * and open in no live process (whose bytes it would share): else a refusal naming it (-ENOENT,
 * -EBUSY). crs_restore_fifo_path: the path of pipe record k, a FIFO's. */
int crs_restore_check_fifos(struct crs_restore *r);
const char *crs_restore_fifo_path(const struct crs_image *img, size_t k);
int crs_restore_private_dev_shm(struct crs_restore *r);
pid_t crs_restore_shm_holder(struct crs_restore *r, const char *path, char *comm, size_t commlen, pid_t *peer);
/* (also of a FIFO at path) */
/* Opens the /dev/shm object at path for its restore: -EBUSY (message set, refused_outside)
 * when a live process other than a peer uses it; else a descriptor, with *made 1 (made or
 * emptied here: fill it) or 0 (a peer made and filled it: take it as it is), and *lock a
 * descriptor to close once it is filled (-1: none); -errno when it cannot be opened. */
int crs_restore_shm_open(struct crs_restore *r, const char *path, mode_t mode, int *made, int *lock);
/* A live process that holds what the restart needs, for a message: "the original job
 * (launcher L, mpirun; its process P, COMM)" when P runs the image's program under an MPI
 * launcher, "the original process (P, COMM)" when P is the image's pid, or "process P (COMM)". */
void crs_restore_describe_holder(struct crs_restore *r, pid_t pid, char *out, size_t cap);
int crs_restore_fds(struct crs_restore *r);          /* in the child */
int crs_restore_locks(struct crs_restore *r);        /* after crs_restore_fds */
/* Closes the restarter's own descriptors (at or above work_fd_min, not kept) that open a file
 * the image's fcntl (POSIX) locks are on, before crs_restore_locks takes them: the switch would
 * close them after, releasing the locks. Returns how many it closed, -1 out of memory
 * (restore_lock_aside.c). */
int crs_restore_lock_aside(struct crs_restore *r);
/* The live process, other than the restored one, that holds a lock on the file of fd (from its
 * fdinfo "lock:" lines, else /proc/locks), as the outer /proc names it; 0: none found
 * (restore_lock_holder.c). */
pid_t crs_restore_lock_holder(struct crs_restore *r, int fd);
/* Kernel objects (restore_kobjs.c): one made for descriptor record f (a
 * descriptor, or -1 with the message set); what every epoll watches, once
 * every descriptor is back. */
int crs_restore_kobj_open(struct crs_restore *r, const struct crs_rec_fd *f);
int crs_restore_epolls(struct crs_restore *r);   /* restore_epoll.c */
/* One watch of an epoll the image restores, for walking them all (the
 * epolls' own watches here, those of pidfds in restore_pidfd.c). */
struct crs_epoll_watch {
    const struct crs_rec_fd *ep;         /* the epoll descriptor's record (never a dup's) */
    size_t index;                        /* the watch's index in EPOLLTGTS */
    const struct crs_rec_epoll_tgt *t;   /* the watch */
    const struct crs_rec_fd *target;     /* the record of the descriptor it watches, NULL: none */
    size_t next_fd;                      /* where the walk goes on */
    uint32_t next_w;
};
/* The image's next epoll watch into *w, epolls in descriptor order, each's
 * watches in order; start with *w zeroed. 1, or 0 after the last. */
int crs_restore_epoll_watch_next(const struct crs_image *img, struct crs_epoll_watch *w);
/* pidfds (restore_pidfd.c): opened again at their numbers once every process
 * of a tree is back (after before_switch); their descriptors stay free until
 * then. The record of descriptor fd, or NULL. */
int crs_restore_pidfds(struct crs_restore *r);
const struct crs_rec_fd *crs_restore_fd_record(const struct crs_image *img, int fd);
/* Sockets (restore_sockets.c): every one made again at our own numbers,
 * before the descriptors are placed. */
int crs_restore_sockets(struct crs_restore *r);
/* Ends the TCP connection in TIME-WAIT whose 4-tuple is socket record s's
 * own (local and remote address), left by the ended original
 * (restore_timewait.c): 0, or -errno (-EPERM without CAP_NET_ADMIN,
 * -EOPNOTSUPP on a kernel without CONFIG_INET_DIAG_DESTROY, -ENOENT when
 * there is none, -EBUSY when that 4-tuple's socket is not in TIME-WAIT). A
 * socket in TIME-WAIT is the kernel's timewait socket, also in its FIN-WAIT-2
 * substate (the other end not closed yet). */
int crs_restore_end_time_wait(const struct crs_rec_socket *s);
/* Every TCP connection in TIME-WAIT (as above) holding socket record s's
 * local address (its port; its IP address too unless that is the wildcard),
 * found by sock_diag: cb gets each one's local and remote address, and
 * returns non-zero to stop. That value, 0 when cb never stopped the walk (or
 * s is not TCP), or -errno when sock_diag could not be asked. */
struct sockaddr_storage;
int crs_restore_time_wait_each(const struct crs_rec_socket *s,
                               int (*cb)(void *arg, const struct sockaddr_storage *local,
                                         const struct sockaddr_storage *remote),
                               void *arg);
/* The inode of a TCP socket a process holds (a listener, a connection: any state but TIME-WAIT)
 * on socket record s's local address, as crs_restore_time_wait_each matches it; 0: none seen. */
unsigned long crs_restore_live_socket_on(const struct crs_rec_socket *s);
/* A path of the image as the restart sees it (cr_restart --relocate OLD=NEW);
 * the result stays valid until the next call but one. */
const char *crs_restore_path(struct crs_restore *r, const char *path);
/* "; if it moved, restart with --relocate OLD=NEW" for a failure with errno
 * ENOENT (a file or folder of the image is missing), else "". */
const char *crs_restore_moved_hint(int err);
/* A restore step failed with ERR on a file or folder of the surroundings (the working
 * directory, a regular file or directory a descriptor held): gone, or barred, is not the
 * image's fault, so refused_outside is set and restart-mpi does not mark the snapshot failed
 * (newuser14 F2); other errors leave it. */
void crs_restore_outside(struct crs_restore *r, int err);
int crs_restore_process_state(struct crs_restore *r);
int crs_restore_load(struct crs_restore *r);
/* Saved file i made again and filled (restore_load.c): a descriptor open
 * for reading and writing at or above work_fd_min, or -errno with the
 * message set. A tree's restart makes the files members share this way. */
int crs_restore_make_fobj(struct crs_restore *r, size_t i);
/* Shared memory object i (MEMFDS) made again, filled from the image (the
 * pages of its mappings, the bytes no mapping held) and sealed
 * (restore_load.c): a descriptor at or above work_fd_min, or -errno with
 * the message set. A tree's restart makes the shared memory members share
 * this way (CRS_TREE_G_SHMEM). */
int crs_restore_make_shmem(struct crs_restore *r, size_t i);
/* System V shared memory (restore_sysv.c). make: saved file i, a segment,
 * made again and filled; a descriptor (at or above work_fd_min) that
 * holds its id, which id reads (-errno with the message set). map: region
 * i attached at hint (or anywhere, with hint 0), as map_region. done: the
 * segments marked removed marked so again, once attached. */
int crs_restore_sysv_make(struct crs_restore *r, size_t i);
int crs_restore_sysv_id(struct crs_restore *r, size_t i, int fd);
void *crs_restore_sysv_map(struct crs_restore *r, size_t i, uint64_t hint);
int crs_restore_sysv_done(struct crs_restore *r);
/* Removes the segments this process's restart made (not the original's it
 * took back): after a failure (crs_component.restart_abandon). */
void crs_restore_sysv_abandon(void);
/* System V semaphore sets and message queues (restore_sysvipc.c): made
 * again or taken back, values and messages set (after crs_restore_load: a
 * changed id is written into the restored memory); the adjustments
 * (SEM_UNDO) last before the switch; undo_made removes what this restart
 * made, after a failure. */
int crs_restore_sysvipc(struct crs_restore *r);
/* restore_ipcid.c: a System V object of kind made through make(arg) (its
 * id, or -1 with errno), under the id old when this restart may choose it
 * (kernel.*_next_id), one restart of the IPC namespace at a time, made
 * again when a process outside took the id. The id, or -errno; *held: the
 * restart chose old and another object holds it. */
enum { CRS_IPC_SHM, CRS_IPC_SEM, CRS_IPC_MSG };
int crs_restore_ipc_make(int kind, int old, int (*make)(void *arg), void *arg, int *held);
/* A System V object ("segment", "semaphore set", "message queue") made
 * under id, not old (held: the restart chose old, another object holds
 * it); then one warning line naming them all, and why. */
void crs_restore_note_new_id(struct crs_restore *r, const char *what, int old, int id, int held);
void crs_restore_warn_new_ids(struct crs_restore *r);
int crs_restore_sysvipc_undo(struct crs_restore *r);
void crs_restore_sysvipc_undo_made(struct crs_restore *r);
/* A tree's restart, in its own process before it makes the processes: the
 * sets and queues two or more of the images rs[0..n-1] (NULL: a zombie)
 * name, made or taken back once, each image's record pointed at it
 * (sysvipc_tree). 0, or -errno with the message in rs[*failed]->err. */
int crs_restore_sysvipc_share(struct crs_restore *const *rs, size_t n, size_t *failed);
/* Removes the sets and queues crs_restore_sysvipc_share made (after a
 * failure; crs_restore_sysv_abandon calls it). */
void crs_restore_sysvipc_abandon(void);
int crs_restore_signals(struct crs_restore *r);
/* The image's uids, gids and groups (restore_creds.c); refuses (-EPERM) when
 * cr_restart cannot take them on. Last before the switch: what comes after
 * needs no privilege. */
int crs_restore_creds(struct crs_restore *r);
/* Builds the plan and switches; returns only on failure (before the switch).
 * pid_is_original: the process runs under the image's pid, so the threads
 * may get their old tids back. */
int crs_restore_switch(struct crs_restore *r, int pid_is_original);

/* The uspace component's restart operations (crs/base/component.h). */
int crs_uspace_restart_open(const struct crs_restart_opts *o, struct crs_restart_image *ri, char *err,
                            size_t errlen);
int crs_uspace_restart(struct crs_restart_image *ri, char *err, size_t errlen);
int crs_uspace_restart_share(struct crs_restart_image *ri, size_t n, char *err, size_t errlen);
int crs_uspace_restart_make_file(struct crs_restart_image *ri, uint64_t dev, uint64_t ino, char *err, size_t errlen);
int crs_uspace_restart_make_kobj(struct crs_restart_image *ri, int fd, char *err, size_t errlen);
/* Whether descriptor fd is an object the tree's restart put in place that
 * another process of the tree fills (an epoll whose watches are that one's
 * descriptors: crs_restart_opts.fill_fds). */
int crs_restore_filled_elsewhere(const struct crs_restore *r, int fd);
void crs_uspace_restart_close(struct crs_restart_image *ri);

/* How many mappings the calling process has now, or -errno. */
long crs_count_maps(void);
/* The message for a region that could not be mapped (errno of the mmap):
 * names vm.max_map_count when that is what ran out. */
void crs_restore_map_error(struct crs_restore *r, uint64_t start, uint64_t end, int err);
/* How many mappings a restarter needs beside the image's (its program,
 * heap, stack, the plan); vm.max_map_count is crs_max_map_count (maps.h). */
#define CRS_RESTORER_MAPS 64

/* Socket record i's options (image_format.h: SOCKOPTS) set on fd: with
 * early, those that matter before bind, listen or connect, as the socket is
 * made (best effort, 0 always); else all of them: 0, or -EIO with the
 * message naming the descriptor and the option (restore_sockopts.c). */
int crs_restore_sockopts(struct crs_restore *r, size_t i, int fd, int early);
/* The descriptor number socket record i had (the lowest holding it), or -1. */
int crs_restore_sock_fd(const struct crs_restore *r, size_t i);
/* Multicast groups (image_format.h: MCAST; restore_mcast.c): at check time,
 * that this host has each membership's interface (else -ENODEV with the
 * message naming the descriptor, the group and the interface); then socket
 * record i's groups joined again on fd with their source filters: 0, or
 * -EIO with the message. */
int crs_restore_check_mcast(struct crs_restore *r);
/* Raw and ping sockets (restore_raw.c): cr_restart may make each; else the
 * refusal naming the descriptor and CAP_NET_RAW or ping_group_range. */
int crs_restore_check_raw(struct crs_restore *r);
int crs_restore_mcast(struct crs_restore *r, size_t i, int fd);

void crs_restore_error(struct crs_restore *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The pages the restoring program itself occupies (its ELF object: text,
 * data, bss), which the image must not use and the switch keeps. */
void crs_restorer_extent(uint64_t *lo, uint64_t *hi);

/* The pidfds of the image's own threads (and their dups and epoll watches),
 * which the restored process opens once its threads are back: written to
 * out (NULL: counted only); returns how many. */
size_t crs_restore_thread_pidfds(const struct crs_image *img, struct crs_restart_tpidfd *out);

#endif

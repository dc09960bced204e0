/*
 * The Checkpoint/Restart Service framework: a component is a named table of
 * functions, chosen at run time by REVIVE_CRS (default "uspace"), in the
 * spirit of Open MPI's MCA frameworks without their registration machinery.
 *
 * Callers (libcr's checkpoint thread, cr_restart, the MPI rank restarter)
 * see only this header: the options and results below and the table. What a
 * component does inside (how it stops threads, what it records, how it maps
 * memory back) stays in its own folder (src/crs/uspace for the default one).
 */
#ifndef REVIVE_CRS_COMPONENT_H
#define REVIVE_CRS_COMPONENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crs/base/relocated.h"

struct crs_file_stamp; /* image.h */

/* ---- checkpoint ---- */

/* A file by its device (st_dev) and inode. */
struct crs_file_id {
    uint64_t dev, ino;
};

/* Callers keep their own memory and descriptors out of the image with a
 * capture filter (capture_filter.h); fd is left out by the component. */
struct crs_ckpt_opts {
    int fd;              /* where the image goes (a regular file), written from its offset */
    int fork_mode;       /* a child writes the image; the process stalls only for the fork */
    int zstd_level;      /* 0: no compression */
    int ignore_fds;      /* unrestorable descriptors are recorded as closed */
    /* The caller offers no --ignore-fds (an MPI rank: a snapshot keeps all of
     * its descriptors or is refused), so refusals do not suggest it. */
    int no_ignore_hint;
    /* Bytes of saved files (deleted while open, in /dev/shm) an image may
     * hold: 0 the default (CRS_FILE_DATA_MAX_DEFAULT), UINT64_MAX no limit. */
    uint64_t file_data_max;
    /* How the caller's user raises that limit, named when an image would hold more (NULL:
     * "cr_checkpoint --file-data-max=SIZE"; an MPI rank names mpirun's option). */
    const char *file_data_hint;
    /* Bytes of saved file data the caller's image holds beside this capture's (the MPI layer's
     * copies of MPI_MODE_DELETE_ON_CLOSE files; a tree's other members' saved files): counted
     * within file_data_max, which bounds the whole image, not each kind of saved data on its own.
     * file_data_held_what names them in a refusal ("copies of ..."; NULL: "saved data"). Read
     * after after_park, which may set them. */
    uint64_t file_data_held;
    const char *file_data_held_what;
    /* Sockets of system daemons, beyond Revive's own list (syslog, journald, SSSD, nscd), whose
     * clients reconnect by themselves and so are recorded unconnected (capture_sockets.c,
     * service_client): paths separated by ':', one ending in '/' naming every socket under that
     * folder. NULL: the process's REVIVE_SERVICE_SOCKETS (an MPI rank passes restart-mpi's). */
    const char *service_sockets;
    int timeout_ms;      /* for parking the threads */
    /* 1: the pages of the process's writable shared mappings of regular files (MAP_SHARED with
     * PROT_WRITE) go into the image too, every page within the file's size, and a restart writes
     * them back into the file before the program runs, so that each restart from the image
     * starts from the file's bytes of the checkpoint (BLCR's cr_checkpoint --save-shared). 0
     * (BLCR's default): the file holds them, and a restart sees its bytes as they are then;
     * such mappings are named in crs_ckpt_result.shared. */
    int save_shared;
    /* A member of a process tree's checkpoint (crs/base/tree.h): its children
     * are members too, so they do not refuse the checkpoint, and a pipe end
     * the tree's restart puts in place (tree_placed) is recorded like an
     * inherited one. */
    int tree_member;
    /* A tree member's descriptors the tree's restart puts in place, set by
     * after_park (ascending; ntree_placed < 0: take every pipe end as placed).
     * A pipe end not among them whose other end is still open is held by a
     * process outside the tree. */
    const int32_t *tree_placed;
    int ntree_placed;
    /* A tree member's saved files (deleted while open, in /dev/shm; by
     * device and inode) whose bytes another member's image holds, set by
     * after_park: recorded without bytes (CRS_FOBJ_F_ELSEWHERE). */
    const struct crs_file_id *tree_elsewhere;
    int ntree_elsewhere;
    /* A tree member: the pids of the tree's members, zombies too (as this
     * process sees them), set by after_park; ntree_members < 0: not known (too many).
     * A System V set or queue another member used last is not refused. */
    const int32_t *tree_members;
    int ntree_members;
    /* Child processes that have ended and were not reaped (zombies) that the
     * caller brings back itself at the restart (the MPI layer: a rank's
     * zombie children, src/pml_hooks/children.c), by pid, set by after_park:
     * such a child does not refuse the checkpoint. Any other child does. */
    const int32_t *kept_zombies;
    int nkept_zombies;
    /* Called once every thread is parked, before anything is recorded: a
     * tree's members are all parked before any is captured. Non-zero
     * (-errno, message in err) calls the checkpoint off. NULL: go on. */
    int (*after_park)(void *arg, char *err, size_t errlen);
    /* Called once the image is written (status 0) or failed (-errno, message),
     * while the threads are still parked in place mode: it may reply to the
     * requester and wait for its word before the process runs on. */
    void (*after_write)(void *arg, int status, const char *msg);
    /* Asked while the image is written (before its first bytes, then every few MiB; also in
     * the --fork writer): 1 when whoever waits for the image went away (cr_checkpoint killed,
     * newuser10 F1): the write stops and the checkpoint fails with -ECANCELED, the message
     * naming that; the caller removes what was written. NULL: never asked. */
    int (*requester_gone)(void *arg);
    /* Asked once the image is written (status 0), for each parked thread by its id, while
     * they are all still parked: 1 keeps that thread parked when the others run on, until
     * the component's unhold (the MPI layer's --term: the application stops at the snapshot
     * while the library's threads go on to finalize). Never in the restarted process.
     * NULL: every thread runs on. */
    int (*hold_thread)(void *arg, pid_t tid);
    /* In the restarted process, once the restart hooks ran: asked for each
     * restored thread by its id now, while they are all still parked: 1 keeps
     * that thread parked when the checkpoint thread runs on, until the
     * component's unhold (the MPI layer: the application waits until the MPI
     * library's memory it uses directly is back at its addresses). NULL:
     * every thread runs on. */
    int (*hold_restarted)(void *arg, pid_t tid);
    /* In the restarted process: 1 leaves the program's seccomp filters out
     * of the restart; they go in at the component's unhold, from the thread
     * that took the checkpoint, before the held threads run on (the MPI
     * layer: once the fresh lower half's MPI_Init ran, which a filter of the
     * program may forbid calls of: diffrev19 LOW-D). Every restored thread is
     * held until then (crs_seccomp_restore_waiting: hold_restarted must say
     * 1 for each). 0: they go in at the end of the restart. */
    int seccomp_later;
    /* 1: a refusal of a passing state (crs_ckpt_result.passing) is not given to after_write:
     * the caller tries again and reports the last try's outcome itself. */
    int passing_quiet;
    void *arg;
};

#define CRS_FILE_DATA_MAX_DEFAULT (1ull << 30)

#define CRS_SHARED_NOTE_MAX 1024
struct crs_ckpt_result {
    int restarted;       /* 1: we are the restarted process */
    int status;          /* 0 or -errno */
    uint64_t image_bytes;
    double stall_ms;     /* how long the other threads were parked */
    char err[512];
    /* Written but with a caveat the requester must weigh before it ends the process (status 0):
     * more mappings than a restart on this machine can make (vm.max_map_count); "" when none.
     * Given to after_write as its message on success. */
    char warn[400];
    /* The writable shared mappings of regular files whose pages the image does not hold (no
     * save_shared), one line each, "BYTES PATH\n" (the mapping's length), as many as fit, then
     * "+N\n" for the rest; "" when none. Set on success before after_write is called. */
    char shared[CRS_SHARED_NOTE_MAX];
    /* The refusal (status non-zero) is of a passing state that ends by itself once the
     * program's threads run a little: a client of a system daemon's socket (syslog's, SSSD's,
     * REVIVE_SERVICE_SOCKETS) with the reply to its request waiting unread. Trying again after
     * releasing the threads may succeed (libcr's runtime and the MPI layer's capture do). */
    int passing;
};

/* ---- restart ---- */

/* What to bring back, and how. */
/* A file whose saved pages another process writes back (crs_restart_opts.saved_skip): within
 * the nranges byte ranges of the file [ranges[2k], ranges[2k + 1]) that process's copy holds */
struct crs_saved_skip {
    uint64_t dev, ino;
    const uint64_t *ranges;
    size_t nranges;
};

struct crs_restart_opts {
    const char *path;       /* the image file (also names it in messages) */
    int fd;                 /* >= 0: read the image from this descriptor, whose offset is
                               the image's start, instead of opening path (the restart
                               owns it from then on, also on failure); -1: open path */
    int restore_ids;        /* 1: the original thread ids come back where the calling
                               process runs under the image's pid (cr_restart arranges
                               that); 0: new pid and tids (an MPI rank under its
                               launcher), glibc's cached ids corrected */
    int ignore_kernel;      /* accept an image taken under another kernel release */
    /* A hand-off blob for the restored process (NULL/0: none), copied into
     * memory that survives the switch; read there by crs_restart_handoff()
     * from a restart hook (hooks.h). At most CRS_HANDOFF_MAX bytes. */
    const void *handoff;
    size_t handoff_len;
    /* Moved files (cr_restart --relocate OLD=NEW, BLCR's option): a path of
     * the image that is OLD or lies under OLD is taken under NEW instead;
     * the longest matching OLD wins. Strings "OLD=NEW", kept by the caller. */
    const char *const *relocate;
    size_t nrelocate;
    /* Descriptors of the calling process that the restored one keeps as they
     * are (an MPI rank's launcher connection: Hydra's PMI_FD, ...), at most
     * CRS_KEEP_FDS_MAX. Each must be at or above every descriptor number the
     * image uses (restart_open says so otherwise); the restart closes every
     * other descriptor it does not restore. */
    const int *keep_fds;
    int nkeep_fds;
    /* A process of a tree (cr_restart of a --tree file, crs/base/tree.h):
     * descriptors the caller has put in place at the image's numbers before
     * restart(), open files shared with other processes of the tree (pipes
     * between them, a file with one offset). They stay as they are (their
     * close-on-exec flag is the image's) instead of being made again. Kept
     * by the caller. */
    const int *placed_fds;
    int nplaced_fds;
    /* Of placed_fds, the kernel objects the tree's restart made from this
     * image (restart_make_kobj, CRS_TREE_G_KOBJ) and this process fills: an
     * epoll's watches are this process's descriptors. The other placed
     * epolls are filled by the process whose image made them. Kept by the
     * caller. */
    const int *fill_fds;
    int nfill_fds;
    /* Called once everything is restored, right before the process becomes
     * the image's (the last, libc-free step): a tree's processes wait there
     * for each other, so that none runs before all are back. Non-zero calls
     * the restart off. NULL: none. */
    int (*before_switch)(void *arg);
    void *switch_arg;
    /* When not NULL, set to 1 by a restart_open that refuses the image for what lies outside
     * it, not for the image itself: the host (kernel release), a file it maps missing or
     * changed since the checkpoint, capabilities cr_restart lacks or holds, vm.max_map_count,
     * addresses this build of the restorer uses. Put right (the file restored, another
     * host), the same image restarts: an MPI restart then does not mark its snapshot as
     * failed (revive-restart-rank, snapc/coord_restart.c). */
    int *refused_outside;
    /* When not NULL, set to 1 when the restart failed while loading the image's memory (a chunk
     * failed its checksum or could not be read: -EBADMSG, -EIO), before any descriptor, process
     * state, signal or credential was changed: the same process may run another restart from
     * another copy of the image (revive-restart-rank's cached copy, diffrev24 K-M1). */
    int *data_failed;
    /* 1: when a /dev/shm object the image brings back is in use by a live process (the
     * original still runs, or another restart of it), the restored process gets a /dev/shm
     * of its own (an empty tmpfs in a mount namespace of its own, which needs root, or a user
     * namespace of its own: cr_restart's restart in a pid namespace) and its objects are
     * made there; a warning says so. 0: such a restart is refused (restart_open, -EBUSY,
     * refused_outside set), naming the object and the process. Either way no object another
     * process uses is written over. 2 (a tree's cr_restart, for each member): such an object is
     * only noted (crs_restart_image.dev_shm_busy): the caller gives the whole tree one /dev/shm of
     * its own before any object is made, which the members inherit. */
    int dev_shm_private;
    /* > 0: processes whose parent is this pid (the ranks of one restarted MPI job on one node,
     * children of one launcher daemon) restore the same objects: a /dev/shm object one of them
     * made already is no conflict, the others share it again. 0: none. */
    pid_t shm_peers_parent;
    /* The image file as a check of every chunk found it (image.h's crs_file_stamp: restart-mpi
     * verified it before the launch; revive-restart-rank hands its rank's stamp on): when the
     * file this restart reads is still that one, unchanged, its chunks are copied into place
     * without their checksums computed again (crs_image.sums_checked), said at REVIVE_VERBOSE=2.
     * A file changed or replaced since, another copy (a node's cache that is no link of it), or
     * NULL: every chunk is checked as it is read. */
    const struct crs_file_stamp *verified;
    /* Files mapped shared whose saved pages (--save-shared: regions CRS_REGION_F_SAVED) this
     * process does not write back, because another process restored with it writes its own copy
     * of them (of an MPI job's ranks that saved one file on one host, the one that read it last:
     * tools/snapc/restart_saved.h, revive-restart-rank); the mapping is made all the same. Each
     * file by the device and inode its image's file record holds (the checkpoint's, whatever
     * --relocate does with its path); a region is left only when its bytes of the file (within
     * the recorded size) lie within the other process's ranges. NULL/0: every saved page is
     * written back. */
    const struct crs_saved_skip *saved_skip;
    size_t nsaved_skip;
};

#define CRS_HANDOFF_MAX (64u << 20)
#define CRS_KEEP_FDS_MAX 64

/* An image opened and checked for a restart in this process (restart_open). */
struct crs_restart_image {
    pid_t pid;              /* the process's pid when the image was taken */
    pid_t pgid, sid;        /* its process group and session then (as pid sees them) */
    int had_tty;            /* it had a controlling terminal */
    /* Set by the caller before restart() when the process's /proc will no
     * longer tell the pid the outside world knows it by (a /proc of its own
     * pid namespace mounted for it); 0: /proc tells. */
    pid_t outer_pid;
    int outer_proc_fd;      /* with outer_pid: a descriptor of the /proc that tells, at or
                               above own_fd_min (-1: none) */
    /* The restarter's own descriptors must be at or above this number: the
     * restart closes every descriptor below it that the image does not
     * hold, and those at or above it in its last step. */
    int own_fd_min;
    /* Set by the caller before restart(): saved files (deleted while open,
     * in /dev/shm) made once for several processes of a tree by
     * restart_make_file, each open for reading and writing at or above
     * own_fd_min; the restart maps and opens these instead of making its
     * own, so the processes share them again. Kept by the caller. */
    const struct crs_restart_file *shared_files;
    size_t nshared_files;
    /* Set by restart_open with crs_restart_opts.dev_shm_private 2: "PATH is in use by process P
     * (COMM)" when a /dev/shm object of the image is in use by the original (the caller must give
     * the process a /dev/shm of its own before restart()); NULL: none. */
    const char *dev_shm_busy;
    void *impl;             /* the component's own state */
};

/* A saved file by its device and inode at checkpoint, made again (fd); or,
 * with shmem, shared memory (a memfd, shared anonymous memory: the image's
 * MEMFDS record of that inode), made again, filled and sealed. */
struct crs_restart_file {
    uint64_t dev, ino;
    int fd;
    int shmem;
};

/* What a component's exec_enter keeps for exec_leave (the caller's stack). */
struct crs_exec_guard {
    uint64_t mask;   /* the thread's signal mask before */
    int blocked;     /* the park signal was blocked by exec_enter */
    int slot;        /* the component's mark of the thread, -1: none */
};

/* ---- the component table ---- */

struct crs_component {
    const char *name;
    const char *summary;

    /* Prepares the process for checkpoints: the park signal (a real-time
     * signal the application never sees), memory of its own. 0 or -errno. */
    int (*init)(int park_signal);
    /* Takes one image of the calling process, from its checkpoint thread.
     * Returns like res->status; in a restarted process it returns 0 with
     * res->restarted = 1 (after the restart hooks ran, see hooks.h). */
    int (*checkpoint)(const struct crs_ckpt_opts *o, struct crs_ckpt_result *res);

    /* The signal given to init (0 before). */
    int (*park_signal)(void);
    /* Park-handler hooks for the BLCR signal-context callbacks: `hook` runs in
     * a thread's park signal handler before the thread parks; it returns 1
     * when it parked the thread itself through park_here, else 0. */
    void (*set_park_hook)(int (*hook)(void));
    /* Parks the calling thread from inside the park signal handler; returns 0
     * after the checkpoint when continuing, 1 in the restarted process. */
    int (*park_here)(void);
    /* Lets the threads that hold_thread kept parked run on. */
    void (*unhold)(void);
    /* Around an execve of the calling thread (libcr's exec wrappers): after
     * exec_enter no park signal reaches the thread and none is pending, so
     * none can outlive a successful execve into the new program (where it
     * would kill it: no handler there yet); a checkpoint that begins
     * meanwhile waits for the thread to leave execve. A checkpoint already
     * parking the threads parks this one inside exec_enter first. After a
     * failed execve, exec_leave (same thread, same g) makes the thread
     * parkable again. Nothing to undo after a successful one. */
    void (*exec_enter)(struct crs_exec_guard *g);
    void (*exec_leave)(const struct crs_exec_guard *g);

    /* Opens the image named by o and checks that it can come back on this
     * machine (files, kernel, CPU, addresses), changing nothing. 0, or -errno
     * with a message in err. o must stay valid until restart or restart_close. */
    int (*restart_open)(const struct crs_restart_opts *o, struct crs_restart_image *ri, char *err,
                        size_t errlen);
    /* Brings the opened image back in the calling process, which it replaces
     * (pid stays; memory, descriptors, signal state and threads become the
     * image's). Returns only on failure: -errno with a message in err (the
     * process may be damaged by then: report and exit). */
    int (*restart)(struct crs_restart_image *ri, char *err, size_t errlen);
    /* Makes again, from the opened image, the saved file (deleted while
     * open, in /dev/shm) that had device dev and inode ino at checkpoint, as
     * restart() would: filled with its bytes, a /dev/shm one under its
     * name; when the image has no such file, the shared memory (a memfd,
     * shared anonymous memory) of inode ino, filled with its pages and
     * sealed. A tree's restart makes such a file once for all the processes
     * that share it (crs/base/tree.h, CRS_TREE_G_OBJECT) and hands it to
     * each (crs_restart_image.shared_files). Returns a descriptor open for
     * reading and writing (close-on-exec) at or above own_fd_min, or
     * -errno with a message in err. */
    int (*restart_make_file)(struct crs_restart_image *ri, uint64_t dev, uint64_t ino, char *err, size_t errlen);
    /* Makes again, from the opened image, the kernel object at its
     * descriptor fd (an eventfd with its count, a timerfd armed with its
     * unread expirations, a signalfd, an epoll without its watches, an
     * inotify with its watches) as
     * restart() would. A tree's restart makes one once for the processes
     * that held it as one open file (crs/base/tree.h, CRS_TREE_G_KOBJ) and
     * puts it at their numbers (placed_fds; the image's process fills an
     * epoll: fill_fds). Returns a descriptor (close-on-exec) at or above
     * own_fd_min, or -errno with a message in err. May be NULL. */
    int (*restart_make_kobj)(struct crs_restart_image *ri, int fd, char *err, size_t errlen);
    /* A tree's restart, before it makes the processes, with every image
     * opened (ri[0..n-1]; impl NULL: a zombie's place): makes once the kernel
     * objects outside the processes that two images or more name and that the
     * tree's checkpoint could not see (System V semaphore sets and message
     * queues: libcr notes them in each process), with the values and messages
     * the images hold; each image's restart then takes that one (and gives its
     * own SEM_UNDO adjustments). 0, or -errno with a message in err (what it
     * made then goes with restart_abandon). May be NULL. */
    int (*restart_share)(struct crs_restart_image *ri, size_t n, char *err, size_t errlen);
    /* Releases an opened image that this process will not restart. */
    void (*restart_close)(struct crs_restart_image *ri);
    /* After a failed restart: removes the kernel objects outside the
     * process that this process's restart_make_file, restart_share and
     * restart made (System V segments, semaphore sets and message queues;
     * not the original's, taken back), so that a failed restart
     * leaves nothing behind. restart calls it itself when it fails; a tree's
     * restart calls it when the tree's restart fails. May be NULL. */
    void (*restart_abandon)(void);
};

/* The component named `name` (NULL: $REVIVE_CRS, else "uspace"), or NULL
 * with a message in err naming the ones there are. */
const struct crs_component *crs_component_select(const char *name, char *err, size_t errlen);


/* The whole restart in one call (restart_open, then restart): returns only
 * on failure, -errno with a message in err. */
int crs_restart(const struct crs_component *c, const struct crs_restart_opts *o, char *err, size_t errlen);

/* The components built in (each defined in its own folder). */
extern const struct crs_component crs_uspace_component;

#endif

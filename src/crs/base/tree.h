/*
 * Process trees (BLCR's checkpoint scopes: cr_checkpoint --tree/--pgid/--sid,
 * CR_SCOPE_TREE/PGRP/SESS in libcr.h): one file holds every member of the
 * scope. It starts with a table (this header, then the members, the open
 * files members share, which member holds each at which number, their paths
 * and the bytes of pipes between members), then each living member's
 * process image as cr_checkpoint writes one (image_format.h), from the
 * offset the table gives. A zombie member has no image: its wait status is
 * in the table. Little-endian, as the images; the table is checksummed.
 *
 * Checkpoint (tree_ckpt.c, run by cr_checkpoint or libcr for another
 * process): every member is asked over the request protocol (protocol.h,
 * CRS_REQ_F_TREE); all are parked before any is recorded, and /proc is read
 * again after each round of parking until two looks agree (a member list
 * read while members run goes stale: a child reaped, the next one forked);
 * the requester
 * finds what members share (kcmp(2): the same open file description;
 * a pipe's inode: ends of one pipe) while they are parked, then lets each
 * write its image in turn, and releases them all once the file is durable.
 * Restart: cr_restart (tools/cr_restart.c) recreates the members with their
 * pids, parent links, sessions and groups, and the shared files, then each
 * becomes its image.
 */
#ifndef REVIVE_CRS_TREE_H
#define REVIVE_CRS_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRS_TREE_MAGIC "RVVTREE1"
/* 2: CRS_TREE_G_OBJECT groups, and DELETED groups whose file is one (the
 * members' images then name their bytes as another member's); 3:
 * CRS_TREE_G_SHMEM groups; 4: CRS_TREE_G_KOBJ groups; 5: CRS_TREE_G_FIFO
 * groups. Older versions are read as they were; a file is written with the
 * lowest version that holds its groups. */
#define CRS_TREE_VERSION 5u

enum crs_tree_scope {
    CRS_TREE_SCOPE_TREE = 1,   /* a process and all its descendants */
    CRS_TREE_SCOPE_PGRP = 2,   /* every process of a process group */
    CRS_TREE_SCOPE_SESS = 3,   /* every process of a session */
};

struct crs_tree_header {
    char magic[8];
    uint32_t version, scope;
    int32_t id;                 /* the pid, pgid or sid asked for */
    uint32_t nmembers, ngroups, nlinks;
    uint64_t strings_offset, strings_length;   /* NUL-terminated paths */
    uint64_t data_offset, data_length;         /* bytes pipes held */
    uint64_t table_length;      /* header to the end of the pipe bytes */
    uint64_t created_ns;
    uint64_t checksum;          /* XXH3-64 of the table with this field 0 */
};

enum crs_tree_member_kind {
    CRS_TREE_PROCESS = 1,       /* a living process: it has an image */
    CRS_TREE_ZOMBIE = 2,        /* ended, not reaped by its parent: wait_status */
};

struct crs_tree_member {
    int32_t pid, ppid, pgid, sid;   /* as the checkpoint's pid namespace saw them */
    uint32_t kind;
    int32_t wait_status;        /* a zombie's, as waitpid would give it */
    uint64_t image_offset, image_length;   /* from the tree's start */
    char comm[16];
};

/* One open file description that the restart makes once and hands to the
 * members that held it (links). Pipes: each end of a pipe one member at
 * least holds, when the pipe's both ends are in the tree. */
enum crs_tree_group_kind {
    CRS_TREE_G_PIPE_READ = 1,
    CRS_TREE_G_PIPE_WRITE = 2,
    CRS_TREE_G_FILE = 3,        /* a file, folder or device opened by path */
    CRS_TREE_G_DELETED = 4,     /* a file deleted while open: its bytes (data_offset, data_length) are
                                 * in the table; made again unnamed in its folder (path); or, with
                                 * `object`, it is that OBJECT group's file, opened anew */
    /* Version 2: a file whose bytes the images hold (a file deleted while
     * open, one in /dev/shm: image_format.h's FOBJS) that two members or
     * more map or hold (Python multiprocessing's semaphores and shared
     * values, a scratch file mapped by a parent and its children). The
     * image of member `owner` holds its bytes; the others' name it without
     * bytes (CRS_FOBJ_F_ELSEWHERE). The restart makes it once from the
     * owner's image and gives it to every member whose image names it, so
     * they share one file again. No links: descriptors reach it through
     * DELETED groups (`object`) or the members' own records. */
    CRS_TREE_G_OBJECT = 5,
    /* Version 3: shared memory two members or more map or hold (a memfd,
     * MAP_SHARED|MAP_ANONYMOUS memory mapped before a fork, shared
     * MAP_HUGETLB memory, a deleted hugetlbfs file): image_format.h's MEMFDS
     * record of that inode. As OBJECT: the image of `owner` holds its pages
     * (and the bytes no mapping holds); the others' images name it without
     * them. The restart makes it once, filled and sealed, from the owner's
     * image and gives it to every member that maps or holds it. Fields as
     * OBJECT's; `dev` is the device of the kernel's shared memory inode. */
    CRS_TREE_G_SHMEM = 6,
    /* Version 4: a kernel object made by a system call (an eventfd, timerfd,
     * signalfd, epoll, inotify) that two members or more hold as one open
     * file description (made before a fork). The image of member `owner`
     * records it at its descriptor `offset` (image_format.h: KFDS; an epoll
     * with its watches, which are that member's descriptors; an inotify with
     * its watches); the restart makes it once from that image (the
     * component's restart_make_kobj) and puts it at every holder's numbers
     * (links), so that they share one count, one timer's expirations, one
     * ready list, one event queue again. Only the owner's restart adds an
     * epoll's watches (crs_restart_opts.fill_fds). An inotify with unread
     * events is refused at checkpoint (tree_ckpt.c). `path`: what /proc
     * names it ("anon_inode:[eventfd]"). */
    CRS_TREE_G_KOBJ = 7,
    /* Version 4: one end of a connected pair of Unix sockets (socketpair,
     * Python's multiprocessing.Pipe) whose ends members hold, at least two
     * members between them. Both ends' groups have the pair's `pipe_id`
     * (the lower of the two inodes); `offset` is 0 for that end, 1 for the
     * other; `sock_type` SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; the
     * bytes queued for this end to read at (data_offset, data_length): a
     * stream's bytes, or each message after its length (32 bits). The
     * restart makes the pair once (socketpair), sends each end's queue from
     * the other, and puts the ends at their holders' numbers. */
    CRS_TREE_G_SOCK = 8,
    /* Version 5: an open file of a FIFO (named pipe, mkfifo) whose ends
     * members hold, at least two members between them (a reader and a
     * writer each opened it; or one open file, opened before a fork), both
     * ends in the tree or the other end closed everywhere (issue 10), and
     * held by no process outside the members (a launcher's FIFO, a make job
     * server's, is each member's inherited descriptor instead).
     * `path`: the FIFO's; `pipe_id`: its inode; `open_flags`: the open
     * file's access (O_RDONLY, O_WRONLY, O_RDWR) and O_NONBLOCK, and
     * CRS_TREE_FIFO_WAITING; `pipe_capacity`: the pipe's size; `offset`: the
     * index of the FIFO's first group (its own for that one), which alone
     * holds the bytes in the FIFO at (data_offset, data_length). The restart
     * opens the FIFO at its path once, read-write, writes its bytes back,
     * opens each group's file on it with its access, and puts them at their
     * holders' numbers: one FIFO for all, its bytes once. */
    CRS_TREE_G_FIFO = 9,
};

/* In a FIFO group's open_flags: a reader no writer had reached (no writer
 * open and no hang-up reported: a server waiting for its first client). The
 * kernel reports hang-up to a reader opened beside a writer once the last
 * writer closes, so the restart opens this one only after its read-write
 * opening is closed, as a reader that found no writer (fifo_open): it then
 * sees no hang-up until a writer comes and goes, as the original. Never set
 * with write access. */
#define CRS_TREE_FIFO_WAITING 0x80000000u

struct crs_tree_group {
    uint32_t kind;
    uint32_t open_flags;
    int64_t offset;             /* FILE, DELETED: the shared offset; KOBJ: the owner's descriptor; FIFO:
                                 * the FIFO's first group */
    uint64_t pipe_id;           /* pipes, FIFO: the pipe's inode (both ends' groups have it); OBJECT,
                                 * SHMEM: the file's inode; SOCK: the pair's lower inode */
    union {
        uint32_t pipe_capacity; /* pipes, FIFO */
        uint32_t sock_type;     /* SOCK */
        uint32_t object;        /* DELETED: 1 + the OBJECT or SHMEM group that is its file (no bytes
                                 * here), 0: its bytes are in the table */
        uint32_t owner;         /* OBJECT, SHMEM: the member whose image holds the bytes; KOBJ: the
                                 * member whose image records the object */
    };
    uint32_t path;              /* FILE, DELETED, OBJECT, SHMEM, KOBJ, FIFO: offset in the strings */
    union {
        uint64_t data_offset;   /* PIPE_READ, a FIFO's first group: the bytes in the pipe; DELETED: the
                                 * file's; SOCK: its queue */
        uint64_t dev;           /* OBJECT, SHMEM: the file's device (st_dev) */
    };
    uint64_t data_length;       /* PIPE_READ, DELETED, SOCK, FIFO; 0 for OBJECT, SHMEM and KOBJ */
};

struct crs_tree_link {
    int32_t member, fd, group;
    uint32_t fd_flags;          /* FD_CLOEXEC */
};

/* A tree file's table, read and checked. */
struct crs_tree {
    struct crs_tree_header hdr;
    struct crs_tree_member *members;
    struct crs_tree_group *groups;
    struct crs_tree_link *links;
    char *strings;
    unsigned char *data;
    uint64_t base;              /* where the tree starts in its file (offsets count from here) */
    uint64_t file_size;         /* from base to the file's end */
};

/* 1: the file open at fd holds a tree from its offset; 0: not; -errno. */
int crs_tree_is_tree(int fd);
/* Reads and checks the table (members' images inside the file). 0, or
 * -errno with a message in err: -EBADMSG when the file is damaged or cut
 * short (another checkpoint of the tree is the way on: cr_restart says so),
 * -EINVAL when it is no tree file or of a format this Revive does not read.
 * crs_tree_free releases it. */
int crs_tree_read(int fd, struct crs_tree *t, char *err, size_t errlen);
void crs_tree_free(struct crs_tree *t);
/* Where the image of the process that matters starts in the file open at fd (its offset kept):
 * a tree file's member 0 (returns 1, *offset its image's), or the file itself from its offset
 * (returns 0). -errno for a tree file whose table cannot be read (tree_first.c). */
int crs_tree_first_image(int fd, uint64_t *offset);
/* For a tree file at path: opens every process member's image after member 0 (header, tables)
 * and with deep verifies its chunks too, so that a check of a rank's file (member 0 through
 * crs_image_open_first) covers its children. 0 (also for a file that is no tree file), or -errno
 * with the message in err (-EBADMSG: damaged; the reader's CRS_IMAGE_ADVICE at its end). */
int crs_image_verify_members(const char *path, int deep, char *err, size_t errlen);
/* The same of the file open at fd (path: its name in messages), read from its start whatever
 * fd's offset, which is left as it was; each member is read through a duplicate of fd, the
 * path is not opened again (a check reads the one file it opened: src/filem/verify.c). */
int crs_image_verify_members_fd(int fd, const char *path, int deep, char *err, size_t errlen);
/* The checksum that stands for the whole file at path, a plain image or a tree file (what a
 * snapshot's metadata records as a rank's checksum, src/filem): a plain image's header checksum
 * (it covers the section table, so every section's and chunk's checksum: every byte a restore
 * reads); a tree file's XXH3-64 of its table's checksum and of each member's kind and header
 * checksum in order (a zombie's 0), so that it covers every member, not the first only. Each
 * process member's header is read and its own checksum checked (headers only: the chunks are
 * checked against it by crs_image_verify_chunks and crs_image_verify_members with deep).
 * *first (may be NULL): member 0's header checksum, what Revive recorded for a tree file before
 * session 31 (for a plain image the same as *sum); *tree: 1 for a tree file, else 0.
 * 0, or -errno with the message in err (-EBADMSG: damaged, CRS_IMAGE_ADVICE at its end). */
int crs_image_file_sum(const char *path, uint64_t *sum, uint64_t *first, int *tree, char *err,
                       size_t errlen);
/* The same of the file open at fd (path: its name in messages), read from its start whatever
 * fd's offset, which is left as it was. */
int crs_image_file_sum_fd(int fd, const char *path, uint64_t *sum, uint64_t *first, int *tree,
                          char *err, size_t errlen);
const char *crs_tree_scope_name(uint32_t scope);
/* "exited 3", "killed by SIGTERM" */
void crs_tree_status_text(int32_t wait_status, char *out, size_t cap);

/* ---- the checkpoint (tree_ckpt.c) ---- */

struct crs_tree_ckpt_opts {
    enum crs_tree_scope scope;
    pid_t id;                   /* pid (TREE), pgid (PGRP) or sid (SESS) */
    uint32_t flags;             /* CRS_REQ_F_IGNORE_FDS (protocol.h); fork mode is not for trees */
    int zstd_level;
    uint32_t file_data_max_mb;
    /* The tree's file is one image: the saved files' bytes of all its members (deleted while
     * open, in /dev/shm, those they share) count within one limit, file_data_max bytes (0: from
     * file_data_max_mb, as each member's own), with file_data_held bytes the caller keeps in it
     * besides (the MPI layer's scratch copies; file_data_held_what names them), a refusal naming
     * file_data_hint (NULL: "--file-data-max"). Before, each member had its own limit. */
    uint64_t file_data_max;
    uint64_t file_data_held;
    const char *file_data_held_what;
    const char *file_data_hint;
    int timeout_ms;             /* -1: none */
    int signal_after;           /* sent to every living member once the file is durable */
    /* makes the file durable (crs_durable_commit); NULL: nothing to do */
    int (*commit)(void *arg, char *err, size_t errlen);
    void *arg;
    pid_t exclude;              /* a process never to count as a member (the requester), 0: none */
    /* 1: the requester offers no --tree and no --ignore-fds (an MPI rank's snapshot, which takes
     * its running children along): a refusal says the remedy in the program's terms (which
     * process closes which descriptor, after fork), not cr_checkpoint's options (newuser7d F1) */
    int no_ignore_hint;
    /* Out, when not NULL: on success the first member's caveat ("process
     * PID 'comm': ..."; its image could not be restarted on this machine:
     * too many mappings for vm.max_map_count), "" when none. With
     * signal_after SIGKILL or SIGTERM such a caveat fails the checkpoint
     * instead: no member is ended and commit is not called (as for one
     * process, crs_proto_checkpoint). */
    char *warn;
    size_t warnlen;
    /* Out, when not NULL: on success the members' writable shared file mappings whose pages the
     * file leaves to their files (no CRS_REQ_F_SAVE_SHARED), a line "PID BYTES PATH" each, those
     * past sharedlen counted on a last line "+N"; "" when none. */
    char *shared;
    size_t sharedlen;
};

/* Checkpoints every member of the scope into the file open at fd (from its
 * offset). Returns the number of members (>0), or -errno with one message in
 * err naming what went wrong and what to do; every member then runs on as
 * before. */
int crs_tree_checkpoint(int fd, const struct crs_tree_ckpt_opts *o, char *err, size_t errlen);

#endif

/*
 * The request protocol between a checkpoint requester (cr_checkpoint, or
 * libcr asking for another process) and a process's checkpoint thread.
 *
 * The process listens on the abstract Unix socket "\0revive-cr.<pid>", with
 * the pid as the machine's initial namespace sees it (a restarted process may
 * run in a pid namespace of its own). Both ends check the other's
 * credentials (SO_PEERCRED): same user, or root; and the pid.
 * 1. requester -> process: struct crs_proto_request + the image fd (SCM_RIGHTS)
 * 2. process -> requester: struct crs_proto_reply once the image is written
 *    (the process's threads stay parked unless CRS_REQ_F_FORK)
 * 3. requester -> process: one byte CRS_PROTO_RESUME once the image is
 *    durable under its final name (after signalling the process if asked);
 *    the process then runs on. A closed connection means the same.
 * A member of a process tree's checkpoint (CRS_REQ_F_TREE, crs/base/tree.h)
 * first answers with a reply of magic CRS_PROTO_PARKED once its threads are
 * parked, and records nothing until it gets a struct crs_proto_go (anything
 * else, or a closed connection, calls its checkpoint off): every member is
 * parked before any is captured. The message names the member's descriptors
 * that the tree's restart puts in place (open files it shares with other
 * members, pipes to them): a pipe end not among them whose other end is
 * still open belongs to a process outside the tree. Steps 2 and 3 follow as
 * above.
 */
#ifndef REVIVE_CRS_PROTOCOL_H
#define REVIVE_CRS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRS_PROTO_MAGIC 0x52564352u /* "RCVR" */
/* The park signal libcr uses unless REVIVE_SIGNAL names another (SIGRTMIN+28 with glibc). */
#define CRS_DEFAULT_PARK_SIGNAL 62
/* The layout of these messages. 2: the reply grew (its version, the unsaved shared mappings'
 * note; d537784 had grown it without a new version, diffrev34 R-L21). A process refuses a
 * request of another version with a reply it says its own version in (from version 2 on, at
 * offsetof(struct crs_proto_reply, version): version 1's reply ends there), and the requester
 * names both versions and what to do (crs_proto_recv_reply, crs_proto_version_text). */
#define CRS_PROTO_VERSION 2u
#define CRS_PROTO_RESUME 'R'
#define CRS_PROTO_PARKED 0x4b505652u /* "RVPK": a tree member's threads are parked */
#define CRS_PROTO_GO 'G'

/* A tree member's word to record, with its descriptors the restart places
 * (ascending). More than CRS_PROTO_GO_MAX: nplaced is CRS_PROTO_GO_ALL and
 * the member takes every pipe end as placed (it cannot tell them apart). */
#define CRS_PROTO_GO_MAX 1020
#define CRS_PROTO_GO_ALL 0xffffffffu
/* Saved files (deleted while open, in /dev/shm) the members share, at most
 * this many in one tree (the requester refuses more). */
#define CRS_PROTO_GO_FILES_MAX 256
#define CRS_PROTO_GO_MEMBERS_MAX 1024
struct crs_proto_go {
    uint32_t magic;      /* CRS_PROTO_GO */
    uint32_t nplaced;
    int32_t placed[CRS_PROTO_GO_MAX];
    /* Saved files another member's image holds the bytes of (the tree makes
     * each once at restart, CRS_TREE_G_OBJECT): recorded without bytes. */
    uint32_t nelsewhere;
    uint32_t reserved;
    uint64_t elsewhere[CRS_PROTO_GO_FILES_MAX][2];   /* device (st_dev), inode */
    /* Every member's pid, as the members see it (zombies too):
     * a System V semaphore set or message queue another member used last is
     * the tree's to restore once, not a stranger's. More than
     * CRS_PROTO_GO_MEMBERS_MAX: nmembers is CRS_PROTO_GO_ALL and every other
     * process counts as a stranger. */
    uint32_t nmembers;
    uint32_t reserved2;
    int32_t members[CRS_PROTO_GO_MEMBERS_MAX];
};

#define CRS_REQ_F_FORK 0x1u
#define CRS_REQ_F_IGNORE_FDS 0x2u
#define CRS_REQ_F_TREE 0x4u        /* a member of a tree's checkpoint (see above) */
#define CRS_REQ_F_SAVE_SHARED 0x8u /* writable shared file mappings' pages in the image (--save-shared) */

struct crs_proto_request {
    uint32_t magic, version, flags;
    int32_t zstd_level;
    uint32_t timeout_ms; /* for stopping the threads */
    uint32_t file_data_max_mb; /* MiB of saved files (deleted, /dev/shm) the image may hold:
                                * 0 the process's default, CRS_PROTO_NO_LIMIT none */
    uint32_t reserved[2];
};
#define CRS_PROTO_NO_LIMIT 0xffffffffu

struct crs_proto_reply {
    uint32_t magic;
    int32_t status;      /* 0 or -errno */
    uint64_t image_bytes;
    double stall_ms;
    char msg[512];
    /* Version 1's reply ends here; every later version keeps the bytes above and the version
     * next, where a requester finds the version of any process that answers. */
    uint32_t version;    /* CRS_PROTO_VERSION of the process that answered */
    uint32_t reserved;
    /* on success: the writable shared file mappings whose pages the image leaves to the file
     * (crs_ckpt_result.shared, crs/base/shared_note.h); "" when none */
    char shared[1024];
};
#define CRS_PROTO_REPLY_V1_SIZE offsetof(struct crs_proto_reply, version)

/* Fills the sockaddr for process pid; returns its length. */
struct sockaddr_un;
int crs_proto_address(struct sockaddr_un *sa, pid_t pid);

/* The caller's pid as /proc (mounted for the outer namespace) names it. */
pid_t crs_proto_self_pid(void);
/* After a restart whose /proc no longer tells that pid (cr_restart mounted
 * one of the process's own pid namespace): the pid to use. */
void crs_proto_set_self_pid(pid_t outer);

/* Sends/receives one struct and, optionally, one descriptor. 0 or -errno. */
int crs_proto_send(int sock, const void *msg, size_t len, int fd);
int crs_proto_recv(int sock, void *msg, size_t len, int *fd, int timeout_ms);

/* Receives a process's reply (crs_proto_recv for struct crs_proto_reply): 0 for a whole reply
 * of this version; -EPROTONOSUPPORT for one of a process whose libcr speaks another version
 * (*peer set: 1 for a version-1 reply, else the reply's version; the process refused the
 * request and did nothing), its msg kept; else crs_proto_recv's errors (-EPROTO: a reply of
 * neither form). */
int crs_proto_recv_reply(int sock, struct crs_proto_reply *rp, int timeout_ms, uint32_t *peer);

/* The requester's failure for `who` (e.g. "process 123") whose libcr speaks protocol version
 * peer: both versions, and what to do (the process runs with another Revive's libcr.so, mostly
 * one started before an upgrade). */
void crs_proto_version_text(char *err, size_t errlen, const char *who, uint32_t peer);

/* Connects to process pid's checkpoint thread and checks who answered.
 * Returns the socket, or -errno: -ESRCH no process, -EPERM another user's,
 * -ECONNREFUSED not running under Revive. */
int crs_proto_connect(pid_t pid);
/* crs_proto_connect, but a process that refuses while it may listen in a
 * moment (libcr.so loaded: a child made without libc's fork, a vfork
 * child, a program starting) is tried again for up to 5 s.
 * crs_proto_checkpoint does the same, and then names what it is. */
int crs_proto_connect_wait(pid_t pid);

/* The outer pid of the one process of this user whose pid inside its own
 * pid namespace is `inner`, or -1 (none, or several). */
pid_t crs_proto_find_inner_pid(pid_t inner);

/* The uid owning process pid, or -errno. */
long crs_proto_process_uid(pid_t pid);

/* 1 when process pid has libcr.so among its mappings (it runs under cr_run
 * or links libcr), else 0 (also when its maps cannot be read). */
int crs_proto_has_libcr(pid_t pid);

#endif

#ifndef REVIVE_CRS_PROTOCOL_CLIENT
#define REVIVE_CRS_PROTOCOL_CLIENT
/* The requester's whole exchange: sends the request (file_data_max_mb: as in
 * struct crs_proto_request) and image fd, waits for
 * the image (timeout_ms, -1: none, while checking that pid lives), calls
 * commit(arg) to make it durable, sends `signal_after` to pid if nonzero, then
 * lets the process run on. Returns 0 or -errno with a message in err. */
int crs_proto_checkpoint(pid_t pid, int image_fd, uint32_t flags, int zstd_level, uint32_t file_data_max_mb,
                         int timeout_ms, int signal_after, int (*commit)(void *arg, char *err, size_t errlen), void *arg,
                         struct crs_proto_reply *reply, char *err, size_t errlen);
/* How long a process asked to checkpoint waits for its threads to park before it refuses (the
 * request's timeout_ms): REVIVE_PARK_TIMEOUT_S seconds (1-3600), else 10 s. */
int crs_proto_park_timeout_ms(void);
#endif

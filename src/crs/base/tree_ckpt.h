/* What the files of a tree's checkpoint share (the requester's side of it;
 * tree_ckpt.c runs the steps, each in its own file below): the checkpoint's
 * state, the processes /proc shows, the message of the first failure, and
 * each step's entry. */
#ifndef REVIVE_CRS_BASE_TREE_CKPT_H
#define REVIVE_CRS_BASE_TREE_CKPT_H

#include "crs/base/protocol.h"
#include "crs/base/tree_alloc.h"
#include "crs/base/tree.h"
#include "crs/base/tree_objects.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A member's pipe end or shared file (tree_ckpt.c's note_fd). */
struct fd_entry {
    int member, fd;
    int pipe;                     /* 1: a pipe end */
    int fifo;                     /* 1: an open file of a FIFO (named pipe; its path in `path`) */
    int mode;                     /* O_RDONLY / O_WRONLY / O_RDWR */
    uint64_t dev, ino;
    uint32_t flags, fd_flags;
    int64_t pos;
    int set;                      /* union-find parent */
    int group;                    /* -1: none */
    int peer_closed;              /* a pipe end whose other end no process holds */
    int peer_unknown;             /* ... which we could not ask (pidfd_getfd refused: errno) */
    int fifo_waiting;             /* a FIFO's reader no writer had reached (CRS_TREE_FIFO_WAITING) */
    pid_t fifo_outside;           /* a FIFO's: a process outside the members holding it; -1: not looked */
    long fifo_outside_fd;         /* ... its descriptor */
    int deleted;                  /* a regular file deleted while open */
    int kobj;                     /* an eventfd, timerfd, signalfd, epoll, inotify (CRS_TREE_G_KOBJ) */
    char *path;
};

struct proc_info {
    pid_t pid;                    /* as our /proc names it */
    pid_t ppid, pgid, sid;        /* as our /proc names them */
    pid_t in_pid, in_pgid, in_sid;   /* in the process's own pid namespace */
    char state;
    int32_t exit_code;
    char comm[16];
};

/* A member's socket descriptor: sockets are each member's own (its
 * capture records them); crs_tree_check_sockets refuses those that join
 * members. */
struct sock_entry {
    int member, fd;
    uint64_t ino;
    int family, type;
    /* TCP: both addresses, read through the member's descriptor (pidfd_getfd) */
    struct sockaddr_storage local, remote;
    socklen_t local_len, remote_len;
    int named;                    /* Unix: bound to a name (or not known: no descriptor to ask) */
    uint32_t flags;               /* the open file's status flags (fdinfo) */
    int group;                    /* a socket of a pair members share: its CRS_TREE_G_SOCK group, -1 */
    /* a pair members share whose end a process outside them holds too (a
     * dup'd or inherited descriptor): that process and its descriptor, of
     * the socket with inode outside_ino (crs_tree_check_sockets refuses it) */
    pid_t outside;
    long outside_fd;
    uint64_t outside_ino;
};

/* A socket a process outside the members holds (tree_ckpt_holders.c): the
 * first such process in /proc's order and its descriptor. */
struct tree_holder {
    uint64_t ino;                 /* 0: an empty slot */
    pid_t pid;
    long fd;
};

/* The sockets processes outside the members hold, by inode (open
 * addressing), from one look through /proc per checkpoint. */
struct tree_holders {
    int looked;
    struct tree_holder *socks;
    size_t cap, n;
};

struct tree_ckpt {
    const struct crs_tree_ckpt_opts *o;
    struct proc_info *all;
    size_t nall, capall;
    int *members;                 /* indexes into all, parents first */
    size_t nmembers;
    int *conn;                    /* per member: its connection, -1 */
    unsigned char *fresh;         /* per member: connected, not asked to park yet */
    struct fd_entry *fds;
    size_t nfds, capfds;
    struct sock_entry *socks;     /* the members' sockets (tree_ckpt_sockets.c) */
    size_t nsocks, capsocks;
    struct crs_tree_objects objs; /* saved files members share (tree_objects.h) */
    struct tree_holders holders;  /* held outside the members (tree_ckpt_holders.c) */
    char *err;
    size_t errlen;
    uint64_t base;                /* where the tree starts in the file */
    int self;                     /* member 0 is the caller (crs_tree_checkpoint_self) */
    uint64_t fdata;               /* saved files' bytes the file holds so far, o->file_data_held too */
};

/* The saved files' bytes the tree's file may hold in all (crs_tree_ckpt_opts.file_data_max), 0:
 * no limit; and how the user raises it. */
static inline uint64_t crs_tree_fdata_max(const struct tree_ckpt *t)
{
    if (t->o->file_data_max)
        return t->o->file_data_max == UINT64_MAX ? 0 : t->o->file_data_max;
    return t->o->file_data_max_mb == CRS_PROTO_NO_LIMIT ? 0
           : t->o->file_data_max_mb                     ? (uint64_t)t->o->file_data_max_mb << 20
                                                        : 1ull << 30;   /* CRS_FILE_DATA_MAX_DEFAULT */
}

static inline const char *crs_tree_fdata_hint(const struct tree_ckpt *t)
{
    return t->o->file_data_hint ? t->o->file_data_hint : "--file-data-max";
}

/* Adds n bytes of saved files to the tree's file (tree_ckpt_write.c): 0, or -EFBIG beyond the
 * limit with the message naming what (its words: "FILE (deleted while open ...) holds") */
int crs_tree_fdata_add(struct tree_ckpt *t, uint64_t n, const char *what);

/* t->conn[0] when member 0 is the caller: parked by its own capture, no
 * connection to send to or close (tree_ckpt_self.c). */
#define TREE_CONN_SELF INT_MAX

/* The checkpoint's one error message (the first failure sets it). */
static inline void fail(struct tree_ckpt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void fail(struct tree_ckpt *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, t->errlen, fmt, ap);
    va_end(ap);
}

/* The index in t->all of the process /proc calls pid, -1. */
static inline int find_proc(const struct tree_ckpt *t, pid_t pid)
{
    for (size_t i = 0; i < t->nall; i++)
        if (t->all[i].pid == pid)
            return (int)i;
    return -1;
}

/* "process PID 'comm'" of member m, for messages. */
static inline const char *who(const struct tree_ckpt *t, size_t m, char *buf, size_t cap)
{
    const struct proc_info *p = &t->all[t->members[m]];
    snprintf(buf, cap, "process %d '%s'", (int)p->pid, p->comm);
    return buf;
}

/* Room for one more element in an array of *cap elements of size bytes, n
 * of them in use: the array as it is while there is room, else the array
 * grown to twice as many (to `first` when empty) and *cap with it; NULL
 * when it cannot grow (the array is left as it was). */
static inline void *grow_array(void *items, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return items;
    size_t c = *cap ? 2 * *cap : first;
    void *p = crs_tmem_realloc(items, c * size);
    if (p)
        *cap = c;
    return p;
}

/* One member's descriptors being looked at (note_fd and what it calls). */
struct fd_scan {
    struct tree_ckpt *t;
    int member;
    pid_t pid;
    int pidfd;                    /* the member's, -1: none */
    struct stat image;
};

/* Records member s's socket at fd (a socket with inode ino). 0, or
 * -ENOMEM. */
long crs_tree_note_socket(const struct fd_scan *s, long fd, uint64_t ino);

/* Refuses sockets that join two members, or join a member to a process
 * outside the scope (a Unix socket), but a pair of unnamed Unix sockets
 * (socketpair) whose ends only members hold: each such socket gets
 * sock_entry.group, counting on from *ngroups, whose groups
 * crs_tree_socket_groups makes. 0, or -ENOTSUP with the message. */
int crs_tree_check_sockets(struct tree_ckpt *t, size_t *ngroups);

/* The groups of the socket pairs crs_tree_check_sockets found, into
 * groups[first..]: each end's queue read without taking it (MSG_PEEK at a
 * moving SO_PEEK_OFF, through the member's descriptor), appended to *data.
 * 0, or -errno with the message (a message carrying descriptors). */
int crs_tree_socket_groups(struct tree_ckpt *t, struct crs_tree_group *groups, size_t first, size_t n,
                           unsigned char **data, size_t *dlen);

/* Whether the FIFO member's descriptor f is in becomes a tree group
 * (tree_ckpt_fifo.c): 1, 0, or -ENOMEM. */
int crs_tree_fifo_wanted(struct tree_ckpt *t, struct fd_entry *f);

/* The FIFO fields of the group x, the n-th (groups g), made for t->fds[i]:
 * its flags, and which of the FIFO's groups holds its bytes (offset). */
void crs_tree_fifo_group(const struct tree_ckpt *t, size_t i, const struct crs_tree_group *g, size_t n,
                         struct crs_tree_group *x);

/* ---- tree_ckpt_holders.c: what processes outside the members hold ---- */

/* The first process (in /proc's order) other than the members and this one
 * holding the socket with inode ino: its pid as /proc names it, its
 * descriptor in *fd (fd may be NULL); 0 when no process /proc lets us see
 * holds it; -ENOMEM. The first question of a checkpoint (of either kind)
 * looks through /proc once, with the members parked, for every socket and
 * every members' FIFO held outside them; later ones are answered from it. */
long crs_tree_outside_socket(struct tree_ckpt *t, uint64_t ino, long *fd);
/* The same for the FIFO f (a members' descriptor of one, t->fds), matched by
 * its path; sets fifo_outside and fifo_outside_fd of each of its entries. */
long crs_tree_outside_fifo(struct tree_ckpt *t, const struct fd_entry *f, long *fd);
/* The command name (comm) of process pid, for messages: from t->all, else
 * /proc; "" when it ended since. */
void crs_tree_outside_comm(const struct tree_ckpt *t, pid_t pid, char *comm, size_t cap);

/* ---- tree_ckpt.c: the steps ---- */

/* Where the tree starts in fd (t->base). 0, or -errno with the message. */
int crs_tree_base(struct tree_ckpt *t, int fd);
/* Parks the members (settled), refuses a member killed by the park signal
 * and what they cannot share, and notes their descriptors: *nsockgroups
 * socket pairs. 0, or -errno with the message. */
int crs_tree_prepare(struct tree_ckpt *t, int fd, size_t *nsockgroups);
/* signal_after to every living member but the caller. */
void crs_tree_signal_after(const struct tree_ckpt *t);
/* Frees what the checkpoint holds (connections not closed: release_all). */
void crs_tree_ckpt_free(struct tree_ckpt *t);

/* ---- tree_ckpt_members.c: who is in the scope ---- */

/* Whether index idx of t->all is a member. */
int crs_tree_is_member(const struct tree_ckpt *t, int idx);
/* A fresh look at /proc: t->all and the members, parents first. 0, or
 * -errno with the message (a child outside a group or session, no member). */
int crs_tree_list_members(struct tree_ckpt *t);

/* ---- tree_ckpt_park.c: talking to the members ---- */

/* Parks every member (requests carry image_fd), looking at /proc again until
 * the members settle. 0, or -errno with the message. */
int crs_tree_settle_members(struct tree_ckpt *t, int image_fd);
/* Whether process pid has ended (a zombie now, or reaped): a member that did so during the
 * checkpoint is named as having died, not by the error of its closed connection. */
int crs_tree_member_ended(pid_t pid);
/* Waits for member m's reply (timeout_ms < 0: while it lives). 0, or
 * -errno with the message (its own failure included). */
int crs_tree_member_reply(struct tree_ckpt *t, size_t m, struct crs_proto_reply *rp, int timeout_ms);
/* Member m's reply once told to write its image into the tree's file at image_fd: waited for as
 * long as the member lives and its image grows (the member's writer extends the file); one that wrote nothing for the park's bound (o->timeout_ms, else a minute) fails
 * the checkpoint with -ETIMEDOUT, its state and wait named (a stopped member, a stuck one). */
int crs_tree_member_written(struct tree_ckpt *t, size_t m, int image_fd, struct crs_proto_reply *rp);
/* The park signal the members most likely use. */
int crs_tree_park_signal(void);
/* Lets every connected member run on (resume: told so first). */
void crs_tree_release_all(struct tree_ckpt *t, int resume);
/* 1: fd is one of the requester's connections to the members (left out of
 * member 0's descriptors when member 0 is the caller). */
int crs_tree_own_fd(const struct tree_ckpt *t, int fd);

/* ---- tree_ckpt_fds.c: the members' descriptors ---- */

/* Notes every parked member's descriptors (t->fds, t->socks) but the file
 * being written (image_fd), and joins the open files members share. 0, or
 * -errno with the message. */
int crs_tree_scan_fds(struct tree_ckpt *t, int image_fd);
/* The set (union-find) t->fds[i] is in. */
int crs_tree_uf_find(struct tree_ckpt *t, int i);

/* ---- tree_ckpt_checks.c: refusals once parked ---- */

int crs_tree_check_shared_memory(struct tree_ckpt *t);
int crs_tree_check_sysv_outside(struct tree_ckpt *t);
int crs_tree_check_shared_inotify(struct tree_ckpt *t, const struct crs_tree_group *groups, size_t ngroups);
int crs_tree_check_placed_limit(struct tree_ckpt *t, const struct crs_tree_group *groups);

/* ---- tree_ckpt_groups.c: the table ---- */

/* The tree's table but for its header and members (tree.h). */
struct tree_table {
    struct crs_tree_group *groups;
    size_t ngroups;
    struct crs_tree_link *links;
    size_t nlinks;
    char *strings;                /* starts with "" */
    size_t slen;
    unsigned char *data;          /* kept bytes (pipes, FIFOs, deleted files, socket queues) */
    size_t dlen;
    int has_shmem;                /* a CRS_TREE_G_SHMEM group (version 3) */
};

/* The table of the parked members (nsockgroups socket pairs found by
 * crs_tree_check_sockets), refusing a shared inotify with unread events or
 * too many placed descriptors. 0, or -errno with the message; tb is freed
 * by crs_tree_table_free either way. */
int crs_tree_make_table(struct tree_ckpt *t, size_t nsockgroups, struct tree_table *tb);
void crs_tree_table_free(struct tree_table *tb);

/* ---- tree_ckpt_write.c: the file ---- */

/* Each living member's image in turn after the table's room, then the table
 * at t->base, made durable. 0, or -errno with the message. */
int crs_tree_write(struct tree_ckpt *t, int fd, const struct tree_table *tb);

/* crs_tree_write in steps (crs_tree_checkpoint_self writes member 0's image
 * itself): the header and every member's record but where its image is
 * (start: 0 or -ENOMEM); member m's image at pos through its requester's
 * connection (write_member; nothing for a zombie); the table (finish). */
struct tree_writer {
    struct crs_tree_header h;
    struct crs_tree_member *mem;
    uint64_t pos;                 /* where the next image goes */
};
int crs_tree_writer_start(const struct tree_ckpt *t, const struct tree_table *tb, struct tree_writer *w);
int crs_tree_write_member(struct tree_ckpt *t, int fd, size_t m, struct tree_writer *w);
int crs_tree_writer_finish(struct tree_ckpt *t, int fd, struct tree_writer *w, const struct tree_table *tb);
void crs_tree_writer_free(struct tree_writer *w);
/* Member m's go word: its placed descriptors, saved files, the members. */
void crs_tree_go(const struct tree_ckpt *t, size_t m, struct crs_proto_go *go);

#endif

/*
 * Capturing one process's state from inside it while its other threads are
 * parked (see park.c). Everything here uses only the scratch arena and plain
 * system calls: no malloc, no stdio.
 */
#ifndef REVIVE_CRS_CAPTURE_H
#define REVIVE_CRS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "crs/base/component.h"
#include "crs/base/image.h"
#include "crs/uspace/maps.h"
#include "crs/uspace/scratch.h"

/* How a region's pages are chosen for the image. */
enum crs_page_mode {
    CRS_PAGES_NONE = 0,     /* nothing stored (shared file, vdso, guard without pages) */
    CRS_PAGES_PRESENT = 1,  /* private anonymous: present or swapped pages, zero pages skipped */
    CRS_PAGES_COW = 2,      /* private file: only pages written since mapping */
    CRS_PAGES_RESIDENT = 3, /* shared memory: pages the object holds, zero pages skipped */
    CRS_PAGES_ALL = 4,      /* private mapping of a deleted file: every non-zero page */
    CRS_PAGES_FILE = 5,     /* shared file mapping, saved (save_shared): every page within the
                             * file's size, zeros too (the file below is not the image's) */
};

struct crs_capture_opts {
    int ignore_fds;   /* record unrestorable descriptors as closed instead of failing */
    int no_ignore_hint;   /* crs_ckpt_opts.no_ignore_hint */
    int zstd_level;   /* 0: no compression */
    int save_shared;  /* crs_ckpt_opts.save_shared */
    uint64_t file_data_max;   /* bytes of saved files an image may hold; 0: no limit */
    const char *file_data_hint;   /* crs_ckpt_opts.file_data_hint, never NULL */
    uint64_t file_data_held;      /* crs_ckpt_opts.file_data_held: within file_data_max too */
    const char *file_data_held_what;   /* crs_ckpt_opts.file_data_held_what, never NULL */
    const char *service_sockets;  /* crs_ckpt_opts.service_sockets, else REVIVE_SERVICE_SOCKETS; may be NULL */
    int tree;         /* a member of a process tree's checkpoint (crs_ckpt_opts.tree_member) */
    const int32_t *tree_placed;   /* crs_ckpt_opts.tree_placed */
    int ntree_placed;
    const struct crs_file_id *tree_elsewhere;   /* crs_ckpt_opts.tree_elsewhere */
    int ntree_elsewhere;
    const int32_t *tree_members;   /* crs_ckpt_opts.tree_members */
    int ntree_members;
    const int32_t *kept_zombies;   /* crs_ckpt_opts.kept_zombies */
    int nkept_zombies;
    /* smaps after the page data (crs_capture_smaps_late): the map alone is read before (maps,
     * not smaps), and what smaps adds, which nothing before the page data needs, is read once
     * the pages are on their way to the disk. Set by checkpoint.c when nothing needs it earlier:
     * not for the --fork writer (fork_sees_all reads the advice), nor direct writes
     * (region_direct_ok reads the shared pages), nor where the process holds a protection key
     * (crs_capture_pkeys_held: a key refuses the capture before any page is read,
     * crs_capture_smaps). */
    int smaps_late;
};

struct crs_epoll_probe;

struct crs_capture {
    struct crs_scratch *scratch;
    struct crs_capture_opts opts;

    struct crs_rec_process proc;
    const char *exe, *cwd, *cmdline;
    struct crs_rec_thread *threads;
    size_t nthreads;
    struct crs_rec_thread_caps *tcaps;   /* threads with capability sets of their own */
    size_t ntcaps;
    struct crs_rec_thread_attr *tattrs;  /* one per thread, in threads' order (thread_attr.h) */
    struct crs_rec_seccomp *seccomps;    /* the program's seccomp filters some thread runs under */
    size_t nseccomps;
    uint64_t *seccompdata;               /* their instructions */
    size_t nseccompdata;
    struct crs_rec_region *regions;
    const char **region_names;
    uint8_t *region_pages;  /* enum crs_page_mode per region */
    size_t nregions;
    /* the memory map the regions come from (read once: crs_capture_regions), and what smaps says of
     * each mapping (NULL when smaps could not be read), applied by crs_capture_smaps */
    const struct crs_map *maps;
    const struct crs_map_more *maps_more;
    size_t nmaps;
    struct crs_rec_file *files;
    const char **file_paths;
    size_t nfiles;
    struct crs_rec_memfd *memfds;
    const char **memfd_names;
    size_t nmemfds;
    struct crs_rec_fd *fds;
    const char **fd_paths;
    size_t nfds;
    struct crs_rec_fobj *fobjs;     /* files whose bytes the image holds */
    const char **fobj_paths;
    int *fobj_src;                  /* a descriptor that reads each, or -1 */
    uint8_t *fobj_owned;            /* 1: ours (closed by crs_capture_fobj_release) */
    size_t nfobjs, fobjs_cap;
    struct crs_rec_fextent *fextents;
    uint64_t *fext_vaddr;           /* where an extent is mapped when no descriptor reads it, else 0 */
    size_t nfextents, fextents_cap;
    struct crs_rec_fextent *fext_out;   /* the extents written: the data ones less pages of zeros */
    size_t nfext_out;
    uint64_t fdata_total;
    struct crs_rec_timer *timers;   /* POSIX timers, ascending ids */
    size_t ntimers;
    struct crs_rec_siginfo *siginfos;   /* queued real-time signals (capture_sigqueue.c) */
    size_t nsiginfos;
    uint32_t *creds;                    /* CRS_SEC_CREDS: ids, then groups (capture_process.c) */
    size_t ncreds;
    struct crs_rec_kfd *kfds;       /* eventfd, timerfd, signalfd, epoll, inotify */
    size_t nkfds;
    struct crs_rec_epoll_tgt *epoll_tgts;
    size_t nepoll_tgts;
    struct crs_rec_epoll_via *epoll_vias;   /* watches of numbers closed since */
    size_t nepoll_vias;
    struct crs_rec_epoll_edge *epoll_edges; /* edge-triggered watches whose edge was consumed */
    size_t nepoll_edges, epoll_edges_cap;
    struct crs_epoll_probe *epoll_probe;    /* the epolls' ready lists (capture_epoll_edges.c) */
    struct crs_rec_inwatch *inwatches;
    const char **inwatch_paths;
    size_t ninwatches;
    char *fdinfo;                   /* a buffer for /proc/self/fdinfo/N */
    struct crs_rec_socket *sockets; /* by inode: sock_ino; one of its descriptors: sock_fd */
    uint64_t *sock_ino;
    int *sock_fd;
    size_t nsockets;
    unsigned char *sockdata;
    size_t sockdata_len;
    struct crs_rec_sockopt *sockopts;   /* options set on them, by socket (capture_sockopts.c) */
    size_t nsockopts;
    struct crs_rec_mcast *mcasts;       /* multicast groups they joined (capture_mcast.c) */
    size_t nmcasts;
    struct crs_rec_mcast_src *mcast_srcs; /* those groups' source filters */
    size_t nmcast_srcs;
    struct crs_rec_fdown *fdowns;       /* descriptors' I/O signal owners (capture_fdowners.c) */
    size_t nfdowns;
    struct crs_rec_lock *locks;     /* file locks, by descriptor */
    size_t nlocks;
    uint64_t (*posix_locked)[2];    /* files (dev, ino) this process holds POSIX locks on */
    size_t nposix_locked;
    int posix_locked_read;
    struct crs_rec_sysvipc *sysvipcs;   /* semaphore sets and message queues (capture_sysvipc.c) */
    size_t nsysvipcs;
    unsigned char *sysvipcdata;
    size_t sysvipcdata_len;
    struct crs_rec_pipe *pipes;
    size_t npipes;
    /* 1: standard stream N (0..2) was put there by a member of the tree, its parent (a script's
     * `cmd <<EOF`, `cmd >/dev/zero`): recorded as it is when it can be (capture_fds.c) */
    uint8_t member_stream[3];
    unsigned char *pipedata;
    size_t pipedata_len;
    struct crs_rec_sigaction sig[64];
    uint64_t *auxv;
    size_t nauxv;
    uint64_t pages_stored;
    char err[512];
    /* The refusal in err is of a passing state, which ends by itself while the program runs: a
     * request to a system daemon in progress, its reply waiting unread (capture_sockets.c,
     * service_client). The caller may release the threads and try again (crs_ckpt_result.passing). */
    int passing;
};

/* Each returns 0 or -errno with c->err set to a message for the user. */
int crs_capture_process(struct crs_capture *c);
/* THREADCAPS records in the order of the THREADS ones, those of threads
 * left out of the image dropped (capture_process.c). */
void crs_capture_thread_caps_order(struct crs_capture *c);
/* capture_seccomp.c: how many of the program's seccomp filters thread tid
 * runs under (*n; 0 or -errno with the refusal in c->err when they cannot
 * be saved), then, once every thread's is in c->tattrs, the filters. */
int crs_capture_seccomp_thread(struct crs_capture *c, pid_t tid, uint32_t *n);
int crs_capture_seccomp(struct crs_capture *c);
int crs_capture_children(struct crs_capture *c);   /* refuses a process with children (or zombies) */
int crs_capture_regions(struct crs_capture *c);
int crs_capture_smaps(struct crs_capture *c);   /* advice, huge page sizes: after regions */
/* With opts.smaps_late, after the page data: /proc/self/smaps read, each mapping of c->maps
 * given what smaps says of the mapping that holds it now, then crs_capture_smaps. 0, or -errno
 * with the message set (-EBUSY: a mapping of c->maps is no longer whole, which nothing but the
 * capture itself could have done, every other thread being parked). Else nothing. */
int crs_capture_smaps_late(struct crs_capture *c);
/* Whether this machine may give a process memory protection keys (x86: the kernel turned them
 * on, CPUID's OSPKE), which only smaps tells per mapping; 1 where it cannot tell. */
int crs_capture_pkeys_possible(void);
/* Whether the process holds a protection key now (pkey_alloc, or the kernel's execute-only key):
 * 0 where keys cannot be had (crs_capture_pkeys_possible), 1 where it cannot tell (not x86-64).
 * Asked with every other thread parked. smaps, which alone says which mapping has a key, then
 * comes first as it did everywhere keys may exist (diffrev37 R-L12: most bare-metal x86). */
int crs_capture_pkeys_held(void);
/* Every key open to this thread (PKRU 0), the old PKRU returned; crs_capture_pkeys_close puts it
 * back. For a capture with smaps late where keys may exist: memory a key freed while still on it
 * (no key held, pkey_free said nothing) is read, not a SIGSEGV that ends the process, and the late
 * smaps refuses it. Nothing where keys cannot exist. */
unsigned crs_capture_pkeys_open(void);
void crs_capture_pkeys_close(unsigned old);
int crs_capture_fds(struct crs_capture *c);
int crs_capture_signals(struct crs_capture *c);
int crs_capture_timers(struct crs_capture *c);
/* Queued real-time signals with their siginfo: after crs_capture_timers and
 * the pending masks, every other thread parked. Never fails the capture. */
void crs_capture_sigqueue(struct crs_capture *c);
int crs_capture_locks(struct crs_capture *c);   /* after crs_capture_fds */
int crs_capture_sysvipc(struct crs_capture *c); /* System V semaphore sets and message queues */
/* Kernel objects (capture_kobjs.c): their buffers, then per descriptor:
 * 0 when r is one (kind and index set), 1 when it is not, -errno (message). */
int crs_capture_kobj_init(struct crs_capture *c);
int crs_capture_kobj(struct crs_capture *c, struct crs_rec_fd *r, const char *link);
/* Which edge-triggered epoll watches had their edge consumed
 * (capture_epoll_edges.c): crs_capture_epoll_probe first of all (before
 * the inotify capture, whose filler event wakes epolls), reading every
 * epoll's ready list and putting it back; crs_capture_epoll_edges after
 * crs_capture_fds, recording the consumed ones; crs_capture_epoll_settle
 * last (also after a failed capture), taking the consumed ones off the
 * ready lists again where the capture's own wake-ups queued them (0, or
 * -errno with a message in err). */
int crs_capture_epoll_probe(struct crs_capture *c);
/* The marker that tells a ready signalfd watch's waiting edge from a
 * consumed one (capture_epoll_mark.c): crs_capture_epoll_mark in the
 * checkpoint thread just before the park (it adds a watch of a signalfd of
 * its own, data CRS_EPOLL_MARK_DATA, to each epoll with an edge-triggered
 * signalfd watch), crs_capture_epoll_mark_raise before the probe reads the
 * ready lists, crs_capture_epoll_unmark after it (and on every way out of a
 * checkpoint; idempotent). crs_capture_epoll_mark_is: whether the watch of
 * number tfd, inode ino, is the marker. */
#define CRS_EPOLL_MARK_DATA 0x52455649564d524bull   /* "REVIVMRK" */
void crs_capture_epoll_mark(void);
void crs_capture_epoll_mark_raise(void);
void crs_capture_epoll_unmark(void);
int crs_capture_epoll_mark_is(int tfd, uint64_t ino);
/* Whether this process's descriptor fd is what (its /proc/self/fd link, e.g.
 * "anon_inode:[signalfd]"; at most 31 bytes): 1 or 0 (capture_epoll_edges.c). */
int crs_fd_link_is(int fd, const char *what);
int crs_capture_epoll_edges(struct crs_capture *c);
int crs_capture_epoll_settle(struct crs_capture *c, char *err, size_t errlen);
/* A pidfd (capture_pidfd.c): 0 when r is one (kind, target pid in memfd),
 * 1 when it is not, -errno with the message (one naming a process that the
 * restart cannot give back). */
int crs_capture_pidfd(struct crs_capture *c, struct crs_rec_fd *r, const char *link);
/* Sockets (capture_sockets.c): the record of the socket of r (added if new;
 * -1 when there are too many); once every descriptor is recorded, what each
 * is; capture_fds.c decides what becomes of one that cannot be restored
 * (inherited, --ignore-fds: 0; else 1 with the message kept). */
int crs_capture_socket_index(struct crs_capture *c, const struct crs_rec_fd *r);
int crs_capture_sockets(struct crs_capture *c);
int crs_capture_sockets_unrestorable(struct crs_capture *c, size_t sock);
/* The options set on the sockets the restart makes again (c->sockopts), once
 * crs_capture_sockets described them: 0, or -errno with the message. */
int crs_capture_sockopts(struct crs_capture *c);
/* Multicast group memberships (capture_mcast.c): the groups each restored
 * UDP or raw socket joined, with their source filters (c->mcasts,
 * c->mcast_srcs): 0, or -errno with the message. */
int crs_capture_mcast(struct crs_capture *c);

/* Raw IP and ICMP ping sockets (capture_raw.c): whether record s (family,
 * type and protocol read) is one; socket i's state and peer, 0, 1 refused
 * with the message (packets waiting: c->passing), or -errno. */
int crs_capture_is_raw(const struct crs_rec_socket *s);
int crs_capture_raw(struct crs_capture *c, size_t i);
/* The first max blank-separated fields of a /proc/net/{tcp,tcp6,raw,raw6,icmp,icmp6} line ("N:
 * LOCAL REMOTE ST TX:RX TR:WHEN RETR UID TIMEOUT INODE ..."), not copied: tok[k] points into
 * line, toklen[k] its length. Returns how many were found (capture_sockets.c). */
size_t crs_capture_net_fields(const char *line, const char **tok, size_t *toklen, size_t max);
/* The IPv6 socket fd's outgoing multicast interface (IPV6_MULTICAST_IF)
 * when it names one this host has now: its index, its name into name
 * (CRS_MCAST_IFNAME_MAX bytes); else 0 (the option, if set, stays a
 * SOCKOPTS record by index). */
int crs_capture_mcast_if6(int fd, char *name);
/* Who gets each descriptor's I/O signal, and which (c->fdowns), once the
 * descriptors and the threads are recorded: 0, or -errno with the message
 * (an owner outside the process and its group, without --tree). */
int crs_capture_fd_owners(struct crs_capture *c);
/* Does this process hold a POSIX lock on the file? Then capture must not
 * open it itself: closing that descriptor would release the lock. */
int crs_capture_posix_locked(struct crs_capture *c, uint64_t dev, uint64_t ino);
/* Writes memory and all sections through w (already opened on the image fd). */
int crs_capture_write(struct crs_capture *c, struct crs_image_writer *w);

/* Thread-directed pending signals of `tid` (bit n-1 = signal n). */
uint64_t crs_thread_pending(int tid, struct crs_capture *c);

/* The memfd record for shared memory object `ino` (added if new), grown to
 * at least min_size; mapname names it as /proc shows it. */
int crs_capture_memfd_index(struct crs_capture *c, uint64_t ino, const char *mapname, uint64_t min_size);

/* The descriptors open when the process started (called once, at init; a
 * forked child keeps its parent's), and after a restart: those a capture
 * found inherited are what the restarted process inherited. */
void crs_inherited_note(void);
void crs_inherited_after_restart(void);

/* Saved files (capture_fobjs.c). The index of the one with this device and
 * inode (added if new; name as /proc shows it, mode 0 if unknown), or -1
 * when there are too many; whether a path lies in /dev/shm; a descriptor of
 * the process that reads one; once every descriptor and mapping is known,
 * how to read each and its extents (checks opts.file_data_max); FDATA's
 * bytes (bounce: CRS_CHUNK_MAX bytes; mem_fd: /proc/self/mem); closing the
 * descriptors opened for reading. */
int crs_capture_fobj_index(struct crs_capture *c, uint64_t dev, uint64_t ino, const char *name, uint32_t mode,
                           uint64_t min_size);
int crs_capture_is_shm_path(const char *path);
/* Whether a file (as /proc names it, perhaps deleted) of device dev lies on
 * hugetlbfs: a deleted one is kept as shared memory on huge pages instead. */
int crs_capture_on_hugetlbfs(const char *path, uint64_t dev);
/* log2 of the page size of the hugetlbfs file open as fd; 0 elsewhere. */
uint32_t crs_capture_huge_shift(int fd);
void crs_capture_fobj_reader(struct crs_capture *c, int i, int fd, uint32_t open_flags);
int crs_capture_fobj_plan(struct crs_capture *c);
/* Whether another member of the tree saves the bytes of the file or shared
 * memory (dev, ino) (crs_ckpt_opts.tree_elsewhere): this image names it
 * without them. */
int crs_capture_elsewhere(const struct crs_capture *c, uint64_t dev, uint64_t ino);
int crs_capture_fobj_write(struct crs_capture *c, struct crs_image_writer *w, char *bounce, int mem_fd);
void crs_capture_fobj_release(struct crs_capture *c);

/* Helpers shared by the capture files. */
void crs_capture_error(struct crs_capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The end of a refusal that offers --ignore-fds (", or checkpoint with ..."),
 * or "" when the caller has no such option (no_ignore_hint). */
const char *crs_capture_ignore_hint(const struct crs_capture *c);
char *crs_capture_strdup(struct crs_capture *c, const char *s);
/* Another process holding what /proc/PID/fd shows as `link` ("pipe:[N]",
 * "socket:[N]"): its pid, its name in comm (cap bytes, "" when unknown), or
 * 0 when no process we may look at holds it. For refusals' messages: it
 * reads every process's descriptors. */
pid_t crs_capture_holder(const char *link, char *comm, size_t cap);

#endif

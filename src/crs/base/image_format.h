/*
 * The Revive process image format, versions 1 and 2.
 *
 * One image holds one process. All integers are little-endian (x86_64 only).
 * Layout, relative to the byte where the writer started (usually 0):
 *
 *   0        struct crs_image_header, padded to CRS_IMAGE_ALIGN
 *   4096     page data: chunks, each starting on a CRS_IMAGE_ALIGN boundary
 *   ...      metadata sections, each an array of fixed-size records
 *   ...      the section table: header.section_count struct crs_section_entry
 *   image_size  end of the image; bytes after it (an older, longer file that
 *            was written over) are ignored
 *
 * Integrity: the header carries an XXH3-64 of itself and of the section table;
 * each table entry carries an XXH3-64 of its section; each chunk record carries
 * an XXH3-64 of the chunk's stored bytes. A reader checks every bound and
 * checksum before it uses a byte.
 *
 * Strings (paths, names) live in the STRINGS section and are referenced by
 * struct crs_strref; each referenced string is NUL-terminated inside it.
 *
 * Versions: version 2 adds the EXT section kind (extensions: state another
 * layer, such as the MPI layer, keeps in the image without crs reading it)
 * and nothing else. Version 3 adds kernel objects: new section kinds (each
 * marked "version 3" below) and new values in version-1 records (descriptor
 * kinds from CRS_FD_INHERITED on, region kinds and flags marked so).
 * Version 4 adds the SIGINFO section kind (queued signals with their
 * siginfo) and nothing else. Version 5 adds one descriptor kind,
 * CRS_FD_PIDFD, and nothing else. Version 6 adds two values: a CRS_FD_PIDFD
 * record whose `memfd` is 0 (a pidfd of a process that had ended and been
 * waited for) and a timer's `pending` (its signal queued). Version 7 adds the
 * CREDS section kind (the process's real, effective and saved ids and its
 * supplementary groups) and nothing else. Version 8 adds the EPOLLVIA
 * section kind (an epoll's watch of a descriptor number closed since, whose
 * file another descriptor holds) and nothing else. Version 9 adds values
 * only: process flags CRS_PROC_F_SUBREAPER and CRS_PROC_F_CAPS (with the
 * main thread's capabilities in what was reserved), a thread's pdeathsig,
 * a saved file's flags (CRS_FOBJ_F_ELSEWHERE, a tree's member). Version
 * 10 adds values only: a thread-directed timer's (SIGEV_THREAD_ID) `pending`,
 * the process flag CRS_PROC_F_CAPSET (ambient and bounding sets). Version
 * 11 adds System V shared memory, a saved file of kind CRS_FOBJ_SYSV (its
 * key and permissions in what was reserved, the flag CRS_FOBJ_F_REMOVED)
 * mapped by CRS_REGION_FOBJ regions, which may carry
 * CRS_REGION_F_SHM_RDONLY; a thread's securebits (CRS_THREAD_F_SECUREBITS);
 * and the THREADCAPS section kind (threads whose capability sets differ
 * from the process's). Version 12 adds the SYSVIPC and SYSVIPCDATA
 * section kinds (System V semaphore sets and message queues the process
 * used, with their values, its SEM_UNDO adjustments and queued messages).
 * Version 13 adds the SOCKOPTS section kind (the options set on sockets)
 * and nothing else. Version 14 adds the EPOLLEDGE section kind
 * (edge-triggered epoll watches whose edge the program had consumed) and
 * nothing else. Version 15 adds the FDOWNERS section kind (who gets a
 * descriptor's I/O signal, and which signal) and nothing else. Version 16
 * adds the THREADATTR section kind (each thread's nice value, scheduling
 * policy, CPU affinity, timer slack, no_new_privs and personality, where the
 * program changed them) and the process flag CRS_PROC_F_NODUMP, and the
 * SECCOMP and SECCOMPDATA section kinds (the seccomp filters the program
 * installed, and how many of them each thread ran under). Versions 17
 * and 18 are unused: assigned to work on other branches that landed
 * without them, no Revive writes them and a reader refuses them (a reader
 * taking them would read an image of such a branch's build as a version-16
 * one). Version 19
 * adds one value: a pipe's flag CRS_PIPE_F_FIFO (a FIFO, named pipe, whose
 * descriptors' paths name it) and nothing else. Version 20 adds the MCAST
 * and MCASTSRC section kinds (the multicast groups sockets joined, with
 * their source filters) and nothing else. Version 21 adds one region flag,
 * CRS_REGION_F_SAVED: a writable shared file mapping whose pages within the
 * file's size the image holds (cr_checkpoint --save-shared), written back
 * into the file at restart; such a region may hold chunks. A
 * writer writes the lowest version that holds its sections and values:
 * version 1 for an image with none of the newer ones, so that readers of
 * version 1 still read it; a reader refuses a version it does not know, and
 * a section kind or value newer than the image's version. A reader reads
 * CRS_IMAGE_VERSION_MIN to CRS_IMAGE_VERSION, but for the unused versions
 * (CRS_IMAGE_VERSION_UNUSED).
 */
#ifndef REVIVE_CRS_IMAGE_FORMAT_H
#define REVIVE_CRS_IMAGE_FORMAT_H

#include <stdint.h>

#define CRS_IMAGE_MAGIC "REVIVEIM"
#define CRS_IMAGE_VERSION 21u    /* the newest version this Revive reads and writes */
#define CRS_IMAGE_VERSION_MIN 1u /* the oldest it reads */
/* Versions no Revive defines (see above): refused by the reader, never written. */
#define CRS_IMAGE_VERSION_UNUSED(v) ((v) == 17u || (v) == 18u)
#define CRS_IMAGE_ALIGN 4096u
/* Largest uncompressed chunk the writer emits; readers refuse larger ones. */
#define CRS_CHUNK_MAX (4u << 20)

/* header.flags */
#define CRS_IMAGE_F_COMPRESSED 0x1u /* at least one chunk is zstd-compressed */

struct crs_image_header {
    char magic[8];              /* CRS_IMAGE_MAGIC, not NUL-terminated */
    uint32_t version;           /* CRS_IMAGE_VERSION_MIN..CRS_IMAGE_VERSION but the unused (see above) */
    uint32_t header_size;       /* sizeof(struct crs_image_header) */
    uint64_t image_size;        /* bytes from the header to the end of the table */
    uint64_t table_offset;      /* of the section table, from the header */
    uint32_t section_count;
    uint32_t page_size;         /* of the writer's machine */
    uint64_t table_checksum;    /* XXH3-64 of the section table */
    uint64_t created_ns;        /* CLOCK_REALTIME when the image was taken */
    int32_t pid;                /* of the checkpointed process */
    uint32_t flags;             /* CRS_IMAGE_F_* */
    char kernel_release[65];    /* uname -r of the writer, NUL-terminated */
    char machine[15];           /* uname -m of the writer, NUL-terminated */
    uint64_t xfeatures;         /* XCR0: the CPU state components in use */
    uint32_t xsave_size;        /* CPUID(0xd,0).EBX: bytes of saved FPU state */
    uint32_t reserved0;
    uint64_t reserved[8];
    uint64_t header_checksum;   /* XXH3-64 of all bytes above this field */
};

enum crs_section_type {
    CRS_SEC_PROCESS = 1,   /* one struct crs_rec_process */
    CRS_SEC_THREADS = 2,   /* struct crs_rec_thread[], the main thread first */
    CRS_SEC_REGIONS = 3,   /* struct crs_rec_region[], ascending addresses */
    CRS_SEC_CHUNKS = 4,    /* struct crs_rec_chunk[], ascending addresses */
    CRS_SEC_FILES = 5,     /* struct crs_rec_file[]: files mapped by reference */
    CRS_SEC_FDS = 6,       /* struct crs_rec_fd[], ascending fd numbers */
    CRS_SEC_SIGNALS = 7,   /* struct crs_rec_sigaction[64], signal 1..64 */
    CRS_SEC_STRINGS = 8,   /* raw bytes */
    CRS_SEC_MEMFDS = 9,    /* struct crs_rec_memfd[]: shared memory objects */
    CRS_SEC_AUXV = 10,     /* uint64_t pairs, as /proc/self/auxv */
    CRS_SEC_PIPES = 11,    /* struct crs_rec_pipe[]: pipes with both ends in the process */
    CRS_SEC_PIPEDATA = 12, /* raw bytes: what those pipes held */
    CRS_SEC_EXT = 13,      /* version 2: one extension: struct crs_ext_head, then its
                            * owner's bytes; the only type that may appear more than once */
    CRS_SEC_FOBJS = 14,    /* version 3: struct crs_rec_fobj[]: files whose bytes the image holds */
    CRS_SEC_FEXTENTS = 15, /* version 3: struct crs_rec_fextent[]: where those bytes are */
    CRS_SEC_FDATA = 16,    /* version 3: raw bytes: the files' bytes, extent after extent */
    CRS_SEC_TIMERS = 17,   /* version 3: struct crs_rec_timer[]: POSIX timers, ascending ids */
    CRS_SEC_LOCKS = 18,    /* version 3: struct crs_rec_lock[]: file locks, by descriptor */
    CRS_SEC_KFDS = 19,     /* version 3: struct crs_rec_kfd[]: eventfd, timerfd, signalfd, epoll,
                            * inotify instances */
    CRS_SEC_EPOLLTGTS = 20, /* version 3: struct crs_rec_epoll_tgt[]: what each epoll watches */
    CRS_SEC_INWATCHES = 21, /* version 3: struct crs_rec_inwatch[]: what each inotify watches */
    CRS_SEC_SOCKETS = 22,  /* version 3: struct crs_rec_socket[]: sockets */
    CRS_SEC_SOCKDATA = 23, /* version 3: raw bytes: what the sockets' receive queues held */
    CRS_SEC_SIGINFO = 24,  /* version 4: struct crs_rec_siginfo[]: queued real-time signals, oldest first */
    CRS_SEC_CREDS = 25,    /* version 7: uint32_t[]: CRS_CREDS_IDS ids (real, effective, saved uid,
                            * then real, effective, saved gid), then the supplementary groups */
    CRS_SEC_EPOLLVIA = 26, /* version 8: struct crs_rec_epoll_via[]: watches of descriptors closed
                            * since, and where their file is open now */
    CRS_SEC_THREADCAPS = 27, /* version 11: struct crs_rec_thread_caps[]: the threads whose capability
                              * sets differ from the process's (CRS_PROC_F_CAPSET), in THREADS' order */
    CRS_SEC_SYSVIPC = 28,  /* version 12: struct crs_rec_sysvipc[]: System V semaphore sets and
                            * message queues */
    CRS_SEC_SYSVIPCDATA = 29, /* version 12: raw bytes: their values, adjustments and messages */
    CRS_SEC_SOCKOPTS = 30, /* version 13: struct crs_rec_sockopt[]: options set on sockets */
    CRS_SEC_EPOLLEDGE = 31, /* version 14: struct crs_rec_epoll_edge[]: edge-triggered watches whose
                             * edge the program had consumed */
    CRS_SEC_FDOWNERS = 32, /* version 15: struct crs_rec_fdown[]: descriptors' I/O signal owners */
    CRS_SEC_THREADATTR = 33, /* version 16: struct crs_rec_thread_attr[]: one per THREADS record, in
                              * its order, when some thread's attributes differ from its launcher's */
    CRS_SEC_SECCOMP = 34,  /* version 16: struct crs_rec_seccomp[]: the program's seccomp filters, in the
                            * order they went in */
    CRS_SEC_SECCOMPDATA = 35, /* version 16: struct sock_filter[] (8 bytes each): their programs */
    CRS_SEC_MCAST = 36,    /* version 20: struct crs_rec_mcast[]: multicast groups sockets joined */
    CRS_SEC_MCASTSRC = 37, /* version 20: struct crs_rec_mcast_src[]: their filters' sources */
    CRS_SEC__MAX
};

/* The ids that open the CREDS section; at most CRS_CREDS_GROUPS_MAX groups follow. */
#define CRS_CREDS_IDS 6
#define CRS_CREDS_GROUPS_MAX 65536

/* Sections in one image: each type at most once, EXT up to CRS_EXT_MAX times. */
#define CRS_SECTIONS_MAX (CRS_SEC__MAX - 2 + CRS_EXT_MAX)

struct crs_section_entry {
    uint32_t type;        /* enum crs_section_type; each type at most once except EXT */
    uint32_t record_size; /* size of one record (1 for STRINGS, PIPEDATA and EXT) */
    uint64_t offset;      /* from the header */
    uint64_t size;        /* bytes; a multiple of record_size */
    uint64_t checksum;    /* XXH3-64 of the section's bytes */
};

struct crs_strref {
    uint32_t offset; /* into the STRINGS section */
    uint32_t length; /* without the terminating NUL; 0 with offset 0 = none */
};

struct crs_rlimit_rec { uint64_t cur, max; };
struct crs_itimer_rec { int64_t interval_us, value_us; };

#define CRS_RLIMIT_COUNT 16

struct crs_rec_process {
    int32_t pid, ppid, pgid, sid;
    uint32_t uid, gid;
    uint32_t umask;
    uint32_t thread_count;
    struct crs_strref exe;  /* /proc/self/exe at checkpoint */
    struct crs_strref cwd;
    struct crs_strref cmdline; /* argv joined by spaces, for display */
    /* the kernel's view of the address space (prctl PR_SET_MM_MAP) */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    struct crs_rlimit_rec rlimits[CRS_RLIMIT_COUNT];
    struct crs_itimer_rec itimers[3]; /* ITIMER_REAL, _VIRTUAL, _PROF */
    uint64_t shared_pending;          /* process-directed pending signals, bit n-1 = signal n */
    uint32_t personality;             /* the main thread's (each thread's: THREADATTR) */
    uint32_t flags;                   /* CRS_PROC_F_* */
    uint64_t restart_info;            /* address inside libcr that cr_restart fills */
    /* with CRS_PROC_F_CAPS: the main thread's capabilities (capget: effective, permitted,
     * inheritable; bit n = capability n); 0 in older images (the fields were reserved) */
    uint64_t cap_eff, cap_prm, cap_inh;
    /* version 10, with CRS_PROC_F_CAPSET: its ambient and bounding sets too; every thread
     * had these five sets (the restart gives them to every thread) */
    uint64_t cap_amb, cap_bnd;
    uint64_t reserved[2];
};

#define CRS_PROC_F_RESTORE_PID 0x1u /* the writer asked for the pid to come back */
#define CRS_PROC_F_THP_DISABLE 0x2u /* version 3: prctl(PR_SET_THP_DISABLE): no transparent huge pages */
#define CRS_PROC_F_CTTY 0x4u        /* version 3: the process had a controlling terminal */
#define CRS_PROC_F_SUBREAPER 0x8u   /* version 9: prctl(PR_SET_CHILD_SUBREAPER): orphans come to it */
#define CRS_PROC_F_CAPS 0x10u       /* version 9: cap_eff, cap_prm, cap_inh are recorded (only when the
                                     * process dropped some of its bounding set's) */
#define CRS_PROC_F_CAPSET 0x20u     /* version 10: with CAPS, cap_amb and cap_bnd too: the restart sets
                                     * all five in every thread (a version 9 image's are only checked) */
#define CRS_PROC_F_NODUMP 0x40u     /* version 16: prctl(PR_SET_DUMPABLE, 0): no core dump, /proc files
                                     * root's, no ptrace by its user */

/* Registers a thread resumes with: those the x86_64 SysV ABI preserves across
 * a call, plus the stack pointer and the address to jump to. */
struct crs_cpu_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
    uint32_t mxcsr;
    uint16_t fpucw;
    uint16_t pad;
};

#define CRS_THREAD_F_MAIN 0x1u    /* the thread-group leader (tid == pid) */
#define CRS_THREAD_F_MANAGER 0x2u /* Revive's own checkpoint thread */
#define CRS_THREAD_F_SECUREBITS 0x4u /* version 11: `securebits` holds the thread's (PR_GET_SECUREBITS,
                                      * not 0); the restart sets them in that thread */

struct crs_rec_thread {
    int32_t tid;
    uint32_t flags;           /* CRS_THREAD_F_* */
    uint64_t fsbase;          /* TLS base */
    uint64_t clear_child_tid; /* set_tid_address() of the thread */
    uint64_t robust_list;     /* set_robust_list() head and length */
    uint64_t robust_len;
    uint64_t rseq;            /* registered rseq area, 0 if none */
    uint32_t rseq_len, rseq_sig;
    uint64_t altstack_sp;
    uint64_t altstack_size;
    int32_t altstack_flags;
    uint32_t pad;
    uint64_t pending;         /* thread-directed pending signals */
    uint64_t blocked;         /* signal mask when it was stopped */
    uint64_t record;          /* address of the thread's record in the image's memory */
    struct crs_cpu_ctx ctx;
    char comm[16];            /* the thread's name (prctl PR_GET_NAME), NUL-terminated */
    uint32_t pdeathsig;       /* version 9: prctl(PR_SET_PDEATHSIG) of the thread, 0: none (was reserved) */
    uint32_t pad2;
    uint32_t securebits;      /* version 11, with CRS_THREAD_F_SECUREBITS: SECBIT_* (was reserved) */
    uint32_t reserved;
};

/* A thread's five capability sets (version 11) where they differ from the
 * process's (crs_rec_process: those of its main thread); the restart gives
 * each thread its own (capset is per thread). */
struct crs_rec_thread_caps {
    int32_t tid;              /* a THREADS record's */
    uint32_t reserved0;
    uint64_t eff, prm, inh, amb, bnd;
    uint64_t reserved;
};

/* A thread's scheduling and prctl attributes (version 16): each flag says
 * that the program changed that attribute (it differs from what the process
 * had when libcr started: its launcher's), and the restart sets it again in
 * that thread (they are all per thread); the others are left as cr_restart
 * has them. */
#define CRS_TATTR_F_NICE 0x1u       /* `nice` (setpriority PRIO_PROCESS of the thread) */
#define CRS_TATTR_F_SCHED 0x2u      /* `policy` and `priority` (sched_setscheduler) */
#define CRS_TATTR_F_AFFINITY 0x4u   /* `cpus` (sched_setaffinity) */
#define CRS_TATTR_F_SLACK 0x8u      /* `timerslack_ns` (prctl PR_SET_TIMERSLACK) */
#define CRS_TATTR_F_NNP 0x10u       /* no_new_privs set (prctl PR_SET_NO_NEW_PRIVS) */
#define CRS_TATTR_F_PERSONALITY 0x20u /* `personality` (personality(2): the kernel keeps it per thread) */
#define CRS_TATTR__FLAGS 0x3fu
#define CRS_TATTR_CPUS_MAX 1024u    /* CPUs an affinity mask holds */

struct crs_rec_thread_attr {
    int32_t tid;              /* its THREADS record's */
    uint32_t flags;           /* CRS_TATTR_F_* */
    int32_t nice;             /* -20..19 */
    uint32_t policy;          /* SCHED_OTHER, _FIFO, _RR, _BATCH, _IDLE, with SCHED_RESET_ON_FORK */
    uint32_t priority;        /* sched_priority: 1..99 for FIFO and RR, else 0 */
    uint32_t seccomp;         /* the SECCOMP records it ran under: the first `seccomp` of them (above
                               * those it inherited from its launcher) */
    uint64_t timerslack_ns;
    uint64_t cpus[CRS_TATTR_CPUS_MAX / 64]; /* affinity: bit n of word n / 64 = CPU n */
    uint32_t personality;     /* PER_LINUX, ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC... */
    uint32_t reserved0;
    uint64_t reserved[3];
};

/*
 * The seccomp filters the program installed itself (version 16), in the
 * order they went in; those the process inherited from its launcher (a
 * container runtime's, cr_run's) are not saved: a restart runs under
 * cr_restart's. Each thread ran under the first n of them (THREADATTR
 * `seccomp`). The restart installs them last, once the restored process
 * runs: those every thread had from one thread with
 * SECCOMP_FILTER_FLAG_TSYNC (so they are shared as the kernel shares
 * inherited ones), the others by each thread that had them.
 */
struct crs_rec_seccomp {
    uint32_t flags;           /* SECCOMP_FILTER_FLAG_* it was installed with (LOG, SPEC_ALLOW, TSYNC) */
    uint32_t len;             /* instructions: 1..4096 */
    uint64_t data;            /* index of its first instruction in SECCOMPDATA */
    uint32_t inherited;       /* the filters the process inherited, beneath these (the same in each) */
    uint32_t reserved0;
    uint64_t reserved;
};
#define CRS_SECCOMP_LEN_MAX 4096u   /* BPF_MAXINSNS */

enum crs_region_kind {
    CRS_REGION_ANON = 1,     /* private anonymous (incl. [heap], [stack]) */
    CRS_REGION_FILE = 2,     /* private file mapping: file by reference, written pages by content */
    CRS_REGION_FILE_SHARED = 3, /* shared file mapping: the file holds the data (but with
                                 * CRS_REGION_F_SAVED) */
    CRS_REGION_SHMEM = 4,    /* shared anonymous or memfd: a crs_rec_memfd */
    CRS_REGION_VDSO = 5,     /* [vdso], [vvar], [vvar_vclock]: the kernel's; moved, never stored */
    /* version 3 */
    CRS_REGION_FOBJ = 6,     /* shared mapping of a file whose bytes the image holds (a deleted file,
                              * one in /dev/shm): `file` indexes FOBJS; no pages stored */
};
#define CRS_REGION__LAST CRS_REGION_FOBJ
#define CRS_REGION__LAST_V1 CRS_REGION_VDSO

#define CRS_REGION_F_GROWSDOWN 0x1u /* the main stack */
#define CRS_REGION_F_HEAP 0x2u      /* [heap] */
#define CRS_REGION_F_STACK 0x4u     /* [stack] */
#define CRS_REGION_F_SHM_RDONLY 0x8u /* version 11: a System V segment attached SHM_RDONLY */
/* version 21: a FILE_SHARED region whose pages within the file's size (at the checkpoint,
 * files[].size) are chunks of the image, every one of them (zeros too): the restart writes them
 * into the file through the mapping before the program runs, lengthening a file that is shorter
 * by then to that size (cr_checkpoint --save-shared) */
#define CRS_REGION_F_SAVED 0x10u

struct crs_rec_region {
    uint64_t start, end;     /* page-aligned, end exclusive */
    uint32_t prot;           /* PROT_* */
    uint32_t kind;           /* enum crs_region_kind */
    uint32_t flags;          /* CRS_REGION_F_* */
    int32_t file;            /* index into FILES (FILE, FILE_SHARED) or MEMFDS (SHMEM); else -1 */
    uint64_t pgoff;          /* file offset of start, in bytes */
    struct crs_strref name;  /* as /proc/self/maps shows it */
    uint32_t madvise;        /* version 3: CRS_MADV_* advice in force (0 in older images) */
    uint32_t page_shift;     /* version 3: log2 of its page size when it is huge (MAP_HUGETLB,
                              * 21 or 30), 0 for the image's page size */
    /* with CRS_REGION_F_SAVED: CLOCK_REALTIME (ns) when the capture had read the region's pages
     * (written from session 36 on, within version 21, in what was reserved; 0 in older images
     * and in every other region): of several processes' copies of one file, the one read last
     * is written back (tools/snapc/restart_saved.h) */
    uint64_t saved_ns;
};

/* region.madvise (version 3): what madvise(2) said of the memory */
#define CRS_MADV_HUGEPAGE 0x1u    /* MADV_HUGEPAGE */
#define CRS_MADV_NOHUGEPAGE 0x2u  /* MADV_NOHUGEPAGE */
#define CRS_MADV_DONTFORK 0x4u    /* MADV_DONTFORK */
#define CRS_MADV_DONTDUMP 0x8u    /* MADV_DONTDUMP */
#define CRS_MADV_WIPEONFORK 0x10u /* MADV_WIPEONFORK */
#define CRS_MADV_MERGEABLE 0x20u  /* MADV_MERGEABLE (KSM) */
#define CRS_MADV_SEQUENTIAL 0x40u /* MADV_SEQUENTIAL */
#define CRS_MADV_RANDOM 0x80u     /* MADV_RANDOM */
#define CRS_MADV__ALL 0xffu

#define CRS_CHUNK_ZSTD 1u

struct crs_rec_chunk {
    uint64_t vaddr;          /* where the bytes go; page-aligned */
    uint64_t length;         /* uncompressed bytes; a multiple of page_size, <= CRS_CHUNK_MAX */
    uint64_t data_offset;    /* from the header; CRS_IMAGE_ALIGN-aligned */
    uint64_t stored_length;  /* bytes at data_offset (== length when uncompressed) */
    uint64_t checksum;       /* XXH3-64 of the stored bytes */
    uint32_t compression;    /* 0 or CRS_CHUNK_ZSTD */
    uint32_t reserved;
};

#define CRS_BUILD_ID_MAX 32

struct crs_rec_file {
    struct crs_strref path;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    uint32_t mode;
    uint32_t build_id_len;   /* 0: no GNU build id note */
    uint8_t build_id[CRS_BUILD_ID_MAX];
};

struct crs_rec_memfd {
    struct crs_strref name;  /* memfd name, or empty for shared anonymous memory */
    uint64_t size;           /* file size to recreate */
    uint64_t ino;            /* inode at checkpoint, to match regions and fds */
    uint32_t seals;
    uint32_t page_shift;     /* version 3: log2 of its huge page size (MFD_HUGETLB, a deleted
                              * hugetlbfs file, shared MAP_HUGETLB memory), 0 for ordinary pages */
};

enum crs_fd_kind {
    CRS_FD_REGULAR = 1,      /* reopened by path at its offset */
    CRS_FD_DIRECTORY = 2,    /* reopened by path */
    CRS_FD_CHARDEV = 3,      /* reopened by path (/dev/null, /dev/zero, /dev/urandom ...); with a
                              * FIFO's mode (S_IFIFO), a FIFO's reader no writer had opened yet,
                              * empty: opened by path non-blocking (no writer to wait for), then
                              * given its flags */
    CRS_FD_INHERIT = 4,      /* a standard stream (tty, pipe, /dev/null): cr_restart's own */
    CRS_FD_MEMFD = 5,        /* the recreated memfd (index in `memfd`) */
    CRS_FD_CLOSED = 6,       /* not restorable; recorded as closed (by option) */
    CRS_FD_PIPE = 7,         /* an end of a pipe whose both ends the process holds, or whose other end
                              * was closed everywhere (index in `memfd`; the restart closes the
                              * end no descriptor names) */
    /* version 3 */
    CRS_FD_INHERITED = 8,    /* open when the process started (its launcher's: a pipe to a shell, a
                              * job server's pipe, a socket), of a kind Revive cannot reopen: at
                              * restart cr_restart's own descriptor of that number if it has one
                              * of the same type (mode) and access, else closed; with `dup_of`
                              * 0, 1 or 2 it was on that standard stream's file (a dup(1), an
                              * open of /dev/stderr): the restart's stream of that number */
    CRS_FD_FOBJ = 9,         /* a file whose bytes the image holds (index in `memfd` into FOBJS),
                              * reopened with its flags at its offset */
    /* kernel objects made by a system call; index in `memfd` into KFDS */
    CRS_FD_EVENTFD = 10,     /* eventfd: its count */
    CRS_FD_TIMERFD = 11,     /* timerfd: its clock, time left, interval, expirations unread */
    CRS_FD_SIGNALFD = 12,    /* signalfd: its mask */
    CRS_FD_EPOLL = 13,       /* epoll: the descriptors it watches, with their events and data */
    CRS_FD_INOTIFY = 14,     /* inotify: its watches, under their numbers */
    CRS_FD_SOCKET = 15,      /* a socket (index in `memfd` into SOCKETS) */
    /* version 5 */
    CRS_FD_PIDFD = 16,       /* a pidfd (pidfd_open, clone3 CLONE_PIDFD) of the process itself or of
                              * another process of its tree: `memfd` holds that process's pid as the
                              * process saw it (its own pid: the process itself, whatever its pid
                              * after a restart); open_flags O_NONBLOCK, O_EXCL (PIDFD_THREAD).
                              * Opened again (pidfd_open) once every process of the tree is back.
                              * Version 6: `memfd` 0 names a process that had ended and been
                              * waited for, `offset` its wait status as the kernel kept it
                              * (PIDFD_GET_INFO's exit code), or -1 when the kernel did not say:
                              * made again from a child that ends so and is waited for */
};
#define CRS_FD__LAST CRS_FD_PIDFD
#define CRS_FD__LAST_V3 CRS_FD_SOCKET /* the last kind a version 3 or 4 image may hold */
#define CRS_FD__LAST_V1 CRS_FD_PIPE   /* the last kind a version 1 or 2 image may hold */

/* Version 19: a FIFO (mkfifo), not a pipe(2): the restart opens its path (the
 * path of the descriptors that name it) read-write, puts its bytes back and
 * opens each descriptor's file on it again with the descriptor's access
 * (O_RDONLY, O_WRONLY or O_RDWR). */
#define CRS_PIPE_F_FIFO 1u

struct crs_rec_pipe {
    uint64_t ino;            /* pipe inode at checkpoint, to match descriptors */
    uint32_t capacity;       /* F_GETPIPE_SZ */
    uint32_t flags;          /* CRS_PIPE_F_*; 0 before version 19 */
    uint64_t data_offset;    /* into PIPEDATA: the bytes the pipe held, oldest first */
    uint64_t data_length;
};

struct crs_rec_fd {
    int32_t fd;
    uint32_t kind;           /* enum crs_fd_kind */
    uint32_t open_flags;     /* fcntl F_GETFL */
    uint32_t fd_flags;       /* fcntl F_GETFD (FD_CLOEXEC) */
    int64_t offset;          /* lseek(fd, 0, SEEK_CUR), -1 if not seekable */
    struct crs_strref path;
    int32_t memfd;           /* index into MEMFDS for CRS_FD_MEMFD, PIPES for CRS_FD_PIPE, FOBJS
                              * for CRS_FD_FOBJ, KFDS for CRS_FD_EVENTFD..INOTIFY, SOCKETS for
                              * CRS_FD_SOCKET; the target's pid for CRS_FD_PIDFD; else -1 */
    uint32_t mode;           /* st_mode */
    uint64_t dev, ino;
    int32_t dup_of;          /* a lower fd sharing the same open file (offset, flags), or -1 */
    uint32_t reserved;
};

/*
 * Files whose bytes the image holds (version 3): files deleted while open
 * (unlinked scratch files, gfortran STATUS='SCRATCH' units, tmpfile(),
 * O_TMPFILE) and files in /dev/shm (POSIX shared memory), so that the image
 * survives their loss (a reboot, another node). Descriptors (CRS_FD_FOBJ)
 * and shared mappings (CRS_REGION_FOBJ) refer to them by index. Their data
 * extents (holes are not stored) are FEXTENTS records in file order, each
 * checksummed, whose bytes lie in FDATA.
 */
enum crs_fobj_kind {
    CRS_FOBJ_DELETED = 1,    /* removed while open: recreated unnamed (O_TMPFILE) in its folder,
                              * else in $TMPDIR or /tmp, else in memory (memfd) */
    CRS_FOBJ_SHM = 2,        /* in /dev/shm: recreated under its name, holding these bytes */
    CRS_FOBJ_MEMFD = 3,      /* the bytes of a memfd (MEMFDS record of the same inode) that its
                              * mappings do not hold whole: written into the recreated memfd */
    CRS_FOBJ_SYSV = 4,       /* version 11: a System V shared memory segment (shmget), mapped by
                              * the regions that name it (shmat); `ino` is its id at checkpoint,
                              * `size` its size (shm_segsz), `path` "/SYSV" and its key in hex.
                              * Made again under that id when the kernel lets the restart choose
                              * it (kernel.shm_next_id) and its key when free, see
                              * restore_sysv.c; its bytes filled in, then attached at the
                              * regions' addresses */
};

struct crs_rec_fobj {
    struct crs_strref path;  /* as /proc showed it, without " (deleted)" */
    uint32_t kind;           /* enum crs_fobj_kind */
    uint32_t mode;           /* st_mode */
    uint64_t dev, ino;       /* at checkpoint, to match descriptors and mappings */
    uint64_t size;           /* file size */
    uint32_t first_extent;   /* its extents: FEXTENTS[first_extent, first_extent + nextents) */
    uint32_t nextents;
    uint64_t flags;          /* version 9: CRS_FOBJ_F_*; 0 before (the field was reserved) */
    int32_t sysv_key;        /* version 11, CRS_FOBJ_SYSV: the segment's key (0: IPC_PRIVATE) */
    uint32_t sysv_mode;      /* version 11, CRS_FOBJ_SYSV: its permissions (shm_perm.mode & 0777);
                              * both 0 before (the field was reserved) */
};
/* A member of a process tree (crs/base/tree.h): another member's image
 * holds the file's bytes (none here); only the tree's restart, which makes
 * the file once for all of them (CRS_TREE_G_OBJECT), can restore it. */
#define CRS_FOBJ_F_ELSEWHERE 0x1u
/* Version 11, CRS_FOBJ_SYSV: the segment was marked removed (IPC_RMID) while
 * attached; the restart marks it so again once every process that had it
 * attached has it attached again. */
#define CRS_FOBJ_F_REMOVED 0x2u

/*
 * System V semaphore sets and message queues (version 12). Nothing in /proc
 * ties one to a process: libcr notes the ids the program's semget, semop,
 * semctl, msgget, msgsnd, msgrcv and msgctl calls name (and the adjustments
 * its SEM_UNDO operations leave, which the kernel does not show), and each
 * one still there at the checkpoint is a record. Its data in SYSVIPCDATA,
 * at `data`, 8-byte aligned, `data_len` bytes (a multiple of 8):
 *   a semaphore set: `count` uint16_t values, then with CRS_SYSVIPC_F_UNDO
 *     `count` int16_t adjustments (what the kernel adds to each value when
 *     the process ends), zero-padded;
 *   a message queue: `count` messages, oldest first, each an int64_t type
 *     (> 0), a uint64_t length, then its bytes zero-padded to 8.
 * Restored by restore_sysvipc.c: under the old id when the kernel lets the
 * restart choose it, with the old key when free.
 */
enum crs_sysvipc_kind {
    CRS_SYSVIPC_SEM = 1,     /* a semaphore set (semget) */
    CRS_SYSVIPC_MSG = 2,     /* a message queue (msgget) */
};

struct crs_rec_sysvipc {
    uint32_t kind;           /* enum crs_sysvipc_kind */
    int32_t id;              /* at checkpoint */
    int32_t key;             /* 0: IPC_PRIVATE */
    uint32_t mode;           /* perm.mode & 0777 */
    uint32_t uid, gid;       /* its owner (perm.uid, perm.gid) */
    uint32_t count;          /* semaphores in the set; messages in the queue */
    uint32_t flags;          /* CRS_SYSVIPC_F_* */
    uint64_t qbytes;         /* a queue's msg_qbytes; 0 for a set */
    uint64_t note;           /* where libcr's note of the id is in the process's memory (0: none):
                              * the restart writes the new id there when it changes */
    uint64_t data, data_len; /* in SYSVIPCDATA */
};
/* A semaphore set the process has adjustments (SEM_UNDO) on: they follow its values. */
#define CRS_SYSVIPC_F_UNDO 0x1u
/* Limits the reader holds records to. */
#define CRS_SYSVIPC_SEMS_MAX 32000u    /* SEMMSL's largest value */
#define CRS_SYSVIPC_MSG_MAX (1u << 24) /* bytes of one message */

struct crs_rec_fextent {
    uint64_t offset;         /* in the file */
    uint64_t length;         /* bytes, 1 to CRS_CHUNK_MAX */
    uint64_t data_offset;    /* into FDATA */
    uint64_t checksum;       /* XXH3-64 of those bytes */
};

/*
 * POSIX timers (timer_create; version 3), recreated at restart under their
 * ids (the program holds them as its timer_t) with their notification,
 * their remaining time and their interval. A SIGEV_THREAD timer is one that
 * notifies a thread (SIGEV_THREAD_ID): libcr's own helper serves them (see
 * src/crs/libcr/timers.c), so it is restored like any thread-directed one.
 */
struct crs_rec_timer {
    int32_t id;              /* the kernel's timer id */
    int32_t clock;           /* clockid_t, as /proc/PID/timers shows it */
    int32_t notify;          /* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_SIGNAL | SIGEV_THREAD_ID */
    int32_t signo;
    uint64_t value;          /* sigev_value */
    int32_t tid;             /* the thread notified (SIGEV_THREAD_ID), as the process saw it */
    uint32_t reserved0;
    int64_t value_ns;        /* time left until it expires; 0: disarmed */
    int64_t interval_ns;     /* its period; 0: once */
    uint64_t pending;        /* version 6: 0, or 1 + the overrun of its own signal, which was queued
                              * and not yet taken: the restart makes the timer expire at once (a
                              * periodic one that many periods before its next expiry), so that the
                              * kernel queues that signal again with the timer's siginfo; version 10
                              * also of a thread-directed one (SIGEV_THREAD_ID: to its thread) */
    uint64_t reserved;
};

/*
 * Signals queued for the process (version 4), real-time and standard ones
 * and a POSIX timer's (made from its timer: SI_TIMER, id, value), each with
 * its siginfo (sender, si_code, value), in the order the kernel would deliver
 * them: several of one signal stay several, as sigqueue(3) made them. The
 * process's pending bit for such a signal (shared_pending) is set too; a
 * restart queues these records instead of raising the bit.
 */
struct crs_rec_siginfo {
    int32_t tid;             /* 0: process-directed; else the thread's (a restart queues a code >= 0
                              * or SI_TKILL to a thread other than the main one from that thread) */
    uint32_t reserved;
    uint8_t info[128];       /* siginfo_t as the kernel gave it (si_signo first) */
};

/*
 * File locks the process holds (version 3), taken again at restart on the
 * restored descriptor `fd` (one of the descriptors sharing the open file):
 * fcntl F_SETLK locks (the process's), F_OFD_SETLK locks and flock() locks
 * (the open file's). A restart fails, naming the file, when another process
 * holds a conflicting lock.
 */
enum crs_lock_kind {
    CRS_LOCK_POSIX = 1,      /* fcntl(F_SETLK) */
    CRS_LOCK_OFD = 2,        /* fcntl(F_OFD_SETLK) */
    CRS_LOCK_FLOCK = 3,      /* flock() */
};

struct crs_rec_lock {
    int32_t fd;
    uint32_t kind;           /* enum crs_lock_kind */
    uint32_t type;           /* F_RDLCK (flock: LOCK_SH) or F_WRLCK (LOCK_EX) */
    uint32_t reserved0;
    int64_t start;           /* first byte (0 for flock) */
    int64_t len;             /* bytes; 0: to the end of the file, however long */
};

/*
 * Kernel objects that a system call makes and a descriptor holds (version
 * 3): one record per open file (descriptors sharing it refer to the same
 * one), made again at restart with their state. An epoll's watches and an
 * inotify's watches follow in their own sections, [first, first + count).
 */
struct crs_rec_kfd {
    uint32_t kind;           /* CRS_FD_EVENTFD .. CRS_FD_INOTIFY */
    uint32_t flags;          /* eventfd: EFD_SEMAPHORE; timerfd: TFD_TIMER_ABSTIME as last set */
    int64_t a, b, c, d;      /* eventfd: a = count. timerfd: a = clock, b = ns left (0: disarmed),
                              * c = interval ns, d = expirations not read yet. signalfd: a = mask
                              * (bit n-1 = signal n). inotify: a = unread events kept in the
                              * process's memory, b = their bytes (base/inotify_saved.h) */
    uint32_t first, count;   /* epoll: EPOLLTGTS; inotify: INWATCHES */
    uint64_t reserved[2];
};

struct crs_rec_epoll_tgt {
    int32_t tfd;             /* the descriptor watched, as registered */
    uint32_t events;         /* EPOLLIN ... EPOLLET, EPOLLONESHOT (a fired one-shot: only its flags) */
    uint64_t data;           /* epoll_data */
};

/* An epoll watch (EPOLLTGTS record `target`) whose descriptor number tfd
 * the process closed after EPOLL_CTL_ADD while the file stays open under
 * descriptor `fd`: the kernel keeps watching that file under the old number
 * (EPOLL_CTL_ADD of `fd` itself is a new watch). */
struct crs_rec_epoll_via {
    uint32_t target;
    int32_t fd;
};

/* An edge-triggered epoll watch (EPOLLTGTS record `target`, EPOLLET
 * without EPOLLONESHOT) whose file was ready while its edge was already
 * reported to the program (epoll_wait returned it; the program did not
 * drain the file): a restart adds it and consumes the edge again before the
 * program runs, and the restored process takes it off the ready list again
 * once the restart's own wake-ups are done (signals queued again, inotify
 * fillers), so that it is not reported a second time. Records in
 * ascending `target` order. An ET watch without a record had its edge
 * waiting, or its file was not ready (no edge either way; images of
 * Revive before this session recorded those too), or its epoll was not
 * probed (one of its ET watches is of a number closed since); an image
 * without the section (before version 14) has none. */
struct crs_rec_epoll_edge {
    uint32_t target;
    uint32_t flags;          /* CRS_EPOLL_EDGE_CONSUMED */
};
#define CRS_EPOLL_EDGE_CONSUMED 0x1u

struct crs_rec_inwatch {
    int32_t wd;              /* the watch's number, ascending within an inotify */
    uint32_t mask;           /* IN_* events and flags */
    struct crs_strref path;  /* what it watches (by path: the number and mask are the kernel's) */
    uint64_t reserved;
};

/*
 * Sockets (version 3) that can come back without anyone outside the
 * process: unbound or bound ones, listening ones (bound again; a restart
 * fails when another process holds the address), and connections whose
 * both ends the process holds (socketpairs, a Unix or TCP connection to
 * itself), with what their receive queues held. A connection made through
 * one of the process's listening sockets is made through it again (accepted
 * ones before those still waiting in its queue), so both ends keep their
 * addresses; a socketpair is a socketpair again.
 * Raw IP sockets (SOCK_RAW of AF_INET or AF_INET6, any protocol; issue 10)
 * are UNBOUND or BOUND (their address as getsockname gives it: the "port"
 * is the protocol), connect(2)ed when `remote` is set, with no queue; ICMP
 * ping sockets are SOCK_DGRAM of protocol IPPROTO_ICMP or IPPROTO_ICMPV6
 * alike (the port is their identifier). Their options are SOCKOPTS
 * (IP_HDRINCL, ICMP_FILTER, IPV6_CHECKSUM, IPV6_HDRINCL). (Written from
 * session 27 on, within version 20: a reader of version 20 from before
 * refuses a SOCK_RAW record as malformed rather than drop it; it read a
 * ping socket as a UDP one, which it restored without its peer.)
 */
enum crs_sock_state {
    CRS_SOCK_UNBOUND = 1,    /* made, neither bound nor connected */
    CRS_SOCK_BOUND = 2,      /* bound (UDP, Unix datagram, or not listening yet) */
    CRS_SOCK_LISTEN = 3,     /* listening: `backlog` */
    CRS_SOCK_CONNECTED = 4,  /* connected to `peer`, a socket of the process */
};

#define CRS_SOCK_F_PAIR 0x1u      /* made by socketpair with its peer (no addresses) */
#define CRS_SOCK_F_ACCEPTED 0x2u  /* the server end: accepted from `listener` */
#define CRS_SOCK_F_PENDING 0x4u   /* the client end of a connection `listener` did not accept yet */
#define CRS_SOCK_F_REUSEADDR 0x10u
#define CRS_SOCK_F_REUSEPORT 0x20u
#define CRS_SOCK_F_KEEPALIVE 0x40u
#define CRS_SOCK_F_NODELAY 0x80u  /* TCP_NODELAY */
#define CRS_SOCK_F_V6ONLY 0x100u
#define CRS_SOCK_F_PASSCRED 0x200u
#define CRS_SOCK_F_SHUT_RD 0x1000u  /* shut down for reading / writing */
#define CRS_SOCK_F_SHUT_WR 0x2000u
/* UDP: the queued datagrams were sent by sockets of the process; each
 * message starts with the sender's socket index (uint32), then its bytes */
#define CRS_SOCK_F_SENDERS 0x4000u
#define CRS_SOCK__FLAGS 0x73f7u

#define CRS_SOCKADDR_MAX 112     /* bytes of an address kept (sockaddr_un is 110) */

struct crs_rec_socket {
    int32_t family;          /* AF_UNIX, AF_INET, AF_INET6 */
    int32_t type;            /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET; SOCK_RAW (below) */
    int32_t protocol;
    uint32_t state;          /* enum crs_sock_state */
    uint32_t flags;          /* CRS_SOCK_F_* */
    int32_t peer;            /* CONNECTED: the other end's record; else -1 */
    int32_t listener;        /* F_ACCEPTED, F_PENDING: the listening socket's record; else -1 */
    int32_t backlog;         /* LISTEN */
    uint32_t local_len, remote_len;   /* bytes of the addresses below (0: none) */
    uint8_t local[CRS_SOCKADDR_MAX];  /* getsockname */
    uint8_t remote[CRS_SOCKADDR_MAX]; /* getpeername */
    uint64_t data_offset;    /* into SOCKDATA: what its receive queue held; for datagrams and */
    uint64_t data_length;    /* records, each message as a uint32 length, then its bytes */
    uint32_t nmsgs;          /* messages (datagram, seqpacket); 0 for a stream */
    uint32_t reserved0;
    uint64_t reserved[2];
};

/*
 * Socket options (version 13): those of the options crs/base/sockopts.c
 * lists that differ on a socket from a new socket's of its family, type
 * and protocol (the rest take the restart's defaults), as getsockopt(2)
 * gave them, in SOCKETS order. A restart sets each again with
 * setsockopt(2) (a buffer size: half the value, which the kernel doubles),
 * the options that matter before bind, listen or connect before them, and
 * fails naming the descriptor and the option when the kernel refuses one.
 * The six options kept as CRS_SOCK_F_* flags are not repeated here.
 */
#define CRS_SOCKOPT_VALUE_MAX 16

struct crs_rec_sockopt {
    uint32_t socket;         /* index into SOCKETS; ascending */
    int32_t level;           /* SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6 */
    int32_t name;            /* SO_RCVTIMEO ... */
    uint32_t len;            /* bytes of value: 1 to CRS_SOCKOPT_VALUE_MAX */
    uint8_t value[CRS_SOCKOPT_VALUE_MAX];
};

/*
 * Multicast group memberships (version 20): each group a socket of SOCKETS
 * joined (IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_GROUP,
 * MCAST_JOIN_SOURCE_GROUP, IPV6_JOIN_GROUP...), on one interface, with its
 * source filter as getsockopt(MCAST_MSFILTER) gives it: MCAST_EXCLUDE with
 * no sources is an any-source join, MCAST_INCLUDE with at least one source
 * a source-specific one. The interface is kept by name and index: a restart
 * joins on the interface of that name (its index may differ) and fails
 * naming the descriptor, the group and the interface when the host has none
 * of that name. Records in ascending `socket` order; the sources of record i
 * are MCASTSRC[src_first .. src_first + nsrc - 1], of the group's family.
 * An IPv6 socket may be a member of IPv4 groups (IPPROTO_IP).
 * A record of fmode CRS_MCAST_OUTIF is no membership but the socket's
 * outgoing multicast interface, kept by name and index as a membership's
 * is (issue 10: a restart on a host where the interface has another index
 * sends through the right one): family AF_INET for IP_MULTICAST_IF given by
 * index (struct ip_mreqn; group holds imr_address, 4 bytes, maybe 0: the
 * kernel gives the index back to no getsockopt, libcr notes it,
 * base/mcast_if_notes.h), AF_INET6 for IPV6_MULTICAST_IF (group all zeros);
 * no sources; at most one of each family per socket, before its groups.
 * (Written from session 26 on, within version 20; a reader of version 20
 * from before refuses it as malformed rather than drop it. Such a socket's
 * IPV6_MULTICAST_IF is then no SOCKOPTS record; one given by address is
 * IP_MULTICAST_IF in SOCKOPTS as before.)
 * IP_MULTICAST_TTL/LOOP/ALL and their IPv6 counterparts are SOCKOPTS.
 */
#define CRS_MCAST_IFNAME_MAX 16  /* IFNAMSIZ */
#define CRS_MCAST_OUTIF 2        /* fmode of an outgoing interface's record */

struct crs_rec_mcast {
    uint32_t socket;         /* index into SOCKETS; ascending */
    int32_t family;          /* the group's: AF_INET or AF_INET6 */
    int32_t ifindex;         /* the interface's index at the checkpoint */
    uint32_t fmode;          /* MCAST_EXCLUDE 0, MCAST_INCLUDE 1, CRS_MCAST_OUTIF */
    char ifname[CRS_MCAST_IFNAME_MAX]; /* the interface's name, NUL-terminated */
    uint8_t group[16];       /* the group's address (4 bytes and zeros for AF_INET) */
    uint32_t src_first;      /* the first of its sources in MCASTSRC */
    uint32_t nsrc;           /* how many: 0 only with MCAST_EXCLUDE */
    uint64_t reserved;
};

struct crs_rec_mcast_src {
    uint8_t addr[16];        /* a source address (4 bytes and zeros for AF_INET) */
};

/*
 * Signal-driven I/O (version 15): the owner (F_SETOWN, F_SETOWN_EX) and the
 * signal (F_SETSIG) of an open file, for the lowest descriptor of it (dups
 * share it), when either was set. Its status flags (O_ASYNC among them)
 * are the descriptor's open_flags. The owner is kept by what it was to the
 * process, so that a restart under new ids gives the same: the restored
 * process gives them again once its threads are back.
 */
enum crs_fdown_who {
    CRS_FDOWN_NONE = 0,      /* no owner, only a signal */
    CRS_FDOWN_SELF = 1,      /* the process itself (F_OWNER_PID, its pid) */
    CRS_FDOWN_THREAD = 2,    /* one of its threads (F_OWNER_TID, its tid in THREADS) */
    CRS_FDOWN_PGRP = 3,      /* its own process group (F_OWNER_PGRP) */
    CRS_FDOWN_OTHER = 4,     /* another member of its tree, under its number (`id`) */
};

struct crs_rec_fdown {
    int32_t fd;              /* ascending; a descriptor of FDS */
    uint32_t type;           /* F_OWNER_TID 0, F_OWNER_PID 1, F_OWNER_PGRP 2 */
    int32_t id;              /* the owner's id as the process saw it; 0: none */
    uint32_t sig;            /* F_GETSIG: 0 for SIGIO, else the signal sent with its siginfo */
    uint32_t who;            /* enum crs_fdown_who */
    uint32_t reserved;
};

struct crs_rec_sigaction {
    uint64_t handler;        /* SIG_DFL 0, SIG_IGN 1, or an address */
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

/*
 * Extensions (EXT, version 2): bytes that another layer keeps in the image,
 * tagged with the name of their owner ("mpi"). Revive's crs stores them and
 * hands them back (crs_image_extension) without reading them; the owner
 * versions its own bytes. One EXT section holds one extension: the head, then
 * the owner's bytes (section size = sizeof head + their length), checksummed
 * like every section. An owner may write several extensions; they keep the
 * order they were written in, in the table.
 */
#define CRS_EXT_OWNER_MAX 16          /* bytes of the owner tag */
#define CRS_EXT_MAX 64                /* extensions per image */
#define CRS_EXT_BYTES_MAX (1ull << 30) /* bytes of one extension, after its head */

struct crs_ext_head {
    /* 1 to CRS_EXT_OWNER_MAX - 1 printable ASCII characters without spaces
     * (0x21..0x7e), then NUL bytes to the end: always NUL-terminated */
    char owner[CRS_EXT_OWNER_MAX];
};

#endif

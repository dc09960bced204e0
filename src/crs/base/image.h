/*
 * Writing and reading process images (format: image_format.h).
 *
 * The writer runs inside the process being checkpointed, while its other
 * threads are stopped at arbitrary points (possibly holding malloc's locks),
 * so it never allocates: all its memory is the caller's scratch buffer.
 * The reader runs in cr_restart and cr_info, trusts nothing in the file and
 * reports every problem as a message in `err`.
 */
#ifndef REVIVE_CRS_IMAGE_H
#define REVIVE_CRS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "crs/base/image_format.h"
#include "common/text.h"

/* ---------------- writer ---------------- */

struct crs_image_writer {
    int fd;
    uint64_t base;          /* file offset of the header */
    uint64_t pos;           /* next write position, from base */
    int zstd_level;         /* 0: store chunks uncompressed */
    uint32_t flags;         /* CRS_IMAGE_F_* accumulated */
    /* scratch carved into: chunk records, strings, extension hash state,
     * compression context+buffer */
    struct crs_rec_chunk *chunks;
    size_t nchunks, chunks_cap;
    char *strings;
    size_t strings_len, strings_cap;
    void *zctx;             /* ZSTD_CCtx placed in scratch, or NULL */
    void *zbuf;             /* compressed output buffer */
    size_t zbuf_cap;
    void *ext_hash;         /* XXH3 state (in scratch) of the extension being written */
    void *chunk_hash;       /* XXH3 state (in scratch) of the chunk being written */
    int ext_open;           /* 1 between crs_iw_extension_begin and _end, 2 between
                             * crs_iw_stream_begin and _end */
    uint32_t stream_type;   /* the section being streamed */
    uint64_t ext_start;     /* its section's offset */
    uint64_t ext_len;       /* bytes appended so far */
    uint32_t nexts;         /* extensions written */
    struct crs_section_entry table[CRS_SECTIONS_MAX];
    uint32_t nsections;
    uint64_t bytes_raw, bytes_stored; /* statistics */
    uint64_t writeback_from;  /* offset up to which writeback to disk was started */
    uint32_t min_version;     /* crs_iw_require_version: values newer than version 1 */
    /* Set by the caller after crs_iw_open (NULL: never asked): asked before the first write
     * and then every CRS_IW_STOP_STEP bytes; non-zero stops the image there (-ECANCELED,
     * "image write: " and stop_why in err): the one who waits for the image went away, and
     * nobody would keep what is written (cr_checkpoint killed, newuser10 F1). */
    int (*stop)(void *arg);
    void *stop_arg;
    const char *stop_why;
    uint64_t stop_next;       /* the offset at which stop is asked next */
    int dio_fd;               /* -1, or the image's file opened again with O_DIRECT
                               * (crs_iw_direct): whole pages of chunk data go through it */
    /* Set by the caller, read at each crs_iw_add_pages: 1 while the pages it adds must be
     * written through the page cache even when direct writes are on (memory the process
     * shares with another process: a direct write pins the pages it reads, and the kernel
     * gives the pinning process a copy of a page it shares copy-on-write). */
    int direct_skip;
    /* The bounce buffer of direct writes (crs_iw_direct): chunk data is copied into it and
     * written with one direct pwrite each CRS_IW_BOUNCE bytes. */
    char *dio_buf;            /* NULL, or CRS_IW_BOUNCE bytes at a 2 MiB boundary */
    void *dio_map;            /* the mapping it lies in, unmapped by crs_iw_close */
    size_t dio_map_len;
    uint64_t dio_off;         /* the image offset of dio_buf[0] (a multiple of CRS_IMAGE_ALIGN) */
    size_t dio_len;           /* bytes held, not yet written */
    char err[256];
};
#define CRS_IW_STOP_STEP (4ull << 20)
#define CRS_IW_BOUNCE (4u << 20)

/* How much scratch crs_iw_open wants for `max_chunks` chunks, `strings_cap`
 * bytes of strings and compression at `zstd_level` (0 = none). */
size_t crs_iw_scratch_size(size_t max_chunks, size_t strings_cap, int zstd_level);

/* Starts an image at fd's current offset (a regular file: the writer seeks).
 * Returns 0 or -errno (message in w->err). */
int crs_iw_open(struct crs_image_writer *w, int fd, void *scratch, size_t scratch_len,
                size_t max_chunks, size_t strings_cap, int zstd_level);

/* From here on, chunk data is written with O_DIRECT, through a second descriptor of the same
 * file (opened again through /proc/self/fd, so the caller's descriptor and its flags stay as
 * they were): copied into a bounce buffer of CRS_IW_BOUNCE bytes on transparent huge pages
 * (mapped here, at a 2 MiB boundary, madvise MADV_HUGEPAGE) and written with one direct pwrite
 * each time the buffer is full, and before any other write. Each is one 4 MiB request to the
 * disk (a request from 4 KiB pages holds ~1 MiB: 254 pieces of memory at most on this VM's
 * disk), the page cache is neither filled nor left dirty with the image, and the process's
 * pages are only read (a direct write from them would pin them, unsharing pages shared
 * copy-on-write). Session 36, 8 processes x 18 MiB: bench/mpi/README.md. Only on ext4 and
 * XFS (what it was measured on, and the file systems whose O_DIRECT is a plain write to the
 * disk; NFS's is a synchronous round trip per write), when the image starts at a multiple of
 * CRS_IMAGE_ALIGN in its file, and when the kernel gives huge pages (THP "enabled" not
 * [never], madvise accepted) unless `flags` has CRS_IW_DIRECT_SMALL_PAGES. The rest (header,
 * sections, a compressed chunk's last partial block, pages added while w->direct_skip is set)
 * stays buffered, and a file system that refuses a direct write (EINVAL) gets it and every
 * later one buffered. Not durable either: the caller's fsync is what makes the image durable.
 * The buffer is mapped after the caller took its list of the process's mappings (it is not
 * part of the image) and unmapped by crs_iw_close / crs_iw_finish.
 * flags: CRS_IW_DIRECT_NO_HUGE asks for no huge pages (as with THP off: tests);
 * CRS_IW_DIRECT_SMALL_PAGES writes directly even from a buffer of 4 KiB pages.
 * Returns 1 when direct writes are on, 0 when the writer stays buffered (not an error). */
#define CRS_IW_DIRECT_NO_HUGE 1u
#define CRS_IW_DIRECT_SMALL_PAGES 2u
int crs_iw_direct(struct crs_image_writer *w, unsigned flags);

/* Ends direct writes: what the bounce buffer holds is written, the buffer unmapped and the
 * second descriptor closed; later writes are buffered. The checkpoint calls it after the page
 * data, so that nothing after (the layers' extensions, which may read the process's mappings)
 * sees the buffer. Returns 0 or -errno (message in w->err). */
int crs_iw_direct_end(struct crs_image_writer *w);

/* Starts the disk on what was written through the page cache and not started yet (the writer
 * starts it every few MiB as it goes: sync_file_range, SYNC_FILE_RANGE_WRITE), without waiting:
 * for a caller with more work before the rest of the image, so that the last few MiB of page
 * data do not wait for it. Nothing written changes; errors are the final fsync's to say. */
void crs_iw_start_writeback(struct crs_image_writer *w);

/* Closes what the writer opened itself (crs_iw_direct's descriptor and buffer); what the
 * buffer held and was not written is dropped. crs_iw_finish does so
 * too; a caller that gives up on an image calls this. Safe to call more than once. */
void crs_iw_close(struct crs_image_writer *w);

/* Appends `len` bytes (a multiple of the page size) of memory that belongs at
 * `vaddr`, read straight from `src`, split into chunks of at most CRS_CHUNK_MAX. */
int crs_iw_add_pages(struct crs_image_writer *w, uint64_t vaddr, const void *src, size_t len);

/* Adds a NUL-terminated string to STRINGS; returns its reference in *ref. */
int crs_iw_string(struct crs_image_writer *w, const char *s, struct crs_strref *ref);

/* Appends a metadata section of `count` records of `record_size` bytes (the
 * record struct of `type`; AUXV also takes pairs). Not CHUNKS or STRINGS
 * (crs_iw_finish writes those) nor EXT (crs_iw_extension). Returns 0, or
 * -EINVAL (unknown type, wrong record size or count, added twice, an
 * extension open), -EOVERFLOW or a write error, with the message in w->err. */
int crs_iw_section(struct crs_image_writer *w, uint32_t type, const void *records,
                   size_t record_size, size_t count);

/* Adds an extension: `len` bytes (at most CRS_EXT_BYTES_MAX) that `owner`
 * (1 to 15 printable ASCII characters without spaces, e.g. "mpi") keeps in the
 * image, written to the file straight from `bytes` (len 0: none) and
 * checksummed; readers list it (crs_image_extension) and cr_info shows it.
 * Several per owner are allowed, CRS_EXT_MAX in all; they read back in the
 * order written. No allocation, like every writer call: callable from inside
 * the checkpointed process. An image with extensions is format version 2.
 * Returns 0, or -EINVAL (bad owner, an extension still open), -ENOSPC (more
 * than CRS_EXT_MAX), -EMSGSIZE (too large) or a write error (-ENOSPC, -EIO...),
 * with the message in w->err. */
int crs_iw_extension(struct crs_image_writer *w, const char *owner, const void *bytes, size_t len);

/* The same in pieces, for state that is not in one buffer: _begin starts an
 * extension of `owner`, each _append adds bytes to it, _end closes it. While
 * it is open, no other section, pages or finish may be written (-EINVAL).
 * Same errors as crs_iw_extension. */
int crs_iw_extension_begin(struct crs_image_writer *w, const char *owner);
int crs_iw_extension_append(struct crs_image_writer *w, const void *bytes, size_t len);
int crs_iw_extension_end(struct crs_image_writer *w);

/* A bulk section (FDATA: CRS_SECF_BULK in image_sections.def) in pieces:
 * _begin starts it, each _append adds bytes (straight to the file),
 * _length says how many so far (where the next piece lands in it), _end
 * closes it. While it is open nothing else may be written (-EINVAL). Same
 * errors as crs_iw_section. */
int crs_iw_stream_begin(struct crs_image_writer *w, uint32_t type);
int crs_iw_stream_append(struct crs_image_writer *w, const void *bytes, size_t len);
uint64_t crs_iw_stream_length(const struct crs_image_writer *w);
int crs_iw_stream_end(struct crs_image_writer *w);

/* The image holds values that only format version `version` (or later)
 * defines, in sections of older kinds (image_format.h: a descriptor kind
 * from CRS_FD_INHERITED on, say): the header will say at least that version.
 * Section kinds count by themselves. */
void crs_iw_require_version(struct crs_image_writer *w, uint32_t version);

/* Writes CHUNKS, STRINGS, the section table and the header (filled from
 * `hdr_template`: pid, created_ns, host facts; the writer sets the rest),
 * truncates a regular file at the image's end. Not durable: the caller fsyncs. */
int crs_iw_finish(struct crs_image_writer *w, const struct crs_image_header *hdr_template);

/* Fills kernel_release, machine, page_size, xfeatures, xsave_size of *h. */
void crs_host_facts(struct crs_image_header *h);

/* ---------------- reader ---------------- */

/* One extension (EXT section) of an image, as validated by the reader. */
struct crs_image_ext {
    const char *owner;      /* its owner tag, NUL-terminated (points into head) */
    const void *data;       /* its bytes (right after head) */
    size_t len;
    uint64_t checksum;      /* the section's XXH3-64 (head and bytes), as in the table */
    struct crs_ext_head *head; /* the whole section as read */
};

struct crs_image {
    int fd;
    uint64_t base;          /* file offset of the header (fd's offset at open) */
    uint64_t file_size;
    struct crs_image_header hdr;
    struct crs_section_entry *table;
    /* The sections' records (image_sections.def says which member holds which). */
    struct crs_rec_process *process;       size_t nprocess; /* exactly one */
    struct crs_rec_thread *threads;        size_t nthreads;
    struct crs_rec_region *regions;        size_t nregions;
    struct crs_rec_chunk *chunks;          size_t nchunks;
    struct crs_rec_file *files;            size_t nfiles;
    struct crs_rec_fd *fds;                size_t nfds;
    struct crs_rec_sigaction *sigactions;  size_t nsigactions;
    struct crs_rec_memfd *memfds;          size_t nmemfds;
    uint64_t *auxv;                        size_t nauxv; /* count of uint64_t words */
    struct crs_rec_pipe *pipes;            size_t npipes;
    unsigned char *pipedata;               size_t pipedata_len;
    struct crs_rec_timer *timers;          size_t ntimers;
    struct crs_rec_siginfo *siginfos;      size_t nsiginfos;
    uint32_t *creds;                       size_t ncreds; /* CRS_SEC_CREDS: ids, then groups */
    struct crs_rec_lock *locks;            size_t nlocks;
    struct crs_rec_kfd *kfds;              size_t nkfds;
    struct crs_rec_epoll_tgt *epoll_tgts;  size_t nepoll_tgts;
    struct crs_rec_epoll_via *epoll_vias;  size_t nepoll_vias;
    struct crs_rec_epoll_edge *epoll_edges; size_t nepoll_edges;
    struct crs_rec_thread_caps *thread_caps; size_t nthread_caps;
    struct crs_rec_thread_attr *thread_attrs; size_t nthread_attrs;
    struct crs_rec_seccomp *seccomps;      size_t nseccomps;
    uint64_t *seccompdata;                 size_t nseccompdata; /* struct sock_filter, 8 bytes each */
    struct crs_rec_inwatch *inwatches;     size_t ninwatches;
    struct crs_rec_socket *sockets;        size_t nsockets;
    unsigned char *sockdata;               size_t sockdata_len;
    struct crs_rec_sockopt *sockopts;      size_t nsockopts;
    struct crs_rec_mcast *mcasts;          size_t nmcasts;
    struct crs_rec_mcast_src *mcast_srcs;  size_t nmcast_srcs;
    struct crs_rec_fdown *fdowns;          size_t nfdowns;
    struct crs_rec_sysvipc *sysvipcs;      size_t nsysvipcs;
    unsigned char *sysvipcdata;            size_t sysvipcdata_len;
    struct crs_rec_fobj *fobjs;            size_t nfobjs;
    struct crs_rec_fextent *fextents;      size_t nfextents;
    unsigned char *fdata;                  size_t fdata_len; /* fdata stays NULL: on disk at */
    uint64_t fdata_offset;                 /* this offset (crs_image_read_fextent) */
    char *strings;                         size_t strings_len;
    struct crs_image_ext *exts;            size_t nexts; /* in the order written */
    char *name;             /* for messages: "image NAME: ..." */
    char err[REVIVE_TEXT_PATHS(1)]; /* NAME up to PATH_MAX and the words after it, whole */
    /* 1: every chunk of this very file was verified against its checksum by another reader
     * and the file has not changed since (crs_file_stamp below: restart-mpi's check, handed to
     * the rank's restore); the chunk and saved-file reads then copy the bytes without hashing
     * them again. Bounds, lengths and decompression are checked as always. 0 (the default,
     * set by the open): each is checked as it is read. */
    int sums_checked;
};

/* A file as fstat(2) saw it: device, inode, size and change time. Any write, truncation,
 * chmod or link count change since gives the file another change time (the kernel sets it, no
 * program can put it back), and a file put in its place has another inode: the same stamp
 * taken later means the same, unchanged bytes, provided the stamp was settled when first
 * taken (crs_file_stamp_settled). The one rule of "the same file, unchanged": restart-mpi
 * takes it of each rank image whose every chunk it verified, before and after reading it
 * (src/filem/verified.h); the capture keys the build ids it remembers on it
 * (crs/uspace/build_id_cache.h). */
struct crs_file_stamp {
    uint64_t dev, ino, size;
    int64_t ctime_sec, ctime_nsec;
};

/* fd's stamp: 0, or -errno of fstat. */
int crs_file_stamp_of(int fd, struct crs_file_stamp *s);
/* The stamp of the file an earlier stat(2) or fstat(2) described. */
struct stat;
void crs_file_stamp_from(const struct stat *st, struct crs_file_stamp *s);
/* 1 when a and b are the same stamp, else 0. */
int crs_file_stamp_same(const struct crs_file_stamp *a, const struct crs_file_stamp *b);
/* 1 when the stamp's change time is more than a second before now_sec (time(2)), else 0. A
 * file changed within the last second may change again within the same tick of the file
 * system's clock (coarse timestamps: ~4 ms on ext4) without its change time moving: a stamp
 * taken then does not tell a later write apart, and is not to be trusted as "unchanged". */
int crs_file_stamp_settled(const struct crs_file_stamp *s, int64_t now_sec);

/* What the reader's messages about a damaged or incomplete image end with: the advice for one
 * process (cr_restart, cr_info). A caller that knows better (a rank of a global snapshot:
 * another sequence; a cached copy: the shared one) puts its own in its place. */
#define CRS_IMAGE_ADVICE "; use an earlier checkpoint"

/* Replaces CRS_IMAGE_ADVICE in MSG (LEN bytes) by ADVICE ("; ..." or "" to drop it), cut to
 * fit. */
void crs_image_advise(char *msg, size_t len, const char *advice);

/* Opens and validates an image: header, table, every metadata section and
 * cross-reference (string refs, file/memfd indexes, chunk bounds and order).
 * Chunk data is checked when read. Returns 0, or -errno with img->err set
 * ("image FILE: what is wrong"). */
int crs_image_open(struct crs_image *img, const char *path);

/* Same, on an open descriptor whose current offset is the image's start
 * (the reader takes ownership of fd, also on failure). */
int crs_image_open_fd(struct crs_image *img, int fd, const char *name);

/* crs_image_open, or for a process tree's file (tree.h) its first member's image: an MPI rank
 * that had running children has its image so (tree_first.c). Returns as crs_image_open. */
int crs_image_open_first(struct crs_image *img, const char *path);
/* The same on fd, a descriptor of the file (its offset unused: the file is read from its
 * start); the reader takes ownership of fd, also on failure. path names it in messages. */
int crs_image_open_first_fd(struct crs_image *img, int fd, const char *path);

/* A validated string; never NULL ("" for an empty reference). */
const char *crs_image_str(const struct crs_image *img, struct crs_strref ref);

/* The extensions `owner` wrote, in the order written: the first one after
 * `prev` (NULL: the first one), or NULL when there is no more. The bytes
 * stay valid until crs_image_close. All extensions: img->exts[0..nexts). */
const struct crs_image_ext *crs_image_extension(const struct crs_image *img, const char *owner,
                                                const struct crs_image_ext *prev);

/* Reads chunk `i` into dst (chunks[i].length bytes), verifying its checksum and
 * decompressing. Returns 0 or -errno with img->err set. */
int crs_image_read_chunk(struct crs_image *img, size_t i, void *dst);

/* Chunk `i`, stored without compression, read in pieces of at most `cap` bytes into buf, in
 * order: each piece is given to put (when not NULL) with its offset in the chunk, and the
 * checksum over the whole chunk is checked once every piece was read. A few hundred KiB of buf
 * stay in the CPU's cache and cost no page faults where the chunk's whole 4 MiB would. No memory
 * is allocated (the hash state is on the stack). Returns
 * 0; -EBADMSG (checksum) or the read's -errno with img->err set; -EINVAL with img->err set for a
 * compressed chunk (crs_image_read_chunk reads those); or what put returned (not 0: the
 * reading stops there, img->err untouched). */
#define CRS_READ_PIECE (256u << 10) /* the piece crs_image_stream_chunk's callers use */
int crs_image_stream_chunk(struct crs_image *img, size_t i, void *buf, size_t cap,
                           int (*put)(void *arg, uint64_t off, const void *piece, size_t len), void *arg);

/* Reads the bytes of saved-file extent `i` (fextents[i].length of them) into
 * dst, checking their checksum. 0 or -errno with img->err set. */
int crs_image_read_fextent(struct crs_image *img, size_t i, void *dst);

/* Verifies every chunk's checksum, and the saved files' bytes (each extent
 * and FDATA as a whole), without restoring (cr_info --verify). */
int crs_image_verify_chunks(struct crs_image *img);

void crs_image_close(struct crs_image *img);

#endif

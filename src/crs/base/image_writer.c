/*
 * Writes a process image (format: image_format.h, API: image.h).
 *
 * This code runs inside the process being checkpointed while its other
 * threads are frozen at arbitrary points, possibly holding malloc's or
 * stdio's locks. So it never calls malloc, free or stdio (not even
 * snprintf): all memory is the caller's scratch buffer, messages are built
 * by hand, and page data goes from the process's memory straight to the
 * file with pwrite (O_DIRECT for whole pages where crs_iw_direct turned it on).
 *
 * Layout rule the reader enforces (so that every byte of an image is either
 * checksummed or a zero byte of padding): the header block fills
 * [0, CRS_IMAGE_ALIGN); every later piece (chunk data, section, table)
 * starts at the end of the previous one rounded up to its own alignment
 * (CRS_IMAGE_ALIGN for chunk data, 8 for sections and the table), and the
 * padding between them is zero.
 */
#define _GNU_SOURCE
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx: compression without malloc */
#define XXH_STATIC_LINKING_ONLY  /* XXH3_state_t: a hash state in scratch, without malloc */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "crs/base/image.h"
#include "crs/base/image_sections.h"

#define SECTION_ALIGN 8u

/* Zeros for padding; static so the writer needs no stack for them. */
static const char zeros[CRS_IMAGE_ALIGN];

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* ---- messages without stdio ---- */

struct msg {
    char *buf;
    size_t cap, len;
};

static void msg_str(struct msg *m, const char *s)
{
    while (*s && m->len + 1 < m->cap)
        m->buf[m->len++] = *s++;
    m->buf[m->len] = '\0';
}

static void msg_u64(struct msg *m, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char out[24];
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    msg_str(m, out);
}

static struct msg msg_start(struct crs_image_writer *w)
{
    struct msg m = { w->err, sizeof(w->err), 0 };
    w->err[0] = '\0';
    msg_str(&m, "image write: ");
    return m;
}

/* Sets "image write: WHAT" and returns -err. */
static int fail(struct crs_image_writer *w, int err, const char *what)
{
    struct msg m = msg_start(w);
    msg_str(&m, what);
    return -err;
}

/* Sets the message for a failed write of the file and returns -err. */
static int fail_io(struct crs_image_writer *w, int err, uint64_t at)
{
    struct msg m = msg_start(w);
    msg_str(&m, "writing byte ");
    msg_u64(&m, at);
    msg_str(&m, " of the image failed: ");
    const char *desc = strerrordesc_np(err);
    msg_str(&m, desc ? desc : "unknown error");
    if (err == ENOSPC || err == EDQUOT || err == EFBIG)
        msg_str(&m, "; free space or write the image to another file system");
    else
        msg_str(&m, "; check the image's file and directory");
    return -err;
}

/* ---- output ---- */

/* How much is written before the disk is started on it (sync_file_range). Small enough that
 * an image of a few MiB (a rank's) starts its disk writes while its process still copies and
 * describes the rest, and other processes of the job do their CPU work: with 32 MiB a rank's
 * 18 MiB image waited whole for the final fsync (bench/mpi/ckpt.sh, 8 ranks x 16 MiB, 5 rounds
 * alternated at load 9-11: capture median Open MPI 120-138 ms against 119-365 with 32 MiB,
 * MPICH 97-157 against 123-159; 4 of 5 rounds lower on each MPI). */
#define WRITEBACK_STEP (4ull << 20)

/* The most one pwrite takes. On Linux 6.18 with ext4 (measured on the project's VM, 18 MiB of
 * resident memory written to a fresh file) one pwrite of 2 MiB or more from user memory cost
 * 110-240 ms while the same bytes in pieces of 1 MiB cost 4-6 ms: the whole capture of an MPI
 * job was 4x the raw write of its bytes (bench/mpi/ckpt.sh). A piece per call keeps every
 * write on the fast path whatever the kernel does with large writes; the syscalls it adds (one
 * a MiB) cost nothing next to the copy. */
#define WRITE_PIECE (1u << 20)

/* The caller's stop hook, asked every CRS_IW_STOP_STEP bytes: -ECANCELED when it says stop. */
static int stop_asked(struct crs_image_writer *w, uint64_t off)
{
    if (w->stop && off >= w->stop_next) {
        w->stop_next = off + CRS_IW_STOP_STEP;
        if (w->stop(w->stop_arg))
            return fail(w, ECANCELED, w->stop_why ? w->stop_why : "stopped by its caller");
    }
    return 0;
}

/* Writes len bytes at `off` (from the image's start) through the page cache, through short
 * writes and signals. */
static int put_raw(struct crs_image_writer *w, uint64_t off, const void *buf, size_t len)
{
    const char *p = buf;
    int rc = stop_asked(w, off);
    if (rc)
        return rc;
    while (len) {
        ssize_t n = pwrite(w->fd, p, len < WRITE_PIECE ? len : WRITE_PIECE, (off_t)(w->base + off));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_io(w, errno, off);
        }
        if (n == 0)
            return fail_io(w, EIO, off);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    /* Start the disk on what is written so far, so that the final fsync
     * does not have to write the whole image at once. */
    if (off >= w->writeback_from + WRITEBACK_STEP) {
        sync_file_range(w->fd, (off_t)(w->base + w->writeback_from), (off_t)(off - w->writeback_from),
                        SYNC_FILE_RANGE_WRITE);
        w->writeback_from = off;
    }
    return 0;
}

/* Writes what the bounce buffer holds: its whole blocks with one direct pwrite, a last
 * partial block (a compressed chunk's) buffered. A file system that refuses the direct write
 * (EINVAL, EOPNOTSUPP) gets it and every later write buffered. */
static int dio_flush(struct crs_image_writer *w)
{
    const char *p = w->dio_buf;
    uint64_t off = w->dio_off;
    size_t len = w->dio_len, whole = len & ~(size_t)(CRS_IMAGE_ALIGN - 1);
    int refused = 0;
    w->dio_len = 0;
    while (whole) {
        ssize_t n = pwrite(w->dio_fd, p, whole, (off_t)(w->base + off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
            refused = 1;
            break;
        }
        if (n < 0)
            return fail_io(w, errno, off);
        if (n == 0)
            return fail_io(w, EIO, off);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
        whole -= (size_t)n;
        if (whole % CRS_IMAGE_ALIGN)
            break; /* a short write off the block grid: the rest buffered */
    }
    int rc = len ? put_raw(w, off, p, len) : 0;
    if (refused)
        crs_iw_close(w);
    return rc;
}

/* Writes len bytes at `off` through the page cache, after what the bounce buffer holds. */
static int put(struct crs_image_writer *w, uint64_t off, const void *buf, size_t len)
{
    if (w->dio_len) {
        int rc = dio_flush(w);
        if (rc)
            return rc;
    }
    return put_raw(w, off, buf, len);
}

/* How much of the data is copied into the bounce buffer and hashed at a time: within L2. */
#define HASH_PIECE (64u << 10)

/* Chunk data: with direct writes on (crs_iw_direct), copied into the bounce buffer, which is
 * written directly each time it is full (CRS_IW_BOUNCE bytes: one request to the disk) and
 * before any other write; chunks follow each other in the file (CRS_IMAGE_ALIGN-aligned, and
 * whole pages unless compressed), so the buffer fills across them. Otherwise, and for pages
 * added with w->direct_skip set, buffered. The copy is what a buffered write does too (into
 * the page cache), and it leaves the process's pages alone: a direct write from them would
 * pin them, unsharing a page shared copy-on-write, and its requests would be ~1 MiB (a
 * request holds at most 254 pieces of memory on this VM's disk, and 4 KiB pages are pieces
 * of their own, where the buffer's huge page is one). The data is hashed into `h` as it goes:
 * from the copy, a piece at a time, while the piece is in the CPU's cache (the process's
 * memory is read once, and the checksum is that of the bytes written). */
static int put_data(struct crs_image_writer *w, uint64_t off, const void *buf, size_t len, XXH3_state_t *h)
{
    const char *p = buf;
    int rc;
    if (w->dio_buf && !w->direct_skip && w->dio_len && off != w->dio_off + w->dio_len && (rc = dio_flush(w)))
        return rc;
    if (!w->dio_buf || w->direct_skip || (!w->dio_len && (w->base + off) % CRS_IMAGE_ALIGN))
        goto buffered;
    if ((rc = stop_asked(w, off)))
        return rc;
    if (!w->dio_len)
        w->dio_off = off;
    while (len) {
        size_t n = CRS_IW_BOUNCE - w->dio_len;
        if (n > len)
            n = len;
        if (n > HASH_PIECE)
            n = HASH_PIECE;
        char *to = w->dio_buf + w->dio_len;
        memcpy(to, p, n);
        XXH3_64bits_update(h, to, n);
        w->dio_len += n;
        p += n;
        off += n;
        len -= n;
        if (w->dio_len == CRS_IW_BOUNCE) {
            if ((rc = dio_flush(w)))
                return rc;
            if (!w->dio_buf)
                goto buffered;
            w->dio_off = off;
        }
    }
    return 0;
buffered:
    XXH3_64bits_update(h, p, len);
    return len ? put(w, off, p, len) : 0;
}

/* Whether the kernel gives transparent huge pages to a mapping that asks (madvise): not when
 * /sys/kernel/mm/transparent_hugepage/enabled says [never] (or cannot be read), nor in a
 * process that turned them off (prctl PR_SET_THP_DISABLE, inherited across fork and exec;
 * 1 | PR_THP_DISABLE_EXCEPT_ADVISED still gives them to a mapping that asks). */
static int thp_on(void)
{
    if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1)
        return 0;
    char buf[64];
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strstr(buf, "[never]") == NULL;
}

int crs_iw_direct(struct crs_image_writer *w, unsigned flags)
{
    if (w->dio_fd >= 0)
        return 1;
    struct statfs sf;
    struct stat st;
    if (w->base % CRS_IMAGE_ALIGN || fstat(w->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        fstatfs(w->fd, &sf) != 0 || (sf.f_type != EXT4_SUPER_MAGIC && sf.f_type != XFS_SUPER_MAGIC))
        return 0;
    /* the bounce buffer, at a huge page's boundary, one huge page per 2 MiB when the kernel
     * gives them (THP "enabled" [always] or [madvise]) */
    size_t huge = 2u << 20, map_len = CRS_IW_BOUNCE + huge;
    /* by system call: a preloaded layer's mmap (the MPI layer's halves registry) may take a
     * lock a parked thread holds; the buffer is the writer's, for the time of the image */
    void *map = (void *)syscall(SYS_mmap, NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return 0;
    char *buf = (char *)align_up((uintptr_t)map, huge);
    int huge_ok = !(flags & CRS_IW_DIRECT_NO_HUGE) && madvise(buf, CRS_IW_BOUNCE, MADV_HUGEPAGE) == 0 && thp_on();
    if (!huge_ok && !(flags & CRS_IW_DIRECT_SMALL_PAGES)) {
        syscall(SYS_munmap, map, map_len);
        return 0;
    }
    /* "/proc/self/fd/N", built without stdio */
    char path[40];
    struct msg m = { path, sizeof(path), 0 };
    msg_str(&m, "/proc/self/fd/");
    msg_u64(&m, (uint64_t)w->fd);
    int fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        syscall(SYS_munmap, map, map_len);
        return 0;
    }
    w->dio_fd = fd;
    w->dio_map = map;
    w->dio_map_len = map_len;
    w->dio_buf = buf;
    w->dio_len = 0;
    return 1;
}

int crs_iw_direct_end(struct crs_image_writer *w)
{
    int rc = w->dio_len ? dio_flush(w) : 0;
    crs_iw_close(w);
    return rc;
}

void crs_iw_close(struct crs_image_writer *w)
{
    if (w->dio_fd >= 0)
        close(w->dio_fd);
    w->dio_fd = -1;
    if (w->dio_map)
        syscall(SYS_munmap, w->dio_map, w->dio_map_len);
    w->dio_map = NULL;
    w->dio_buf = NULL;
    w->dio_len = 0;
}

/* Zero-fills up to the next multiple of `align` so the next piece starts there. */
static int pad_to(struct crs_image_writer *w, uint64_t align)
{
    uint64_t end = align_up(w->pos, align);
    if (end > w->pos) {
        int rc = put(w, w->pos, zeros, (size_t)(end - w->pos));
        if (rc)
            return rc;
    }
    w->pos = end;
    return 0;
}

/* ---- scratch ---- */

static size_t zbuf_size(void) { return align_up(ZSTD_compressBound(CRS_CHUNK_MAX), CRS_IMAGE_ALIGN); }

size_t crs_iw_scratch_size(size_t max_chunks, size_t strings_cap, int zstd_level)
{
    /* 64 bytes of slack per carved piece for alignment */
    size_t n = 64 + max_chunks * sizeof(struct crs_rec_chunk) + 64 + strings_cap + 64 +
               2 * (sizeof(XXH3_state_t) + 64);
    if (zstd_level > 0)
        n += ZSTD_estimateCCtxSize(zstd_level) + 64 + zbuf_size() + CRS_IMAGE_ALIGN;
    return n;
}

/* Takes `len` bytes at `align`-byte alignment from [*p, end); NULL if they do not fit. */
static void *carve_aligned(char **p, char *end, size_t len, size_t align)
{
    char *a = (char *)align_up((uintptr_t)*p, align);
    if (a > end || (size_t)(end - a) < len)
        return NULL;
    *p = a + len;
    return a;
}

/* The same at 64-byte alignment. */
static void *carve(char **p, char *end, size_t len) { return carve_aligned(p, end, len, 64); }

int crs_iw_open(struct crs_image_writer *w, int fd, void *scratch, size_t scratch_len,
                size_t max_chunks, size_t strings_cap, int zstd_level)
{
    memset(w, 0, sizeof(*w));
    w->dio_fd = -1;
    w->fd = fd;
    w->zstd_level = zstd_level > 0 ? zstd_level : 0;
    if (strings_cap > UINT32_MAX)
        return fail(w, EINVAL, "strings_cap is larger than a string reference can address");
    if (max_chunks > SIZE_MAX / sizeof(struct crs_rec_chunk) / 2)
        return fail(w, EINVAL, "max_chunks is too large");

    char *p = scratch, *end = p + scratch_len;
    w->chunks = carve(&p, end, max_chunks * sizeof(struct crs_rec_chunk));
    w->chunks_cap = max_chunks;
    w->strings = carve(&p, end, strings_cap);
    w->strings_cap = strings_cap;
    w->ext_hash = carve(&p, end, sizeof(XXH3_state_t));
    w->chunk_hash = carve(&p, end, sizeof(XXH3_state_t));
    if (!w->chunks || !w->strings || !w->ext_hash || !w->chunk_hash)
        return fail(w, ENOMEM, "scratch buffer too small; size it with crs_iw_scratch_size()");
    if (w->zstd_level) {
        size_t zlen = ZSTD_estimateCCtxSize(w->zstd_level);
        void *zmem = carve(&p, end, zlen);
        w->zbuf_cap = zbuf_size();
        w->zbuf = carve_aligned(&p, end, w->zbuf_cap, CRS_IMAGE_ALIGN); /* written directly too */
        if (!zmem || !w->zbuf)
            return fail(w, ENOMEM, "scratch buffer too small; size it with crs_iw_scratch_size()");
        w->zctx = ZSTD_initStaticCCtx(zmem, zlen);
        if (!w->zctx)
            return fail(w, EINVAL, "cannot set up zstd compression in the scratch buffer");
    }

    /* The image starts where the descriptor is; it must be seekable because
     * the header is written last, at the start. */
    off_t base = lseek(fd, 0, SEEK_CUR);
    if (base < 0) {
        int e = errno;
        return fail(w, e == ESPIPE ? ESPIPE : e,
                    "the descriptor is not seekable (a pipe or socket?); write to a file");
    }
    w->base = (uint64_t)base;
    /* Linux's pwrite appends on an O_APPEND descriptor whatever the offset. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND))
        return fail(w, EINVAL, "the descriptor was opened with O_APPEND; open it without");
    /* The header block's padding now; the header itself comes last. */
    int rc = put(w, sizeof(struct crs_image_header), zeros,
                 CRS_IMAGE_ALIGN - sizeof(struct crs_image_header));
    if (rc)
        return rc;
    w->pos = CRS_IMAGE_ALIGN;
    return 0;
}

/* ---- page data ---- */

/* Stores one chunk of at most CRS_CHUNK_MAX bytes: compressed when that
 * saves at least a block, else straight from the process's memory. */
static int add_chunk(struct crs_image_writer *w, uint64_t vaddr, const void *src, size_t len)
{
    if (w->nchunks == w->chunks_cap)
        return fail(w, ENOSPC, "more chunks than max_chunks; open the writer with a larger max_chunks");
    int rc = pad_to(w, CRS_IMAGE_ALIGN);
    if (rc)
        return rc;
    struct crs_rec_chunk *c = &w->chunks[w->nchunks];
    memset(c, 0, sizeof(*c));
    c->vaddr = vaddr;
    c->length = len;
    c->data_offset = w->pos;

    const void *out = src;
    size_t out_len = len;
    if (w->zctx) {
        size_t z = ZSTD_compressCCtx(w->zctx, w->zbuf, w->zbuf_cap, src, len, w->zstd_level);
        if (!ZSTD_isError(z) && align_up(z, CRS_IMAGE_ALIGN) < len) {
            out = w->zbuf;
            out_len = z;
            c->compression = CRS_CHUNK_ZSTD;
            w->flags |= CRS_IMAGE_F_COMPRESSED;
        }
    }
    c->stored_length = out_len;
    XXH3_64bits_reset(w->chunk_hash);
    rc = put_data(w, w->pos, out, out_len, w->chunk_hash);
    if (rc)
        return rc;
    c->checksum = XXH3_64bits_digest(w->chunk_hash);
    w->pos += out_len;
    w->nchunks++;
    w->bytes_raw += len;
    w->bytes_stored += out_len;
    return 0;
}

void crs_iw_start_writeback(struct crs_image_writer *w)
{
    if (w->pos > w->writeback_from) {
        sync_file_range(w->fd, (off_t)(w->base + w->writeback_from), (off_t)(w->pos - w->writeback_from),
                        SYNC_FILE_RANGE_WRITE);
        w->writeback_from = w->pos;
    }
}

/* Refuses a call that would write while an extension is open (its section
 * must be contiguous). */
static int ext_closed(struct crs_image_writer *w)
{
    if (w->ext_open == 1)
        return fail(w, EINVAL, "an extension is still open; end it with crs_iw_extension_end first");
    if (w->ext_open)
        return fail(w, EINVAL, "a section is still being streamed; end it with crs_iw_stream_end first");
    return 0;
}

int crs_iw_add_pages(struct crs_image_writer *w, uint64_t vaddr, const void *src, size_t len)
{
    int rc = ext_closed(w);
    if (rc)
        return rc;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    if (vaddr % page || len % page || len == 0)
        return fail(w, EINVAL, "pages must be page-aligned, a whole number of pages and not empty");
    if (vaddr > UINT64_MAX - len)
        return fail(w, EINVAL, "pages run past the end of the address space");
    /* The reader requires chunks in ascending, non-overlapping order. */
    if (w->nchunks) {
        const struct crs_rec_chunk *last = &w->chunks[w->nchunks - 1];
        if (vaddr < last->vaddr + last->length)
            return fail(w, EINVAL, "pages added out of address order or twice");
    }
    const char *p = src;
    while (len) {
        size_t n = len < CRS_CHUNK_MAX ? len : CRS_CHUNK_MAX;
        rc = add_chunk(w, vaddr, p, n);
        if (rc)
            return rc;
        vaddr += n;
        p += n;
        len -= n;
    }
    return 0;
}

/* ---- strings and sections ---- */

int crs_iw_string(struct crs_image_writer *w, const char *s, struct crs_strref *ref)
{
    size_t n = strlen(s);
    if (n == 0) { /* offset 0, length 0 means "none"; it reads back as "" */
        ref->offset = 0;
        ref->length = 0;
        return 0;
    }
    if (n + 1 > w->strings_cap - w->strings_len || n > UINT32_MAX)
        return fail(w, ENOSPC, "strings exceed strings_cap; open the writer with a larger strings_cap");
    memcpy(w->strings + w->strings_len, s, n + 1);
    ref->offset = (uint32_t)w->strings_len;
    ref->length = (uint32_t)n;
    w->strings_len += n + 1;
    return 0;
}

/* Writes one section at the next 8-byte boundary and records it in the table. */
static int put_section(struct crs_image_writer *w, uint32_t type, uint32_t record_size,
                       const void *data, uint64_t size)
{
    for (uint32_t i = 0; i < w->nsections; i++)
        if (w->table[i].type == type)
            return fail(w, EINVAL, "section added twice; each type may appear once");
    if (w->nsections >= sizeof(w->table) / sizeof(w->table[0]))
        return fail(w, EINVAL, "too many sections");
    int rc = ext_closed(w);
    if (rc || (rc = pad_to(w, SECTION_ALIGN)))
        return rc;
    if (size && (rc = put(w, w->pos, data, (size_t)size)))
        return rc;
    struct crs_section_entry *e = &w->table[w->nsections++];
    e->type = type;
    e->record_size = record_size;
    e->offset = w->pos;
    e->size = size;
    e->checksum = XXH3_64bits(data, (size_t)size);
    w->pos += size;
    return 0;
}

int crs_iw_section(struct crs_image_writer *w, uint32_t type, const void *records,
                   size_t record_size, size_t count)
{
    const struct crs_section_kind *k = crs_section_kind(type);
    if (!k || (k->flags & CRS_SECF_FINISH))
        return fail(w, EINVAL, "unknown section type, or CHUNKS/STRINGS (the writer adds those)");
    if (k->flags & CRS_SECF_REPEAT)
        return fail(w, EINVAL, "extensions are added with crs_iw_extension, not as a section");
    if (record_size == 0 || crs_section_shape(k, record_size, record_size) == CRS_SHAPE_RECORD_SIZE)
        return fail(w, EINVAL, "record size does not match the section type's struct");
    if (count > SIZE_MAX / record_size)
        return fail(w, EOVERFLOW, "section too large");
    struct msg m;
    switch (crs_section_shape(k, record_size, (uint64_t)record_size * count)) {
    case CRS_SHAPE_OK:
        break;
    case CRS_SHAPE_COUNT:
        m = msg_start(w);
        msg_str(&m, "the ");
        msg_str(&m, k->name);
        msg_str(&m, " section holds exactly ");
        msg_u64(&m, k->count);
        msg_str(&m, k->count == 1 ? " record, not " : " records, not ");
        msg_u64(&m, count);
        return -EINVAL;
    case CRS_SHAPE_PAIRS:
        m = msg_start(w);
        msg_str(&m, "the ");
        msg_str(&m, k->name);
        msg_str(&m, " section holds (type, value) pairs; an odd number of words was given");
        return -EINVAL;
    case CRS_SHAPE_RECORD_SIZE:
        return fail(w, EINVAL, "record size does not match the section type's struct");
    }
    return put_section(w, type, (uint32_t)record_size, records, (uint64_t)record_size * count);
}

/* ---- extensions ---- */

/* 1 to CRS_EXT_OWNER_MAX - 1 characters 0x21..0x7e (the reader's rule). */
static int owner_ok(const char *owner)
{
    size_t n = 0;
    while (n < CRS_EXT_OWNER_MAX && owner[n]) {
        if (owner[n] < 0x21 || owner[n] > 0x7e)
            return 0;
        n++;
    }
    return n > 0 && n < CRS_EXT_OWNER_MAX;
}

int crs_iw_extension_begin(struct crs_image_writer *w, const char *owner)
{
    int rc = ext_closed(w);
    if (rc)
        return rc;
    if (!owner || !owner_ok(owner))
        return fail(w, EINVAL, "an extension's owner is 1 to 15 printable ASCII characters "
                               "without spaces (\"mpi\")");
    if (w->nexts >= CRS_EXT_MAX)
        return fail(w, ENOSPC, "more extensions than an image holds (64); "
                               "put more into each extension");
    if (w->nsections >= sizeof(w->table) / sizeof(w->table[0]))
        return fail(w, EINVAL, "too many sections");
    struct crs_ext_head head;
    memset(&head, 0, sizeof(head));
    memcpy(head.owner, owner, strlen(owner));
    if ((rc = pad_to(w, SECTION_ALIGN)) || (rc = put(w, w->pos, &head, sizeof(head))))
        return rc;
    XXH3_64bits_reset(w->ext_hash);
    XXH3_64bits_update(w->ext_hash, &head, sizeof(head));
    w->ext_start = w->pos;
    w->ext_len = 0;
    w->pos += sizeof(head);
    w->ext_open = 1;
    return 0;
}

/* Bytes of the open extension or streamed section: written at the end, hashed, counted. */
static int open_append(struct crs_image_writer *w, const void *bytes, size_t len)
{
    if (len == 0)
        return 0;
    int rc = put(w, w->pos, bytes, len);
    if (rc)
        return rc;
    XXH3_64bits_update(w->ext_hash, bytes, len);
    w->pos += len;
    w->ext_len += len;
    return 0;
}

/* The open extension or streamed section closed: its table entry, of TYPE and SIZE bytes. */
static void open_close(struct crs_image_writer *w, uint32_t type, uint64_t size)
{
    struct crs_section_entry *e = &w->table[w->nsections++];
    e->type = type;
    e->record_size = 1;
    e->offset = w->ext_start;
    e->size = size;
    e->checksum = XXH3_64bits_digest(w->ext_hash);
    w->ext_open = 0;
}

int crs_iw_extension_append(struct crs_image_writer *w, const void *bytes, size_t len)
{
    if (w->ext_open != 1)
        return fail(w, EINVAL, "no extension is open; start one with crs_iw_extension_begin");
    if (len > CRS_EXT_BYTES_MAX - w->ext_len)
        return fail(w, EMSGSIZE, "an extension holds at most 1 GiB; split it into several");
    return open_append(w, bytes, len);
}

int crs_iw_extension_end(struct crs_image_writer *w)
{
    if (w->ext_open != 1)
        return fail(w, EINVAL, "no extension is open; start one with crs_iw_extension_begin");
    open_close(w, CRS_SEC_EXT, sizeof(struct crs_ext_head) + w->ext_len);
    w->nexts++;
    return 0;
}

int crs_iw_extension(struct crs_image_writer *w, const char *owner, const void *bytes, size_t len)
{
    int rc = crs_iw_extension_begin(w, owner);
    if (!rc)
        rc = crs_iw_extension_append(w, bytes, len);
    if (!rc)
        rc = crs_iw_extension_end(w);
    return rc;
}

/* ---- bulk sections, streamed ---- */

int crs_iw_stream_begin(struct crs_image_writer *w, uint32_t type)
{
    const struct crs_section_kind *k = crs_section_kind(type);
    int rc = ext_closed(w);
    if (rc)
        return rc;
    if (!k || !(k->flags & CRS_SECF_BULK))
        return fail(w, EINVAL, "only a bulk section kind (FDATA) is streamed");
    for (uint32_t i = 0; i < w->nsections; i++)
        if (w->table[i].type == type)
            return fail(w, EINVAL, "section added twice; each type may appear once");
    if (w->nsections >= sizeof(w->table) / sizeof(w->table[0]))
        return fail(w, EINVAL, "too many sections");
    if ((rc = pad_to(w, SECTION_ALIGN)))
        return rc;
    XXH3_64bits_reset(w->ext_hash);
    w->ext_start = w->pos;
    w->ext_len = 0;
    w->stream_type = type;
    w->ext_open = 2;
    return 0;
}

int crs_iw_stream_append(struct crs_image_writer *w, const void *bytes, size_t len)
{
    if (w->ext_open != 2)
        return fail(w, EINVAL, "no section is being streamed; start one with crs_iw_stream_begin");
    return open_append(w, bytes, len);
}

uint64_t crs_iw_stream_length(const struct crs_image_writer *w)
{
    return w->ext_open == 2 ? w->ext_len : 0;
}

int crs_iw_stream_end(struct crs_image_writer *w)
{
    if (w->ext_open != 2)
        return fail(w, EINVAL, "no section is being streamed; start one with crs_iw_stream_begin");
    open_close(w, w->stream_type, w->ext_len);
    return 0;
}

/* ---- the end ---- */

void crs_iw_require_version(struct crs_image_writer *w, uint32_t version)
{
    if (CRS_IMAGE_VERSION_UNUSED(version))
        version = CRS_IMAGE_VERSION; /* never written: a reader refuses them */
    if (version > w->min_version && version <= CRS_IMAGE_VERSION)
        w->min_version = version;
}

int crs_iw_finish(struct crs_image_writer *w, const struct crs_image_header *hdr_template)
{
    int rc = ext_closed(w);
    if (rc)
        return rc;
    /* the sections every image holds, except those written here */
    for (uint32_t type = 1; type < CRS_SEC__MAX; type++) {
        const struct crs_section_kind *k = crs_section_kind(type);
        if (!k || (k->flags & (CRS_SECF_REQUIRED | CRS_SECF_FINISH)) != CRS_SECF_REQUIRED)
            continue;
        uint32_t i = 0;
        while (i < w->nsections && w->table[i].type != type)
            i++;
        if (i == w->nsections) {
            struct msg m = msg_start(w);
            msg_str(&m, "no ");
            msg_str(&m, k->name);
            msg_str(&m, " section was added; readers refuse such an image");
            return -EINVAL;
        }
    }

    rc = put_section(w, CRS_SEC_CHUNKS, sizeof(struct crs_rec_chunk), w->chunks,
                     (uint64_t)w->nchunks * sizeof(struct crs_rec_chunk));
    if (!rc)
        rc = put_section(w, CRS_SEC_STRINGS, 1, w->strings, w->strings_len);
    if (!rc)
        rc = pad_to(w, SECTION_ALIGN);
    if (rc)
        return rc;
    uint64_t table_offset = w->pos;
    size_t table_size = w->nsections * sizeof(struct crs_section_entry);
    if ((rc = put(w, table_offset, w->table, table_size)))
        return rc;
    w->pos += table_size;

    struct crs_image_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, CRS_IMAGE_MAGIC, sizeof(h.magic));
    /* the lowest version that has every kind written (image_format.h) */
    h.version = w->min_version > CRS_IMAGE_VERSION_MIN ? w->min_version : CRS_IMAGE_VERSION_MIN;
    for (uint32_t i = 0; i < w->nsections; i++) {
        const struct crs_section_kind *k = crs_section_kind(w->table[i].type);
        if (k->since > h.version)
            h.version = k->since;
    }
    h.header_size = sizeof(h);
    h.image_size = w->pos;
    h.table_offset = table_offset;
    h.section_count = w->nsections;
    h.page_size = hdr_template->page_size ? hdr_template->page_size
                                          : (uint32_t)sysconf(_SC_PAGESIZE);
    h.table_checksum = XXH3_64bits(w->table, table_size);
    h.created_ns = hdr_template->created_ns;
    h.pid = hdr_template->pid;
    h.flags = w->flags;
    memcpy(h.kernel_release, hdr_template->kernel_release, sizeof(h.kernel_release));
    h.kernel_release[sizeof(h.kernel_release) - 1] = '\0';
    memcpy(h.machine, hdr_template->machine, sizeof(h.machine));
    h.machine[sizeof(h.machine) - 1] = '\0';
    h.xfeatures = hdr_template->xfeatures;
    h.xsave_size = hdr_template->xsave_size;
    h.header_checksum = XXH3_64bits(&h, offsetof(struct crs_image_header, header_checksum));

    /* Metadata is in place; the header last, so a crash before this point
     * leaves no valid magic at the start. */
    if ((rc = put(w, 0, &h, sizeof(h))))
        return rc;
    /* Cut off what an older, longer file had beyond the image. */
    struct stat st;
    if (fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size > w->base + w->pos &&
        ftruncate(w->fd, (off_t)(w->base + w->pos)) < 0)
        return fail_io(w, errno, w->pos);
    /* Leave the offset after the image, as if it had been written with write(). */
    if (lseek(w->fd, (off_t)(w->base + w->pos), SEEK_SET) < 0)
        return fail_io(w, errno, w->pos);
    crs_iw_close(w);
    return 0;
}

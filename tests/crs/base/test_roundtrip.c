/*
 * Round trip: the sample image (uncompressed and zstd, without and with
 * extensions) written, read back with every field and byte as written, and
 * written again from what was read gives the same bytes. The writer must not
 * touch malloc meanwhile.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <unistd.h>

#include "image_test.h"
#include "crs/base/image_sections.h"

/* malloc interposed: the writer runs while other threads may hold malloc's
 * locks, so any call from it is a bug. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static volatile int in_writer;

static void no_malloc(void)
{
    static const char m[] = "FAIL: the image writer called malloc/free\n";
    if (write(2, m, sizeof(m) - 1) < 0) { /* nothing more to do */ }
    abort();
}
void *malloc(size_t n) { if (in_writer) no_malloc(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (in_writer) no_malloc(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (in_writer) no_malloc(); return __libc_realloc(p, n); }
void free(void *p) { if (in_writer && p) no_malloc(); __libc_free(p); }

static void guard(int on) { in_writer = on; }

/* Every stored byte reads back as it was in memory. */
static void check_content(struct crs_image *img, int small)
{
    size_t nr;
    const struct sample_range *r = sample_ranges(small, &nr);
    unsigned char *buf = malloc(CRS_CHUNK_MAX);
    uint64_t total = 0, want_total = 0;
    for (size_t i = 0; i < nr; i++)
        want_total += r[i].len;
    for (size_t i = 0; i < img->nchunks; i++) {
        const struct crs_rec_chunk *c = &img->chunks[i];
        if (crs_image_read_chunk(img, i, buf))
            FAILF("chunk %zu: %s", i, img->err);
        size_t k = 0;
        while (k < nr && !(c->vaddr >= r[k].vaddr && c->vaddr + c->length <= r[k].vaddr + r[k].len))
            k++;
        if (k == nr)
            FAILF("chunk %zu at 0x%" PRIx64 " matches no stored range", i, c->vaddr);
        if (memcmp(buf, r[k].data + (c->vaddr - r[k].vaddr), c->length))
            FAILF("chunk %zu at 0x%" PRIx64 " differs from the memory written", i, c->vaddr);
        total += c->length;
    }
    ASSERT_EQ(total, want_total);
    free(buf);
}

/* The extensions as written, in order, and found by owner. */
static void check_exts(struct crs_image *img, int with_ext)
{
    size_t nx;
    const struct sample_ext *x = sample_exts(&nx);
    if (!with_ext) {
        ASSERT_EQ(img->nexts, 0);
        ASSERT_TRUE(crs_image_extension(img, "mpi", NULL) == NULL);
        return;
    }
    ASSERT_EQ(img->nexts, nx);
    for (size_t i = 0; i < nx; i++) {
        ASSERT_STREQ(img->exts[i].owner, x[i].owner);
        ASSERT_EQ(img->exts[i].len, x[i].len);
        ASSERT_TRUE(x[i].len == 0 || memcmp(img->exts[i].data, x[i].data, x[i].len) == 0);
    }
    /* each section's checksum is that of its head and bytes */
    for (uint32_t i = 0, k = 0; i < img->hdr.section_count; i++)
        if (img->table[i].type == CRS_SEC_EXT)
            ASSERT_EQ(img->exts[k++].checksum, img->table[i].checksum);
    const struct crs_image_ext *m = crs_image_extension(img, "mpi", NULL);
    ASSERT_TRUE(m == &img->exts[0]);
    m = crs_image_extension(img, "mpi", m);
    ASSERT_TRUE(m == &img->exts[2]);
    ASSERT_TRUE(crs_image_extension(img, "mpi", m) == NULL);
    ASSERT_TRUE(crs_image_extension(img, "test.counters", NULL) == &img->exts[1]);
    ASSERT_TRUE(crs_image_extension(img, "mp", NULL) == NULL);
}

/* SAMPLE_KOBJ's version-3 content. */
static void check_kobjs(struct crs_image *img)
{
    ASSERT_EQ(img->nfds, 10);
    ASSERT_EQ(img->fds[8].kind, CRS_FD_INHERITED);
    ASSERT_EQ(img->fds[9].kind, CRS_FD_FOBJ);
    ASSERT_EQ(img->fds[9].memfd, 0);
    ASSERT_EQ(img->nfobjs, 1);
    ASSERT_EQ(img->fobjs[0].kind, CRS_FOBJ_DELETED);
    ASSERT_STREQ(crs_image_str(img, img->fobjs[0].path), "/tmp/scratch.dat");
    ASSERT_EQ(img->nfextents, 2);
    ASSERT_EQ(img->fextents[1].offset, 32768);
    ASSERT_TRUE(img->fdata == NULL);   /* bulk: left on disk */
    char buf[64] = "";
    ASSERT_EQ(crs_image_read_fextent(img, 0, buf), 0);
    ASSERT_TRUE(!memcmp(buf, "the first extent of the scratch file\n", 37));
    ASSERT_EQ(img->ntimers, 2);
    ASSERT_EQ(img->timers[1].id, 3);
    ASSERT_EQ(img->timers[1].tid, 4243);
    ASSERT_EQ(img->timers[0].interval_ns, 50000000);
    ASSERT_EQ(img->nlocks, 3);
    ASSERT_EQ(img->locks[2].kind, CRS_LOCK_FLOCK);
    ASSERT_EQ(img->locks[0].len, 20);
    ASSERT_EQ(img->nkfds, 3);
    ASSERT_EQ(img->kfds[1].d, 2);
    ASSERT_EQ(img->nepoll_tgts, 2);
    ASSERT_EQ(img->epoll_tgts[1].events, 0x80000001u);
    ASSERT_EQ(img->ninwatches, 1);
    ASSERT_STREQ(crs_image_str(img, img->inwatches[0].path), "/home/user/watched");
    ASSERT_EQ(img->nsockets, 6);
    ASSERT_EQ(img->sockets[3].nmsgs, 2);
    ASSERT_EQ(img->sockets[4].state, CRS_SOCK_LISTEN);
    ASSERT_EQ(img->sockdata_len, 13);
    ASSERT_EQ(img->nsockopts, 2);
    ASSERT_EQ(img->sockopts[1].socket, 4);
    ASSERT_EQ(img->sockopts[1].value[0], 77);
    ASSERT_EQ(img->nmcasts, 2);
    ASSERT_EQ(img->mcasts[1].group[0], 232);
    ASSERT_EQ(img->mcasts[1].nsrc, 1);
    ASSERT_STREQ(img->mcasts[1].ifname, "lo");
    ASSERT_EQ(img->nmcast_srcs, 1);
    ASSERT_EQ(img->mcast_srcs[0].addr[0], 127);
    ASSERT_EQ(img->nepoll_edges, 1);
    ASSERT_EQ(img->epoll_edges[0].target, 1);
    ASSERT_EQ(img->epoll_edges[0].flags, CRS_EPOLL_EDGE_CONSUMED);
    ASSERT_EQ(img->nfdowns, 2);
    ASSERT_EQ(img->fdowns[0].fd, 8);
    ASSERT_EQ(img->fdowns[0].id, 4242);
    ASSERT_EQ(img->fdowns[0].who, CRS_FDOWN_SELF);
    ASSERT_EQ(img->fdowns[1].who, CRS_FDOWN_NONE);
    ASSERT_EQ(img->nthread_attrs, 2);
    ASSERT_EQ(img->thread_attrs[0].nice, 5);
    ASSERT_EQ(img->thread_attrs[0].timerslack_ns, 250000);
    ASSERT_EQ(img->thread_attrs[0].seccomp, 2);
    ASSERT_EQ(img->thread_attrs[1].seccomp, 1);
    ASSERT_EQ(img->nseccomps, 2);
    ASSERT_EQ(img->seccomps[0].len, 4);
    ASSERT_EQ(img->seccomps[0].flags, SECCOMP_FILTER_FLAG_TSYNC);
    ASSERT_EQ(img->seccomps[1].data, 4);
    ASSERT_EQ(img->nseccompdata, 5);
}

static void check_fields(struct crs_image *img, int level, int with_ext, int with_kobj)
{
    /* version 2 only when extensions need it, 20 for kernel objects with socket options, consumed
     * epoll edges, descriptor owners, thread attributes, seccomp filters and multicast groups
     * (image_format.h) */
    ASSERT_EQ(img->hdr.version, with_kobj ? 20 : with_ext ? 2 : 1);
    ASSERT_EQ(img->hdr.section_count, (with_ext ? 15 : 12) + (with_kobj ? 18 : 0));
    if (with_kobj)
        check_kobjs(img);
    check_exts(img, with_ext);
    ASSERT_EQ(img->hdr.pid, 4242);
    ASSERT_EQ(img->hdr.page_size, 4096);
    ASSERT_STREQ(img->hdr.machine, "x86_64");
    ASSERT_TRUE(img->hdr.kernel_release[0] != '\0');
    ASSERT_EQ(img->hdr.created_ns, 1700000000000000000ULL);
    ASSERT_EQ(img->process->pid, 4242);
    ASSERT_EQ(img->process->umask, 022);
    ASSERT_STREQ(crs_image_str(img, img->process->exe), "/usr/bin/sample");
    ASSERT_STREQ(crs_image_str(img, img->process->cwd), "/home/user");
    ASSERT_STREQ(crs_image_str(img, img->process->cmdline), "sample --iterations 3");
    ASSERT_EQ(img->nthreads, 2);
    ASSERT_EQ(img->threads[1].tid, 4243);
    ASSERT_EQ(img->threads[0].ctx.rip, 0x20000100);
    ASSERT_EQ(img->nregions, 6);
    ASSERT_STREQ(crs_image_str(img, img->regions[2].name), "[heap]");
    ASSERT_STREQ(crs_image_str(img, img->regions[0].name), "");
    ASSERT_EQ(img->nfiles, 1);
    ASSERT_STREQ(crs_image_str(img, img->files[0].path), "/usr/lib/libsample.so.1");
    ASSERT_EQ(img->files[0].build_id[19], 0xa0 + 19);
    ASSERT_EQ(img->nmemfds, 1);
    ASSERT_STREQ(crs_image_str(img, img->memfds[0].name), "shm");
    ASSERT_EQ(img->nfds, with_kobj ? 10 : 8);
    ASSERT_EQ(img->fds[3].offset, 12345);
    ASSERT_EQ(img->fds[3].dup_of, -1);
    ASSERT_EQ(img->fds[6].kind, CRS_FD_PIPE);
    ASSERT_EQ(img->fds[6].memfd, 0);
    ASSERT_EQ(img->npipes, 2);
    ASSERT_EQ(img->pipes[0].data_length, 23);
    ASSERT_EQ(img->pipedata_len, 23);
    ASSERT_TRUE(memcmp(img->pipedata, "bytes held in the pipe\n", 23) == 0);
    ASSERT_STREQ(crs_image_str(img, img->fds[3].path), "/home/user/data \"x\".txt");
    ASSERT_EQ(img->nsigactions, 64);
    ASSERT_EQ(img->sigactions[SIGINT - 1].handler, 0x20000200);
    ASSERT_EQ(img->nauxv, 6);
    ASSERT_EQ(img->auxv[1], 4096);
    /* 4 MiB + 2 pages of heap split at CRS_CHUNK_MAX: 7 chunks */
    ASSERT_EQ(img->nchunks, 7);
    ASSERT_EQ(img->chunks[2].length, CRS_CHUNK_MAX);
    ASSERT_EQ(img->chunks[3].vaddr, 0x30000000 + CRS_CHUNK_MAX);
    int zstd = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        ASSERT_EQ(img->chunks[i].data_offset % CRS_IMAGE_ALIGN, 0);
        zstd += img->chunks[i].compression == CRS_CHUNK_ZSTD;
    }
    if (level) {
        /* the repeated-text heap compresses; the random pages are stored as they are */
        ASSERT_TRUE(img->hdr.flags & CRS_IMAGE_F_COMPRESSED);
        ASSERT_EQ(img->chunks[2].compression, CRS_CHUNK_ZSTD);
        ASSERT_TRUE(img->chunks[2].stored_length < CRS_CHUNK_MAX / 100);
        ASSERT_EQ(img->chunks[4].compression, 0);
        ASSERT_EQ(img->chunks[4].stored_length, 3 * 4096);
    } else {
        ASSERT_EQ(img->hdr.flags, 0);
        ASSERT_EQ(zstd, 0);
    }
}

/* Every section type of the format has one kind in image_sections.def. */
static void check_kinds(void)
{
    ASSERT_TRUE(crs_section_kind(0) == NULL);
    ASSERT_TRUE(crs_section_kind(CRS_SEC__MAX) == NULL);
    for (uint32_t type = 1; type < CRS_SEC__MAX; type++) {
        const struct crs_section_kind *k = crs_section_kind(type);
        if (!k)
            FAILF("section type %u has no row in image_sections.def", type);
        ASSERT_EQ(k->type, type);
        ASSERT_TRUE(k->since >= 1 && k->since <= CRS_IMAGE_VERSION);
        ASSERT_TRUE(k->record_size > 0 && k->name[0]);
        for (uint32_t other = 1; other < type; other++)
            if (!strcmp(crs_section_name(other), k->name))
                FAILF("section types %u and %u are both named %s", other, type, k->name);
    }
}

int main(void)
{
    check_kinds();
    size_t nr;
    sample_ranges(0, &nr); /* allocate the sample memory before any guard */
    sample_writer_guard = guard;
    for (int run = 0; run < 8; run++) {
        int level = run & 1 ? 3 : 0, flags = (run & 2 ? SAMPLE_EXT : 0) | (run & 4 ? SAMPLE_KOBJ : 0);
        char *a = temp_path("rt-a"), *b = temp_path("rt-b"), err[256] = "";
        int fd = open(a, O_RDWR | O_TRUNC);
        int rc = sample_image_write(fd, level, flags, err);
        if (rc)
            FAILF("writing the sample image (zstd %d, flags %d): %s", level, flags, err);
        close(fd);

        struct crs_image img;
        if (crs_image_open(&img, a))
            FAILF("reading back (zstd %d, flags %d): %s", level, flags, img.err);
        check_fields(&img, level, flags & SAMPLE_EXT, flags & SAMPLE_KOBJ);
        check_content(&img, 0);
        if (crs_image_verify_chunks(&img))
            FAILF("verify: %s", img.err);

        size_t la, lb;
        unsigned char *da = slurp(a, &la);
        ASSERT_EQ(la, img.hdr.image_size);

        fd = open(b, O_RDWR | O_TRUNC);
        if (image_rewrite(&img, fd, level))
            FAILF("rewriting (zstd %d, flags %d) failed", level, flags);
        close(fd);
        unsigned char *db = slurp(b, &lb);
        ASSERT_EQ(lb, la);
        for (size_t i = 0; i < la; i++)
            if (da[i] != db[i])
                FAILF("zstd %d, flags %d: rewritten image differs first at byte %zu (%02x, expected %02x)",
                      level, flags, i, db[i], da[i]);
        crs_image_close(&img);
        unlink(a);
        unlink(b);
        free(da);
        free(db);
        free(a);
        free(b);
        printf("ok zstd %d%s%s: %zu bytes, write -> read -> write identical\n", level,
               flags & SAMPLE_EXT ? ", extensions" : "", flags & SAMPLE_KOBJ ? ", kernel objects" : "", la);
    }
    return 0;
}

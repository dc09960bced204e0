/*
 * Direct writes through the bounce buffer (image.h, crs_iw_direct): the sample image written
 * directly, uncompressed and with zstd, with huge pages, with 4 KiB pages, and with a range
 * added with direct_skip set, is byte for byte the image written buffered, reads back and
 * verifies; its page data is not left in the page cache; the bounce buffer is unmapped after;
 * without huge pages (CRS_IW_DIRECT_NO_HUGE, as with THP off) and on tmpfs the writer stays
 * buffered. And the writer only reads the process's pages: memory the process shares
 * copy-on-write with a child stays shared after its pages were written directly (a direct write
 * from them would pin them, and the kernel unshares a page it pins).
 * A part that cannot run here (no ext4/XFS under $TMPDIR, THP off) prints SKIP-PART.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_test.h"

#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC 0xEF53
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

/* Whether this process gets transparent huge pages: not with THP [never], nor when it was
 * started with PR_SET_THP_DISABLE (inherited across fork and exec: a runner may start tests so;
 * the writer then stays buffered, diffrev36 R-M1). */
static int thp_on(void)
{
    char buf[64] = "";
    if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1)
        return 0;
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    return buf[0] && !strstr(buf, "[never]");
}

/* Whether [p, p+1) is mapped in this process (/proc/self/maps). */
static int mapped(const void *p)
{
    FILE *f = fopen("/proc/self/maps", "r");
    unsigned long a, b, x = (unsigned long)p;
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && x >= a && x < b)
            found = 1;
    if (f)
        fclose(f);
    return found;
}

/* The sample image written into a fresh file in `dir`; returns its path (malloc'd). */
static char *write_sample(const char *dir, int level, int direct, unsigned flags, int skip)
{
    char *path;
    if (asprintf(&path, "%s/revive-direct-%d-XXXXXX", dir, (int)getpid()) < 0)
        FAILF("out of memory");
    int fd = mkstemp(path), rc;
    if (fd < 0)
        FAILF("mkstemp %s: %s", path, strerror(errno));
    char err[256] = "";
    sample_direct = direct;
    sample_direct_flags = flags;
    sample_direct_skip = skip;
    rc = sample_image_write(fd, level, 0, err);
    sample_direct = 0;
    sample_direct_skip = -1;
    if (rc)
        FAILF("writing the sample image (zstd %d, direct %d, flags %u): %s", level, direct, flags, err);
    if (fsync(fd))
        FAILF("fsync: %s", strerror(errno));
    close(fd);
    if (sample_direct_buf && mapped(sample_direct_buf))
        FAILF("the bounce buffer at %p is still mapped after crs_iw_finish", sample_direct_buf);
    return path;
}

/* The image at `path` is `want` byte for byte and reads back with verified chunks. */
static void same_image(const char *path, const unsigned char *want, size_t want_len, const char *what)
{
    size_t len;
    unsigned char *got = slurp(path, &len);
    if (len != want_len)
        FAILF("%s: %zu bytes, the buffered image %zu", what, len, want_len);
    for (size_t i = 0; i < len; i++)
        if (got[i] != want[i])
            FAILF("%s: byte %zu is 0x%02x, the buffered image's 0x%02x", what, i, got[i], want[i]);
    free(got);
    struct crs_image img;
    int fd = open(path, O_RDONLY);
    if (crs_image_open_fd(&img, fd, what) || crs_image_verify_chunks(&img))
        FAILF("%s: %s", what, img.err);
    ASSERT_EQ(img.nchunks, 7);
    crs_image_close(&img);
}

/* Bytes of the file at `path` in the page cache (mincore of a mapping that is never touched). */
static size_t cached_bytes(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st))
        FAILF("%s: %s", path, strerror(errno));
    *size = (size_t)st.st_size;
    void *m = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        FAILF("mmap %s: %s", path, strerror(errno));
    size_t pages = (*size + 4095) / 4096, n = 0;
    unsigned char *vec = malloc(pages);
    if (mincore(m, *size, vec))
        FAILF("mincore: %s", strerror(errno));
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    free(vec);
    munmap(m, *size);
    close(fd);
    return n * 4096;
}

/* kB of Shared_Dirty of the mapping at `p` (/proc/self/smaps). */
static long shared_dirty_kb(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    unsigned long a, b, x = (unsigned long)p;
    char line[512];
    int in = 0;
    long kb = -1;
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = x >= a && x < b;
        else if (in && sscanf(line, "Shared_Dirty: %ld kB", &kb) == 1)
            break;
    }
    if (f)
        fclose(f);
    return kb;
}

/* 16 MiB that the process shares copy-on-write with a child, written directly: still shared. */
static void cow_child(const char *dir)
{
    size_t len = 16u << 20;
    unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        FAILF("mmap: %s", strerror(errno));
    madvise(mem, len, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < len; i += 64)
        mem[i] = (unsigned char)(i / 4096 + 1);
    int go[2];
    if (pipe(go))
        FAILF("pipe");
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) < 0);
    }
    close(go[0]);
    long before = shared_dirty_kb(mem);

    char *path;
    if (asprintf(&path, "%s/revive-direct-cow-%d-XXXXXX", dir, (int)getpid()) < 0)
        FAILF("out of memory");
    int fd = mkstemp(path);
    size_t slen = crs_iw_scratch_size(64, 4096, 0);
    void *scratch = malloc(slen);
    struct crs_image_writer w;
    int rc = crs_iw_open(&w, fd, scratch, slen, 64, 4096, 0);
    if (rc)
        FAILF("crs_iw_open: %s", w.err);
    /* without huge pages the buffer of 4 KiB pages: the same copy, so the same no-pin property */
    int on = crs_iw_direct(&w, thp_on() ? 0 : CRS_IW_DIRECT_NO_HUGE | CRS_IW_DIRECT_SMALL_PAGES);
    rc = crs_iw_add_pages(&w, 0x10000000, mem, len);
    if (rc)
        FAILF("crs_iw_add_pages: %s", w.err);
    /* 16 MiB: four full bounce buffers, all written; the header and sections are not (the
     * writer is given up), the chunks' bytes in the file are the memory's */
    crs_iw_close(&w);
    long after = shared_dirty_kb(mem);
    unsigned char *back = malloc(len);
    ASSERT_EQ(pread(fd, back, len, CRS_IMAGE_ALIGN), (ssize_t)len);
    ASSERT_TRUE(memcmp(back, mem, len) == 0);
    free(back);
    close(fd);
    unlink(path);
    close(go[1]);
    waitpid(child, NULL, 0);
    printf("cow: direct %d, Shared_Dirty %ld -> %ld kB\n", on, before, after);
    ASSERT_EQ(on, 1);
    ASSERT_TRUE(before >= 15 * 1024);
    if (after < before - 1024)
        FAILF("the writer's direct writes unshared %ld kB the process shared copy-on-write with its child",
              before - after);
    free(scratch);
    free(path);
    munmap(mem, len);
}

int main(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    struct statfs sf;
    if (statfs(dir, &sf) || (sf.f_type != EXT4_SUPER_MAGIC && sf.f_type != XFS_SUPER_MAGIC)) {
        printf("SKIP-PART: direct writes (%s is not on ext4 or XFS, where the writer writes directly)\n", dir);
        dir = NULL;
    }
    int huge = thp_on();
    if (!huge)
        printf("SKIP-PART: direct writes on huge pages (THP [never] here, or this process started with PR_SET_THP_DISABLE)\n");
    int parts = 0;
    for (int level = 0; level <= 3; level += 3) {
        /* the reference: buffered */
        char *ref = write_sample(dir ? dir : "/tmp", level, 0, 0, -1);
        size_t ref_len;
        unsigned char *want = slurp(ref, &ref_len);
        if (dir) {
            struct {
                const char *what;
                unsigned flags;
                int skip, on;
            } v[] = {
                { "direct, huge pages", 0, -1, huge },
                { "direct, 4 KiB pages", CRS_IW_DIRECT_NO_HUGE | CRS_IW_DIRECT_SMALL_PAGES, -1, 1 },
                { "no huge pages: buffered", CRS_IW_DIRECT_NO_HUGE, -1, 0 },
                { "direct, the long range skipped", CRS_IW_DIRECT_SMALL_PAGES, 2, 1 },
                { "direct, the first range skipped", CRS_IW_DIRECT_SMALL_PAGES, 0, 1 },
            };
            for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                char what[128];
                snprintf(what, sizeof(what), "%s, zstd %d", v[i].what, level);
                char *p = write_sample(dir, level, 1, v[i].flags, v[i].skip);
                if (sample_direct_on != v[i].on)
                    FAILF("%s: crs_iw_direct returned %d, expected %d", what, sample_direct_on, v[i].on);
                if (level == 0 && v[i].on && v[i].skip < 0) { /* before anything reads it */
                    size_t size, cached = cached_bytes(p, &size);
                    printf("%s: %zu of %zu bytes in the page cache\n", what, cached, size);
                    if (cached > size / 4)
                        FAILF("%s: %zu of the image's %zu bytes in the page cache (written buffered)",
                              what, cached, size);
                }
                same_image(p, want, ref_len, what);
                unlink(p);
                free(p);
                parts++;
            }
        }
        /* tmpfs: no direct writes, the same image */
        struct statfs shm;
        if (statfs("/dev/shm", &shm) == 0 && shm.f_type == 0x01021994 /* TMPFS_MAGIC */) {
            char *p = write_sample("/dev/shm", level, 1, CRS_IW_DIRECT_SMALL_PAGES, -1);
            if (sample_direct_on)
                FAILF("tmpfs, zstd %d: crs_iw_direct turned direct writes on", level);
            same_image(p, want, ref_len, "tmpfs");
            unlink(p);
            free(p);
            parts++;
        } else {
            printf("SKIP-PART: tmpfs (/dev/shm is not a tmpfs here)\n");
        }
        free(want);
        unlink(ref);
        free(ref);
    }
    if (dir) {
        cow_child(dir);
        parts++;
    }
    printf("test_direct: %d parts passed\n", parts);
    return 0;
}

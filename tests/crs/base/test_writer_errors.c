/*
 * The writer's refusals: each returns -errno with a message that says what
 * to do, and a full disk or file size limit is reported, not ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "image_test.h"

static char page[2 * 4096] __attribute__((aligned(4096)));

#define EXPECT(call, errno_, text) do { \
    int rc_ = (call); \
    ASSERT_EQ(rc_, -(errno_)); \
    if (!strstr(w.err, text)) FAILF("message \"%s\" lacks \"%s\"", w.err, text); } while (0)

int main(void)
{
    char *path = temp_path("werr");
    int fd = open(path, O_RDWR | O_TRUNC);
    struct crs_image_writer w;
    size_t slen = crs_iw_scratch_size(2, 32, 0);
    void *scratch = malloc(slen);
    struct crs_rec_process proc = { .pid = 1 };
    struct crs_strref ref;

    EXPECT(crs_iw_open(&w, fd, scratch, 100, 2, 32, 0), ENOMEM, "crs_iw_scratch_size");

    ASSERT_EQ(crs_iw_open(&w, fd, scratch, slen, 2, 32, 0), 0);
    EXPECT(crs_iw_add_pages(&w, 0x1000, page, 100), EINVAL, "whole number of pages");
    ASSERT_EQ(crs_iw_add_pages(&w, 0x10000, page, 4096), 0);
    EXPECT(crs_iw_add_pages(&w, 0x8000, page, 4096), EINVAL, "out of address order");
    ASSERT_EQ(crs_iw_add_pages(&w, 0x20000, page, 4096), 0);
    EXPECT(crs_iw_add_pages(&w, 0x30000, page, 4096), ENOSPC, "larger max_chunks");
    EXPECT(crs_iw_string(&w, "a string longer than thirty-two bytes", &ref), ENOSPC,
           "larger strings_cap");
    EXPECT(crs_iw_section(&w, CRS_SEC_CHUNKS, &proc, sizeof(proc), 1), EINVAL, "the writer adds");
    EXPECT(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, 8, 1), EINVAL, "record size");
    uint64_t auxv[3] = { 6, 4096, 0 };
    EXPECT(crs_iw_section(&w, CRS_SEC_AUXV, auxv, sizeof(uint64_t), 3), EINVAL, "odd number");
    EXPECT(crs_iw_section(&w, CRS_SEC_SIGNALS, &proc, sizeof(struct crs_rec_sigaction), 1), EINVAL,
           "exactly 64");
    EXPECT(crs_iw_finish(&w, &(struct crs_image_header){ .pid = 1 }), EINVAL, "no PROCESS");
    ASSERT_EQ(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1), 0);
    EXPECT(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1), EINVAL, "added twice");
    ASSERT_EQ(crs_iw_finish(&w, &(struct crs_image_header){ .pid = 1 }), 0);
    struct crs_image img;
    if (crs_image_open(&img, path) == 0)
        FAILF("an image whose chunks lie outside every region was accepted");
    if (!strstr(img.err, "outside every region"))
        FAILF("message \"%s\"", img.err);

    /* extensions: owners, the open/close protocol, sizes and the count */
    struct crs_image_header hdr = { .pid = 1 };
    ASSERT_TRUE(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
    ASSERT_EQ(crs_iw_open(&w, fd, scratch, slen, 2, 32, 0), 0);
    EXPECT(crs_iw_extension(&w, "", page, 1), EINVAL, "owner is 1 to 15 printable");
    EXPECT(crs_iw_extension(&w, "two words", page, 1), EINVAL, "without spaces");
    EXPECT(crs_iw_extension(&w, "sixteen-chars-xx", page, 1), EINVAL, "1 to 15");
    EXPECT(crs_iw_extension(&w, "caf\xc3\xa9", page, 1), EINVAL, "printable ASCII");
    EXPECT(crs_iw_extension(&w, NULL, page, 1), EINVAL, "owner");
    EXPECT(crs_iw_extension_append(&w, page, 1), EINVAL, "no extension is open");
    EXPECT(crs_iw_extension_end(&w), EINVAL, "no extension is open");
    EXPECT(crs_iw_section(&w, CRS_SEC_EXT, page, 1, 16), EINVAL, "crs_iw_extension");
    ASSERT_EQ(crs_iw_extension_begin(&w, "fifteen-chars-x"), 0);
    EXPECT(crs_iw_extension_begin(&w, "mpi"), EINVAL, "still open");
    EXPECT(crs_iw_add_pages(&w, 0x10000, page, 4096), EINVAL, "still open");
    EXPECT(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1), EINVAL, "still open");
    EXPECT(crs_iw_finish(&w, &hdr), EINVAL, "still open");
    EXPECT(crs_iw_extension_append(&w, page, (size_t)CRS_EXT_BYTES_MAX + 1), EMSGSIZE, "at most 1 GiB");
    ASSERT_EQ(crs_iw_extension_append(&w, page, 10), 0);
    EXPECT(crs_iw_extension_append(&w, page, (size_t)CRS_EXT_BYTES_MAX - 9), EMSGSIZE, "at most 1 GiB");
    ASSERT_EQ(crs_iw_extension_end(&w), 0);
    for (int i = 1; i < CRS_EXT_MAX; i++)
        ASSERT_EQ(crs_iw_extension(&w, "mpi", page, 8), 0);
    EXPECT(crs_iw_extension(&w, "mpi", page, 8), ENOSPC, "more extensions than an image holds");
    ASSERT_EQ(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1), 0);
    ASSERT_EQ(crs_iw_finish(&w, &hdr), 0);
    if (crs_image_open(&img, path))
        FAILF("the image of %d extensions is refused: %s", CRS_EXT_MAX, img.err);
    ASSERT_EQ(img.hdr.version, 2);
    ASSERT_EQ(img.nexts, CRS_EXT_MAX);
    ASSERT_STREQ(img.exts[0].owner, "fifteen-chars-x");
    ASSERT_EQ(img.exts[0].len, 10);
    ASSERT_EQ(img.exts[1].len, 8);
    crs_image_close(&img);

    /* a full disk: /dev/full seeks but every write fails with ENOSPC */
    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        EXPECT(crs_iw_open(&w, full, scratch, slen, 2, 32, 0), ENOSPC, "free space");
        close(full);
    }

    /* a file size limit: EFBIG in the middle of the page data */
    free(scratch);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = { 64 << 10, 64 << 10 };
    if (setrlimit(RLIMIT_FSIZE, &rl))
        FAILF("setrlimit");
    char err[256] = "";
    ASSERT_TRUE(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
    int rc = sample_image_write(fd, 0, 0, err);
    ASSERT_EQ(rc, -EFBIG);
    if (!strstr(err, "writing byte") || !strstr(err, "free space"))
        FAILF("message \"%s\"", err);
    close(fd);
    unlink(path);
    free(path);
    printf("ok: writer refusals and write failures reported\n");
    return 0;
}

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

/*
 * Images written where files already had bytes: over an older, longer file
 * (BLCR's cr_request_fd pattern), at a non-zero offset of a descriptor, and
 * with bytes following the image; and a descriptor that cannot seek.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_test.h"

static void must_read_back(int fd, const char *what)
{
    struct crs_image img;
    if (crs_image_open_fd(&img, fd, what) || crs_image_verify_chunks(&img))
        FAILF("%s: %s", what, img.err);
    ASSERT_EQ(img.process->pid, 4242);
    ASSERT_EQ(img.nchunks, 7);
    crs_image_close(&img);
}

static void fill_junk(int fd, size_t len, int byte)
{
    char *junk = malloc(len);
    memset(junk, byte, len);
    if (write(fd, junk, len) != (ssize_t)len)
        FAILF("write junk");
    free(junk);
}

int main(void)
{
    char *path = temp_path("over"), err[256] = "";
    struct stat st;

    /* 1. over an older, longer file, opened without O_TRUNC */
    int fd = open(path, O_RDWR | O_TRUNC);
    fill_junk(fd, 16 << 20, 0xaa);
    close(fd);
    fd = open(path, O_WRONLY);
    if (sample_image_write(fd, 0, 0, err))
        FAILF("over a longer file: %s", err);
    off_t end = lseek(fd, 0, SEEK_CUR);
    close(fd);
    if (stat(path, &st))
        FAILF("stat");
    ASSERT_TRUE(st.st_size < (16 << 20));
    ASSERT_EQ(end, st.st_size); /* the offset is left after the image */
    must_read_back(open(path, O_RDONLY), "over a longer file");

    /* 2. bytes after the image's end (a file that could not be cut) are ignored */
    fd = open(path, O_WRONLY | O_APPEND);
    fill_junk(fd, 5000, 0x55);
    close(fd);
    must_read_back(open(path, O_RDONLY), "followed by other bytes");

    /* 3. at offset 8192 of a descriptor, zstd-compressed */
    fd = open(path, O_RDWR | O_TRUNC);
    fill_junk(fd, 8192, 0x11);
    if (sample_image_write(fd, 3, 0, err))
        FAILF("at offset 8192: %s", err);
    close(fd);
    fd = open(path, O_RDONLY);
    lseek(fd, 8192, SEEK_SET);
    must_read_back(fd, "at offset 8192");
    /* ... and read from offset 0 it is not an image */
    struct crs_image img;
    ASSERT_TRUE(crs_image_open(&img, path) < 0);
    ASSERT_TRUE(strstr(img.err, "not a Revive image") != NULL);

    /* 4. a pipe cannot take an image: the header goes in last, at the start */
    int p[2];
    if (pipe(p))
        FAILF("pipe");
    int rc = sample_image_write(p[1], 0, SAMPLE_SMALL, err);
    ASSERT_EQ(rc, -ESPIPE);
    ASSERT_TRUE(strstr(err, "not seekable") != NULL);
    ASSERT_TRUE(crs_image_open_fd(&img, p[0], "pipe") < 0);
    ASSERT_TRUE(strstr(img.err, "not a regular file") != NULL);
    close(p[1]);

    /* 5. O_APPEND would make every pwrite append */
    fd = open(path, O_WRONLY | O_APPEND);
    rc = sample_image_write(fd, 0, SAMPLE_SMALL, err);
    ASSERT_EQ(rc, -EINVAL);
    ASSERT_TRUE(strstr(err, "O_APPEND") != NULL);
    close(fd);

    /* 6. a missing file */
    ASSERT_EQ(crs_image_open(&img, "/nonexistent/context.1"), -ENOENT);
    ASSERT_TRUE(strstr(img.err, "image /nonexistent/context.1: cannot open") != NULL);

    unlink(path);
    free(path);
    printf("ok: longer file, trailing bytes, offset 8192, pipe, missing file\n");
    return 0;
}

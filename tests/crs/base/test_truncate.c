/*
 * An image (small, with extensions) cut at any length is refused at open with a message that says it
 * is truncated (or empty), never read past its end and never crashes; at a path of ~PATH_MAX
 * bytes the message is whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_test.h"

/* The same cut image in a directory as deep as the system allows (its path ~PATH_MAX - 16
 * bytes): the message names the whole path and still says what to do (the reader's message
 * was 512 bytes: a path over ~380 bytes lost the words after it). */
static void deep_path(const unsigned char *orig, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/revive-deep-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    size_t top = strlen(dir);
    if (mkdir(dir, 0700) != 0)
        FAILF("mkdir %s: %s", dir, strerror(errno));
    while (strlen(dir) + 1 + 250 + sizeof "/rank_0.img" < PATH_MAX - 16) {
        size_t l = strlen(dir);
        dir[l] = '/';
        memset(dir + l + 1, 'q', 250);
        dir[l + 251] = 0;
        if (mkdir(dir, 0700) != 0)
            FAILF("mkdir (%zu bytes): %s", strlen(dir), strerror(errno));
    }
    snprintf(path, sizeof path, "%s/rank_0.img", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, orig, len - 1) != (ssize_t)(len - 1))
        FAILF("writing %zu bytes at a %zu-byte path: %s", len - 1, strlen(path), strerror(errno));
    close(fd);
    struct crs_image img;
    if (crs_image_open(&img, path) == 0)
        FAILF("a cut image at a deep path was accepted");
    if (!strstr(img.err, path) || !strstr(img.err, "truncated at byte") ||
        !strstr(img.err, "use an earlier checkpoint"))
        FAILF("at a %zu-byte path the message is cut (%zu bytes): ...%s", strlen(path),
              strlen(img.err), img.err + (strlen(img.err) > 200 ? strlen(img.err) - 200 : 0));
    crs_image_close(&img);
    unlink(path);
    while (strlen(dir) > top) {
        rmdir(dir);
        *strrchr(dir, '/') = 0;
    }
    rmdir(dir);
}

int main(void)
{
    char *path = temp_path("trunc"), err[256] = "";
    int fd = open(path, O_RDWR | O_TRUNC);
    if (sample_image_write(fd, 3, SAMPLE_SMALL | SAMPLE_EXT | SAMPLE_KOBJ, err))
        FAILF("writing the sample: %s", err);
    size_t len;
    unsigned char *orig = slurp(path, &len);

    for (size_t cut = len; cut-- > 0;) {
        if (ftruncate(fd, (off_t)cut))
            FAILF("ftruncate");
        struct crs_image img;
        int rc = crs_image_open(&img, path);
        if (rc == 0)
            FAILF("image cut to %zu of %zu bytes was accepted", cut, len);
        const char *want = cut == 0 ? "is empty" : "truncated at byte";
        if (!strstr(img.err, want))
            FAILF("cut to %zu bytes: message \"%s\" does not say \"%s\"", cut, img.err, want);
        if (cut == len - 1 && !strstr(img.err, "use an earlier checkpoint"))
            FAILF("message \"%s\" does not say what to do", img.err);
        crs_image_close(&img);
    }
    deep_path(orig, len);
    /* and the whole file is fine again once the bytes are back */
    if (pwrite(fd, orig, len, 0) != (ssize_t)len)
        FAILF("pwrite");
    struct crs_image img;
    if (crs_image_open(&img, path) || crs_image_verify_chunks(&img))
        FAILF("restored image refused: %s", img.err);
    crs_image_close(&img);
    close(fd);
    unlink(path);
    printf("ok: truncation at each of %zu lengths refused\n", len);
    free(orig);
    free(path);
    return 0;
}

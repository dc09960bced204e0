/*
 * An image (small, with extensions) cut at any length is refused at open with a message that says it
 * is truncated (or empty), never read past its end and never crashes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "image_test.h"

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

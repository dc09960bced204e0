/*
 * Every single-byte change in a small image with extensions (header,
 * padding, chunk data, sections, extensions, table) is refused by crs_image_open or, for chunk data, by
 * crs_image_read_chunk / crs_image_verify_chunks, with a message naming the
 * image, and without a crash.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "image_test.h"

/* Opens the image and reads every chunk; 0 if all of it was accepted. */
static int try_image(const char *path, char *err, size_t errlen)
{
    struct crs_image img;
    int rc = crs_image_open(&img, path);
    if (rc == 0) {
        void *buf = malloc(CRS_CHUNK_MAX);
        for (size_t i = 0; i < img.nchunks && !rc; i++)
            rc = crs_image_read_chunk(&img, i, buf);
        free(buf);
        if (rc == 0)
            rc = crs_image_verify_chunks(&img);
        if (rc == 0 && img.nexts != 3)
            FAILF("the sample's 3 extensions read as %zu", img.nexts);
    }
    snprintf(err, errlen, "%s", img.err);
    crs_image_close(&img);
    return rc;
}

int main(void)
{
    char *path = temp_path("flip"), err[sizeof ((struct crs_image *)0)->err] = "";
    int fd = open(path, O_RDWR | O_TRUNC);
    if (sample_image_write(fd, 3, SAMPLE_SMALL | SAMPLE_EXT | SAMPLE_KOBJ, err))
        FAILF("writing the sample: %s", err);
    size_t len;
    unsigned char *orig = slurp(path, &len);
    if (try_image(path, err, sizeof(err)))
        FAILF("the untouched image is refused: %s", err);

    static const unsigned char masks[] = { 0x01, 0x80, 0xff };
    size_t refused = 0;
    for (size_t off = 0; off < len; off++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            unsigned char b = orig[off] ^ masks[m];
            if (pwrite(fd, &b, 1, (off_t)off) != 1)
                FAILF("pwrite");
            err[0] = '\0';
            int rc = try_image(path, err, sizeof(err));
            if (rc == 0)
                FAILF("byte %zu of %zu xor 0x%02x was not detected", off, len, masks[m]);
            if (rc > 0 || strncmp(err, "image ", 6) || strlen(err) < 20)
                FAILF("byte %zu: rc %d, message \"%s\" is not a proper error", off, rc, err);
            refused++;
        }
        if (pwrite(fd, &orig[off], 1, (off_t)off) != 1)
            FAILF("pwrite");
    }
    close(fd);
    unlink(path);
    printf("ok: all %zu single-byte changes in a %zu-byte image refused\n", refused, len);
    free(orig);
    free(path);
    return 0;
}

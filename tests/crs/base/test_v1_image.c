/*
 * Images written by the version-1 writer (tests/crs/base/v1, never regenerated)
 * still read: every chunk verifies, the fields are those written, and the
 * uncompressed one written again by today's writer gives the same bytes, so
 * the format of the sections it holds has not changed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "image_test.h"

static char *fixture(const char *name)
{
    const char *src = getenv("REVIVE_SRCDIR");
    char *p;
    if (asprintf(&p, "%s/tests/crs/base/v1/%s", src && *src ? src : ".", name) < 0)
        FAILF("out of memory");
    return p;
}

static void check_sample(struct crs_image *img, int small)
{
    ASSERT_EQ(img->hdr.version, 1);
    ASSERT_EQ(img->hdr.pid, 4242);
    ASSERT_EQ(img->hdr.section_count, 12);
    ASSERT_STREQ(crs_image_str(img, img->process->exe), "/usr/bin/sample");
    ASSERT_EQ(img->nthreads, 2);
    ASSERT_EQ(img->nregions, 6);
    ASSERT_EQ(img->nfiles, 1);
    ASSERT_EQ(img->nmemfds, 1);
    ASSERT_EQ(img->nfds, 8);
    ASSERT_EQ(img->nsigactions, 64);
    ASSERT_EQ(img->nauxv, 6);
    ASSERT_EQ(img->npipes, 2);
    ASSERT_EQ(img->pipedata_len, 23);
    ASSERT_EQ(img->nchunks, small ? 6 : 7);
    if (crs_image_verify_chunks(img))
        FAILF("verify: %s", img->err);
}

int main(void)
{
    char *zstd = fixture("zstd.img"), *raw = fixture("raw-small.img");
    struct crs_image img;

    if (crs_image_open(&img, zstd))
        FAILF("the version-1 image %s is refused: %s", zstd, img.err);
    check_sample(&img, 0);
    crs_image_close(&img);

    if (crs_image_open(&img, raw))
        FAILF("the version-1 image %s is refused: %s", raw, img.err);
    check_sample(&img, 1);
    char *out = temp_path("v1");
    int fd = open(out, O_RDWR | O_TRUNC);
    if (fd < 0 || image_rewrite(&img, fd, 0))
        FAILF("rewriting %s failed", raw);
    close(fd);
    crs_image_close(&img);
    size_t la, lb;
    unsigned char *a = slurp(raw, &la), *b = slurp(out, &lb);
    ASSERT_EQ(lb, la);
    for (size_t i = 0; i < la; i++)
        if (a[i] != b[i])
            FAILF("%s written again differs first at byte %zu (%02x, expected %02x)", raw, i,
                  b[i], a[i]);
    unlink(out);
    printf("ok: version-1 images read; %s written again is the same %zu bytes\n", raw, la);
    free(a);
    free(b);
    free(out);
    free(raw);
    free(zstd);
    return 0;
}

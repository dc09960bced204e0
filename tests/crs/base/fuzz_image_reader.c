/*
 * libFuzzer target for the image reader: any input, read as an image, must
 * be refused with a message or accepted and fully readable, never crash,
 * leak or read out of bounds (built with -fsanitize=fuzzer,address,undefined
 * and CRS_IMAGE_FUZZING, which makes checksum mismatches non-fatal so that
 * mutations reach the checks behind the checksums).
 *
 * Smoke run: tests/crs/base/fuzz_smoke.sh; long run: src/crs/base/README.md.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crs/base/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a memfd: the reader wants a regular file it can pread */
    int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);

    struct crs_image img;
    if (crs_image_open_fd(&img, fd, "fuzz") < 0) {
        if (strncmp(img.err, "image fuzz: ", 12) != 0 || !img.err[12])
            abort(); /* every refusal carries a message */
        return 0;
    }
    /* everything an accepted image offers must be safe to use */
    size_t n = 0;
    n += strlen(crs_image_str(&img, img.process->exe));
    for (size_t i = 0; i < img.nregions; i++)
        n += strlen(crs_image_str(&img, img.regions[i].name));
    for (size_t i = 0; i < img.nfds; i++)
        n += strlen(crs_image_str(&img, img.fds[i].path));
    for (size_t i = 0; i < img.nfiles; i++)
        n += strlen(crs_image_str(&img, img.files[i].path));
    for (size_t i = 0; i < img.nexts; i++) {
        const struct crs_image_ext *x = &img.exts[i];
        n += strlen(x->owner);
        for (size_t k = 0; k < x->len; k++)
            n += ((const unsigned char *)x->data)[k];
        if (crs_image_extension(&img, x->owner, NULL) == NULL)
            abort(); /* the owner of an extension has at least that one */
    }
    void *buf = malloc(CRS_CHUNK_MAX);
    for (size_t i = 0; i < img.nchunks; i++)
        (void)crs_image_read_chunk(&img, i, buf);
    for (size_t i = 0; i < img.nfobjs; i++)
        n += strlen(crs_image_str(&img, img.fobjs[i].path));
    for (size_t i = 0; i < img.nfextents; i++)
        (void)crs_image_read_fextent(&img, i, buf);   /* at most CRS_CHUNK_MAX each */
    free(buf);
    (void)crs_image_verify_chunks(&img);
    crs_image_close(&img);
    return n == (size_t)-1; /* keep n alive */
}

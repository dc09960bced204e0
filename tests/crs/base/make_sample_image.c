/* Writes the sample image (see image_test.c) for the shell tests and the
 * fuzz seed corpus: make_sample_image FILE [ZSTD_LEVEL [small] [ext] [kobj]]
 * (small: little page data; ext: with extensions, format version 2). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "image_test.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_sample_image FILE [ZSTD_LEVEL [small] [ext] [kobj]]\n");
        return 2;
    }
    int level = argc > 2 ? atoi(argv[2]) : 0, flags = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "small"))
            flags |= SAMPLE_SMALL;
        else if (!strcmp(argv[i], "ext"))
            flags |= SAMPLE_EXT;
        else if (!strcmp(argv[i], "kobj"))
            flags |= SAMPLE_KOBJ;
        else {
            fprintf(stderr, "make_sample_image: unknown word %s (small, ext, kobj)\n", argv[i]);
            return 2;
        }
    }
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    char err[256] = "";
    if (sample_image_write(fd, level, flags, err) || close(fd)) {
        fprintf(stderr, "make_sample_image: %s\n", err);
        return 1;
    }
    return 0;
}

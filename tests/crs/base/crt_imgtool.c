/*
 * crt_imgtool: helper for the bad-input tests. It edits process images the
 * way a corrupt disk or another machine would, and tells the tests which
 * bytes of an image are covered by a checksum (a flip there must be refused).
 *
 *   crt_imgtool ranges FILE          covered byte ranges, "START END WHAT" per
 *                                    line (END exclusive): header, section
 *                                    table, each section, each chunk's data
 *   crt_imgtool flip FILE OFFSET     XOR the byte at OFFSET with 0xff
 *   crt_imgtool flipcopy SRC DST OFFSET
 *                                    DST a copy of SRC with the byte at OFFSET
 *                                    XORed with 0xff (one process where cp and
 *                                    flip were two: crs_bad_image makes ~1000)
 *   crt_imgtool set-kernel FILE STR  set kernel_release, fix the header checksum
 *   crt_imgtool set-machine FILE STR set machine, fix the header checksum
 *   crt_imgtool add-xfeatures FILE   set XCR0 bits this CPU lacks, fix the
 *                                    checksum; exits 3 if the CPU has them all
 *   crt_imgtool header FILE          print the header fields
 *   crt_imgtool clear-saved FILE     clear CRS_REGION_F_SAVED of every region (--save-shared's
 *                                    file-shared regions keep their chunks), fix the
 *                                    checksums: the reader must refuse those chunks
 *
 * It trusts the image only as far as it must (it is run on images the tools
 * just wrote) but still checks bounds. Exit 0 on success, 1 on error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "crs/base/image_format.h"

static const char *prog = "crt_imgtool";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int open_image(const char *path, int flags, struct crs_image_header *h, uint64_t *size)
{
    struct stat st;
    int fd = open(path, flags);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
        die("%s: %s", path, "cannot read the header");
    if (memcmp(h->magic, CRS_IMAGE_MAGIC, 8) != 0)
        die("%s: %s", path, "not a Revive image (magic)");
    *size = (uint64_t)st.st_size;
    return fd;
}

static void fix_and_write_header(int fd, struct crs_image_header *h, const char *path)
{
    h->header_checksum = XXH3_64bits(h, offsetof(struct crs_image_header, header_checksum));
    if (pwrite(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) || fsync(fd) < 0)
        die("%s: write: %s", path, strerror(errno));
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void ranges(const char *path)
{
    struct crs_image_header h;
    struct crs_section_entry *t;
    uint64_t size;
    int fd = open_image(path, O_RDONLY, &h, &size);
    size_t tlen = (size_t)h.section_count * sizeof(*t);

    printf("0 %zu header\n", offsetof(struct crs_image_header, header_checksum) + 8);
    if (h.section_count > 1000 || h.table_offset + tlen > size)
        die("%s: %s", path, "bad section table");
    t = malloc(tlen);
    if (!t || pread(fd, t, tlen, (off_t)h.table_offset) != (ssize_t)tlen)
        die("%s: %s", path, "cannot read the section table");
    printf("%llu %llu table\n", (unsigned long long)h.table_offset,
           (unsigned long long)(h.table_offset + tlen));
    for (uint32_t i = 0; i < h.section_count; i++) {
        if (t[i].offset + t[i].size > size)
            die("%s: %s", path, "section out of bounds");
        if (t[i].size)
            printf("%llu %llu section%u\n", (unsigned long long)t[i].offset,
                   (unsigned long long)(t[i].offset + t[i].size), t[i].type);
        if (t[i].type == CRS_SEC_CHUNKS && t[i].record_size == sizeof(struct crs_rec_chunk)) {
            size_t n = t[i].size / sizeof(struct crs_rec_chunk);
            struct crs_rec_chunk *c = malloc(t[i].size ? t[i].size : 1);
            if (!c || pread(fd, c, t[i].size, (off_t)t[i].offset) != (ssize_t)t[i].size)
                die("%s: %s", path, "cannot read chunks");
            for (size_t k = 0; k < n; k++)
                if (c[k].stored_length)
                    printf("%llu %llu chunk\n", (unsigned long long)c[k].data_offset,
                           (unsigned long long)(c[k].data_offset + c[k].stored_length));
            free(c);
        }
    }
    free(t);
    close(fd);
}

/* The byte at off of fd XORed with 0xff. */
static void flip_at(int fd, const char *file, const char *offs)
{
    unsigned char b;
    off_t off = (off_t)strtoull(offs, NULL, 0);
    if (pread(fd, &b, 1, off) != 1)
        die("%s: cannot read byte %s", file, offs);
    b ^= 0xff;
    if (pwrite(fd, &b, 1, off) != 1)
        die("%s: cannot write byte %s", file, offs);
}

/* dst made a copy of src (copy_file_range, else read and write). */
static void copy_to(const char *src, const char *dst, int *out)
{
    int in = open(src, O_RDONLY);
    if (in < 0)
        die("%s: %s", src, strerror(errno));
    int fd = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("%s: %s", dst, strerror(errno));
    ssize_t n;
    while ((n = copy_file_range(in, NULL, fd, NULL, 1 << 30, 0)) > 0)
        ;
    if (n < 0) {
        char buf[1 << 16];
        if (ftruncate(fd, 0) != 0 || lseek(in, 0, SEEK_SET) != 0)
            die("%s: cannot copy: %s", dst, strerror(errno));
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(fd, buf, (size_t)n) != n)
                die("%s: cannot write: %s", dst, strerror(errno));
        if (n < 0)
            die("%s: cannot read: %s", src, strerror(errno));
    }
    close(in);
    *out = fd;
}

/* Every region's CRS_REGION_F_SAVED cleared, the REGIONS section's checksum, the table's and
 * the header's made again. */
static void clear_saved(const char *path)
{
    struct crs_image_header h;
    uint64_t size;
    int fd = open_image(path, O_RDWR, &h, &size);
    size_t tlen = (size_t)h.section_count * sizeof(struct crs_section_entry);
    struct crs_section_entry *t = malloc(tlen ? tlen : 1);
    if (h.section_count > 1000 || h.table_offset + tlen > size || !t ||
        pread(fd, t, tlen, (off_t)h.table_offset) != (ssize_t)tlen)
        die("%s: %s", path, "bad section table");
    int n = 0;
    for (uint32_t i = 0; i < h.section_count; i++) {
        if (t[i].type != CRS_SEC_REGIONS || t[i].record_size != sizeof(struct crs_rec_region) ||
            t[i].offset + t[i].size > size)
            continue;
        struct crs_rec_region *r = malloc(t[i].size ? t[i].size : 1);
        if (!r || pread(fd, r, t[i].size, (off_t)t[i].offset) != (ssize_t)t[i].size)
            die("%s: %s", path, "cannot read the regions");
        for (size_t k = 0; k < t[i].size / sizeof(*r); k++)
            if (r[k].flags & CRS_REGION_F_SAVED) {
                r[k].flags &= ~CRS_REGION_F_SAVED;
                n++;
            }
        t[i].checksum = XXH3_64bits(r, (size_t)t[i].size);
        if (pwrite(fd, r, t[i].size, (off_t)t[i].offset) != (ssize_t)t[i].size)
            die("%s: write: %s", path, strerror(errno));
        free(r);
    }
    if (!n)
        die("%s: no saved region", path);
    h.table_checksum = XXH3_64bits(t, tlen);
    if (pwrite(fd, t, tlen, (off_t)h.table_offset) != (ssize_t)tlen)
        die("%s: write: %s", path, strerror(errno));
    fix_and_write_header(fd, &h, path);
    free(t);
    close(fd);
}

int main(int argc, char **argv)
{
    struct crs_image_header h;
    uint64_t size;
    int fd;

    if (argc < 3) {
        fprintf(stderr, "usage: %s ranges|flip|flipcopy|set-kernel|set-machine|add-xfeatures|header|clear-saved FILE "
                        "[ARG]\n", prog);
        return 1;
    }
    if (strcmp(argv[1], "ranges") == 0) {
        ranges(argv[2]);
    } else if (strcmp(argv[1], "clear-saved") == 0) {
        clear_saved(argv[2]);
    } else if (strcmp(argv[1], "flip") == 0 && argc == 4) {
        fd = open(argv[2], O_RDWR);
        if (fd < 0)
            die("%s: cannot read byte %s", argv[2], argv[3]);
        flip_at(fd, argv[2], argv[3]);
        close(fd);
    } else if (strcmp(argv[1], "flipcopy") == 0 && argc == 5) {
        copy_to(argv[2], argv[3], &fd);
        flip_at(fd, argv[3], argv[4]);
        close(fd);
    } else if ((strcmp(argv[1], "set-kernel") == 0 || strcmp(argv[1], "set-machine") == 0) &&
               argc == 4) {
        int kernel = argv[1][4] == 'k';
        char *field = kernel ? h.kernel_release : h.machine;
        size_t cap = kernel ? sizeof(h.kernel_release) : sizeof(h.machine);
        fd = open_image(argv[2], O_RDWR, &h, &size);
        field = kernel ? h.kernel_release : h.machine;
        memset(field, 0, cap);
        strncpy(field, argv[3], cap - 1);
        fix_and_write_header(fd, &h, argv[2]);
        close(fd);
    } else if (strcmp(argv[1], "add-xfeatures") == 0) {
        /* bits 17/18 (AMX) or, failing that, any defined bit 0..19 the CPU lacks */
        uint64_t have = xgetbv0(), add = 0;
        static const int prefer[] = {17, 18, 9, 5, 6, 7, 3, 4, 19};
        for (size_t i = 0; i < sizeof(prefer) / sizeof(prefer[0]); i++)
            if (!(have & (1ULL << prefer[i]))) {
                add = 1ULL << prefer[i];
                break;
            }
        if (!add) {
            fprintf(stderr, "%s: this CPU has every xfeature tried (XCR0 %#llx)\n", prog,
                    (unsigned long long)have);
            return 3;
        }
        fd = open_image(argv[2], O_RDWR, &h, &size);
        h.xfeatures |= add;
        fix_and_write_header(fd, &h, argv[2]);
        close(fd);
        printf("%#llx\n", (unsigned long long)h.xfeatures);
    } else if (strcmp(argv[1], "header") == 0) {
        fd = open_image(argv[2], O_RDONLY, &h, &size);
        printf("version %u\nheader_size %u\nimage_size %llu\nfile_size %llu\ntable_offset %llu\n"
               "section_count %u\npage_size %u\npid %d\nflags %#x\nkernel_release %.64s\n"
               "machine %.14s\nxfeatures %#llx\nxsave_size %u\nheader_checksum_ok %d\n",
               h.version, h.header_size, (unsigned long long)h.image_size,
               (unsigned long long)size, (unsigned long long)h.table_offset, h.section_count,
               h.page_size, h.pid, h.flags, h.kernel_release, h.machine,
               (unsigned long long)h.xfeatures, h.xsave_size,
               XXH3_64bits(&h, offsetof(struct crs_image_header, header_checksum)) ==
                   h.header_checksum);
        close(fd);
    } else {
        fprintf(stderr, "%s: unknown command %s\n", prog, argv[1]);
        return 1;
    }
    return 0;
}

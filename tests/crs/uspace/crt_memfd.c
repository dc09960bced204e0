/*
 * State test: the bytes of memfds that no mapping holds whole (issue 10,
 * point 7's kind: memory-only files). Held through descriptors:
 *   plain   64 KiB written with write(2), then a hole, then 4 KiB at 1 MiB
 *           (offset left at its end); never mapped
 *   part    three pages, only the first mapped (and written through the
 *           mapping), the third written with pwrite
 *   sealed  8 KiB written, then sealed against writing and shrinking
 * After each point: sizes, bytes (pread), the hole still reads zero, the
 * offset, the mapping and the descriptor are one file, the seals.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KB 1024u
static int plain, part, sealed;
static unsigned char *part_map;

static int same(int fd, off_t off, size_t len, uint64_t seed)
{
    unsigned char *want = malloc(len), *got = malloc(len);
    crt_fill(want, len, seed);
    ssize_t n = pread(fd, got, len, off);
    int ok = n == (ssize_t)len && !memcmp(want, got, len);
    free(want);
    free(got);
    return ok;
}

static void check(const char *when)
{
    char name[160];
    struct stat st;
    unsigned char zero[4096];
#define NAME(what) (snprintf(name, sizeof name, "%s %s", what, when), name)
    fstat(plain, &st);
    crt_check(NAME("plain memfd: size, bytes before and after the hole"),
              st.st_size == 1024 * KB + 4 * KB && same(plain, 0, 64 * KB, 1) && same(plain, 1024 * KB, 4 * KB, 2),
              "size %lld", (long long)st.st_size);
    crt_check(NAME("plain memfd: the hole reads zero"),
              pread(plain, zero, sizeof zero, 512 * KB) == (ssize_t)sizeof zero && crt_is_zero(zero, sizeof zero),
              "not zero");
    CRT_CHECK_U64(NAME("plain memfd: offset"), lseek(plain, 0, SEEK_CUR), 1024 * KB + 4 * KB);
    fstat(part, &st);
    unsigned char want[4096];
    crt_fill(want, 4096, 3);
    crt_check(NAME("memfd mapped in part: size, mapped page, unmapped written page"),
              st.st_size == 12 * KB && !memcmp(part_map, want, 4096) && same(part, 0, 4096, 3) &&
                  same(part, 8 * KB, 4096, 4),
              "size %lld", (long long)st.st_size);
    part_map[5]++;
    crt_check(NAME("memfd mapped in part: the mapping and the descriptor are one file"),
              pread(part, zero, 8, 0) == 8 && zero[5] == part_map[5], "differ");
    part_map[5]--;
    int seals = fcntl(sealed, F_GET_SEALS);
    crt_check(NAME("sealed memfd: bytes and seals"),
              same(sealed, 0, 8 * KB, 5) && seals == (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_SEAL),
              "seals %#x", seals);
#undef NAME
}

static void write_all(int fd, uint64_t seed, size_t len)
{
    unsigned char *b = malloc(len);
    crt_fill(b, len, seed);
    if (write(fd, b, len) != (ssize_t)len)
        crt_die("write: %s", strerror(errno));
    free(b);
}

int main(void)
{
    plain = memfd_create("crt-plain", MFD_CLOEXEC);
    part = memfd_create("crt-part", MFD_CLOEXEC);
    sealed = memfd_create("crt-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (plain < 0 || part < 0 || sealed < 0)
        crt_die("memfd_create: %s", strerror(errno));
    write_all(plain, 1, 64 * KB);
    lseek(plain, 1024 * KB, SEEK_SET);
    write_all(plain, 2, 4 * KB);
    if (ftruncate(part, 12 * KB) != 0)
        crt_die("ftruncate: %s", strerror(errno));
    part_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, part, 0);
    if (part_map == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    crt_fill(part_map, 4096, 3);
    unsigned char b[4096];
    crt_fill(b, sizeof b, 4);
    if (pwrite(part, b, sizeof b, 8 * KB) != (ssize_t)sizeof b)
        crt_die("pwrite: %s", strerror(errno));
    write_all(sealed, 5, 8 * KB);
    if (fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        crt_die("F_ADD_SEALS: %s", strerror(errno));
    crt_say("three memfds written through their descriptors");
    crt_check_around_points(check);
}

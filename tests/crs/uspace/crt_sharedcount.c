/*
 * crt_sharedcount: a file mapped shared and writable (MAP_SHARED, PROT_WRITE) that the program
 * changes through its mapping after each checkpoint point (newuser7b F1, cr_checkpoint
 * --save-shared). count.dat is 3 pages and 100 bytes long, mapped over 5 pages (the last one
 * past the file's end, never touched): a counter in page 0, incremented 100 times between
 * points; page 1 zeros until point 1, written after it (a saved page of zeros must be written
 * back too); a mark in the partial last page, changed after each point. Without --save-shared
 * the file holds its pages: a second restart from one image, or a restart after the original
 * went on, reads its later bytes and prints other counts; with it every restart from an image
 * prints what an uninterrupted run does.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096
#define FILE_LEN (3 * PG + 100)
#define MAP_LEN (5 * PG)
#define MARK (3 * PG + 50)

static volatile unsigned char *m;

static void steps(int point)
{
    volatile uint64_t *count = (volatile uint64_t *)m;
    for (int i = 0; i < 100; i++)
        (*count)++;
    if (point >= 1)
        crt_fill((void *)(m + PG), PG, 500 + (uint64_t)point);   /* page 1: zeros before point 1 */
    m[MARK] = (unsigned char)(m[MARK] * 7 + 3);
}

static void report(const char *when)
{
    uint64_t count;
    memcpy(&count, (const void *)m, sizeof count);
    crt_say("%s: count %llu, page 1 %016llx, mark %u", when, (unsigned long long)count,
            (unsigned long long)crt_hash((const void *)(m + PG), PG, 0), m[MARK]);
    /* what the file says through read(2) is what its mapping shows */
    int fd = open("count.dat", O_RDONLY | O_CLOEXEC);
    unsigned char b[8];
    ssize_t n = fd >= 0 ? pread(fd, b, sizeof b, 0) : -1;
    if (fd >= 0)
        close(fd);
    char name[64];
    snprintf(name, sizeof name, "file equals mapping %s", when);
    crt_check(name, n == 8 && !memcmp(b, (const void *)m, 8), "pread %zd", n);
}

int main(void)
{
    int fd = open("count.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, FILE_LEN) != 0)
        crt_die("count.dat: %s", strerror(errno));
    void *p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        crt_die("mmap count.dat: %s", strerror(errno));
    close(fd);
    m = p;
    m[MARK] = 1;
    steps(0);
    report("before point 1");
    crt_checkpoint_point(1);
    steps(1);
    report("after point 1");
    crt_checkpoint_point(2);
    steps(2);
    report("after point 2");
    uint64_t count;
    memcpy(&count, (const void *)m, sizeof count);
    CRT_CHECK_U64("count", count, 300);
    crt_finish();
}

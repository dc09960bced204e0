/* The staging copy (src/filem/stage.c, stage_copy.c): an image of several read-back segments
 * is copied, read back and verified (O_DIRECT, and the buffered read-back after writeback
 * and dropping the cached pages), 0600, identical; a wrong reported checksum, a chunk that
 * fails its checksum, a damaged header block are refused with a message naming what failed,
 * and leave nothing in the destination; the bandwidth limit holds; a source on another file
 * system (/dev/shm: sendfile instead of copy_file_range) is copied the same. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/stage.h"
#include "filem/stage_copy.h"
#include "snapc_test.h"
#include "tiny_image.h"

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    return n;
}

static void flip(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
    b ^= 0x40;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

static double secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* stages src as dst/rank_0.img and checks the copy: identical, 0600, nothing else there */
static void good_copy(const char *src, const char *dst, uint64_t sum, uint64_t size)
{
    char err[2048], got[600], cmd[1400];
    struct filem_stage_stats st;
    int e = filem_stage_file(src, dst, "rank_0.img", sum, 0, &st, err, sizeof err);
    CHECK_EQ(e, 0);
    if (e)
        fprintf(stderr, "staging %s: %s\n", src, err);
    CHECK_EQ(st.bytes, size);
    CHECK_EQ(st.linked, 0);
    snprintf(got, sizeof got, "%s/rank_0.img", dst);
    struct stat s;
    CHECK_EQ(stat(got, &s), 0);
    CHECK_EQ(s.st_mode & 0777, 0600);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", src, got);
    CHECK_EQ(system(cmd), 0);
    CHECK_EQ(entries(dst), 1);
    CHECK_EQ(filem_stage_verify(got, sum, err, sizeof err), 0);
    unlink(got);
}

static void bad_copy(const char *src, const char *dst, uint64_t sum, const char *want_msg)
{
    char err[2048] = "";
    int e = filem_stage_file(src, dst, "rank_0.img", sum, 0, NULL, err, sizeof err);
    CHECK_EQ(e, -EBADMSG);
    CHECK_STR_CONTAINS(err, want_msg);
    CHECK_EQ(entries(dst), 0);
}

int main(void)
{
    char dir[] = "/tmp/revive-test-stage.XXXXXX", img[300], dst[300], err[2048], cmd[700];
    CHECK(mkdtemp(dir) != NULL);
    setenv("REVIVE_STAGE_COPY", "1", 1); /* one file system here: a real copy, not a link */
    snprintf(img, sizeof img, "%s/rank_0.img", dir);
    snprintf(dst, sizeof dst, "%s/shared", dir);
    CHECK_EQ(mkdir(dst, 0700), 0);
    /* 40 MiB of memory: 10 chunks, 5 read-back segments and a piece */
    CHECK_EQ(tiny_image_write_size(img, "staged", 40u << 20, err, sizeof err), 0);
    uint64_t sum = 0, size = 0;
    CHECK_EQ(filem_image_checksum(img, &sum, &size, err, sizeof err), 0);
    CHECK(size > (40u << 20));

    good_copy(img, dst, sum, size);
    filem_stage_copy_buffered = 1;
    good_copy(img, dst, sum, size);
    filem_stage_copy_buffered = 0;

    /* not the image the rank reported */
    bad_copy(img, dst, sum ^ 1, "expected");

    /* the bandwidth limit: 8 MiB at 32 MiB/s take a quarter of a second at least */
    char small[300];
    snprintf(small, sizeof small, "%s/small.img", dir);
    CHECK_EQ(tiny_image_write_size(small, "slow", 8u << 20, err, sizeof err), 0);
    uint64_t ssum = 0, ssize = 0;
    CHECK_EQ(filem_image_checksum(small, &ssum, &ssize, err, sizeof err), 0);
    double t0 = secs();
    CHECK_EQ(filem_stage_file(small, dst, "rank_0.img", ssum, 32u << 20, NULL, err, sizeof err), 0);
    CHECK(secs() - t0 >= 0.24);
    snprintf(cmd, sizeof cmd, "%s/rank_0.img", dst);
    CHECK_EQ(filem_stage_verify(cmd, ssum, err, sizeof err), 0);
    unlink(cmd);

    /* another file system as the source (a node's cache in memory): sendfile copies */
    struct statfs a, b;
    char shm[] = "/dev/shm/revive-test-stage.XXXXXX";
    if (statfs("/dev/shm", &a) == 0 && statfs(dir, &b) == 0 && a.f_type != b.f_type &&
        mkdtemp(shm)) {
        char simg[300];
        snprintf(simg, sizeof simg, "%s/rank_0.img", shm);
        snprintf(cmd, sizeof cmd, "cp %s %s", img, simg);
        CHECK_EQ(system(cmd), 0);
        struct filem_stage_stats st;
        CHECK_EQ(filem_stage_file(simg, dst, "rank_0.img", sum, 0, &st, err, sizeof err), 0);
        CHECK_EQ(st.used_cfr, 0);
        snprintf(cmd, sizeof cmd, "cmp -s %s %s/rank_0.img", img, dst);
        CHECK_EQ(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "rm -rf %s %s/rank_0.img", shm, dst);
        CHECK_EQ(system(cmd), 0);
    } else {
        printf("test_stage: /dev/shm is not another file system here: the sendfile copy is not "
               "tried\n");
    }

    /* a chunk whose bytes changed after the image was written (chunk 1: from byte
     * 4096 + 4 MiB on): the copy holds them and fails that chunk's checksum */
    flip(img, 4096 + (5u << 20));
    bad_copy(img, dst, sum, "chunk 1 ");
    filem_stage_copy_buffered = 1;
    bad_copy(img, dst, sum, "chunk 1 ");
    filem_stage_copy_buffered = 0;
    flip(img, 4096 + (5u << 20));
    good_copy(img, dst, sum, size);

    /* the header block's padding: the reader refuses the source itself */
    flip(img, 4000);
    bad_copy(img, dst, sum, "unusable");

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
    return test_summary("test_stage");
}

/* src/crs/uspace/maps.c crs_smaps_read: the capture's one read of the memory map (diffrev34
 * R-L17). Run in a mount namespace of its own, with a copy of its own /proc/self/smaps bound over
 * that file: the copy as it is gives every mapping crs_maps_read gives; the copy with one
 * mapping's line mangled (its address range unreadable) is refused with -EIO, never read as a
 * map without that mapping whose own lines go to the mapping before. Needs root (a mount
 * namespace): exits 77 without. */
#define _GNU_SOURCE
#include "crs/uspace/maps.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../../unit_assert.h"

#define CAP 8192
static struct crs_map maps_a[CAP], maps_b[CAP];
static struct crs_map_more more[CAP];
static char buf_a[4u << 20], buf_b[4u << 20], text[4u << 20];

/* writes `len` bytes of `s` to `path` (0600) */
static void put_file(const char *path, const char *s, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, s, len), (ssize_t)len);
    close(fd);
}

int main(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        printf("SKIP: test_smaps_read needs root for a mount namespace (%s)\n", strerror(errno));
        return 77;
    }
    char dir[] = "/tmp/revive-smaps-read.XXXXXX", fake[64], self[64];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(fake, sizeof fake, "%s/smaps", dir);
    snprintf(self, sizeof self, "/proc/%d/smaps", (int)getpid());

    /* the real smaps, read once, as the fake's contents */
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    ASSERT_TRUE(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    text[len] = 0;
    put_file(fake, text, len);
    ASSERT_EQ(mount(fake, self, NULL, MS_BIND, NULL), 0);

    long a = crs_smaps_read(buf_a, sizeof buf_a, maps_a, more, CAP);
    long b = crs_maps_read(buf_b, sizeof buf_b, maps_b, CAP);
    ASSERT_TRUE(a > 3);
    /* the map may have changed by a mapping or two between the copy and the maps read; the
     * first three are the program's own and cannot */
    ASSERT_TRUE(b > 3);
    for (int i = 0; i < 3; i++)
        if (maps_a[i].start != maps_b[i].start || maps_a[i].end != maps_b[i].end || strcmp(maps_a[i].name, maps_b[i].name))
            FAILF("mapping %d: %#lx-%#lx %s from the smaps copy, %#lx-%#lx %s from maps", i,
                  (unsigned long)maps_a[i].start, (unsigned long)maps_a[i].end, maps_a[i].name,
                  (unsigned long)maps_b[i].start, (unsigned long)maps_b[i].end, maps_b[i].name);
    printf("PASS: the smaps copy as it is: %ld mappings, as maps gives\n", a);

    /* the second mapping's line (after the first's and its own lines): its '-' made an 'x' */
    char *line = strchr(text, '\n');
    ASSERT_TRUE(line != NULL);
    line++;
    while (*line >= 'A' && *line <= 'Z') {
        line = strchr(line, '\n');
        ASSERT_TRUE(line != NULL);
        line++;
    }
    char *dash = strchr(line, '-');
    ASSERT_TRUE(dash != NULL && dash < strchr(line, ' '));
    *dash = 'x';
    ASSERT_EQ(umount(self), 0);
    put_file(fake, text, len);
    ASSERT_EQ(mount(fake, self, NULL, MS_BIND, NULL), 0);
    a = crs_smaps_read(buf_a, sizeof buf_a, maps_a, more, CAP);
    if (a != -EIO)
        FAILF("a mangled mapping line: crs_smaps_read gave %ld (expected -EIO, %d)", a, -EIO);
    printf("PASS: a mangled mapping line: refused with -EIO\n");
    umount(self);
    unlink(fake);
    rmdir(dir);
    printf("test_smaps_read: 2 passed, 0 failed\n");
    return 0;
}

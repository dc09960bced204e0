/*
 * State test: a directory read part-way (HIGH-11 of review 13). The program
 * makes a directory of 50 files and reads it with getdents64 in chunks of
 * 8 entries: one chunk before point 1, one between the points, the rest
 * after point 2. A restart must go on where the scan was: every name seen
 * exactly once by the end, none twice (a descriptor that came back at the
 * directory's start gives the first chunk's names again). Contract:
 * crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NFILES 50
/* 8 records: a name of up to 4 bytes makes a record of 24 bytes */
#define CHUNK 192

static int dfd;
static int seen[NFILES + 2];   /* f00..f49, then "." and ".." */
static int calls;

/* One getdents64 of CHUNK bytes (or to the end when all): counts each name. */
static long read_entries(int all)
{
    /* room for a whole struct dirent64; the kernel is given CHUNK bytes */
    static char buf[4096] __attribute__((aligned(8)));
    long n = 0;
    do {
        long got = syscall(SYS_getdents64, dfd, buf, CHUNK);
        if (got < 0)
            crt_die("getdents64: %s", strerror(errno));
        if (got == 0)
            break;
        for (long off = 0; off < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            if (!strcmp(d->d_name, "."))
                seen[NFILES]++;
            else if (!strcmp(d->d_name, ".."))
                seen[NFILES + 1]++;
            else if (d->d_name[0] == 'f' && atoi(d->d_name + 1) < NFILES)
                seen[atoi(d->d_name + 1)]++;
            else
                crt_die("unexpected entry %s", d->d_name);
            n++;
            off += d->d_reclen;
        }
    } while (all);
    return n;
}

static void check(const char *when)
{
    char name[128];
    if (++calls == 1) {
        crt_say("read %ld more entries %s", read_entries(0), when);
        return;
    }
    crt_say("read the remaining %ld entries %s", read_entries(1), when);
    int twice = 0, never = 0;
    for (int i = 0; i < NFILES + 2; i++) {
        twice += seen[i] > 1;
        never += seen[i] == 0;
    }
    snprintf(name, sizeof name, "every entry read exactly once %s", when);
    crt_check(name, !twice && !never, "%d read twice or more, %d never", twice, never);
}

int main(void)
{
    if (mkdir("dirscan.d", 0700) < 0 && errno != EEXIST)
        crt_die("mkdir dirscan.d: %s", strerror(errno));
    for (int i = 0; i < NFILES; i++) {
        char path[64];
        snprintf(path, sizeof path, "dirscan.d/f%02d", i);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            crt_die("%s: %s", path, strerror(errno));
        close(fd);
    }
    dfd = open("dirscan.d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        crt_die("open dirscan.d: %s", strerror(errno));
    crt_say("read %ld entries of a directory of %d files", read_entries(0), NFILES);
    crt_check_around_points(check);
}

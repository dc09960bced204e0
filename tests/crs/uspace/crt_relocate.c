/*
 * State test: files that moved (issue 10, point 13; cr_restart --relocate).
 * The program runs from DIR/bin (a copy of itself) with DIR=$CRT_RELOC_DIR
 * and works in DIR/work: it reads DIR/work/input.txt through a descriptor,
 * maps DIR/data/shared.bin shared, holds DIR/data open as a folder and
 * listens on the Unix socket DIR/work/sock. crs_relocate.sh moves DIR
 * between checkpoint and restart. After each point, without naming DIR
 * (its environment still names the old one): the descriptor reads on at
 * its offset, the mapping holds the file's bytes, the folder descriptor
 * finds its file, the working directory and /proc/self/exe lie under the
 * same DIR, and the socket's address is there and takes a connection.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int in_fd, dir_fd, lsn;
static unsigned char *shared;
static char next = 'a';

/* DIR as the program sees it now: its working directory without "/work". */
static int base_of_cwd(char *out, size_t cap)
{
    if (!getcwd(out, cap))
        return -1;
    size_t n = strlen(out);
    if (n < 5 || strcmp(out + n - 5, "/work"))
        return -1;
    out[n - 5] = 0;
    return 0;
}

static void check(const char *when)
{
    char name[160], base[PATH_MAX], exe[PATH_MAX], want[PATH_MAX + 32];
    char buf[4];
    ssize_t n = read(in_fd, buf, 4);
    snprintf(name, sizeof name, "the input file reads on at its offset %s", when);
    crt_check(name, n == 4 && buf[0] == next && buf[3] == next + 3, "read %zd bytes: %.4s", n, n > 0 ? buf : "");
    next += 4;
    snprintf(name, sizeof name, "the shared mapping holds the data file's bytes %s", when);
    crt_check(name, !memcmp(shared, "shared data\n", 12), "%.12s", (const char *)shared);
    struct stat st;
    snprintf(name, sizeof name, "the folder descriptor finds its file %s", when);
    crt_check(name, fstatat(dir_fd, "shared.bin", &st, 0) == 0, "%s", strerror(errno));
    int ok = base_of_cwd(base, sizeof base) == 0 && access("input.txt", R_OK) == 0;
    snprintf(name, sizeof name, "the working directory is DIR/work %s", when);
    crt_check(name, ok, "%s", base);
    ssize_t en = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[en > 0 ? en : 0] = 0;
    snprintf(want, sizeof want, "%s/bin/crt_relocate", base);
    snprintf(name, sizeof name, "/proc/self/exe is DIR/bin/crt_relocate, in the same DIR %s", when);
    crt_check(name, ok && !strcmp(exe, want), "%s", exe);
    struct sockaddr_un a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    getsockname(lsn, (struct sockaddr *)&a, &al);
    snprintf(want, sizeof want, "%s/work/sock", base);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int conn = c >= 0 && connect(c, (struct sockaddr *)&a, al) == 0;
    int acc = conn ? accept4(lsn, NULL, NULL, SOCK_CLOEXEC) : -1;
    snprintf(name, sizeof name, "the Unix listener is at DIR/work/sock and takes a connection %s", when);
    crt_check(name, !strcmp(a.sun_path, want) && acc >= 0, "%s, %s", a.sun_path, conn ? "connected" : "no connection");
    if (acc >= 0)
        close(acc);
    if (c >= 0)
        close(c);
}

int main(void)
{
    const char *dir = getenv("CRT_RELOC_DIR");
    char path[PATH_MAX];
    if (!dir)
        crt_die("CRT_RELOC_DIR is not set");
    snprintf(path, sizeof path, "%s/work", dir);
    if (chdir(path) != 0)
        crt_die("chdir %s: %s", path, strerror(errno));
    in_fd = open("input.txt", O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/data", dir);
    dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/data/shared.bin", dir);
    int sfd = open(path, O_RDWR | O_CLOEXEC);
    if (in_fd < 0 || dir_fd < 0 || sfd < 0)
        crt_die("the files under %s: %s", dir, strerror(errno));
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    close(sfd);
    if (shared == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s/work/sock", dir);
    unlink(a.sun_path);
    lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lsn < 0 || bind(lsn, (struct sockaddr *)&a, sizeof a) != 0 || listen(lsn, 4) != 0)
        crt_die("listen on %s: %s", a.sun_path, strerror(errno));
    crt_say("files, a mapping, a folder and a socket under DIR");
    crt_check_around_points(check);
}

/*
 * lock_hold KIND FILE READY: holds a lock on FILE until killed, for
 * locks_busy.sh, writing to READY the pid of the process that holds it.
 *   ofd          an open file description lock (F_OFD_SETLK, write, bytes 0-4):
 *                /proc/locks gives it pid -1
 *   flock-child  flock LOCK_EX, taken by a process that then forks and ends:
 *                /proc/locks names the process that took it, long gone, while
 *                its child holds the lock through the inherited descriptor
 * Started with fds 0-2 only; exits 2 on a usage or set-up error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static int say_ready(const char *ready)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, ready) != 0) {
        fprintf(stderr, "lock_hold: %s: %s\n", ready, strerror(errno));
        return 2;
    }
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lock_hold ofd|flock-child FILE READY\n");
        return 2;
    }
    int fd = open(argv[2], O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        fprintf(stderr, "lock_hold: %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    if (!strcmp(argv[1], "ofd")) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5 };
        if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
            fprintf(stderr, "lock_hold: F_OFD_SETLK %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        return say_ready(argv[3]);
    }
    if (!strcmp(argv[1], "flock-child")) {
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            fprintf(stderr, "lock_hold: flock %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        pid_t child = fork();
        if (child < 0) {
            fprintf(stderr, "lock_hold: fork: %s\n", strerror(errno));
            return 2;
        }
        if (child == 0)
            return say_ready(argv[3]);
        return 0;   /* the taker ends; the child holds the lock on */
    }
    fprintf(stderr, "lock_hold: unknown kind %s\n", argv[1]);
    return 2;
}

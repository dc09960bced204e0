/*
 * State test: files the process holds open for writing (task files51). log.txt is opened with
 * O_APPEND and gets one line a step; res.dat is opened for reading and writing, gets a header at
 * 0 and one record a step after a 1 MiB hole (sparse). Steps 1-3 before checkpoint point 1,
 * 4-6 before point 2, 7-8 after; then each file's size and content (read through a descriptor
 * of its own) are printed. An uninterrupted run prints one set of values; a restart must print
 * the same whatever became of the files after the checkpoint: run on to the end (cont), written
 * on by a first restart (twice), removed or changed (crs_files_gone's mutate). Reopened by path
 * only, the restarted process appended after what the lost run had written, or found no file.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOLE (1 << 20)
#define REC 512

static int fd_log, fd_res;

static void step(int n)
{
    char line[64], rec[REC];
    int len = snprintf(line, sizeof line, "step %d of the run\n", n);
    memset(rec, 'a' + n, sizeof rec);
    if (write(fd_log, line, (size_t)len) != len || write(fd_res, rec, REC) != REC)
        crt_die("step %d: write: %s", n, strerror(errno));
}

/* Size and content of the file at path (through a descriptor of its own). */
static void show(const char *path)
{
    static char buf[1 << 16];
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0)
        crt_die("open %s: %s", path, strerror(errno));
    uint64_t h = 0;
    ssize_t n;
    for (off_t at = 0; (n = pread(fd, buf, sizeof buf, at)) > 0; at += n)
        h = crt_mix(h ^ crt_hash(buf, (size_t)n, (uint64_t)at));
    close(fd);
    crt_say("%s: %lld bytes, content %016llx, mode %o", path, (long long)st.st_size, (unsigned long long)h,
            (unsigned)(st.st_mode & 0777));
}

int main(void)
{
    if (mkdir("written.d", 0755) < 0 && errno != EEXIST)
        crt_die("mkdir written.d: %s", strerror(errno));
    if (chdir("written.d") < 0)
        crt_die("chdir written.d: %s", strerror(errno));
    fd_log = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    fd_res = open("res.dat", O_RDWR | O_CREAT | O_TRUNC, 0640);
    if (fd_log < 0 || fd_res < 0)
        crt_die("open: %s", strerror(errno));
    if (pwrite(fd_res, "results v1\n", 11, 0) != 11 || lseek(fd_res, HOLE, SEEK_SET) != HOLE)
        crt_die("res.dat header: %s", strerror(errno));
    for (int n = 1; n <= 3; n++)
        step(n);
    crt_say("steps 1-3 written");
    crt_checkpoint_point(1);
    for (int n = 4; n <= 6; n++)
        step(n);
    crt_say("steps 4-6 written");
    crt_checkpoint_point(2);
    for (int n = 7; n <= 8; n++)
        step(n);
    CRT_CHECK_U64("res.dat offset after step 8", lseek(fd_res, 0, SEEK_CUR), HOLE + 8 * REC);
    close(fd_log);
    close(fd_res);
    show("log.txt");
    show("res.dat");
    crt_finish();
}

/*
 * State test: regular files. Descriptors open for reading, for reading and
 * writing (with a dup sharing its offset), with O_APPEND, at a high number
 * with FD_CLOEXEC, and a stdio stream part-way through a file; the working
 * directory and the umask. After the checkpoint each must be where it was:
 * same offsets, same flags, reads return the next records, writes land where
 * they belong. The files live in ./files.d (relative to the start directory).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC 64
#define IN_RECS 256
#define HI_FD 100

static int fd_in, fd_out, fd_dup, fd_app;
static FILE *fp;

static void record(unsigned char *buf, uint64_t seed)
{
    crt_fill(buf, REC, seed);
}

static void write_all(int fd, const void *buf, size_t n, const char *what)
{
    if (write(fd, buf, n) != (ssize_t)n)
        crt_die("write %s: %s", what, strerror(errno));
}

/* Reads the next record from fd and checks it is input record `r`. */
static void check_next_in(const char *name, int fd, int r)
{
    unsigned char got[REC], want[REC];
    ssize_t n;
    while ((n = read(fd, got, REC)) < 0 && errno == EINTR)
        ;
    record(want, 500 + (uint64_t)r);
    crt_check(name, n == REC && memcmp(got, want, REC) == 0, "read %zd bytes, content %s", n,
              n == REC && memcmp(got, want, REC) == 0 ? "right" : "wrong");
}

static void check_fp(const char *name, int first, int count)
{
    unsigned char got[REC], want[REC];
    int ok = 1;
    for (int r = first; r < first + count; r++) {
        record(want, 500 + (uint64_t)r);
        if (fread(got, REC, 1, fp) != 1 || memcmp(got, want, REC) != 0)
            ok = 0;
    }
    crt_check(name, ok && ftell(fp) == (long)(first + count) * REC, "ok=%d ftell=%ld", ok,
              ftell(fp));
}

static void check_offset(const char *name, int fd, off_t expect)
{
    off_t got = lseek(fd, 0, SEEK_CUR);
    crt_check(name, got == expect, "offset %lld, expected %lld", (long long)got,
              (long long)expect);
}

/* Hash of the first `limit` bytes of a file; *size gets how many there were.
 * (Only the part written so far is hashed: a continuing original or an
 * earlier restart from the same image has already written what follows.) */
static uint64_t file_hash(const char *path, off_t limit, off_t *size)
{
    static unsigned char buf[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    uint64_t h = 0;
    *size = 0;
    if (fd < 0)
        return 0;
    while (*size < limit &&
           (n = read(fd, buf, (size_t)(limit - *size) < sizeof(buf) ? (size_t)(limit - *size)
                                                                    : sizeof(buf))) > 0) {
        h = crt_mix(h ^ crt_hash(buf, (size_t)n, (uint64_t)*size));
        *size += n;
    }
    close(fd);
    return h;
}

static void check_append(const char *name)
{
    struct stat st;
    off_t pos;
    int fl = fcntl(fd_app, F_GETFL);
    write_all(fd_app, "appended line\n", 14, "app.log");
    pos = lseek(fd_app, 0, SEEK_CUR);
    fstat(fd_app, &st);
    crt_check(name, (fl & O_APPEND) && pos == st.st_size, "flags %#x, offset %lld, size %lld",
              fl, (long long)pos, (long long)st.st_size);
}

int main(void)
{
    unsigned char buf[REC];
    char cwd[4096];
    struct stat st;
    off_t size;
    mode_t old;
    int fl, fdfl;

    if (mkdir("files.d", 0755) < 0 && errno != EEXIST)
        crt_die("mkdir files.d: %s", strerror(errno));
    if (chdir("files.d") < 0)
        crt_die("chdir files.d: %s", strerror(errno));
    umask(027);

    fd_in = open("in.dat", O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd_in < 0)
        crt_die("create in.dat: %s", strerror(errno));
    for (int r = 0; r < IN_RECS; r++) {
        record(buf, 500 + (uint64_t)r);
        write_all(fd_in, buf, REC, "in.dat");
    }
    close(fd_in);

    fd_in = open("in.dat", O_RDONLY);
    fd_out = open("out.dat", O_RDWR | O_CREAT | O_TRUNC, 0666);
    fd_app = open("app.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
    fp = fopen("in.dat", "r");
    if (fd_in < 0 || fd_out < 0 || fd_app < 0 || !fp)
        crt_die("open: %s", strerror(errno));
    {
        int ok = 1;
        unsigned char want[REC];
        for (int r = 0; r < 10; r++) {
            record(want, 500 + (uint64_t)r);
            if (read(fd_in, buf, REC) != REC || memcmp(buf, want, REC) != 0)
                ok = 0;
        }
        crt_check("in.dat first 10 records read", ok, "wrong content");
    }
    crt_say("in.dat read up to offset %lld", (long long)lseek(fd_in, 0, SEEK_CUR));
    for (int r = 0; r < 20; r++) {
        record(buf, 900 + (uint64_t)r);
        write_all(fd_out, buf, REC, "out.dat");
    }
    lseek(fd_out, 15 * REC, SEEK_SET);
    for (int r = 15; r < 17; r++) {
        record(buf, 2000 + (uint64_t)r);
        write_all(fd_out, buf, REC, "out.dat");
    }
    record(buf, 3000);
    if (pwrite(fd_out, buf, REC, 3 * 4096) != REC)
        crt_die("pwrite: %s", strerror(errno));
    fd_dup = dup(fd_out);
    {
        int t = open("in.dat", O_RDONLY);
        if (t < 0 || dup3(t, HI_FD, O_CLOEXEC) != HI_FD)
            crt_die("dup3 to %d: %s", HI_FD, strerror(errno));
        close(t);
        lseek(HI_FD, 7 * REC, SEEK_SET);
    }
    write_all(fd_app, "first line\n", 11, "app.log");
    check_fp("stdio stream read 3 records", 0, 3);
    fstat(fd_out, &st);
    crt_say("out.dat mode %o, offset %lld", st.st_mode & 0777,
            (long long)lseek(fd_out, 0, SEEK_CUR));

    crt_checkpoint_point(1);

    check_offset("in.dat offset kept", fd_in, 10 * REC);
    check_next_in("in.dat next read is record 10", fd_in, 10);
    check_next_in("in.dat next read is record 11", fd_in, 11);
    check_offset("out.dat offset kept", fd_out, 17 * REC);
    check_offset("dup of out.dat offset kept", fd_dup, 17 * REC);
    for (int r = 17; r < 20; r++) {
        record(buf, 4000 + (uint64_t)r);
        write_all(fd_out, buf, REC, "out.dat");
    }
    check_offset("dup still shares the offset with out.dat", fd_dup, 20 * REC);
    fl = fcntl(fd_out, F_GETFL);
    crt_check("out.dat open for reading and writing", (fl & O_ACCMODE) == O_RDWR, "flags %#x",
              fl);
    fl = fcntl(fd_in, F_GETFL);
    crt_check("in.dat open read-only", (fl & O_ACCMODE) == O_RDONLY, "flags %#x", fl);
    fdfl = fcntl(HI_FD, F_GETFD);
    crt_check("fd 100 open with FD_CLOEXEC", fdfl >= 0 && (fdfl & FD_CLOEXEC), "F_GETFD %d",
              fdfl);
    fdfl = fcntl(fd_out, F_GETFD);
    crt_check("out.dat without FD_CLOEXEC", fdfl == 0, "F_GETFD %d", fdfl);
    check_offset("fd 100 offset kept", HI_FD, 7 * REC);
    check_next_in("fd 100 next read is record 7", HI_FD, 7);
    check_append("app.log appends at its end");
    check_fp("stdio stream reads on", 3, 3);
    crt_check("working directory kept",
              getcwd(cwd, sizeof(cwd)) && strcmp(strrchr(cwd, '/'), "/files.d") == 0, "cwd %s",
              cwd);
    old = umask(022);
    umask(old);
    crt_check("umask kept", old == 027, "umask %03o", old);
    crt_say("out.dat content %016llx",
            (unsigned long long)file_hash("out.dat", 3 * 4096 + REC, &size));
    crt_say("out.dat size at least %lld", (long long)size);
    crt_say("in.dat content %016llx", (unsigned long long)file_hash("in.dat", 1 << 30, &size));

    /* Move things on for the second point. */
    lseek(fd_in, 100 * REC, SEEK_SET);
    lseek(fd_out, 3 * 4096 + REC, SEEK_SET);
    record(buf, 5000);
    write_all(fd_out, buf, REC, "out.dat");
    check_fp("stdio stream reads on before the 2nd point", 6, 100);

    crt_checkpoint_point(2);

    check_offset("in.dat offset kept at the 2nd point", fd_in, 100 * REC);
    check_next_in("in.dat next read is record 100", fd_in, 100);
    check_offset("out.dat offset kept at the 2nd point", fd_out, 3 * 4096 + 2 * REC);
    check_offset("dup offset kept at the 2nd point", fd_dup, 3 * 4096 + 2 * REC);
    check_fp("stdio stream reads on after the 2nd point", 106, 50);
    check_append("app.log appends at its end after the 2nd point");
    crt_say("out.dat content %016llx",
            (unsigned long long)file_hash("out.dat", 3 * 4096 + 2 * REC, &size));
    crt_say("out.dat size at least %lld", (long long)size);

    fclose(fp);
    close(fd_in);
    close(fd_out);
    close(fd_dup);
    close(fd_app);
    close(HI_FD);
    crt_finish();
}

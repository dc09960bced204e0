/*
 * State test: files whose bytes must go into the image (issue 10, point 7).
 *   - a scratch file removed while open (as gfortran's STATUS='SCRATCH'
 *     units and many solvers do), 1 MiB, read-write, at an offset, with a
 *     dup sharing that offset and a second, read-only descriptor;
 *   - tmpfile() (a stdio stream on a deleted file), at an offset;
 *   - an O_TMPFILE file (never named), when the folder's file system has it;
 *   - a sparse deleted file: 64 MiB long, two pieces written (the image must
 *     stay small: holes are not stored);
 *   - a deleted file mapped shared, its descriptor closed (only the mapping
 *     holds it), and another mapped shared with its descriptor kept: a write
 *     through the descriptor shows in the mapping after the restart too;
 *   - POSIX shared memory: /dev/shm/crt_saved.PID.a mapped shared (its
 *     descriptor closed) and /dev/shm/crt_saved.PID.b kept open, sparse.
 * After each point every byte, offset and sharing must be as before; the
 * deleted files must still be deleted, the /dev/shm ones under their names
 * (the image brings them back even when /dev/shm was emptied: the mutate
 * flavour removes them before restarting). The program removes its
 * /dev/shm files at the end. Contract: crt_common.h.
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
#define MB (1024u * 1024u)

static int scratch, scratch_dup, scratch_ro, otmp = -1, sparse, mapfd, shm_b;
static FILE *tmpf;
static unsigned char *map_only, *map_fd, *shm_a_map, *shm_b_map;
static char shm_a[64], shm_b_name[64];
static uint64_t mapped_hash;   /* of map_only, as set up */
static const size_t map_len = 256 * KB, shm_len = 2 * MB, sparse_len = 64 * MB;

static int deleted(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_nlink == 0;
}

static void fill_fd(int fd, size_t len, uint64_t seed)
{
    static unsigned char buf[64 * KB];
    for (size_t off = 0; off < len; off += sizeof buf) {
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        crt_fill(buf, n, seed + off);
        if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
            crt_die("write: %s", strerror(errno));
    }
}

/* The same bytes as fill_fd into memory: crt_fill per 64 KiB piece. */
static void fill_mem(unsigned char *p, size_t len, uint64_t seed)
{
    for (size_t off = 0; off < len; off += 64 * KB)
        crt_fill(p + off, len - off < 64 * KB ? len - off : 64 * KB, seed + off);
}

static uint64_t hash_fd(int fd, size_t len)
{
    unsigned char *buf = malloc(len ? len : 1);
    uint64_t h = 0;
    if (buf && pread(fd, buf, len, 0) == (ssize_t)len)
        h = crt_hash(buf, len, 0);
    free(buf);
    return h;
}

static uint64_t want_hash(size_t len, uint64_t seed)
{
    unsigned char *buf = malloc(len);
    fill_mem(buf, len, seed);
    uint64_t h = crt_hash(buf, len, 0);
    free(buf);
    return h;
}

static void *map_shared(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    return p;
}

static void setup(void)
{
    scratch = open("scratch.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (scratch < 0)
        crt_die("scratch.dat: %s", strerror(errno));
    fill_fd(scratch, MB, 1);
    scratch_ro = open("scratch.dat", O_RDONLY);
    unlink("scratch.dat");
    scratch_dup = dup(scratch);
    lseek(scratch, 12345, SEEK_SET);
    lseek(scratch_ro, 777, SEEK_SET);

    tmpf = tmpfile();
    if (!tmpf)
        crt_die("tmpfile: %s", strerror(errno));
    for (int i = 0; i < 1000; i++)
        fprintf(tmpf, "line %04d of the tmpfile\n", i);
    fflush(tmpf);
    fseek(tmpf, 5 * 25, SEEK_SET);

    otmp = open(".", O_TMPFILE | O_RDWR, 0600);
    if (otmp >= 0)
        fill_fd(otmp, 100 * KB, 3);

    sparse = open("sparse.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink("sparse.dat");
    if (sparse < 0 || ftruncate(sparse, (off_t)sparse_len) != 0 ||
        pwrite(sparse, "head", 4, 0) != 4 || pwrite(sparse, "tail", 4, (off_t)(sparse_len - 4)) != 4)
        crt_die("sparse.dat: %s", strerror(errno));

    int fd = open("maponly.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    fill_fd(fd, map_len, 4);
    map_only = map_shared(fd, map_len);
    close(fd);
    unlink("maponly.dat");
    crt_fill(map_only + 4 * KB, 4 * KB, 44);   /* changed through the mapping */
    mapped_hash = crt_hash(map_only, map_len, 0);

    mapfd = open("mapfd.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    fill_fd(mapfd, map_len, 5);
    map_fd = map_shared(mapfd, map_len);
    unlink("mapfd.dat");

    snprintf(shm_a, sizeof shm_a, "/crt_saved.%d.a", (int)getpid());
    snprintf(shm_b_name, sizeof shm_b_name, "/crt_saved.%d.b", (int)getpid());
    fd = shm_open(shm_a, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)shm_len) != 0)
        crt_die("shm_open %s: %s", shm_a, strerror(errno));
    shm_a_map = map_shared(fd, shm_len);
    close(fd);
    fill_mem(shm_a_map, shm_len, 6);
    shm_b = shm_open(shm_b_name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (shm_b < 0 || ftruncate(shm_b, (off_t)(8 * MB)) != 0)
        crt_die("shm_open %s: %s", shm_b_name, strerror(errno));
    fill_fd(shm_b, 64 * KB, 7);   /* the rest is a hole */
    shm_b_map = map_shared(shm_b, 8 * MB);
}

static void check(const char *when)
{
    char name[128];
#define CHECK(what, cond, ...)                                        \
    do {                                                              \
        snprintf(name, sizeof name, "%s %s", what, when);            \
        crt_check(name, cond, __VA_ARGS__);                           \
    } while (0)

    CHECK("scratch file: deleted, 1 MiB, its bytes", deleted(scratch) && hash_fd(scratch, MB) == want_hash(MB, 1),
          "nlink/bytes differ");
    CHECK("scratch file: offset 12345 shared with its dup, 777 on the read-only one",
          lseek(scratch, 0, SEEK_CUR) == 12345 && lseek(scratch_dup, 0, SEEK_CUR) == 12345 &&
              lseek(scratch_ro, 0, SEEK_CUR) == 777 && (fcntl(scratch_ro, F_GETFL) & O_ACCMODE) == O_RDONLY,
          "offsets %lld %lld %lld", (long long)lseek(scratch, 0, SEEK_CUR), (long long)lseek(scratch_dup, 0, SEEK_CUR),
          (long long)lseek(scratch_ro, 0, SEEK_CUR));
    lseek(scratch_dup, 100, SEEK_SET);
    CHECK("scratch file: the dup still shares the offset", lseek(scratch, 0, SEEK_CUR) == 100, "%lld",
          (long long)lseek(scratch, 0, SEEK_CUR));
    lseek(scratch, 12345, SEEK_SET);
    CHECK("scratch file: the read-only descriptor has its own open file",
          lseek(scratch_ro, 0, SEEK_CUR) == 777 && deleted(scratch_ro), "%lld",
          (long long)lseek(scratch_ro, 0, SEEK_CUR));

    char line[64] = "";
    long pos = ftell(tmpf);
    CHECK("tmpfile(): at line 5, deleted", pos == 5 * 25 && fgets(line, sizeof line, tmpf) &&
          !strcmp(line, "line 0005 of the tmpfile\n") && deleted(fileno(tmpf)), "at %ld: '%s'", pos, line);
    fseek(tmpf, 5 * 25, SEEK_SET);
    if (otmp >= 0)
        CHECK("O_TMPFILE file: its bytes", hash_fd(otmp, 100 * KB) == want_hash(100 * KB, 3), "differ");
    else
        crt_say("no O_TMPFILE here");

    struct stat st;
    char h[4] = "", t[4] = "";
    CHECK("sparse deleted file: 64 MiB, its two pieces",
          fstat(sparse, &st) == 0 && (size_t)st.st_size == sparse_len && pread(sparse, h, 4, 0) == 4 &&
              pread(sparse, t, 4, (off_t)(sparse_len - 4)) == 4 && !memcmp(h, "head", 4) && !memcmp(t, "tail", 4),
          "size %lld", (long long)st.st_size);

    static unsigned char want[64 * KB];
    fill_mem(want, 64 * KB, 4);
    crt_fill(want + 4 * KB, 4 * KB, 44);
    CHECK("deleted file mapped shared, no descriptor: its bytes",
          !memcmp(map_only, want, 64 * KB) && crt_hash(map_only, map_len, 0) == mapped_hash, "differ");
    CHECK("deleted file mapped shared with a descriptor: deleted, its bytes",
          deleted(mapfd) && hash_fd(mapfd, map_len) == crt_hash(map_fd, map_len, 0) &&
              hash_fd(mapfd, map_len) == want_hash(map_len, 5),
          "differ");
    if (pwrite(mapfd, "shared!", 7, 1000) != 7)
        crt_die("pwrite: %s", strerror(errno));
    CHECK("a write through its descriptor shows in the mapping", !memcmp(map_fd + 1000, "shared!", 7), "no");
    fill_fd(mapfd, 4 * KB, 5);   /* as it was */

    char path[96];
    snprintf(path, sizeof path, "/dev/shm%s", shm_a);
    CHECK("/dev/shm file mapped shared: under its name, its bytes",
          stat(path, &st) == 0 && (size_t)st.st_size == shm_len &&
              crt_hash(shm_a_map, shm_len, 0) == want_hash(shm_len, 6),
          "size %lld", (long long)st.st_size);
    int fd = open(path, O_RDONLY);
    CHECK("/dev/shm file: the file and the mapping are one", fd >= 0 && hash_fd(fd, shm_len) == want_hash(shm_len, 6),
          "differ");
    if (fd >= 0)
        close(fd);
    CHECK("/dev/shm file kept open: 8 MiB, its bytes, shared with its mapping",
          fstat(shm_b, &st) == 0 && st.st_size == 8 * MB && hash_fd(shm_b, 64 * KB) == want_hash(64 * KB, 7) &&
              crt_hash(shm_b_map, 64 * KB, 0) == want_hash(64 * KB, 7) && crt_is_zero(shm_b_map + 64 * KB, MB),
          "differ");
#undef CHECK
}

int main(void)
{
    setup();
    crt_say("files deleted while open, tmpfile, O_TMPFILE, deleted mappings, /dev/shm set up");
    check("at start");

    crt_checkpoint_point(1);

    check("after point 1");
    /* Counted in the /dev/shm mapping, a step at a time: a restart beside the
     * running original (the busy flavour) must not share the object with it,
     * or each copy counts the other's steps too (review 13 HIGH-13: both
     * exited 0 with wrong totals). */
    uint64_t *count = (uint64_t *)(void *)(shm_a_map + MB + 8 * KB), start = *count;
    for (int i = 0; i < 300; i++) {
        __atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
        usleep(1000);
    }
    crt_check("300 steps counted in the /dev/shm mapping, by this process alone", *count == start + 300,
              "counted %llu", (unsigned long long)(*count - start));
    /* point 2: things change */
    fill_fd(scratch, 64 * KB, 1);   /* same bytes, written again */
    crt_fill(shm_a_map + MB, 4 * KB, 66);

    crt_checkpoint_point(2);

    unsigned char want[4 * KB];
    crt_fill(want, 4 * KB, 66);
    crt_check("the /dev/shm mapping holds what was written before point 2", !memcmp(shm_a_map + MB, want, 4 * KB),
              "differ");
    shm_unlink(shm_a);
    shm_unlink(shm_b_name);
    crt_finish();
}

/*
 * State test: memory mappings. Anonymous private memory (with a read-only
 * part and a PROT_NONE guard page), anonymous shared memory (with a second
 * mapping of the same pages made by mremap), a memfd mapped twice and kept
 * open, a file mapped private and partly written (the file itself must not
 * change), a file mapped shared, and a large sparse area of which only a few
 * pages were touched. After the checkpoint: contents, protections and the
 * sharing between mappings must be as before. The files live in the start
 * directory (map.dat, shared.dat). Contract: crt_common.h.
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

#define MB (1u << 20)
#define PG 4096u

static unsigned char *anon, *shm, *shm_alias, *mfd_a, *mfd_b, *fpriv, *fshared, *sparse;
static int mfd, map_fd;
static const size_t anon_len = 8 * MB, shm_len = 4 * MB, mfd_len = 4 * MB, fpriv_len = 1 * MB,
                    fshared_len = 256 * 1024, sparse_len = 256 * MB;

static void *map(size_t len, int prot, int flags, int fd, const char *what)
{
    void *p = mmap(NULL, len, prot, flags, fd, 0);
    if (p == MAP_FAILED)
        crt_die("mmap %s: %s", what, strerror(errno));
    return p;
}

static uint64_t hash_file(int fd, size_t len)
{
    unsigned char *buf = malloc(len);
    uint64_t h;
    if (!buf || pread(fd, buf, len, 0) != (ssize_t)len) {
        free(buf);
        return 0;
    }
    h = crt_hash(buf, len, 0);
    free(buf);
    return h;
}

/* Page i of map.dat holds crt_fill(seed 7000+i); odd pages are overwritten in
 * memory with seed 8000+i. */
static int fpriv_ok(void)
{
    unsigned char want[PG];
    for (size_t i = 0; i < fpriv_len / PG; i++) {
        crt_fill(want, PG, (i % 2 ? 8000 : 7000) + i);
        if (memcmp(fpriv + i * PG, want, PG) != 0)
            return 0;
    }
    return 1;
}

static void report_perms(const char *name, const void *addr)
{
    char perms[8];
    crt_say("%s: %s", name, crt_map_perms(addr, perms));
}

static void check_all(int point)
{
    char name[128];
    uint64_t h;
    ssize_t n;
    unsigned char b;

    /* anonymous private */
    crt_say("anon private checksum %016llx",
            (unsigned long long)(crt_hash(anon, 2 * MB, 0) ^
                                 crt_hash(anon + 2 * MB + PG, anon_len - 2 * MB - PG, 1)));
    report_perms("anon private first page", anon);
    report_perms("anon private guard page", anon + 2 * MB);
    report_perms("anon private read-only half", anon + anon_len / 2);

    /* anonymous shared and its alias */
    crt_say("anon shared checksum %016llx", (unsigned long long)crt_hash(shm, shm_len, 0));
    shm[100 * PG + 5] ^= 0xff;
    snprintf(name, sizeof(name), "anon shared alias sees writes (%d)", point);
    crt_check(name, shm_alias[100 * PG + 5] == shm[100 * PG + 5] &&
                        memcmp(shm, shm_alias, shm_len) == 0,
              "alias differs");
    shm[100 * PG + 5] ^= 0xff;
    report_perms("anon shared", shm);

    /* memfd: two mappings and the descriptor are one object */
    crt_say("memfd checksum %016llx", (unsigned long long)crt_hash(mfd_a, mfd_len, 0));
    mfd_a[7 * PG + 1] ^= 0x55;
    n = pread(mfd, &b, 1, 7 * PG + 1);
    snprintf(name, sizeof(name), "memfd mappings and fd share pages (%d)", point);
    crt_check(name, mfd_b[7 * PG + 1] == mfd_a[7 * PG + 1] && n == 1 && b == mfd_a[7 * PG + 1],
              "second mapping %02x, pread %zd %02x, first %02x", mfd_b[7 * PG + 1], n, b,
              mfd_a[7 * PG + 1]);
    mfd_a[7 * PG + 1] ^= 0x55;
    {
        struct stat st;
        int seals = fcntl(mfd, F_GET_SEALS);
        fstat(mfd, &st);
        crt_say("memfd size %lld, seals %#x", (long long)st.st_size, seals);
        /* only try to shrink when the seal is there: without it the shrink
         * would succeed and the mappings would fault (SIGBUS) */
        snprintf(name, sizeof(name), "memfd shrink refused by its seal (%d)", point);
        if (seals >= 0 && (seals & F_SEAL_SHRINK))
            crt_check(name, ftruncate(mfd, PG) < 0 && errno == EPERM, "ftruncate allowed");
        else
            crt_fail(name, "F_SEAL_SHRINK missing (seals %#x)", seals);
    }
    {
        char link[256] = "";
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
        n = readlink(path, link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = 0;
        crt_say("memfd link %s", link);
    }

    /* file-backed private, partly written */
    snprintf(name, sizeof(name), "file private mapping content (%d)", point);
    crt_check(name, fpriv_ok(), "pages differ");
    h = hash_file(map_fd, fpriv_len);
    crt_say("map.dat on disk %016llx", (unsigned long long)h);
    report_perms("file private mapping", fpriv);

    /* file-backed shared: the mapping shows the file; a write through the
     * mapping reaches the file. After point 1 the write is made only with
     * CRT_MMAP_SHARED_WRITE=1: it changes the file's mtime, and a continuing
     * original or an earlier restart then changes a file a later restart
     * from the same image maps (tested on its own in crs_mmap_shared_write.sh). */
    crt_say("shared.dat mapping %016llx",
            (unsigned long long)crt_hash(fshared, fshared_len, 0));
    {
        int fd = open("shared.dat", O_RDONLY | O_CLOEXEC);
        unsigned char fb[64];
        n = fd >= 0 ? pread(fd, fb, sizeof(fb), 2 * PG) : -1;
        snprintf(name, sizeof(name), "shared.dat file equals its mapping (%d)", point);
        crt_check(name, n == (ssize_t)sizeof(fb) && memcmp(fb, fshared + 2 * PG, sizeof(fb)) == 0,
                  "pread %zd", n);
        if (point == 0 || crt_env_long("CRT_MMAP_SHARED_WRITE", 0)) {
            fshared[2 * PG + 9] ^= 0x3c;
            n = fd >= 0 ? pread(fd, &b, 1, 2 * PG + 9) : -1;
            snprintf(name, sizeof(name), "shared.dat mapping writes reach the file (%d)", point);
            crt_check(name, n == 1 && b == fshared[2 * PG + 9], "pread %zd %02x, mapping %02x",
                      n, b, fshared[2 * PG + 9]);
            fshared[2 * PG + 9] ^= 0x3c;
        }
        if (fd >= 0)
            close(fd);
    }

    /* sparse: only three pages touched */
    {
        int ok = sparse[0] == 1 && sparse[sparse_len / 2] == 2 && sparse[sparse_len - 1] == 3;
        for (size_t off = PG; ok && off < sparse_len - PG; off += 64 * PG)
            if (off != sparse_len / 2 && sparse[off] != 0)
                ok = 0;
        snprintf(name, sizeof(name), "sparse area (%d)", point);
        crt_check(name, ok, "wrong bytes");
    }
}

int main(void)
{
    unsigned char page[PG];

    /* anonymous private: 8 MiB, a guard page at 2 MiB, upper half read-only */
    anon = map(anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "anon");
    crt_fill(anon, anon_len, 1);
    memset(anon + 2 * MB, 0, PG);
    mprotect(anon + 2 * MB, PG, PROT_NONE);
    mprotect(anon + anon_len / 2, anon_len / 2, PROT_READ);

    /* anonymous shared, with an alias made by mremap(old_size = 0) */
    shm = map(shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, "anon shared");
    crt_fill(shm, shm_len, 2);
    shm_alias = mremap(shm, 0, shm_len, MREMAP_MAYMOVE);
    if (shm_alias == MAP_FAILED)
        crt_die("mremap alias: %s", strerror(errno));

    /* memfd, sealed against shrinking, mapped twice */
    mfd = memfd_create("crt-memfd", MFD_ALLOW_SEALING);
    if (mfd < 0 || ftruncate(mfd, (off_t)mfd_len) < 0)
        crt_die("memfd: %s", strerror(errno));
    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK);
    mfd_a = map(mfd_len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, "memfd a");
    mfd_b = map(mfd_len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, "memfd b");
    crt_fill(mfd_a, mfd_len, 3);

    /* file private, odd pages written */
    map_fd = open("map.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (map_fd < 0)
        crt_die("map.dat: %s", strerror(errno));
    for (size_t i = 0; i < fpriv_len / PG; i++) {
        crt_fill(page, PG, 7000 + i);
        if (write(map_fd, page, PG) != PG)
            crt_die("write map.dat: %s", strerror(errno));
    }
    fpriv = map(fpriv_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, map_fd, "map.dat");
    for (size_t i = 1; i < fpriv_len / PG; i += 2)
        crt_fill(fpriv + i * PG, PG, 8000 + i);

    /* file shared */
    {
        int fd = open("shared.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)fshared_len) < 0)
            crt_die("shared.dat: %s", strerror(errno));
        fshared = map(fshared_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, "shared.dat");
        close(fd);
        crt_fill(fshared, fshared_len, 4);
    }

    /* sparse */
    sparse = map(sparse_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, "sparse");
    sparse[0] = 1;
    sparse[sparse_len / 2] = 2;
    sparse[sparse_len - 1] = 3;

    check_all(0);

    crt_checkpoint_point(1);

    check_all(1);
    /* change everything a little */
    mprotect(anon + anon_len / 2, anon_len / 2, PROT_READ | PROT_WRITE);
    crt_fill(anon + anon_len / 2, PG, 11);
    mprotect(anon + anon_len / 2, PG, PROT_READ);
    crt_fill(shm_alias + 3 * PG, PG, 12);
    crt_fill(mfd_b + 9 * PG, PG, 13);
    sparse[sparse_len / 4] = 4;
    sparse[sparse_len / 4] = 0;

    crt_checkpoint_point(2);

    check_all(2);
    munmap(anon, anon_len);
    munmap(shm, shm_len);
    munmap(shm_alias, shm_len);
    munmap(mfd_a, mfd_len);
    munmap(mfd_b, mfd_len);
    munmap(fpriv, fpriv_len);
    munmap(fshared, fshared_len);
    munmap(sparse, sparse_len);
    close(mfd);
    close(map_fd);
    crt_finish();
}

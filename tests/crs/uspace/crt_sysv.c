/*
 * State test: System V shared memory (shmget/shmat), in one process.
 *   - A: a private segment of 3 pages + 100 bytes, mode 0640, attached
 *     read-write; its second page mprotect'd read-only (one attachment, two
 *     mappings: shmdt of its address must detach both);
 *   - B: a segment under a key of the program's own (0x5256 and its pid),
 *     1 MiB + 100 bytes, mode 0600, attached twice: read-write, and
 *     SHM_RDONLY elsewhere (a write through the first shows in the second;
 *     the second may never be made writable);
 *   - C: a private segment of 64 KiB + 100, attached, then marked removed
 *     (IPC_RMID): it lives while attached, gone once detached.
 * After each point every segment must have its bytes, size, mode, key,
 * attach addresses, SHM_RDONLY and its removed mark, and the attach count
 * of the uninterrupted run (printed); B must be
 * found by its key under the id the program kept, and attached again by it;
 * every segment's state is read through the id the program kept (a user's
 * restart gives a segment it makes again another id: libcr takes the kept one
 * to it); as root the kernel's ids must be those (the restart makes them
 * under their ids). At the end every attachment is detached (shmdt of the
 * address the program got) and A and B removed, by the ids the program kept.
 * With CRT_SYSV_HUGE=1 (crs_hugepages.sh, huge pages reserved) also D: a
 * private segment of two 2 MiB huge pages (SHM_HUGETLB), attached and
 * marked removed, whose bytes and page size (smaps) must come back.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define PG 4096u
static const size_t a_len = 3 * PG + 100, b_len = (1u << 20) + 100, c_len = 64 * 1024 + 100;
static int a_id, b_id, c_id, d_id = -1;
static unsigned char *d;
static const size_t d_len = 4u << 20;
static key_t b_key;
static unsigned char *a, *b_rw, *b_ro, *c;

/* The segment a mapping shows (its inode in /proc/self/maps), or -1. */
static int id_at(const void *addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int id = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 && (uintptr_t)addr >= lo &&
            (uintptr_t)addr < hi && strstr(line, "/SYSV"))
            id = (int)ino;
    }
    if (f)
        fclose(f);
    return id;
}

static void *attach(int id, int flags)
{
    void *p = shmat(id, NULL, flags);
    if (p == (void *)-1)
        crt_die("shmat: %s", strerror(errno));
    return p;
}

static void setup(void)
{
    a_id = shmget(IPC_PRIVATE, a_len, IPC_CREAT | 0640);
    b_key = (key_t)(0x52560000u | ((unsigned)getpid() & 0xffffu));
    b_id = shmget(b_key, b_len, IPC_CREAT | IPC_EXCL | 0600);
    c_id = shmget(IPC_PRIVATE, c_len, IPC_CREAT | 0600);
    if (a_id < 0 || b_id < 0 || c_id < 0)
        crt_die("shmget: %s", strerror(errno));
    a = attach(a_id, 0);
    b_rw = attach(b_id, 0);
    b_ro = attach(b_id, SHM_RDONLY);
    c = attach(c_id, 0);
    crt_fill(a, a_len, 1);
    crt_fill(b_rw, b_len, 2);
    crt_fill(c, c_len, 3);
    if (mprotect(a + PG, PG, PROT_READ) != 0 || shmctl(c_id, IPC_RMID, NULL) != 0)
        crt_die("mprotect or IPC_RMID: %s", strerror(errno));
    if (getenv("CRT_SYSV_HUGE") && *getenv("CRT_SYSV_HUGE") == '1') {
        d_id = shmget(IPC_PRIVATE, d_len, IPC_CREAT | SHM_HUGETLB | 0600);
        if (d_id < 0)
            crt_die("shmget SHM_HUGETLB (vm.nr_hugepages?): %s", strerror(errno));
        d = attach(d_id, 0);
        crt_fill(d, d_len, 4);
        shmctl(d_id, IPC_RMID, NULL);
    }
}

static uint64_t want(size_t len, uint64_t seed)
{
    unsigned char *p = malloc(len);
    if (!p)
        crt_die("out of memory");
    crt_fill(p, len, seed);
    uint64_t h = crt_hash(p, len, 0);
    free(p);
    return h;
}

/* The attach count is printed, not checked: the kernel counts mappings (A's
 * mprotect made three of one shmat), so the uninterrupted run says. */
static void check_segment(const char *what, const void *addr, int kept_id, size_t len, unsigned mode, key_t key,
                          int removed)
{
    char name[160];
    int id = id_at(addr);
    struct shmid_ds ds;
    memset(&ds, 0, sizeof ds);
    int stat_ok = id >= 0 && shmctl(kept_id, IPC_STAT, &ds) == 0;   /* by the id the program kept */
    snprintf(name, sizeof name, "%s: attached, its size, mode, key and removed mark", what);
    crt_check(name,
              stat_ok && ds.shm_segsz == len && (ds.shm_perm.mode & 0777) == mode && ds.shm_perm.__key == key &&
                  !!(ds.shm_perm.mode & SHM_DEST) == removed,
              "id %d, size %zu, mode %o, key 0x%x", id, (size_t)ds.shm_segsz, (unsigned)ds.shm_perm.mode,
              (unsigned)ds.shm_perm.__key);
    crt_say("%s: attach count %lu", what, (unsigned long)ds.shm_nattch);
    if (getuid() == 0) {   /* a user's restart cannot choose the id (kernel.shm_next_id) */
        snprintf(name, sizeof name, "%s: the id the program holds still names it", what);
        crt_check(name, id == kept_id, "%d, not %d", id, kept_id);
    }
}

static void check(const char *when, uint64_t a_seed2, uint64_t b_seed2)
{
    char name[160], perms[8];
#define CHECK(what, cond, ...)                                        \
    do {                                                              \
        snprintf(name, sizeof name, "%s %s", what, when);            \
        crt_check(name, cond, __VA_ARGS__);                           \
    } while (0)
    static unsigned char a_want[3 * PG + 100];
    crt_fill(a_want, a_len, 1);
    crt_fill(a_want, PG, a_seed2);   /* the first page as written last */
    CHECK("A: its bytes, zeros after its end", !memcmp(a, a_want, a_len) && crt_is_zero(a + a_len, 4 * PG - a_len),
          "differ");
    CHECK("A: read-write, then its second page read-only",
          !strcmp(crt_map_perms(a, perms), "rw-s") && !strcmp(crt_map_perms(a + PG, perms), "r--s"), "%s",
          crt_map_perms(a + PG, perms));
    check_segment("A", a, a_id, a_len, 0640, IPC_PRIVATE, 0);
    CHECK("B: its bytes", crt_hash(b_rw + 4096, b_len - 4096, 0) == crt_hash(b_ro + 4096, b_len - 4096, 0), "differ");
    unsigned char head[4096];
    crt_fill(head, sizeof head, b_seed2);
    CHECK("B: its first page", !memcmp(b_rw, head, sizeof head) && !memcmp(b_ro, head, sizeof head), "differ");
    b_rw[5000] ^= 0xff;
    CHECK("B: a write through the read-write attachment shows in the read-only one", b_ro[5000] == b_rw[5000], "no");
    b_rw[5000] ^= 0xff;
    CHECK("B: the SHM_RDONLY attachment is read-only and may not be made writable",
          !strcmp(crt_map_perms(b_ro, perms), "r--s") && mprotect(b_ro, PG, PROT_READ | PROT_WRITE) != 0 &&
              errno == EACCES, "%s", crt_map_perms(b_ro, perms));
    check_segment("B", b_rw, b_id, b_len, 0600, b_key, 0);
    CHECK("B: found by its key, under the id the program kept", shmget(b_key, 0, 0) == b_id, "%d, not %d",
          shmget(b_key, 0, 0), b_id);
    unsigned char *again = shmat(b_id, NULL, SHM_RDONLY);
    CHECK("B: attached again by the id the program kept, its bytes",
          again != (void *)-1 && crt_hash(again, b_len, 0) == crt_hash(b_rw, b_len, 0), "%s",
          again == (void *)-1 ? strerror(errno) : "differ");
    if (again != (void *)-1)
        shmdt(again);
    CHECK("C: its bytes", crt_hash(c, c_len, 0) == want(c_len, 3), "differ");
    check_segment("C", c, c_id, c_len, 0600, IPC_PRIVATE, 1);
    if (d) {
        CHECK("D (SHM_HUGETLB): its bytes", crt_hash(d, d_len, 0) == want(d_len, 4), "differ");
        CHECK("D: on 2 MiB pages", crt_page_kb(d) == 2048, "%ld KiB", crt_page_kb(d));
        check_segment("D", d, d_id, d_len, 0600, IPC_PRIVATE, 1);
    }
#undef CHECK
}

int main(void)
{
    setup();
    uint64_t b_all = crt_hash(b_rw, b_len, 0);
    crt_say("System V segments set up: private, keyed and attached twice (once SHM_RDONLY), removed while attached");
    check("at start", 1, 2);

    crt_checkpoint_point(1);

    check("after point 1", 1, 2);
    crt_check("B: all its bytes after point 1", crt_hash(b_rw, b_len, 0) == b_all, "differ");
    /* point 2: written again */
    crt_fill(a, PG, 11);
    crt_fill(b_rw, PG, 12);

    crt_checkpoint_point(2);

    check("after point 2", 11, 12);
    crt_check("every attachment detaches at the address the program got",
              shmdt(a) == 0 && shmdt(b_rw) == 0 && shmdt(b_ro) == 0 && shmdt(c) == 0 && (!d || shmdt(d) == 0), "%s",
              strerror(errno));
    struct shmid_ds ds;
    crt_check("A is attached no more (both its mappings went with one shmdt)",
              shmctl(a_id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0 && id_at(a + PG) < 0, "nattch %lu",
              (unsigned long)ds.shm_nattch);
    crt_check("C, removed while attached, is gone once detached",
              shmctl(c_id, IPC_STAT, &ds) != 0 && (errno == EINVAL || errno == EIDRM), "%s", strerror(errno));
    crt_check("A and B are removed", shmctl(a_id, IPC_RMID, NULL) == 0 && shmctl(b_id, IPC_RMID, NULL) == 0, "%s",
              strerror(errno));
    crt_finish();
}

/*
 * State test: tens of thousands of memory mappings (issue 10, point 9: the
 * restorer once kept the map in a fixed table of 512 and refused past ~450).
 * CRT_MAPS (default 20000) one-page anonymous mappings that the kernel
 * cannot merge (every other page read-only), a quarter of them holding a
 * pattern, plus CRT_MAPS / 10 private one-page mappings of a file, each of a
 * different page of it, some written in memory. At each point the number of
 * mappings in /proc/self/maps must be at least what was made, and after it
 * every page must hold what it held and have its protection.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096u

static unsigned char *anon, *filemaps[8192];
static long nanon, nfile;

/* The mappings that overlap the anonymous area (its first page may merge
 * with a neighbour), and those of maps.dat. */
static long count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    unsigned long lo, hi;
    uint64_t start = (uint64_t)anon, end = start + (uint64_t)nanon * PG;
    long n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && ((hi > start && lo < end) || strstr(line, "/maps.dat\n")))
            n++;
    fclose(f);
    return n;
}

/* Page i of the anonymous area: even pages read-write (every other one with
 * a pattern), odd pages read-only and zero. */
static void make_anon(void)
{
    anon = mmap(NULL, (size_t)nanon * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED)
        crt_die("mmap of %ld pages: %s", nanon, strerror(errno));
    for (long i = 0; i < nanon; i += 2) {
        if (i % 4 == 0)
            crt_fill(anon + (size_t)i * PG, PG, (uint64_t)i);
        if (i + 1 < nanon && mprotect(anon + (size_t)(i + 1) * PG, PG, PROT_READ) != 0)
            crt_die("mprotect page %ld: %s", i + 1, strerror(errno));
    }
}

static void make_file_maps(void)
{
    static unsigned char page[PG];
    int fd = open("maps.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        crt_die("maps.dat: %s", strerror(errno));
    for (long i = 0; i < nfile; i++) {
        crt_fill(page, PG, 100000 + (uint64_t)i);
        if (write(fd, page, PG) != PG)
            crt_die("write maps.dat: %s", strerror(errno));
    }
    /* the kernel places each new mapping below the last one: neighbours in
     * memory are then not neighbours in the file, and never merge */
    for (long i = 0; i < nfile; i++) {
        filemaps[i] = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)i * PG);
        if (filemaps[i] == MAP_FAILED)
            crt_die("mmap maps.dat page %ld: %s", i, strerror(errno));
        if (i % 3 == 0)
            crt_fill(filemaps[i], PG, 200000 + (uint64_t)i);
    }
    close(fd);
}

static void check_all(void)
{
    unsigned char want[PG];
    long bad = 0, first = -1;
    for (long i = 0; i < nanon; i++) {
        const unsigned char *p = anon + (size_t)i * PG;
        int ok;
        if (i % 4 == 0) {
            crt_fill(want, PG, (uint64_t)i);
            ok = !memcmp(p, want, PG);
        } else {
            ok = crt_is_zero(p, PG);
        }
        if (!ok && bad++ == 0)
            first = i;
    }
    crt_check("every anonymous page holds what it held", bad == 0, "%ld pages differ, the first is %ld",
              bad, first);
    /* the protections, from one reading of the map */
    bad = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096], perms[8];
    unsigned long lo, hi;
    uint64_t start = (uint64_t)anon, end = start + (uint64_t)nanon * PG, covered = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || hi <= start || lo >= end)
            continue;
        for (uint64_t a = lo < start ? start : lo; a < hi && a < end; a += PG) {
            long i = (long)((a - start) / PG);
            covered += PG;
            if (strcmp(perms, i % 2 ? "r--p" : "rw-p") && bad++ == 0)
                first = i;
        }
    }
    if (f)
        fclose(f);
    crt_check("every anonymous page has its protection", bad == 0 && covered == end - start,
              "%ld differ, the first is %ld; %llu of %llu bytes mapped", bad, first,
              (unsigned long long)covered, (unsigned long long)(end - start));
    bad = 0;
    for (long i = 0; i < nfile; i++) {
        crt_fill(want, PG, (uint64_t)(i % 3 == 0 ? 200000 + i : 100000 + i));
        if (memcmp(filemaps[i], want, PG) && bad++ == 0)
            first = i;
    }
    crt_check("every file page holds what it held", bad == 0, "%ld differ, the first is %ld", bad, first);
}

int main(void)
{
    nanon = crt_env_long("CRT_MAPS", 20000);
    nfile = nanon / 10;
    if (nfile > (long)(sizeof filemaps / sizeof filemaps[0]))
        nfile = sizeof filemaps / sizeof filemaps[0];
    make_anon();
    make_file_maps();
    long made = nanon + nfile;
    crt_say("%ld anonymous and %ld file mappings made", nanon, nfile);
    crt_check("each is a mapping of its own", count_maps() == made, "%ld mappings", count_maps());

    crt_checkpoint_point(1);

    crt_check("each is still a mapping of its own", count_maps() == made, "%ld mappings", count_maps());
    check_all();
    /* point 2: some pages change */
    for (long i = 0; i < nanon; i += 4)
        anon[(size_t)i * PG] ^= 0xff;
    crt_checkpoint_point(2);
    for (long i = 0; i < nanon; i += 4)
        anon[(size_t)i * PG] ^= 0xff;
    check_all();
    crt_finish();
}
